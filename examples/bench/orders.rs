//! The submission row: fresh valid orders posted to `POST /api/v1/orders` from concurrent
//! tasks, and its ceiling, the rows those orders wrote inserted raw into a database of the
//! same schema, one transaction per order, from as many tasks.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

/// Hands out organisation numbers no order of this run has used: `2nnnnnnnc` for the vendor and
/// `3nnnnnnnc` for the consumer, with a valid modulus-11 check digit `c`. Numbers starting with
/// 2 or 3 are synthetic TT02 organisations, which the app does not look up in Enhetsregisteret
/// for a test order.
pub struct OrgNumbers(AtomicU64);

impl OrgNumbers {
    pub fn new() -> Self {
        OrgNumbers(AtomicU64::new(1))
    }

    /// A (vendor, consumer) pair, both valid, never handed out before.
    pub fn next_pair(&self) -> (String, String) {
        loop {
            let n = self.0.fetch_add(1, Ordering::Relaxed) % 10_000_000;
            if let (Some(vendor), Some(consumer)) = (org_number(2, n), org_number(3, n)) {
                return (vendor, consumer);
            }
        }
    }
}

/// `first` followed by `n` in seven digits and the check digit; `None` when no check digit
/// exists for those eight digits.
fn org_number(first: u64, n: u64) -> Option<String> {
    const WEIGHTS: [u64; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let body = format!("{first}{n:07}");
    let sum: u64 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u64::from(d - b'0') * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        k => k,
    };
    Some(format!("{body}{check}"))
}

/// A valid test order for the default scope, as the README's example and the API tests post it.
pub fn order_body(vendor: &str, consumer: &str) -> serde_json::Value {
    serde_json::json!({
        "environment": "test",
        "scope": "brreg:reelle/offentlig",
        "vendor_org_number": vendor,
        "vendor_org_name": "Leverandør Systemer AS",
        "vendor_contact_name": "Ola Nordmann",
        "vendor_contact_email": "ola@leverandor.no",
        "vendor_contact_phone": "912 34 567",
        "consumer_org_number": consumer,
        "consumer_org_name": "Kunde Bank ASA",
        "consumer_contact_name": "Kari Nordmann",
        "consumer_contact_email": "kari@kunde.no",
        "consumer_contact_phone": "412 34 567",
        "ip_addresses": ["185.7.240.10", "1.1.1.0/24"],
        "acknowledge_test_data": true
    })
}

/// What a timed load achieved.
#[derive(Debug, Default, Clone)]
pub struct Load {
    /// Orders created (201, or committed for the ceiling).
    pub done: u64,
    pub elapsed: Duration,
    /// Anything else, by kind ("HTTP 500: {...}"), with counts.
    pub errors: BTreeMap<String, u64>,
}

impl Load {
    pub fn per_second(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64()
    }

    fn merge(&mut self, other: Load) {
        self.done += other.done;
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
    }
}

