//! `/api/v1/orders/{reference}` for the order's contacts: what their private page shows, and
//! the vendor's token check, for scripts. The caller authenticates with its private link
//! token as `Authorization: Bearer <token>`, the same secret as the page's address.
//!
//! Every token that does not open the order named in the path gets the same 401: missing,
//! malformed, unknown, expired, and a working link token of another order. So the answer says
//! nothing about whether another order exists, and the caller learns only that its token
//! does not open this order, which a 404 would also say. (Only `request_id` differs.)
//!
//! Each link token has its own allowance per minute (`RRH_API_READS_PER_MINUTE`, 60, and
//! `RRH_API_TOKEN_CHECKS_PER_MINUTE`, 10); more get 429 with `Retry-After`. Neither the link token nor the access token is logged or kept:
//! the request log names the route pattern, and the rate-limit table a hash.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::error::AppError;
use super::extract::{is_json, read_body};
use super::lang::Language;
use super::progress::ProgressView;
use super::request_context;
use super::track::token::{CheckLine, report_view};
use super::view::{environment_label, field_message, status_label, wait_message};
use crate::app::contacts::{self, ApiCall, Link, StepError};
use crate::app::{Context, normalise_reference};
use crate::domain::progress::Turn;
use crate::domain::{Action, ContactRole, FieldError, OrderStatus};
use crate::i18n::Tr;
use crate::mail::render::OrderFacts;

/// Why a contact's API call was not carried out; each becomes the API's JSON error shape.
#[derive(Debug, thiserror::Error)]
pub enum ContactApiError {
    /// No working link token for this order: one answer for every reason.
    #[error("unauthorized")]
    Unauthorized,
    #[error("rate limited")]
    RateLimited { minutes: i64 },
    /// The consumer's token asked for the vendor's token check.
    #[error("vendor only")]
    VendorOnly,
    /// The order is not at the step where the page offers the check.
    #[error("not possible now")]
    NotPossibleNow(OrderStatus),
    #[error("malformed JSON")]
    MalformedJson,
    /// The body is JSON but not an object; the field it should have held.
    #[error("not an object")]
    NotAnObject(&'static str),
    /// Field errors in the body, by field name.
    #[error("invalid body")]
    Invalid(BTreeMap<String, FieldError>),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<crate::app::Failure> for ContactApiError {
    fn from(failure: crate::app::Failure) -> Self {
        ContactApiError::App(failure.into())
    }
}

impl ResponseError for ContactApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ContactApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ContactApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ContactApiError::VendorOnly => StatusCode::FORBIDDEN,
            ContactApiError::NotPossibleNow(_) => StatusCode::CONFLICT,
            ContactApiError::MalformedJson => StatusCode::BAD_REQUEST,
            ContactApiError::NotAnObject(_) | ContactApiError::Invalid(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ContactApiError::App(error) => error.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let context = request_context();
        let tr = Tr::new(context.lang);
        let (code, message) = match self {
            ContactApiError::Unauthorized => ("unauthorized", tr.t("api.unauthorized").into()),
            ContactApiError::RateLimited { minutes } => (
                "rate_limited",
                wait_message(tr, "api.too_many_calls", *minutes),
            ),
            ContactApiError::VendorOnly => {
                ("forbidden", tr.t("api.token_check_vendor_only").into())
            }
            ContactApiError::NotPossibleNow(status) => (
                "not_possible_now",
                tr.fill(
                    "track.not_possible_now",
                    &[("status", status_label(tr, *status))],
                ),
            ),
            ContactApiError::MalformedJson => ("malformed_json", tr.t("api.malformed_json").into()),
            ContactApiError::NotAnObject(field) => (
                "not_an_object",
                tr.fill("api.one_field_body", &[("field", field)]),
            ),
            ContactApiError::Invalid(_) => {
                ("validation_failed", tr.t("api.token_check_invalid").into())
            }
            ContactApiError::App(error) => return error.error_response(),
        };
        let body = ErrorBody {
            error: code.to_owned(),
            message,
            status: match self {
                ContactApiError::NotPossibleNow(status) => Some(status.as_str().to_owned()),
                _ => None,
            },
            errors: match self {
                ContactApiError::Invalid(errors) => Some(field_errors(tr, errors)),
                _ => None,
            },
            request_id: context.id,
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            // Whatever was wrong with the token, the same challenge.
            ContactApiError::Unauthorized => {
                response.insert_header((WWW_AUTHENTICATE, "Bearer"));
            }
            ContactApiError::RateLimited { minutes } => {
                response.insert_header(("retry-after", (minutes * 60).to_string()));
            }
            _ => {}
        }
        response
            .insert_header(("cache-control", "no-store"))
            .json(body)
    }
}

/// The API's error shape: what went wrong as a stable code and a sentence in the caller's
/// language, and the request id to quote.
#[derive(Debug, Serialize, ToSchema)]
// No other fields: so a check's report (which has `passed` and `checks`) can never be
// read as this shape where the document offers either.
#[serde(deny_unknown_fields)]
#[schema(examples(
    json!({"error": "unauthorized", "message": "Lenken din åpner ikke denne bestillingen.", "request_id": "5f0c2a9e71b3"}),
    json!({"error": "forbidden", "message": "Bare leverandøren kan sjekke.", "request_id": "5f0c2a9e71b3"}),
    json!({"error": "not_possible_now", "message": "Det kan ikke gjøres nå: bestillingen har status Mottatt.", "status": "received", "request_id": "5f0c2a9e71b3"}),
    json!({"error": "validation_failed", "message": "Forespørselen har feil. Se feltene i «errors».", "errors": {"access_token": {"code": "required", "message": "Fyll inn tokenet."}}, "request_id": "5f0c2a9e71b3"}),
    json!({"error": "malformed_json", "message": "Innholdet er ikke gyldig JSON.", "request_id": "5f0c2a9e71b3"}),
    json!({"error": "not_an_object", "message": "Innholdet må være et JSON-objekt der det eneste feltet er «access_token».", "request_id": "5f0c2a9e71b3"}),
    json!({"error": "rate_limited", "message": "For mange forespørsler med denne lenken. Vent 1 minutt.", "request_id": "5f0c2a9e71b3"}),
    json!({"error": "bad_request", "message": "Det som ble sendt, inneholder kontrolltegn.", "request_id": "5f0c2a9e71b3"}),
    json!({"error": "payload_too_large", "message": "Innholdet er for stort.", "request_id": "5f0c2a9e71b3"}),
    json!({"error": "unsupported_media_type", "message": "Send innholdet som application/json.", "request_id": "5f0c2a9e71b3"}),
    json!({"error": "internal_error", "message": "Noe gikk galt hos oss.", "request_id": "5f0c2a9e71b3"})
))]
pub struct ErrorBody {
    #[schema(value_type = ContactErrorCode)]
    pub error: String,
    pub message: String,
    /// The order's status now (with `not_possible_now`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Per field of the body (with `validation_failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, FieldErrorBody>>,
    pub request_id: String,
}

