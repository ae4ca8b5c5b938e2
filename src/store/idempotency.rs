//! Idempotency keys of order submissions: which order a key (as its hash) made, and a hash of
//! the request it came with. Neither the key nor the request is stored.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, timestamp};

/// What an earlier submission under a key left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub request_hash: String,
    /// The reference of the order it made.
    pub reference: String,
}

/// The submission stored under `key_hash` since `since`, with its order's reference; an
/// older one is as good as none.
pub async fn find(
    conn: &mut Conn,
    key_hash: &str,
    since: DateTime<Utc>,
) -> Result<Option<Stored>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT k.request_hash, o.reference FROM idempotency_keys k
         JOIN orders o ON o.id = k.order_id
         WHERE k.key_hash = $1 AND k.created_at >= $2",
    )
    .bind(key_hash)
    .bind(timestamp(since))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        Ok(Stored {
            request_hash: row.try_get("request_hash")?,
            reference: row.try_get("reference")?,
        })
    })
    .transpose()
}

/// Records that the submission under `key_hash` made `order_id`. An expired row under the
/// same key goes first; a live one makes this fail as a unique violation (a simultaneous
/// submission with the same key won). Run it in the order's transaction.
pub async fn insert(
    conn: &mut Conn,
    key_hash: &str,
    request_hash: &str,
    order_id: &str,
    at: DateTime<Utc>,
    expired_before: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE key_hash = $1 AND created_at < $2")
        .bind(key_hash)
        .bind(timestamp(expired_before))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO idempotency_keys (key_hash, request_hash, order_id, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(key_hash)
    .bind(request_hash)
    .bind(order_id)
    .bind(timestamp(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
