//! One order in the workspace: every field, the timeline, and the actions the workflow allows
//! from where the order stands. Every change is a POST with the session's CSRF token.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::session::CaseHandler;
use super::{read_form, see_other};
use crate::domain::{Action, SyntheticNationalId, codes, optional_text};
use crate::i18n::Tr;
use crate::store::orders::{self, StoredOrder};
use crate::store::outbox::{self, MailSummary};
use crate::store::queue::{self, QueueRow};
use crate::store::users;
use crate::store::workflow::{self, Change, Event, WorkflowError};
use crate::web::error::{AppError, html};
use crate::web::lang::Language;
use crate::web::view::{FormView, Page, field_message, status_label};
use crate::web::{AppState, csrf};

/// Longest comment, reason or note accepted.
const MAX_TEXT: usize = 2000;

/// A line of the timeline: an event or an email, in time order.
pub struct TimelineItem {
    pub at: String,
    /// The stored UTC timestamp, for `<time datetime>`.
    pub at_iso: String,
    pub who: String,
    pub what: String,
    pub text: Option<String>,
    /// The delivery state's label, for emails only.
    pub mail_status: Option<String>,
    /// `sent`, `pending`, `sending`, `failed`: picks the label's look.
    pub mail_state: String,
    pub is_note: bool,
}

/// What Enhetsregisteret said about one party, for the page.
pub struct RegistryLine {
    pub party: &'static str,
    pub id: &'static str,
    pub status: &'static str,
    pub registered_name: Option<String>,
    pub flags: Vec<&'static str>,
    pub flagged: bool,
}

fn registry_lines(tr: Tr, stored: Option<&str>) -> Vec<RegistryLine> {
    use crate::registry::{Lookup, RegistryCheck};
    let Some(check) = stored.and_then(|json| serde_json::from_str::<RegistryCheck>(json).ok())
    else {
        return Vec::new();
    };
    [
        (
            "mail.registry.vendor_heading",
            "registry-vendor",
            check.vendor,
        ),
        (
            "mail.registry.consumer_heading",
            "registry-consumer",
            check.consumer,
        ),
    ]
    .into_iter()
    .map(|(party, id, party_check)| {
        let flagged = party_check.flagged();
        let (status, registered_name, flags) = match &party_check.lookup {
            Lookup::Found {
                name,
                deleted,
                bankrupt,
                dissolving,
            } => {
                let mut flags = Vec::new();
                if *deleted {
                    flags.push(tr.t("admin.registry.deleted"));
                }
                if *bankrupt {
                    flags.push(tr.t("admin.registry.bankrupt"));
                }
                if *dissolving {
                    flags.push(tr.t("admin.registry.dissolving"));
                }
                (
                    tr.t("admin.registry.verified"),
                    party_check.name_differs.then(|| name.clone()),
                    flags,
                )
            }
            Lookup::Synthetic => (tr.t("admin.registry.synthetic"), None, Vec::new()),
            // Refused orders are never stored; these two cannot occur on a stored order.
            Lookup::NotFound | Lookup::Removed | Lookup::Unavailable => {
                (tr.t("admin.registry.unverified"), None, Vec::new())
            }
        };
        RegistryLine {
            party: tr.t(party),
            id,
            status,
            registered_name,
            flags,
            flagged,
        }
    })
    .collect()
}

/// An action form offered on the page.
pub struct ActionForm {
    pub action: &'static str,
    pub label: &'static str,
    pub needs_identity: bool,
    pub is_reject: bool,
}

#[derive(Template)]
#[template(path = "admin/order.html")]
struct OrderPage {
    page: Page,
    form: FormView,
    o: StoredOrder,
    status_label: &'static str,
    environment_label: &'static str,
    delegation_schema: String,
    assignee: Option<String>,
    assigned_to_me: bool,
    actions: Vec<ActionForm>,
    timeline: Vec<TimelineItem>,
    same_pair: Vec<QueueRow>,
    notice: Option<&'static str>,
    csrf_token: String,
    created: String,
    updated: String,
    registry: Vec<RegistryLine>,
}

use crate::web::view::display_time as when;

