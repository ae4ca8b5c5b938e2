//! TT02 loading in batches: the confirmation page for the orders ticked on the queue (a GET,
//! so the queue's checkboxes work as a plain form), the request itself (a POST naming each
//! order's version as the confirmation page showed it), and the list's CSV for when no
//! mailbox takes it.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::Utc;

use super::session::CaseHandler;
use crate::app::tt02_loading::{self, BatchError, LeftOut, MAX_ORDERS, Pick, Unloadable};
use crate::app::{LoadingList, NameSource, Order, normalise_reference};
use crate::domain::OrderStatus;
use crate::i18n::Tr;
use crate::web::error::{AppError, html};
use crate::web::extract::{Form, StaffForm, Visit};
use crate::web::view::{FormView, Page, status_label};

pub const PATH: &str = "/admin/tt02-loading";
/// The field each selected order is sent in: a reference from the queue, `reference:version`
/// from the confirmation page.
const ORDER_FIELD: &str = "order";
/// Where the error summary's messages point: the list of selected orders.
const SELECTION_ID: &str = "selection";
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
    mailbox: Option<String>,
    orders: Vec<OrderLine>,
    organisations: Vec<OrganisationLine>,
    queue_link: &'static str,
    status_loading: &'static str,
}

/// The confirmation page for the orders ticked on the queue: the organisations to load and
/// the orders that will move; what cannot be loaded is named in the error summary and left
/// out. 422 when nothing is left to confirm.
pub async fn confirm_page(user: CaseHandler, visit: Visit) -> Result<HttpResponse, AppError> {
    let (tr, ctx) = (visit.tr(), &visit.ctx);
    let query = Form::parse(visit.req.query_string().as_bytes()).checked()?;
    let selection = selection(query.all(ORDER_FIELD));
    let mut form = FormView::default();
    for value in &selection.malformed {
        let message = tr.fill("admin.loading.malformed", &[("value", value)]);
        form.add_error(SELECTION_ID, message);
    }
    let count = selection.references.len();
    let preview = if count > MAX_ORDERS {
        let (max, n) = (MAX_ORDERS.to_string(), count.to_string());
        let message = tr.fill("admin.loading.too_many", &[("max", &max), ("n", &n)]);
        form.add_error(SELECTION_ID, message);
        None
    } else if count == 0 {
        if selection.malformed.is_empty() {
            form.add_error(SELECTION_ID, tr.t("admin.loading.none_selected").to_owned());
        }
        None
    } else {
        Some(tt02_loading::preview(ctx, &selection.references).await?)
    };
    let (orders, organisations) = match preview {
        Some(preview) => {
            for (reference, why) in &preview.problems {
                form.add_error(SELECTION_ID, unloadable_message(tr, reference, *why));
            }
            let orders: Vec<OrderLine> = preview.orders.iter().map(OrderLine::new).collect();
            (orders, organisation_lines(tr, &preview.list))
        }
        None => (Vec::new(), Vec::new()),
    };
    if orders.is_empty() {
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
        mailbox: ctx.settings.mail.altinn_loading_mailbox.clone(),
        orders,
        organisations,
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

#[derive(Template)]
#[template(path = "admin/tt02_loading_done.html")]
struct DonePage {
    page: Page,
    moved: Vec<OrderLine>,
    left_out: Vec<LeftOutLine>,
    organisations: Vec<OrganisationLine>,
    mailed_to: Option<String>,
    /// The list to copy, when it was not mailed.
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

impl From<BatchError> for AppError {
    fn from(err: BatchError) -> Self {
        match err {
            BatchError::NotFound(_) => AppError::BadRequest("admin.loading.bad_request"),
            BatchError::NotTest(_) => AppError::BadRequest("admin.loading.bad_list"),
            BatchError::Failed(failure) => failure.into(),
        }
    }
}

/// The confirmed batch: the result page names the orders moved and those left out, and
/// either where the list was mailed or the list to copy and download. 409 when every order
/// had moved on (nothing was stored or mailed).
pub async fn request(visit: Visit, posted: StaffForm) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = posted;
    let (tr, ctx) = (visit.tr(), &visit.ctx);
    let picks = picks(&form)?;
    let done = tt02_loading::request(ctx, &picks, &user.user.actor()).await?;
    let left_out = done
        .left_out
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
        .collect();
    let status = if done.moved.is_empty() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let title = if done.moved.is_empty() {
        tr.t("admin.loading.nothing_moved_title")
    } else {
        tr.t("admin.loading.done_title")
    };
    let page = DonePage {
        page: Page::workspace(tr, title, "/admin/orders", user.nav()),
        moved: done.moved.iter().map(OrderLine::new).collect(),
        left_out,
        organisations: organisation_lines(tr, &done.list),
        mailed_to: done.mailed_to,
        list_text: done.list.text(),
        list_rows: done.list.organisations.len().clamp(2, 20),
        download_link: with_orders(&format!("{PATH}.csv"), &done.list.references),
        has_given_names: done.list.has_given_names(),
        status_loading: status_label(tr, OrderStatus::Tt02Loading),
        queue_link: QUEUE_RECEIVED_TESTS,
    };
    html(status, &page)
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
