//! Settings from the environment. Every variable has a default that works for `cargo run`
//! on a developer machine; production sets the ones marked "required outside development".

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::domain::ScopeCatalog;
use crate::maskinporten::certificate::IssuerLists;

/// A value that must never reach a log or an error message: `Debug` shows `[redacted]`, and
/// the value is only read through [`Secret::expose`], which names every place that uses it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Address the HTTP server binds to (`RRH_LISTEN`). Port 0 picks a free port (tests).
    pub listen: SocketAddr,
    /// Public URL of the service, used in emails (`RRH_BASE_URL`).
    pub base_url: String,
    /// `sqlite:...` or `postgres://...` (`DATABASE_URL`); may carry a password.
    pub database_url: Secret<String>,
    pub mail: MailSettings,
    /// Secret for signing cookies (`RRH_SESSION_KEY`); generated per process in development.
    pub session_key: Secret<Vec<u8>>,
    pub scopes: ScopeCatalog,
    /// Largest request body accepted, in bytes (`RRH_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// `true` when `RRH_ENV` is `development` (the default): relaxes what must be configured.
    pub development: bool,
    pub workspace: WorkspaceSettings,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`RRH_TRUSTED_PROXIES`: addresses
    /// or CIDR ranges, comma-separated). Without it, the connecting address is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Client addresses allowed to read `/metrics` (`RRH_METRICS_ALLOW`: addresses or CIDR
    /// ranges, comma-separated; loopback only by default), as resolved through the trusted
    /// proxies.
    pub metrics_allow: Vec<ipnet::IpNet>,
    pub maskinporten: MaskinportenSettings,
    /// Personal data is removed from orders this many days after they ended
    /// (`RRH_PURGE_AFTER_DAYS`, 365); the server does it every few hours, `purge` on demand.
    pub purge_after_days: u32,
    /// Orders accepted per client address an hour, form and API together
    /// (`RRH_ORDERS_PER_HOUR`, 60): each order asks Enhetsregisteret and sends three emails.
    pub orders_per_hour: i64,
    /// Calls with one link token a minute on `/api/v1/orders/{reference}`
    /// (`RRH_API_READS_PER_MINUTE`, 60) ...
    pub api_reads_per_minute: i64,
    /// ... and token checks (`RRH_API_TOKEN_CHECKS_PER_MINUTE`, 10), each of which may fetch
    /// Maskinporten's keys.
    pub api_token_checks_per_minute: i64,
    /// Enhetsregisteret's API (`RRH_ENHETSREGISTERET_URL`).
    pub enhetsregisteret_url: String,
    /// How long a lookup may take before the order is taken unverified
    /// (`RRH_ENHETSREGISTERET_TIMEOUT_MS`, 3000).
    pub enhetsregisteret_timeout: Duration,
    /// Which CAs the certificate check takes for test and for production
    /// (`RRH_CERT_TEST_ISSUERS`, `RRH_CERT_PROD_ISSUERS`: comma-separated names).
    pub certificate_issuers: IssuerLists,
}

/// Where the token check gets Maskinporten's keys.
#[derive(Debug, Clone)]
pub struct MaskinportenSettings {
    /// `RRH_MASKINPORTEN_TEST_JWKS_URL`, default `https://test.maskinporten.no/jwk`.
    pub test_jwks_url: String,
    /// `RRH_MASKINPORTEN_PROD_JWKS_URL`, default `https://maskinporten.no/jwk`.
    pub production_jwks_url: String,
    /// How long a JWKS fetch may take (`RRH_MASKINPORTEN_TIMEOUT_MS`, 5000).
    pub timeout: Duration,
}