fn actor_name(tr: Tr, actor: &str, names: &HashMap<String, String>) -> String {
    match actor.strip_prefix("user:") {
        Some(id) => names
            .get(id)
            .cloned()
            .unwrap_or_else(|| tr.t("admin.actor.unknown_user").to_owned()),
        None => {
            let key = format!("admin.actor.{actor}");
            if tr.has(&key) {
                tr.t(&key).to_owned()
            } else {
                actor.to_owned()
            }
        }
    }
}

fn timeline(
    tr: Tr,
    events: Vec<Event>,
    mails: Vec<MailSummary>,
    names: &HashMap<String, String>,
) -> Vec<TimelineItem> {
    let mut items: Vec<(String, TimelineItem)> = Vec::new();
    for event in events {
        let who = actor_name(tr, &event.actor, names);
        let what = match event.kind.as_str() {
            "created" => tr.t("admin.timeline.created").to_owned(),
            "status_changed" => tr.fill(
                "admin.timeline.status_changed",
                &[
                    (
                        "from",
                        event.from_status.map(|s| status_label(tr, s)).unwrap_or(""),
                    ),
                    (
                        "to",
                        event.to_status.map(|s| status_label(tr, s)).unwrap_or(""),
                    ),
                ],
            ),
            "note" => tr.t("admin.timeline.note").to_owned(),
            "assigned" => {
                let user = event
                    .details
                    .as_ref()
                    .and_then(|d| d.get("user"))
                    .and_then(|u| u.as_str())
                    .and_then(|id| names.get(id))
                    .cloned()
                    .unwrap_or_default();
                tr.fill("admin.timeline.assigned", &[("user", &user)])
            }
            "unassigned" => tr.t("admin.timeline.unassigned").to_owned(),
            other => other.to_owned(),
        };
        items.push((
            event.occurred_at.clone(),
            TimelineItem {
                at: when(&event.occurred_at),
                at_iso: event.occurred_at.clone(),
                mail_state: String::new(),
                who,
                what,
                is_note: event.kind == "note",
                text: event.comment,
                mail_status: None,
            },
        ));
    }
    for mail in mails {
        let status_key = format!("admin.mail_status.{}", mail.status);
        items.push((
            mail.created_at.clone(),
            TimelineItem {
                at: when(&mail.created_at),
                at_iso: mail.created_at.clone(),
                mail_state: mail.status.clone(),
                who: tr.t("admin.actor.system").to_owned(),
                what: tr.fill(
                    "admin.timeline.mail",
                    &[("to", &mail.to.join(", ")), ("subject", &mail.subject)],
                ),
                text: None,
                mail_status: Some(if tr.has(&status_key) {
                    tr.t(&status_key).to_owned()
                } else {
                    mail.status
                }),
                is_note: false,
            },
        ));
    }
    // Stored timestamps are fixed-width, so text order is time order; the sort is stable, so
    // an event stays before the emails it caused.
    items.sort_by(|a, b| a.0.cmp(&b.0));
    items.into_iter().map(|(_, item)| item).collect()
}

async fn render(
    state: &AppState,
    tr: Tr,
    user: &CaseHandler,
    order: StoredOrder,
    form: FormView,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let names = users::names(&state.db).await?;
    let events = workflow::events(&state.db, &order.id).await?;
    let mails = outbox::for_order(&state.db, &order.id).await?;
    let same_pair = queue::same_pair(&state.db, &order).await?;
    let actions = order
        .status
        .allowed_actions(order.environment())
        .into_iter()
        .filter(|a| a.is_case_handler_action())
        .map(|a| ActionForm {
            action: a.as_str(),
            label: tr.t(&format!("admin.action.{}", a.as_str())),
            needs_identity: a == Action::MarkTt02Loaded,
            is_reject: a == Action::Reject,
        })
        .collect();
    let delegation_schema = state
        .settings
        .scopes
        .delegation_schema_of_stored(&order.scope);
    let mut page = Page::workspace(
        tr,
        &tr.fill("admin.order.title", &[("reference", &order.reference)]),
        &format!("/admin/orders/{}", order.reference),
        user.nav(),
    );
    page.has_errors = form.has_errors();
    let view = OrderPage {
        page,
        form,
        status_label: status_label(tr, order.status),
        environment_label: tr.t(&format!("environment.{}", order.environment)),
        delegation_schema,
        assignee: order
            .assigned_to
            .as_ref()
            .and_then(|id| names.get(id).cloned()),
        assigned_to_me: order.assigned_to.as_deref() == Some(user.user.id.as_str()),
        actions,
        timeline: timeline(tr, events, mails, &names),
        same_pair,
        notice,
        csrf_token: user.csrf_token.clone(),
        registry: registry_lines(tr, order.registry_check.as_deref()),
        created: when(&order.created_at),
        updated: when(&order.updated_at),
        o: order,
    };
    html(status, &view)
}

