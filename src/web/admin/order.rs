//! One order in the workspace: every field, the timeline, and the actions the workflow allows
//! from where the order stands. Every change is a POST with the session's CSRF token.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::session::CaseHandler;
use crate::app::workflow::{self, CaseError, CaseStep, MoveError, MoveRequest};
use crate::app::{Context, Event, MailSummary, Order, QueueRow};
use crate::domain::Action;
use crate::i18n::Tr;
use crate::web::error::{AppError, html};
use crate::web::extract::{StaffForm, Visit};
use crate::web::see_other;
use crate::web::view::{
    FormView, OrderView, Page, display_time, environment_label, iso_time, mail_state_label,
    status_label,
};

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
    pub mail_state: &'static str,
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

/// Another order between the same two organisations, as the page lists it.
pub struct OtherOrder {
    pub reference: String,
    pub status: &'static str,
    pub scope: String,
    pub environment: &'static str,
}

impl OtherOrder {
    fn new(tr: Tr, row: &QueueRow) -> Self {
        OtherOrder {
            reference: row.reference.clone(),
            status: status_label(tr, row.status),
            scope: row.scope.to_string(),
            environment: environment_label(tr, row.environment),
        }
    }
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
    o: OrderView,
    status_label: &'static str,
    environment_label: &'static str,
    delegation_schema: String,
    assignee: Option<String>,
    assigned_to_me: bool,
    actions: Vec<ActionForm>,
    timeline: Vec<TimelineItem>,
    same_pair: Vec<OtherOrder>,
    notice: Option<&'static str>,
    csrf_token: String,
    created: String,
    updated: String,
    registry: Vec<RegistryLine>,
}

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

