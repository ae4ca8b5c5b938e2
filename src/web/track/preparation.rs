//! The vendor's certificate and grant checks, `/track/{token}/certificate` and `.../grant`:
//! what it pastes is checked against the order and every check is shown, with the fix under
//! a failed one. Nothing pasted is put back into the page.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::{Answer, ContactPage};
use crate::app::Order;
use crate::app::preparation::{
    self, CERTIFICATE_CHECKED, CERTIFICATE_FIELD, Checked, GRANT_CHECKED, GRANT_FIELD,
};
use crate::i18n::Tr;
use crate::maskinporten::certificate::Refusal;
use crate::maskinporten::lines::{Line, Lines};
use crate::maskinporten::{self, Outcome, certificate, grant};
use crate::web::error::AppError;
use crate::web::extract::{ContactForm, Visit};
use crate::web::view::{FormView, display_time, environment_label};

/// Each report's part of its lines' catalog keys: `track.cert.{name}.label`, ...
const CERTIFICATE_TEXTS: &str = "cert";
const GRANT_TEXTS: &str = "grant";

/// What is shown of a value found in a paste, at most: a claim can be any length.
const FOUND_CHARS: usize = 120;

pub struct LineView {
    pub name: &'static str,
    pub label: &'static str,
    /// `passed`, `failed` or `not_checked`.
    pub outcome: &'static str,
    pub outcome_label: &'static str,
    /// The fix under a failed line, or a remark on one that passed or was not checked.
    pub text: Option<String>,
}

pub struct CheckReportView {
    /// The section's id, which the error summary links to.
    pub id: &'static str,
    pub passed: bool,
    pub heading: &'static str,
    pub lines: Vec<LineView>,
    /// The grant's `x5c` certificate, checked as a pasted one is.
    pub certificate: Option<Vec<LineView>>,
}

/// The order's facts the texts name.
struct Facts<'a> {
    tr: Tr,
    order: &'a Order,
}

impl Facts<'_> {
    /// What a check wanted to find, for its text.
    fn expected(&self, prefix: &str, name: &str) -> String {
        let order = self.order;
        match (prefix, name) {
            (CERTIFICATE_TEXTS, "organisation") => order.vendor_org_number.to_string(),
            (CERTIFICATE_TEXTS, "key") => certificate::MIN_RSA_BITS.to_string(),
            (CERTIFICATE_TEXTS, "validity") => certificate::EXPIRY_WARNING_DAYS.to_string(),
            (GRANT_TEXTS, "audience") => maskinporten::issuer(order.environment).to_owned(),
            (GRANT_TEXTS, "issuer") => order
                .free_text("maskinporten_client_id")
                .unwrap_or_default()
                .to_owned(),
            (GRANT_TEXTS, "scope") => order.scope.to_string(),
            (GRANT_TEXTS, "consumer_org") => order.consumer_org_number.to_string(),
            (GRANT_TEXTS, "lifetime") => grant::MAX_LIFETIME_SECONDS.to_string(),
            (GRANT_TEXTS, "issued_at") => grant::IAT_LEEWAY_SECONDS.to_string(),
            _ => String::new(),
        }
    }

    /// A found value as the page shows it: a time in Oslo time, anything else shortened.
    fn found(&self, found: Option<&str>) -> String {
        let Some(found) = found.filter(|f| !f.is_empty()) else {
            return self.tr.t("track.check.missing").to_owned();
        };
        if let Ok(time) = chrono::DateTime::parse_from_rfc3339(found) {
            return display_time(time.with_timezone(&chrono::Utc));
        }
        match found.char_indices().nth(FOUND_CHARS) {
            Some((at, _)) => format!("{}…", &found[..at]),
            None => found.to_owned(),
        }
    }

    fn line(&self, prefix: &str, line: &Line) -> LineView {
        let tr = self.tr;
        let (outcome, outcome_key) = match line.outcome {
            Outcome::Passed => ("passed", "track.check.passed"),
            Outcome::Failed => ("failed", "track.check.failed"),
            Outcome::NotChecked => ("not_checked", "track.check.not_checked"),
        };
        let order = self.order;
        let text = line.detail.map(|detail| {
            tr.fill(
                &format!("track.{prefix}.{}.{detail}", line.name),
                &[
                    ("expected", &self.expected(prefix, line.name)),
                    ("environment", environment_label(tr, order.environment)),
                    ("maskinporten", tr.maskinporten(order.environment)),
                    ("vendor", order.vendor_org_number.as_str()),
                    ("consumer", order.consumer_org_number.as_str()),
                    // Last: a found value is the paste's, and is not filled in again.
                    ("found", &self.found(line.found.as_deref())),
                ],
            )
        });
        LineView {
            name: line.name,
            label: tr.t(&format!("track.{prefix}.{}.label", line.name)),
            outcome,
            outcome_label: tr.t(outcome_key),
            text,
        }
    }

    fn lines(&self, prefix: &str, lines: &Lines) -> Vec<LineView> {
        lines.0.iter().map(|line| self.line(prefix, line)).collect()
    }
}

