//! SMTP over connections we open ourselves, through lettre's connection type.
//!
//! lettre 0.11.23 (the newest release) opens its TCP connections with Nagle's algorithm on
//! and writes a message's body and its closing `.` in two writes: the second waited for the
//! server's delayed ACK, about 40 ms a message on loopback (lettre's pull request 1159 fixes
//! this upstream, not yet released). Here the socket gets `TCP_NODELAY` before lettre sees
//! it, and one connection serves a whole batch of messages, then is closed with QUIT.
//!
//! A connection is never reused after an error or a timeout: it is dropped, so a reply that
//! arrives late can never be read as the answer to the next message.

use std::borrow::Cow;
use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
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
}

impl Session<'_> {
    /// Sends one message, connecting first if there is no good connection. Everything,
    /// connecting included, is limited by the server's timeout: a server that accepts and
    /// then says nothing cannot hold the worker.
    pub async fn send(&mut self, message: &Message) -> Result<(), SendFailure> {
        let limit = self.server.timeout;
        match tokio::time::timeout(limit, self.try_send(message)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                self.connection = None;
                Err(SendFailure::Temporary(format!(
                    "SMTP: no answer within {} ms",
                    limit.as_millis()
                )))
            }
        }
    }

    async fn try_send(&mut self, message: &Message) -> Result<(), SendFailure> {
        let mut connection = match self.connection.take() {
            Some(connection) if !connection.has_broken() => connection,
            _ => Box::new(self.server.connect().await?),
        };
        // Taken out while in use: if this future is dropped (timeout, shutdown), the
        // connection goes with it.
        connection
            .send(message.envelope(), &message.formatted())
            .await
            .map_err(|e| smtp_failure(&e))?;
        self.connection = Some(connection);
        Ok(())
    }

    /// Says goodbye (QUIT), briefly: the messages are already delivered.
    pub async fn close(mut self) {
        if let Some(mut connection) = self.connection.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), connection.quit()).await;
        }
    }
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
