//! `/track`: a contact asks for their private links again.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::app::contacts::{self, ResendError};
use crate::domain::EmailAddress;
use crate::web::error::{AppError, html, with_cookie};
use crate::web::extract::{Form, Visit};
use crate::web::view::{FormView, Page, field_message, wait_message};
use crate::web::{client_key, csrf, see_other};

#[derive(Template)]
#[template(path = "track/resend.html")]
struct ResendPage {
    page: Page,
    form: FormView,
    csrf_token: String,
    sent: bool,
}

fn resend_page(
    visit: &Visit,
    form: FormView,
    sent: bool,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let tr = visit.tr();
    let (csrf_token, cookie) = csrf::issue_for(&visit.req, &visit.ctx);
    let page = Page::new(tr, tr.t("resend.title"), Some("/track")).with_form(&form);
    let view = ResendPage {
        page,
        form,
        csrf_token,
        sent,
    };
    with_cookie(html(status, &view)?, cookie)
}

pub async fn resend_form(
    visit: Visit,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let sent = query.contains_key("sent");
    resend_page(&visit, FormView::default(), sent, StatusCode::OK)
}

/// Sends new links to the address if it is a contact's; the answer is the same either way,
/// so the form tells nobody whose address is in an order.
pub async fn resend(visit: Visit, values: Form) -> Result<HttpResponse, AppError> {
    let (tr, req, ctx) = (visit.tr(), &visit.req, &visit.ctx);
    let raw = values.get("contact_email");
    let mut form = FormView::default();
    form.set("contact_email", raw.trim());
    let answer = |form, status| resend_page(&visit, form, false, status);
    if !csrf::form_ok(req, ctx, &values) {
        form.add_error("contact_email", tr.t("error.form_expired").to_owned());
        return answer(form, StatusCode::FORBIDDEN);
    }
    let email = match EmailAddress::parse(raw) {
        Ok(email) => email,
        Err(error) => {
            form.add_error("contact_email", field_message(tr, "contact_email", &error));
            return answer(form, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let client = client_key(req, ctx);
    match contacts::reissue_links(ctx, &email, visit.lang.0, &client).await {
        Ok(()) => Ok(see_other("/track?sent=1")),
        Err(ResendError::Throttled { minutes }) => {
            let message = wait_message(tr, "resend.throttled", minutes);
            form.add_error("contact_email", message);
            answer(form, StatusCode::TOO_MANY_REQUESTS)
        }
        Err(other) => Err(other.into()),
    }
}