/// The error codes of the contacts' operations.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactErrorCode {
    /// No link token that opens this order (one answer for every reason).
    Unauthorized,
    /// The call is the vendor's, and the customer's link token was sent.
    Forbidden,
    /// The order is not where the call can be made (its `status` is given).
    NotPossibleNow,
    /// The body's fields are wrong (`errors`).
    ValidationFailed,
    MalformedJson,
    NotAnObject,
    /// Over the link token's allowance a minute (`Retry-After`).
    RateLimited,
    /// The path or query holds control characters.
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    InternalError,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// `required`, `wrong_type` or `unknown_field`.
    pub code: String,
    pub message: String,
}

fn field_errors(tr: Tr, errors: &BTreeMap<String, FieldError>) -> BTreeMap<String, FieldErrorBody> {
    errors
        .iter()
        .map(|(field, error)| {
            let message = match error.code {
                "wrong_type" => tr.fill("api.wrong_type", &[("expected", "string")]),
                "unknown_field" => tr.t("api.unknown_field").to_owned(),
                _ => field_message(tr, field, error),
            };
            let body = FieldErrorBody {
                code: error.code.to_owned(),
                message,
            };
            (field.clone(), body)
        })
        .collect()
}

/// The `Authorization: Bearer` token, if the request carries exactly one.
fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let mut values = req.headers().get_all(AUTHORIZATION);
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The order and role the request's link token opens (looked up by the token's hash, as the
/// page is), when that order is the one in the path and the token has calls of `call` left.
async fn authenticate(
    req: &HttpRequest,
    ctx: &Context,
    reference: &str,
    call: ApiCall,
) -> Result<Link, ContactApiError> {
    let token = bearer_token(req).ok_or(ContactApiError::Unauthorized)?;
    let link = contacts::open(ctx, token)
        .await?
        .ok_or(ContactApiError::Unauthorized)?;
    // Another order's token is refused as an unknown one, whether or not `reference` exists.
    if normalise_reference(reference).as_deref() != Some(link.order.reference.as_str()) {
        return Err(ContactApiError::Unauthorized);
    }
    if let Some(minutes) = contacts::count_api_call(ctx, token, call).await? {
        return Err(ContactApiError::RateLimited { minutes });
    }
    Ok(link)
}

