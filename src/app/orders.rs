//! Submitting an order (form and API alike) and finding one by its reference.

use chrono::Utc;
use tracing::Instrument as _;
use uuid::Uuid;

use super::{Context, Failure, failure_converts_into};
use crate::domain::{ContactRole, FieldError, NewOrder, OrderStatus, Submission, codes};
use crate::i18n::Lang;
use crate::mail::render::{self, ContactTokens, OrderFacts};
use crate::registry::{Lookup, PartyCheck, RegistryCheck};
use crate::store::events::{self, Event, NewEvent};
use crate::store::orders::{self, NewOrderRow, Order, normalise_reference};
use crate::store::{
    Backend, Conn, idempotency, is_unique_violation, links, outbox, queue, rate_limit, sha256_hex,
};

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The client address sent more orders this hour than allowed; minutes to wait.
    #[error("too many orders from this address")]
    RateLimited { minutes: i64 },
    /// An open order for the same vendor, consumer, environment and scope exists.
    #[error("an open order for the same organisations, environment and scope exists")]
    Duplicate,
    /// Enhetsregisteret does not know an organisation, or it was removed.
    #[error("refused by Enhetsregisteret")]
    Refused(Vec<(&'static str, FieldError)>),
    /// The submission's key made another order (with other fields) within its lifetime.
    #[error("the idempotency key was used for another order")]
    KeyReused,
    #[error(transparent)]
    Failed(#[from] Failure),
}
failure_converts_into!(SubmitError);

#[derive(Debug, Clone)]
pub struct Created {
    pub reference: String,
    /// An earlier submission under the same key made the order: nothing was stored or
    /// mailed this time.
    pub replayed: bool,
}

/// How long a submission's key holds: a retry within it gets the first answer; after it the
/// key is forgotten.
pub const KEY_LIFETIME: chrono::Duration = chrono::Duration::hours(24);

/// The window of the orders-per-address limit.
const HOUR: chrono::Duration = chrono::Duration::hours(1);

/// Takes a checked order: counts it against the client address's hourly limit, looks both
/// organisations up in Enhetsregisteret, then stores it with its first event, the contacts'
/// links and its emails in one transaction, and wakes the mail worker.
///
/// With a `submission` (a key), a second submission under the same key within
/// [`KEY_LIFETIME`] gets the first one's order back (`replayed`) if it carries the same
/// order, and [`SubmitError::KeyReused`] if not; the key is stored in the order's transaction.
pub async fn submit(
    ctx: &Context,
    order: &NewOrder,
    lang: Lang,
    actor: &str,
    client_address: &str,
    submission: Option<&Submission>,
) -> Result<Created, SubmitError> {
    let limits = [(
        rate_limit::key("orders-address", client_address),
        ctx.settings.orders_per_hour,
    )];
    // On SQLite the order is counted in its own transaction: one fsync per order, not two.
    // On PostgreSQL it is counted at once, on its own (rate_limit::count_alone): in the
    // order's transaction, the address's row stayed locked until the order committed, so a
    // burst from one address committed one order at a time (0.41x of raw inserts fell to
    // 0.22x).
    let counted_at_once = ctx.db.backend() == Backend::Postgres;
    if let Some(earlier) = answered_early(ctx, submission, &limits, counted_at_once).await? {
        return Ok(earlier);
    }
    // The limits still to count: with the order, or, if it is refused, on their own.
    let later: &[(String, i64)] = if counted_at_once { &[] } else { &limits };
    let check = match look_up(ctx, order)
        .instrument(tracing::debug_span!("registry_lookup"))
        .await
    {
        Err(refused @ SubmitError::Refused(_)) => return Err(counted(ctx, later, refused).await),
        other => other?,
    };

    // A drawn reference may be taken; the unique index says so and another is drawn.
    const ATTEMPTS: usize = 3;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let reference = orders::new_reference();
        let inputs = Attempt {
            order,
            registry_check: check.as_deref(),
            lang,
            actor,
            submission,
            limits: later,
        };
        let stored = store(ctx, &inputs, &reference);
        match stored.instrument(tracing::debug_span!("store")).await {
            Err(SubmitError::Failed(Failure::Database(err))) if is_unique_violation(&err) => {
                // A simultaneous submission under the same key won the race (its key row),
                // or a simultaneous duplicate did (the partial unique index), or the reference
                // was taken: tell them apart by looking for the key, then the open order.
                let mut conn = ctx.db.acquire().await?;
                if let Some(submission) = submission
                    && let Some(earlier) = earlier(&mut conn, submission).await?
                {
                    return Ok(earlier);
                }
                let duplicate = orders::open_duplicate_exists(&mut conn, order).await?;
                // No connection is held while waiting for the turn to write: the writer
                // before us may need one from the pool.
                drop(conn);
                if duplicate {
                    return Err(counted(ctx, later, SubmitError::Duplicate).await);
                }
                if attempt >= ATTEMPTS {
                    return Err(err.into());
                }
            }
            Ok(created) if created.replayed => return Ok(created),
            Ok(created) => {
                tracing::info!(reference = %created.reference, "order received");
                ctx.mail_queued();
                return Ok(created);
            }
            Err(SubmitError::Duplicate) => {
                return Err(counted(ctx, later, SubmitError::Duplicate).await);
            }
            Err(other) => return Err(other),
        }
    }
}

/// Before the registry is asked: a retry under a known key gets its first answer, and an
/// address over its limit is refused. The attempt is counted here if `count` (PostgreSQL);
/// otherwise the limit is only looked at, and the order counted in the order's transaction.
async fn answered_early(
    ctx: &Context,
    submission: Option<&Submission>,
    limits: &[(String, i64)],
    count: bool,
) -> Result<Option<Created>, SubmitError> {
    let mut conn = ctx.db.acquire().await?;
    if let Some(submission) = submission
        && let Some(earlier) = earlier(&mut conn, submission).await?
    {
        return Ok(Some(earlier));
    }
    drop(conn);
    let over = async {
        if count {
            rate_limit::count_alone(&ctx.db, limits, Utc::now(), HOUR).await
        } else {
            rate_limit::over(&mut *ctx.db.acquire().await?, limits, Utc::now(), HOUR).await
        }
    }
    .instrument(tracing::debug_span!("rate_limit"))
    .await?;
    match over {
        Some(minutes) => Err(SubmitError::RateLimited { minutes }),
        None => Ok(None),
    }
}

/// `refusal`, once the attempt is counted against the address's limit: refused orders
/// cost the registry a look-up too. A failure to count becomes the answer.
async fn counted(ctx: &Context, limits: &[(String, i64)], refusal: SubmitError) -> SubmitError {
    if limits.is_empty() {
        return refusal;
    }
    match rate_limit::count_alone(&ctx.db, limits, Utc::now(), HOUR).await {
        Ok(_) => refusal,
        Err(err) => err.into(),
    }
}

/// The key's hash as stored: the scope keeps the API's and the form's keys apart.
fn key_hash(submission: &Submission) -> String {
    sha256_hex(&format!(
        "{}:{}",
        submission.scope.as_str(),
        submission.key.as_str()
    ))
}

/// The order an earlier submission under the same key made, if that submission carried the
/// same order; `KeyReused` if it carried another.
async fn earlier(conn: &mut Conn, submission: &Submission) -> Result<Option<Created>, SubmitError> {
    let since = Utc::now() - KEY_LIFETIME;
    let Some(stored) = idempotency::find(conn, &key_hash(submission), since).await? else {
        return Ok(None);
    };
    if stored.request_hash != submission.request_hash {
        return Err(SubmitError::KeyReused);
    }
    tracing::info!(reference = %stored.reference, "order submitted again under its key");
    Ok(Some(Created {
        reference: stored.reference,
        replayed: true,
    }))
}

/// Enhetsregisteret's answers for both parties, as JSON for the case handler; unknown or
/// removed organisations refuse the order.
async fn look_up(ctx: &Context, order: &NewOrder) -> Result<Option<String>, SubmitError> {
    let environment = order.environment();
    let (vendor, consumer) = tokio::join!(
        ctx.registry
            .lookup(order.vendor().org_number().as_str(), environment),
        ctx.registry
            .lookup(order.consumer().org_number().as_str(), environment),
    );
    let refused: Vec<_> = [
        ("vendor_org_number", &vendor),
        ("consumer_org_number", &consumer),
    ]
    .into_iter()
    .filter_map(|(field, lookup)| match lookup {
        Lookup::NotFound => Some((field, FieldError::new(codes::ORG_NOT_FOUND))),
        Lookup::Removed => Some((field, FieldError::new(codes::ORG_REMOVED))),
        _ => None,
    })
    .collect();
    if !refused.is_empty() {
        return Err(SubmitError::Refused(refused));
    }
    let check = RegistryCheck {
        vendor: PartyCheck::new(vendor, order.vendor().org_name().as_str()),
        consumer: PartyCheck::new(consumer, order.consumer().org_name().as_str()),
    };
    Ok(serde_json::to_string(&check).ok())
}

/// One submission, checked and looked up, on its way into the database.
struct Attempt<'a> {
    order: &'a NewOrder,
    registry_check: Option<&'a str>,
    lang: Lang,
    actor: &'a str,
    submission: Option<&'a Submission>,
    limits: &'a [(String, i64)],
}

