//! Rate limits in the database, so they hold across several app instances.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Conn, Db, sha256_hex, time, timestamp};

/// Throttle keys: hashed so the table holds neither login names nor addresses.
pub fn key(kind: &str, value: &str) -> String {
    sha256_hex(&format!("{kind}:{}", value.trim().to_lowercase()))
}

/// Longer than the longest window any limit uses.
const CLEANUP_AFTER: chrono::Duration = chrono::Duration::days(1);

/// [`count`] on its own, before the limited work starts: each statement commits by itself,
/// on a connection whose commits do not wait for the disk.
///
/// A key's row is locked from its update to that update's commit. In a transaction of its
/// own (update, clean-up, commit: three round trips) that waited for its WAL flush on
/// PostgreSQL, every attempt from one address (eight clients submitting orders, say) queued
/// behind the one before it: the most frequent wait in `pg_stat_activity` under that load.
/// The count is seen by the next attempt at once either way; a crash can forget the last
/// fraction of a second of counts, which lets at most a few more attempts through.
pub async fn count_alone(
    db: &Db,
    keys: &[(String, i64)],
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<Option<i64>, sqlx::Error> {
    let _turn = db.write_turn().await;
    let mut conn = db.acquire_for_counts().await?;
    count(&mut conn, keys, now, window).await
}

/// Counts an attempt against each key (with how many attempts it may have per window) before
/// the limited work is done; the increment is one statement, so simultaneous attempts are
/// all counted. Returns, if any key is over its limit, the whole minutes
/// (at least one) until the attempt may be made again; such an attempt must not be carried
/// out.
pub async fn count(
    conn: &mut Conn,
    keys: &[(String, i64)],
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<Option<i64>, sqlx::Error> {
    let window_start = timestamp(now - window);
    let mut retry_at: Option<DateTime<Utc>> = None;
    let mut window_started = false;
    for (key, limit) in keys {
        // The increment happens in the database, so concurrent attempts cannot overwrite
        // each other's count; an expired window starts over.
        let row = sqlx::query(
            "INSERT INTO rate_limits (key, attempts, window_start) VALUES ($1, 1, $2)
             ON CONFLICT (key) DO UPDATE SET
                attempts = CASE WHEN rate_limits.window_start < $3 THEN 1
                                ELSE rate_limits.attempts + 1 END,
                window_start = CASE WHEN rate_limits.window_start < $3 THEN $2
                                    ELSE rate_limits.window_start END
             RETURNING attempts, window_start",
        )
        .bind(key)
        .bind(timestamp(now))
        .bind(&window_start)
        .fetch_one(&mut *conn)
        .await?;
        let attempts: i64 = row.try_get("attempts")?;
        let started = time(&row, "window_start")?;
        window_started |= attempts == 1;
        if attempts > *limit {
            let until = started + window;
            if retry_at.is_none_or(|r| until > r) {
                retry_at = Some(until);
            }
        }
    }
    // Rows whose window ended long ago, so guessed names and addresses do not pile up. The
    // horizon is longer than any limit's window: one limit must not clear another's counts.
    // Only rows that start a window add to the table, so only they clear it: a burst from
    // one address costs a statement per attempt, not two.
    if window_started {
        sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
            .bind(timestamp(now - CLEANUP_AFTER))
            .execute(&mut *conn)
            .await?;
    }
    Ok(retry_at.map(|until| (((until - now).num_seconds() + 59) / 60).max(1)))
}

/// Whether a next attempt would be over a limit, counting nothing: a look before work that is
/// counted later, in the transaction that does it. The same answer as [`count`].
pub async fn over(
    conn: &mut Conn,
    keys: &[(String, i64)],
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<Option<i64>, sqlx::Error> {
    let mut retry_at: Option<DateTime<Utc>> = None;
    for (key, limit) in keys {
        let row = sqlx::query(
            "SELECT attempts, window_start FROM rate_limits WHERE key = $1 AND window_start >= $2",
        )
        .bind(key)
        .bind(timestamp(now - window))
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { continue };
        let attempts: i64 = row.try_get("attempts")?;
        if attempts >= *limit {
            let until = time(&row, "window_start")? + window;
            if retry_at.is_none_or(|r| until > r) {
                retry_at = Some(until);
            }
        }
    }
    Ok(retry_at.map(|until| (((until - now).num_seconds() + 59) / 60).max(1)))
}

/// A successful login clears the account's count and takes its own attempt off the
/// address's, so colleagues who log in fine never use up their office's allowance.
pub async fn forgive_login(
    conn: &mut Conn,
    account_key: &str,
    address_key: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM rate_limits WHERE key = $1")
        .bind(account_key)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE rate_limits SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0")
        .bind(address_key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
