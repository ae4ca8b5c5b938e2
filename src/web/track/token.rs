//! The vendor's token check: the JWT grant to sign for this order, and the report on a
//! pasted Maskinporten access token, one line per check.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::{Answer, ContactPage};
use crate::app::{Order, contacts};
use crate::i18n::Tr;
use crate::maskinporten::{self, Outcome, Report};
use crate::web::error::AppError;
use crate::web::extract::{ContactForm, Visit};
use crate::web::view::{FormView, environment_label};

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
    /// Maskinporten's keys could not be fetched: the check could not be done, which is our
    /// side's fault, not the token's.
    pub unavailable: bool,
    pub lines: Vec<CheckLine>,
}

/// The claims of the JWT grant the vendor signs for this order, with placeholders for what
/// changes at every signing.
pub fn grant_claims(order: &Order) -> serde_json::Value {
    serde_json::json!({
        "aud": maskinporten::issuer(order.environment),
        "iss": order.free_text("maskinporten_client_id").unwrap_or("<client_id>"),
        "scope": order.scope.as_str(),
        "consumer_org": order.consumer_org_number.as_str(),
        // Placeholders, not live values that would expire two minutes after the page loaded.
        "iat": "<now>",
        "exp": "<now + 120>",
        "jti": "<new uuid>",
    })
}

pub fn grant_help(order: &Order) -> GrantHelp {
    let environment = order.environment;
    let claims = grant_claims(order);
    let header = serde_json::json!({ "alg": "RS256", "kid": "<kid>" });
    GrantHelp {
        claims: serde_json::to_string_pretty(&claims).unwrap_or_default(),
        header: serde_json::to_string_pretty(&header).unwrap_or_default(),
        request: format!(
            "curl -X POST {} \\\n  -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \\\n  -d assertion=<signed JWT grant>",
            maskinporten::token_endpoint(environment)
        ),
    }
}

/// What a check expected to find, for its fix.
fn expected_value(order: &Order, check: &str) -> String {
    let environment = order.environment;
    match check {
        "issuer" => maskinporten::issuer(environment).to_owned(),
        "scope" => order.scope.to_string(),
        "consumer" => format!("0192:{}", order.consumer_org_number),
        "supplier" => format!("0192:{}", order.vendor_org_number),
        "delegation_source" => maskinporten::delegation_source(environment).to_owned(),
        "token_type" => "Bearer".to_owned(),
        "consumer_authority" | "supplier_authority" => maskinporten::AUTHORITY.to_owned(),
        "client" => order
            .free_text("maskinporten_client_id")
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// The report as the page shows it; the API answers with the same lines.
pub fn report_view(tr: Tr, order: &Order, report: &Report) -> ReportView {
    let environment = environment_label(tr, order.environment);
    let maskinporten = tr.maskinporten(order.environment);
    let lines = report
        .checks
        .iter()
        .map(|check| {
            let (outcome, key) = match check.outcome {
                Outcome::Passed => ("passed", "track.check.passed"),
                // Not the token's failure: the keys to check it with could not be had.
                Outcome::Failed if check.keys_unavailable => {
                    ("not_checked", "track.check.not_checked")
                }
                Outcome::Failed => ("failed", "track.check.failed"),
                Outcome::NotChecked => ("not_checked", "track.check.not_checked"),
            };
            let fix = (check.outcome == Outcome::Failed).then(|| {
                let key = if check.keys_unavailable {
                    "track.check.key.unavailable".to_owned()
                } else {
                    format!("track.check.{}.fix", check.name)
                };
                let found = check.found.as_deref().filter(|f| !f.is_empty());
                tr.fill(
                    &key,
                    &[
                        ("found", found.unwrap_or(tr.t("track.check.missing"))),
                        ("expected", &expected_value(order, check.name)),
                        ("environment", environment),
                        ("maskinporten", maskinporten),
                        ("consumer", order.consumer_org_number.as_str()),
                        ("vendor", order.vendor_org_number.as_str()),
                    ],
                )
            });
            let label_key = format!("track.check.{}.label", check.name);
            CheckLine {
                name: check.name,
                label: tr.fill(
                    &label_key,
                    &[("environment", environment), ("maskinporten", maskinporten)],
                ),
                outcome,
                outcome_label: tr.t(key),
                fix,
            }
        })
        .collect();
    ReportView {
        passed: report.passed(),
        unavailable: report.checks.iter().any(|c| c.keys_unavailable),
        lines,
    }
}

/// The vendor pastes the access token it got from Maskinporten; every check is shown, and
/// when all pass the order becomes `token_verified`. The token is only held for the check:
/// it is not stored, logged or put back into the page.
pub async fn check_token(visit: Visit, posted: ContactForm) -> Result<HttpResponse, AppError> {
    let page = ContactPage::of(&visit, &posted);
    let tr = visit.tr();
    let pasted = posted.form.get("access_token");
    let checked = match contacts::verify_token(&visit.ctx, &posted.link, pasted).await {
        Ok(checked) => checked,
        Err(error) => return page.refused(error, FormView::default()).await,
    };
    let report = report_view(tr, &checked.order, &checked.report);
    let unavailable = report.unavailable;
    let report = Some(report);
    let answer = if checked.passed() {
        Answer {
            notice: Some("track.done_token"),
            report,
            ..Answer::default()
        }
    } else {
        // A failed token is the vendor's to fix (422); keys we could not fetch are ours (503).
        let (key, status) = if unavailable {
            ("track.check.unavailable", StatusCode::SERVICE_UNAVAILABLE)
        } else {
            ("track.check.some_failed", StatusCode::UNPROCESSABLE_ENTITY)
        };
        let mut form = FormView::default();
        form.add_error("token-report", tr.t(key).to_owned());
        Answer {
            form,
            report,
            status,
            ..Answer::default()
        }
    };
    page.render(checked.order, answer).await
}
