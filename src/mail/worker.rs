//! The delivery worker: claims due messages from the outbox, sends them, and records the
//! outcome. Failed attempts are retried with exponential backoff until `max_attempts`, then the
//! message is marked `failed` for an admin to see and retry.

use std::sync::Arc;
use std::time::Duration;

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use tokio::sync::{Notify, watch};
use tracing::Instrument as _;

use super::transport::{Outgoing, SendFailure, Sender, Transport};
use crate::config::MailSettings;
use crate::metrics::{Delivery, Metrics};
use crate::store::Db;
use crate::store::outbox::{self, ClaimedMail};

const BATCH: i64 = 20;
/// The longest wait between two attempts: with the defaults (30 s doubling, 32 attempts) the
/// retries span a little over 24 hours, so a day's mail outage loses nothing.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// On shutdown, how long the message being sent may still take before it is given up (and
/// its claim released): with the server's own 10 s for requests, the process ends within 15 s.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

pub struct MailWorker {
    db: Db,
    transport: Transport,
    settings: MailSettings,
    from: Mailbox,
    waker: Arc<Notify>,
    metrics: Arc<Metrics>,
}

impl MailWorker {
    pub fn new(
        db: Db,
        settings: MailSettings,
        waker: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let transport = Transport::from_settings(&settings)?;
        let from = settings.from.parse()?;
        Ok(Self {
            db,
            transport,
            settings,
            from,
            waker,
            metrics,
        })
    }

    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    /// Runs until `shutdown` turns true, looking at it between any two messages, so a backlog
    /// never keeps the process alive.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            // One SMTP connection while messages keep coming: after a batch the outbox is
            // looked at again at once (orders that came in meanwhile), and the connection
            // closed once nothing is due.
            let mut sender = self.transport.sender();
            loop {
                match self.deliver_due(&shutdown, &mut sender).await {
                    Ok(count) if count > 0 && !*shutdown.borrow() => continue,
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "mail worker could not read the outbox");
                    }
                }
                break;
            }
            sender.close().await;
            tokio::select! {
                _ = self.waker.notified() => {}
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Sends every message that is due now, until `shutdown`; returns how many were claimed.
    /// The batch is claimed under a token of its own, its lease renewed while the worker is
    /// on it; whatever is left when it stops goes back to the outbox at once.
    pub async fn deliver_due(
        &self,
        shutdown: &watch::Receiver<bool>,
        sender: &mut Sender<'_>,
    ) -> Result<usize, sqlx::Error> {
        let claim = uuid::Uuid::new_v4().to_string();
        let lease = self.settings.lease;
        // A connection per statement: none is held while a message is being sent. Each
        // write waits for its turn as the orders' transactions do (Db::write_turn).
        let turn = self.db.write_turn().await;
        let mut conn = self.db.acquire_relaxed().await?;
        let claimed = outbox::claim_due(&mut conn, self.db.backend(), &claim, lease, BATCH).await?;
        drop((conn, turn));
        if claimed.is_empty() {
            return Ok(0);
        }
        // Aborted when dropped, even if sending panics: a renewer must not outlive its batch.
        let renewer = AbortOnDrop(tokio::spawn(renew_until_aborted(
            self.db.clone(),
            claim.clone(),
            lease,
        )));
        let mut attempted = 0;
        let sent = self
            .send_claimed(&claimed, &claim, sender, shutdown, &mut attempted)
            .await;
        drop(renewer);
        // The messages not tried, and one given up at shutdown, go back at once. One whose
        // outcome could not be recorded (a database error) is left to its lease, its attempt
        // counted: it may have been delivered.
        let untried: Vec<&str> = claimed[attempted..].iter().map(|m| m.id.as_str()).collect();
        if !untried.is_empty() {
            let turn = self.db.write_turn().await;
            let released =
                outbox::release(&mut *self.db.acquire_relaxed().await?, &claim, &untried).await?;
            drop(turn);
            if released > 0 {
                tracing::info!(released, "mail worker stopping: unsent messages given back");
            }
        }
        sent.map(|()| claimed.len())
    }

    /// Sends the batch in order, one message in flight at a time, with the waits overlapped:
    /// message i's outcome is recorded while message i+1's envelope goes out, and i+1's
    /// bytes are made while i's content is on the wire. i+1 is only delivered (its content
    /// sent) once i's outcome is stored, so a crash at any point repeats at most the one
    /// message whose delivery was not yet recorded.
    async fn send_claimed<'m>(
        &self,
        claimed: &'m [ClaimedMail],
        claim: &str,
        sender: &mut Sender<'_>,
        shutdown: &watch::Receiver<bool>,
        attempted: &mut usize,
    ) -> Result<(), sqlx::Error> {
        let mut unrecorded: Option<(&'m ClaimedMail, Result<(), SendFailure>)> = None;
        let mut made = None;
        for (i, mail) in claimed.iter().enumerate() {
            if *shutdown.borrow() {
                break;
            }
            *attempted = i + 1;
            let message = made.take().unwrap_or_else(|| self.outgoing(mail));
            // One grace for both halves of the send.
            let grace = after_shutdown(shutdown.clone(), SHUTDOWN_GRACE);
            tokio::pin!(grace);
            let begin = async {
                let message = message?;
                sender.begin(&message).await.map(|()| message)
            }
            .instrument(tracing::debug_span!("mail_begin"));
            let record = self
                .record(unrecorded.take(), claim)
                .instrument(tracing::debug_span!("mail_record"));
            let (recorded, begun) = tokio::join!(record, async {
                tokio::select! {
                    begun = begin => Some(begun),
                    () = &mut grace => None,
                }
            });
            if let Err(err) = recorded {
                // Not delivered (its content was never sent): given back with the rest.
                *attempted = i;
                return Err(err);
            }
            // Stopping: not delivered yet (the connection in DATA is dropped, never
            // finished), so it goes back with the rest rather than risk going twice.
            let begun = begun.filter(|_| !*shutdown.borrow());
            let outcome = match begun {
                Some(Ok(message)) => {
                    let finish = sender
                        .finish(&message, &mail.id)
                        .instrument(tracing::debug_span!("mail_send"));
                    let (outcome, next) = tokio::join!(
                        async {
                            tokio::select! {
                                outcome = finish => Some(outcome),
                                () = &mut grace => None,
                            }
                        },
                        // Polled once the content is written: made while the server reads it.
                        async { claimed.get(i + 1).map(|next| self.outgoing(next)) }
                    );
                    made = next;
                    outcome
                }
                Some(Err(failure)) => Some(Err(failure)),
                None => None,
            };
            let Some(outcome) = outcome else {
                tracing::warn!(mail_id = %mail.id, "mail worker stopping: send given up");
                // Given back with the rest, so the next start sends it at once (it may go
                // twice if it was in flight).
                *attempted = i;
                break;
            };
            self.metrics.delivery(match &outcome {
                Ok(()) => Delivery::Sent,
                Err(SendFailure::Temporary(_)) => Delivery::TemporaryFailure,
                Err(SendFailure::Permanent(_)) => Delivery::PermanentFailure,
            });
            unrecorded = Some((mail, outcome));
        }
        self.record(unrecorded, claim)
            .instrument(tracing::debug_span!("mail_record"))
            .await
    }

    /// Records a send's outcome, if there is one, under the batch's claim.
    async fn record(
        &self,
        sent: Option<(&ClaimedMail, Result<(), SendFailure>)>,
        claim: &str,
    ) -> Result<(), sqlx::Error> {
        let Some((mail, outcome)) = sent else {
            return Ok(());
        };
        let _turn = self.db.write_turn().await;
        let mut conn = self.db.acquire_relaxed().await?;
        let recorded = match &outcome {
            Ok(()) => {
                tracing::info!(mail_id = %mail.id, attempt = mail.attempts, "mail sent");
                outbox::mark_sent(&mut conn, mail, claim).await?
            }
            Err(failure) => {
                let retry_in = match failure {
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
                outbox::mark_attempt_failed(&mut conn, &mail.id, claim, error, retry_in).await?
            }
        };
        if !recorded {
            // Its lease ran out and another worker has it: that one's record stands.
            tracing::warn!(mail_id = %mail.id, "mail claim lost before its outcome was recorded");
        }
        Ok(())
    }

    /// The message ready to send, or why it cannot be built (a permanent failure).
    fn outgoing(&self, mail: &ClaimedMail) -> Result<Outgoing, SendFailure> {
        self.build(mail)
            .map(|message| Outgoing::from(&message))
            .map_err(SendFailure::Permanent)
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
        let built = match (&mail.html, mail.attachments.is_empty()) {
            (Some(html), true) => builder.multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                html.clone(),
            )),
            // A single part, not a bare body: lettre then writes `MIME-Version`, which a
            // message that declares its transfer encoding must have.
            (None, true) => builder.singlepart(SinglePart::plain(mail.text.clone())),
            (_, false) => builder.multipart(with_attachments(mail)?),
        };
        built.map_err(|e| format!("building the message: {e}"))
    }
}