/// The order as its contact's page shows it (never the TT02 login identity).
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "reference": "RRH-7KQ2-M4XA",
    "status": "delegated",
    "status_label": "Delegert",
    "status_meaning": "Kunden har delegert scopet til leverandøren i Altinn.",
    "environment": "test",
    "environment_label": "Test (TT02)",
    "scope": "brreg:reelle/offentlig",
    "vendor": {"org_number": "974760673", "name": "Leverandør Systemer AS"},
    "consumer": {"org_number": "313876144", "name": "Kunde Bank ASA"},
    "role": "vendor",
    "steps": [
        {"status": "received", "label": "Mottatt", "state": "done"},
        {"status": "tt02_loading", "label": "Lastes inn i TT02", "state": "done"},
        {"status": "tt02_loaded", "label": "Lastet inn i TT02", "state": "done"},
        {"status": "delegated", "label": "Delegert", "state": "current"},
        {"status": "token_verified", "label": "Token bekreftet", "state": "to_come"},
        {"status": "completed", "label": "Fullført", "state": "to_come"}
    ],
    "turn": {"who": "vendor", "yours": true, "message": "Nå er det din tur."},
    "next_step": "Hent et token fra Maskinporten med consumer_org = 313876144, og sjekk det her.",
    "can_check_token": true,
    "ended": null,
    "timeline": [
        {"at": "2026-11-20T09:12:00Z", "status": null, "message": "Bestillingen kom inn", "comment": null},
        {"at": "2026-11-24T13:40:00Z", "status": "delegated", "message": "Status: Delegert", "comment": null}
    ]
})))]
pub struct OrderProgress {
    pub reference: String,
    /// `received`, `tt02_loading`, `tt02_loaded`, `delegated`, `token_verified`,
    /// `completed`, `rejected` or `withdrawn`.
    pub status: String,
    pub status_label: String,
    /// What the status means.
    pub status_meaning: String,
    /// `test` (TT02) or `production`.
    pub environment: String,
    pub environment_label: String,
    pub scope: String,
    pub vendor: Organisation,
    pub consumer: Organisation,
    /// Whose link token this is: `vendor` or `consumer`.
    pub role: String,
    /// The steps of the order's environment, in order.
    pub steps: Vec<Step>,
    /// Whose move it is, while the order is open.
    pub turn: Option<TurnBody>,
    /// What this contact does now.
    pub next_step: String,
    /// The vendor can check its token now (`POST .../token-check`).
    pub can_check_token: bool,
    /// How the order ended, if it was rejected or withdrawn.
    pub ended: Option<Ended>,
    /// Status changes, oldest first; no internal notes or names.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Organisation {
    pub org_number: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Step {
    pub status: String,
    pub label: String,
    /// `done`, `current`, `to_come` or `skipped`.
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TurnBody {
    /// `registry`, `vendor` or `consumer`.
    pub who: String,
    /// It is the caller's move.
    pub yours: bool,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ended {
    pub status: String,
    pub message: String,
    /// The registry's or the vendor's reason, when one was given.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// The status the order reached; absent for the order's arrival.
    pub status: Option<String>,
    pub message: String,
    /// What the registry wrote to the contacts with the change.
    pub comment: Option<String>,
}

/// The order, as the contact's page shows it.
#[utoipa::path(
    get,
    path = "/api/v1/orders/{reference}",
    operation_id = "contact_order",
    tag = "contacts",
    params(
        ("reference" = String, Path,
            pattern = r"^[^\x00-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$",
            description = "The order's reference, RRH-XXXX-XXXX"),
        ("lang" = Option<String>, Query,
            pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$",
            description = "nb, nn or en; else Accept-Language. No control characters (400)"),
    ),
    responses(
        (status = 200, description = "The order", body = OrderProgress),
        (status = 400, description = "The path or query holds control characters", body = ErrorBody),
        (status = 401, description = "No link token that opens this order", body = ErrorBody),
        (status = 429, description = "Over RRH_API_READS_PER_MINUTE (60) calls a minute with this token", body = ErrorBody),
    ),
    security(("link_token" = []))
)]
pub async fn order(
    req: HttpRequest,
    ctx: web::Data<Context>,
    lang: Language,
    reference: web::Path<String>,
) -> Result<HttpResponse, ContactApiError> {
    let link = authenticate(&req, &ctx, &reference, ApiCall::Read).await?;
    let body = order_progress(lang.tr(), &ctx, link).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(body))
}

