//! The vendor's certificate and grant checks through `/api/v1`, as on its private page:
//! `POST /api/v1/orders/{reference}/certificate-check` (`{"certificate": "..."}`) and
//! `.../grant-check` (`{"grant": "..."}`), authenticated with the vendor's link token as in
//! [`super::contact_api`]. The same app functions run them, so the page and the API cannot
//! disagree; the paste is never stored, logged or sent back, and each run is an event (a
//! repeated identical run within minutes is not).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::contact_api::{CheckResult, ContactApiError, ErrorBody, vendor_paste};
use super::lang::Language;
use super::request_context;
use super::track::preparation::{LineView, certificate_lines, grant_lines, refusal_message_key};
use crate::app::Context;
use crate::app::preparation::{self, CERTIFICATE_FIELD, Checked, GRANT_FIELD};
use crate::i18n::Tr;
use crate::maskinporten::certificate::Refusal;

/// The report of a certificate or grant check.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(
    json!({
        "error": "check_failed",
        "passed": false,
        "message": "Ikke alle sjekkene ble bestått: se hva som må rettes nedenfor",
        "checks": [
            {"name": "parse", "outcome": "passed", "message": "Det er et X.509-sertifikat", "fix": null},
            {"name": "organisation", "outcome": "failed", "message": "Virksomhetens eget sertifikat",
             "fix": "Sertifikatet er for 313876144; det må være for 974760673, leverandøren i bestillingen."}
        ],
        "request_id": "5f0c2a9e71b3"
    }),
    json!({
        "error": "private_key_refused",
        "passed": false,
        "message": "Dette er en privat nøkkel. Del aldri en privat nøkkel.",
        "checks": [],
        "request_id": "5f0c2a9e71b3"
    })
))]
pub struct PreparationReport {
    /// `check_failed` (422) or `private_key_refused` (422); absent when no check failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// No check failed ("not checked" lines do not fail).
    pub passed: bool,
    pub message: String,
    /// Each check: `name`, `outcome` (`passed`, `failed`, `not_checked`), what it checks,
    /// and the fix under a failed one (or a remark on another).
    pub checks: Vec<CheckResult>,
    /// A grant's `x5c` certificate, checked as a pasted one is (grant check only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Vec<CheckResult>>,
    pub request_id: String,
}

impl From<LineView> for CheckResult {
    fn from(line: LineView) -> Self {
        CheckResult {
            name: line.name.to_owned(),
            outcome: line.outcome.to_owned(),
            message: line.label.to_owned(),
            fix: line.text,
        }
    }
}

/// A report: whether no check failed, its lines, and a grant's certificate lines.
type Lines = (bool, Vec<CheckResult>, Option<Vec<CheckResult>>);

fn results(lines: Vec<LineView>) -> Vec<CheckResult> {
    lines.into_iter().map(CheckResult::from).collect()
}

/// 200 with the report when no check failed, else 422; a refused paste is 422 without lines.
fn answer(tr: Tr, result: Result<Lines, Refusal>) -> HttpResponse {
    let (status, body) = match result {
        Ok((passed, checks, certificate)) => {
            let (status, error, key) = if passed {
                (StatusCode::OK, None, "track.prep.no_failure")
            } else {
                let error = Some("check_failed".to_owned());
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    error,
                    "track.prep.some_failed",
                )
            };
            let body = PreparationReport {
                error,
                passed,
                message: tr.t(key).to_owned(),
                checks,
                certificate,
                request_id: request_context().id,
            };
            (status, body)
        }
        Err(refusal) => {
            let body = PreparationReport {
                error: Some("private_key_refused".to_owned()),
                passed: false,
                message: tr.t(refusal_message_key(refusal)).to_owned(),
                checks: Vec::new(),
                certificate: None,
                request_id: request_context().id,
            };
            (StatusCode::UNPROCESSABLE_ENTITY, body)
        }
    };
    HttpResponse::build(status)
        .insert_header(("cache-control", "no-store"))
        .json(body)
}