/// A certificate report's lines as the page words them (for the API, which says the same).
pub fn certificate_lines(tr: Tr, order: &Order, lines: &Lines) -> Vec<LineView> {
    Facts { tr, order }.lines(CERTIFICATE_TEXTS, lines)
}

/// A grant report's lines as the page words them.
pub fn grant_lines(tr: Tr, order: &Order, lines: &Lines) -> Vec<LineView> {
    Facts { tr, order }.lines(GRANT_TEXTS, lines)
}

/// The catalog key of the message for a refused paste.
pub fn refusal_message_key(refusal: Refusal) -> &'static str {
    refusal_key(refusal)
}

fn heading(tr: Tr, passed: bool) -> &'static str {
    tr.t(if passed {
        "track.prep.no_failure"
    } else {
        "track.prep.some_failed"
    })
}

/// The page after a check: 200 when no check failed, 422 when one did or the paste was
/// refused, with the report or the refusal in the error summary.
async fn answer(
    page: &ContactPage<'_>,
    order: Order,
    report: Result<CheckReportView, (&'static str, &'static str)>,
    place: fn(&mut Answer, CheckReportView),
) -> Result<HttpResponse, AppError> {
    let tr = page.visit.tr();
    let mut answer = Answer::default();
    match report {
        Ok(report) => {
            if !report.passed {
                answer
                    .form
                    .add_error(report.id, tr.t("track.prep.some_failed").to_owned());
                answer.status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            place(&mut answer, report);
        }
        Err((field, key)) => {
            answer.form.add_error(field, tr.t(key).to_owned());
            answer.status = StatusCode::UNPROCESSABLE_ENTITY;
        }
    }
    page.render(order, answer).await
}

fn refusal_key(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::PrivateKey => "track.prep.private_key",
    }
}

/// The vendor pastes its virksomhetssertifikat; it is checked, not kept.
pub async fn check_certificate(
    visit: Visit,
    posted: ContactForm,
) -> Result<HttpResponse, AppError> {
    let page = ContactPage::of(&visit, &posted);
    let pasted = posted.form.get(CERTIFICATE_FIELD);
    let Checked { order, result } =
        match preparation::check_certificate(&visit.ctx, &posted.link, pasted).await {
            Ok(checked) => checked,
            Err(error) => return page.refused(error, FormView::default()).await,
        };
    let facts = Facts {
        tr: visit.tr(),
        order: &order,
    };
    let report = match result {
        Ok(inspection) => Ok(CheckReportView {
            id: "certificate-report",
            passed: inspection.lines.passed(),
            heading: heading(facts.tr, inspection.lines.passed()),
            lines: facts.lines(CERTIFICATE_TEXTS, &inspection.lines),
            certificate: None,
        }),
        Err(refusal) => Err((CERTIFICATE_FIELD, refusal_key(refusal))),
    };
    let place = |answer: &mut Answer, report| answer.certificate_report = Some(report);
    answer(&page, order, report, place).await
}

