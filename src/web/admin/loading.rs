//! TT02 loading in batches: the confirmation page for the orders ticked on the queue (a GET,
//! so the queue's checkboxes work as a plain form), the request itself (a POST naming each
//! order's version as the confirmation page showed it), and the list's CSV for when no
//! mailbox takes it.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::Utc;

use actix_web::web;

use super::session::CaseHandler;
use crate::app::tt02_loading::{self, Batch, BatchError, LeftOut, MAX_ORDERS, Pick, Unloadable};
use crate::app::{LoadingList, NameSource, Order, normalise_reference};
use crate::domain::OrderStatus;
use crate::i18n::Tr;
use crate::mail::MailState;
use crate::web::error::{AppError, html};
use crate::web::extract::{Form, StaffForm, Visit};
use crate::web::see_other;
use crate::web::view::{FormView, Page, display_time, status_label};

pub const PATH: &str = "/admin/tt02-loading";
/// The field each selected order is sent in: a reference from the queue, `reference:version`
/// from the confirmation page.
const ORDER_FIELD: &str = "order";
/// The field the confirmation page sends its batch id in: made when the page is shown, so
/// the same confirmation sent twice is recognised as one batch.
const BATCH_FIELD: &str = "batch";
/// Where the error summary points when no order is named, or too many: the sentence
/// saying there is nothing to confirm.
const SELECTION_ID: &str = "selection";
/// The most left-out orders and values named one by one on the confirmation page.
const SHOWN_SKIPPED: usize = 10;
/// The queue filtered to what can be loaded.
const QUEUE_RECEIVED_TESTS: &str = "/admin/orders?status=received&environment=test";
/// The longest piece of a malformed value shown back.
const SHOWN_CHARS: usize = 40;

/// The orders a request names: normalised references, each once, in the order sent, and
/// the values that are no reference at all.
#[derive(Debug, Default, PartialEq, Eq)]
struct Selection {
    references: Vec<String>,
    malformed: Vec<String>,
}

fn selection<'a>(values: impl IntoIterator<Item = &'a str>) -> Selection {
    let mut selection = Selection::default();
    for value in values {
        if value.trim().is_empty() {
            continue;
        }
        match normalise_reference(value) {
            Some(reference) if !selection.references.contains(&reference) => {
                selection.references.push(reference)
            }
            Some(_) => {}
            None => selection
                .malformed
                .push(value.trim().chars().take(SHOWN_CHARS).collect()),
        }
    }
    selection
}

/// `reference:version` as the confirmation page sends each order; `None` if it is not.
fn pick(value: &str) -> Option<Pick> {
    let (reference, version) = value.split_once(':')?;
    Some(Pick {
        reference: normalise_reference(reference)?,
        version: version.trim().parse().ok().filter(|v| *v > 0)?,
    })
}

/// One order as the batch pages list it.
struct OrderLine {
    reference: String,
    version: i64,
    vendor: String,
    consumer: String,
}

impl OrderLine {
    fn new(order: &Order) -> Self {
        OrderLine {
            reference: order.reference.clone(),
            version: order.version,
            vendor: order.vendor_org_name.clone(),
            consumer: order.consumer_org_name.clone(),
        }
    }
}

/// One organisation of the list, with why its name is not the register's when it is not.
struct OrganisationLine {
    org_number: String,
    name: String,
    source: &'static str,
    name_note: Option<&'static str>,
    /// What the register warns about it (its code, and the note to show).
    warning: Option<(&'static str, &'static str)>,
    references: Vec<String>,
}

fn organisation_lines(tr: Tr, list: &LoadingList) -> Vec<OrganisationLine> {
    list.organisations
        .iter()
        .map(|o| OrganisationLine {
            org_number: o.org_number.clone(),
            name: o.name.clone(),
            source: o.source.as_str(),
            name_note: (o.source != NameSource::Register)
                .then(|| tr.t(&format!("admin.loading.name_{}", o.source.as_str()))),
            warning: o.warning.map(|w| {
                let code = w.as_str();
                (code, tr.t(&format!("admin.loading.warning_{code}")))
            }),
            references: o.references.clone(),
        })
        .collect()
}

fn unloadable_message(tr: Tr, reference: &str, why: Unloadable) -> String {
    match why {
        Unloadable::Unknown => tr.fill("admin.loading.unknown", &[("reference", reference)]),
        Unloadable::Production => tr.fill("admin.loading.production", &[("reference", reference)]),
        Unloadable::NotReceived(status) => tr.fill(
            "admin.loading.not_received",
            &[
                ("reference", reference),
                ("status", status_label(tr, status)),
            ],
        ),
    }
}

