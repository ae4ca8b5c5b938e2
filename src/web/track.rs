//! A contact's private page, `/track/{token}`: where the order stands, whose step is next,
//! and that contact's own steps: the consumer confirms the delegation, the vendor may
//! withdraw. Every action is a POST with a CSRF token; the page is never cached and never
//! sends its address on as a referrer.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::admin::{read_form, see_other};
use super::error::{AppError, html, with_cookie};
use super::lang::Language;
use super::view::{FormView, Page, display_time, field_message};
use super::{AppState, csrf};
use crate::domain::{Action, Environment, OrderStatus, Scope, codes, optional_text};
use crate::i18n::Tr;
use crate::mail::render::status_change_mails;
use crate::store::links::{self, ContactRole};
use crate::store::orders::StoredOrder;
use crate::store::workflow::{self, Change, WorkflowError};

const MAX_TEXT: usize = 2000;

/// One line of the contact's timeline: status changes only, no internal notes or names.
pub struct PublicEvent {
    pub at: String,
    pub at_iso: String,
    pub what: String,
    pub comment: Option<String>,
}

#[derive(Template)]
#[template(path = "track/order.html")]
struct TrackPage {
    page: Page,
    form: FormView,
    o: StoredOrder,
    role: &'static str,
    is_test: bool,
    status_label: &'static str,
    environment_label: &'static str,
    next_step: String,
    delegation_schema: String,
    can_confirm_delegation: bool,
    can_withdraw: bool,
    events: Vec<PublicEvent>,
    csrf_token: String,
    token: String,
    notice: Option<&'static str>,
}

async fn open(state: &AppState, token: &str) -> Result<(StoredOrder, ContactRole), AppError> {
    links::open(
        &state.db,
        token,
        state.settings.workspace.link_days_after_close,
        Utc::now(),
    )
    .await?
    .ok_or(AppError::NotFoundBecause("track.link_not_found"))
}

fn status_label(tr: Tr, status: OrderStatus) -> &'static str {
    tr.t(&format!("status.{}", status.as_str()))
}

/// What the page says comes next, in the same words as the emails.
fn next_step(tr: Tr, order: &StoredOrder, schema: &str) -> String {
    tr.fill(
        &format!("mail.status.next.{}", order.status.as_str()),
        &[
            ("vendor", &order.vendor_org_name),
            ("vendor_number", &order.vendor_org_number),
            ("consumer", &order.consumer_org_name),
            ("consumer_number", &order.consumer_org_number),
            ("scope", &order.scope),
            ("schema", schema),
            (
                "environment",
                tr.t(&format!("environment.{}", order.environment)),
            ),
        ],
    )
}

