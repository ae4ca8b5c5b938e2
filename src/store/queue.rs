//! The case handlers' queue: filtered, searched, oldest change first, read a page at a time
//! with keyset pagination so page 2,000 costs what page 1 does.

use sqlx::Row;

use chrono::{DateTime, Utc};

use super::orders::{ORDER_COLUMNS, Order, from_row, normalise_reference};
use super::{Backend, Conn, parsed, time, timestamp};
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

/// How a text search finds its orders.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TextSearch {
    /// Walk the orders in queue order and test each one's `search_text` with LIKE, as
    /// before the trigram index: on SQLite for a text too short for a trigram or so common
    /// that the walk meets a page of it early.
    Walk,
    /// PostgreSQL, a text too short for a trigram: the walk, with the column hidden from
    /// the trigram index, which for such a text the planner would read whole (seconds at a
    /// million orders, three times the walk).
    WalkPastIndex,
    /// PostgreSQL: a LIKE that the planner answers from pg_trgm's GIN index or by the walk,
    /// whichever it expects to be cheaper.
    PlannerChooses,
    /// SQLite: test only the orders that the trigram index (`orders_fts`) found: their
    /// `search_key`s, as a JSON array.
    TrigramIndex { keys: String },
}

/// The trigram index holds every run of three characters; a shorter text has none to look up.
const TRIGRAM_MIN_CHARS: usize = 3;

/// Above this many orders matched by the index, walking in queue order finds a page sooner
/// than reading every match and sorting them: matches are then dense enough that the walk
/// meets a page of them early (the walk is never slower than before the index existed).
/// At a million orders both ways then cost about 5 ms (the queue bench's rare and common
/// texts, release build), and counting this many matches about 1 ms.
const INDEX_MATCHES_MAX: i64 = 2_500;

/// A LIKE pattern that finds `text` anywhere, its own `%`, `_` and `\` taken literally.
fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// An FTS5 query for `text` as one phrase: with the trigram tokenizer it matches exactly the
/// texts that contain `text`; inside the quotes every character is literal but `"`, doubled.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// How to search for `filter`'s text. On SQLite the index is read first, up to a limit: a
/// text that many orders contain (a vendor's name) would otherwise be read and sorted whole,
/// and SQLite's planner, which takes an FTS lookup for a handful of rows, cannot tell. The
/// keys found go into the page's query, so the index is read once. PostgreSQL's planner
/// knows from its statistics.
async fn text_search(
    conn: &mut Conn,
    backend: Backend,
    filter: &QueueFilter,
) -> Result<TextSearch, sqlx::Error> {
    let Some(Search::Text(text)) = &filter.search else {
        return Ok(TextSearch::Walk);
    };
    let short = text.chars().count() < TRIGRAM_MIN_CHARS;
    match (backend, short) {
        (Backend::Postgres, true) => return Ok(TextSearch::WalkPastIndex),
        (Backend::Postgres, false) => return Ok(TextSearch::PlannerChooses),
        (Backend::Sqlite, true) => return Ok(TextSearch::Walk),
        (Backend::Sqlite, false) => {}
    }
    let found = sqlx::query(
        "SELECT COUNT(*) AS matches, json_group_array(rowid) AS keys FROM
            (SELECT rowid FROM orders_fts WHERE orders_fts MATCH $1 LIMIT $2)",
    )
    .bind(fts_phrase(text))
    .bind(INDEX_MATCHES_MAX + 1)
    .fetch_one(conn)
    .await?;
    let matches: i64 = found.try_get("matches")?;
    Ok(if matches > INDEX_MATCHES_MAX {
        TextSearch::Walk
    } else {
        TextSearch::TrigramIndex {
            keys: found.try_get("keys")?,
        }
    })
}