#[derive(Template)]
#[template(path = "admin/tt02_loading.html")]
struct ConfirmPage {
    page: Page,
    form: FormView,
    csrf_token: String,
    batch: String,
    mailbox: Option<String>,
    orders: Vec<OrderLine>,
    organisations: Vec<OrganisationLine>,
    /// What is left out, as listed (at most [`SHOWN_SKIPPED`] and a count of the rest).
    skipped: Vec<SkippedLine>,
    skipped_total: usize,
    queue_link: &'static str,
    status_loading: &'static str,
}

/// An order (or a value) the confirmation leaves out, with the id of its line on the page,
/// which the summary links to.
struct SkippedLine {
    id: String,
    message: String,
}

/// The lines of what is left out: the first [`SHOWN_SKIPPED`] named, the rest counted in
/// one more line, so a request with thousands of bad values stays a page, not megabytes.
fn skipped_lines(tr: Tr, total: usize, messages: impl Iterator<Item = String>) -> Vec<SkippedLine> {
    let mut lines: Vec<SkippedLine> = messages
        .take(SHOWN_SKIPPED)
        .enumerate()
        .map(|(i, message)| SkippedLine {
            id: format!("left-out-{}", i + 1),
            message,
        })
        .collect();
    if total > lines.len() {
        let more = (total - lines.len()).to_string();
        lines.push(SkippedLine {
            id: "left-out-more".to_owned(),
            message: tr.fill("admin.loading.more_left_out", &[("n", &more)]),
        });
    }
    lines
}

/// The confirmation page for the orders ticked on the queue: the organisations to load and
/// the orders that will move. What cannot be loaded is listed apart, each line with an id;
/// when some orders can still be confirmed a notice (not an error) links to those lines, and
/// when none can, the error summary does and the answer is 422.
pub async fn confirm_page(user: CaseHandler, visit: Visit) -> Result<HttpResponse, AppError> {
    let (tr, ctx) = (visit.tr(), &visit.ctx);
    let query = Form::parse(visit.req.query_string().as_bytes()).checked()?;
    let selection = selection(query.all(ORDER_FIELD));
    let mut form = FormView::default();
    let count = selection.references.len();
    let preview = if count > MAX_ORDERS {
        let (max, n) = (MAX_ORDERS.to_string(), count.to_string());
        let message = tr.fill("admin.loading.too_many", &[("max", &max), ("n", &n)]);
        form.add_error(SELECTION_ID, message);
        None
    } else if count > 0 {
        Some(tt02_loading::preview(ctx, &selection.references).await?)
    } else {
        None
    };
    let problems = preview.as_ref().map_or(&[][..], |p| &p.problems[..]);
    let malformed = selection
        .malformed
        .iter()
        .map(|value| tr.fill("admin.loading.malformed", &[("value", value)]));
    let unloadable = problems
        .iter()
        .map(|(reference, why)| unloadable_message(tr, reference, *why));
    let total = selection.malformed.len() + problems.len();
    let skipped = skipped_lines(tr, total, malformed.chain(unloadable));
    let (orders, organisations) = match &preview {
        Some(preview) => {
            let orders: Vec<OrderLine> = preview.orders.iter().map(OrderLine::new).collect();
            (orders, organisation_lines(tr, &preview.list))
        }
        None => (Vec::new(), Vec::new()),
    };
    if orders.is_empty() {
        if count == 0 && skipped.is_empty() {
            form.add_error(SELECTION_ID, tr.t("admin.loading.none_selected").to_owned());
        }
        for line in &skipped {
            form.add_error(&line.id, line.message.clone());
        }
        form.next = Some((QUEUE_RECEIVED_TESTS, "admin.loading.back_to_queue"));
    }
    let status = if orders.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    // The language switch keeps the selection (and only that).
    let path = with_orders(PATH, &selection.references);
    let title = tr.t("admin.loading.title");
    let page = ConfirmPage {
        page: Page::workspace(tr, title, &path, user.nav()).with_form(&form),
        form,
        csrf_token: user.csrf_token.clone(),
        batch: uuid::Uuid::now_v7().to_string(),
        mailbox: ctx.settings.mail.altinn_loading_mailbox.clone(),
        orders,
        organisations,
        skipped,
        skipped_total: total,
        queue_link: QUEUE_RECEIVED_TESTS,
        status_loading: status_label(tr, OrderStatus::Tt02Loading),
    };
    html(status, &page)
}