#[allow(clippy::too_many_arguments)]
async fn render(
    req: &HttpRequest,
    state: &AppState,
    tr: Tr,
    token: &str,
    order: StoredOrder,
    role: ContactRole,
    form: FormView,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (csrf_token, cookie) = csrf::issue(
        req,
        &state.settings.session_key,
        state.settings.secure_cookies(),
    );
    let delegation_schema = Scope::from_stored(&order.scope)
        .ok()
        .and_then(|s| {
            state
                .settings
                .scopes
                .delegation_schema(&s)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let environment = order.environment();
    let allowed = order.status.allowed_actions(environment);
    let events = workflow::events(&state.db, &order.id)
        .await?
        .into_iter()
        .filter(|e| matches!(e.kind.as_str(), "created" | "status_changed"))
        .map(|e| PublicEvent {
            at: display_time(&e.occurred_at),
            at_iso: e.occurred_at.clone(),
            what: match e.to_status {
                Some(to) if e.kind == "status_changed" => {
                    tr.fill("track.event_status", &[("status", status_label(tr, to))])
                }
                _ => tr.t("admin.timeline.created").to_owned(),
            },
            comment: e.comment,
        })
        .collect();
    let mut page = Page::new(
        tr,
        &tr.fill("track.title", &[("reference", &order.reference)]),
        Some(&format!("/track/{token}")),
    );
    page.has_errors = form.has_errors();
    let view = TrackPage {
        page,
        form,
        role: role.as_str(),
        is_test: environment == Environment::Test,
        status_label: status_label(tr, order.status),
        environment_label: tr.t(&format!("environment.{}", order.environment)),
        next_step: next_step(tr, &order, &delegation_schema),
        delegation_schema,
        can_confirm_delegation: role == ContactRole::Consumer
            && allowed.contains(&Action::ConfirmDelegation),
        can_withdraw: role == ContactRole::Vendor && allowed.contains(&Action::Withdraw),
        events,
        csrf_token,
        token: token.to_owned(),
        notice,
        o: order,
    };
    let mut response = with_cookie(html(status, &view)?, cookie)?;
    // The address is the key to the order: never send it on to another site.
    let headers = response.headers_mut();
    headers.insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        actix_web::http::header::HeaderName::from_static("x-robots-tag"),
        actix_web::http::header::HeaderValue::from_static("noindex, nofollow"),
    );
    Ok(response)
}

pub async fn page(
    req: HttpRequest,
    lang: Language,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let (order, role) = open(&state, &path).await?;
    let notice = match query.get("done").map(String::as_str) {
        Some("delegation") => Some("track.done_delegation"),
        Some("withdrawn") => Some("track.done_withdrawn"),
        _ => None,
    };
    render(
        &req,
        &state,
        lang.tr(),
        &path,
        order,
        role,
        FormView::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// A contact's step: the form is read and CSRF-checked, the link must belong to `role`.
async fn contact_step(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    token: &str,
    role: ContactRole,
) -> Result<(HashMap<String, String>, StoredOrder), AppError> {
    let values = read_form(req, payload, state).await?;
    let submitted = values.get(csrf::FIELD).map(String::as_str).unwrap_or("");
    if !csrf::verify(req, &state.settings.session_key, submitted) {
        return Err(AppError::Forbidden("error_page.csrf"));
    }
    let (order, link_role) = open(state, token).await?;
    if link_role != role {
        return Err(AppError::Forbidden("track.not_your_step"));
    }
    Ok((values, order))
}

#[allow(clippy::too_many_arguments)]
async fn apply_step(
    req: &HttpRequest,
    state: &AppState,
    tr: Tr,
    token: &str,
    order: StoredOrder,
    role: ContactRole,
    action: Action,
    values: &HashMap<String, String>,
    comment: Option<String>,
    done: &str,
) -> Result<HttpResponse, AppError> {
    let version: i64 = values
        .get("version")
        .and_then(|v| v.trim().parse().ok())
        .ok_or(AppError::BadRequest("admin.order.bad_version"))?;
    let change = Change {
        action,
        expected_version: version,
        actor: role.actor(),
        comment: comment.as_deref(),
        tt02_identity: None,
        details: None,
    };
    let settings = state.settings.clone();
    let result = workflow::apply(
        &state.db,
        &order.reference,
        &change,
        &state.message_id_domain(),
        |order, to| {
            Ok(status_change_mails(
                order,
                to,
                comment.as_deref(),
                &settings,
            )?)
        },
    )
    .await;
    let refusal = match result {
        Ok(updated) => {
            tracing::info!(reference = %updated.reference, to = %updated.status, "contact step");
            state.mail_waker.notify_one();
            return Ok(see_other(format!("/track/{token}?done={done}")));
        }
        Err(WorkflowError::Conflict(current)) => (*current, "track.conflict"),
        Err(WorkflowError::Illegal(_)) => (order, "track.not_possible_now"),
        Err(WorkflowError::NotFound) => return Err(AppError::NotFound),
        Err(WorkflowError::Database(err)) => return Err(err.into()),
        Err(WorkflowError::Render(err)) => return Err(err.into()),
    };
    let (current, key) = refusal;
    let mut form = FormView::default();
    form.add_error(
        "status",
        tr.fill(key, &[("status", status_label(tr, current.status))]),
    );
    render(
        req,
        state,
        tr,
        token,
        current,
        role,
        form,
        None,
        StatusCode::CONFLICT,
    )
    .await
}

pub async fn confirm_delegation(
    req: HttpRequest,
    lang: Language,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (values, order) = contact_step(&req, payload, &state, &path, ContactRole::Consumer).await?;
    apply_step(
        &req,
        &state,
        lang.tr(),
        &path,
        order,
        ContactRole::Consumer,
        Action::ConfirmDelegation,
        &values,
        None,
        "delegation",
    )
    .await
}

pub async fn withdraw(
    req: HttpRequest,
    lang: Language,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (values, order) = contact_step(&req, payload, &state, &path, ContactRole::Vendor).await?;
    let tr = lang.tr();
    let raw = values.get("withdraw_reason").cloned().unwrap_or_default();
    let error = match optional_text(&raw, MAX_TEXT, true) {
        Ok(Some(reason)) => {
            return apply_step(
                &req,
                &state,
                tr,
                &path,
                order,
                ContactRole::Vendor,
                Action::Withdraw,
                &values,
                Some(reason),
                "withdrawn",
            )
            .await;
        }
        Ok(None) => crate::domain::FieldError::new(codes::REQUIRED),
        Err(error) => error,
    };
    let mut form = FormView::default();
    form.set("withdraw_reason", raw);
    form.add_error(
        "withdraw_reason",
        field_message(tr, "withdraw_reason", &error),
    );
    render(
        &req,
        &state,
        tr,
        &path,
        order,
        ContactRole::Vendor,
        form,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Template)]
#[template(path = "track/resend.html")]
struct ResendPage {
    page: Page,
    form: FormView,
    csrf_token: String,
    sent: bool,
}

/// Link resends allowed per email address, and per client address, in a window.
const RESENDS_PER_EMAIL: i64 = 3;
const RESENDS_PER_ADDRESS: i64 = 10;
const RESEND_WINDOW: chrono::Duration = chrono::Duration::hours(1);

fn resend_page(
    req: &HttpRequest,
    state: &AppState,
    tr: Tr,
    form: FormView,
    sent: bool,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (csrf_token, cookie) = csrf::issue(
        req,
        &state.settings.session_key,
        state.settings.secure_cookies(),
    );
    let mut page = Page::new(tr, tr.t("resend.title"), Some("/track"));
    page.has_errors = form.has_errors();
    with_cookie(
        html(
            status,
            &ResendPage {
                page,
                form,
                csrf_token,
                sent,
            },
        )?,
        cookie,
    )
}

pub async fn resend_form(
    req: HttpRequest,
    lang: Language,
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let sent = query.contains_key("sent");
    resend_page(
        &req,
        &state,
        lang.tr(),
        FormView::default(),
        sent,
        StatusCode::OK,
    )
}

/// Sends new links to the address if it is a contact's; the answer is the same either way,
/// so the form tells nobody whose address is in an order.
pub async fn resend(
    req: HttpRequest,
    lang: Language,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let values = read_form(&req, payload, &state).await?;
    let tr = lang.tr();
    let raw = values.get("contact_email").cloned().unwrap_or_default();
    let mut form = FormView::default();
    form.set("contact_email", raw.trim());
    let submitted = values.get(csrf::FIELD).map(String::as_str).unwrap_or("");
    if !csrf::verify(&req, &state.settings.session_key, submitted) {
        form.add_error("contact_email", tr.t("error.form_expired").to_owned());
        return resend_page(&req, &state, tr, form, false, StatusCode::FORBIDDEN);
    }
    let email = match crate::domain::EmailAddress::parse(&raw) {
        Ok(email) => email,
        Err(error) => {
            form.add_error("contact_email", field_message(tr, "contact_email", &error));
            return resend_page(
                &req,
                &state,
                tr,
                form,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let address = super::client_address(&req, &state.settings.trusted_proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let now = Utc::now();
    let limits = [
        (
            crate::store::rate_limit::key("resend-email", email.as_str()),
            RESENDS_PER_EMAIL,
        ),
        (
            crate::store::rate_limit::key("resend-address", &address),
            RESENDS_PER_ADDRESS,
        ),
    ];
    if let Some(until) =
        crate::store::rate_limit::count(&state.db, &limits, now, RESEND_WINDOW).await?
    {
        let minutes = ((until - now).num_seconds() + 59) / 60;
        form.add_error(
            "contact_email",
            tr.fill(
                "resend.throttled",
                &[("minutes", &minutes.max(1).to_string())],
            ),
        );
        return resend_page(&req, &state, tr, form, false, StatusCode::TOO_MANY_REQUESTS);
    }
    let settings = state.settings.clone();
    let issued = links::reissue_for_email(
        &state.db,
        email.as_str(),
        settings.workspace.link_days_after_close,
        now,
        &state.message_id_domain(),
        |to, issued| {
            Ok(crate::mail::render::links_mail(
                to, issued, lang.0, &settings,
            )?)
        },
    )
    .await
    .map_err(AppError::Internal)?;
    if issued > 0 {
        state.mail_waker.notify_one();
    }
    // Not even the log says whether anything matched.
    tracing::info!("link resend requested");
    Ok(see_other("/track?sent=1"))
}
