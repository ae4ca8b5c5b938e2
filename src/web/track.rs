//! A contact's private page, `/track/{token}`: where the order stands, whose step is next,
//! and that contact's own steps: the consumer confirms the delegation, the vendor may
//! withdraw. Every action is a POST with a CSRF token; the page is never cached and never
//! sends its address on as a referrer.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::AppState;
use super::admin::{read_form, see_other};
use super::error::{AppError, html, with_cookie};
use super::lang::Language;
use super::view::{FormView, Page, display_time, field_message, status_label};
use crate::domain::{Action, Environment, codes, optional_text};
use crate::i18n::Tr;
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
    /// The vendor's help with the JWT grant (vendor pages of open orders).
    grant: Option<GrantHelp>,
    /// The vendor may paste its token (the order is `delegated`).
    can_check_token: bool,
    report: Option<ReportView>,
}

/// What the vendor must sign to get a delegated token for this order.
pub struct GrantHelp {
    pub claims: String,
    pub header: String,
    pub request: String,
}

pub struct CheckLine {
    pub name: &'static str,
    pub label: String,
    /// `passed`, `failed` or `not_checked`.
    pub outcome: &'static str,
    pub outcome_label: &'static str,
    pub fix: Option<String>,
}

pub struct ReportView {
    pub passed: bool,
    pub lines: Vec<CheckLine>,
}

