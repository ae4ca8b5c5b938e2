//! Removing personal data from orders that ended long ago, and expired idempotency keys.

use chrono::{DateTime, Utc};

use super::{Context, Failure};
use crate::store::{orders, purge};

/// Purges every order that ended before `cutoff`; returns how many. Idempotency keys past
/// their lifetime go too.
pub async fn personal_data(ctx: &Context, cutoff: DateTime<Utc>) -> Result<u64, Failure> {
    let mut tx = ctx.db.begin_write().await?;
    let purged = purge::personal_data(&mut tx, cutoff).await?;
    purge::idempotency_keys(&mut tx, Utc::now() - super::orders::KEY_LIFETIME).await?;
    // Searchable by organisation name still, folded by the app as on insert.
    orders::fill_search_text(&mut tx).await?;
    tx.commit().await?;
    Ok(purged)
}