/// The case handlers' workspace under `/admin`.
#[derive(Debug, Clone)]
pub struct WorkspaceSettings {
    /// A session ends after this long without a request (`RRH_SESSION_IDLE_MINUTES`, 30).
    pub session_idle: Duration,
    /// A session ends this long after login, however busy (`RRH_SESSION_MAX_HOURS`, 10).
    pub session_max: Duration,
    /// Contacts' private links stop working this many days after the order ended
    /// (`RRH_LINK_DAYS_AFTER_CLOSE`, 30).
    pub link_days_after_close: u32,
    /// Open orders unchanged for this many working days are marked in the queue
    /// (`RRH_STALE_WORKING_DAYS`, 2).
    pub stale_working_days: u32,
    /// What the contacts and the receipt are told the registry's steps usually take, in
    /// working days (`RRH_EXPECTED_WORKING_DAYS`, 3).
    pub expected_working_days: u32,
}

#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtps://...` or `smtp://...?tls=required` (`RRH_SMTP_URL`).
    /// Without it, messages are written as `.eml` files to `dir`. May carry a password.
    pub smtp_url: Option<Secret<String>>,
    pub dir: PathBuf,
    pub from: String,
    pub registry_mailbox: String,
    /// Where the TT02 loading list goes, with Altinn (`RRH_ALTINN_LOADING_MAILBOX`). Without
    /// it, the case handler is given the list to copy and its CSV to download instead.
    pub altinn_loading_mailbox: Option<String>,
    /// Domain of every Message-ID: the public host name, so IDs are unique to this service.
    pub message_id_domain: String,
    /// Attempts before a message is marked `failed` (`RRH_MAIL_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// First retry delay; doubles with each attempt in milliseconds (`RRH_MAIL_RETRY_MS`).
    pub retry_base: Duration,
    /// How long a worker's claim on a message lasts without renewal: after a crash, how long
    /// its messages wait (`RRH_MAIL_LEASE_MS`, 30000).
    pub lease: Duration,
    /// The wall-clock limit on one delivery: connect, every command and the data
    /// (`RRH_SMTP_TIMEOUT_MS`, 30000).
    pub smtp_timeout: Duration,
    /// How often the worker looks for due messages when nothing wakes it (`RRH_MAIL_POLL_MS`).
    pub poll_interval: Duration,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let development = match get("RRH_ENV").as_deref() {
            None | Some("development") => true,
            Some("production") => false,
            Some(other) => bail!("RRH_ENV must be `development` or `production`, not `{other}`"),
        };

        let listen: SocketAddr = get("RRH_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("RRH_LISTEN must be an address such as 127.0.0.1:8080")?;

        let base_url = get("RRH_BASE_URL")
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        url::Url::parse(&base_url).context("RRH_BASE_URL must be an absolute URL")?;

        let database_url =
            Secret::new(get("DATABASE_URL").unwrap_or_else(|| "sqlite:data/rrh.db".into()));

        let session_key = Secret::new(match get("RRH_SESSION_KEY") {
            Some(key) if key.len() >= 32 => key.into_bytes(),
            Some(_) => bail!("RRH_SESSION_KEY must be at least 32 characters"),
            None if development => random_key(),
            None => bail!("RRH_SESSION_KEY is required when RRH_ENV=production"),
        });

        let scopes = scopes(&get)?;
        let mail = mail_settings(&get, &base_url)?;
        let trusted_proxies = networks(&get, "RRH_TRUSTED_PROXIES")?.unwrap_or_default();
        let metrics_allow = networks(&get, "RRH_METRICS_ALLOW")?.unwrap_or_else(|| {
            ["127.0.0.0/8", "::1/128"]
                .map(|net| net.parse().expect("a valid range"))
                .to_vec()
        });
        let maskinporten = maskinporten_settings(&get)?;
        let enhetsregisteret_url = get("RRH_ENHETSREGISTERET_URL")
            .unwrap_or_else(|| "https://data.brreg.no/enhetsregisteret/api".into());
        url::Url::parse(&enhetsregisteret_url)
            .context("RRH_ENHETSREGISTERET_URL must be an absolute URL")?;

        Ok(Self {
            orders_per_hour: parse_number(&get, "RRH_ORDERS_PER_HOUR", 60)?,
            api_reads_per_minute: parse_number(&get, "RRH_API_READS_PER_MINUTE", 60)?,
            api_token_checks_per_minute: parse_number(&get, "RRH_API_TOKEN_CHECKS_PER_MINUTE", 10)?,
            purge_after_days: parse_number(&get, "RRH_PURGE_AFTER_DAYS", 365)?,
            enhetsregisteret_url,
            enhetsregisteret_timeout: Duration::from_millis(parse_number(
                &get,
                "RRH_ENHETSREGISTERET_TIMEOUT_MS",
                3_000,
            )?),
            maskinporten,
            certificate_issuers: certificate_issuers(&get)?,
            trusted_proxies,
            metrics_allow,
            listen,
            base_url,
            database_url,
            mail,
            session_key,
            scopes,
            max_body_bytes: parse_number(&get, "RRH_MAX_BODY_BYTES", 64 * 1024)?,
            development,
            workspace: workspace_settings(&get)?,
        })
    }

    /// Cookies get the `Secure` flag when the public URL is HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