/// The WHERE clause for `filter` and its text parameters, numbered from `$1`.
fn where_clause(filter: &QueueFilter, text_search: &TextSearch) -> (String, Vec<String>) {
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
            // An index only narrows the orders down; the LIKE decides, as it did before the
            // index, so every way finds the same orders.
            let column = match text_search {
                TextSearch::TrigramIndex { keys } => {
                    let p = param(keys.clone(), &mut params);
                    clauses.push(format!("search_key IN (SELECT value FROM json_each({p}))"));
                    "search_text"
                }
                TextSearch::Walk | TextSearch::PlannerChooses => "search_text",
                // Not the indexed column, so the planner cannot take the index.
                TextSearch::WalkPastIndex => "(search_text || '')",
            };
            let p = param(like_pattern(text), &mut params);
            clauses.push(format!("{column} LIKE {p} ESCAPE '\\'"));
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
    backend: Backend,
    filter: &QueueFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<QueueRow>, bool), sqlx::Error> {
    // One more than asked tells whether a next page exists.
    let rows = fetch(conn, backend, QUEUE_COLUMNS, filter, after, limit + 1).await?;
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
    backend: Backend,
    filter: &QueueFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    fetch(conn, backend, &ORDER_COLUMNS, filter, after, limit)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// `columns` of up to `limit` orders matching `filter`, in queue order, after `after`.
async fn fetch(
    conn: &mut Conn,
    backend: Backend,
    columns: &str,
    filter: &QueueFilter,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    let text_search = text_search(&mut *conn, backend, filter).await?;
    let (query, params) = select(columns, filter, after, limit, &text_search);
    // A statement kept prepared is planned for any text after a few runs (PostgreSQL's
    // generic plan), and for a LIKE that plan is the walk: a search that matches nothing
    // then reads every order. Not kept, it is planned for this text each time.
    let text = matches!(filter.search, Some(Search::Text(_)));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(query)).persistent(!text);
    for p in params {
        q = q.bind(p);
    }
    q.fetch_all(conn).await
}

/// The SELECT that [`fetch`] runs, and its parameters.
fn select(
    columns: &str,
    filter: &QueueFilter,
    after: Option<&Cursor>,
    limit: i64,
    text_search: &TextSearch,
) -> (String, Vec<String>) {
    let (mut sql, mut params) = where_clause(filter, text_search);
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
    (query, params)
}