fn grant_help(order: &StoredOrder) -> GrantHelp {
    let environment = order.environment();
    let now = Utc::now().timestamp();
    let claims = serde_json::json!({
        "aud": crate::maskinporten::issuer(environment),
        "iss": order.maskinporten_client_id.clone().unwrap_or_else(|| "<client_id>".into()),
        "scope": order.scope,
        "consumer_org": order.consumer_org_number,
        "iat": now,
        "exp": now + 120,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let header = serde_json::json!({ "alg": "RS256", "kid": "<kid>" });
    GrantHelp {
        claims: serde_json::to_string_pretty(&claims).unwrap_or_default(),
        header: serde_json::to_string_pretty(&header).unwrap_or_default(),
        request: format!(
            "curl -X POST {} \\\n  -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \\\n  -d assertion=<signed JWT grant>",
            crate::maskinporten::token_endpoint(environment)
        ),
    }
}

fn report_view(tr: Tr, order: &StoredOrder, report: &crate::maskinporten::Report) -> ReportView {
    use crate::maskinporten::Outcome;
    let environment = order.environment();
    let lines = report
        .checks
        .iter()
        .map(|check| {
            let (outcome, key) = match check.outcome {
                Outcome::Passed => ("passed", "track.check.passed"),
                Outcome::Failed => ("failed", "track.check.failed"),
                Outcome::NotChecked => ("not_checked", "track.check.not_checked"),
            };
            let expected = match check.name {
                "issuer" => crate::maskinporten::issuer(environment).to_owned(),
                "scope" => order.scope.clone(),
                "consumer" => format!("0192:{}", order.consumer_org_number),
                "supplier" => format!("0192:{}", order.vendor_org_number),
                "delegation_source" => {
                    crate::maskinporten::delegation_source(environment).to_owned()
                }
                _ => String::new(),
            };
            let missing = tr.t("track.check.missing");
            let fix = (check.outcome == Outcome::Failed).then(|| {
                let key = if check.keys_unavailable {
                    "track.check.key.unavailable".to_owned()
                } else {
                    format!("track.check.{}.fix", check.name)
                };
                tr.fill(
                    &key,
                    &[
                        (
                            "found",
                            check
                                .found
                                .as_deref()
                                .filter(|f| !f.is_empty())
                                .unwrap_or(missing),
                        ),
                        ("expected", &expected),
                        (
                            "environment",
                            tr.t(&format!("environment.{}", order.environment)),
                        ),
                        ("consumer", &order.consumer_org_number),
                        ("vendor", &order.vendor_org_number),
                    ],
                )
            });
            CheckLine {
                name: check.name,
                label: tr.fill(
                    &format!("track.check.{}.label", check.name),
                    &[(
                        "environment",
                        tr.t(&format!("environment.{}", order.environment)),
                    )],
                ),
                outcome,
                outcome_label: tr.t(key),
                fix,
            }
        })
        .collect();
    ReportView {
        passed: report.passed(),
        lines,
    }
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
    render_with_report(
        req, state, tr, token, order, role, form, notice, None, status,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn render_with_report(
    req: &HttpRequest,
    state: &AppState,
    tr: Tr,
    token: &str,
    order: StoredOrder,
    role: ContactRole,
    form: FormView,
    notice: Option<&'static str>,
    report: Option<ReportView>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (csrf_token, cookie) = state.issue_csrf(req);
    let delegation_schema = state
        .settings
        .scopes
        .delegation_schema_of_stored(&order.scope);
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
        grant: (role == ContactRole::Vendor && order.status.is_open()).then(|| grant_help(&order)),
        can_check_token: role == ContactRole::Vendor && allowed.contains(&Action::VerifyToken),
        report,
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

/// The page with the order as it stands and why the step was not taken (409): the answer
/// is about the order, not about a field of a form that may no longer be shown.
async fn refuse(
    req: &HttpRequest,
    state: &AppState,
    tr: Tr,
    token: &str,
    order: StoredOrder,
    role: ContactRole,
    key: &str,
) -> Result<HttpResponse, AppError> {
    let mut form = FormView::default();
    form.add_error(
        "status",
        tr.fill(key, &[("status", status_label(tr, order.status))]),
    );
    render(
        req,
        state,
        tr,
        token,
        order,
        role,
        form,
        None,
        StatusCode::CONFLICT,
    )
    .await
}

/// [`refuse`] when `action` is not possible from where the order stands.
async fn not_now(
    req: &HttpRequest,
    state: &AppState,
    tr: Tr,
    token: &str,
    order: &StoredOrder,
    role: ContactRole,
    action: Action,
) -> Option<Result<HttpResponse, AppError>> {
    let allowed = order.status.allowed_actions(order.environment());
    if allowed.contains(&action) {
        return None;
    }
    Some(
        refuse(
            req,
            state,
            tr,
            token,
            order.clone(),
            role,
            "track.not_possible_now",
        )
        .await,
    )
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
    if !state.csrf_ok(req, &values) {
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
    match state.change_status(&order.reference, &change).await {
        Ok(_) => Ok(see_other(format!("/track/{token}?done={done}"))),
        Err(error) => step_refused(req, state, tr, token, order, role, error).await,
    }
}

/// The answer to a status change that did not happen.
async fn step_refused(
    req: &HttpRequest,
    state: &AppState,
    tr: Tr,
    token: &str,
    order: StoredOrder,
    role: ContactRole,
    error: WorkflowError,
) -> Result<HttpResponse, AppError> {
    match error {
        WorkflowError::Conflict(current) => {
            refuse(req, state, tr, token, *current, role, "track.conflict").await
        }
        WorkflowError::Illegal(_) => {
            refuse(req, state, tr, token, order, role, "track.not_possible_now").await
        }
        WorkflowError::NotFound => Err(AppError::NotFound),
        WorkflowError::Database(err) => Err(err.into()),
        WorkflowError::Render(err) => Err(err.into()),
    }
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
    if let Some(refusal) = not_now(
        &req,
        &state,
        tr,
        &path,
        &order,
        ContactRole::Vendor,
        Action::Withdraw,
    )
    .await
    {
        return refusal;
    }
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
    let (csrf_token, cookie) = state.issue_csrf(req);
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
    if !state.csrf_ok(&req, &values) {
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
    let address = state.client_address(&req);
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
    if let Some(minutes) =
        crate::store::rate_limit::count(&state.db, &limits, now, RESEND_WINDOW).await?
    {
        form.add_error(
            "contact_email",
            tr.fill("resend.throttled", &[("minutes", &minutes.to_string())]),
        );
        return resend_page(&req, &state, tr, form, false, StatusCode::TOO_MANY_REQUESTS);
    }
    let settings = state.settings.clone();
    let issued = links::reissue_for_email(
        &state.db,
        email.as_str(),
        settings.workspace.link_days_after_close,
        now,
        state.message_id_domain(),
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

/// The vendor pastes the access token it got from Maskinporten; every check is shown, and
/// when all pass the order becomes `token_verified`. The token is only held for the check:
/// it is not stored, logged or put back into the page.
pub async fn check_token(
    req: HttpRequest,
    lang: Language,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (values, order) = contact_step(&req, payload, &state, &path, ContactRole::Vendor).await?;
    let tr = lang.tr();
    if let Some(refusal) = not_now(
        &req,
        &state,
        tr,
        &path,
        &order,
        ContactRole::Vendor,
        Action::VerifyToken,
    )
    .await
    {
        return refusal;
    }
    let pasted = values
        .get("access_token")
        .map(String::as_str)
        .unwrap_or("")
        .trim();
    if pasted.is_empty() {
        let mut form = FormView::default();
        form.add_error(
            "access_token",
            field_message(
                tr,
                "access_token",
                &crate::domain::FieldError::new(codes::REQUIRED),
            ),
        );
        return render(
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
        .await;
    }
    let expected = crate::maskinporten::Expected {
        environment: order.environment(),
        scope: order.scope.clone(),
        consumer_org: order.consumer_org_number.clone(),
        vendor_org: order.vendor_org_number.clone(),
    };
    let report =
        crate::maskinporten::check(pasted, &expected, &state.jwks, Utc::now().timestamp()).await;
    let view = report_view(tr, &order, &report);
    if !report.passed() {
        let failed: Vec<&str> = report
            .checks
            .iter()
            .filter(|c| c.outcome == crate::maskinporten::Outcome::Failed)
            .map(|c| c.name)
            .collect();
        tracing::info!(reference = %order.reference, ?failed, "token check failed");
        let mut form = FormView::default();
        form.add_error("token-report", tr.t("track.check.some_failed").to_owned());
        return render_with_report(
            &req,
            &state,
            tr,
            &path,
            order,
            ContactRole::Vendor,
            form,
            None,
            Some(view),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let details = serde_json::to_value(&report.summary).ok();
    let change = Change {
        action: Action::VerifyToken,
        expected_version: order.version,
        actor: ContactRole::Vendor.actor(),
        comment: None,
        tt02_identity: None,
        details,
    };
    let result = state.change_status(&order.reference, &change).await;
    match result {
        Ok(updated) => {
            render_with_report(
                &req,
                &state,
                tr,
                &path,
                updated,
                ContactRole::Vendor,
                FormView::default(),
                Some("track.done_token"),
                Some(view),
                StatusCode::OK,
            )
            .await
        }
        Err(error) => {
            step_refused(&req, &state, tr, &path, order, ContactRole::Vendor, error).await
        }
    }
}
