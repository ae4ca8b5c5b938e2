//! Queries on `users`, `sessions` and `login_failures`.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use super::{Db, is_unique_violation, parse_timestamp, timestamp};
use crate::auth::Role;

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
}

impl User {
    /// How events name this user.
    pub fn actor(&self) -> String {
        format!("user:{}", self.id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("an account with that email address exists already")]
    Exists,
    #[error("no account with that email address")]
    NotFound,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    let role: String = row.try_get("role")?;
    let disabled: Option<String> = row.try_get("disabled_at")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "role".into(),
            source: "unknown role".into(),
        })?,
        disabled: disabled.is_some(),
    })
}

pub async fn create(
    db: &Db,
    email: &str,
    name: &str,
    role: Role,
    password_hash: &str,
) -> Result<User, UserError> {
    let id = Uuid::now_v7().to_string();
    let email = email.trim().to_lowercase();
    let result = sqlx::query(
        "INSERT INTO users (id, email, name, role, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&email)
    .bind(name.trim())
    .bind(role.as_str())
    .bind(password_hash)
    .bind(timestamp(Utc::now()))
    .execute(db.pool())
    .await;
    match result {
        Ok(_) => Ok(User {
            id,
            email,
            name: name.trim().to_owned(),
            role,
            disabled: false,
        }),
        Err(err) if is_unique_violation(&err) => Err(UserError::Exists),
        Err(err) => Err(err.into()),
    }
}

/// The account and its password hash, for login.
pub async fn find_for_login(db: &Db, email: &str) -> Result<Option<(User, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, name, role, disabled_at, password_hash FROM users WHERE email = $1",
    )
    .bind(email.trim().to_lowercase())
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
        .transpose()
}

pub async fn set_password(db: &Db, email: &str, password_hash: &str) -> Result<(), UserError> {
    let mut tx = db.begin_write().await?;
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(&mut *tx)
        .await?;
    let id = id.ok_or(UserError::NotFound)?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    // A new password ends every session opened with the old one.
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables the account and ends its sessions; its name stays on the events it caused.
pub async fn disable(db: &Db, email: &str) -> Result<(), UserError> {
    let mut tx = db.begin_write().await?;
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(&mut *tx)
        .await?;
    let id = id.ok_or(UserError::NotFound)?;
    sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2")
        .bind(timestamp(Utc::now()))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Names of users by id, for showing who did what.
pub async fn all(db: &Db) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query("SELECT id, email, name, role, disabled_at FROM users ORDER BY name, email")
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(user_from_row)
        .collect()
}

fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// A logged-in user's session as read for a request.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// Starts a session for `user_id`; the returned token goes into the cookie and is stored
/// only as a hash.
pub async fn start_session(
    db: &Db,
    user_id: &str,
    token: &str,
    csrf_token: &str,
) -> Result<(), sqlx::Error> {
    let now = timestamp(Utc::now());
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(sha256_hex(token))
    .bind(user_id)
    .bind(csrf_token)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The session for a cookie value, whatever its age; the caller applies the timeouts.
pub async fn find_session(db: &Db, token: &str) -> Result<Option<Session>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.role, u.disabled_at, s.csrf_token, s.created_at,
                s.last_seen_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = $1",
    )
    .bind(sha256_hex(token))
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let time = |column: &str| -> Result<DateTime<Utc>, sqlx::Error> {
        let text: String = row.try_get(column)?;
        parse_timestamp(&text).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: column.into(),
            source: "not a timestamp".into(),
        })
    };
    Ok(Some(Session {
        user: user_from_row(&row)?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: time("created_at")?,
        last_seen_at: time("last_seen_at")?,
    }))
}

pub async fn touch_session(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(timestamp(Utc::now()))
        .bind(sha256_hex(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Deletes sessions past either timeout, so abandoned ones do not pile up.
pub async fn delete_expired_sessions(
    db: &Db,
    idle_cutoff: DateTime<Utc>,
    created_cutoff: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(timestamp(idle_cutoff))
        .bind(timestamp(created_cutoff))
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn end_session(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(sha256_hex(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Throttle keys: hashed so the table holds neither login names nor addresses.
pub fn failure_key(kind: &str, value: &str) -> String {
    sha256_hex(&format!("{kind}:{}", value.trim().to_lowercase()))
}

/// When any of `keys` is blocked, the moment the block ends.
pub async fn blocked_until(
    db: &Db,
    keys: &[String],
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let mut latest: Option<DateTime<Utc>> = None;
    for key in keys {
        let until: Option<Option<String>> =
            sqlx::query_scalar("SELECT blocked_until FROM login_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(db.pool())
                .await?;
        if let Some(until) = until.flatten().and_then(|t| parse_timestamp(&t))
            && until > now
            && latest.is_none_or(|l| until > l)
        {
            latest = Some(until);
        }
    }
    Ok(latest)
}

/// Counts a failed login against each key (with the failures it may have before it is
/// blocked); failures older than the window start over.
pub async fn record_failure(
    db: &Db,
    keys: &[(String, i64)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let window_start =
        now - chrono::Duration::from_std(crate::auth::FAILURE_WINDOW).unwrap_or_default();
    let mut tx = db.begin_write().await?;
    for (key, free) in keys {
        let row =
            sqlx::query("SELECT failures, first_failed_at FROM login_failures WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        let failures = match row {
            Some(row) => {
                let first: String = row.try_get("first_failed_at")?;
                let recent = parse_timestamp(&first).is_some_and(|t| t > window_start);
                if recent {
                    row.try_get::<i64, _>("failures")? + 1
                } else {
                    1
                }
            }
            None => 1,
        };
        let blocked = crate::auth::block_after(failures, *free)
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| timestamp(now + d));
        let first = if failures == 1 {
            Some(timestamp(now))
        } else {
            None
        };
        sqlx::query(
            "INSERT INTO login_failures (key, failures, first_failed_at, blocked_until)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (key) DO UPDATE SET failures = $2,
                first_failed_at = COALESCE($5, login_failures.first_failed_at),
                blocked_until = $4",
        )
        .bind(key)
        .bind(failures)
        .bind(timestamp(now))
        .bind(blocked)
        .bind(first)
        .execute(&mut *tx)
        .await?;
    }
    // Forget failures nobody is blocked by any more, so guessed names do not pile up.
    sqlx::query(
        "DELETE FROM login_failures
         WHERE first_failed_at < $1 AND (blocked_until IS NULL OR blocked_until < $2)",
    )
    .bind(timestamp(window_start))
    .bind(timestamp(now))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A successful login forgets the account's failures (not the address's: one good password
/// must not reopen guessing at other accounts from the same address).
pub async fn clear_failures(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(key)
        .execute(db.pool())
        .await?;
    Ok(())
}