/// Orders per status over the whole table, from the counts kept by [`count_move`].
pub async fn status_counts(conn: &mut Conn) -> Result<Vec<(OrderStatus, i64)>, sqlx::Error> {
    // The SUM is cast so both databases hand back a 64-bit integer (PostgreSQL's SUM of a
    // BIGINT is a NUMERIC).
    let rows = sqlx::query(
        "SELECT status, CAST(SUM(orders) AS BIGINT) AS orders FROM order_status_counts
         GROUP BY status",
    )
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

/// Rows a new order's count may go to. Enough that 8–16 concurrent submissions seldom pick
/// the same row; few enough that reading the counts stays a handful of rows per status.
pub const COUNT_SHARDS: i64 = 16;

/// Keeps `order_status_counts` in step: called in the transaction that creates an order
/// (`from` is `None`) or moves it.
///
/// A new order adds to a row of `received` picked at random, so concurrent submissions do
/// not queue on one row lock on PostgreSQL; it locks only that row, so it cannot deadlock
/// with anything. A move takes one from its status and adds one to the next in shard 0,
/// always the earlier status first, as moves did before there were shards.
pub async fn count_move(
    conn: &mut Conn,
    from: Option<OrderStatus>,
    to: OrderStatus,
) -> Result<(), sqlx::Error> {
    let shard = match from {
        None => rand::random_range(0..COUNT_SHARDS),
        Some(from) => {
            add_to_count(&mut *conn, from, 0, -1).await?;
            0
        }
    };
    add_to_count(conn, to, shard, 1).await
}

async fn add_to_count(
    conn: &mut Conn,
    status: OrderStatus,
    shard: i64,
    delta: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO order_status_counts (status, shard, orders) VALUES ($1, $2, $3)
         ON CONFLICT (status, shard) DO UPDATE SET orders = order_status_counts.orders + $3",
    )
    .bind(status.as_str())
    .bind(shard)
    .bind(delta)
    .execute(conn)
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
        for (how, column) in [
            (TextSearch::Walk, "search_text"),
            (TextSearch::PlannerChooses, "search_text"),
            (TextSearch::WalkPastIndex, "(search_text || '')"),
        ] {
            let (sql, params) = where_clause(&filter, &how);
            assert!(sql.contains(&format!("{column} LIKE $1 ESCAPE")), "{sql}");
            assert_eq!(params, ["%100\\%\\_a\\\\%"]);
        }
        // Through the index the LIKE still decides, with the same pattern.
        let keys = TextSearch::TrigramIndex {
            keys: "[7,9]".into(),
        };
        let (sql, params) = where_clause(&filter, &keys);
        assert!(sql.contains("search_key IN (SELECT value FROM json_each($1))"));
        assert!(sql.contains("search_text LIKE $2 ESCAPE"));
        assert_eq!(params, ["[7,9]", "%100\\%\\_a\\\\%"]);
    }

    #[test]
    fn a_search_phrase_doubles_its_quotes_so_the_index_reads_no_operators() {
        assert_eq!(fts_phrase("nord \"asa\" or *"), "\"nord \"\"asa\"\" or *\"");
    }

    /// A migrated SQLite database in a temporary folder.
    async fn sqlite() -> (tempfile::TempDir, crate::store::Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("queue.db").display());
        let db = crate::store::Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        (dir, db)
    }

    /// What SQLite's EXPLAIN QUERY PLAN says of the queue's SELECT for `filter`.
    async fn plan(conn: &mut Conn, filter: &QueueFilter, text_search: &TextSearch) -> Vec<String> {
        let (query, params) = select(QUEUE_COLUMNS, filter, None, 51, text_search);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {query}")));
        for p in params {
            q = q.bind(p);
        }
        let rows = q.fetch_all(conn).await.unwrap();
        rows.iter().map(|r| r.get::<String, _>("detail")).collect()
    }

    fn text(text: &str) -> QueueFilter {
        QueueFilter {
            status: StatusFilter::All,
            search: Search::parse(text),
            ..QueueFilter::default()
        }
    }

    #[tokio::test]
    async fn on_sqlite_a_search_of_three_characters_or_more_reads_the_trigram_index() {
        let (_dir, db) = sqlite().await;
        let mut conn = db.acquire().await.unwrap();
        let filter = text("finnes ikke");
        let how = text_search(&mut conn, Backend::Sqlite, &filter)
            .await
            .unwrap();
        assert_eq!(how, TextSearch::TrigramIndex { keys: "[]".into() });
        // The orders the index found are looked up by key, never scanned.
        let plan = plan(&mut conn, &filter, &how).await;
        assert!(
            plan.iter()
                .any(|d| d.starts_with("SEARCH orders USING INDEX orders_search_key")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|d| d.starts_with("SCAN orders ")),
            "{plan:?}"
        );
        // Too short for a trigram: the walk, as before the index.
        let short = text("ab");
        let how = text_search(&mut conn, Backend::Sqlite, &short)
            .await
            .unwrap();
        assert_eq!(how, TextSearch::Walk);
        // PostgreSQL's planner chooses between its index and the walk by itself, but for a
        // text too short for its index.
        let how = text_search(&mut conn, Backend::Postgres, &filter)
            .await
            .unwrap();
        assert_eq!(how, TextSearch::PlannerChooses);
        let how = text_search(&mut conn, Backend::Postgres, &short)
            .await
            .unwrap();
        assert_eq!(how, TextSearch::WalkPastIndex);
    }

    #[tokio::test]
    async fn on_sqlite_a_text_in_very_many_orders_walks_the_queue_and_still_finds_them() {
        let (_dir, db) = sqlite().await;
        let mut conn = db.acquire().await.unwrap();
        // More orders than the index is read for, all from the same vendor.
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i <= $1)
             INSERT INTO orders (id, reference, status, environment, scope,
                vendor_org_number, vendor_org_name, vendor_contact_email, vendor_contact_phone,
                consumer_org_number, consumer_org_name, consumer_contact_email,
                consumer_contact_phone, language, created_at, updated_at, search_text)
             SELECT printf('%08x-0000-7000-8000-%012x', i, i), 'RRH-T' || i, 'received',
                'test', 'brreg:reelle/offentlig', '974760673', 'Leverandør AS',
                'ola@leverandor.no', '+4791234567', CAST(800000000 + i AS TEXT), 'Kunde ' || i,
                'kari@kunde.no', '+4741234567', 'nb',
                printf('2026-01-01T00:00:%02d.%06dZ', i / 1000000, i % 1000000),
                printf('2026-01-01T00:00:%02d.%06dZ', i / 1000000, i % 1000000),
                'leverandør as kunde ' || i FROM n",
        )
        .bind(INDEX_MATCHES_MAX)
        .execute(&mut *conn)
        .await
        .unwrap();
        let common = text("leverandør");
        let how = text_search(&mut conn, Backend::Sqlite, &common)
            .await
            .unwrap();
        assert_eq!(how, TextSearch::Walk);
        let (rows, more) = page(&mut conn, Backend::Sqlite, &common, None, 50)
            .await
            .unwrap();
        assert_eq!((rows.len(), more), (50, true));
        assert_eq!(rows[0].reference, "RRH-T1", "the longest waiting first");
        // A text in a few of them still goes through the index.
        let rare = text("kunde 2345");
        let how = text_search(&mut conn, Backend::Sqlite, &rare)
            .await
            .unwrap();
        assert!(matches!(how, TextSearch::TrigramIndex { .. }), "{how:?}");
        let (rows, _) = page(&mut conn, Backend::Sqlite, &rare, None, 50)
            .await
            .unwrap();
        let found: Vec<&str> = rows.iter().map(|r| r.reference.as_str()).collect();
        assert_eq!(found, ["RRH-T2345"]);
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