/// Everything a new order writes, in one transaction: all of it is stored or none of it.
async fn store(
    ctx: &Context,
    attempt: &Attempt<'_>,
    reference: &str,
) -> Result<Created, SubmitError> {
    let Attempt {
        order,
        registry_check,
        lang,
        actor,
        submission,
        limits,
    } = *attempt;
    let id = Uuid::now_v7().to_string();
    let now = Utc::now();
    let tokens = ContactTokens::issue();
    let facts = OrderFacts::from_new(order, reference, &ctx.settings, now);
    let mails = tracing::debug_span!("render_mails")
        .in_scope(|| render::new_order_mails(&facts, order, lang, &ctx.settings, &tokens))?;

    let mut tx = ctx
        .db
        .begin_write()
        .instrument(tracing::debug_span!("write_turn"))
        .await?;
    // A submission under the same key may have committed since the first look.
    if let Some(submission) = submission
        && let Some(earlier) = earlier(&mut tx, submission).await?
    {
        return Ok(earlier);
    }
    if orders::open_duplicate_exists(&mut tx, order).await? {
        // On PostgreSQL a same-key submission may have committed between the two looks; its
        // order and key commit together, so if its order is seen, its key is seen now too.
        if let Some(submission) = submission
            && let Some(earlier) = earlier(&mut tx, submission).await?
        {
            return Ok(earlier);
        }
        return Err(SubmitError::Duplicate);
    }
    // Counted with the order, and checked again: simultaneous submissions from one address
    // all passed the first look. Over the limit, nothing of this order is kept.
    if !limits.is_empty()
        && let Some(minutes) = rate_limit::count(&mut tx, limits, now, HOUR).await?
    {
        return Err(SubmitError::RateLimited { minutes });
    }
    let row = NewOrderRow {
        id: &id,
        reference,
        order,
        language: lang,
        registry_check,
        at: now,
    };
    orders::insert(&mut tx, &row).await?;
    if let Some(submission) = submission {
        let hash = key_hash(submission);
        let expired = now - KEY_LIFETIME;
        idempotency::insert(&mut tx, &hash, &submission.request_hash, &id, now, expired).await?;
    }
    let event = NewEvent {
        order_id: &id,
        at: now,
        actor,
        kind: "created",
        from: None,
        to: Some(OrderStatus::Received),
        comment: None,
        details: None,
    };
    write_companions(&mut tx, ctx, &event, &tokens, &mails).await?;
    tx.commit()
        .instrument(tracing::debug_span!("commit"))
        .await?;
    Ok(Created {
        reference: reference.to_owned(),
        replayed: false,
    })
}

