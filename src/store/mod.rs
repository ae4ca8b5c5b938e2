//! Storage: one connection pool over SQLite (the embedded default) or PostgreSQL.
//!
//! Queries go through sqlx's `Any` driver with `$n` placeholders, which both databases
//! accept, so every query is written once. Where the databases really differ (DDL, row
//! locking, the queue's text search index) the code branches on [`Backend`]. Values crossing the driver are text and
//! 64-bit integers; timestamps are fixed-width UTC text so they sort and compare as strings.

pub mod events;
pub mod idempotency;
pub mod links;
pub mod orders;
pub mod outbox;
pub mod purge;
pub mod queue;
pub mod rate_limit;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
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

        let options = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            });
        let options = match backend {
            // WAL lets readers work while one writer commits; FULL syncs the WAL on every commit,
            // so an order acknowledged with 201 survives a power loss (NORMAL could roll it
            // back; FULL measured 7-9 ms per order against NORMAL's 4, far above the load);
            // foreign keys are off by default in SQLite; the busy timeout makes a writer wait
            // for the lock instead of failing.
            Backend::Sqlite => options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                    )
                    .await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options,
        };
        let pool = options
            .connect(&url)
            .await
            .with_context(|| format!("connecting to the {backend:?} database"))?;
        Ok(Db { pool, backend })
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
        Ok(())
    }

    /// A transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later cannot
    /// wait for the lock and would fail with "database is locked" under concurrent writers.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
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

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
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
