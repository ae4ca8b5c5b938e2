//! Case handlers' accounts and sessions: logging in and out, the session behind each
//! workspace request, and the command line's account changes.

use chrono::Utc;

use super::{Context, Failure, failure_converts_into};
use crate::auth::{self, Role};
use crate::store::rate_limit;
use crate::store::users::{self, Session, User, UserError};

/// Sessions are touched at most this often, so reading pages does not write on every request.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Too many attempts for this account or from this address; minutes to wait.
    #[error("too many login attempts")]
    Throttled { minutes: i64 },
    /// Unknown account, wrong password or disabled account: one answer for all three.
    #[error("login failed")]
    Refused,
    #[error(transparent)]
    Failed(#[from] Failure),
}
failure_converts_into!(LoginError);

/// A session that has just begun: its token goes into the cookie, only its hash is stored.
pub struct NewSession {
    pub token: String,
    pub user: User,
}

/// Logs a case handler in. Attempts are counted per account and per client address before
/// the password is checked; a success forgives them. The session the browser had before
/// (`previous`) ends, so a session id planted before login is worth nothing.
pub async fn log_in(
    ctx: &Context,
    email: &str,
    password: String,
    client_address: &str,
    previous: Option<&str>,
) -> Result<NewSession, LoginError> {
    let account_key = rate_limit::key("account", email);
    let address_key = rate_limit::key("address", client_address);
    let now = Utc::now();
    let window = chrono::Duration::from_std(auth::ATTEMPT_WINDOW).unwrap_or_default();
    let limits = [
        (account_key.clone(), auth::ATTEMPTS_PER_ACCOUNT),
        (address_key.clone(), auth::ATTEMPTS_PER_ADDRESS),
    ];
    if let Some(minutes) = rate_limit::count_alone(&ctx.db, &limits, now, window).await? {
        return Err(LoginError::Throttled { minutes });
    }

    let mut conn = ctx.db.acquire().await?;
    let found = users::find_for_login(&mut conn, email).await?;
    drop(conn);
    let hash = found
        .as_ref()
        .filter(|(user, _)| !user.disabled)
        .map(|(_, hash)| hash.clone());
    let verified = auth::verify_password(password, hash).await;
    let user = match found {
        Some((user, _)) if verified => user,
        _ => {
            tracing::info!("login failed");
            return Err(LoginError::Refused);
        }
    };

    let workspace = &ctx.settings.workspace;
    let idle = chrono::Duration::from_std(workspace.session_idle).unwrap_or_default();
    let max = chrono::Duration::from_std(workspace.session_max).unwrap_or_default();
    let token = auth::random_token();
    let mut tx = ctx.db.begin_write().await?;
    rate_limit::forgive_login(&mut tx, &account_key, &address_key).await?;
    if let Some(previous) = previous {
        users::end_session(&mut tx, previous).await?;
    }
    users::delete_expired_sessions(&mut tx, now - idle, now - max).await?;
    users::start_session(&mut tx, &user.id, &token, &auth::random_token()).await?;
    tx.commit().await?;
    tracing::info!(user = %user.id, "logged in");
    Ok(NewSession { token, user })
}

pub async fn log_out(ctx: &Context, token: &str) -> Result<(), Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(users::end_session(&mut conn, token).await?)
}

/// The live session a cookie's token names. A session past its idle or absolute timeout, or
/// of a disabled account, ends here and is `None`.
pub async fn session(ctx: &Context, token: &str) -> Result<Option<Session>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    let Some(session) = users::find_session(&mut conn, token).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    let workspace = &ctx.settings.workspace;
    let idle = chrono::Duration::from_std(workspace.session_idle).unwrap_or_default();
    let max = chrono::Duration::from_std(workspace.session_max).unwrap_or_default();
    if session.user.disabled || now - session.last_seen_at > idle || now - session.created_at > max
    {
        users::end_session(&mut conn, token).await?;
        return Ok(None);
    }
    if now - session.last_seen_at > TOUCH_EVERY {
        users::touch_session(&mut conn, token).await?;
    }
    Ok(Some(session))
}

/// Every account, by name.
pub async fn all(ctx: &Context) -> Result<Vec<User>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(users::all(&mut conn).await?)
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("an account with that email address exists already")]
    Exists,
    #[error("no account with that email address")]
    NotFound,
    #[error(transparent)]
    Failed(#[from] Failure),
}
failure_converts_into!(AccountError);

impl From<anyhow::Error> for AccountError {
    fn from(err: anyhow::Error) -> Self {
        AccountError::Failed(err.into())
    }
}

/// A new account; `password` has passed [`auth::check_password_rules`].
pub async fn add(
    ctx: &Context,
    email: &str,
    name: &str,
    role: Role,
    password: String,
) -> Result<User, AccountError> {
    let hash = auth::hash_password(password).await?;
    let mut conn = ctx.db.acquire().await?;
    users::create(&mut conn, email, name, role, &hash)
        .await
        .map_err(|err| match err {
            UserError::Exists => AccountError::Exists,
            UserError::Database(err) => err.into(),
        })
}

/// A new password; every session opened with the old one ends.
pub async fn set_password(
    ctx: &Context,
    email: &str,
    password: String,
) -> Result<(), AccountError> {
    let hash = auth::hash_password(password).await?;
    change(ctx, email, Change::Password(hash)).await
}

/// No more logins for the account; its sessions end, its name stays on what it did.
pub async fn disable(ctx: &Context, email: &str) -> Result<(), AccountError> {
    change(ctx, email, Change::Disable).await
}

enum Change {
    Password(String),
    Disable,
}

/// Applies `change` to the account with `email` and ends its sessions, in one transaction.
async fn change(ctx: &Context, email: &str, change: Change) -> Result<(), AccountError> {
    let mut tx = ctx.db.begin_write().await?;
    let id = users::id_for_email(&mut tx, email)
        .await?
        .ok_or(AccountError::NotFound)?;
    match change {
        Change::Password(hash) => users::set_password(&mut tx, &id, &hash).await?,
        Change::Disable => users::disable(&mut tx, &id).await?,
    }
    users::end_sessions(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(())
}
