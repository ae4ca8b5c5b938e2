//! The case handlers' queue: filtered, searched, oldest change first, read a page at a time
//! with keyset pagination so page 2,000 costs what page 1 does.

use sqlx::Row;

use chrono::{DateTime, Utc};

use super::orders::{ORDER_COLUMNS, Order, from_row, normalise_reference};
use super::{Conn, parsed, time, timestamp};
use crate::domain::{Environment, OrderStatus, Scope};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// Everything not completed, rejected or withdrawn (the default view).
    #[default]
    Open,
    All,
    Only(OrderStatus),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Assignment {
    #[default]
    Anyone,
    /// Assigned to this user id.
    To(String),
    Nobody,
}

/// What a search box entry is taken to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    Reference(String),
    OrgNumber(String),
    /// Part of an organisation name or contact email, lower-cased.
    Text(String),
}

impl Search {
    pub fn parse(raw: &str) -> Option<Search> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return None;
        }
        if let Some(reference) = normalise_reference(trimmed) {
            return Some(Search::Reference(reference));
        }
        let digits: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Search::OrgNumber(digits));
        }
        Some(Search::Text(trimmed.to_lowercase()))
    }
}

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub status: StatusFilter,
    pub environment: Option<Environment>,
    pub scope: Option<String>,
    pub assignment: Assignment,
    pub search: Option<Search>,
}

/// Where a page starts: just after this order in (updated_at, id) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub updated_at: String,
    pub id: String,
}

impl Cursor {
    /// Where the page after `updated_at`/`id` starts.
    pub fn after(updated_at: DateTime<Utc>, id: &str) -> Cursor {
        Cursor {
            updated_at: timestamp(updated_at),
            id: id.to_owned(),
        }
    }

    /// `updated_at` is fixed-width and has no `_`, so the pair splits unambiguously.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.updated_at, self.id)
    }

    pub fn decode(raw: &str) -> Option<Cursor> {
        let (updated_at, id) = raw.split_once('_')?;
        super::parse_timestamp(updated_at)?;
        uuid::Uuid::parse_str(id).ok()?;
        Some(Cursor {
            updated_at: updated_at.to_owned(),
            id: id.to_owned(),
        })
    }
}

