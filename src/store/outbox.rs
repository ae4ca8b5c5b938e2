//! The mail outbox: emails are written in the same transaction as the change that causes
//! them, and a worker delivers them later (see `crate::mail::worker`).

use std::time::Duration;

use chrono::Utc;
use sqlx::Row;
use uuid::Uuid;

use super::{Backend, Conn, parsed, time, time_opt, timestamp};
use crate::mail::MailState;

/// An email ready to be stored: rendered, addressed, not yet sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// What the email is for, e.g. `registry_new_order`; shown to admins.
    pub kind: &'static str,
    pub to: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// Files sent with the message, in this order.
    pub attachments: Vec<Attachment>,
}

/// A file sent with an email. Text only: what the service attaches is made by it (a CSV).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// A MIME type, such as `text/csv; charset=utf-8`.
    pub content_type: String,
    pub content: String,
}

/// A message claimed for delivery by one worker.
#[derive(Debug, Clone)]
pub struct ClaimedMail {
    pub id: String,
    pub message_id: String,
    pub to: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Including the attempt now starting.
    pub attempts: i64,
}

/// Stores `mail` for the worker to send; returns its id, for a page that reports on it.
pub async fn enqueue(
    conn: &mut Conn,
    order_id: Option<&str>,
    mail: &OutgoingMail,
    message_id_domain: &str,
) -> Result<String, sqlx::Error> {
    let id = Uuid::now_v7();
    let now = timestamp(Utc::now());
    sqlx::query(
        "INSERT INTO mail_outbox (id, order_id, message_id, kind, recipients, reply_to, subject,
            body_text, body_html, status, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $10)",
    )
    .bind(id.to_string())
    .bind(order_id.map(str::to_owned))
    .bind(format!("<{id}@{message_id_domain}>"))
    .bind(mail.kind)
    .bind(serde_json::to_string(&mail.to).unwrap_or_else(|_| "[]".into()))
    .bind(mail.reply_to.clone())
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(mail.html.clone())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for (position, attachment) in mail.attachments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO mail_attachments (mail_id, position, filename, content_type, content)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(position as i64)
        .bind(&attachment.filename)
        .bind(&attachment.content_type)
        .bind(&attachment.content)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id.to_string())
}

/// The end of a lease taken now.
fn lease_end(lease: Duration) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30))
}

/// Claims up to `limit` due messages for `lease` under the token `claim`. A message whose
/// worker died becomes due again when its lease runs out (the worker renews it while it
/// works, see [`renew`]). On PostgreSQL, `SKIP LOCKED` lets several app instances claim side
/// by side without waiting on or double-claiming each other's rows; SQLite has one writer at
/// a time, so the single UPDATE is already exclusive.
pub async fn claim_due(
    conn: &mut Conn,
    backend: Backend,
    claim: &str,
    lease: Duration,
    limit: i64,
) -> Result<Vec<ClaimedMail>, sqlx::Error> {
    let now = Utc::now();
    let lease_end = lease_end(lease);
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE mail_outbox SET status = 'sending', attempts = attempts + 1, locked_until = $1,
            claimed_by = $4
         WHERE id IN (
            SELECT id FROM mail_outbox
            WHERE (status = 'pending' AND next_attempt_at <= $2)
               OR (status = 'sending' AND locked_until < $2)
            ORDER BY next_attempt_at
            LIMIT $3 {lock})
         RETURNING id, message_id, recipients, reply_to, subject, body_text, body_html, attempts"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(timestamp(lease_end))
        .bind(timestamp(now))
        .bind(limit)
        .bind(claim)
        .fetch_all(&mut *conn)
        .await?;
    let mut claimed = rows
        .iter()
        .map(|row| {
            Ok(ClaimedMail {
                id: row.try_get("id")?,
                message_id: row.try_get("message_id")?,
                to: recipients(row)?,
                reply_to: row.try_get("reply_to")?,
                subject: row.try_get("subject")?,
                text: row.try_get("body_text")?,
                html: row.try_get("body_html")?,
                attachments: Vec::new(),
                attempts: row.try_get("attempts")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    attach(conn, &mut claimed).await?;
    Ok(claimed)
}

/// Reads the attachments of the claimed messages, in one query for the whole batch.
async fn attach(conn: &mut Conn, claimed: &mut [ClaimedMail]) -> Result<(), sqlx::Error> {
    if claimed.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (1..=claimed.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT mail_id, filename, content_type, content FROM mail_attachments
         WHERE mail_id IN ({}) ORDER BY mail_id, position",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for mail in claimed.iter() {
        query = query.bind(mail.id.as_str());
    }
    for row in query.fetch_all(&mut *conn).await? {
        let mail_id: String = row.try_get("mail_id")?;
        if let Some(mail) = claimed.iter_mut().find(|m| m.id == mail_id) {
            mail.attachments.push(Attachment {
                filename: row.try_get("filename")?,
                content_type: row.try_get("content_type")?,
                content: row.try_get("content")?,
            });
        }
    }
    Ok(())
}

/// Extends the lease of every message still held under `claim`.
pub async fn renew(conn: &mut Conn, claim: &str, lease: Duration) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox SET locked_until = $1 WHERE claimed_by = $2 AND status = 'sending'",
    )
    .bind(timestamp(lease_end(lease)))
    .bind(claim)
    .execute(conn)
    .await?;
    Ok(())
}

/// Gives back the messages `ids` still held under `claim` and not attempted (the worker is
/// stopping): due at once, for the next start or another instance, their attempt not counted.
pub async fn release(conn: &mut Conn, claim: &str, ids: &[&str]) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "UPDATE mail_outbox SET status = 'pending', locked_until = NULL, claimed_by = NULL,
            attempts = attempts - 1, next_attempt_at = $1
         WHERE claimed_by = $2 AND status = 'sending' AND id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(timestamp(Utc::now()))
        .bind(claim);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.execute(conn).await?.rows_affected())
}

