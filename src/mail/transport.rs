//! Where mail goes: an SMTP server through lettre, or `.eml` files in a folder when no SMTP
//! server is configured, so the service runs with nothing else installed.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailSettings;

pub enum Transport {
    /// The client, and the wall-clock limit on one whole delivery.
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>, Duration),
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
fn smtp_failure(err: &lettre::transport::smtp::Error) -> SendFailure {
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
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("RRH_SMTP_URL must look like smtp://host:port or smtps://host")?
                    .timeout(Some(settings.smtp_timeout))
                    .build();
                Ok(Transport::Smtp(Box::new(transport), settings.smtp_timeout))
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

    /// Delivers one message. `file_stem` names the `.eml` file; the same message always gets
    /// the same name, so a retry after a crash overwrites rather than duplicates.
    pub async fn send(&self, message: &Message, file_stem: &str) -> Result<(), SendFailure> {
        match self {
            // lettre's own timeout covers the connect only: a server that accepts and then
            // says nothing would hold the worker for ever. The limit covers the whole
            // delivery; the timed-out future is dropped with its connection. lettre's pool is
            // off (Cargo.toml): a pooled connection dropped mid-reply went back to the pool
            // and answered the next message with the last one's reply.
            Transport::Smtp(smtp, limit) => {
                match tokio::time::timeout(*limit, smtp.send(message.clone())).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(err)) => Err(smtp_failure(&err)),
                    Err(_) => Err(SendFailure::Temporary(format!(
                        "SMTP: no answer within {} ms",
                        limit.as_millis()
                    ))),
                }
            }
            Transport::Files(dir) => {
                let target = dir.join(format!("{file_stem}.eml"));
                let partial = dir.join(format!(".{file_stem}.eml.partial"));
                // Write then rename, so a reader never sees half a message.
                tokio::fs::write(&partial, message.formatted())
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
