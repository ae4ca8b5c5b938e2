//! What the two contacts do through their private links: open the order's page, confirm
//! the delegation (consumer), withdraw and check a Maskinporten token (vendor), and get
//! their links again by email.

use chrono::Utc;

use super::workflow::{FieldErrors, MoveDetails, MoveError, MoveRequest, move_order};
use super::{Context, Failure, failure_converts_into};
use crate::domain::{Action, ContactRole, EmailAddress, FieldError, codes, optional_text};
use crate::i18n::Lang;
use crate::mail::render::{self, IssuedLink};
use crate::maskinporten::{self, Expected, Outcome, Report};
use crate::store::events::{self, Event};
use crate::store::orders::Order;
use crate::store::{links, outbox, rate_limit};

/// An order as one of its contacts sees it through their link.
#[derive(Debug, Clone)]
pub struct Link {
    pub order: Order,
    pub role: ContactRole,
}

/// The order and role a link token opens. Links work while the order is open and for
/// `RRH_LINK_DAYS_AFTER_CLOSE` days after it ended; anything else opens nothing.
pub async fn open(ctx: &Context, token: &str) -> Result<Option<Link>, Failure> {
    // Anything that is not a token is not looked up at all.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let mut conn = ctx.db.acquire().await?;
    let Some((order, role)) = links::find(&mut conn, token).await? else {
        return Ok(None);
    };
    let days = i64::from(ctx.settings.workspace.link_days_after_close);
    let expired = order
        .closed_at
        .is_some_and(|closed| Utc::now() > closed + chrono::Duration::days(days));
    Ok((!expired).then_some(Link { order, role }))
}