/// What an event says happened, in the page's language.
fn event_what(tr: Tr, event: &Event, names: &HashMap<String, String>) -> String {
    let label = |status: Option<crate::domain::OrderStatus>| {
        status.map(|s| status_label(tr, s)).unwrap_or("")
    };
    match event.kind.as_str() {
        "created" => tr.t("admin.timeline.created").to_owned(),
        "status_changed" => tr.fill(
            "admin.timeline.status_changed",
            &[
                ("from", label(event.from_status)),
                ("to", label(event.to_status)),
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
        crate::app::TOKEN_CHECK_FAILED => {
            // The checks' stable names, which the vendor's report and /help also use.
            let failed: Vec<&str> = event
                .details
                .as_ref()
                .and_then(|d| d.get("failed"))
                .and_then(|f| f.as_array())
                .map(|names| names.iter().filter_map(|n| n.as_str()).collect())
                .unwrap_or_default();
            tr.fill(
                "admin.timeline.token_check_failed",
                &[("checks", &failed.join(", "))],
            )
        }
        // The vendor's certificate and grant checks.
        other => crate::web::track::preparation::event_text(tr, other, event.details.as_ref())
            .unwrap_or_else(|| other.to_owned()),
    }
}

fn mail_item(tr: Tr, mail: MailSummary) -> TimelineItem {
    TimelineItem {
        at: display_time(mail.created_at),
        at_iso: iso_time(mail.created_at),
        who: tr.t("admin.actor.system").to_owned(),
        what: tr.fill(
            "admin.timeline.mail",
            &[("to", &mail.to.join(", ")), ("subject", &mail.subject)],
        ),
        text: None,
        mail_status: Some(mail_state_label(tr, mail.status).to_owned()),
        mail_state: mail.status.as_str(),
        is_note: false,
    }
}

fn timeline(tr: Tr, file: workflow::CaseFile) -> Vec<TimelineItem> {
    let names = &file.names;
    let mut items: Vec<(chrono::DateTime<chrono::Utc>, TimelineItem)> = Vec::new();
    for event in file.events {
        let item = TimelineItem {
            at: display_time(event.occurred_at),
            at_iso: iso_time(event.occurred_at),
            who: actor_name(tr, &event.actor, names),
            what: event_what(tr, &event, names),
            is_note: event.kind == "note",
            text: event.comment,
            mail_status: None,
            mail_state: "",
        };
        items.push((event.occurred_at, item));
    }
    for mail in file.mails {
        items.push((mail.created_at, mail_item(tr, mail)));
    }
    // The sort is stable, so an event stays before the emails it caused.
    items.sort_by_key(|(at, _)| *at);
    items.into_iter().map(|(_, item)| item).collect()
}

/// The order page as one case handler sees it in this request.
struct CasePage<'a> {
    ctx: &'a Context,
    tr: Tr,
    user: &'a CaseHandler,
}

impl<'a> CasePage<'a> {
    fn new(visit: &'a Visit, user: &'a CaseHandler) -> Self {
        CasePage {
            ctx: &visit.ctx,
            tr: visit.tr(),
            user,
        }
    }

    async fn render(
        &self,
        order: Order,
        form: FormView,
        notice: Option<&'static str>,
        status: StatusCode,
    ) -> Result<HttpResponse, AppError> {
        let (tr, user) = (self.tr, self.user);
        let file = workflow::case_file(self.ctx, &order).await?;
        let actions = workflow::case_handler_actions(&order)
            .into_iter()
            .map(|a| ActionForm {
                action: a.as_str(),
                label: tr.action(a),
                needs_identity: a == Action::MarkTt02Loaded,
                is_reject: a == Action::Reject,
            })
            .collect();
        let title = tr.fill("admin.order.title", &[("reference", &order.reference)]);
        let path = format!("/admin/orders/{}", order.reference);
        let page = Page::workspace(tr, &title, &path, user.nav()).with_form(&form);
        let assigned_to = order.assigned_to.as_deref();
        let scopes = &self.ctx.settings.scopes;
        let view = OrderPage {
            page,
            form,
            status_label: status_label(tr, order.status),
            environment_label: environment_label(tr, order.environment),
            delegation_schema: scopes.delegation_schema_of_stored(&order.scope),
            assignee: assigned_to.and_then(|id| file.names.get(id).cloned()),
            assigned_to_me: assigned_to == Some(user.user.id.as_str()),
            actions,
            same_pair: file
                .same_pair
                .iter()
                .map(|row| OtherOrder::new(tr, row))
                .collect(),
            timeline: timeline(tr, file),
            notice,
            csrf_token: user.csrf_token.clone(),
            registry: registry_lines(tr, order.registry_check.as_deref()),
            created: display_time(order.created_at),
            updated: display_time(order.updated_at),
            o: OrderView::new(&order),
        };
        html(status, &view)
    }

    /// The page again with why the step was not taken: someone else moved the order first
    /// (shown as it is now, keeping what was typed), the step is not possible from here, or
    /// what was typed is not valid.
    async fn refused(&self, error: MoveError, typed: FormView) -> Result<HttpResponse, AppError> {
        let tr = self.tr;
        let mut form = typed;
        let (order, status) = match error {
            MoveError::Conflict(current) => {
                let status = status_label(tr, current.status);
                form.add_error(
                    "actions",
                    tr.fill("admin.order.conflict", &[("status", status)]),
                );
                (current, StatusCode::CONFLICT)
            }
            MoveError::Illegal(illegal, order) => {
                let action = tr.action(illegal.action);
                let status = status_label(tr, illegal.from);
                let message = tr.fill(
                    "admin.order.illegal",
                    &[("action", action), ("status", status)],
                );
                form.add_error("actions", message);
                (order, StatusCode::CONFLICT)
            }
            MoveError::Invalid(errors, order) => {
                form.add_field_errors(tr, &errors);
                (order, StatusCode::UNPROCESSABLE_ENTITY)
            }
            other => return Err(other.into()),
        };
        self.render(*order, form, None, status).await
    }
}

async fn find(ctx: &Context, reference: &str) -> Result<Order, AppError> {
    crate::app::orders::by_reference(ctx, reference)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn page(
    user: CaseHandler,
    visit: Visit,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let order = find(&visit.ctx, &path).await?;
    let notice = match query.get("done").map(String::as_str) {
        Some("status") => Some("admin.order.done_status"),
        Some("note") => Some("admin.order.done_note"),
        Some("assignment") => Some("admin.order.done_assignment"),
        _ => None,
    };
    let case = CasePage::new(&visit, &user);
    case.render(order, FormView::default(), notice, StatusCode::OK)
        .await
}

/// The fields a step form may carry, shown again as typed when the step is refused.
const STEP_FIELDS: [&str; 3] = ["comment", "reason", "tt02_identity"];

pub async fn change_status(
    visit: Visit,
    path: web::Path<String>,
    posted: StaffForm,
) -> Result<HttpResponse, AppError> {
    let (ctx, StaffForm { user, form }) = (&visit.ctx, posted);
    // The order must exist before its form is judged.
    let order = find(ctx, &path).await?;
    let action = Action::parse(form.get("action"))
        .filter(|a| a.is_case_handler_action())
        .ok_or(AppError::BadRequest("admin.order.bad_action"))?;
    let actor = user.user.actor();
    let request = MoveRequest {
        action,
        expected_version: form.version()?,
        actor: &actor,
    };
    let step = CaseStep {
        text: form.get(workflow::text_field(action)).to_owned(),
        tt02_identity: form.get("tt02_identity").to_owned(),
    };
    match workflow::change_status(ctx, &order.reference, &request, &step).await {
        Ok(moved) => Ok(see_other(format!(
            "/admin/orders/{}?done=status",
            moved.reference
        ))),
        Err(error) => {
            let typed = FormView::typed(form.values(), &STEP_FIELDS);
            CasePage::new(&visit, &user).refused(error, typed).await
        }
    }
}

pub async fn add_note(
    visit: Visit,
    path: web::Path<String>,
    posted: StaffForm,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = posted;
    let text = form.get("note");
    match workflow::add_note(&visit.ctx, &path, &user.user.actor(), text).await {
        Ok(order) => Ok(see_other(format!(
            "/admin/orders/{}?done=note",
            order.reference
        ))),
        Err(CaseError::Invalid(errors, order)) => {
            let mut typed = FormView::typed(form.values(), &["note"]);
            typed.add_field_errors(visit.tr(), &errors);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            CasePage::new(&visit, &user)
                .render(*order, typed, None, status)
                .await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn assign(
    ctx: web::Data<Context>,
    path: web::Path<String>,
    posted: StaffForm,
) -> Result<HttpResponse, AppError> {
    let StaffForm { user, form } = posted;
    let assignee = match form.get("assign") {
        "me" => Some(user.user.id.as_str()),
        "none" => None,
        _ => {
            // An unknown order is a 404 before an unknown choice is a 400.
            find(&ctx, &path).await?;
            return Err(AppError::BadRequest("admin.order.bad_assign"));
        }
    };
    let order = workflow::assign(&ctx, &path, assignee, &user.user.actor()).await?;
    Ok(see_other(format!(
        "/admin/orders/{}?done=assignment",
        order.reference
    )))
}
