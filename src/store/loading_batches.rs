//! `loading_batches`: each confirmed TT02 loading batch, by the id its confirmation page was
//! given, so a repeated request is recognised and the result page can be shown again.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, parsed, time, timestamp};

/// An order left out of a batch, as stored: why (`changed`, `unknown`, `production`,
/// `not_received`) and, where that depends on it, the status it had.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LeftOutRow {
    pub reference: String,
    pub reason: String,
    pub status: Option<String>,
}

/// A stored batch.
#[derive(Debug, Clone)]
pub struct BatchRow {
    pub id: String,
    pub actor: String,
    pub created_at: DateTime<Utc>,
    pub moved: Vec<String>,
    pub left_out: Vec<LeftOutRow>,
    pub mail_id: Option<String>,
}

/// Claims `id` for a batch being made in the transaction `conn` is in: false when a batch
/// already has it. On PostgreSQL a concurrent claim of the same id waits for this
/// transaction and then claims nothing, so only one request moves the orders.
pub async fn claim(conn: &mut Conn, id: &str, actor: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO loading_batches (id, actor, created_at, moved, left_out)
         VALUES ($1, $2, $3, '[]', '[]') ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(actor)
    .bind(timestamp(Utc::now()))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records what the claimed batch `id` did.
pub async fn finish(
    conn: &mut Conn,
    id: &str,
    moved: &[String],
    left_out: &[LeftOutRow],
    mail_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    let json = |value: serde_json::Result<String>| value.unwrap_or_else(|_| "[]".into());
    sqlx::query("UPDATE loading_batches SET moved = $2, left_out = $3, mail_id = $4 WHERE id = $1")
        .bind(id)
        .bind(json(serde_json::to_string(moved)))
        .bind(json(serde_json::to_string(left_out)))
        .bind(mail_id.map(str::to_owned))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, id: &str) -> Result<Option<BatchRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, actor, created_at, moved, left_out, mail_id FROM loading_batches
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok(BatchRow {
            id: row.try_get("id")?,
            actor: row.try_get("actor")?,
            created_at: time(&row, "created_at")?,
            moved: parsed(&row, "moved", |raw| serde_json::from_str(raw).ok())?,
            left_out: parsed(&row, "left_out", |raw| serde_json::from_str(raw).ok())?,
            mail_id: row.try_get("mail_id")?,
        })
    })
    .transpose()
}