/// The order's public history: when it was made and each status it reached, with the
/// messages that went to the contacts. Internal notes and who did what stay out.
pub async fn timeline(ctx: &Context, order: &Order) -> Result<Vec<Event>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(events::for_order(&mut conn, &order.id)
        .await?
        .into_iter()
        .filter(|e| matches!(e.kind.as_str(), "created" | "status_changed"))
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The step belongs to the other contact.
    #[error("not this contact's step")]
    NotYourStep,
    /// The order is not where this step can be taken.
    #[error("not possible from the order's status")]
    NotPossibleNow(Box<Order>),
    /// The order moved on since the page was loaded.
    #[error("the order was changed meanwhile")]
    Conflict(Box<Order>),
    #[error("invalid input")]
    Invalid(FieldErrors, Box<Order>),
    /// The form did not say which version of the order it was made from.
    #[error("no order version")]
    BadVersion,
    /// The order is gone (it cannot be, while a link to it works).
    #[error("no such order")]
    Gone,
    #[error(transparent)]
    Failed(#[from] Failure),
}
failure_converts_into!(StepError);

impl From<MoveError> for StepError {
    fn from(err: MoveError) -> Self {
        match err {
            MoveError::NotFound => StepError::Gone,
            MoveError::Conflict(order) => StepError::Conflict(order),
            MoveError::Illegal(_, order) => StepError::NotPossibleNow(order),
            MoveError::Invalid(errors, order) => StepError::Invalid(errors, order),
            MoveError::Failed(failure) => StepError::Failed(failure),
        }
    }
}

/// Whether the link's contact may take `action` on the order as the link read it: the
/// other contact's step is refused first, then a step the order's status does not allow
/// (before any of the step's input is judged). The transaction checks the status again.
fn may_take(link: &Link, role: ContactRole, action: Action) -> Result<(), StepError> {
    if link.role != role {
        return Err(StepError::NotYourStep);
    }
    let order = &link.order;
    match order.status.transition(order.environment, action) {
        Ok(_) => Ok(()),
        Err(_) => Err(StepError::NotPossibleNow(Box::new(order.clone()))),
    }
}

/// Moves the order as the link's contact.
async fn take_step(
    ctx: &Context,
    link: &Link,
    action: Action,
    version: Option<i64>,
    details: MoveDetails,
) -> Result<Order, StepError> {
    let request = MoveRequest {
        action,
        expected_version: version.ok_or(StepError::BadVersion)?,
        actor: link.role.actor(),
    };
    Ok(move_order(ctx, &link.order.reference, &request, |_| Ok(details)).await?)
}

/// The consumer has delegated the scope to the vendor in Altinn. `version` is the one the
/// page showed.
pub async fn confirm_delegation(
    ctx: &Context,
    link: &Link,
    version: Option<i64>,
) -> Result<Order, StepError> {
    if link.role != ContactRole::Consumer {
        return Err(StepError::NotYourStep);
    }
    let details = MoveDetails::default();
    take_step(ctx, link, Action::ConfirmDelegation, version, details).await
}

/// The vendor takes its order back, saying why.
pub async fn withdraw(
    ctx: &Context,
    link: &Link,
    version: Option<i64>,
    reason: &str,
) -> Result<Order, StepError> {
    may_take(link, ContactRole::Vendor, Action::Withdraw)?;
    let reason = match optional_text(reason, super::workflow::MAX_TEXT, true) {
        Ok(Some(reason)) => reason,
        Ok(None) => return Err(invalid(link, FieldError::new(codes::REQUIRED))),
        Err(error) => return Err(invalid(link, error)),
    };
    let details = MoveDetails {
        comment: Some(reason),
        ..MoveDetails::default()
    };
    take_step(ctx, link, Action::Withdraw, version, details).await
}

/// The withdrawal's reason is not valid.
fn invalid(link: &Link, error: FieldError) -> StepError {
    StepError::Invalid(
        vec![("withdraw_reason", error)],
        Box::new(link.order.clone()),
    )
}

/// The outcome of a token check: the order as it stands afterwards and every check's result.
pub struct TokenChecked {
    pub order: Order,
    pub report: Report,
}

impl TokenChecked {
    pub fn passed(&self) -> bool {
        self.report.passed()
    }
}

/// The vendor's Maskinporten access token, checked against the order; when every check
/// passes the order becomes `token_verified`. The token is only held for the check: it is
/// not stored or logged, and the event keeps a summary without it.
pub async fn verify_token(
    ctx: &Context,
    link: &Link,
    access_token: &str,
) -> Result<TokenChecked, StepError> {
    // Checked before the token is, so no check runs for an order not at this step.
    may_take(link, ContactRole::Vendor, Action::VerifyToken)?;
    let order = &link.order;
    let access_token = access_token.trim();
    if access_token.is_empty() {
        let required = vec![("access_token", FieldError::new(codes::REQUIRED))];
        return Err(StepError::Invalid(required, Box::new(order.clone())));
    }
    let expected = Expected {
        environment: order.environment,
        scope: order.scope.as_str().to_owned(),
        consumer_org: order.consumer_org_number.as_str().to_owned(),
        vendor_org: order.vendor_org_number.as_str().to_owned(),
        client_id: order.free_text("maskinporten_client_id").map(str::to_owned),
    };
    let report =
        maskinporten::check(access_token, &expected, &ctx.jwks, Utc::now().timestamp()).await;
    if !report.passed() {
        let failed: Vec<&str> = report
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Failed)
            .map(|c| c.name)
            .collect();
        tracing::info!(reference = %order.reference, ?failed, "token check failed");
        // Keys we could not fetch are our outage, not the vendor's failure: no event.
        if !report.checks.iter().any(|c| c.keys_unavailable) {
            record_failed_check(ctx, order, &report).await?;
        }
        return Ok(TokenChecked {
            order: order.clone(),
            report,
        });
    }
    let details = MoveDetails {
        event_details: serde_json::to_value(&report.summary).ok(),
        ..MoveDetails::default()
    };
    let version = Some(order.version);
    let moved = take_step(ctx, link, Action::VerifyToken, version, details).await?;
    Ok(TokenChecked {
        order: moved,
        report,
    })
}

/// A token check that did not pass, as an event for the statistics of what vendors fail:
/// the names of the failed checks and nothing from the token. A check that failed because
/// Maskinporten's keys could not be fetched is the registry's trouble, not the vendor's, and
/// is named apart (`unavailable`) so it is not counted as the vendor's failure.
async fn record_failed_check(ctx: &Context, order: &Order, report: &Report) -> Result<(), Failure> {
    let names = |ours: bool| -> Vec<&str> {
        report
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Failed && c.keys_unavailable == ours)
            .map(|c| c.name)
            .collect()
    };
    let details = serde_json::json!({
        "outcome": "failed",
        "failed": names(false),
        "unavailable": names(true),
        // What the token was (its client, its jti's hash) when its signature held; never
        // the token.
        "token": report.summary,
    });
    let mut conn = ctx.db.acquire().await?;
    let event = events::NewEvent {
        order_id: &order.id,
        at: Utc::now(),
        actor: ContactRole::Vendor.actor(),
        kind: events::TOKEN_CHECKED,
        from: None,
        to: None,
        comment: None,
        details: Some(&details),
    };
    events::insert(&mut conn, &event).await?;
    Ok(())
}

