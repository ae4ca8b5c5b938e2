//! TT02 loading in batches: a case handler picks test orders in `received` from the queue,
//! is shown the organisations to load (each once, named as Enhetsregisteret knows them), and
//! confirms. In one transaction every order still as it was shown moves to `tt02_loading`
//! through the workflow's own move (its event, its contacts' emails, the status counts), and
//! the list is queued for Altinn's loading mailbox when one is configured.

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use futures_util::StreamExt;

use super::workflow::{self, MoveDetails, MoveError, MoveRequest};
use super::{Context, Failure, failure_converts_into};
use crate::domain::{Action, Environment, OrderStatus};
use crate::mail::loading::{self, LoadingList};
use crate::registry::Lookup;
use crate::store::loading_batches::{self, LeftOutRow};
use crate::store::orders::{self, Order};
use crate::store::outbox::{self, MailSummary};

/// The most orders one batch takes: two queue pages' worth, and few enough that the
/// register is asked for their organisations within a page load.
pub const MAX_ORDERS: usize = 100;
/// Register look-ups under way at once.
const LOOKUPS_AT_ONCE: usize = 8;
/// How many of the register's own timeouts all look-ups of one page may take together: a
/// register that hangs costs the page this long, not a timeout per organisation.
const LOOKUP_ROUNDS: u32 = 2;

/// Why a selected order cannot be loaded into TT02.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unloadable {
    /// No order has the reference.
    Unknown,
    /// Production orders are never loaded into TT02.
    Production,
    /// Only orders in `received` can be sent to loading.
    NotReceived(OrderStatus),
}

impl Unloadable {
    /// Why `order` cannot be loaded, if it cannot.
    fn of(order: &Order) -> Option<Self> {
        if order.environment != Environment::Test {
            Some(Unloadable::Production)
        } else if order.status != OrderStatus::Received {
            Some(Unloadable::NotReceived(order.status))
        } else {
            None
        }
    }
}

/// What the confirmation page shows: the orders that can be loaded (with the versions the
/// confirmation will name), the ones that cannot and why, and their organisations.
pub struct Preview {
    pub orders: Vec<Order>,
    pub problems: Vec<(String, Unloadable)>,
    pub list: LoadingList,
}

/// The selected orders (normalised references) as they stand now.
pub async fn preview(ctx: &Context, references: &[String]) -> Result<Preview, Failure> {
    let found = read(ctx, references).await?;
    let mut orders = Vec::new();
    let mut problems = Vec::new();
    for (reference, order) in found {
        match order {
            None => problems.push((reference, Unloadable::Unknown)),
            Some(order) => match Unloadable::of(&order) {
                Some(problem) => problems.push((reference, problem)),
                None => orders.push(order),
            },
        }
    }
    let list = LoadingList::new(&orders, &look_up(ctx, &orders).await);
    Ok(Preview {
        orders,
        problems,
        list,
    })
}

/// An order as the confirmation page showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pick {
    pub reference: String,
    pub version: i64,
}

/// Why a confirmed order was left out of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOut {
    /// Someone changed it after the confirmation page was shown; it is now at this status.
    Changed(OrderStatus),
    /// It is as shown, but cannot be loaded (only a hand-made request gets here).
    Unloadable(Unloadable),
}

impl LeftOut {
    /// As `loading_batches` stores it.
    fn row(&self, reference: &str) -> LeftOutRow {
        let (reason, status) = match self {
            LeftOut::Changed(status) => ("changed", Some(*status)),
            LeftOut::Unloadable(Unloadable::Unknown) => ("unknown", None),
            LeftOut::Unloadable(Unloadable::Production) => ("production", None),
            LeftOut::Unloadable(Unloadable::NotReceived(status)) => ("not_received", Some(*status)),
        };
        LeftOutRow {
            reference: reference.to_owned(),
            reason: reason.to_owned(),
            status: status.map(|s| s.as_str().to_owned()),
        }
    }

    /// From what `loading_batches` stores; `None` for a row this code did not write.
    fn from_row(row: &LeftOutRow) -> Option<Self> {
        let status = || row.status.as_deref().and_then(OrderStatus::parse);
        Some(match row.reason.as_str() {
            "changed" => LeftOut::Changed(status()?),
            "unknown" => LeftOut::Unloadable(Unloadable::Unknown),
            "production" => LeftOut::Unloadable(Unloadable::Production),
            "not_received" => LeftOut::Unloadable(Unloadable::NotReceived(status()?)),
            _ => return None,
        })
    }
}

