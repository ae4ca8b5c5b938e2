//! The mail outbox for admins: what is waiting, sent or failed (addressing only, never
//! bodies), a page at a time; a retry for one failed message or for all of them (of a kind),
//! and how long the oldest waiting message has waited.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::session::Admin;
use crate::app::{self, Context, MailSummary};
use crate::i18n::Tr;
use crate::mail::MailState;
use crate::web::csrf;
use crate::web::error::{AppError, html};
use crate::web::extract::{Form, StaffForm, Visit};
use crate::web::see_other;
use crate::web::view::{Page, display_time, iso_time, mail_state_label};

/// The tabs; `pending` includes the messages being sent.
const TABS: [MailState; 3] = [MailState::Failed, MailState::Pending, MailState::Sent];
/// Messages per page.
const PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    page: Page,
    current: &'static str,
    tabs: Vec<(&'static str, String, i64)>,
    mails: Vec<MailLine>,
    notice: Option<String>,
    csrf_token: String,
    /// The page's number, from 1.
    page_number: i64,
    previous_link: Option<String>,
    next_link: Option<String>,
    /// "Oldest waiting: 3 min", when a message is waiting.
    oldest_pending: Option<String>,
    /// Failed messages in all, for the "send all again" button (hidden at zero).
    failed: i64,
    /// The kinds of the failed messages with their counts, for narrowing "send all again".
    failed_kinds: Vec<(String, i64)>,
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
    /// How many files were attached (their content is gone once sent, as the body is).
    attachments: i64,
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
            attachments: mail.attachments,
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

/// The page the query names (`page`, from 1), the first by default.
fn page_number(query: &HashMap<String, String>) -> Result<i64, AppError> {
    match query.get("page").map(String::as_str) {
        None | Some("") => Ok(1),
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or(AppError::BadRequest("admin.outbox.bad_page")),
    }
}

/// How long ago `since` was, in the largest whole unit: "40 s", "3 min", "2 h", "5 days".
fn age(tr: Tr, since: chrono::DateTime<chrono::Utc>) -> String {
    let seconds = (chrono::Utc::now() - since).num_seconds().max(0);
    let (base, n) = match seconds {
        0..60 => ("admin.outbox.age_seconds", seconds),
        60..3600 => ("admin.outbox.age_minutes", seconds / 60),
        3600..172_800 => ("admin.outbox.age_hours", seconds / 3600),
        _ => ("admin.outbox.age_days", seconds / 86_400),
    };
    tr.plural(base, n)
}

pub async fn page(
    admin: Admin,
    visit: Visit,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let current = tab(&query)?;
    let number = page_number(&query)?;
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
        Some("retry") => Some(tr.t("admin.outbox.retried").to_owned()),
        Some("not_failed") => Some(tr.t("admin.outbox.not_failed").to_owned()),
        Some("retry_all") => {
            let n = query
                .get("n")
                .and_then(|n| n.parse::<i64>().ok())
                .unwrap_or(0);
            Some(if n == 0 {
                tr.t("admin.outbox.retried_none").to_owned()
            } else {
                tr.plural("admin.outbox.retried_all", n)
            })
        }
        _ => None,
    };
    // One more than a page: whether there is a next one.
    let mut mails: Vec<MailLine> =
        app::outbox::list(ctx, current, PAGE_SIZE + 1, (number - 1) * PAGE_SIZE)
            .await?
            .into_iter()
            .map(MailLine::new)
            .collect();
    let has_next = mails.len() as i64 > PAGE_SIZE;
    mails.truncate(PAGE_SIZE as usize);
    let link = |n: i64| format!("/admin/outbox?status={}&page={n}", current.as_str());
    let oldest_pending = app::outbox::oldest_pending(ctx)
        .await?
        .map(|since| tr.fill("admin.outbox.oldest_pending", &[("age", &age(tr, since))]));
    let page = OutboxPage {
        page: Page::workspace(
            tr,
            tr.t("admin.outbox.title"),
            "/admin/outbox",
            admin.0.nav(),
        ),
        current: current.as_str(),
        tabs,
        mails,
        notice,
        csrf_token: admin.0.csrf_token.clone(),
        page_number: number,
        previous_link: (number > 1).then(|| link(number - 1)),
        next_link: has_next.then(|| link(number + 1)),
        oldest_pending,
        failed: count(MailState::Failed),
        failed_kinds: app::outbox::failed_kinds(ctx).await?,
    };
    html(StatusCode::OK, &page)
}

/// An admin puts every failed message (of the kind the form names, or all) back in the
/// queue. The role is checked before the form, as for one message.
pub async fn retry_all(
    _admin: Admin,
    ctx: web::Data<Context>,
    posted: StaffForm,
) -> Result<HttpResponse, AppError> {
    let kind = Some(posted.form.get("kind")).filter(|kind| !kind.is_empty());
    let queued = app::outbox::retry_all(&ctx, kind).await?;
    Ok(see_other(format!(
        "/admin/outbox?status=failed&done=retry_all&n={queued}"
    )))
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
