//! Login and logout. A login always starts a fresh session (the old one, if any, is ended),
//! failures are counted per account and per client address, and the answer to a failed login
//! is the same whether or not the account exists.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::session::{self, CaseHandler};
use super::{read_form, see_other};
use crate::store::{rate_limit, users};
use crate::web::error::{AppError, html, with_cookie};
use crate::web::lang::Language;
use crate::web::view::{FormView, Page};
use crate::web::{AppState, csrf};

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    page: Page,
    form: FormView,
    csrf_token: String,
    next: String,
    notice: Option<&'static str>,
}

/// Only local workspace paths are followed after login, never another site, and only plain
/// printable ASCII (a percent-encoded path is), so the value is always a valid header.
fn safe_next(next: Option<&String>) -> String {
    next.filter(|n| {
        n.starts_with("/admin/") && !n.contains('\\') && n.bytes().all(|b| b.is_ascii_graphic())
    })
    .cloned()
    .unwrap_or_else(|| "/admin/orders".into())
}

fn render(
    req: &HttpRequest,
    state: &AppState,
    lang: Language,
    form: FormView,
    next: String,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let tr = lang.tr();
    let (token, cookie) = state.issue_csrf(req);
    let mut page = Page::new(tr, tr.t("admin.login.title"), Some("/admin/login"));
    page.has_errors = form.has_errors();
    with_cookie(
        html(
            status,
            &LoginPage {
                page,
                form,
                csrf_token: token,
                next,
                notice,
            },
        )?,
        cookie,
    )
}

pub async fn form(
    req: HttpRequest,
    lang: Language,
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let notice = query
        .contains_key("logged_out")
        .then_some("admin.login.logged_out");
    render(
        &req,
        &state,
        lang,
        FormView::default(),
        safe_next(query.get("next")),
        notice,
        StatusCode::OK,
    )
}

pub async fn submit(
    req: HttpRequest,
    lang: Language,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let values = read_form(&req, payload, &state).await?;
    let tr = lang.tr();
    let email = values.get("email").cloned().unwrap_or_default();
    let password = values.get("password").cloned().unwrap_or_default();
    let next = safe_next(values.get("next"));
    let mut form = FormView::default();
    form.set("email", email.trim());

    if !state.csrf_ok(&req, &values) {
        form.add_error("email", tr.t("error.form_expired").to_owned());
        return render(&req, &state, lang, form, next, None, StatusCode::FORBIDDEN);
    }
    if email.trim().is_empty() || password.is_empty() {
        if email.trim().is_empty() {
            form.add_error("email", tr.t("admin.login.email_required").to_owned());
        }
        if password.is_empty() {
            form.add_error("password", tr.t("admin.login.password_required").to_owned());
        }
        return render(
            &req,
            &state,
            lang,
            form,
            next,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }

    let address = state.client_address(&req);
    let account_key = rate_limit::key("account", &email);
    let address_key = rate_limit::key("address", &address);
    let now = Utc::now();
    let window = chrono::Duration::from_std(crate::auth::ATTEMPT_WINDOW).unwrap_or_default();
    let limits = [
        (account_key.clone(), crate::auth::ATTEMPTS_PER_ACCOUNT),
        (address_key.clone(), crate::auth::ATTEMPTS_PER_ADDRESS),
    ];
    if let Some(minutes) = rate_limit::count(&state.db, &limits, now, window).await? {
        form.add_error(
            "email",
            tr.fill(
                "admin.login.throttled",
                &[("minutes", &minutes.to_string())],
            ),
        );
        return render(
            &req,
            &state,
            lang,
            form,
            next,
            None,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }

    let found = users::find_for_login(&state.db, &email).await?;
    let hash = found
        .as_ref()
        .filter(|(user, _)| !user.disabled)
        .map(|(_, hash)| hash.clone());
    let verified = crate::auth::verify_password(password, hash).await;
    let user = match found {
        Some((user, _)) if verified => user,
        _ => {
            tracing::info!("login failed");
            form.add_error("email", tr.t("admin.login.failed").to_owned());
            return render(
                &req,
                &state,
                lang,
                form,
                next,
                None,
                StatusCode::UNAUTHORIZED,
            );
        }
    };

    rate_limit::forgive_login(&state.db, &account_key, &address_key).await?;
    // A new session id at every login: a session id planted before login is worth nothing.
    if let Some(old) = req.cookie(session::COOKIE) {
        users::end_session(&state.db, old.value()).await?;
    }
    let workspace = &state.settings.workspace;
    users::delete_expired_sessions(
        &state.db,
        now - chrono::Duration::from_std(workspace.session_idle).unwrap_or_default(),
        now - chrono::Duration::from_std(workspace.session_max).unwrap_or_default(),
    )
    .await?;
    let session_token = csrf::random_hex();
    users::start_session(&state.db, &user.id, &session_token, &csrf::random_hex()).await?;
    tracing::info!(user = %user.id, "logged in");
    with_cookie(
        see_other(next),
        Some(session::cookie(
            session_token,
            state.settings.secure_cookies(),
        )),
    )
}

pub async fn logout(
    req: HttpRequest,
    user: CaseHandler,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let values = read_form(&req, payload, &state).await?;
    user.check_csrf(values.get(csrf::FIELD))?;
    if let Some(cookie) = req.cookie(session::COOKIE) {
        users::end_session(&state.db, cookie.value()).await?;
    }
    with_cookie(
        see_other("/admin/login?logged_out=1"),
        Some(session::removal_cookie(state.settings.secure_cookies())),
    )
}