/// What a contact does through `/api/v1` with its link token, each with its own allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCall {
    /// Reading the order.
    Read,
    /// Checking an access token: each one fetches keys and may move the order.
    TokenCheck,
}

impl ApiCall {
    /// Calls allowed per link token in [`API_WINDOW`].
    fn limit(self, settings: &crate::config::Settings) -> i64 {
        match self {
            ApiCall::Read => settings.api_reads_per_minute,
            ApiCall::TokenCheck => settings.api_token_checks_per_minute,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            ApiCall::Read => "api-read",
            ApiCall::TokenCheck => "api-token-check",
        }
    }
}

const API_WINDOW: chrono::Duration = chrono::Duration::minutes(1);

/// Counts one API call made with `token` (a link that opened): `Some(minutes)` to wait when
/// the token has used up its allowance for `call`. The table keeps only a hash of the token.
pub async fn count_api_call(
    ctx: &Context,
    token: &str,
    call: ApiCall,
) -> Result<Option<i64>, Failure> {
    let keys = [(
        rate_limit::key(call.kind(), token),
        call.limit(&ctx.settings),
    )];
    Ok(rate_limit::count_alone(&ctx.db, &keys, Utc::now(), API_WINDOW).await?)
}

/// Link resends allowed per email address, and per client address, in a window.
const RESENDS_PER_EMAIL: i64 = 3;
const RESENDS_PER_ADDRESS: i64 = 10;
const RESEND_WINDOW: chrono::Duration = chrono::Duration::hours(1);

#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    /// Too many requests for this email or from this address; minutes to wait.
    #[error("too many link requests")]
    Throttled { minutes: i64 },
    #[error(transparent)]
    Failed(#[from] Failure),
}
failure_converts_into!(ResendError);

/// New links for every order where `email` is a contact's address and whose link would still
/// work, in one email to the address as the order has it, written with the new links in one
/// transaction: the old links stop working when the new ones are sent. Whether anything
/// matched is not told to anyone, the log included.
pub async fn reissue_links(
    ctx: &Context,
    email: &EmailAddress,
    lang: Lang,
    client_address: &str,
) -> Result<(), ResendError> {
    let now = Utc::now();
    let limits = [
        (
            rate_limit::key("resend-email", email.as_str()),
            RESENDS_PER_EMAIL,
        ),
        (
            rate_limit::key("resend-address", client_address),
            RESENDS_PER_ADDRESS,
        ),
    ];
    if let Some(minutes) = rate_limit::count_alone(&ctx.db, &limits, now, RESEND_WINDOW).await? {
        return Err(ResendError::Throttled { minutes });
    }

    let days = i64::from(ctx.settings.workspace.link_days_after_close);
    let wanted = email.as_str().trim().to_lowercase();
    let mut tx = ctx.db.begin_write().await?;
    let orders =
        links::orders_for_email(&mut tx, &wanted, now - chrono::Duration::days(days)).await?;
    let mut issued = Vec::new();
    // The email goes to the address as the order has it, never to the one typed.
    let mut stored_address = None;
    for order in orders {
        for (role, address) in [
            (ContactRole::Vendor, &order.vendor_contact_email),
            (ContactRole::Consumer, &order.consumer_contact_email),
        ] {
            if address.to_lowercase() == wanted {
                stored_address.get_or_insert_with(|| address.clone());
                let token = crate::auth::random_token();
                links::replace(&mut tx, &order.id, role, &token).await?;
                issued.push(IssuedLink {
                    order: order.clone(),
                    role,
                    token,
                });
            }
        }
    }
    if let Some(to) = stored_address {
        let mail = render::links_mail(&to, &issued, lang, &ctx.settings)?;
        outbox::enqueue(&mut tx, None, &mail, ctx.message_id_domain()).await?;
        tx.commit().await?;
        ctx.mail_queued();
    }
    tracing::info!("link resend requested");
    Ok(())
}