/// Marks a message delivered and forgets its body, and the content of its attachments when
/// it has any: confirmations carry private links, and only their hashes may stay in the
/// database; a loading list names organisations and orders. Addressing, subject and the
/// attachments' names stay for the outbox. False when the claim is no longer this worker's
/// (its lease ran out and another took it).
pub async fn mark_sent(
    conn: &mut Conn,
    mail: &ClaimedMail,
    claim: &str,
) -> Result<bool, sqlx::Error> {
    // The common message costs one statement, as it always did.
    if mail.attachments.is_empty() {
        return set_sent(conn, &mail.id, claim).await;
    }
    // One transaction, so a sent message never keeps its attachments' content.
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let sent = set_sent(&mut tx, &mail.id, claim).await?;
    if sent {
        sqlx::query("UPDATE mail_attachments SET content = '' WHERE mail_id = $1")
            .bind(&mail.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(sent)
}

async fn set_sent(conn: &mut Conn, id: &str, claim: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE mail_outbox SET status = 'sent', sent_at = $1, locked_until = NULL,
            claimed_by = NULL, last_error = NULL, body_text = '', body_html = NULL
         WHERE id = $2 AND claimed_by = $3 AND status = 'sending'",
    )
    .bind(timestamp(Utc::now()))
    .bind(id)
    .bind(claim)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt: due again after `retry_in`, or `failed` for good when `None`.
/// False when the claim is no longer this worker's.
pub async fn mark_attempt_failed(
    conn: &mut Conn,
    id: &str,
    claim: &str,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<bool, sqlx::Error> {
    let (status, next) = match retry_in {
        Some(delay) => (
            "pending",
            Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1)),
        ),
        None => ("failed", Utc::now()),
    };
    // Errors can be long; keep what an admin needs to see.
    let error: String = error.chars().take(500).collect();
    let done = sqlx::query(
        "UPDATE mail_outbox SET status = $1, next_attempt_at = $2, locked_until = NULL,
            claimed_by = NULL, last_error = $3
         WHERE id = $4 AND claimed_by = $5 AND status = 'sending'",
    )
    .bind(status)
    .bind(timestamp(next))
    .bind(error)
    .bind(id)
    .bind(claim)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A message as admins and the order timeline see it: addressing and state, no body.
#[derive(Debug, Clone)]
pub struct MailSummary {
    pub id: String,
    pub order_reference: Option<String>,
    pub kind: String,
    pub to: Vec<String>,
    pub subject: String,
    pub status: MailState,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub sent_at: Option<chrono::DateTime<Utc>>,
    /// How many files were attached.
    pub attachments: i64,
}

const SUMMARY_COLUMNS: &str = "m.id, o.reference, m.kind, m.recipients, m.subject, m.status,
    m.attempts, m.last_error, m.created_at, m.sent_at,
    (SELECT COUNT(*) FROM mail_attachments a WHERE a.mail_id = m.id) AS attachments";

/// The stored JSON list of addresses.
fn recipients(row: &sqlx::any::AnyRow) -> Result<Vec<String>, sqlx::Error> {
    parsed(row, "recipients", |raw| serde_json::from_str(raw).ok())
}

fn summary_from_row(row: &sqlx::any::AnyRow) -> Result<MailSummary, sqlx::Error> {
    Ok(MailSummary {
        id: row.try_get("id")?,
        order_reference: row.try_get("reference")?,
        kind: row.try_get("kind")?,
        to: recipients(row)?,
        subject: row.try_get("subject")?,
        status: parsed(row, "status", MailState::parse)?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: time(row, "created_at")?,
        sent_at: time_opt(row, "sent_at")?,
        attachments: row.try_get("attachments")?,
    })
}

pub async fn for_order(conn: &mut Conn, order_id: &str) -> Result<Vec<MailSummary>, sqlx::Error> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM mail_outbox m LEFT JOIN orders o ON o.id = m.order_id
         WHERE m.order_id = $1 ORDER BY m.created_at, m.id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(summary_from_row)
        .collect()
}

/// The email `id` as admins see it; `None` once it is purged.
pub async fn summary(conn: &mut Conn, id: &str) -> Result<Option<MailSummary>, sqlx::Error> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM mail_outbox m LEFT JOIN orders o ON o.id = m.order_id
         WHERE m.id = $1"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(summary_from_row)
        .transpose()
}

