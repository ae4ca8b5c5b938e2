//! Login and logout. A login always starts a fresh session (the old one, if any, is ended),
//! failures are counted per account and per client address, and the answer to a failed login
//! is the same whether or not the account exists.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::session;
use crate::app::Context;
use crate::app::accounts::{self, LoginError};
use crate::web::error::{AppError, html, with_cookie};
use crate::web::extract::{Form, StaffForm, Visit};
use crate::web::view::{FormView, Page, wait_message};
use crate::web::{client_key, csrf, see_other};

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
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| {
        n.starts_with("/admin/") && !n.contains('\\') && n.bytes().all(|b| b.is_ascii_graphic())
    })
    .map(str::to_owned)
    .unwrap_or_else(|| "/admin/orders".into())
}

fn render(
    visit: &Visit,
    form: FormView,
    next: String,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (tr, (token, cookie)) = (visit.tr(), csrf::issue_for(&visit.req, &visit.ctx));
    let page = Page::new(tr, tr.t("admin.login.title"), Some("/admin/login")).with_form(&form);
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
    visit: Visit,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let notice = query
        .contains_key("logged_out")
        .then_some("admin.login.logged_out");
    let next = safe_next(query.get("next").map(String::as_str));
    let form = FormView::default();
    render(&visit, form, next, notice, StatusCode::OK)
}

pub async fn submit(visit: Visit, values: Form) -> Result<HttpResponse, AppError> {
    let (tr, req, ctx) = (visit.tr(), &visit.req, &visit.ctx);
    let email = values.get("email");
    let password = values.get("password");
    let next = safe_next(Some(values.get("next")));
    let mut form = FormView::default();
    form.set("email", email.trim());
    let answer = |form, status| render(&visit, form, next.clone(), None, status);

    if !csrf::form_ok(req, ctx, &values) {
        form.add_error("email", tr.t("error.form_expired").to_owned());
        return answer(form, StatusCode::FORBIDDEN);
    }
    if email.trim().is_empty() || password.is_empty() {
        if email.trim().is_empty() {
            form.add_error("email", tr.t("admin.login.email_required").to_owned());
        }
        if password.is_empty() {
            form.add_error("password", tr.t("admin.login.password_required").to_owned());
        }
        return answer(form, StatusCode::UNPROCESSABLE_ENTITY);
    }

    let client = client_key(req, ctx);
    let previous = req.cookie(session::COOKIE).map(|c| c.value().to_owned());
    let login = accounts::log_in(
        ctx,
        email,
        password.to_owned(),
        &client,
        previous.as_deref(),
    );
    match login.await {
        Ok(session) => with_cookie(
            see_other(next.clone()),
            Some(session::cookie(
                session.token,
                ctx.settings.secure_cookies(),
            )),
        ),
        Err(LoginError::Throttled { minutes }) => {
            form.add_error("email", wait_message(tr, "admin.login.throttled", minutes));
            answer(form, StatusCode::TOO_MANY_REQUESTS)
        }
        Err(LoginError::Refused) => {
            form.add_error("email", tr.t("admin.login.failed").to_owned());
            answer(form, StatusCode::UNAUTHORIZED)
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn logout(
    req: HttpRequest,
    ctx: web::Data<Context>,
    _posted: StaffForm,
) -> Result<HttpResponse, AppError> {
    if let Some(cookie) = req.cookie(session::COOKIE) {
        accounts::log_out(&ctx, cookie.value()).await?;
    }
    with_cookie(
        see_other("/admin/login?logged_out=1"),
        Some(session::removal_cookie(ctx.settings.secure_cookies())),
    )
}