async fn order_progress(
    tr: Tr,
    ctx: &Context,
    link: Link,
) -> Result<OrderProgress, ContactApiError> {
    let Link { order, role } = link;
    let events = contacts::timeline(ctx, &order).await?;
    let ending = crate::app::orders::ending(&order, &events);
    let days = ctx.settings.workspace.expected_working_days;
    let progress = ProgressView::new(tr, &order, ending.as_ref(), Some(role), days);
    let facts = OrderFacts::from_stored(&order, &ctx.settings);
    let allowed = order.status.allowed_actions(order.environment);
    let turn = Turn::at(order.environment, order.status)
        .zip(progress.turn)
        .map(|(who, message)| TurnBody {
            who: who.as_str().to_owned(),
            yours: who.is(role),
            message,
        });
    Ok(OrderProgress {
        reference: order.reference.clone(),
        status: order.status.as_str().to_owned(),
        status_label: status_label(tr, order.status).to_owned(),
        status_meaning: progress.meaning,
        environment: order.environment.as_str().to_owned(),
        environment_label: environment_label(tr, order.environment).to_owned(),
        scope: order.scope.as_str().to_owned(),
        vendor: Organisation {
            org_number: order.vendor_org_number.as_str().to_owned(),
            name: order.vendor_org_name.clone(),
        },
        consumer: Organisation {
            org_number: order.consumer_org_number.as_str().to_owned(),
            name: order.consumer_org_name.clone(),
        },
        role: role.as_str().to_owned(),
        steps: progress
            .steps
            .into_iter()
            .map(|step| Step {
                status: step.status.to_owned(),
                label: step.label.to_owned(),
                state: step.state.to_owned(),
            })
            .collect(),
        turn,
        next_step: facts.next_step(tr, role, order.status),
        can_check_token: role == ContactRole::Vendor && allowed.contains(&Action::VerifyToken),
        ended: progress.ended.map(|ended| Ended {
            status: ended.status.to_owned(),
            message: ended.heading.to_owned(),
            reason: ended.reason.and_then(|(_, reason)| reason),
        }),
        timeline: events.into_iter().map(|e| timeline_entry(tr, e)).collect(),
    })
}

/// One line of the timeline, in the words of the contact's page.
fn timeline_entry(tr: Tr, event: crate::app::Event) -> TimelineEntry {
    let reached = event.to_status.filter(|_| event.kind == "status_changed");
    TimelineEntry {
        at: event.occurred_at,
        status: reached.map(|s| s.as_str().to_owned()),
        message: match reached {
            Some(to) => tr.fill("track.event_status", &[("status", status_label(tr, to))]),
            None => tr.t("admin.timeline.created").to_owned(),
        },
        comment: event.comment,
    }
}

/// The body of a token check.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCheckRequest {
    /// The `access_token` from Maskinporten's answer.
    pub access_token: String,
}

/// A 422 of the token check: the report when a check failed, or the field errors when the
/// request itself was wrong (only for the document: the handler answers with either).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TokenCheckUnprocessable {
    Report(TokenCheckReport),
    Invalid(ErrorBody),
}

