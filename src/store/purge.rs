//! Removing personal data from orders that ended long enough ago. What stays is the order's
//! skeleton: reference, organisations, environment, scope, status and times, for statistics.

use chrono::{DateTime, Utc};

use super::{Conn, timestamp};

/// Purges every order that ended before `cutoff` and is not purged yet; returns how many.
/// Contacts, IP addresses, client id, free text and the TT02 identity go from the order;
/// comments go from its events (notes and messages may name people); its emails and private
/// links are deleted.
/// Run it in a transaction: the deletes and the update belong together.
pub async fn personal_data(conn: &mut Conn, cutoff: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let now = timestamp(Utc::now());
    let cutoff = timestamp(cutoff);
    let ended = "SELECT id FROM orders
                 WHERE closed_at IS NOT NULL AND closed_at < $1 AND purged_at IS NULL";
    for statement in [
        format!("DELETE FROM contact_links WHERE order_id IN ({ended})"),
        format!("DELETE FROM mail_outbox WHERE order_id IN ({ended})"),
        format!("UPDATE order_events SET comment = NULL WHERE order_id IN ({ended})"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(&cutoff)
            .execute(&mut *conn)
            .await?;
    }
    let purged = sqlx::query(
        "UPDATE orders SET vendor_contact_name = NULL, vendor_contact_email = '',
            vendor_contact_phone = '', consumer_contact_name = NULL, consumer_contact_email = '',
            consumer_contact_phone = '', ip_addresses = '[]', maskinporten_client_id = NULL,
            message = NULL, tt02_identity = NULL, search_text = '', purged_at = $2
         WHERE closed_at IS NOT NULL AND closed_at < $1 AND purged_at IS NULL",
    )
    .bind(&cutoff)
    .bind(&now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(purged)
}
