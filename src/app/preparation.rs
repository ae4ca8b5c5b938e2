//! The vendor prepares for its token while the registry works: on its page it checks its
//! virksomhetssertifikat and the JWT grant it will send to Maskinporten against the order.
//! Nothing pasted is kept or logged; a check run leaves an event with its outcome and the
//! names of the checks that failed, for case handlers (contacts' timelines leave it out),
//! unless it says what the last one said a moment ago.

use chrono::Utc;

use super::Context;
use super::contacts::{Link, StepError};
use crate::domain::{ContactRole, FieldError, codes};
use crate::maskinporten::certificate::{self, Inspection, Refusal};
use crate::maskinporten::lines::Lines;
use crate::maskinporten::{Outcome, grant};
use crate::store::events::{self, NewEvent};
use crate::store::orders::Order;

/// The longest paste read, in characters: a certificate chain or a grant with its `x5c` is a
/// few kilobytes.
pub const MAX_PASTE_CHARS: usize = 32 * 1024;

/// The form fields the vendor pastes into, which field errors name.
pub const CERTIFICATE_FIELD: &str = "certificate";
pub const GRANT_FIELD: &str = "grant";

/// A run that says what the last run of the same check said within this many minutes leaves
/// no event: anyone with the vendor's link could otherwise fill the case handler's timeline.
pub const REPEAT_WINDOW_MINUTES: i64 = 10;

/// Event kinds, one per check.
pub const CERTIFICATE_CHECKED: &str = "certificate_checked";
pub const GRANT_CHECKED: &str = "grant_checked";

/// A check run on the order: its report, or why the paste was not checked.
pub struct Checked<R> {
    pub order: Order,
    pub result: Result<R, Refusal>,
}

/// The vendor's own steps, at any open status: the other contact is refused, and an ended
/// order has nothing left to prepare for.
fn may_prepare(link: &Link) -> Result<(), StepError> {
    if link.role != ContactRole::Vendor {
        return Err(StepError::NotYourStep);
    }
    if !link.order.status.is_open() {
        return Err(StepError::NotPossibleNow(Box::new(link.order.clone())));
    }
    Ok(())
}

/// The pasted text, or the field's error: empty, or longer than anything it could hold.
fn pasted<'a>(link: &Link, field: &'static str, text: &'a str) -> Result<&'a str, StepError> {
    let text = text.trim();
    let code = if text.is_empty() {
        codes::REQUIRED
    } else if text.chars().count() > MAX_PASTE_CHARS {
        codes::TOO_LONG
    } else {
        return Ok(text);
    };
    Err(StepError::Invalid(
        vec![(field, FieldError::new(code))],
        Box::new(link.order.clone()),
    ))
}

/// The vendor's certificate, checked against the order (its own organisation number, a CA of
/// the order's environment, its key). A pasted private key is refused unread.
pub async fn check_certificate(
    ctx: &Context,
    link: &Link,
    text: &str,
) -> Result<Checked<Inspection>, StepError> {
    may_prepare(link)?;
    let text = pasted(link, CERTIFICATE_FIELD, text)?;
    let order = &link.order;
    let expected = certificate_expected(ctx, order);
    let result = certificate::check_pasted(text, &expected, Utc::now().timestamp());
    let details = match &result {
        Ok(inspection) => outcome_details(&inspection.lines, None),
        Err(refusal) => refusal_details(*refusal),
    };
    record(ctx, order, CERTIFICATE_CHECKED, &details).await?;
    Ok(Checked {
        order: order.clone(),
        result,
    })
}

/// The vendor's JWT grant, checked as Maskinporten checks it, with the certificate checks on
/// its `x5c`.
pub async fn check_grant(
    ctx: &Context,
    link: &Link,
    text: &str,
) -> Result<Checked<grant::Report>, StepError> {
    may_prepare(link)?;
    let text = pasted(link, GRANT_FIELD, text)?;
    let order = &link.order;
    let expected = grant::Expected {
        certificate: certificate_expected(ctx, order),
        scope: order.scope.as_str(),
        client_id: order.free_text("maskinporten_client_id"),
    };
    let result = grant::check(text, &expected, Utc::now().timestamp());
    let details = match &result {
        Ok(report) => outcome_details(&report.lines, report.certificate.as_ref()),
        Err(refusal) => refusal_details(*refusal),
    };
    record(ctx, order, GRANT_CHECKED, &details).await?;
    Ok(Checked {
        order: order.clone(),
        result,
    })
}

fn certificate_expected<'a>(ctx: &'a Context, order: &'a Order) -> certificate::Expected<'a> {
    certificate::Expected {
        environment: order.environment,
        vendor_org: order.vendor_org_number.as_str(),
        consumer_org: order.consumer_org_number.as_str(),
        issuers: &ctx.settings.certificate_issuers,
    }
}

/// What the event keeps of a report: the outcome and the names of the checks, no values.
fn outcome_details(lines: &Lines, certificate: Option<&Lines>) -> serde_json::Value {
    let passed = lines.passed() && certificate.is_none_or(Lines::passed);
    let mut details = serde_json::json!({
        "outcome": if passed { "passed" } else { "failed" },
        "failed": lines.names(Outcome::Failed),
        "not_checked": lines.names(Outcome::NotChecked),
    });
    if let Some(certificate) = certificate {
        details["certificate_failed"] = certificate.names(Outcome::Failed).into();
    }
    details
}

fn refusal_details(refusal: Refusal) -> serde_json::Value {
    let reason = match refusal {
        Refusal::PrivateKey => "private_key",
    };
    serde_json::json!({ "outcome": "refused", "reason": reason })
}

/// Whether two events' details say the same: the outcome, the failed checks (the grant's
/// certificate's too) and the reason of a refusal.
fn same_result(last: &serde_json::Value, details: &serde_json::Value) -> bool {
    ["outcome", "failed", "certificate_failed", "reason"]
        .iter()
        .all(|key| last.get(key) == details.get(key))
}

/// The check's event on the order, unless it repeats the last one (see
/// [`REPEAT_WINDOW_MINUTES`]); the order itself does not change.
async fn record(
    ctx: &Context,
    order: &Order,
    kind: &'static str,
    details: &serde_json::Value,
) -> Result<(), StepError> {
    tracing::info!(
        reference = %order.reference,
        kind,
        outcome = %details["outcome"],
        failed = %details["failed"],
        "vendor ran a check"
    );
    let mut conn = ctx.db.acquire().await?;
    let now = Utc::now();
    if let Some((at, Some(last))) = events::latest_of_kind(&mut conn, &order.id, kind).await?
        && now - at < chrono::Duration::minutes(REPEAT_WINDOW_MINUTES)
        && same_result(&last, details)
    {
        return Ok(());
    }
    let event = NewEvent {
        order_id: &order.id,
        at: now,
        actor: ContactRole::Vendor.actor(),
        kind,
        from: None,
        to: None,
        comment: None,
        details: Some(details),
    };
    events::insert(&mut conn, &event).await?;
    Ok(())
}