/// Posts fresh orders from `tasks` concurrent tasks (keep-alive connections) for `seconds`;
/// every answer but 201 is an error. A task that is mid-request at the deadline finishes it.
pub async fn post_orders(
    url: &str,
    seconds: f64,
    tasks: usize,
    numbers: &Arc<OrgNumbers>,
) -> anyhow::Result<Load> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(tasks)
        .timeout(Duration::from_secs(30))
        .build()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (client, url, numbers) = (client.clone(), url.to_owned(), numbers.clone());
        handles.push(tokio::spawn(async move {
            let mut load = Load::default();
            while Instant::now() < deadline {
                post_one(&client, &url, &numbers, &mut load).await;
            }
            load
        }));
    }
    let mut total = Load::default();
    for handle in handles {
        total.merge(handle.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// Posts exactly `count` orders from `tasks` tasks: the mail row's backlog.
pub async fn post_count(
    url: &str,
    count: u64,
    tasks: usize,
    numbers: &Arc<OrgNumbers>,
) -> anyhow::Result<Load> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let started = Instant::now();
    let left = Arc::new(AtomicU64::new(count));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (client, url, numbers, left) = (
            client.clone(),
            url.to_owned(),
            numbers.clone(),
            left.clone(),
        );
        handles.push(tokio::spawn(async move {
            let mut load = Load::default();
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                post_one(&client, &url, &numbers, &mut load).await;
            }
            load
        }));
    }
    let mut total = Load::default();
    for handle in handles {
        total.merge(handle.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

async fn post_one(client: &reqwest::Client, url: &str, numbers: &OrgNumbers, load: &mut Load) {
    let (vendor, consumer) = numbers.next_pair();
    let sent = client
        .post(url)
        .json(&order_body(&vendor, &consumer))
        .send()
        .await;
    match sent {
        Ok(response) if response.status() == 201 => {
            // Read the body: the connection goes back to the pool only then.
            let _ = response.bytes().await;
            load.done += 1;
        }
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            let kind = format!(
                "HTTP {status}: {}",
                body.chars().take(160).collect::<String>()
            );
            *load.errors.entry(kind).or_default() += 1;
        }
        Err(err) => {
            *load
                .errors
                .entry(format!("request failed: {err}"))
                .or_default() += 1;
        }
    }
}

/// A database the benchmark opens itself, as the app does (src/store/mod.rs): the same pool
/// size, and on SQLite the same pragmas (WAL, `synchronous = FULL`, foreign keys, busy
/// timeout) and `BEGIN IMMEDIATE` for a transaction that writes.
pub struct Database {
    pub pool: AnyPool,
    pub sqlite: bool,
}

impl Database {
    pub async fn open(url: &str) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(if sqlite { 8 } else { 16 });
        let pool = if sqlite {
            let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
            options
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&format!("sqlite://{path}?mode=rw"))
                .await
        } else {
            options.connect(url).await
        }
        .with_context(|| format!("opening {}", redact(url)))?;
        Ok(Database { pool, sqlite })
    }

    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        if self.sqlite {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        } else {
            self.pool.begin().await
        }
    }

    /// The columns of `table` and whether each holds integers.
    async fn columns(&self, table: &str) -> anyhow::Result<Vec<(String, bool)>> {
        let rows = if self.sqlite {
            sqlx::query("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                .bind(table)
                .fetch_all(&self.pool)
                .await?
        } else {
            sqlx::query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_name = $1 AND table_schema = current_schema()
                 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&self.pool)
            .await?
        };
        let columns: Vec<(String, bool)> = rows
            .iter()
            .map(|row| {
                let name: String = row.try_get(0)?;
                let kind: String = row.try_get(1)?;
                Ok((name, kind.to_ascii_lowercase().contains("int")))
            })
            .collect::<Result<_, sqlx::Error>>()?;
        if columns.is_empty() {
            bail!("no table {table}");
        }
        Ok(columns)
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The tables where a new order leaves rows, and the column that names the order.
const TABLES: [(&str, &str); 5] = [
    ("orders", "id"),
    ("order_events", "order_id"),
    ("contact_links", "order_id"),
    ("mail_outbox", "order_id"),
    ("idempotency_keys", "order_id"),
];

#[derive(Debug, Clone)]
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

struct Table {
    name: &'static str,
    columns: Vec<(String, bool)>,
    insert: String,
}

/// Every row one order wrote: (index into the tables, its values).
struct OrderRows(Vec<(usize, Vec<Value>)>);

/// The rows real submissions wrote, read back from the app's database, to be inserted again
/// under new ids.
pub struct Templates {
    tables: Vec<Table>,
    orders: Vec<OrderRows>,
    next: AtomicU64,
}

impl Templates {
    /// Reads the rows of the `limit` most recent orders in `db`.
    pub async fn read(db: &Database, limit: i64) -> anyhow::Result<Templates> {
        let mut tables = Vec::new();
        for (name, _) in TABLES {
            let columns = db.columns(name).await?;
            let names: Vec<&str> = columns.iter().map(|(c, _)| c.as_str()).collect();
            let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
            let insert = format!(
                "INSERT INTO {name} ({}) VALUES ({})",
                names.join(", "),
                placeholders.join(", ")
            );
            tables.push(Table {
                name,
                columns,
                insert,
            });
        }
        let ids: Vec<String> =
            sqlx::query("SELECT id FROM orders ORDER BY created_at DESC, id LIMIT $1")
                .bind(limit)
                .fetch_all(&db.pool)
                .await?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            bail!("the app's database has no orders to copy");
        }
        let mut orders = Vec::new();
        for id in &ids {
            let mut rows = Vec::new();
            for (index, (table, (_, key))) in tables.iter().zip(TABLES).enumerate() {
                let select = format!("SELECT * FROM {} WHERE {key} = $1", table.name);
                for row in sqlx::query(sqlx::AssertSqlSafe(select))
                    .bind(id)
                    .fetch_all(&db.pool)
                    .await?
                {
                    rows.push((index, values(&row, &table.columns)?));
                }
            }
            orders.push(OrderRows(rows));
        }
        Ok(Templates {
            tables,
            orders,
            next: AtomicU64::new(0),
        })
    }

    /// Rows per order in each table, averaged over the templates ("orders 1, order_events 1,
    /// contact_links 2, mail_outbox 3").
    pub fn shape(&self) -> String {
        let mut counts = vec![0usize; self.tables.len()];
        for order in &self.orders {
            for (index, _) in &order.0 {
                counts[*index] += 1;
            }
        }
        self.tables
            .iter()
            .zip(counts)
            .map(|(table, count)| {
                let per = count as f64 / self.orders.len() as f64;
                format!("{} {}", table.name, trim_float(per))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Inserts one template order's rows under new ids, in one transaction.
    async fn insert_one(&self, db: &Database, numbers: &OrgNumbers) -> Result<(), sqlx::Error> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let template = &self.orders[(n as usize) % self.orders.len()];
        let order_id = uuid::Uuid::now_v7().to_string();
        let (vendor, consumer) = numbers.next_pair();
        let reference = format!("RRH-{:04}-{:04}", (n / 10_000) % 10_000, n % 10_000);
        let mut tx = db.begin_write().await?;
        for (index, values) in &template.0 {
            let table = &self.tables[*index];
            let row_id = if table.name == "orders" {
                order_id.clone()
            } else {
                uuid::Uuid::now_v7().to_string()
            };
            let old_id =
                table
                    .columns
                    .iter()
                    .zip(values)
                    .find_map(|((name, _), value)| match value {
                        Value::Text(Some(v)) if name == "id" => Some(v.as_str()),
                        _ => None,
                    });
            let mut query = sqlx::query(sqlx::AssertSqlSafe(table.insert.as_str()));
            for ((name, _), value) in table.columns.iter().zip(values) {
                if name == "search_key" {
                    // SQLite's search index key: numbered by the insert trigger, as the app's
                    // own insert leaves it.
                    query = query.bind(None::<i64>);
                    continue;
                }
                let fresh = match name.as_str() {
                    "id" => Some(row_id.clone()),
                    "order_id" => Some(order_id.clone()),
                    "reference" => Some(reference.clone()),
                    "vendor_org_number" => Some(vendor.clone()),
                    "consumer_org_number" => Some(consumer.clone()),
                    // `<id@host>`: unique, and made from the row's id as the app does.
                    "message_id" => match (value, old_id) {
                        (Value::Text(Some(v)), Some(old)) => Some(v.replace(old, &row_id)),
                        _ => Some(format!("<{row_id}@bench>")),
                    },
                    // SHA-256 in hex, unique per row.
                    "token_hash" | "key_hash" => Some(format!(
                        "{}{}",
                        uuid::Uuid::new_v4().simple(),
                        uuid::Uuid::new_v4().simple()
                    )),
                    _ => None,
                };
                query = match (fresh, value) {
                    (Some(text), _) => query.bind(text),
                    (None, Value::Text(text)) => query.bind(text.clone()),
                    (None, Value::Int(int)) => query.bind(*int),
                };
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await
    }
}

fn values(row: &AnyRow, columns: &[(String, bool)]) -> Result<Vec<Value>, sqlx::Error> {
    columns
        .iter()
        .map(|(name, int)| {
            Ok(if *int {
                Value::Int(row.try_get(name.as_str())?)
            } else {
                Value::Text(row.try_get(name.as_str())?)
            })
        })
        .collect()
}

fn trim_float(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.2}")
    }
}

/// The ceiling: `tasks` tasks insert template orders under new ids for `seconds`.
pub async fn insert_orders(
    db: &Arc<Database>,
    templates: &Arc<Templates>,
    seconds: f64,
    tasks: usize,
    numbers: &Arc<OrgNumbers>,
) -> anyhow::Result<Load> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (db, templates, numbers) = (db.clone(), templates.clone(), numbers.clone());
        handles.push(tokio::spawn(async move {
            let mut load = Load::default();
            while Instant::now() < deadline {
                match templates.insert_one(&db, &numbers).await {
                    Ok(()) => load.done += 1,
                    Err(err) => *load.errors.entry(format!("insert: {err}")).or_default() += 1,
                }
            }
            load
        }));
    }
    let mut total = Load::default();
    for handle in handles {
        total.merge(handle.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handed_out_numbers_have_valid_check_digits() {
        // 974760673 is a real organisation's number; 313876144 a synthetic one of the guide's.
        assert_eq!(org_number(9, 7_476_067).as_deref(), Some("974760673"));
        assert_eq!(org_number(3, 1_387_614).as_deref(), Some("313876144"));
        let numbers = OrgNumbers::new();
        let (a, b) = numbers.next_pair();
        let (c, _) = numbers.next_pair();
        assert!(a.starts_with('2') && b.starts_with('3') && a != c);
    }
}
