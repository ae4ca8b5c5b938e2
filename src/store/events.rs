//! `order_events`: every change to an order, in order. The timeline is built from these.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{Conn, parsed_opt, time, timestamp};
use crate::domain::{ContactRole, OrderStatus};

/// Who caused an event. Stored as text; users are `user:<id>`.
pub const ACTOR_VENDOR_CONTACT: &str = ContactRole::Vendor.actor();
pub const ACTOR_API: &str = "api";

/// An event kind that records a check the vendor ran on its page. Its `details` hold
/// `"failed"`: the names of the checks that failed, and nothing else about the person or
/// what was pasted, so the purge keeps these details and the statistics count the names.
#[derive(Debug, Clone, Copy)]
pub struct CheckEvent {
    pub kind: &'static str,
    /// The catalog key of a check's label, with `{name}` for the check's name.
    pub label_key: &'static str,
}

/// The vendor's token check that did not pass (a passing one moves the order instead).
pub const TOKEN_CHECKED: &str = "token_checked";

/// Every check whose failures the statistics count. A new kind of check (the certificate and
/// the JWT grant, say, as `certificate_checked` with `track.cert.{name}.label`) is one more
/// line here, and its heading `admin.stats.check.{kind}` in the catalogs.
pub const CHECK_EVENTS: &[CheckEvent] = &[
    CheckEvent {
        kind: TOKEN_CHECKED,
        label_key: "track.check.{name}.label",
    },
    CheckEvent {
        kind: "certificate_checked",
        label_key: "track.cert.{name}.label",
    },
    CheckEvent {
        kind: "grant_checked",
        label_key: "track.grant.{name}.label",
    },
];

/// One event to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub order_id: &'a str,
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    /// `created`, `status_changed`, `note`, `assigned`, `unassigned`, or a check's kind
    /// ([`CHECK_EVENTS`]).
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

/// When the order's latest event of `kind` happened, and its details.
pub async fn latest_of_kind(
    conn: &mut Conn,
    order_id: &str,
    kind: &str,
) -> Result<Option<(DateTime<Utc>, Option<serde_json::Value>)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT occurred_at, details FROM order_events WHERE order_id = $1 AND kind = $2
         ORDER BY occurred_at DESC, id DESC LIMIT 1",
    )
    .bind(order_id)
    .bind(kind)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        Ok((
            time(&row, "occurred_at")?,
            parsed_opt(&row, "details", |d| serde_json::from_str(d).ok())?,
        ))
    })
    .transpose()
}
