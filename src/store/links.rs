//! Contacts' private links: `/track/{token}`, one per contact and order. The token is 256
//! random bits; only its SHA-256 is stored.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::orders::{ORDER_COLUMNS, StoredOrder, from_row};
use super::{Db, parse_timestamp, sha256_hex, timestamp};

/// Whose link it is; each sees the order and may do that contact's steps only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactRole {
    Vendor,
    Consumer,
}

impl ContactRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactRole::Vendor => "vendor",
            ContactRole::Consumer => "consumer",
        }
    }

    pub fn parse(raw: &str) -> Option<ContactRole> {
        match raw {
            "vendor" => Some(ContactRole::Vendor),
            "consumer" => Some(ContactRole::Consumer),
            _ => None,
        }
    }

    /// How events name this contact.
    pub fn actor(self) -> &'static str {
        match self {
            ContactRole::Vendor => super::orders::ACTOR_VENDOR_CONTACT,
            ContactRole::Consumer => "consumer_contact",
        }
    }
}

/// A new link token: 32 random bytes, hex, so it survives any mail client and URL.
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Stores the link for `role` on the order, replacing the one it had (a resent link makes
/// the old one stop working).
pub async fn replace(
    conn: &mut sqlx::AnyConnection,
    order_id: &str,
    role: ContactRole,
    token: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contact_links (token_hash, order_id, role, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (order_id, role) DO UPDATE
            SET token_hash = excluded.token_hash, created_at = excluded.created_at",
    )
    .bind(sha256_hex(token))
    .bind(order_id)
    .bind(role.as_str())
    .bind(timestamp(Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}

/// The order and role a token opens, unless the link has expired: links work while the
/// order is open and for `days_after_close` days after it ended.
pub async fn open(
    db: &Db,
    token: &str,
    days_after_close: u32,
    now: DateTime<Utc>,
) -> Result<Option<(StoredOrder, ContactRole)>, sqlx::Error> {
    // Anything that is not a token is not looked up at all.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    // The link is joined as a subquery with its own column names, so the order's columns
    // need no prefix.
    let sql = format!(
        "SELECT {ORDER_COLUMNS}, closed_at, link.link_role FROM orders
         JOIN (SELECT order_id, role AS link_role FROM contact_links WHERE token_hash = $1) link
           ON link.order_id = orders.id"
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(sha256_hex(&token.to_ascii_lowercase()))
        .fetch_optional(db.pool())
        .await?
    else {
        return Ok(None);
    };
    let closed_at: Option<String> = row.try_get("closed_at")?;
    let expired = closed_at
        .and_then(|c| parse_timestamp(&c))
        .is_some_and(|closed| now > closed + chrono::Duration::days(i64::from(days_after_close)));
    if expired {
        return Ok(None);
    }
    let role: String = row.try_get("link_role")?;
    let Some(role) = ContactRole::parse(&role) else {
        return Ok(None);
    };
    Ok(Some((from_row(&row)?, role)))
}

/// One order whose link was issued anew, with the contact role and the fresh token.
pub struct Reissued {
    pub order: StoredOrder,
    pub role: ContactRole,
    pub token: String,
}

/// New links for every order where `email` is a contact's address and whose link would still
/// work, with the email that carries them, in one transaction: the old links stop working
/// when the new ones are sent. `mail` gets nothing to say when nothing matched, and no email
/// is written then.
pub async fn reissue_for_email(
    db: &Db,
    email: &str,
    days_after_close: u32,
    now: DateTime<Utc>,
    message_id_domain: &str,
    mail: impl FnOnce(&str, &[Reissued]) -> anyhow::Result<super::outbox::OutgoingMail>,
) -> anyhow::Result<usize> {
    let oldest_closed = timestamp(now - chrono::Duration::days(i64::from(days_after_close)));
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders
         WHERE (LOWER(vendor_contact_email) = $1 OR LOWER(consumer_contact_email) = $1)
           AND (closed_at IS NULL OR closed_at >= $2)
         ORDER BY created_at"
    );
    let wanted = email.trim().to_lowercase();
    let mut tx = db.begin_write().await?;
    let orders: Vec<StoredOrder> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&wanted)
        .bind(&oldest_closed)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<_, _>>()?;
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
                let token = new_token();
                replace(&mut tx, &order.id, role, &token).await?;
                issued.push(Reissued {
                    order: order.clone(),
                    role,
                    token,
                });
            }
        }
    }
    let Some(to) = stored_address else {
        return Ok(0);
    };
    let outgoing = mail(&to, &issued)?;
    super::outbox::enqueue(&mut *tx, None, &outgoing, message_id_domain).await?;
    tx.commit().await?;
    Ok(issued.len())
}
