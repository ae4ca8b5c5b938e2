//! Where an outgoing email is in the outbox, as a type. The names are the stored values of
//! `mail_outbox.status` (the migrations' CHECK constraint allows exactly these) and the last
//! part of the catalog key `admin.mail_status.<state>`.
//!
//! ```text
//! pending -> sending -> sent
//!            sending -> pending   a failed attempt, tried again later
//!            sending -> failed    the last attempt failed
//!            failed  -> pending   an admin sends it again from the outbox
//! ```

use crate::domain::named::named_enum;

named_enum! {
    pub enum MailState {
        /// Waiting for the worker, the first time or for another attempt.
        Pending = "pending",
        /// Taken by a worker; when its lock runs out, another worker may take it.
        Sending = "sending",
        Sent = "sent",
        /// Given up after the last attempt, until an admin sends it again.
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The migrations' CHECK constraint (PostgreSQL) and triggers (SQLite) on
    /// `mail_outbox.status` list exactly these names, in this order.
    #[test]
    fn the_names_are_the_ones_the_database_allows() {
        let allowed = format!("({})", MailState::ALL.map(|s| format!("'{s}'")).join(", "));
        let missing = crate::store::backends_not_limiting("status", &allowed);
        assert!(
            missing.is_empty(),
            "no {missing:?} migration limits a status to {allowed}"
        );
    }
}
