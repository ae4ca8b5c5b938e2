//! The mail outbox as admins see it: counts and messages per state, and a retry for
//! messages that failed for good.

use chrono::{DateTime, Utc};

use super::{Context, Failure};
use crate::mail::MailState;
use crate::store::outbox::{self, MailSummary};

/// Messages per stored state.
pub async fn counts(ctx: &Context) -> Result<Vec<(MailState, i64)>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(outbox::counts(&mut conn).await?)
}

/// One page of the messages in `state` (`pending` includes those being sent), newest first.
pub async fn list(
    ctx: &Context,
    state: MailState,
    limit: i64,
    offset: i64,
) -> Result<Vec<MailSummary>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(outbox::list(&mut conn, state, limit, offset).await?)
}

/// Failed messages per kind, by kind.
pub async fn failed_kinds(ctx: &Context) -> Result<Vec<(String, i64)>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(outbox::failed_kinds(&mut conn).await?)
}

/// When the oldest message still waiting to be sent was queued, if one is.
pub async fn oldest_pending(ctx: &Context) -> Result<Option<DateTime<Utc>>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(outbox::oldest_pending(&mut conn).await?)
}

/// Puts every `failed` message (of `kind`, when given) back in the queue with fresh attempts,
/// in one transaction, and wakes the worker; returns how many. Zero when none had failed
/// (a second click, or another admin was first), so nothing is sent twice.
pub async fn retry_all(ctx: &Context, kind: Option<&str>) -> Result<u64, Failure> {
    let mut tx = ctx.db.begin_write().await?;
    let queued = outbox::retry_all_failed(&mut tx, kind).await?;
    tx.commit().await?;
    if queued > 0 {
        tracing::info!(
            queued,
            kind = kind.unwrap_or("all"),
            "failed mail queued again"
        );
        ctx.mail_queued();
    }
    Ok(queued)
}

/// Puts a `failed` message back in the queue with fresh attempts and wakes the worker.
/// False if it was not failed (already retried, or sent meanwhile), so a double click sends
/// nothing twice.
pub async fn retry(ctx: &Context, id: uuid::Uuid) -> Result<bool, Failure> {
    let mut conn = ctx.db.acquire().await?;
    let queued = outbox::retry(&mut conn, &id.to_string()).await?;
    if queued {
        tracing::info!(mail = %id, "failed mail queued again");
        ctx.mail_queued();
    }
    Ok(queued)
}
