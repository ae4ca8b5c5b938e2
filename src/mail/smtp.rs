//! SMTP over connections we open ourselves, through lettre's connection type.
//!
//! lettre 0.11.23 (the newest release) opens its TCP connections with Nagle's algorithm on
//! and writes a message's body and its closing `.` in two writes: the second waited for the
//! server's delayed ACK, about 40 ms a message on loopback (lettre's pull request 1159 fixes
//! this upstream, not yet released). Here the socket gets `TCP_NODELAY` before lettre sees
//! it, and one connection serves every message due, batch after batch, then is closed with
//! QUIT. A message goes in two halves, [`Session::begin`] (the envelope) and
//! [`Session::finish`] (the content), so the worker can do other work in between.
//!
//! A connection is never reused after an error or a timeout: it is dropped, so a reply that
//! arrives late can never be read as the answer to the next message.

use std::borrow::Cow;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::net::TcpStream;

use super::transport::{SendFailure, smtp_failure};

/// Where and how to connect, from `RRH_SMTP_URL`, read as lettre's `from_url` reads it:
/// `smtp://host[:25]`, `smtp://host[:587]?tls=required|opportunistic` (STARTTLS),
/// `smtps://host[:465]` (TLS from the start), `user:password@` for a login, and a path for
/// the name sent in EHLO.
pub struct SmtpServer {
    host: String,
    port: u16,
    tls: Tls,
    hello: ClientId,
    credentials: Option<Credentials>,
    /// The limit on connecting and on each message.
    timeout: Duration,
}

impl SmtpServer {
    pub fn parse(url: &str, timeout: Duration) -> Result<Self, String> {
        let url = url::Url::parse(url).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("no host")?.to_owned();
        let tls_mode = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let parameters = || TlsParameters::new(host.clone()).map_err(|e| e.to_string());
        let (default_port, tls) = match (url.scheme(), tls_mode.as_deref()) {
            ("smtp", None) => (25, Tls::None),
            ("smtp", Some("required")) => (587, Tls::Required(parameters()?)),
            ("smtp", Some("opportunistic")) => (587, Tls::Opportunistic(parameters()?)),
            ("smtps", _) => (465, Tls::Wrapper(parameters()?)),
            (scheme, tls) => {
                return Err(format!("unknown scheme {scheme:?} or tls={tls:?}"));
            }
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(Cow::into_owned)
                .map_err(|e| e.to_string())
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            tls,
            hello,
            credentials,
            timeout,
        })
    }

    /// A session that opens its connection on the first message.
    pub fn session(&self) -> Session<'_> {
        Session {
            server: self,
            connection: None,
            in_data: false,
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendFailure> {
        let temporary = |what: &str, e: &dyn std::fmt::Display| {
            SendFailure::Temporary(format!("SMTP: {what}: {e}"))
        };
        let mut connection = match &self.tls {
            // TLS from the first byte: lettre opens this socket itself (its TLS stream type
            // cannot be built around ours), so it keeps the delay; STARTTLS does not.
            Tls::Wrapper(parameters) => AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(self.timeout),
                &self.hello,
                Some(parameters.clone()),
                None,
            )
            .await
            .map_err(|e| smtp_failure(&e))?,
            _ => {
                let stream = TcpStream::connect((self.host.as_str(), self.port))
                    .await
                    .map_err(|e| temporary("connecting", &e))?;
                stream
                    .set_nodelay(true)
                    .map_err(|e| temporary("TCP_NODELAY", &e))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello)
                    .await
                    .map_err(|e| smtp_failure(&e))?
            }
        };
        match &self.tls {
            Tls::Required(parameters) => connection
                .starttls(parameters.clone(), &self.hello)
                .await
                .map_err(|e| smtp_failure(&e))?,
            Tls::Opportunistic(parameters) if connection.can_starttls() => connection
                .starttls(parameters.clone(), &self.hello)
                .await
                .map_err(|e| smtp_failure(&e))?,
            _ => {}
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| smtp_failure(&e))?;
        }
        Ok(connection)
    }
}

/// Messages sent one after another over one connection.
pub struct Session<'a> {
    server: &'a SmtpServer,
    /// Boxed: lettre's connection is over a kilobyte, and lives across awaits.
    connection: Option<Box<AsyncSmtpConnection>>,
    /// Between an accepted `DATA` and the message's content: a `QUIT` now would be read as
    /// part of the message, so the connection may only be dropped.
    in_data: bool,
}

