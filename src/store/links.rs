//! Contacts' private links: `/track/{token}`, a new one in every email to a contact. The
//! token is 256 random bits; only its SHA-256 is stored.

use chrono::{DateTime, Utc};

use super::orders::{ORDER_COLUMNS, Order, from_row};
use super::{Conn, parsed, sha256_hex, timestamp};
use crate::domain::ContactRole;

/// Stores one more link for `role` on the order; the contact's earlier links keep working.
/// Every email to a contact carries a link of its own, since only hashes are kept and a
/// link already sent cannot be read back.
pub async fn add(
    conn: &mut Conn,
    order_id: &str,
    role: ContactRole,
    token: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contact_links (token_hash, order_id, role, created_at)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(sha256_hex(token))
    .bind(order_id)
    .bind(role.as_str())
    .bind(timestamp(Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes `token` the only link `role` has to the order: a resent link makes every earlier
/// one stop working.
pub async fn replace(
    conn: &mut Conn,
    order_id: &str,
    role: ContactRole,
    token: &str,
) -> Result<(), sqlx::Error> {
    // Locks the order's row on PostgreSQL, so that of two resends at once the second waits,
    // then deletes the first one's link too; SQLite's write lock already does this.
    sqlx::query("UPDATE orders SET id = id WHERE id = $1")
        .bind(order_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM contact_links WHERE order_id = $1 AND role = $2")
        .bind(order_id)
        .bind(role.as_str())
        .execute(&mut *conn)
        .await?;
    add(conn, order_id, role, token).await
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
