//! The mail outbox for admins: what is waiting, sent or failed (addressing only, never
//! bodies), and a retry for failed messages.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::session::Admin;
use crate::app::{self, Context, MailSummary};
use crate::mail::MailState;
use crate::web::csrf;
use crate::web::error::{AppError, html};
use crate::web::extract::{Form, Visit};
use crate::web::see_other;
use crate::web::view::{Page, display_time, iso_time, mail_state_label};

/// The tabs; `pending` includes the messages being sent.
const TABS: [MailState; 3] = [MailState::Failed, MailState::Pending, MailState::Sent];
const LIMIT: i64 = 200;

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    page: Page,
    current: &'static str,
    tabs: Vec<(&'static str, String, i64)>,
    mails: Vec<MailLine>,
    notice: Option<&'static str>,
    csrf_token: String,
    limit: i64,
}

/// One message as the outbox lists it: addressing and state, never the body.
struct MailLine {
    id: String,
    created: String,
    created_iso: String,
    reference: Option<String>,
    to: String,
    subject: String,
    attempts: i64,
    sent: Option<String>,
    last_error: Option<String>,
    /// Offered for sending again.
    failed: bool,
}

impl MailLine {
    fn new(mail: MailSummary) -> Self {
        MailLine {
            created: display_time(mail.created_at),
            created_iso: iso_time(mail.created_at),
            sent: mail.sent_at.map(display_time),
            failed: mail.status == MailState::Failed,
            to: mail.to.join(", "),
            id: mail.id,
            reference: mail.order_reference,
            subject: mail.subject,
            attempts: mail.attempts,
            last_error: mail.last_error,
        }
    }
}

/// The tab the query names (`status`), failed messages by default.
fn tab(query: &HashMap<String, String>) -> Result<MailState, AppError> {
    match query.get("status").map(String::as_str) {
        None | Some("") => Ok(MailState::Failed),
        Some(raw) => MailState::parse(raw)
            .filter(|state| TABS.contains(state))
            .ok_or(AppError::BadRequest("admin.outbox.bad_status")),
    }
}

pub async fn page(
    admin: Admin,
    visit: Visit,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let current = tab(&query)?;
    let (tr, ctx) = (visit.tr(), &visit.ctx);
    let counts = app::outbox::counts(ctx).await?;
    let count = |tab: MailState| -> i64 {
        counts
            .iter()
            .filter(|(s, _)| *s == tab || (tab == MailState::Pending && *s == MailState::Sending))
            .map(|(_, n)| n)
            .sum()
    };
    let tabs = TABS
        .into_iter()
        .map(|t| (t.as_str(), mail_state_label(tr, t).to_owned(), count(t)))
        .collect();
    let notice = match query.get("done").map(String::as_str) {
        Some("retry") => Some("admin.outbox.retried"),
        Some("not_failed") => Some("admin.outbox.not_failed"),
        _ => None,
    };
    let page = OutboxPage {
        page: Page::workspace(
            tr,
            tr.t("admin.outbox.title"),
            "/admin/outbox",
            admin.0.nav(),
        ),
        current: current.as_str(),
        tabs,
        mails: app::outbox::list(ctx, current, LIMIT)
            .await?
            .into_iter()
            .map(MailLine::new)
            .collect(),
        notice,
        csrf_token: admin.0.csrf_token.clone(),
        limit: LIMIT,
    };
    html(StatusCode::OK, &page)
}

/// An admin puts a failed message back in the queue. The role is checked before the form,
/// so a case handler is told the page is for admins whatever the form carried.
pub async fn retry(
    admin: Admin,
    ctx: web::Data<Context>,
    path: web::Path<String>,
    form: Form,
) -> Result<HttpResponse, AppError> {
    admin.0.check_csrf(form.get(csrf::FIELD))?;
    let id = uuid::Uuid::parse_str(&path).map_err(|_| AppError::NotFound)?;
    let done = if app::outbox::retry(&ctx, id).await? {
        "retry"
    } else {
        "not_failed"
    };
    Ok(see_other(format!(
        "/admin/outbox?status=failed&done={done}"
    )))
}