/// Checks the vendor's virksomhetssertifikat against its order, as its page does: parsed, valid
/// now, the vendor's organisation number, a CA of the order's environment, an RSA key of at
/// least 2048 bits that may sign. A pasted private key is refused unread.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{reference}/certificate-check",
    operation_id = "contact_certificate_check",
    tag = "contacts",
    params(
        ("reference" = String, Path,
            pattern = r"^[^\x00-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$",
            description = "The order's reference, RRH-XXXX-XXXX"),
        ("lang" = Option<String>, Query,
            pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$",
            description = "nb, nn or en; else Accept-Language. No control characters (400)"),
    ),
    request_body(content = CertificateCheckRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "No check failed", body = PreparationReport),
        (status = 400, description = "The body is not JSON, or the path or query holds control characters", body = ErrorBody),
        (status = 401, description = "No link token that opens this order", body = ErrorBody),
        (status = 403, description = "The customer's link token: the check is the vendor's", body = ErrorBody),
        (status = 409, description = "The order has ended", body = ErrorBody),
        (status = 413, description = "The body is larger than the service takes", body = ErrorBody),
        (status = 415, description = "The body is not application/json", body = ErrorBody),
        (status = 422, description = "A check failed, a private key was pasted, or the body has errors", body = PreparationUnprocessable),
        (status = 429, description = "Over RRH_API_TOKEN_CHECKS_PER_MINUTE checks a minute with this token", body = ErrorBody),
    ),
    security(("link_token" = []))
)]
pub async fn certificate_check(
    req: HttpRequest,
    ctx: web::Data<Context>,
    lang: Language,
    reference: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ContactApiError> {
    let (link, text) = vendor_paste(&req, &ctx, &reference, payload, CERTIFICATE_FIELD).await?;
    let Checked { order, result } = preparation::check_certificate(&ctx, &link, &text).await?;
    let tr = lang.tr();
    let result = result.map(|inspection| {
        let lines = certificate_lines(tr, &order, &inspection.lines);
        (inspection.lines.passed(), results(lines), None)
    });
    Ok(answer(tr, result))
}

/// Checks the JWT grant the vendor will send to Maskinporten, as Maskinporten checks it and
/// as the vendor's page does, with the certificate checks on its `x5c`.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{reference}/grant-check",
    operation_id = "contact_grant_check",
    tag = "contacts",
    params(
        ("reference" = String, Path,
            pattern = r"^[^\x00-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$",
            description = "The order's reference, RRH-XXXX-XXXX"),
        ("lang" = Option<String>, Query,
            pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$",
            description = "nb, nn or en; else Accept-Language. No control characters (400)"),
    ),
    request_body(content = GrantCheckRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "No check that could be made failed", body = PreparationReport),
        (status = 400, description = "The body is not JSON, or the path or query holds control characters", body = ErrorBody),
        (status = 401, description = "No link token that opens this order", body = ErrorBody),
        (status = 403, description = "The customer's link token: the check is the vendor's", body = ErrorBody),
        (status = 409, description = "The order has ended", body = ErrorBody),
        (status = 413, description = "The body is larger than the service takes", body = ErrorBody),
        (status = 415, description = "The body is not application/json", body = ErrorBody),
        (status = 422, description = "A check failed, a private key was pasted, or the body has errors", body = PreparationUnprocessable),
        (status = 429, description = "Over RRH_API_TOKEN_CHECKS_PER_MINUTE checks a minute with this token", body = ErrorBody),
    ),
    security(("link_token" = []))
)]
pub async fn grant_check(
    req: HttpRequest,
    ctx: web::Data<Context>,
    lang: Language,
    reference: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ContactApiError> {
    let (link, text) = vendor_paste(&req, &ctx, &reference, payload, GRANT_FIELD).await?;
    let Checked { order, result } = preparation::check_grant(&ctx, &link, &text).await?;
    let tr = lang.tr();
    let result = result.map(|report| {
        let certificate = report
            .certificate
            .as_ref()
            .map(|lines| results(certificate_lines(tr, &order, lines)));
        let lines = grant_lines(tr, &order, &report.lines);
        (report.passed(), results(lines), certificate)
    });
    Ok(answer(tr, result))
}

/// A 422 of a certificate or grant check: the report when a check failed or a key was
/// pasted, or the field errors when the request itself was wrong (only for the document).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PreparationUnprocessable {
    Report(PreparationReport),
    Invalid(ErrorBody),
}

/// The body of a certificate check.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateCheckRequest {
    /// The certificate as PEM, or the base64 of a `.cer`; never the private key.
    pub certificate: String,
}

/// The body of a grant check.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantCheckRequest {
    /// The signed JWT grant (one you will not use, or an expired one).
    pub grant: String,
}

/// These two operations, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(certificate_check, grant_check),
    components(schemas(
        PreparationReport,
        PreparationUnprocessable,
        CertificateCheckRequest,
        GrantCheckRequest
    ))
)]
pub struct PreparationApiDoc;