/// Every check of the token, as the vendor's page lists them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "error": "token_check_failed",
    "passed": false,
    "message": "Tokenet besto ikke alle sjekkene",
    "status": "delegated",
    "checks": [
        {"name": "signature", "outcome": "passed", "message": "Signatur", "fix": null},
        {"name": "consumer", "outcome": "failed", "message": "På vegne av kunden",
         "fix": "consumer.ID er 0192:974760673; det må være 0192:313876144. Sett consumer_org = \"313876144\" i JWT-granten."}
    ],
    "request_id": "5f0c2a9e71b3"
})))]
pub struct TokenCheckReport {
    /// `token_check_failed` (422) or `maskinporten_unavailable` (503); absent when every
    /// check passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub passed: bool,
    pub message: String,
    /// The order's status after the check: `token_verified` when it passed.
    pub status: String,
    pub checks: Vec<CheckResult>,
    pub request_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// A stable id: `format`, `algorithm`, `key`, `signature`, `issuer`, `token_type`,
    /// `issued_at`, `expiry`, `client`, `scope`, `consumer`, `consumer_authority`,
    /// `supplier`, `supplier_authority`, `delegation_source`.
    pub name: String,
    /// `passed`, `failed` or `not_checked`.
    pub outcome: String,
    /// What is checked.
    pub message: String,
    /// What to do about a failed check.
    pub fix: Option<String>,
}

impl From<CheckLine> for CheckResult {
    fn from(line: CheckLine) -> Self {
        CheckResult {
            name: line.name.to_owned(),
            outcome: line.outcome.to_owned(),
            message: line.label,
            fix: line.fix,
        }
    }
}

/// Checks a Maskinporten access token against the order, as the vendor's page does.
///
/// When every check passes the order becomes `token_verified` (both contacts are emailed).
/// A failed check is recorded on the order for the registry, without the token.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{reference}/token-check",
    operation_id = "contact_token_check",
    tag = "contacts",
    params(
        ("reference" = String, Path,
            pattern = r"^[^\x00-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$",
            description = "The order's reference, RRH-XXXX-XXXX"),
        ("lang" = Option<String>, Query,
            pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$",
            description = "nb, nn or en; else Accept-Language. No control characters (400)"),
    ),
    request_body(content = TokenCheckRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Every check passed; the order is token_verified", body = TokenCheckReport),
        (status = 400, description = "The body is not JSON, or the path or query holds control characters", body = ErrorBody),
        (status = 401, description = "No link token that opens this order", body = ErrorBody),
        (status = 403, description = "The customer's link token: the check is the vendor's", body = ErrorBody),
        (status = 409, description = "The order is not waiting for the vendor's token", body = ErrorBody),
        (status = 415, description = "The body is not application/json", body = ErrorBody),
        (status = 422, description = "A check failed (the report), or the body has errors", body = TokenCheckUnprocessable),
        (status = 429, description = "Over RRH_API_TOKEN_CHECKS_PER_MINUTE (10) checks a minute with this token", body = ErrorBody),
        (status = 503, description = "Maskinporten's keys could not be fetched; nothing is blamed on the token", body = TokenCheckReport),
    ),
    security(("link_token" = []))
)]
pub async fn token_check(
    req: HttpRequest,
    ctx: web::Data<Context>,
    lang: Language,
    reference: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ContactApiError> {
    let (link, access_token) =
        vendor_paste(&req, &ctx, &reference, payload, "access_token").await?;
    let checked = contacts::verify_token(&ctx, &link, &access_token).await?;
    let tr = lang.tr();
    let report = report_view(tr, &checked.order, &checked.report);
    let (status, error, key) = if report.passed {
        (StatusCode::OK, None, "track.check.all_passed")
    } else if report.unavailable {
        let error = Some("maskinporten_unavailable".to_owned());
        (
            StatusCode::SERVICE_UNAVAILABLE,
            error,
            "track.check.unavailable",
        )
    } else {
        let error = Some("token_check_failed".to_owned());
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            error,
            "track.check.some_failed",
        )
    };
    let body = TokenCheckReport {
        error,
        passed: report.passed,
        message: tr.t(key).to_owned(),
        status: checked.order.status.as_str().to_owned(),
        checks: report.lines.into_iter().map(CheckResult::from).collect(),
        request_id: request_context().id,
    };
    Ok(HttpResponse::build(status)
        .insert_header(("cache-control", "no-store"))
        .json(body))
}

/// The vendor's order and the one text field `field` of a JSON body: what every vendor check
/// reads first, or why the call stops there.
pub(super) async fn vendor_paste(
    req: &HttpRequest,
    ctx: &Context,
    reference: &str,
    payload: web::Payload,
    field: &'static str,
) -> Result<(Link, String), ContactApiError> {
    let link = authenticate(req, ctx, reference, ApiCall::TokenCheck).await?;
    if link.role != ContactRole::Vendor {
        return Err(ContactApiError::VendorOnly);
    }
    if !is_json(req) {
        return Err(AppError::UnsupportedMediaType.into());
    }
    let body = read_body(req, payload, ctx.settings.max_body_bytes).await?;
    let text = text_field_in(&body, field)?;
    Ok((link, text))
}