type Lookup<'a> = dyn Fn(&str) -> Option<String> + 'a;

/// `RRH_SCOPES` or `RRH_SCOPES_FILE`, or the guide's two scopes.
fn scopes(get: &Lookup) -> anyhow::Result<ScopeCatalog> {
    let scopes = match (get("RRH_SCOPES"), get("RRH_SCOPES_FILE")) {
        (Some(_), Some(_)) => bail!("set RRH_SCOPES or RRH_SCOPES_FILE, not both"),
        (Some(text), None) => {
            ScopeCatalog::parse(&text).map_err(|e| anyhow::anyhow!("RRH_SCOPES: {e}"))?
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading RRH_SCOPES_FILE {path}"))?;
            ScopeCatalog::parse(&text).map_err(|e| anyhow::anyhow!("{path}: {e}"))?
        }
        (None, None) => ScopeCatalog::default(),
    };
    Ok(scopes)
}

/// Where and how mail goes; the addresses must parse as mailboxes.
fn mail_settings(get: &Lookup, base_url: &str) -> anyhow::Result<MailSettings> {
    let mail = MailSettings {
        smtp_url: get("RRH_SMTP_URL").map(Secret::new),
        dir: get("RRH_MAIL_DIR")
            .unwrap_or_else(|| "data/mail".into())
            .into(),
        from: get("RRH_MAIL_FROM")
            .unwrap_or_else(|| "Register over reelle rettighetshavere <no-reply@localhost>".into()),
        registry_mailbox: get("RRH_REGISTRY_MAILBOX")
            .unwrap_or_else(|| "opendata.rrh@brreg.no".into()),
        altinn_loading_mailbox: get("RRH_ALTINN_LOADING_MAILBOX"),
        message_id_domain: url::Url::parse(base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".into()),
        max_attempts: parse_number(get, "RRH_MAIL_MAX_ATTEMPTS", 32)?,
        smtp_timeout: Duration::from_millis(parse_number(get, "RRH_SMTP_TIMEOUT_MS", 30_000)?),
        lease: Duration::from_millis(parse_number(get, "RRH_MAIL_LEASE_MS", 30_000)?),
        retry_base: Duration::from_millis(parse_number(get, "RRH_MAIL_RETRY_MS", 30_000)?),
        poll_interval: Duration::from_millis(parse_number(get, "RRH_MAIL_POLL_MS", 5_000)?),
    };
    let loading = mail.altinn_loading_mailbox.as_ref();
    for (name, value) in [
        ("RRH_MAIL_FROM", Some(&mail.from)),
        ("RRH_REGISTRY_MAILBOX", Some(&mail.registry_mailbox)),
        ("RRH_ALTINN_LOADING_MAILBOX", loading),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
    {
        value
            .parse::<lettre::message::Mailbox>()
            .with_context(|| format!("{name} must be an email address"))?;
    }
    if mail.max_attempts == 0 {
        bail!("RRH_MAIL_MAX_ATTEMPTS must be at least 1");
    }
    if mail.lease < Duration::from_millis(300) {
        bail!("RRH_MAIL_LEASE_MS must be at least 300");
    }
    if mail.smtp_timeout.is_zero() {
        bail!("RRH_SMTP_TIMEOUT_MS must be at least 1");
    }
    Ok(mail)
}

/// A list of addresses or CIDR ranges, comma-separated (`RRH_TRUSTED_PROXIES`,
/// `RRH_METRICS_ALLOW`); `None` when the variable is not set.
fn networks(get: &Lookup, name: &str) -> anyhow::Result<Option<Vec<ipnet::IpNet>>> {
    get(name)
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(|entry| {
                    entry
                        .parse::<ipnet::IpNet>()
                        .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|_| {
                            anyhow::anyhow!("{name}: `{entry}` is not an address or CIDR range")
                        })
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .transpose()
}

/// Where the token check gets Maskinporten's keys; the URLs must be absolute.
fn maskinporten_settings(get: &Lookup) -> anyhow::Result<MaskinportenSettings> {
    let maskinporten = MaskinportenSettings {
        test_jwks_url: get("RRH_MASKINPORTEN_TEST_JWKS_URL")
            .unwrap_or_else(|| "https://test.maskinporten.no/jwk".into()),
        production_jwks_url: get("RRH_MASKINPORTEN_PROD_JWKS_URL")
            .unwrap_or_else(|| "https://maskinporten.no/jwk".into()),
        timeout: Duration::from_millis(parse_number(&get, "RRH_MASKINPORTEN_TIMEOUT_MS", 5_000)?),
    };
    for (name, value) in [
        (
            "RRH_MASKINPORTEN_TEST_JWKS_URL",
            &maskinporten.test_jwks_url,
        ),
        (
            "RRH_MASKINPORTEN_PROD_JWKS_URL",
            &maskinporten.production_jwks_url,
        ),
    ] {
        url::Url::parse(value).with_context(|| format!("{name} must be an absolute URL"))?;
    }
    Ok(maskinporten)
}

/// `RRH_CERT_TEST_ISSUERS` and `RRH_CERT_PROD_ISSUERS`, each a comma-separated list of
/// substrings of CA names; either falls back to its default when not set.
fn certificate_issuers(get: &Lookup) -> anyhow::Result<IssuerLists> {
    let defaults = IssuerLists::default();
    let list = |name: &str, default: Vec<String>| -> anyhow::Result<Vec<String>> {
        match get(name) {
            None => Ok(default),
            Some(raw) => {
                let names = IssuerLists::parse_list(&raw);
                if names.is_empty() {
                    bail!("{name} must name at least one certificate authority");
                }
                Ok(names)
            }
        }
    };
    Ok(IssuerLists {
        test: list("RRH_CERT_TEST_ISSUERS", defaults.test)?,
        production: list("RRH_CERT_PROD_ISSUERS", defaults.production)?,
    })
}

fn workspace_settings(get: &Lookup) -> anyhow::Result<WorkspaceSettings> {
    Ok(WorkspaceSettings {
        session_idle: Duration::from_secs(
            60 * parse_number(get, "RRH_SESSION_IDLE_MINUTES", 30u64)?,
        ),
        session_max: Duration::from_secs(3600 * parse_number(get, "RRH_SESSION_MAX_HOURS", 10u64)?),
        stale_working_days: parse_number(get, "RRH_STALE_WORKING_DAYS", 2)?,
        link_days_after_close: parse_number(get, "RRH_LINK_DAYS_AFTER_CLOSE", 30)?,
        expected_working_days: parse_number(get, "RRH_EXPECTED_WORKING_DAYS", 3)?,
    })
}

fn parse_number<T: std::str::FromStr>(get: &Lookup, name: &str, default: T) -> anyhow::Result<T> {
    match get(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse()
            .map_err(|_| anyhow::anyhow!("{name} must be a whole number, not `{raw}`")),
    }
}

fn random_key() -> Vec<u8> {
    use rand::RngCore;
    let mut key = vec![0u8; 64];
    rand::rng().fill_bytes(&mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_work_without_any_variable() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url.expose(), "sqlite:data/rrh.db");
        assert_eq!(s.mail.registry_mailbox, "opendata.rrh@brreg.no");
        assert_eq!(s.mail.altinn_loading_mailbox, None);
        assert_eq!(s.mail.dir, PathBuf::from("data/mail"));
        assert!(s.mail.smtp_url.is_none());
        assert_eq!(s.scopes.entries().len(), 2);
        assert!(s.development);
    }

    #[test]
    fn production_requires_a_session_key() {
        let err = settings(&[("RRH_ENV", "production")]).unwrap_err();
        assert!(err.to_string().contains("RRH_SESSION_KEY"));
        let key = "k".repeat(40);
        assert!(settings(&[("RRH_ENV", "production"), ("RRH_SESSION_KEY", &key)]).is_ok());
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_name() {
        for (name, value) in [
            ("RRH_LISTEN", "nowhere"),
            ("RRH_MAIL_MAX_ATTEMPTS", "many"),
            ("RRH_REGISTRY_MAILBOX", "not an address"),
            ("RRH_ALTINN_LOADING_MAILBOX", "altinn.no"),
            ("RRH_BASE_URL", "relative/path"),
            ("RRH_SCOPES", "no equals sign here"),
        ] {
            let err = format!("{:#}", settings(&[(name, value)]).unwrap_err());
            assert!(
                err.contains(name) || name == "RRH_BASE_URL",
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn the_altinn_loading_mailbox_is_read_when_set() {
        let s = settings(&[(
            "RRH_ALTINN_LOADING_MAILBOX",
            " tt02-innlasting@altinn.example ",
        )])
        .unwrap();
        assert_eq!(
            s.mail.altinn_loading_mailbox.as_deref(),
            Some("tt02-innlasting@altinn.example")
        );
        let err = format!(
            "{:#}",
            settings(&[("RRH_ALTINN_LOADING_MAILBOX", "Altinn <not an address>")]).unwrap_err()
        );
        assert!(
            err.contains("RRH_ALTINN_LOADING_MAILBOX must be an email address"),
            "{err}"
        );
    }

    #[test]
    fn secrets_are_redacted_when_settings_are_printed() {
        let key = "a-session-key-of-at-least-32-characters";
        let s = settings(&[
            ("RRH_SESSION_KEY", key),
            (
                "RRH_SMTP_URL",
                "smtp://mailer:smtp-hunter2@mail.example:587",
            ),
            ("DATABASE_URL", "postgres://app:db-hunter2@db.example/rrh"),
        ])
        .unwrap();
        let printed = format!("{s:?}");
        for secret in [key, "smtp-hunter2", "db-hunter2"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("[redacted]"));
        assert_eq!(s.session_key.expose(), key.as_bytes());
    }

    #[test]
    fn scopes_come_from_configuration() {
        let s = settings(&[("RRH_SCOPES", "brreg:reelle/media=Media - På vegne av")]).unwrap();
        assert_eq!(s.scopes.entries().len(), 1);
        assert_eq!(s.scopes.entries()[0].name, "brreg:reelle/media");
    }

    #[test]
    fn certificate_issuers_come_from_configuration_with_the_reference_s_defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.certificate_issuers.test, ["Test4", "TEST"]);
        assert!(
            s.certificate_issuers
                .production
                .contains(&"Buypass Class 3 CA 3".to_owned())
        );
        let s = settings(&[
            ("RRH_CERT_TEST_ISSUERS", "Staging CA, Test4"),
            ("RRH_CERT_PROD_ISSUERS", "Buypass Class 3 CA 3"),
        ])
        .unwrap();
        assert_eq!(s.certificate_issuers.test, ["Staging CA", "Test4"]);
        assert_eq!(s.certificate_issuers.production, ["Buypass Class 3 CA 3"]);
        let err = format!(
            "{:#}",
            settings(&[("RRH_CERT_PROD_ISSUERS", " , ")]).unwrap_err()
        );
        assert!(err.contains("RRH_CERT_PROD_ISSUERS"), "{err}");
    }
}
