//! Storage: one connection pool over SQLite (the embedded default) or PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver with `$n` placeholders, which both databases
//! accept, so every query is written once. Where the databases really differ (DDL, row
//! locking, the queue's text search index) the code branches on [`Backend`]. Values crossing the driver are text and
//! 64-bit integers; timestamps are fixed-width UTC text so they sort and compare as strings.

pub mod events;
pub mod idempotency;
pub mod links;
pub mod loading_batches;
pub mod orders;
pub mod outbox;
pub mod purge;
pub mod queue;
pub mod rate_limit;
pub mod stats;
pub mod users;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow, install_default_drivers};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Executor, Row};

/// What every query function takes: a pooled connection or an open transaction
/// (`&mut *tx`), so the use case that calls it decides what runs in one transaction.
pub type Conn = sqlx::AnyConnection;
/// A transaction as [`Db::begin_write`] opens it.
pub type Tx = sqlx::Transaction<'static, Any>;

/// A write transaction with, on SQLite, this process's turn to write: used as a [`Tx`].
pub struct WriteTx {
    tx: Tx,
    _turn: Option<WriteTurn>,
}

/// This process's turn at SQLite's single write lock (see [`Db::write_turn`]).
pub type WriteTurn = tokio::sync::OwnedMutexGuard<()>;

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    /// For the mail worker's bookkeeping; see [`Db::acquire_relaxed`].
    relaxed: AnyPool,
    /// For rate-limit counts; see [`Db::acquire_for_counts`].
    counts: AnyPool,
    backend: Backend,
    /// SQLite's writers queue here, in this process, rather than at the database's lock.
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// How a pool's commits reach the disk.
#[derive(Clone, Copy)]
enum Durability {
    /// A commit is on disk before it returns: an order acknowledged with 201 survives a
    /// power loss.
    Full,
    /// A commit survives the process crashing, not the machine losing power.
    Relaxed,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        install_default_drivers();
        let (backend, url) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else if url.starts_with("sqlite:") {
            (Backend::Sqlite, prepare_sqlite_url(url)?)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://");
        };
        let max = match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        let pool = pool_options(backend, max, Durability::Full)
            .connect(&url)
            .await
            .with_context(|| format!("connecting to the {backend:?} database"))?;
        let relaxed = pool_options(backend, 2, Durability::Relaxed)
            .connect(&url)
            .await
            .with_context(|| format!("connecting to the {backend:?} database"))?;
        // Apart from the mail worker's: a flood of counted attempts waits for these, never
        // holds up the record of a message sent.
        let counts = pool_options(backend, 4, Durability::Relaxed)
            .connect(&url)
            .await
            .with_context(|| format!("connecting to the {backend:?} database"))?;
        Ok(Db {
            pool,
            relaxed,
            counts,
            backend,
            writer: Default::default(),
        })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("applying database migrations")?;
        // Data steps a SQL migration cannot do well.
        let mut conn = self.acquire().await?;
        orders::fill_search_text(&mut conn)
            .await
            .context("filling the search text of older orders")?;
        drop(conn);
        stats::fill_status_times(self)
            .await
            .context("keeping the time in each status of orders that ended earlier")?;
        Ok(())
    }

    /// A transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later cannot
    /// wait for the lock and would fail with "database is locked" under concurrent writers.
    /// It waits for this process's turn first (see [`Db::write_turn`]).
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let turn = self.write_turn().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, _turn: turn })
    }

    /// On SQLite, this process's turn to write, held until the write commits; `None` on
    /// PostgreSQL, whose row locks need no help. SQLite lets one writer in at a time, and
    /// one that finds the lock taken sleeps in growing steps (up to 100 ms) before it looks
    /// again: under eight simultaneous orders, most of the time went to those sleeps. Queued
    /// here instead, each writer starts the moment the one before it is done. Another process
    /// on the same file (a `purge` from the command line) still meets the busy timeout.
    pub async fn write_turn(&self) -> Option<WriteTurn> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }

    /// A connection for reads that need no transaction.
    pub async fn acquire(&self) -> Result<PoolConnection<Any>, sqlx::Error> {
        self.pool.acquire().await
    }

    /// A connection whose commits do not wait for the disk, for the mail worker's claims and
    /// outcomes only: a power cut may undo the last of them, which sends a message once more
    /// (as a crash mid-send already can); it cannot lose an order, which is never written
    /// here. Waiting for the disk after every message bounded delivery at a few hundred a
    /// second and held SQLite's write lock from the orders meanwhile.
    pub async fn acquire_relaxed(&self) -> Result<PoolConnection<Any>, sqlx::Error> {
        self.relaxed.acquire().await
    }

    /// A connection whose commits do not wait for the disk, for rate-limit counts (see
    /// `rate_limit::count_alone`), from a pool of their own.
    pub async fn acquire_for_counts(&self) -> Result<PoolConnection<Any>, sqlx::Error> {
        self.counts.acquire().await
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.relaxed.close().await;
        self.counts.close().await;
        self.pool.close().await;
    }
}