async fn find(state: &AppState, raw: &str) -> Result<StoredOrder, AppError> {
    let reference = orders::normalise_reference(raw).ok_or(AppError::NotFound)?;
    orders::find_by_reference(&state.db, &reference)
        .await?
        .ok_or(AppError::NotFound)
}

/// A form posted about one order: read, CSRF-checked, and the order it names.
async fn posted(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    user: &CaseHandler,
    reference: &str,
) -> Result<(HashMap<String, String>, StoredOrder), AppError> {
    let values = read_form(req, payload, state).await?;
    user.check_csrf(values.get(csrf::FIELD))?;
    Ok((values, find(state, reference).await?))
}

pub async fn page(
    user: CaseHandler,
    lang: Language,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let order = find(&state, &path).await?;
    let notice = match query.get("done").map(String::as_str) {
        Some("status") => Some("admin.order.done_status"),
        Some("note") => Some("admin.order.done_note"),
        Some("assignment") => Some("admin.order.done_assignment"),
        _ => None,
    };
    render(
        &state,
        lang.tr(),
        &user,
        order,
        FormView::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

pub async fn change_status(
    req: HttpRequest,
    user: CaseHandler,
    lang: Language,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (values, order) = posted(&req, payload, &state, &user, &path).await?;
    let tr = lang.tr();
    let action = values
        .get("action")
        .and_then(|a| Action::parse(a))
        .filter(|a| a.is_case_handler_action())
        .ok_or(AppError::BadRequest("admin.order.bad_action"))?;
    let version: i64 = values
        .get("version")
        .and_then(|v| v.trim().parse().ok())
        .ok_or(AppError::BadRequest("admin.order.bad_version"))?;

    // A form from before a colleague's change is answered with the order as it is now,
    // whatever was typed into it.
    if version != order.version {
        return conflict(&state, tr, &user, order, &values).await;
    }
    if let Err(illegal) = order.status.transition(order.environment(), action) {
        return refuse_illegal(&state, tr, &user, order, &values, illegal).await;
    }

    let mut form = typed(&values);
    let comment_field = if action == Action::Reject {
        "reason"
    } else {
        "comment"
    };
    let comment = match optional_text(form.value(comment_field), MAX_TEXT, true) {
        Ok(Some(text)) => Some(text),
        Ok(None) if action == Action::Reject => {
            form.add_error(
                "reason",
                field_message(
                    tr,
                    "reason",
                    &crate::domain::FieldError::new(codes::REQUIRED),
                ),
            );
            None
        }
        Ok(None) => None,
        Err(error) => {
            form.add_error(comment_field, field_message(tr, comment_field, &error));
            None
        }
    };
    // The message is emailed; a national identity number must never travel that way.
    if comment.as_deref().is_some_and(contains_national_id) {
        form.add_error(
            comment_field,
            tr.fill(
                "admin.order.no_national_id",
                &[("field", tr.t(&format!("fieldref.{comment_field}")))],
            ),
        );
    }
    let identity = if action == Action::MarkTt02Loaded {
        match SyntheticNationalId::parse(form.value("tt02_identity")) {
            Ok(id) => Some(id),
            Err(error) => {
                form.add_error("tt02_identity", field_message(tr, "tt02_identity", &error));
                None
            }
        }
    } else {
        None
    };
    if form.has_errors() {
        return render(
            &state,
            tr,
            &user,
            order,
            form,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }

    let actor = user.user.actor();
    let change = Change {
        action,
        expected_version: version,
        actor: &actor,
        comment: comment.as_deref(),
        tt02_identity: identity.as_ref().map(SyntheticNationalId::as_str),
        details: None,
    };
    let result = state.change_status(&order.reference, &change).await;
    match result {
        Ok(updated) => Ok(see_other(format!(
            "/admin/orders/{}?done=status",
            updated.reference
        ))),
        Err(WorkflowError::Conflict(current)) => {
            conflict(&state, tr, &user, *current, &values).await
        }
        Err(WorkflowError::Illegal(illegal)) => {
            refuse_illegal(&state, tr, &user, order, &values, illegal).await
        }
        Err(WorkflowError::NotFound) => Err(AppError::NotFound),
        Err(WorkflowError::Database(err)) => Err(err.into()),
        Err(WorkflowError::Render(err)) => Err(err.into()),
    }
}

/// Eleven digits in a row, spaces allowed between them: what a fødselsnummer looks like.
fn contains_national_id(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 11 {
                return true;
            }
        } else if c != ' ' {
            run = 0;
        }
    }
    false
}

/// The person's input back, for a re-rendered page.
fn typed(values: &HashMap<String, String>) -> FormView {
    let mut form = FormView::default();
    for name in ["comment", "reason", "tt02_identity"] {
        form.set(name, values.get(name).cloned().unwrap_or_default());
    }
    form
}

/// Someone else moved the order first: show it as it is now, keeping what was typed.
async fn conflict(
    state: &AppState,
    tr: Tr,
    user: &CaseHandler,
    current: StoredOrder,
    values: &HashMap<String, String>,
) -> Result<HttpResponse, AppError> {
    let mut form = typed(values);
    form.add_error(
        "actions",
        tr.fill(
            "admin.order.conflict",
            &[("status", status_label(tr, current.status))],
        ),
    );
    render(state, tr, user, current, form, None, StatusCode::CONFLICT).await
}

async fn refuse_illegal(
    state: &AppState,
    tr: Tr,
    user: &CaseHandler,
    order: StoredOrder,
    values: &HashMap<String, String>,
    illegal: crate::domain::IllegalTransition,
) -> Result<HttpResponse, AppError> {
    let mut form = typed(values);
    form.add_error(
        "actions",
        tr.fill(
            "admin.order.illegal",
            &[
                (
                    "action",
                    tr.t(&format!("admin.action.{}", illegal.action.as_str())),
                ),
                ("status", status_label(tr, illegal.from)),
            ],
        ),
    );
    render(state, tr, user, order, form, None, StatusCode::CONFLICT).await
}

pub async fn add_note(
    req: HttpRequest,
    user: CaseHandler,
    lang: Language,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (values, order) = posted(&req, payload, &state, &user, &path).await?;
    let tr = lang.tr();
    let raw = values.get("note").cloned().unwrap_or_default();
    let error = match optional_text(&raw, MAX_TEXT, true) {
        Ok(Some(text)) => {
            workflow::add_note(&state.db, &order.id, &user.user.actor(), &text).await?;
            return Ok(see_other(format!(
                "/admin/orders/{}?done=note",
                order.reference
            )));
        }
        Ok(None) => crate::domain::FieldError::new(codes::REQUIRED),
        Err(error) => error,
    };
    let mut form = FormView::default();
    form.set("note", raw);
    form.add_error("note", field_message(tr, "note", &error));
    render(
        &state,
        tr,
        &user,
        order,
        form,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn assign(
    req: HttpRequest,
    user: CaseHandler,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (values, order) = posted(&req, payload, &state, &user, &path).await?;
    let assignee = match values.get("assign").map(String::as_str) {
        Some("me") => Some(user.user.id.as_str()),
        Some("none") => None,
        _ => return Err(AppError::BadRequest("admin.order.bad_assign")),
    };
    if order.assigned_to.as_deref() != assignee {
        workflow::set_assignee(&state.db, &order.id, assignee, &user.user.actor()).await?;
    }
    Ok(see_other(format!(
        "/admin/orders/{}?done=assignment",
        order.reference
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_id_numbers_are_found_in_free_text() {
        assert!(contains_national_id("Logg inn med 01818610099."));
        assert!(contains_national_id("id: 018186 10099"));
        assert!(!contains_national_id("Ring 912 34 567 eller 22 33 44 55."));
        assert!(!contains_national_id("Org.nr. 974760673"));
    }
}
