//! Queries on `users`, `sessions` and `login_failures`.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{Conn, is_unique_violation, parsed, sha256_hex, time, timestamp};
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
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, sqlx::Error> {
    let disabled: Option<String> = row.try_get("disabled_at")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: parsed(row, "role", Role::parse)?,
        disabled: disabled.is_some(),
    })
}

pub async fn create(
    conn: &mut Conn,
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
    .execute(&mut *conn)
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
pub async fn find_for_login(
    conn: &mut Conn,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, email, name, role, disabled_at, password_hash FROM users WHERE email = $1",
    )
    .bind(email.trim().to_lowercase())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
        .transpose()
}

/// A new password. The caller ends the account's sessions in the same transaction.
pub async fn set_password(
    conn: &mut Conn,
    user_id: &str,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Disables the account (its name stays on the events it caused); the caller ends its sessions.
pub async fn disable(conn: &mut Conn, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2")
        .bind(timestamp(Utc::now()))
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The id of the account with this email address.
pub async fn id_for_email(conn: &mut Conn, email: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(conn)
        .await
}

/// Ends every session of the account.
pub async fn end_sessions(conn: &mut Conn, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every user's name by id, for showing who did what and who has an order.
pub async fn names(
    conn: &mut Conn,
) -> Result<std::collections::HashMap<String, String>, sqlx::Error> {
    Ok(all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

/// Every account, by name.
pub async fn all(conn: &mut Conn) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query("SELECT id, email, name, role, disabled_at FROM users ORDER BY name, email")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(user_from_row)
        .collect()
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
    conn: &mut Conn,
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
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The session for a cookie value, whatever its age; the caller applies the timeouts.
pub async fn find_session(conn: &mut Conn, token: &str) -> Result<Option<Session>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, u.role, u.disabled_at, s.csrf_token, s.created_at,
                s.last_seen_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = $1",
    )
    .bind(sha256_hex(token))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Session {
        user: user_from_row(&row)?,
        csrf_token: row.try_get("csrf_token")?,
        created_at: time(&row, "created_at")?,
        last_seen_at: time(&row, "last_seen_at")?,
    }))
}

pub async fn touch_session(conn: &mut Conn, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(timestamp(Utc::now()))
        .bind(sha256_hex(token))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes sessions past either timeout, so abandoned ones do not pile up.
pub async fn delete_expired_sessions(
    conn: &mut Conn,
    idle_cutoff: DateTime<Utc>,
    created_cutoff: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(timestamp(idle_cutoff))
        .bind(timestamp(created_cutoff))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn end_session(conn: &mut Conn, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(sha256_hex(token))
        .execute(&mut *conn)
        .await?;
    Ok(())
}