/// One page of the messages in `status` (`pending` includes those being sent), newest
/// first: `limit` rows after skipping `offset`.
pub async fn list(
    conn: &mut Conn,
    status: MailState,
    limit: i64,
    offset: i64,
) -> Result<Vec<MailSummary>, sqlx::Error> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS} FROM mail_outbox m LEFT JOIN orders o ON o.id = m.order_id
         WHERE m.status = $1 OR ($1 = 'pending' AND m.status = 'sending')
         ORDER BY m.created_at DESC, m.id DESC LIMIT $2 OFFSET $3"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(status.as_str())
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(summary_from_row)
        .collect()
}

/// Messages per status, for the outbox page's tabs.
pub async fn counts(conn: &mut Conn) -> Result<Vec<(MailState, i64)>, sqlx::Error> {
    sqlx::query("SELECT status, COUNT(*) AS n FROM mail_outbox GROUP BY status")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((parsed(row, "status", MailState::parse)?, row.try_get("n")?)))
        .collect()
}

/// Puts a `failed` message back in the queue with fresh attempts. False if it was not failed
/// (already retried, or sent meanwhile), so a double click sends nothing twice.
pub async fn retry(conn: &mut Conn, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = $1,
            last_error = NULL
         WHERE id = $2 AND status = 'failed'",
    )
    .bind(timestamp(Utc::now()))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Failed messages per kind, by kind: what "send all again" can be narrowed to.
pub async fn failed_kinds(conn: &mut Conn) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query(
        "SELECT kind, COUNT(*) AS n FROM mail_outbox WHERE status = 'failed'
         GROUP BY kind ORDER BY kind",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("kind")?, row.try_get("n")?)))
    .collect()
}

/// Puts every `failed` message (of `kind`, when given) back in the queue with fresh
/// attempts, due now; returns how many.
pub async fn retry_all_failed(conn: &mut Conn, kind: Option<&str>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = $1,
            last_error = NULL
         WHERE status = 'failed' AND ($2 = '' OR kind = $2)",
    )
    .bind(timestamp(Utc::now()))
    .bind(kind.unwrap_or(""))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// When the oldest message still waiting to be sent (`pending` or `sending`) was queued.
pub async fn oldest_pending(conn: &mut Conn) -> Result<Option<chrono::DateTime<Utc>>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT created_at FROM mail_outbox WHERE status IN ('pending', 'sending')
         ORDER BY created_at LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| time(&row, "created_at")).transpose()
}