/// An order left out of the batch, and why.
struct LeftOutLine {
    reference: String,
    why: String,
}

fn left_out_lines(tr: Tr, left_out: &[(String, LeftOut)]) -> Vec<LeftOutLine> {
    left_out
        .iter()
        .map(|(reference, why)| LeftOutLine {
            reference: reference.clone(),
            why: match why {
                LeftOut::Changed(status) => tr.fill(
                    "admin.loading.changed",
                    &[
                        ("reference", reference),
                        ("status", status_label(tr, *status)),
                    ],
                ),
                LeftOut::Unloadable(why) => unloadable_message(tr, reference, *why),
            },
        })
        .collect()
}

/// What became of the list's email: `data-mail` on the page, and the sentence saying so.
struct MailLine {
    state: &'static str,
    text: String,
}

fn mail_line(tr: Tr, batch: &Batch) -> MailLine {
    let Some(mail) = &batch.mail else {
        let key = if batch.mailed {
            "admin.loading.mail_gone"
        } else {
            "admin.loading.not_mailed"
        };
        let state = if batch.mailed { "gone" } else { "none" };
        return MailLine {
            state,
            text: tr.t(key).to_owned(),
        };
    };
    let to = mail.to.join(", ");
    let (state, key) = match mail.status {
        MailState::Pending | MailState::Sending => ("queued", "admin.loading.mail_queued"),
        MailState::Sent => ("sent", "admin.loading.mail_sent"),
        MailState::Failed => ("failed", "admin.loading.mail_failed"),
    };
    let at = mail.sent_at.map(display_time).unwrap_or_default();
    MailLine {
        state,
        text: tr.fill(key, &[("mailbox", &to), ("time", &at)]),
    }
}

#[derive(Template)]
#[template(path = "admin/tt02_loading_done.html")]
struct DonePage {
    page: Page,
    moved: Vec<OrderLine>,
    left_out: Vec<LeftOutLine>,
    organisations: Vec<OrganisationLine>,
    /// What became of the email; `None` when nothing moved.
    mail: Option<MailLine>,
    /// The list to copy, whether or not it was mailed: the email may fail.
    list_text: String,
    list_rows: usize,
    download_link: String,
    has_given_names: bool,
    status_loading: &'static str,
    queue_link: &'static str,
}

/// The picks the confirmation page sent; a request it could not have made is a 400.
fn picks(form: &Form) -> Result<Vec<Pick>, AppError> {
    let values = form.all(ORDER_FIELD);
    if values.is_empty() {
        return Err(AppError::BadRequest("admin.loading.none_selected"));
    }
    if values.len() > MAX_ORDERS {
        return Err(AppError::BadRequest("admin.loading.bad_request"));
    }
    values
        .into_iter()
        .map(|value| pick(value).ok_or(AppError::BadRequest("admin.loading.bad_request")))
        .collect()
}

/// The batch id the confirmation page was given, as the canonical UUID text.
fn batch_id(raw: &str) -> Option<String> {
    uuid::Uuid::parse_str(raw.trim())
        .ok()
        .map(|id| id.hyphenated().to_string())
}

/// The result page of the batch `batch`.
fn batch_path(batch: &str) -> String {
    format!("{PATH}/{batch}")
}

impl From<BatchError> for AppError {
    fn from(err: BatchError) -> Self {
        match err {
            BatchError::NotFound(_) | BatchError::Repeated => {
                AppError::BadRequest("admin.loading.bad_request")
            }
            BatchError::NotTest(_) => AppError::BadRequest("admin.loading.bad_list"),
            BatchError::Failed(failure) => failure.into(),
        }
    }
}

