//! The delivery worker: claims due messages from the outbox, sends them, and records the
//! outcome. Failed attempts are retried with exponential backoff until `max_attempts`, then the
//! message is marked `failed` for an admin to see and retry.

use std::sync::Arc;
use std::time::Duration;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use tokio::sync::{Notify, watch};

use super::transport::{SendFailure, Transport};
use crate::config::MailSettings;
use crate::store::Db;
use crate::store::outbox::{self, ClaimedMail};

/// Longest a claimed message stays reserved for one worker; after that another may take it.
const LEASE: Duration = Duration::from_secs(300);
const BATCH: i64 = 20;
/// The longest wait between two attempts: with the defaults (30 s doubling, 32 attempts) the
/// retries span a little over 24 hours, so a day's mail outage loses nothing.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

pub struct MailWorker {
    db: Db,
    transport: Transport,
    settings: MailSettings,
    from: Mailbox,
    waker: Arc<Notify>,
}

impl MailWorker {
    pub fn new(db: Db, settings: MailSettings, waker: Arc<Notify>) -> anyhow::Result<Self> {
        let transport = Transport::from_settings(&settings)?;
        let from = settings.from.parse()?;
        Ok(Self {
            db,
            transport,
            settings,
            from,
            waker,
        })
    }

    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.deliver_due().await {
                // A full batch means more may be waiting.
                Ok(count) if count as i64 >= BATCH => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "mail worker could not read the outbox"),
            }
            tokio::select! {
                _ = self.waker.notified() => {}
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }

    /// Sends every message that is due now; returns how many were claimed.
    pub async fn deliver_due(&self) -> Result<usize, sqlx::Error> {
        // A connection per statement: none is held while a message is being sent.
        let mut conn = self.db.acquire().await?;
        let claimed = outbox::claim_due(&mut conn, self.db.backend(), LEASE, BATCH).await?;
        drop(conn);
        for mail in &claimed {
            let outcome = match self.build(mail) {
                Ok(message) => self.transport.send(&message, &mail.id).await,
                Err(err) => Err(SendFailure::Permanent(err)),
            };
            match outcome {
                Ok(()) => {
                    outbox::mark_sent(&mut *self.db.acquire().await?, &mail.id).await?;
                    tracing::info!(mail_id = %mail.id, attempt = mail.attempts, "mail sent");
                }
                Err(failure) => {
                    let retry_in = match &failure {
                        SendFailure::Temporary(_) => retry_delay(&self.settings, mail.attempts),
                        SendFailure::Permanent(_) => None,
                    };
                    let error = failure.text();
                    tracing::warn!(
                        mail_id = %mail.id, attempt = mail.attempts, error,
                        permanent = matches!(failure, SendFailure::Permanent(_)),
                        retry_in_ms = retry_in.map(|d| d.as_millis() as u64),
                        "mail not sent"
                    );
                    outbox::mark_attempt_failed(
                        &mut *self.db.acquire().await?,
                        &mail.id,
                        error,
                        retry_in,
                    )
                    .await?;
                }
            }
        }
        Ok(claimed.len())
    }

    fn build(&self, mail: &ClaimedMail) -> Result<Message, String> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.clone())
            .message_id(Some(mail.message_id.clone()));
        for to in &mail.to {
            builder = builder.to(to.parse().map_err(|e| format!("recipient address: {e}"))?);
        }
        if let Some(reply_to) = &mail.reply_to {
            builder = builder.reply_to(reply_to.parse().map_err(|e| format!("reply-to: {e}"))?);
        }
        let built = match &mail.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                html.clone(),
            )),
            // A single part, not a bare body: lettre then writes `MIME-Version`, which a
            // message that declares its transfer encoding must have.
            None => builder.singlepart(SinglePart::plain(mail.text.clone())),
        };
        built.map_err(|e| format!("building the message: {e}"))
    }
}

/// How long to wait after `attempts` failed attempts: the first delay doubling, at most
/// [`MAX_BACKOFF`]; `None` when the attempts are used up.
fn retry_delay(settings: &MailSettings, attempts: i64) -> Option<Duration> {
    if attempts >= i64::from(settings.max_attempts) {
        return None;
    }
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    Some(
        settings
            .retry_base
            .saturating_mul(2u32.pow(exponent))
            .min(MAX_BACKOFF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_rides_out_a_day_long_outage() {
        let settings = crate::config::Settings::from_lookup(|_| None).unwrap().mail;
        let total: Duration = (1..).map_while(|n| retry_delay(&settings, n)).sum();
        assert!(total >= Duration::from_secs(24 * 3600), "{total:?}");
        assert!(total <= Duration::from_secs(26 * 3600), "{total:?}");
    }
}