impl From<StepError> for ContactApiError {
    fn from(error: StepError) -> Self {
        match error {
            StepError::NotPossibleNow(order) | StepError::Conflict(order) => {
                ContactApiError::NotPossibleNow(order.status)
            }
            StepError::NotYourStep => ContactApiError::VendorOnly,
            StepError::Invalid(errors, _) => ContactApiError::Invalid(
                errors
                    .into_iter()
                    .map(|(field, error)| (field.to_owned(), error))
                    .collect(),
            ),
            other => AppError::from(other).into(),
        }
    }
}

/// The one text field `field` of a JSON object body (empty when missing or null); any other
/// field, or another type, is a field error. Errors never quote the body: it may hold a
/// token, a certificate or a grant.
fn text_field_in(body: &[u8], field: &'static str) -> Result<String, ContactApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| ContactApiError::MalformedJson)?;
    let Value::Object(object) = value else {
        return Err(ContactApiError::NotAnObject(field));
    };
    let mut errors = BTreeMap::new();
    let mut text = String::new();
    for (key, value) in object {
        match value {
            Value::String(found) if key == field => text = found,
            Value::Null if key == field => {}
            _ if key == field => {
                errors.insert(key, FieldError::with_value("wrong_type", "string"));
            }
            _ => {
                errors.insert(key, FieldError::new("unknown_field"));
            }
        }
    }
    if errors.is_empty() {
        Ok(text)
    } else {
        Err(ContactApiError::Invalid(errors))
    }
}

/// The contacts' part of `/api/v1`, for the lead's OpenAPI document to nest.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(order, token_check),
    components(schemas(
        OrderProgress,
        Organisation,
        Step,
        TurnBody,
        Ended,
        TimelineEntry,
        TokenCheckRequest,
        TokenCheckReport,
        TokenCheckUnprocessable,
        CheckResult,
        ErrorBody,
        ContactErrorCode,
        FieldErrorBody
    )),
    modifiers(&LinkTokenScheme),
    tags((name = "contacts", description = "An order's contacts, with their private link token"))
)]
pub struct VendorApiDoc;

/// The `link_token` security scheme: the private link token as a bearer token.
struct LinkTokenScheme;

impl utoipa::Modify for LinkTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "The contact's private link token: the last part of its /track/ address.",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("link_token", SecurityScheme::Http(scheme));
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    use super::*;

    /// The document the lead nests: both paths, under the link-token scheme they name.
    #[test]
    fn the_vendor_api_document_names_both_paths_and_the_link_token_scheme() {
        let doc: Value = serde_json::to_value(VendorApiDoc::openapi()).unwrap();
        let paths = &doc["paths"];
        let read = &paths["/api/v1/orders/{reference}"]["get"];
        let check = &paths["/api/v1/orders/{reference}/token-check"]["post"];
        assert_eq!(read["security"][0]["link_token"], serde_json::json!([]));
        assert_eq!(check["security"][0]["link_token"], serde_json::json!([]));
        for status in ["200", "401", "403", "409", "422", "429", "503"] {
            assert!(check["responses"][status].is_object(), "{status}");
        }
        let scheme = &doc["components"]["securitySchemes"]["link_token"];
        assert_eq!(scheme["type"], "http");
        assert_eq!(scheme["scheme"], "bearer");
        assert!(doc["components"]["schemas"]["TokenCheckReport"].is_object());
    }

    #[test]
    fn only_one_bearer_authorization_header_is_a_token() {
        let with = |values: &[&str]| {
            let mut req = actix_web::test::TestRequest::default();
            for value in values {
                req = req.append_header((AUTHORIZATION, *value));
            }
            req.to_http_request()
        };
        assert_eq!(bearer_token(&with(&["Bearer abc"])), Some("abc"));
        assert_eq!(bearer_token(&with(&["bearer  abc "])), Some("abc"));
        assert_eq!(bearer_token(&with(&["Basic abc"])), None);
        assert_eq!(bearer_token(&with(&["Bearer"])), None);
        assert_eq!(bearer_token(&with(&[])), None);
        assert_eq!(bearer_token(&with(&["Bearer abc", "Bearer abc"])), None);
    }
}