/// What a confirmed batch did.
pub struct Requested {
    /// The orders moved to `tt02_loading`, as they are now.
    pub moved: Vec<Order>,
    pub left_out: Vec<(String, LeftOut)>,
    /// The organisations of the moved orders.
    pub list: LoadingList,
    /// Where the list was queued to, when a mailbox is configured and an order moved.
    pub mailed_to: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A batch with this id was requested before (the confirmation was sent again): nothing
    /// is done twice.
    #[error("batch already requested")]
    Repeated,
    /// No order has this reference: the request was not made by the confirmation page.
    #[error("no such order")]
    NotFound(String),
    /// A production order, where only test orders can be listed.
    #[error("not a test order")]
    NotTest(String),
    #[error(transparent)]
    Failed(#[from] Failure),
}
failure_converts_into!(BatchError);

/// Moves every picked order that is still at the version the case handler saw to
/// `tt02_loading`, and queues the list of their organisations for Altinn's loading mailbox,
/// all in one transaction, recorded as the batch `batch` (the id its confirmation page was
/// given). Orders that moved meanwhile are left out and named; an unknown reference refuses
/// the whole batch, with nothing stored, and so does a batch in which nothing moved (the same
/// request would answer the same). A batch id already used is [`BatchError::Repeated`].
pub async fn request(
    ctx: &Context,
    batch: &str,
    picks: &[Pick],
    actor: &str,
) -> Result<Requested, BatchError> {
    if exists(ctx, batch).await? {
        return Err(BatchError::Repeated);
    }
    let mut seen = BTreeSet::new();
    let mut picks: Vec<&Pick> = picks
        .iter()
        .filter(|p| seen.insert(p.reference.as_str()))
        .collect();
    // Moved in the order of their references, as their rows are locked; the results are
    // given back in the order picked.
    let picked_order: Vec<String> = picks.iter().map(|p| p.reference.clone()).collect();
    picks.sort_by(|a, b| a.reference.cmp(&b.reference));
    // Read and named before the transaction: the register is asked over the network, and
    // SQLite's write lock must not wait on it. The transaction reads each order again.
    let mut found = Vec::new();
    for (reference, order) in read(ctx, &picked_order).await? {
        found.push(order.ok_or(BatchError::NotFound(reference))?);
    }
    let lookups = look_up(ctx, &found).await;
    let mut tx = ctx.db.begin_write().await?;
    // Claimed first, before any row is locked: a second request of the same confirmation
    // that got past the check above waits here for this one, then finds the id taken.
    if !loading_batches::claim(&mut tx, batch, actor).await? {
        return Err(BatchError::Repeated);
    }
    let references: Vec<&str> = picks.iter().map(|p| p.reference.as_str()).collect();
    orders::lock_rows(&mut tx, ctx.db.backend(), &references).await?;
    let (mut moved, mut left_out) = move_picked(ctx, &mut tx, &picks, actor, batch).await?;
    if moved.is_empty() {
        // Nothing changed: the claim is rolled back with the transaction.
        return Ok(Requested {
            moved,
            left_out,
            list: LoadingList::new(&[], &lookups),
            mailed_to: None,
        });
    }
    let position = |reference: &str| picked_order.iter().position(|r| r == reference);
    moved.sort_by_key(|o| position(&o.reference));
    left_out.sort_by_key(|(reference, _)| position(reference));
    let list = LoadingList::new(&moved, &lookups);
    let mailbox = ctx.settings.mail.altinn_loading_mailbox.as_ref();
    let mailed_to = mailbox.cloned();
    let mut mail_id = None;
    if let Some(to) = &mailed_to {
        let mail = loading::loading_mail(&list, to, &ctx.settings, Utc::now())?;
        mail_id = Some(outbox::enqueue(&mut tx, None, &mail, ctx.message_id_domain()).await?);
    }
    let moved_references: Vec<String> = moved.iter().map(|o| o.reference.clone()).collect();
    let left_out_rows: Vec<LeftOutRow> = left_out.iter().map(|(r, why)| why.row(r)).collect();
    let mail_id = mail_id.as_deref();
    loading_batches::finish(&mut tx, batch, &moved_references, &left_out_rows, mail_id).await?;
    tx.commit().await?;
    for order in &moved {
        workflow::log_move(order, actor);
    }
    tracing::info!(
        batch,
        moved = moved.len(),
        left_out = left_out.len(),
        mailed = mailed_to.is_some(),
        "TT02 loading requested"
    );
    ctx.mail_queued();
    Ok(Requested {
        moved,
        left_out,
        list,
        mailed_to,
    })
}

/// Whether a batch has the id `batch`.
async fn exists(ctx: &Context, batch: &str) -> Result<bool, Failure> {
    let mut conn = ctx.db.acquire().await?;
    Ok(loading_batches::find(&mut conn, batch).await?.is_some())
}

/// A requested batch as its result page shows it.
pub struct Batch {
    /// The orders it moved, as they are now.
    pub moved: Vec<Order>,
    pub left_out: Vec<(String, LeftOut)>,
    /// The list of the moved orders' organisations.
    pub list: LoadingList,
    /// The list's email, when a mailbox took it and the outbox still has it.
    pub mail: Option<MailSummary>,
    /// Whether the list was queued for a mailbox (its email may since have been purged).
    pub mailed: bool,
}

/// The batch with the id `batch`, if there is one.
pub async fn batch(ctx: &Context, batch: &str) -> Result<Option<Batch>, Failure> {
    let row = {
        let mut conn = ctx.db.acquire().await?;
        loading_batches::find(&mut conn, batch).await?
    };
    let Some(row) = row else { return Ok(None) };
    let mut moved = Vec::new();
    for (_, order) in read(ctx, &row.moved).await? {
        moved.extend(order);
    }
    let left_out = row
        .left_out
        .iter()
        .filter_map(|r| Some((r.reference.clone(), LeftOut::from_row(r)?)))
        .collect();
    let list = LoadingList::new(&moved, &look_up(ctx, &moved).await);
    let mail = match &row.mail_id {
        Some(id) => outbox::summary(&mut *ctx.db.acquire().await?, id).await?,
        None => None,
    };
    Ok(Some(Batch {
        moved,
        left_out,
        list,
        mail,
        mailed: row.mail_id.is_some(),
    }))
}

/// Moves each pick in `tx` as the single-order form does, its event marked with the batch.
async fn move_picked(
    ctx: &Context,
    tx: &mut crate::store::Conn,
    picks: &[&Pick],
    actor: &str,
    batch: &str,
) -> Result<(Vec<Order>, Vec<(String, LeftOut)>), BatchError> {
    let details = serde_json::json!({ "batch": batch });
    let mut moved = Vec::new();
    let mut left_out = Vec::new();
    for pick in picks {
        let request = MoveRequest {
            action: Action::StartTt02Loading,
            expected_version: pick.version,
            actor,
        };
        let with_batch = |_: &Order| {
            Ok(MoveDetails {
                event_details: Some(details.clone()),
                ..MoveDetails::default()
            })
        };
        let reference = pick.reference.clone();
        match workflow::move_within(ctx, tx, &pick.reference, &request, with_batch).await {
            Ok(order) => moved.push(order),
            Err(MoveError::Conflict(now)) => {
                left_out.push((reference, LeftOut::Changed(now.status)))
            }
            Err(MoveError::Illegal(_, order)) => {
                let why = Unloadable::of(&order).unwrap_or(Unloadable::NotReceived(order.status));
                left_out.push((reference, LeftOut::Unloadable(why)));
            }
            Err(MoveError::NotFound) => return Err(BatchError::NotFound(reference)),
            Err(MoveError::Invalid(..)) => {
                let err = anyhow::anyhow!("a batch move has no input to refuse");
                return Err(Failure::Internal(err).into());
            }
            Err(MoveError::Failed(failure)) => return Err(failure.into()),
        }
    }
    Ok((moved, left_out))
}

/// The loading list of the orders named, whatever their status now (the orders of a batch
/// have moved on to `tt02_loading`): the CSV offered for download when no mailbox is set.
pub async fn list(ctx: &Context, references: &[String]) -> Result<LoadingList, BatchError> {
    let mut orders = Vec::new();
    for (reference, order) in read(ctx, references).await? {
        let order = order.ok_or_else(|| BatchError::NotFound(reference.clone()))?;
        if order.environment != Environment::Test {
            return Err(BatchError::NotTest(reference));
        }
        orders.push(order);
    }
    Ok(LoadingList::new(&orders, &look_up(ctx, &orders).await))
}

/// Each reference with its order, if there is one, in the order given.
async fn read(
    ctx: &Context,
    references: &[String],
) -> Result<Vec<(String, Option<Order>)>, Failure> {
    let mut conn = ctx.db.acquire().await?;
    let mut found = Vec::with_capacity(references.len());
    for reference in references {
        let order = orders::find_by_reference(&mut conn, reference).await?;
        found.push((reference.clone(), order));
    }
    Ok(found)
}

/// What Enhetsregisteret says about each organisation of `orders`, by number, a few asked at
/// once (answers are cached, so the confirmation and the batch after it ask once). A number
/// not answered within the deadline is missing, and the list names it as the order does.
async fn look_up(ctx: &Context, orders: &[Order]) -> HashMap<String, Lookup> {
    let deadline = ctx.settings.enhetsregisteret_timeout * LOOKUP_ROUNDS;
    let numbers: HashMap<&str, Environment> = orders
        .iter()
        .flat_map(|o| {
            [
                (o.vendor_org_number.as_str(), o.environment),
                (o.consumer_org_number.as_str(), o.environment),
            ]
        })
        .collect();
    futures_util::stream::iter(numbers)
        .map(|(number, environment)| async move {
            let lookup = ctx.registry.lookup(number, environment).await;
            (number.to_owned(), lookup)
        })
        .buffer_unordered(LOOKUPS_AT_ONCE)
        .take_until(tokio::time::sleep(deadline))
        .collect()
        .await
}
