//! `order_events`: every change to an order, in order. The timeline is built from these.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{Conn, parsed_opt, time, timestamp};
use crate::domain::{ContactRole, OrderStatus};

/// Who caused an event. Stored as text; users are `user:<id>`.
pub const ACTOR_VENDOR_CONTACT: &str = ContactRole::Vendor.actor();
pub const ACTOR_API: &str = "api";

/// The vendor's token did not pass every check (on its page or through the API). Its
/// details name the failed checks and the token's summary; never the token.
pub const TOKEN_CHECK_FAILED: &str = "token_check_failed";

/// One event to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub order_id: &'a str,
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    /// `created`, `status_changed`, `note`, `assigned`, `unassigned`, `token_check_failed`.
    pub kind: &'a str,
    pub from: Option<OrderStatus>,
    pub to: Option<OrderStatus>,
    pub comment: Option<&'a str>,
    /// Kind-specific facts (never secrets).
    pub details: Option<&'a serde_json::Value>,
}

pub async fn insert(conn: &mut Conn, event: &NewEvent<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_events (id, order_id, occurred_at, actor, kind, from_status,
            to_status, comment, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(event.order_id)
    .bind(timestamp(event.at))
    .bind(event.actor)
    .bind(event.kind)
    .bind(event.from.map(|s| s.as_str()))
    .bind(event.to.map(|s| s.as_str()))
    .bind(event.comment.map(str::to_owned))
    .bind(event.details.map(|d| d.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}

/// One line of an order's history.
#[derive(Debug, Clone)]
pub struct Event {
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub kind: String,
    pub from_status: Option<OrderStatus>,
    pub to_status: Option<OrderStatus>,
    pub comment: Option<String>,
    pub details: Option<serde_json::Value>,
}

pub async fn for_order(conn: &mut Conn, order_id: &str) -> Result<Vec<Event>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT occurred_at, actor, kind, from_status, to_status, comment, details
         FROM order_events WHERE order_id = $1 ORDER BY occurred_at, id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Event {
                occurred_at: time(row, "occurred_at")?,
                actor: row.try_get("actor")?,
                kind: row.try_get("kind")?,
                from_status: parsed_opt(row, "from_status", OrderStatus::parse)?,
                to_status: parsed_opt(row, "to_status", OrderStatus::parse)?,
                comment: row.try_get("comment")?,
                details: parsed_opt(row, "details", |d| serde_json::from_str(d).ok())?,
            })
        })
        .collect()
}
