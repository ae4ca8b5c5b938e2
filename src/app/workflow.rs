//! Moving an order through its workflow, and the case handlers' other work on one order:
//! notes, assignment, and everything the order page shows.

use std::collections::HashMap;

use chrono::Utc;

use super::{Context, Failure, failure_converts_into};
use crate::domain::{
    Action, ContactRole, FieldError, IllegalTransition, SyntheticNationalId, codes, optional_text,
};
use crate::mail::render::{self, ContactTokens};
use crate::store::events::{self, Event, NewEvent};
use crate::store::orders::{self, Order};
use crate::store::outbox::{self, MailSummary};
use crate::store::queue::{self, QueueRow};
use crate::store::stats;
use crate::store::users;
use crate::store::{Conn, links};

/// Longest comment, reason or note accepted.
pub const MAX_TEXT: usize = 2000;

/// A status move as someone asked for it.
#[derive(Debug, Clone)]
pub struct MoveRequest<'a> {
    pub action: Action,
    /// The version the person saw; the move fails if the order has moved on since.
    pub expected_version: i64,
    pub actor: &'a str,
}

/// What a move carries besides its new status, once its input is checked.
#[derive(Debug, Clone, Default)]
pub struct MoveDetails {
    /// Goes on the event and into both contacts' emails.
    pub comment: Option<String>,
    /// Stored on the order (for `mark_tt02_loaded`); never on the event or in email.
    pub tt02_identity: Option<SyntheticNationalId>,
    /// Kind-specific facts for the event (never secrets).
    pub event_details: Option<serde_json::Value>,
}

