//! The mail outbox as admins see it: counts and messages per state, and a retry for
//! messages that failed for good.

use super::{Context, Failure};
use crate::mail::MailState;
use crate::store::outbox::{self, MailSummary};

/// Messages per stored state.
pub async fn counts(ctx: &Context) -> Result<Vec<(MailState, i64)>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(outbox::counts(&mut conn).await?)
}

/// The newest `limit` messages in `state` (`pending` includes those being sent).
pub async fn list(
    ctx: &Context,
    state: MailState,
    limit: i64,
) -> Result<Vec<MailSummary>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(outbox::list(&mut conn, state, limit).await?)
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
