//! Changes to an existing order: status moves (with the emails they cause), assignment and
//! notes, and the timeline that records them.

use chrono::Utc;
use sqlx::Row;
use uuid::Uuid;

use super::orders::StoredOrder;
use super::outbox::{self, OutgoingMail};
use super::{Db, timestamp};
use crate::domain::{Action, IllegalTransition, OrderStatus};

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// Someone else changed the order since the version the request was based on.
    #[error("the order was changed by someone else")]
    Conflict(Box<StoredOrder>),
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("no such order")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("rendering the emails: {0:#}")]
    Render(anyhow::Error),
}

/// One status move as requested.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub action: Action,
    /// The version the person saw; the move fails if the order has moved on since.
    pub expected_version: i64,
    pub actor: &'a str,
    pub comment: Option<&'a str>,
    /// Stored on the order for `mark_tt02_loaded`; never put on the event or in email.
    pub tt02_identity: Option<&'a str>,
    /// Kind-specific facts for the event (never secrets).
    pub details: Option<serde_json::Value>,
}

/// Moves the order, records the event and queues `mails(order_before, new_status)` in one
/// transaction. Returns the order as it is afterwards.
pub async fn apply(
    db: &Db,
    reference: &str,
    change: &Change<'_>,
    message_id_domain: &str,
    mails: impl FnOnce(&StoredOrder, OrderStatus) -> anyhow::Result<Vec<OutgoingMail>>,
) -> Result<StoredOrder, WorkflowError> {
    let mut tx = db.begin_write().await?;
    let order = super::orders::find_by_reference_in(&mut *tx, reference)
        .await?
        .ok_or(WorkflowError::NotFound)?;
    if order.version != change.expected_version {
        return Err(WorkflowError::Conflict(Box::new(order)));
    }
    let to = order
        .status
        .transition(order.environment(), change.action)?;
    let rendered = mails(&order, to).map_err(WorkflowError::Render)?;
    let now = timestamp(Utc::now());
    let closed_at = (!to.is_open()).then(|| now.clone());
    let updated = sqlx::query(
        "UPDATE orders SET status = $1, version = version + 1, updated_at = $2,
            closed_at = $3, tt02_identity = COALESCE($4, tt02_identity)
         WHERE id = $5 AND version = $6",
    )
    .bind(to.as_str())
    .bind(&now)
    .bind(closed_at)
    .bind(change.tt02_identity.map(str::to_owned))
    .bind(&order.id)
    .bind(change.expected_version)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        // Only reachable on PostgreSQL, where a concurrent transaction may commit between our
        // read and our update; SQLite's write lock is held from the start.
        drop(tx);
        let current = super::orders::find_by_reference(db, reference)
            .await?
            .ok_or(WorkflowError::NotFound)?;
        return Err(WorkflowError::Conflict(Box::new(current)));
    }
    insert_event(
        &mut *tx,
        &order.id,
        &now,
        change.actor,
        "status_changed",
        Some(order.status),
        Some(to),
        change.comment,
        change.details.as_ref(),
    )
    .await?;
    super::queue::count_move(&mut tx, Some(order.status), to).await?;
    for mail in &rendered {
        outbox::enqueue(&mut *tx, Some(&order.id), mail, message_id_domain).await?;
    }
    tx.commit().await?;
    // The order as the update left it, without reading it back.
    Ok(StoredOrder {
        status: to,
        version: order.version + 1,
        updated_at: now,
        tt02_identity: change
            .tt02_identity
            .map(str::to_owned)
            .or(order.tt02_identity),
        ..order
    })
}

#[allow(clippy::too_many_arguments)]
async fn insert_event<'c, E>(
    executor: E,
    order_id: &str,
    at: &str,
    actor: &str,
    kind: &str,
    from: Option<OrderStatus>,
    to: Option<OrderStatus>,
    comment: Option<&str>,
    details: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO order_events (id, order_id, occurred_at, actor, kind, from_status,
            to_status, comment, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(order_id)
    .bind(at)
    .bind(actor)
    .bind(kind)
    .bind(from.map(|s| s.as_str()))
    .bind(to.map(|s| s.as_str()))
    .bind(comment.map(str::to_owned))
    .bind(details.map(|d| d.to_string()))
    .execute(executor)
    .await?;
    Ok(())
}

/// An internal note: an event nobody is mailed about.
pub async fn add_note(db: &Db, order_id: &str, actor: &str, text: &str) -> Result<(), sqlx::Error> {
    let now = timestamp(Utc::now());
    insert_event(
        db.pool(),
        order_id,
        &now,
        actor,
        "note",
        None,
        None,
        Some(text),
        None,
    )
    .await
}

/// Assigns the order to `user_id`, or to nobody. Does not bump the version: who works an
/// order is not part of its state, and must not make a colleague's status change fail.
pub async fn set_assignee(
    db: &Db,
    order_id: &str,
    user_id: Option<&str>,
    actor: &str,
) -> Result<(), sqlx::Error> {
    let now = timestamp(Utc::now());
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE orders SET assigned_to = $1 WHERE id = $2")
        .bind(user_id.map(str::to_owned))
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
    let (kind, details) = match user_id {
        Some(id) => ("assigned", Some(serde_json::json!({ "user": id }))),
        None => ("unassigned", None),
    };
    insert_event(
        &mut *tx,
        order_id,
        &now,
        actor,
        kind,
        None,
        None,
        None,
        details.as_ref(),
    )
    .await?;
    tx.commit().await
}

/// One line of an order's history.
#[derive(Debug, Clone)]
pub struct Event {
    pub occurred_at: String,
    pub actor: String,
    pub kind: String,
    pub from_status: Option<OrderStatus>,
    pub to_status: Option<OrderStatus>,
    pub comment: Option<String>,
    pub details: Option<serde_json::Value>,
}

pub async fn events(db: &Db, order_id: &str) -> Result<Vec<Event>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT occurred_at, actor, kind, from_status, to_status, comment, details
         FROM order_events WHERE order_id = $1 ORDER BY occurred_at, id",
    )
    .bind(order_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let status = |column: &str| -> Result<Option<OrderStatus>, sqlx::Error> {
                Ok(row
                    .try_get::<Option<String>, _>(column)?
                    .and_then(|s| OrderStatus::parse(&s)))
            };
            let details: Option<String> = row.try_get("details")?;
            Ok(Event {
                occurred_at: row.try_get("occurred_at")?,
                actor: row.try_get("actor")?,
                kind: row.try_get("kind")?,
                from_status: status("from_status")?,
                to_status: status("to_status")?,
                comment: row.try_get("comment")?,
                details: details.and_then(|d| serde_json::from_str(&d).ok()),
            })
        })
        .collect()
}