impl Session<'_> {
    /// Sends a message's envelope (`MAIL`, `RCPT`, `DATA`), connecting first if there is no
    /// good connection; the server then waits for [`Session::finish`]. Nothing is delivered
    /// yet: a connection that drops now loses the message, never repeats it.
    pub async fn begin(&mut self, envelope: &Envelope, content: &[u8]) -> Result<(), SendFailure> {
        let limit = self.server.timeout;
        let outcome = tokio::time::timeout(limit, self.try_begin(envelope, content)).await;
        self.settle(outcome)
    }

    /// Sends the content of the message begun: it is delivered once the server accepts it.
    pub async fn finish(&mut self, content: &[u8]) -> Result<(), SendFailure> {
        let limit = self.server.timeout;
        let outcome = tokio::time::timeout(limit, self.try_finish(content)).await;
        self.settle(outcome)
    }

    // The connection is taken out while in use: a step that fails, or is dropped (timeout,
    // shutdown), takes it along, so a late reply can never be read as the next one's.
    async fn try_begin(&mut self, envelope: &Envelope, content: &[u8]) -> Result<(), SendFailure> {
        // Never reused in the middle of a message (callers finish or drop it first).
        let kept = self
            .connection
            .take()
            .filter(|c| !c.has_broken() && !self.in_data);
        self.in_data = false;
        let reused = kept.is_some();
        let mut connection = match kept {
            Some(connection) => connection,
            None => Box::new(self.server.connect().await?),
        };
        let mut sent = send_envelope(&mut connection, envelope, content).await;
        if reused && matches!(sent, Err(SendFailure::Temporary(_))) {
            // A kept connection the server has since closed, or ended with 421 (servers
            // limit messages per connection): nothing was delivered, so once more on a new
            // one.
            connection.abort().await;
            connection = Box::new(self.server.connect().await?);
            sent = send_envelope(&mut connection, envelope, content).await;
        }
        if let Err(err) = sent {
            // Not in DATA: a polite QUIT cannot become part of a message.
            connection.abort().await;
            return Err(err);
        }
        self.connection = Some(connection);
        self.in_data = true;
        Ok(())
    }

    async fn try_finish(&mut self, content: &[u8]) -> Result<(), SendFailure> {
        let begun = std::mem::take(&mut self.in_data);
        let mut connection = self
            .connection
            .take()
            .filter(|_| begun)
            .ok_or_else(|| SendFailure::Temporary("SMTP: no message begun".into()))?;
        if let Err(err) = connection.message(content).await {
            // The server answered (or the connection broke): out of DATA either way, so
            // QUIT is safe, and the connection is not used again.
            connection.abort().await;
            return Err(smtp_failure(&err));
        }
        self.connection = Some(connection);
        Ok(())
    }

    /// A step's outcome, with the server's timeout (connecting included) applied: a server
    /// that accepts and then says nothing cannot hold the worker.
    fn settle(
        &mut self,
        outcome: Result<Result<(), SendFailure>, tokio::time::error::Elapsed>,
    ) -> Result<(), SendFailure> {
        let outcome = outcome.unwrap_or_else(|_| {
            Err(SendFailure::Temporary(format!(
                "SMTP: no answer within {} ms",
                self.server.timeout.as_millis()
            )))
        });
        if outcome.is_err() {
            self.connection = None;
            self.in_data = false;
        }
        outcome
    }

    /// Says goodbye (QUIT), briefly: the messages are already delivered. A connection left
    /// in the middle of a message is dropped instead, which discards that message.
    pub async fn close(mut self) {
        if let Some(mut connection) = self.connection.take()
            && !self.in_data
        {
            let _ = tokio::time::timeout(Duration::from_secs(1), connection.quit()).await;
        }
    }
}

/// `MAIL FROM`, `RCPT TO` for each recipient and `DATA`, with the parameters lettre's own
/// `send` would give (SMTPUTF8 for non-ASCII addresses, 8BITMIME for non-ASCII content).
async fn send_envelope(
    connection: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    content: &[u8],
) -> Result<(), SendFailure> {
    let server = connection.server_info();
    let mut parameters = Vec::new();
    let mut addresses = envelope.from().into_iter().chain(envelope.to());
    if addresses.any(|a| !AsRef::<str>::as_ref(a).is_ascii()) {
        if !server.supports_feature(Extension::SmtpUtfEight) {
            return Err(SendFailure::Permanent(
                "SMTP: the server takes no non-ASCII addresses (SMTPUTF8)".into(),
            ));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !content.is_ascii() {
        if !server.supports_feature(Extension::EightBitMime) {
            return Err(SendFailure::Permanent(
                "SMTP: the server takes no 8-bit content (8BITMIME)".into(),
            ));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let failure = |e: lettre::transport::smtp::Error| smtp_failure(&e);
    connection
        .command(Mail::new(envelope.from().cloned(), parameters))
        .await
        .map_err(failure)?;
    for to in envelope.to() {
        connection
            .command(Rcpt::new(to.clone(), vec![]))
            .await
            .map_err(failure)?;
    }
    connection.command(Data).await.map_err(failure)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn the_url_reads_as_lettre_reads_it() {
        let plain = SmtpServer::parse("smtp://127.0.0.1:2525", T).unwrap();
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 2525));
        assert!(matches!(plain.tls, Tls::None));
        assert!(plain.credentials.is_none());

        let starttls =
            SmtpServer::parse("smtp://u%40x:p%2Fw@mail.example.no?tls=required", T).unwrap();
        assert_eq!(starttls.port, 587);
        assert!(matches!(starttls.tls, Tls::Required(_)));
        assert_eq!(
            starttls.credentials,
            Some(Credentials::new("u@x".into(), "p/w".into()))
        );

        let wrapper = SmtpServer::parse("smtps://mail.example.no/rrh.brreg.no", T).unwrap();
        assert_eq!(wrapper.port, 465);
        assert!(matches!(wrapper.tls, Tls::Wrapper(_)));
        assert_eq!(wrapper.hello, ClientId::Domain("rrh.brreg.no".into()));

        assert!(SmtpServer::parse("http://mail.example.no", T).is_err());
        assert!(SmtpServer::parse("smtp://mail.example.no?tls=sometimes", T).is_err());
        assert!(SmtpServer::parse("not a url", T).is_err());
    }
}
