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
        for backend in ["postgres", "sqlite"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend);
            let found = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
                .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
                .any(|sql| {
                    sql.lines()
                        .any(|line| line.contains("status") && line.contains(&allowed))
                });
            assert!(found, "no {backend} migration limits a status to {allowed}");
        }
    }
}
