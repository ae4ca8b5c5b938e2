//! The numbers `/metrics` serves. What every instance shares (orders, the outbox) is read
//! from the database at scrape time, so any instance answers for all of them; what only this
//! process saw (its deliveries, its requests) comes from [`crate::metrics::Metrics`].

use chrono::Utc;

use super::{Context, Failure};
use crate::mail::MailState;
use crate::metrics::Exposition;
use crate::store::{outbox, queue};

/// Every metric in the Prometheus text format.
pub async fn scrape(ctx: &Context) -> Result<String, Failure> {
    let mut conn = ctx.db.acquire().await?;
    let by_status = queue::status_counts(&mut conn).await?;
    let outbox_counts = outbox::counts(&mut conn).await?;
    let oldest = outbox::oldest_pending(&mut conn).await?;
    drop(conn);

    let mut out = Exposition::default();
    out.family(
        "rrh_orders_created_total",
        "Orders ever created, form and API together.",
        "counter",
    );
    // Orders are never deleted (the purge empties their personal fields), and every one
    // is counted in exactly one status.
    let created: i64 = by_status.iter().map(|(_, n)| n).sum();
    out.sample("rrh_orders_created_total", &[], created as f64);

    out.family("rrh_orders", "Open orders by status.", "gauge");
    for (status, n) in by_status.iter().filter(|(s, _)| s.is_open()) {
        out.sample("rrh_orders", &[("status", status.as_str())], *n as f64);
    }

    out.family(
        "rrh_outbox_messages",
        "Messages in the mail outbox by state.",
        "gauge",
    );
    for state in MailState::ALL {
        let n: i64 = outbox_counts
            .iter()
            .filter(|(s, _)| *s == state)
            .map(|(_, n)| n)
            .sum();
        out.sample(
            "rrh_outbox_messages",
            &[("status", state.as_str())],
            n as f64,
        );
    }

    out.family(
        "rrh_mail_oldest_pending_seconds",
        "Age of the oldest message waiting to be sent; 0 when none waits.",
        "gauge",
    );
    let age = oldest.map_or(0.0, |since| {
        (Utc::now() - since).num_milliseconds().max(0) as f64 / 1000.0
    });
    out.sample("rrh_mail_oldest_pending_seconds", &[], age);

    ctx.metrics.write(&mut out);
    Ok(out.finish())
}
