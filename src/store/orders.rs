//! Queries on `orders` and `order_events`.

use chrono::Utc;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::links::{self, ContactRole};
use super::outbox::{self, OutgoingMail};
use super::{Db, is_unique_violation, timestamp};
use crate::domain::{NewOrder, OrderStatus};
use crate::i18n::Lang;

/// Who caused an event. Stored as text; users are `user:<id>`.
pub const ACTOR_VENDOR_CONTACT: &str = "vendor_contact";
pub const ACTOR_API: &str = "api";

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// An open order for the same vendor, consumer, environment and scope exists.
    #[error("an open order for the same organisations, environment and scope exists")]
    Duplicate,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Enhetsregisteret does not know an organisation, or it was removed: these fields are
    /// refused.
    #[error("refused by Enhetsregisteret")]
    Refused(Vec<(&'static str, crate::domain::FieldError)>),
    /// The emails could not be rendered; nothing was stored.
    #[error("rendering the order's emails: {0:#}")]
    Render(anyhow::Error),
}

/// The two contacts' private link tokens for a new order; they exist only in the emails.
pub struct ContactTokens {
    pub vendor: String,
    pub consumer: String,
}

#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub reference: String,
}

/// The order as stored; read model for pages and emails.
#[derive(Debug, Clone)]
pub struct StoredOrder {
    pub id: String,
    pub reference: String,
    pub status: OrderStatus,
    /// Bumped by every status change; updates name the version they saw.
    pub version: i64,
    pub environment: String,
    pub scope: String,
    pub vendor_org_number: String,
    pub vendor_org_name: String,
    pub vendor_contact_name: Option<String>,
    pub vendor_contact_email: String,
    pub vendor_contact_phone: String,
    pub consumer_org_number: String,
    pub consumer_org_name: String,
    pub consumer_contact_name: Option<String>,
    pub consumer_contact_email: String,
    pub consumer_contact_phone: String,
    pub ip_addresses: Vec<String>,
    pub maskinporten_client_id: Option<String>,
    pub message: Option<String>,
    pub test_data_acknowledged_at: Option<String>,
    pub language: Lang,
    pub created_at: String,
    pub updated_at: String,
    pub assigned_to: Option<String>,
    /// The consumer's TT02 login identity, set when the order becomes `tt02_loaded`.
    pub tt02_identity: Option<String>,
    /// Enhetsregisteret's answers when the order came in (JSON of `registry::RegistryCheck`).
    pub registry_check: Option<String>,
}

impl StoredOrder {
    pub fn environment(&self) -> crate::domain::Environment {
        crate::domain::Environment::parse(&self.environment)
            .unwrap_or(crate::domain::Environment::Test)
    }
}

/// The columns [`from_row`] reads.
pub const ORDER_COLUMNS: &str = "id, reference, status, version, environment, scope,
    vendor_org_number, vendor_org_name, vendor_contact_name, vendor_contact_email,
    vendor_contact_phone, consumer_org_number, consumer_org_name, consumer_contact_name,
    consumer_contact_email, consumer_contact_phone, ip_addresses, maskinporten_client_id,
    message, test_data_acknowledged_at, language, created_at, updated_at, assigned_to,
    tt02_identity, registry_check";

