//! Queries on `orders`. Rows come back as [`Order`], with every enumerated column parsed
//! into its domain type; a value that does not parse is an error, never a default.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Conn, parsed, time, time_opt, timestamp};
use crate::domain::fields::{self, ORDER_FIELDS};
use crate::domain::{Environment, NewOrder, OrderStatus, OrgNumber, Scope};
use crate::i18n::Lang;

/// The order as stored; the read model pages and emails are made from.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub reference: String,
    pub status: OrderStatus,
    /// Bumped by every status change; updates name the version they saw.
    pub version: i64,
    pub environment: Environment,
    pub scope: Scope,
    pub vendor_org_number: OrgNumber,
    pub vendor_org_name: String,
    /// Empty once personal data is purged, like the other contact fields.
    pub vendor_contact_email: String,
    pub vendor_contact_phone: String,
    pub consumer_org_number: OrgNumber,
    pub consumer_org_name: String,
    pub consumer_contact_email: String,
    pub consumer_contact_phone: String,
    pub ip_addresses: Vec<String>,
    /// The optional free texts that were given (a contact's name, the client id, the
    /// message), by field name; read generically from the field table.
    pub free_texts: BTreeMap<&'static str, String>,
    pub test_data_acknowledged_at: Option<DateTime<Utc>>,
    pub language: Lang,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub assigned_to: Option<String>,
    /// The consumer's TT02 login identity, set when the order becomes `tt02_loaded`.
    pub tt02_identity: Option<String>,
    /// Enhetsregisteret's answers when the order came in (JSON of `registry::RegistryCheck`).
    pub registry_check: Option<String>,
}

/// The columns [`from_row`] reads: the service's own, then every field's.
pub static ORDER_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "id, reference, status, version, language, created_at, updated_at, closed_at, \
         assigned_to, tt02_identity, registry_check, {}",
        fields::columns()
    )
});

/// Every optional free text of the field table that the row has a value for.
fn free_texts(row: &AnyRow) -> Result<BTreeMap<&'static str, String>, sqlx::Error> {
    let mut texts = BTreeMap::new();
    for field in ORDER_FIELDS.iter().filter(|f| f.free_text().is_some()) {
        if let Some(text) = row.try_get::<Option<String>, _>(field.column())? {
            texts.insert(field.name, text);
        }
    }
    Ok(texts)
}

impl Order {
    /// An optional free text's value (a contact's name, the client id, the message), if given.
    pub fn free_text(&self, name: &str) -> Option<&str> {
        self.free_texts.get(name).map(String::as_str)
    }

    /// A field's value as the CSV export writes it (IP ranges separated by spaces, an absent
    /// value empty); `None` for a name that is not one of [`ORDER_FIELDS`]' exported fields.
    /// A test checks it knows every one.
    pub fn export_text(&self, name: &str) -> Option<String> {
        if fields::order_field(name).is_some_and(|f| f.free_text().is_some()) {
            return Some(self.free_text(name).unwrap_or_default().to_owned());
        }
        Some(match name {
            "environment" => self.environment.as_str().to_owned(),
            "scope" => self.scope.to_string(),
            "vendor_org_number" => self.vendor_org_number.to_string(),
            "vendor_org_name" => self.vendor_org_name.clone(),
            "vendor_contact_email" => self.vendor_contact_email.clone(),
            "vendor_contact_phone" => self.vendor_contact_phone.clone(),
            "consumer_org_number" => self.consumer_org_number.to_string(),
            "consumer_org_name" => self.consumer_org_name.clone(),
            "consumer_contact_email" => self.consumer_contact_email.clone(),
            "consumer_contact_phone" => self.consumer_contact_phone.clone(),
            "ip_addresses" => self.ip_addresses.join(" "),
            _ => return None,
        })
    }
}

pub fn from_row(row: &AnyRow) -> Result<Order, sqlx::Error> {
    let org_number = |column: &str| parsed(row, column, |raw| OrgNumber::parse(raw).ok());
    Ok(Order {
        id: row.try_get("id")?,
        reference: row.try_get("reference")?,
        status: parsed(row, "status", OrderStatus::parse)?,
        version: row.try_get("version")?,
        environment: parsed(row, "environment", |raw| Environment::parse(raw).ok())?,
        scope: parsed(row, "scope", |raw| Scope::from_stored(raw).ok())?,
        vendor_org_number: org_number("vendor_org_number")?,
        vendor_org_name: row.try_get("vendor_org_name")?,
        vendor_contact_email: row.try_get("vendor_contact_email")?,
        vendor_contact_phone: row.try_get("vendor_contact_phone")?,
        consumer_org_number: org_number("consumer_org_number")?,
        consumer_org_name: row.try_get("consumer_org_name")?,
        consumer_contact_email: row.try_get("consumer_contact_email")?,
        consumer_contact_phone: row.try_get("consumer_contact_phone")?,
        ip_addresses: parsed(row, "ip_addresses", |raw| serde_json::from_str(raw).ok())?,
        free_texts: free_texts(row)?,
        test_data_acknowledged_at: time_opt(row, "test_data_acknowledged_at")?,
        language: parsed(row, "language", Lang::from_code)?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        closed_at: time_opt(row, "closed_at")?,
        assigned_to: row.try_get("assigned_to")?,
        tt02_identity: row.try_get("tt02_identity")?,
        registry_check: row.try_get("registry_check")?,
    })
}