fn pool_options(backend: Backend, max: u32, durability: Durability) -> AnyPoolOptions {
    let options = AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(10))
        .max_connections(max)
        // A ping before handing out a connection guards against a server that went away;
        // SQLite is a file in this process, and the ping was one more round trip to its
        // connection's thread on every acquire (about a tenth of a mail's delivery time).
        .test_before_acquire(backend == Backend::Postgres);
    match (backend, durability) {
        // WAL lets readers work while one writer commits; FULL syncs the WAL on every commit,
        // so an order acknowledged with 201 survives a power loss (NORMAL could roll it
        // back; FULL measured 7-9 ms per order against NORMAL's 4, far above the load);
        // foreign keys are off by default in SQLite; the busy timeout makes a writer wait
        // for the lock instead of failing.
        (Backend::Sqlite, _) => options.after_connect(move |conn, _meta| {
            let synchronous = match durability {
                Durability::Full => "FULL",
                Durability::Relaxed => "NORMAL",
            };
            Box::pin(async move {
                let pragmas = format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;"
                );
                conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                Ok(())
            })
        }),
        (Backend::Postgres, Durability::Full) => options,
        (Backend::Postgres, Durability::Relaxed) => options.after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("SET synchronous_commit = off").await?;
                Ok(())
            })
        }),
    }
}

/// Creates the database file's folder and asks SQLite to create the file on first start.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let parent = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|_| path != ":memory:") {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the database folder {}", parent.display()))?;
    }
    let query = if query.split('&').any(|p| p.starts_with("mode=")) {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

/// Hex SHA-256: how secrets that arrive in cookies and links are stored, so a copy of the
/// database holds nothing that opens a session or an order.
pub fn sha256_hex(value: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Timestamps are stored as fixed-width UTC text (`2026-11-25T20:51:38.123456Z`), so string
/// order is time order in both databases.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A text column parsed into its domain type. A value that does not parse is an error naming
/// the column (never a default: a bad environment must not be taken for "test"); the value
/// itself stays out of the error, since columns may hold personal data.
pub fn parsed<T>(
    row: &AnyRow,
    column: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, sqlx::Error> {
    let raw: String = row.try_get(column)?;
    parse(&raw).ok_or_else(|| invalid(column))
}

/// [`parsed`] for a nullable column: NULL is `None`, a bad value is still an error.
pub fn parsed_opt<T>(
    row: &AnyRow,
    column: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, sqlx::Error> {
    let raw: Option<String> = row.try_get(column)?;
    raw.map(|raw| parse(&raw).ok_or_else(|| invalid(column)))
        .transpose()
}

/// A stored timestamp column.
pub fn time(row: &AnyRow, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    parsed(row, column, parse_timestamp)
}

/// A nullable stored timestamp column.
pub fn time_opt(row: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    parsed_opt(row, column, parse_timestamp)
}

fn invalid(column: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: "a value the application does not know".into(),
    }
}

/// True when the error is a unique-constraint violation (a race lost to another insert).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// The backends whose migrations have no line naming `column` with exactly `allowed` (such as
/// `('nb', 'nn', 'en')`): the test that a type's names are the ones the database allows.
#[cfg(test)]
pub(crate) fn backends_not_limiting(column: &str, allowed: &str) -> Vec<&'static str> {
    ["postgres", "sqlite"]
        .into_iter()
        .filter(|backend| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend);
            !std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
                .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
                .any(|sql| {
                    sql.lines()
                        .any(|line| line.contains(column) && line.contains(allowed))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_a_fixed_width_and_round_trip() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .to_utc();
        let text = timestamp(at);
        assert_eq!(text, "2026-01-02T03:04:05.000000Z");
        assert_eq!(parse_timestamp(&text), Some(at));
    }

    #[test]
    fn sqlite_urls_get_create_mode_and_keep_their_options() {
        let dir = std::env::temp_dir().join(format!("rrh-url-test-{}", uuid::Uuid::new_v4()));
        let file = dir.join("x.db");
        let url = prepare_sqlite_url(&format!("sqlite:{}", file.display())).unwrap();
        assert!(url.ends_with("x.db?mode=rwc"), "{url}");
        assert!(dir.is_dir());
        let url = prepare_sqlite_url(&format!("sqlite://{}?mode=ro", file.display())).unwrap();
        assert!(url.ends_with("?mode=ro"), "{url}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