/// The WHERE clause for `filter` and its text parameters, numbered from `$1`.
fn where_clause(filter: &QueueFilter) -> (String, Vec<String>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let param = |value: String, params: &mut Vec<String>| {
        params.push(value);
        format!("${}", params.len())
    };
    match filter.status {
        StatusFilter::Open => clauses.push("closed_at IS NULL".into()),
        StatusFilter::All => {}
        StatusFilter::Only(status) => {
            let p = param(status.as_str().into(), &mut params);
            clauses.push(format!("status = {p}"));
        }
    }
    if let Some(env) = filter.environment {
        let p = param(env.as_str().into(), &mut params);
        clauses.push(format!("environment = {p}"));
    }
    if let Some(scope) = &filter.scope {
        let p = param(scope.clone(), &mut params);
        clauses.push(format!("scope = {p}"));
    }
    match &filter.assignment {
        Assignment::Anyone => {}
        Assignment::To(user) => {
            let p = param(user.clone(), &mut params);
            clauses.push(format!("assigned_to = {p}"));
        }
        Assignment::Nobody => clauses.push("assigned_to IS NULL".into()),
    }
    match &filter.search {
        None => {}
        Some(Search::Reference(reference)) => {
            let p = param(reference.clone(), &mut params);
            clauses.push(format!("reference = {p}"));
        }
        Some(Search::OrgNumber(number)) => {
            let p = param(number.clone(), &mut params);
            clauses.push(format!(
                "(vendor_org_number = {p} OR consumer_org_number = {p})"
            ));
        }
        Some(Search::Text(text)) => {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let p = param(format!("%{escaped}%"), &mut params);
            clauses.push(format!("search_text LIKE {p} ESCAPE '\\'"));
        }
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (sql, params)
}

/// One line of the queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub id: String,
    pub reference: String,
    pub status: OrderStatus,
    pub environment: Environment,
    pub scope: Scope,
    pub vendor_org_name: String,
    pub vendor_org_number: String,
    pub consumer_org_name: String,
    pub consumer_org_number: String,
    pub assigned_to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Up to `limit` orders after `after`, and whether more follow.
pub async fn page(
    conn: &mut Conn,
    filter: &QueueFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<QueueRow>, bool), sqlx::Error> {
    // One more than asked tells whether a next page exists.
    let rows = fetch(conn, QUEUE_COLUMNS, filter, after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let rows = rows
        .iter()
        .take(limit as usize)
        .map(queue_row)
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((rows, more))
}

/// Full orders for the export, `limit` at a time after `after`.
pub async fn export_batch(
    conn: &mut Conn,
    filter: &QueueFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    fetch(conn, &ORDER_COLUMNS, filter, after, limit)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// `columns` of up to `limit` orders matching `filter`, in queue order, after `after`.
async fn fetch(
    conn: &mut Conn,
    columns: &str,
    filter: &QueueFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    let (mut sql, mut params) = where_clause(filter);
    if let Some(cursor) = after {
        params.push(cursor.updated_at.clone());
        let a = params.len();
        params.push(cursor.id.clone());
        let b = params.len();
        // A row-value comparison, which both databases answer from the (updated_at, id) index;
        // the equivalent OR form makes PostgreSQL scan.
        let keyset = format!("(updated_at, id) > (${a}, ${b})");
        sql = if sql.is_empty() {
            format!("WHERE {keyset}")
        } else {
            format!("{sql} AND {keyset}")
        };
    }
    let query = format!("SELECT {columns} FROM orders {sql} ORDER BY updated_at, id LIMIT {limit}");
    let mut q = sqlx::query(sqlx::AssertSqlSafe(query));
    for p in params {
        q = q.bind(p);
    }
    q.fetch_all(conn).await
}

/// Orders per status over the whole table, from the counts kept by [`count_move`].
pub async fn status_counts(conn: &mut Conn) -> Result<Vec<(OrderStatus, i64)>, sqlx::Error> {
    let rows = sqlx::query("SELECT status, orders FROM order_status_counts")
        .fetch_all(conn)
        .await?;
    let mut counts: Vec<(OrderStatus, i64)> = OrderStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for row in rows {
        let status = parsed(&row, "status", OrderStatus::parse)?;
        let n: i64 = row.try_get("orders")?;
        if let Some(entry) = counts.iter_mut().find(|(s, _)| *s == status) {
            entry.1 = n;
        }
    }
    Ok(counts)
}

/// Keeps `order_status_counts` in step: called in the transaction that creates an order
/// (`from` is `None`) or moves it.
pub async fn count_move(
    conn: &mut Conn,
    from: Option<OrderStatus>,
    to: OrderStatus,
) -> Result<(), sqlx::Error> {
    if let Some(from) = from {
        sqlx::query("UPDATE order_status_counts SET orders = orders - 1 WHERE status = $1")
            .bind(from.as_str())
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "INSERT INTO order_status_counts (status, orders) VALUES ($1, 1)
         ON CONFLICT (status) DO UPDATE SET orders = order_status_counts.orders + 1",
    )
    .bind(to.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Other orders between the same two organisations, newest first: a hint for the case handler
/// that this pair has been here before.
pub async fn same_pair(conn: &mut Conn, order: &Order) -> Result<Vec<QueueRow>, sqlx::Error> {
    let query = format!(
        "SELECT {QUEUE_COLUMNS} FROM orders
         WHERE vendor_org_number = $1 AND consumer_org_number = $2 AND id <> $3
         ORDER BY created_at DESC LIMIT 20"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(query))
        .bind(order.vendor_org_number.as_str())
        .bind(order.consumer_org_number.as_str())
        .bind(&order.id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(queue_row).collect()
}

const QUEUE_COLUMNS: &str = "id, reference, status, environment, scope, vendor_org_name,
    vendor_org_number, consumer_org_name, consumer_org_number, assigned_to, created_at,
    updated_at";

fn queue_row(row: &sqlx::any::AnyRow) -> Result<QueueRow, sqlx::Error> {
    Ok(QueueRow {
        id: row.try_get("id")?,
        reference: row.try_get("reference")?,
        status: parsed(row, "status", OrderStatus::parse)?,
        environment: parsed(row, "environment", |raw| Environment::parse(raw).ok())?,
        scope: parsed(row, "scope", |raw| Scope::from_stored(raw).ok())?,
        vendor_org_name: row.try_get("vendor_org_name")?,
        vendor_org_number: row.try_get("vendor_org_number")?,
        consumer_org_name: row.try_get("consumer_org_name")?,
        consumer_org_number: row.try_get("consumer_org_number")?,
        assigned_to: row.try_get("assigned_to")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_box_recognises_references_org_numbers_and_text() {
        assert_eq!(
            Search::parse(" rrh-abcd-efgh "),
            Some(Search::Reference("RRH-ABCD-EFGH".into()))
        );
        assert_eq!(
            Search::parse("923 609 016"),
            Some(Search::OrgNumber("923609016".into()))
        );
        assert_eq!(
            Search::parse("Ærlig AS"),
            Some(Search::Text("ærlig as".into()))
        );
        assert_eq!(Search::parse("   "), None);
    }

    #[test]
    fn like_wildcards_in_a_search_are_taken_literally() {
        let filter = QueueFilter {
            search: Some(Search::Text("100%_a\\".into())),
            ..QueueFilter::default()
        };
        let (sql, params) = where_clause(&filter);
        assert!(sql.contains("search_text LIKE $1 ESCAPE"));
        assert_eq!(params, ["%100\\%\\_a\\\\%"]);
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let cursor = Cursor {
            updated_at: "2026-11-25T10:00:00.000000Z".into(),
            id: uuid::Uuid::now_v7().to_string(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("x_y"), None);
        assert_eq!(Cursor::decode("' OR 1=1 --"), None);
    }
}
