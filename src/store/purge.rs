//! Removing personal data from orders that ended long enough ago. What stays is the order's
//! skeleton: reference, organisations, environment, scope, status and times, for statistics.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use super::events::CHECK_EVENTS;
use super::{Conn, timestamp};
use crate::domain::fields::ORDER_FIELDS;

/// Empties the order's personal fields (as the field table marks them) and the TT02
/// identity; the skeleton stays. Emptying `search_text` takes the contacts out of the search
/// index in the same statement (SQLite: the triggers on `orders` delete the order's trigrams
/// from `orders_fts`; PostgreSQL: the GIN index follows the row).
static PURGE_ORDERS: LazyLock<String> = LazyLock::new(|| {
    let fields: Vec<String> = ORDER_FIELDS
        .iter()
        .filter(|f| f.personal)
        .map(|f| format!("{} = {}", f.column(), f.purged()))
        .collect();
    format!(
        "UPDATE orders SET {}, tt02_identity = NULL, search_text = '', purged_at = $2
         WHERE closed_at IS NOT NULL AND closed_at < $1 AND purged_at IS NULL",
        fields.join(", ")
    )
});

/// Purges every order that ended before `cutoff` and is not purged yet; returns how many.
/// Contacts, IP addresses, client id, free text and the TT02 identity go from the order;
/// comments and details go from its events (notes and messages may name people; a token
/// check's details hold the client id and a digest of the token), but for the names of
/// failed checks; its emails and private
/// links are deleted. Emails about no order (links sent again) go once they are older than
/// `cutoff` and sent or failed: their recipients are people too.
/// Run it in a transaction: the deletes and the update belong together.
pub async fn personal_data(conn: &mut Conn, cutoff: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let now = timestamp(Utc::now());
    let cutoff = timestamp(cutoff);
    // The kinds are constants of ours, written as SQL literals.
    let checks = CHECK_EVENTS
        .iter()
        .map(|c| format!("'{}'", c.kind))
        .collect::<Vec<_>>()
        .join(", ");
    let ended = "SELECT id FROM orders
                 WHERE closed_at IS NOT NULL AND closed_at < $1 AND purged_at IS NULL";
    for statement in [
        format!("DELETE FROM contact_links WHERE order_id IN ({ended})"),
        format!("DELETE FROM mail_outbox WHERE order_id IN ({ended})"),
        // A check's details are the names of the checks that failed, kept for the
        // statistics (see `events::CHECK_EVENTS`).
        format!(
            "UPDATE order_events SET comment = NULL,
                details = CASE WHEN kind IN ({checks}) THEN details ELSE NULL END
             WHERE order_id IN ({ended})"
        ),
        // Only once delivered or given up: purging must not lose mail still on its way.
        "DELETE FROM mail_outbox WHERE order_id IS NULL AND created_at < $1
            AND status IN ('sent', 'failed')"
            .to_owned(),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(&cutoff)
            .execute(&mut *conn)
            .await?;
    }
    let purged = sqlx::query(sqlx::AssertSqlSafe(PURGE_ORDERS.as_str()))
        .bind(&cutoff)
        .bind(&now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(purged)
}

/// Deletes the idempotency keys stored before `cutoff` (they are ignored once expired, and
/// hold hashes of orders' personal data); returns how many.
pub async fn idempotency_keys(conn: &mut Conn, cutoff: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(timestamp(cutoff))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(deleted)
}
