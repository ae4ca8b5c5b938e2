//! Contacts' private links: `/track/{token}`, one per contact and order. The token is 256
//! random bits; only its SHA-256 is stored.

use chrono::{DateTime, Utc};

use super::orders::{ORDER_COLUMNS, Order, from_row};
use super::{Conn, parsed, sha256_hex, timestamp};
use crate::domain::ContactRole;

/// Stores the link for `role` on the order, replacing the one it had (a resent link makes
/// the old one stop working).
pub async fn replace(
    conn: &mut Conn,
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

/// The order and role a token opens, whether or not the link has expired.
pub async fn find(
    conn: &mut Conn,
    token: &str,
) -> Result<Option<(Order, ContactRole)>, sqlx::Error> {
    // The link is joined as a subquery with its own column names, so the order's columns
    // need no prefix.
    let columns = ORDER_COLUMNS.as_str();
    let sql = format!(
        "SELECT {columns}, link.link_role FROM orders
         JOIN (SELECT order_id, role AS link_role FROM contact_links WHERE token_hash = $1) link
           ON link.order_id = orders.id"
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(sha256_hex(&token.to_ascii_lowercase()))
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let role = parsed(&row, "link_role", ContactRole::parse)?;
    Ok(Some((from_row(&row)?, role)))
}

/// Orders where `email` (lower case) is a contact's address, open or closed since `oldest_closed`.
pub async fn orders_for_email(
    conn: &mut Conn,
    email: &str,
    oldest_closed: DateTime<Utc>,
) -> Result<Vec<Order>, sqlx::Error> {
    let columns = ORDER_COLUMNS.as_str();
    let sql = format!(
        "SELECT {columns} FROM orders
         WHERE (LOWER(vendor_contact_email) = $1 OR LOWER(consumer_contact_email) = $1)
           AND (closed_at IS NULL OR closed_at >= $2)
         ORDER BY created_at"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .bind(timestamp(oldest_closed))
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