/// The confirmed batch, under the id its confirmation page gave it: a 303 to the batch's
/// result page, so a reload shows the page again instead of posting again. The same
/// confirmation posted twice (a double click) does the batch once and ends on the same page.
/// 409 with the reasons when every order had moved on (nothing was stored or mailed).
pub async fn request(visit: Visit, posted: StaffForm) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = posted;
    let (tr, ctx) = (visit.tr(), &visit.ctx);
    let batch =
        batch_id(form.get(BATCH_FIELD)).ok_or(AppError::BadRequest("admin.loading.bad_request"))?;
    let picks = picks(&form)?;
    let done = match tt02_loading::request(ctx, &batch, &picks, &user.user.actor()).await {
        Err(BatchError::Repeated) => return Ok(see_other(batch_path(&batch))),
        result => result?,
    };
    if !done.moved.is_empty() {
        return Ok(see_other(batch_path(&batch)));
    }
    let page = DonePage {
        page: Page::workspace(
            tr,
            tr.t("admin.loading.nothing_moved_title"),
            QUEUE_RECEIVED_TESTS,
            user.nav(),
        ),
        moved: Vec::new(),
        left_out: left_out_lines(tr, &done.left_out),
        organisations: Vec::new(),
        mail: None,
        list_text: String::new(),
        list_rows: 2,
        download_link: String::new(),
        has_given_names: false,
        status_loading: status_label(tr, OrderStatus::Tt02Loading),
        queue_link: QUEUE_RECEIVED_TESTS,
    };
    html(StatusCode::CONFLICT, &page)
}

/// A batch's result page: the orders it moved and left out, what became of the list's email
/// (queued, sent or failed), and the list to copy and download, which stays on offer in
/// case the email does not get through.
pub async fn batch_page(
    user: CaseHandler,
    visit: Visit,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (tr, ctx) = (visit.tr(), &visit.ctx);
    let batch = batch_id(&path).ok_or(AppError::NotFound)?;
    let found = tt02_loading::batch(ctx, &batch).await?;
    let found = found.ok_or(AppError::NotFound)?;
    let list = &found.list;
    let page = DonePage {
        page: Page::workspace(
            tr,
            tr.t("admin.loading.done_title"),
            &batch_path(&batch),
            user.nav(),
        ),
        moved: found.moved.iter().map(OrderLine::new).collect(),
        left_out: left_out_lines(tr, &found.left_out),
        organisations: organisation_lines(tr, list),
        mail: Some(mail_line(tr, &found)),
        list_text: list.text(),
        list_rows: list.organisations.len().clamp(2, 20),
        download_link: with_orders(&format!("{PATH}.csv"), &list.references),
        has_given_names: list.has_given_names(),
        status_loading: status_label(tr, OrderStatus::Tt02Loading),
        queue_link: QUEUE_RECEIVED_TESTS,
    };
    html(StatusCode::OK, &page)
}

/// `path` with each reference as an `order` in its query: the confirmation page for them, or
/// their list's CSV.
fn with_orders(path: &str, references: &[String]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for reference in references {
        query.append_pair(ORDER_FIELD, reference);
    }
    match query.finish() {
        query if query.is_empty() => path.to_owned(),
        query => format!("{path}?{query}"),
    }
}

/// The loading list of the orders named (`?order=...`), as the CSV the email would have
/// carried: for copying into Altinn's process by hand when no mailbox is configured.
pub async fn csv(_user: CaseHandler, visit: Visit) -> Result<HttpResponse, AppError> {
    let query = Form::parse(visit.req.query_string().as_bytes()).checked()?;
    let selection = selection(query.all(ORDER_FIELD));
    let count = selection.references.len();
    if !selection.malformed.is_empty() || count == 0 || count > MAX_ORDERS {
        return Err(AppError::BadRequest("admin.loading.bad_list"));
    }
    let list = tt02_loading::list(&visit.ctx, &selection.references).await?;
    Ok(HttpResponse::Ok()
        .content_type(crate::mail::loading::CSV_CONTENT_TYPE)
        .insert_header((
            "content-disposition",
            format!(
                "attachment; filename=\"{}\"",
                LoadingList::filename(Utc::now())
            ),
        ))
        .insert_header(("cache-control", "no-store"))
        .body(list.csv()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_keeps_each_reference_once_and_names_what_is_not_one() {
        let got = selection([
            "rrh-2345-6789",
            "RRH-2345-6789",
            " RRH-ABCD-EFGH ",
            "x<y>",
            " ",
        ]);
        assert_eq!(got.references, ["RRH-2345-6789", "RRH-ABCD-EFGH"]);
        assert_eq!(got.malformed, ["x<y>"]);
    }

    #[test]
    fn a_pick_is_a_reference_and_a_positive_version() {
        let expected = Pick {
            reference: "RRH-2345-6789".into(),
            version: 3,
        };
        assert_eq!(pick("rrh-2345-6789:3"), Some(expected));
        for bad in [
            "RRH-2345-6789",
            "RRH-2345-6789:",
            "RRH-2345-6789:0",
            "RRH-2345-6789:-1",
            "RRH-2345-6789:x",
            "nope:1",
            ":1",
        ] {
            assert_eq!(pick(bad), None, "{bad}");
        }
    }
}
