//! Who is logged in: the session cookie, its timeouts, and the per-session CSRF token every
//! form under `/admin` carries.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{FromRequest, HttpRequest};
use subtle::ConstantTimeEq;

use crate::app::{User, accounts};
use crate::auth::Role;
use crate::web::error::AppError;
use crate::web::extract::context;
use crate::web::view::SessionNav;

pub const COOKIE: &str = "rrh_session";

/// A logged-in case handler (or admin); extracting it refuses anonymous requests.
#[derive(Debug, Clone)]
pub struct CaseHandler {
    pub user: User,
    pub csrf_token: String,
}

impl CaseHandler {
    /// Compares a submitted form token with the session's in constant time.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        let ok = submitted.len() == self.csrf_token.len()
            && bool::from(submitted.as_bytes().ct_eq(self.csrf_token.as_bytes()));
        if ok {
            Ok(())
        } else {
            Err(AppError::Forbidden("error_page.csrf"))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    pub fn nav(&self) -> SessionNav {
        SessionNav {
            name: self.user.name.clone(),
            is_admin: self.is_admin(),
            csrf_token: self.csrf_token.clone(),
        }
    }
}

/// An admin: a case handler with the admin role.
#[derive(Debug, Clone)]
pub struct Admin(pub CaseHandler);

fn login_target(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET {
        match req.query_string() {
            "" => req.path().to_owned(),
            query => format!("{}?{query}", req.path()),
        }
    } else {
        // A form sent after the session ran out: back to the page it came from (an order),
        // taken from this site's own Referer; login checks it is a workspace path.
        req.headers()
            .get(actix_web::http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| url::Url::parse(v).ok())
            .filter(|url| url.path().starts_with("/admin/orders/"))
            .map(|url| url.path().to_owned())
            .unwrap_or_else(|| "/admin/orders".into())
    }
}

async fn load(req: HttpRequest) -> Result<CaseHandler, AppError> {
    let target = login_target(&req);
    let ctx = context(&req)?;
    let Some(token) = req.cookie(COOKIE).map(|c| c.value().to_owned()) else {
        return Err(AppError::LoginRequired(target));
    };
    let Some(session) = accounts::session(&ctx, &token).await? else {
        return Err(AppError::LoginRequired(target));
    };
    let handler = CaseHandler {
        user: session.user,
        csrf_token: session.csrf_token,
    };
    crate::web::RequestContext::set_workspace(handler.nav());
    Ok(handler)
}

impl FromRequest for CaseHandler {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        Box::pin(load(req.clone()))
    }
}

impl FromRequest for Admin {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let handler = load(req).await?;
            if handler.is_admin() {
                Ok(Admin(handler))
            } else {
                Err(AppError::Forbidden("error_page.admin_only"))
            }
        })
    }
}

/// The session cookie: HttpOnly, only sent to `/admin`, `Secure` over HTTPS. `Lax` rather
/// than `Strict` so the link in the registry's email opens the case without a new login;
/// every change is a POST with a CSRF token anyway.
pub fn cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, token)
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .finish()
}

pub fn removal_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = cookie(String::new(), secure);
    cookie.set_max_age(CookieDuration::ZERO);
    cookie
}
