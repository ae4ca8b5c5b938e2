//! SQL of the process statistics: the kept time in each status of ended orders
//! (`order_status_times`), and the counts the statistics page reads. Each read is a range
//! of an index (see the migration `status_times`), so a page costs what the chosen period
//! holds, not what the whole table does.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::events::{self, CheckEvent};
use super::{Conn, Db, parsed, time, timestamp};
use crate::domain::stats::{Change, TENTH_SECONDS, status_times};
use crate::domain::{Environment, OrderStatus};

/// Works out from its events how long the order spent in each status, and keeps it. Called
/// in the transaction that ends the order, after the ending event is written; a second call
/// for the same order changes nothing.
pub async fn keep_status_times(
    conn: &mut Conn,
    order_id: &str,
    created_at: DateTime<Utc>,
    closed_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let changes: Vec<Change> = events::for_order(&mut *conn, order_id)
        .await?
        .into_iter()
        .filter(|e| e.kind == "status_changed")
        .filter_map(|e| {
            e.to_status.map(|to| Change {
                at: e.occurred_at,
                from: e.from_status,
                to,
            })
        })
        .collect();
    for (status, stay) in status_times(created_at, &changes) {
        sqlx::query(
            "INSERT INTO order_status_times (order_id, status, closed_at, working_seconds)
             VALUES ($1, $2, $3, $4) ON CONFLICT (order_id, status) DO NOTHING",
        )
        .bind(order_id)
        .bind(status.as_str())
        .bind(timestamp(closed_at))
        .bind(stay.num_seconds())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Orders whose times are worked out per transaction at start-up.
const FILL_BATCH: i64 = 500;

/// Keeps the times of the orders that ended before the statistics existed (the migration
/// listed them in `order_status_times_pending`), a batch per transaction; returns how many.
/// Once done, each start-up costs one empty read.
pub async fn fill_status_times(db: &Db) -> Result<u64, sqlx::Error> {
    let mut filled = 0;
    loop {
        let mut tx = db.begin_write().await?;
        let rows = sqlx::query(
            "SELECT p.order_id, o.created_at, o.closed_at
             FROM order_status_times_pending p JOIN orders o ON o.id = p.order_id
             ORDER BY p.order_id LIMIT $1",
        )
        .bind(FILL_BATCH)
        .fetch_all(&mut **tx)
        .await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        for row in &rows {
            let id: String = row.try_get("order_id")?;
            // An order in the list has ended (the migration took only those), so a missing
            // closed_at means it was reopened by hand: nothing to keep.
            if let Some(closed_at) = super::time_opt(row, "closed_at")? {
                keep_status_times(&mut tx, &id, time(row, "created_at")?, closed_at).await?;
            }
            sqlx::query("DELETE FROM order_status_times_pending WHERE order_id = $1")
                .bind(&id)
                .execute(&mut **tx)
                .await?;
        }
        tx.commit().await?;
        filled += rows.len() as u64;
    }
}

/// Ended orders by outcome and environment between `start` (included) and `end`.
pub async fn ended(
    conn: &mut Conn,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(OrderStatus, Environment, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT status, environment, COUNT(*) AS orders FROM orders
         WHERE closed_at IS NOT NULL AND closed_at >= $1 AND closed_at < $2
         GROUP BY status, environment",
    )
    .bind(timestamp(start))
    .bind(timestamp(end))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                parsed(row, "status", OrderStatus::parse)?,
                parsed(row, "environment", |e| Environment::parse(e).ok())?,
                row.try_get("orders")?,
            ))
        })
        .collect()
}

/// How many stays in each status of the orders that ended between `start` and `end` took
/// how many tenths of a working day: (status, tenths, stays), ascending by tenths. Rounded
/// in SQL, so the rows are a histogram of a few hundred values, not one per order.
pub async fn status_time_histogram(
    conn: &mut Conn,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(OrderStatus, i64, i64)>, sqlx::Error> {
    // Integer division in both databases: half up, as `domain::stats::tenths`.
    let rows = sqlx::query(
        "SELECT status, (working_seconds + $3) / $4 AS tenths, COUNT(*) AS stays
         FROM order_status_times
         WHERE closed_at >= $1 AND closed_at < $2
         GROUP BY status, tenths
         ORDER BY status, tenths",
    )
    .bind(timestamp(start))
    .bind(timestamp(end))
    .bind(TENTH_SECONDS / 2)
    .bind(TENTH_SECONDS)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                parsed(row, "status", OrderStatus::parse)?,
                row.try_get("tenths")?,
                row.try_get("stays")?,
            ))
        })
        .collect()
}

/// The open orders by status: how many in all, and how many came in before each of
/// `cutoffs` (oldest cutoff last), so the page can tell them apart by age.
pub async fn open_by_age(
    conn: &mut Conn,
    cutoffs: &[DateTime<Utc>],
) -> Result<Vec<(OrderStatus, i64, Vec<i64>)>, sqlx::Error> {
    // One counted column per cutoff, each with its own placeholder.
    let columns: Vec<String> = (1..=cutoffs.len())
        .map(|n| format!(", COUNT(CASE WHEN created_at < ${n} THEN 1 END) AS older_{n}"))
        .collect();
    let sql = format!(
        "SELECT status, COUNT(*) AS orders{} FROM orders WHERE closed_at IS NULL
         GROUP BY status",
        columns.concat()
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for cutoff in cutoffs {
        query = query.bind(timestamp(*cutoff));
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            let older = (1..=cutoffs.len())
                .map(|n| row.try_get(format!("older_{n}").as_str()))
                .collect::<Result<Vec<i64>, _>>()?;
            Ok((
                parsed(row, "status", OrderStatus::parse)?,
                row.try_get("orders")?,
                older,
            ))
        })
        .collect()
}

/// The names of the failed checks in the events of `check` between `start` and `end`, one
/// list per event.
pub async fn failed_checks(
    conn: &mut Conn,
    check: CheckEvent,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<Vec<String>>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT details FROM order_events
         WHERE kind = $1 AND occurred_at >= $2 AND occurred_at < $3",
    )
    .bind(check.kind)
    .bind(timestamp(start))
    .bind(timestamp(end))
    .fetch_all(conn)
    .await?;
    let mut lists = Vec::with_capacity(rows.len());
    for row in rows {
        let details: Option<String> = row.try_get("details")?;
        // Details that are not the expected JSON count as no names: the figure is a count
        // for people to read, and one odd event must not take the page down.
        let names = details
            .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
            .and_then(|d| d.get("failed").and_then(|f| f.as_array()).cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|name| name.as_str().map(str::to_owned))
            .collect();
        lists.push(names);
    }
    Ok(lists)
}