/// The fields a person got wrong, by form field name.
pub type FieldErrors = Vec<(&'static str, FieldError)>;

#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("no such order")]
    NotFound,
    /// Someone else changed the order since the version the request was based on.
    #[error("the order was changed by someone else")]
    Conflict(Box<Order>),
    /// The workflow has no such step from where the order stands.
    #[error("{0}")]
    Illegal(IllegalTransition, Box<Order>),
    /// The move is possible, but what came with it is not valid.
    #[error("invalid input")]
    Invalid(FieldErrors, Box<Order>),
    #[error(transparent)]
    Failed(#[from] Failure),
}
failure_converts_into!(MoveError);

/// Moves an order: in one transaction it checks the version the person saw and that the
/// workflow allows the step, lets `details` check what came with it, then stores the new
/// status, the event and the emails that tell both contacts. Returns the moved order.
pub async fn move_order(
    ctx: &Context,
    reference: &str,
    request: &MoveRequest<'_>,
    details: impl FnOnce(&Order) -> Result<MoveDetails, FieldErrors>,
) -> Result<Order, MoveError> {
    let mut tx = ctx.db.begin_write().await?;
    let moved = move_within(ctx, &mut tx, reference, request, details).await?;
    tx.commit().await?;
    log_move(&moved, request.actor);
    ctx.mail_queued();
    Ok(moved)
}

/// Everything [`move_order`] writes, in the caller's transaction (`conn`), which may move
/// other orders too (the TT02 loading batch): the caller commits, then calls [`log_move`]
/// for each order and wakes the mail worker. A refusal (not found, a conflict, an illegal
/// step, invalid input) has written nothing, so the transaction may go on; after a
/// `Failed` it must not be committed.
pub(super) async fn move_within(
    ctx: &Context,
    conn: &mut Conn,
    reference: &str,
    request: &MoveRequest<'_>,
    details: impl FnOnce(&Order) -> Result<MoveDetails, FieldErrors>,
) -> Result<Order, MoveError> {
    let order = orders::find_by_reference(conn, reference)
        .await?
        .ok_or(MoveError::NotFound)?;
    if order.version != request.expected_version {
        return Err(MoveError::Conflict(Box::new(order)));
    }
    let to = match order.status.transition(order.environment, request.action) {
        Ok(to) => to,
        Err(illegal) => return Err(MoveError::Illegal(illegal, Box::new(order))),
    };
    let details = match details(&order) {
        Ok(details) => details,
        Err(errors) => return Err(MoveError::Invalid(errors, Box::new(order))),
    };
    let comment = details.comment.as_deref();
    // Each contact's email carries a link of its own, stored with the move.
    let tokens = ContactTokens::issue();
    let mails = render::status_change_mails(&order, to, comment, &ctx.settings, &tokens)?;
    let now = Utc::now();
    let identity = details
        .tt02_identity
        .as_ref()
        .map(SyntheticNationalId::as_str);
    if !orders::update_status(conn, &order, to, now, identity).await? {
        // Only reachable on PostgreSQL, where a concurrent transaction may commit between our
        // read and our update; SQLite's write lock is held from the start. The update waited
        // for that commit, so a new read (READ COMMITTED) sees the order as it now is.
        let current = orders::find_by_reference(conn, reference)
            .await?
            .ok_or(MoveError::NotFound)?;
        return Err(MoveError::Conflict(Box::new(current)));
    }
    let event = NewEvent {
        order_id: &order.id,
        at: now,
        actor: request.actor,
        kind: "status_changed",
        from: Some(order.status),
        to: Some(to),
        comment,
        details: details.event_details.as_ref(),
    };
    events::insert(conn, &event).await?;
    for role in ContactRole::ALL {
        links::add(conn, &order.id, role, tokens.of(role)).await?;
    }
    queue::count_move(conn, Some(order.status), to).await?;
    if !to.is_open() {
        // Kept now, with the move, so the statistics never read an order's events again.
        stats::keep_status_times(conn, &order.id, order.created_at, now).await?;
    }
    for mail in &mails {
        outbox::enqueue(conn, Some(&order.id), mail, ctx.message_id_domain()).await?;
    }
    // The order as the update left it, without reading it back.
    Ok(Order {
        status: to,
        version: order.version + 1,
        updated_at: now,
        closed_at: (!to.is_open()).then_some(now).or(order.closed_at),
        tt02_identity: identity.map(str::to_owned).or(order.tt02_identity),
        ..order
    })
}

/// Logs a move once its transaction has committed: the reference and the kind of actor,
/// nothing about the people.
pub(super) fn log_move(moved: &Order, actor: &str) {
    let actor_kind = actor.split(':').next().unwrap_or("");
    tracing::info!(reference = %moved.reference, to = %moved.status, actor = actor_kind, "status changed");
}

/// A case handler's step as posted from the order page, unchecked.
#[derive(Debug, Clone, Default)]
pub struct CaseStep {
    /// The message to both contacts; the reason, for a rejection.
    pub text: String,
    /// For `mark_tt02_loaded`: the consumer's TT02 login identity.
    pub tt02_identity: String,
}

/// A case handler moves an order. Besides the workflow's checks: a rejection needs a reason,
/// loading into TT02 a synthetic identity, and a message to the contacts may not carry a
/// national identity number, since it is emailed.
pub async fn change_status(
    ctx: &Context,
    reference: &str,
    request: &MoveRequest<'_>,
    step: &CaseStep,
) -> Result<Order, MoveError> {
    let action = request.action;
    move_order(ctx, reference, request, |_| {
        let mut errors = Vec::new();
        let field = text_field(action);
        let comment = match optional_text(&step.text, MAX_TEXT, true) {
            Ok(None) if action == Action::Reject => {
                errors.push((field, FieldError::new(codes::REQUIRED)));
                None
            }
            Ok(text) => text,
            Err(error) => {
                errors.push((field, error));
                None
            }
        };
        if comment.as_deref().is_some_and(contains_national_id) {
            errors.push((field, FieldError::new(codes::NATIONAL_ID_IN_TEXT)));
        }
        let tt02_identity = if action == Action::MarkTt02Loaded {
            SyntheticNationalId::parse(&step.tt02_identity)
                .map_err(|error| errors.push(("tt02_identity", error)))
                .ok()
        } else {
            None
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(MoveDetails {
            comment,
            tt02_identity,
            event_details: None,
        })
    })
    .await
}

/// The form field a step's text is typed into.
pub fn text_field(action: Action) -> &'static str {
    if action == Action::Reject {
        "reason"
    } else {
        "comment"
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

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("no such order")]
    NotFound,
    #[error("invalid input")]
    Invalid(FieldErrors, Box<Order>),
    #[error(transparent)]
    Failed(#[from] Failure),
}
failure_converts_into!(CaseError);

async fn find(ctx: &Context, reference: &str) -> Result<Order, CaseError> {
    super::orders::by_reference(ctx, reference)
        .await?
        .ok_or(CaseError::NotFound)
}

/// An internal note: an event nobody is mailed about.
pub async fn add_note(
    ctx: &Context,
    reference: &str,
    actor: &str,
    text: &str,
) -> Result<Order, CaseError> {
    let order = find(ctx, reference).await?;
    let text = match optional_text(text, MAX_TEXT, true) {
        Ok(Some(text)) => text,
        Ok(None) => {
            let required = FieldError::new(codes::REQUIRED);
            return Err(CaseError::Invalid(
                vec![("note", required)],
                Box::new(order),
            ));
        }
        Err(error) => return Err(CaseError::Invalid(vec![("note", error)], Box::new(order))),
    };
    let mut conn = ctx.db.acquire().await?;
    let event = NewEvent {
        order_id: &order.id,
        at: Utc::now(),
        actor,
        kind: "note",
        from: None,
        to: None,
        comment: Some(&text),
        details: None,
    };
    events::insert(&mut conn, &event).await?;
    Ok(order)
}

/// Assigns the order to `user_id`, or to nobody. The version stays: who works an order is
/// not part of its state, and must not make a colleague's status change fail.
pub async fn assign(
    ctx: &Context,
    reference: &str,
    user_id: Option<&str>,
    actor: &str,
) -> Result<Order, CaseError> {
    let order = find(ctx, reference).await?;
    if order.assigned_to.as_deref() == user_id {
        return Ok(order);
    }
    let mut tx = ctx.db.begin_write().await?;
    orders::set_assignee(&mut tx, &order.id, user_id).await?;
    let details = user_id.map(|id| serde_json::json!({ "user": id }));
    let event = NewEvent {
        order_id: &order.id,
        at: Utc::now(),
        actor,
        kind: if user_id.is_some() {
            "assigned"
        } else {
            "unassigned"
        },
        from: None,
        to: None,
        comment: None,
        details: details.as_ref(),
    };
    events::insert(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(order)
}

/// Everything the order page shows besides the order itself.
pub struct CaseFile {
    pub events: Vec<Event>,
    pub mails: Vec<MailSummary>,
    /// Other orders between the same two organisations, newest first.
    pub same_pair: Vec<QueueRow>,
    /// Every user's name by id, for who did what and who has the order.
    pub names: HashMap<String, String>,
}

/// The order's timeline, emails, related orders and the names they mention.
pub async fn case_file(ctx: &Context, order: &Order) -> Result<CaseFile, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(CaseFile {
        events: events::for_order(&mut conn, &order.id).await?,
        mails: outbox::for_order(&mut conn, &order.id).await?,
        same_pair: queue::same_pair(&mut conn, order).await?,
        names: users::names(&mut conn).await?,
    })
}

/// The statuses a case handler may move an order to from where it stands, as actions.
pub fn case_handler_actions(order: &Order) -> Vec<Action> {
    order
        .status
        .allowed_actions(order.environment)
        .into_iter()
        .filter(|a| a.is_case_handler_action())
        .collect()
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