/// Stores a new order with its first event and the emails it causes, in one transaction:
/// either all of it is stored or none of it.
///
/// `mails` renders the emails for a given reference and the contacts' new link tokens; it may
/// be called again if the randomly drawn reference is already taken.
pub async fn create(
    db: &Db,
    order: &NewOrder,
    registry_check: Option<&str>,
    language: Lang,
    actor: &str,
    message_id_domain: &str,
    mails: impl Fn(&str, &ContactTokens) -> anyhow::Result<Vec<OutgoingMail>>,
) -> Result<Created, CreateError> {
    const ATTEMPTS: usize = 3;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let reference = new_reference();
        match try_create(
            db,
            order,
            registry_check,
            language,
            actor,
            message_id_domain,
            &reference,
            &mails,
        )
        .await
        {
            Err(CreateError::Database(err)) if is_unique_violation(&err) => {
                // Either a simultaneous duplicate won the race (the partial unique index), or
                // the reference was taken: tell them apart by looking for the open order.
                if open_duplicate_exists(db.pool(), order).await? {
                    return Err(CreateError::Duplicate);
                }
                if attempt >= ATTEMPTS {
                    return Err(CreateError::Database(err));
                }
            }
            other => return other,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn try_create(
    db: &Db,
    order: &NewOrder,
    registry_check: Option<&str>,
    language: Lang,
    actor: &str,
    message_id_domain: &str,
    reference: &str,
    mails: &impl Fn(&str, &ContactTokens) -> anyhow::Result<Vec<OutgoingMail>>,
) -> Result<Created, CreateError> {
    let now = timestamp(Utc::now());
    let id = Uuid::now_v7().to_string();
    let status = OrderStatus::Received;
    let vendor = order.vendor();
    let consumer = order.consumer();
    let ips: Vec<String> = order.ip_ranges().iter().map(|ip| ip.to_string()).collect();
    let ips = serde_json::to_string(&ips).unwrap_or_else(|_| "[]".into());
    let acknowledged = order.acknowledged_test_data().then(|| now.clone());

    let tokens = ContactTokens {
        vendor: links::new_token(),
        consumer: links::new_token(),
    };
    let rendered = mails(reference, &tokens).map_err(CreateError::Render)?;
    let mut tx = db.begin_write().await?;
    if open_duplicate_exists(&mut *tx, order).await? {
        return Err(CreateError::Duplicate);
    }
    sqlx::query(
        "INSERT INTO orders (id, reference, status, version, environment, scope,
            vendor_org_number, vendor_org_name, vendor_contact_name, vendor_contact_email,
            vendor_contact_phone, consumer_org_number, consumer_org_name, consumer_contact_name,
            consumer_contact_email, consumer_contact_phone, ip_addresses, maskinporten_client_id,
            message, test_data_acknowledged_at, language, created_at, updated_at, search_text,
            registry_check)
         VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, $19, $20, $21, $21, $22, $23)",
    )
    .bind(&id)
    .bind(reference)
    .bind(status.as_str())
    .bind(order.environment().as_str())
    .bind(order.scope().as_str())
    .bind(vendor.org_number().as_str())
    .bind(vendor.org_name().as_str())
    .bind(vendor.contact_name().map(str::to_owned))
    .bind(vendor.contact_email().as_str())
    .bind(vendor.contact_phone().as_str())
    .bind(consumer.org_number().as_str())
    .bind(consumer.org_name().as_str())
    .bind(consumer.contact_name().map(str::to_owned))
    .bind(consumer.contact_email().as_str())
    .bind(consumer.contact_phone().as_str())
    .bind(ips)
    .bind(order.maskinporten_client_id().map(str::to_owned))
    .bind(order.message().map(str::to_owned))
    .bind(acknowledged)
    .bind(language.code())
    .bind(&now)
    .bind(search_text(&[
        vendor.org_name().as_str(),
        consumer.org_name().as_str(),
        vendor.contact_email().as_str(),
        consumer.contact_email().as_str(),
    ]))
    .bind(registry_check.map(str::to_owned))
    .execute(&mut *tx)
    .await?;

    sqlx::query(
        "INSERT INTO order_events (id, order_id, occurred_at, actor, kind, to_status)
         VALUES ($1, $2, $3, $4, 'created', $5)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(&id)
    .bind(&now)
    .bind(actor)
    .bind(status.as_str())
    .execute(&mut *tx)
    .await?;

    links::replace(&mut tx, &id, ContactRole::Vendor, &tokens.vendor).await?;
    links::replace(&mut tx, &id, ContactRole::Consumer, &tokens.consumer).await?;
    super::queue::count_move(&mut tx, None, status).await?;
    for mail in &rendered {
        outbox::enqueue(&mut *tx, Some(&id), mail, message_id_domain).await?;
    }
    tx.commit().await?;
    Ok(Created {
        id,
        reference: reference.to_owned(),
    })
}

async fn open_duplicate_exists<'c, E>(executor: E, order: &NewOrder) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT COUNT(*) FROM orders
         WHERE vendor_org_number = $1 AND consumer_org_number = $2
           AND environment = $3 AND scope = $4 AND closed_at IS NULL",
    )
    .bind(order.vendor().org_number().as_str())
    .bind(order.consumer().org_number().as_str())
    .bind(order.environment().as_str())
    .bind(order.scope().as_str())
    .fetch_one(executor)
    .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

pub async fn find_by_reference(
    db: &Db,
    reference: &str,
) -> Result<Option<StoredOrder>, sqlx::Error> {
    find_by_reference_in(db.pool(), reference).await
}

/// [`find_by_reference`] inside a transaction.
pub async fn find_by_reference_in<'c, E>(
    executor: E,
    reference: &str,
) -> Result<Option<StoredOrder>, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE reference = $1"
    )))
    .bind(reference)
    .fetch_optional(executor)
    .await?
    .map(|row| from_row(&row))
    .transpose()
}

