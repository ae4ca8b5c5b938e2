//! The case handlers' queue and its CSV export.

use std::collections::HashMap;

use super::{Context, Failure};
use crate::domain::OrderStatus;
use crate::store::orders::Order;
use crate::store::queue::{self, Cursor, QueueFilter, QueueRow};
use crate::store::users;

/// One page of the queue, and what the page shows around it.
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Whether another page follows.
    pub more: bool,
    /// Orders per status over the whole table.
    pub counts: Vec<(OrderStatus, i64)>,
    /// Every user's name by id, for the assignee column.
    pub names: HashMap<String, String>,
}

pub async fn page(
    ctx: &Context,
    filter: &QueueFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<QueuePage, Failure> {
    let mut conn = ctx.db.acquire().await?;
    let (rows, more) = queue::page(&mut conn, ctx.db.backend(), filter, after, limit).await?;
    Ok(QueuePage {
        rows,
        more,
        counts: queue::status_counts(&mut conn).await?,
        names: users::names(&mut conn).await?,
    })
}

/// Every user's name by id.
pub async fn user_names(ctx: &Context) -> Result<HashMap<String, String>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(users::names(&mut conn).await?)
}

/// Up to `limit` whole orders for the export, after `after` in queue order.
pub async fn export_batch(
    ctx: &Context,
    filter: &QueueFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<Order>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    let backend = ctx.db.backend();
    Ok(queue::export_batch(&mut conn, backend, filter, after, limit).await?)
}
