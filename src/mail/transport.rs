//! Where mail goes: an SMTP server through lettre, or `.eml` files in a folder when no SMTP
//! server is configured, so the service runs with nothing else installed.

use std::path::PathBuf;

use anyhow::Context;
use lettre::Message;
use lettre::address::Envelope;

use super::smtp::{Session, SmtpServer};
use crate::config::MailSettings;

pub enum Transport {
    Smtp(Box<SmtpServer>),
    Files(PathBuf),
}

/// Why a message was not delivered, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// A 4xx reply, a broken or hung connection, a full disk: retried later.
    Temporary(String),
    /// A 5xx reply (an unknown recipient, say), or a message that cannot be built: retrying
    /// would only get the same answer.
    Permanent(String),
}

impl SendFailure {
    pub fn text(&self) -> &str {
        match self {
            SendFailure::Temporary(text) | SendFailure::Permanent(text) => text,
        }
    }
}

/// An SMTP error as stored and logged: its kind and the server's reply, with any address in
/// it replaced (a rejection quotes the recipient, who is a person).
pub(super) fn smtp_failure(err: &lettre::transport::smtp::Error) -> SendFailure {
    let text = redact_addresses(&format!("SMTP: {err}"));
    // A 5xx about our login or TLS (530, 534, 535, 538) is our configuration, not the
    // message: failing the whole backlog at once would lose it; it is retried instead.
    let about_us = err
        .status()
        .is_some_and(|code| matches!(code.to_string().as_str(), "530" | "534" | "535" | "538"));
    if err.is_permanent() && !about_us {
        SendFailure::Permanent(text)
    } else {
        SendFailure::Temporary(text)
    }
}

/// `text` with every word that holds an `@` replaced by `[address]`.
pub fn redact_addresses(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.contains('@') {
                let end = word.trim_end();
                format!("[address]{}", &word[end.len()..])
            } else {
                word.to_owned()
            }
        })
        .collect()
}

impl Transport {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        match &settings.smtp_url {
            Some(url) => {
                let server = SmtpServer::parse(url.expose(), settings.smtp_timeout)
                    .map_err(anyhow::Error::msg)
                    .context("RRH_SMTP_URL must look like smtp://host:port or smtps://host")?;
                Ok(Transport::Smtp(Box::new(server)))
            }
            None => {
                std::fs::create_dir_all(&settings.dir).with_context(|| {
                    format!("creating the mail folder {}", settings.dir.display())
                })?;
                Ok(Transport::Files(settings.dir.clone()))
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(..) => "SMTP".into(),
            Transport::Files(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    /// A sender for messages one after another: over SMTP, one connection for all of them.
    pub fn sender(&self) -> Sender<'_> {
        match self {
            Transport::Smtp(server) => Sender::Smtp(server.session()),
            Transport::Files(dir) => Sender::Files(dir),
        }
    }
}

pub enum Sender<'a> {
    Smtp(Session<'a>),
    Files(&'a std::path::Path),
}

/// A message ready to go: its envelope and its bytes, made once.
pub struct Outgoing {
    envelope: Envelope,
    content: Vec<u8>,
}

impl From<&Message> for Outgoing {
    fn from(message: &Message) -> Self {
        Self {
            envelope: message.envelope().clone(),
            content: message.formatted(),
        }
    }
}

impl Sender<'_> {
    /// Starts a message: over SMTP its envelope, after which the server waits for the
    /// content. Nothing is delivered before [`Sender::finish`], so the worker can send this
    /// while the outcome of the message before is still being recorded.
    pub async fn begin(&mut self, message: &Outgoing) -> Result<(), SendFailure> {
        match self {
            Sender::Smtp(session) => session.begin(&message.envelope, &message.content).await,
            Sender::Files(_) => Ok(()),
        }
    }

    /// Delivers the message begun. `file_stem` names the `.eml` file; the same message always
    /// gets the same name, so a retry after a crash overwrites rather than duplicates.
    pub async fn finish(&mut self, message: &Outgoing, file_stem: &str) -> Result<(), SendFailure> {
        match self {
            Sender::Smtp(session) => session.finish(&message.content).await,
            Sender::Files(dir) => {
                let target = dir.join(format!("{file_stem}.eml"));
                let partial = dir.join(format!(".{file_stem}.eml.partial"));
                // Write then rename, so a reader never sees half a message.
                tokio::fs::write(&partial, &message.content)
                    .await
                    .map_err(|e| {
                        SendFailure::Temporary(format!("writing {}: {e}", partial.display()))
                    })?;
                tokio::fs::rename(&partial, &target).await.map_err(|e| {
                    SendFailure::Temporary(format!("renaming to {}: {e}", target.display()))
                })
            }
        }
    }

    /// Ends the run of messages (QUIT over SMTP).
    pub async fn close(self) {
        if let Sender::Smtp(session) = self {
            session.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_a_server_reply_are_redacted() {
        assert_eq!(
            redact_addresses(
                "SMTP: permanent error (550): 5.1.1 <kari@kunde.no>: Recipient address rejected"
            ),
            "SMTP: permanent error (550): 5.1.1 [address] Recipient address rejected"
        );
        assert_eq!(redact_addresses("no address here"), "no address here");
    }
}
