//! Where mail goes: an SMTP server through lettre, or `.eml` files in a folder when no SMTP
//! server is configured, so the service runs with nothing else installed.

use std::path::PathBuf;

use anyhow::Context;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailSettings;

pub enum Transport {
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
    Files(PathBuf),
}

impl Transport {
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        match &settings.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .context("RRH_SMTP_URL must look like smtp://host:port or smtps://host")?
                    .timeout(Some(std::time::Duration::from_secs(30)))
                    .build();
                Ok(Transport::Smtp(Box::new(transport)))
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
            Transport::Smtp(_) => "SMTP".into(),
            Transport::Files(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    /// Delivers one message. `file_stem` names the `.eml` file; the same message always gets
    /// the same name, so a retry after a crash overwrites rather than duplicates.
    pub async fn send(&self, message: &Message, file_stem: &str) -> Result<(), String> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message.clone()).await.map(|_| ()).map_err(|e| {
                // lettre's error text names the server's answer, not the message content.
                format!("SMTP: {e}")
            }),
            Transport::Files(dir) => {
                let target = dir.join(format!("{file_stem}.eml"));
                let partial = dir.join(format!(".{file_stem}.eml.partial"));
                // Write then rename, so a reader never sees half a message.
                tokio::fs::write(&partial, message.formatted())
                    .await
                    .map_err(|e| format!("writing {}: {e}", partial.display()))?;
                tokio::fs::rename(&partial, &target)
                    .await
                    .map_err(|e| format!("renaming to {}: {e}", target.display()))
            }
        }
    }
}