/// What a new order writes beside its row: its first event, its contacts' links, its place in
/// the status counts and its emails.
async fn write_companions(
    conn: &mut Conn,
    ctx: &Context,
    event: &NewEvent<'_>,
    tokens: &ContactTokens,
    mails: &[outbox::OutgoingMail],
) -> Result<(), sqlx::Error> {
    events::insert(conn, event).await?;
    for role in ContactRole::ALL {
        links::add(conn, event.order_id, role, tokens.of(role)).await?;
    }
    for mail in mails {
        outbox::enqueue(conn, Some(event.order_id), mail, ctx.message_id_domain()).await?;
    }
    // Last: its row is shared with other orders (see queue::count_move) and stays locked
    // until the commit, so it is held for the commit alone, not for the inserts too.
    queue::count_move(conn, None, OrderStatus::Received).await
}

/// The order a reference names, as typed by a person (case and spaces do not matter).
/// How a rejected or withdrawn order ended, from its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// The status it was in when it ended.
    pub from: Option<OrderStatus>,
    /// The registry's reason for a rejection, or the vendor's for a withdrawal.
    pub reason: Option<String>,
}

/// The ending of `order` if it was rejected or withdrawn: the last event that moved it there.
pub fn ending(order: &Order, events: &[Event]) -> Option<Ending> {
    if !matches!(order.status, OrderStatus::Rejected | OrderStatus::Withdrawn) {
        return None;
    }
    let last = events
        .iter()
        .rev()
        .find(|e| e.kind == "status_changed" && e.to_status == Some(order.status));
    Some(Ending {
        from: last.and_then(|e| e.from_status),
        reason: last.and_then(|e| e.comment.clone()),
    })
}

/// The order for its receipt, with how it ended if it was stopped (the receipt shows how far
/// it came, never the reason: a reference is not a secret).
pub async fn receipt(ctx: &Context, raw: &str) -> Result<Option<(Order, Option<Ending>)>, Failure> {
    let Some(order) = by_reference(ctx, raw).await? else {
        return Ok(None);
    };
    let ending = if order.status.is_open() {
        None
    } else {
        let mut conn = ctx.db.acquire().await?;
        ending(&order, &events::for_order(&mut conn, &order.id).await?)
    };
    Ok(Some((order, ending)))
}

pub async fn by_reference(ctx: &Context, raw: &str) -> Result<Option<Order>, Failure> {
    let Some(reference) = normalise_reference(raw) else {
        return Ok(None);
    };
    let mut conn = ctx.db.acquire().await?;
    Ok(orders::find_by_reference(&mut conn, &reference).await?)
}