pub fn from_row(row: &AnyRow) -> Result<StoredOrder, sqlx::Error> {
    let decode = |column: &str, message: &str| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: message.to_owned().into(),
    };
    let status: String = row.try_get("status")?;
    let ips: String = row.try_get("ip_addresses")?;
    let language: String = row.try_get("language")?;
    Ok(StoredOrder {
        id: row.try_get("id")?,
        reference: row.try_get("reference")?,
        status: OrderStatus::parse(&status).ok_or_else(|| decode("status", "unknown status"))?,
        version: row.try_get("version")?,
        environment: row.try_get("environment")?,
        scope: row.try_get("scope")?,
        vendor_org_number: row.try_get("vendor_org_number")?,
        vendor_org_name: row.try_get("vendor_org_name")?,
        vendor_contact_name: row.try_get("vendor_contact_name")?,
        vendor_contact_email: row.try_get("vendor_contact_email")?,
        vendor_contact_phone: row.try_get("vendor_contact_phone")?,
        consumer_org_number: row.try_get("consumer_org_number")?,
        consumer_org_name: row.try_get("consumer_org_name")?,
        consumer_contact_name: row.try_get("consumer_contact_name")?,
        consumer_contact_email: row.try_get("consumer_contact_email")?,
        consumer_contact_phone: row.try_get("consumer_contact_phone")?,
        ip_addresses: serde_json::from_str(&ips)
            .map_err(|_| decode("ip_addresses", "not a JSON array"))?,
        maskinporten_client_id: row.try_get("maskinporten_client_id")?,
        message: row.try_get("message")?,
        test_data_acknowledged_at: row.try_get("test_data_acknowledged_at")?,
        language: Lang::parse(&language).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        assigned_to: row.try_get("assigned_to")?,
        tt02_identity: row.try_get("tt02_identity")?,
        registry_check: row.try_get("registry_check")?,
    })
}

/// What the queue's free-text search looks in, folded to lower case here because SQLite's
/// `LOWER()` leaves æ, ø and å alone.
pub fn search_text(parts: &[&str]) -> String {
    parts.join(" ").to_lowercase()
}

/// Fills `search_text` for orders stored before the column existed (it is filled on insert
/// since), here rather than in SQL because SQLite's `LOWER()` only folds ASCII.
pub async fn fill_search_text(db: &Db) -> Result<u64, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, vendor_org_name, consumer_org_name, vendor_contact_email,
            consumer_contact_email
         FROM orders WHERE search_text = ''",
    )
    .fetch_all(db.pool())
    .await?;
    for row in &rows {
        let parts: [String; 4] = [
            row.try_get("vendor_org_name")?,
            row.try_get("consumer_org_name")?,
            row.try_get("vendor_contact_email")?,
            row.try_get("consumer_contact_email")?,
        ];
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        sqlx::query("UPDATE orders SET search_text = $1 WHERE id = $2")
            .bind(search_text(&parts))
            .bind(row.try_get::<String, _>("id")?)
            .execute(db.pool())
            .await?;
    }
    Ok(rows.len() as u64)
}

/// Alphabet without look-alikes (0/O, 1/I/L, U) so a reference survives being read aloud or
/// typed from a printout.
const REFERENCE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `RRH-XXXX-XXXX`: 8 symbols from 30, about 39 bits, so collisions are rare; the unique
/// index catches the rest and [`create`] draws again.
pub fn new_reference() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let mut symbols = (0..8)
        .map(|_| char::from(REFERENCE_ALPHABET[rng.random_range(0..REFERENCE_ALPHABET.len())]));
    let first: String = symbols.by_ref().take(4).collect();
    let second: String = symbols.collect();
    format!("RRH-{first}-{second}")
}

/// A reference as typed by a person: case and surrounding spaces don't matter.
pub fn normalise_reference(raw: &str) -> Option<String> {
    let upper = raw.trim().to_ascii_uppercase();
    let valid = upper.len() == 13
        && upper.starts_with("RRH-")
        && upper.as_bytes()[8] == b'-'
        && upper
            .bytes()
            .enumerate()
            .all(|(i, b)| i < 4 || i == 8 || REFERENCE_ALPHABET.contains(&b));
    valid.then_some(upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_have_the_documented_shape_and_parse_back() {
        for _ in 0..1000 {
            let reference = new_reference();
            assert_eq!(
                normalise_reference(&reference).as_deref(),
                Some(reference.as_str())
            );
            assert_eq!(
                normalise_reference(&format!("  {}  ", reference.to_lowercase())).as_deref(),
                Some(reference.as_str())
            );
        }
        for bad in [
            "",
            "RRH-",
            "RRH-0000-0000",
            "XYZ-ABCD-EFGH",
            "RRH-ABCD-EFGHJ",
            "RRH-ABCDEEFGH",
        ] {
            assert_eq!(normalise_reference(bad), None, "{bad}");
        }
    }
}