/// `multipart/mixed`: the text (and HTML, as alternatives) first, then each file as an
/// attachment, so a mail client shows the text and offers the files.
fn with_attachments(mail: &ClaimedMail) -> Result<MultiPart, String> {
    let mixed = MultiPart::mixed();
    let mut parts = match &mail.html {
        Some(html) => mixed.multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            html.clone(),
        )),
        None => mixed.singlepart(SinglePart::plain(mail.text.clone())),
    };
    for file in &mail.attachments {
        let content_type = ContentType::parse(&file.content_type)
            .map_err(|e| format!("attachment content type: {e}"))?;
        parts = parts.singlepart(
            Attachment::new(file.filename.clone()).body(file.content.clone(), content_type),
        );
    }
    Ok(parts)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keeps a claim's lease from running out while its worker is alive: renewed every third of
/// the lease, so only a dead worker's messages become due again.
async fn renew_until_aborted(db: Db, claim: String, lease: Duration) {
    let mut every = tokio::time::interval(lease / 3);
    every.tick().await;
    loop {
        every.tick().await;
        let _turn = db.write_turn().await;
        let renewed = match db.acquire_relaxed().await {
            Ok(mut conn) => outbox::renew(&mut conn, &claim, lease).await,
            Err(err) => Err(err),
        };
        if let Err(err) = renewed {
            tracing::warn!(error = %err, "mail lease not renewed");
        }
    }
}

/// Resolves `grace` after `shutdown` turns true; never before.
async fn after_shutdown(mut shutdown: watch::Receiver<bool>, grace: Duration) {
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            // The sender is gone without a shutdown: wait for ever.
            std::future::pending::<()>().await;
        }
    }
    tokio::time::sleep(grace).await;
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