/// A new order's row: the checked order and what the service adds to it.
pub struct NewOrderRow<'a> {
    pub id: &'a str,
    pub reference: &'a str,
    pub order: &'a NewOrder,
    pub language: Lang,
    pub registry_check: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// The INSERT for a new order: the service's columns, then every field's column, in the
/// table's order.
static INSERT: LazyLock<String> = LazyLock::new(|| {
    const SERVICE_PARAMS: usize = 7;
    let params: Vec<String> = (1..=ORDER_FIELDS.len())
        .map(|i| format!("${}", SERVICE_PARAMS + i))
        .collect();
    format!(
        "INSERT INTO orders (id, reference, status, version, language, created_at, updated_at,
            search_text, registry_check, {})
         VALUES ($1, $2, $3, 1, $4, $5, $5, $6, $7, {})",
        fields::columns(),
        params.join(", ")
    )
});

pub async fn insert(conn: &mut Conn, row: &NewOrderRow<'_>) -> Result<(), sqlx::Error> {
    let order = row.order;
    let now = timestamp(row.at);
    let (vendor, consumer) = (order.vendor(), order.consumer());
    let search = search_text(&[
        vendor.org_name().as_str(),
        consumer.org_name().as_str(),
        vendor.contact_email().as_str(),
        consumer.contact_email().as_str(),
    ]);
    let mut query = sqlx::query(sqlx::AssertSqlSafe(INSERT.as_str()))
        .bind(row.id)
        .bind(row.reference)
        .bind(OrderStatus::Received.as_str())
        .bind(row.language.code())
        .bind(now.clone())
        .bind(search)
        .bind(row.registry_check.map(str::to_owned));
    for field in ORDER_FIELDS {
        query = query.bind(order.stored_value(field.name, &now));
    }
    query.execute(conn).await?;
    Ok(())
}

/// True when an open order for the same vendor, consumer, environment and scope exists.
pub async fn open_duplicate_exists(conn: &mut Conn, order: &NewOrder) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM orders
         WHERE vendor_org_number = $1 AND consumer_org_number = $2
           AND environment = $3 AND scope = $4 AND closed_at IS NULL",
    )
    .bind(order.vendor().org_number().as_str())
    .bind(order.consumer().org_number().as_str())
    .bind(order.environment().as_str())
    .bind(order.scope().as_str())
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

pub async fn find_by_reference(
    conn: &mut Conn,
    reference: &str,
) -> Result<Option<Order>, sqlx::Error> {
    let columns = ORDER_COLUMNS.as_str();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {columns} FROM orders WHERE reference = $1"
    )))
    .bind(reference)
    .fetch_optional(conn)
    .await?
    .map(|row| from_row(&row))
    .transpose()
}

/// Locks the rows of the orders with these references until the transaction ends, in the
/// order of their references: a transaction that moves several orders (the TT02 loading
/// batch) takes every row it needs before the status counts' rows, which each move also
/// updates, so it cannot deadlock with a single move holding one of its orders. PostgreSQL
/// only: SQLite's write lock, taken at `BEGIN IMMEDIATE`, already keeps other writers out.
pub async fn lock_rows(
    conn: &mut Conn,
    backend: Backend,
    references: &[&str],
) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite || references.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (1..=references.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id FROM orders WHERE reference IN ({}) ORDER BY reference FOR UPDATE",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for reference in references {
        query = query.bind(*reference);
    }
    query.fetch_all(conn).await?;
    Ok(())
}

/// Moves `order` to `to` if it is still at the version it was read at; false when another
/// transaction moved it first. `tt02_identity`, when given, is stored with the move.
pub async fn update_status(
    conn: &mut Conn,
    order: &Order,
    to: OrderStatus,
    at: DateTime<Utc>,
    tt02_identity: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let now = timestamp(at);
    let closed_at = (!to.is_open()).then(|| now.clone());
    let updated = sqlx::query(
        "UPDATE orders SET status = $1, version = version + 1, updated_at = $2,
            closed_at = $3, tt02_identity = COALESCE($4, tt02_identity)
         WHERE id = $5 AND version = $6",
    )
    .bind(to.as_str())
    .bind(&now)
    .bind(closed_at)
    .bind(tt02_identity.map(str::to_owned))
    .bind(&order.id)
    .bind(order.version)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Who works the order; not part of its state, so the version stays.
pub async fn set_assignee(
    conn: &mut Conn,
    order_id: &str,
    user_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE orders SET assigned_to = $1 WHERE id = $2")
        .bind(user_id.map(str::to_owned))
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// What the queue's free-text search looks in, folded to lower case here because SQLite's
/// `LOWER()` leaves æ, ø and å alone.
pub fn search_text(parts: &[&str]) -> String {
    parts.join(" ").to_lowercase()
}

/// Fills `search_text` for orders stored before the column existed (it is filled on insert
/// since), here rather than in SQL because SQLite's `LOWER()` only folds ASCII.
pub async fn fill_search_text(conn: &mut Conn) -> Result<u64, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, vendor_org_name, consumer_org_name, vendor_contact_email,
            consumer_contact_email
         FROM orders WHERE search_text = ''",
    )
    .fetch_all(&mut *conn)
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
            .execute(&mut *conn)
            .await?;
    }
    Ok(rows.len() as u64)
}

/// Alphabet without look-alikes (0/O, 1/I/L, U) so a reference survives being read aloud or
/// typed from a printout.
const REFERENCE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `RRH-XXXX-XXXX`: 8 symbols from 30, about 39 bits, so collisions are rare; the unique
/// index catches the rest and the order is stored under a new draw.
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