/// The vendor pastes the JWT grant it will send to Maskinporten; it is checked, not kept.
pub async fn check_grant(visit: Visit, posted: ContactForm) -> Result<HttpResponse, AppError> {
    let page = ContactPage::of(&visit, &posted);
    let pasted = posted.form.get(GRANT_FIELD);
    let Checked { order, result } =
        match preparation::check_grant(&visit.ctx, &posted.link, pasted).await {
            Ok(checked) => checked,
            Err(error) => return page.refused(error, FormView::default()).await,
        };
    let facts = Facts {
        tr: visit.tr(),
        order: &order,
    };
    let report = match result {
        Ok(report) => Ok(CheckReportView {
            id: "grant-report",
            passed: report.passed(),
            heading: heading(facts.tr, report.passed()),
            lines: facts.lines(GRANT_TEXTS, &report.lines),
            certificate: report
                .certificate
                .as_ref()
                .map(|lines| facts.lines(CERTIFICATE_TEXTS, lines)),
        }),
        Err(refusal) => Err((GRANT_FIELD, refusal_key(refusal))),
    };
    let place = |answer: &mut Answer, report| answer.grant_report = Some(report);
    answer(&page, order, report, place).await
}

/// What a check event says on the case handler's timeline, or `None` for other events: the
/// outcome, and the checks that failed by their labels.
pub fn event_text(tr: Tr, kind: &str, details: Option<&serde_json::Value>) -> Option<String> {
    let (prefix, [passed, refused, failed]) = match kind {
        CERTIFICATE_CHECKED => (
            CERTIFICATE_TEXTS,
            [
                "admin.timeline.certificate_passed",
                "admin.timeline.certificate_refused",
                "admin.timeline.certificate_failed",
            ],
        ),
        GRANT_CHECKED => (
            GRANT_TEXTS,
            [
                "admin.timeline.grant_passed",
                "admin.timeline.grant_refused",
                "admin.timeline.grant_failed",
            ],
        ),
        _ => return None,
    };
    let details = details.cloned().unwrap_or_default();
    let checks: &[(&str, &[&str])] = if prefix == CERTIFICATE_TEXTS {
        &certificate::CHECKS
    } else {
        &grant::CHECKS
    };
    let mut labels: Vec<String> = failed_labels(tr, &details["failed"], prefix, checks)
        .into_iter()
        .map(str::to_owned)
        .collect();
    // The certificate in a grant's x5c: its own failed checks in brackets after its line.
    let inner = failed_labels(
        tr,
        &details["certificate_failed"],
        CERTIFICATE_TEXTS,
        &certificate::CHECKS,
    );
    let x5c_label = tr.t("track.grant.certificate.label");
    if let Some(label) = labels.iter_mut().find(|l| l.as_str() == x5c_label)
        && !inner.is_empty()
    {
        *label = format!("{label} ({})", inner.join("; "));
    }
    Some(match details["outcome"].as_str() {
        Some("passed") => tr.t(passed).to_owned(),
        Some("refused") => tr.t(refused).to_owned(),
        _ => tr.fill(failed, &[("checks", &labels.join("; "))]),
    })
}

/// The labels of the checks an event names; a name without a label (from an older list of
/// checks) is left out rather than shown raw.
fn failed_labels(
    tr: Tr,
    names: &serde_json::Value,
    prefix: &str,
    checks: &[(&str, &[&str])],
) -> Vec<&'static str> {
    names
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|name| name.as_str())
        .filter(|name| checks.iter().any(|(known, _)| known == name))
        .map(|name| tr.t(&format!("track.{prefix}.{name}.label")))
        .collect()
}
