//! Test harness: the real app on port 0 with a fresh database (SQLite in a temp folder, or a
//! new PostgreSQL database when `TEST_POSTGRES_URL` is set) and a real SMTP listener on
//! loopback that records what it receives.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rrh_tt02::config::Settings;
use rrh_tt02::startup::Application;
use rrh_tt02::store::Db;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One message as the SMTP listener received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
    /// Which connection brought it (1 for the first the sink accepted).
    pub connection: usize,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("the received message parses as MIME")
    }
}

/// A minimal SMTP server: enough of RFC 5321 for lettre, plus a switch to answer the next
/// `fail_next` messages with a temporary failure (451) to exercise retries.
#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    pub fail_next: Arc<AtomicUsize>,
    /// Recipients refused for good (550 at RCPT TO), as a mail server does an unknown one.
    pub reject: Arc<Mutex<Vec<String>>>,
    /// Connections to turn away at once with 421 (the server is busy or restarting).
    pub busy_next: Arc<AtomicUsize>,
    /// Milliseconds between taking a message and confirming it, as a busy server takes.
    pub delay_ms: Arc<std::sync::atomic::AtomicU64>,
    /// Connections accepted so far, and how many of them ended with QUIT.
    pub connections: Arc<AtomicUsize>,
    pub quits: Arc<AtomicUsize>,
    /// Messages a connection may carry (0: any number); the next MAIL FROM gets 421 and the
    /// connection is closed, as servers that limit messages per connection do.
    pub per_connection: Arc<AtomicUsize>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            addr: listener.local_addr().unwrap(),
            received: Arc::default(),
            fail_next: Arc::default(),
            reject: Arc::default(),
            busy_next: Arc::default(),
            delay_ms: Arc::default(),
            connections: Arc::default(),
            quits: Arc::default(),
            per_connection: Arc::default(),
        };
        let shared = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = shared.clone();
                tokio::spawn(async move {
                    let _ = sink.session(stream).await;
                });
            }
        });
        sink
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let connection = self.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let (read, mut write) = stream.into_split();
        let mut reader = BufReader::new(read);
        let busy = self
            .busy_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if busy {
            write
                .write_all(b"421 4.3.2 Service not available, closing\r\n")
                .await?;
            return Ok(());
        }
        write.write_all(b"220 sink.test ESMTP\r\n").await?;
        let mut rcpt_to = Vec::new();
        let mut carried = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_ascii_uppercase();
            if command.starts_with("EHLO") {
                write
                    .write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                    .await?;
            } else if command.starts_with("HELO") || command.starts_with("NOOP") {
                write.write_all(b"250 ok\r\n").await?;
            } else if command.starts_with("MAIL FROM")
                && (1..=carried).contains(&self.per_connection.load(Ordering::SeqCst))
            {
                write
                    .write_all(b"421 4.7.0 Too many messages on this connection\r\n")
                    .await?;
                return Ok(());
            } else if command.starts_with("MAIL FROM") || command.starts_with("RSET") {
                rcpt_to.clear();
                write.write_all(b"250 ok\r\n").await?;
            } else if command.starts_with("RCPT TO") {
                let address = line.trim_end()[8..]
                    .trim()
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                if self.reject.lock().unwrap().contains(&address) {
                    let reply = format!("550 5.1.1 <{address}>: Recipient address rejected\r\n");
                    write.write_all(reply.as_bytes()).await?;
                    continue;
                }
                rcpt_to.push(address);
                write.write_all(b"250 ok\r\n").await?;
            } else if command == "DATA" {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = Vec::new();
                loop {
                    let mut raw = Vec::new();
                    if reader.read_until(b'\n', &mut raw).await? == 0 {
                        return Ok(());
                    }
                    if raw == b".\r\n" {
                        break;
                    }
                    // Dot-unstuffing (RFC 5321 4.5.2).
                    let raw = if raw.starts_with(b"..") {
                        raw[1..].to_vec()
                    } else {
                        raw
                    };
                    data.extend_from_slice(&raw);
                }
                let fail = self
                    .fail_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if fail {
                    write.write_all(b"451 try again later\r\n").await?;
                } else {
                    carried += 1;
                    self.received.lock().unwrap().push(Received {
                        rcpt_to: std::mem::take(&mut rcpt_to),
                        data,
                        connection,
                    });
                    let delay = self.delay_ms.load(Ordering::SeqCst);
                    if delay > 0 {
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                    }
                    write.write_all(b"250 queued\r\n").await?;
                }
            } else if command.starts_with("QUIT") {
                self.quits.fetch_add(1, Ordering::SeqCst);
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                write.write_all(b"502 not implemented\r\n").await?;
            }
        }
    }

    /// A server that accepts connections and never says a word, as a hung mail server does.
    pub async fn silent() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        addr
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `count` messages have arrived; fails the test after 15 s.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..300 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} emails, got {}", self.received().len());
    }
}

pub struct TestApp {
    pub address: String,
    /// The stand-in for Enhetsregisteret this app asks.
    pub register: RegisterServer,
    pub client: reqwest::Client,
    pub db: Db,
    /// The app's use cases, for what a test does the way the command line does it.
    pub context: rrh_tt02::app::Context,
    pub smtp: SmtpSink,
    pub mail_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
    /// Dropped with the app: the test's PostgreSQL database goes with it.
    _postgres: Option<PostgresDatabase>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> (reqwest::StatusCode, scraper::Html) {
        let response = self.get(path).await;
        let status = response.status();
        (
            status,
            scraper::Html::parse_document(&response.text().await.unwrap()),
        )
    }

    /// The CSRF token of the order form, after loading the form like a browser would.
    pub async fn form_token(&self, lang: Option<&str>) -> String {
        let path = match lang {
            Some(lang) => format!("/orders/new?lang={lang}"),
            None => "/orders/new".to_owned(),
        };
        let (_, page) = self.get_html(&path).await;
        attr(&page, "input[name=csrf_token]", "value")
    }

    /// Loads the form, then submits `fields` with the form's CSRF token.
    pub async fn submit_form(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        let lang = fields
            .iter()
            .find(|(k, _)| *k == "language")
            .map(|(_, v)| *v);
        let token = self.form_token(lang).await;
        let mut body: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        body.extend_from_slice(fields);
        self.client
            .post(self.url("/orders"))
            .form(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/orders"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn count(&self, table: &str) -> i64 {
        use sqlx::Row;
        let sql = format!("SELECT COUNT(*) FROM {table}");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(self.db.pool())
            .await
            .unwrap()
            .get::<i64, _>(0)
    }

    /// One column of the only order with this reference.
    pub async fn order_column(&self, reference: &str, column: &str) -> Option<String> {
        use sqlx::Row;
        let sql = format!("SELECT {column} FROM orders WHERE reference = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(reference)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
            .get::<Option<String>, _>(0)
    }
}

/// A database of its own on the test PostgreSQL server, dropped with this value.
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PostgresDatabase {
    pub async fn create() -> PostgresDatabase {
        let admin_url = postgres_url().expect("TEST_POSTGRES_URL is set for PostgreSQL tests");
        let name = format!("rrh_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect("PostgreSQL at TEST_POSTGRES_URL is reachable");
        let sql = format!("CREATE DATABASE \"{name}\"");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        PostgresDatabase {
            admin_url,
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop is synchronous; the database is dropped from a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                sqlx::any::install_default_drivers();
                if let Ok(mut conn) =
                    <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await
                {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// `TEST_POSTGRES_URL`, or `None` when the PostgreSQL tests are not asked for.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts the app with extra environment variables (`("RRH_SMTP_URL", "")` removes SMTP).
pub async fn spawn_app_with(backend: Backend, overrides: &[(&str, &str)]) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        rrh_tt02::telemetry::init();
    }
    let smtp = SmtpSink::start().await;
    let register = RegisterServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("mail");

    let (database_url, postgres) = match backend {
        Backend::Sqlite => (
            format!("sqlite:{}", dir.path().join("test.db").display()),
            None,
        ),
        Backend::Postgres => {
            let db = PostgresDatabase::create().await;
            (db.url.clone(), Some(db))
        }
    };

    let mut env: HashMap<String, String> = [
        ("RRH_LISTEN", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", database_url),
        ("RRH_BASE_URL", "http://rrh.test".to_owned()),
        ("RRH_SMTP_URL", format!("smtp://{}", smtp.addr)),
        ("RRH_MAIL_DIR", mail_dir.display().to_string()),
        ("RRH_MAIL_FROM", "RRH <no-reply@rrh.test>".to_owned()),
        ("RRH_MAIL_RETRY_MS", "50".to_owned()),
        ("RRH_MAIL_POLL_MS", "50".to_owned()),
        ("RRH_MAX_BODY_BYTES", "65536".to_owned()),
        ("RRH_ENHETSREGISTERET_URL", register.url.clone()),
        ("RRH_ENHETSREGISTERET_TIMEOUT_MS", "2000".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (key, value) in overrides {
        env.insert(key.to_string(), value.to_string());
    }
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).unwrap();
    let app = Application::build(settings).await.expect("the app starts");
    let port = app.port();
    let db = app.db().clone();
    let context = app.context().clone();
    tokio::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    TestApp {
        register,
        address: format!("http://127.0.0.1:{port}"),
        client,
        db,
        context,
        smtp,
        mail_dir,
        _dir: dir,
        _postgres: postgres,
    }
}

/// Runs each test body once on SQLite and once on PostgreSQL. The PostgreSQL variant needs
/// `TEST_POSTGRES_URL`; `.ci/run` sets it and fails when the server is missing.
#[macro_export]
macro_rules! on_both_databases {
    ($(async fn $name:ident($app:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($app: $crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                body($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if $crate::helpers::postgres_url().is_none() {
                    eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL variant not run");
                    return;
                }
                body($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await;
            }
        }
    )*};
}

pub fn select<'a>(page: &'a scraper::Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    page.select(&scraper::Selector::parse(css).unwrap())
        .collect()
}

pub fn text(page: &scraper::Html, css: &str) -> String {
    select(page, css)
        .first()
        .unwrap_or_else(|| panic!("no element matches {css}"))
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn attr(page: &scraper::Html, css: &str, name: &str) -> String {
    select(page, css)
        .first()
        .unwrap_or_else(|| panic!("no element matches {css}"))
        .value()
        .attr(name)
        .unwrap_or_else(|| panic!("{css} has no {name}"))
        .to_owned()
}

/// What a browser shows in the input `css`: its `value`, or nothing when it has none (the
/// field macros leave out an empty `value=""`).
pub fn input_value(page: &scraper::Html, css: &str) -> String {
    select(page, css)
        .first()
        .unwrap_or_else(|| panic!("no element matches {css}"))
        .value()
        .attr("value")
        .unwrap_or_default()
        .to_owned()
}

/// A complete, valid test-environment order as form fields.
pub fn valid_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("language", "nb"),
        ("environment", "test"),
        ("scope", "brreg:reelle/offentlig"),
        ("vendor_org_number", "974 760 673"),
        ("vendor_org_name", "Leverandør Systemer AS"),
        ("vendor_contact_name", "Ola Nordmann"),
        ("vendor_contact_email", "ola@leverandor.no"),
        ("vendor_contact_phone", "912 34 567"),
        ("consumer_org_number", "313876144"),
        ("consumer_org_name", "Kunde Bank ASA"),
        ("consumer_contact_name", "Kari Nordmann"),
        ("consumer_contact_email", "kari@kunde.no"),
        ("consumer_contact_phone", "+47 412 34 567"),
        ("ip_addresses", "8.8.8.8\n2a00:1450:4001::/48"),
        (
            "maskinporten_client_id",
            "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b",
        ),
        ("message", "Vi tester mot TT02 i desember."),
        ("acknowledge_test_data", "true"),
    ]
}

/// The same order as JSON.
/// The valid order for production: no IP addresses, no test-data acknowledgement.
pub fn production_json() -> serde_json::Value {
    let mut body = valid_json();
    body["environment"] = "production".into();
    let fields = body.as_object_mut().unwrap();
    fields.remove("ip_addresses");
    fields.remove("acknowledge_test_data");
    body
}

/// The emails the SMTP listener got after the first `skip`: (recipient, subject, text, html).
pub fn mails_after(app: &TestApp, skip: usize) -> Vec<(String, String, String, String)> {
    app.smtp
        .received()
        .iter()
        .skip(skip)
        .map(|m| {
            let parsed = m.parsed();
            (
                m.rcpt_to.join(","),
                parsed.subject().unwrap_or("").to_owned(),
                parsed.body_text(0).unwrap_or_default().to_string(),
                parsed.body_html(0).unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub fn valid_json() -> serde_json::Value {
    serde_json::json!({
        "environment": "test",
        "scope": "brreg:reelle/offentlig",
        "vendor_org_number": "974760673",
        "vendor_org_name": "Leverandør Systemer AS",
        "vendor_contact_email": "ola@leverandor.no",
        "vendor_contact_phone": "91234567",
        "consumer_org_number": "313 876 144",
        "consumer_org_name": "Kunde Bank ASA",
        "consumer_contact_email": "kari@kunde.no",
        "consumer_contact_phone": "41234567",
        "ip_addresses": ["8.8.8.8", "1.1.1.0/24"],
        "acknowledge_test_data": true
    })
}

/// Replaces (or adds) one field of a form.
pub fn with(
    mut fields: Vec<(&'static str, &'static str)>,
    name: &'static str,
    value: &'static str,
) -> Vec<(&'static str, &'static str)> {
    fields.retain(|(k, _)| *k != name);
    fields.push((name, value));
    fields
}

/// A password every test account gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A browser of its own (cookie jar, no redirects followed): one per person in a test.
pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
}

impl TestApp {
    pub fn browser(&self) -> Browser {
        Browser {
            address: self.address.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
        }
    }

    /// Creates an account the way `user add` does, and returns its email address.
    pub async fn add_user(&self, email: &str, name: &str, role: &str) -> String {
        let role = rrh_tt02::auth::Role::parse(role).unwrap();
        rrh_tt02::app::accounts::add(&self.context, email, name, role, PASSWORD.to_owned())
            .await
            .unwrap();
        email.to_owned()
    }

    /// A browser logged in as a new account with `role`.
    pub async fn logged_in(&self, email: &str, role: &str) -> Browser {
        self.add_user(email, &format!("Saksbehandler {email}"), role)
            .await;
        let browser = self.browser();
        let response = browser.login(email, PASSWORD).await;
        assert_eq!(response.status(), 303, "login as {email}");
        browser
    }

    /// Submits an order through the API and returns its reference.
    pub async fn order(&self, body: &serde_json::Value) -> String {
        let response = self.post_json(body).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let body: serde_json::Value = response.json().await.unwrap();
        body["reference"].as_str().unwrap().to_owned()
    }

    /// Waits until every queued email has reached the SMTP listener and returns how many
    /// there are, so a test can count what a later step sends.
    pub async fn mail_settled(&self) -> usize {
        let queued = self.count("mail_outbox").await as usize;
        self.smtp.wait_for(queued).await.len()
    }

    /// Number of events of `kind` on the order with this reference.
    pub async fn events(&self, reference: &str, kind: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(
            "SELECT COUNT(*) FROM order_events e JOIN orders o ON o.id = e.order_id
             WHERE o.reference = $1 AND e.kind = $2",
        )
        .bind(reference)
        .bind(kind)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
        .get::<i64, _>(0)
    }
}

impl Browser {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> (reqwest::StatusCode, scraper::Html) {
        let response = self.get(path).await;
        let status = response.status();
        (
            status,
            scraper::Html::parse_document(&response.text().await.unwrap()),
        )
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Loads the login page for its CSRF token and logs in.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        let (_, page) = self.get_html("/admin/login").await;
        let token = attr(&page, "input[name=csrf_token]", "value");
        self.post(
            "/admin/login",
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Loads the order page and submits the form for `action` with `fields`, as a person
    /// clicking the button would (the page's version and CSRF token included).
    pub async fn act(
        &self,
        reference: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (status, page) = self.get_html(&format!("/admin/orders/{reference}")).await;
        assert_eq!(status, 200);
        let form = format!("form[data-action={action}]");
        let token = attr(&page, &format!("{form} input[name=csrf_token]"), "value");
        let version = attr(&page, &format!("{form} input[name=version]"), "value");
        let mut body = vec![
            ("csrf_token", token.as_str()),
            ("action", action),
            ("version", version.as_str()),
        ];
        body.extend_from_slice(fields);
        self.post(&format!("/admin/orders/{reference}/status"), &body)
            .await
    }

    /// The CSRF token any workspace page carries (the logout form has it).
    pub async fn csrf(&self) -> String {
        let (_, page) = self.get_html("/admin/orders").await;
        attr(&page, "input[name=csrf_token]", "value")
    }
}

/// A valid organisation number from eight digits (mod 11 check digit), skipping bases
/// whose check digit would be 10.
pub fn org_number(seed: u32) -> String {
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let mut base = 80_000_000 + seed * 7;
    loop {
        let digits: Vec<u32> = format!("{base:08}")
            .chars()
            .map(|c| c.to_digit(10).unwrap())
            .collect();
        let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => {
                base += 1;
                continue;
            }
            c => c,
        };
        return format!("{base:08}{check}");
    }
}

/// Runs `body` on SQLite, and on PostgreSQL when it is configured, with extra settings.
pub async fn on_both_with<F, Fut>(overrides: &[(&str, &str)], body: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    body(spawn_app_with(Backend::Sqlite, overrides).await).await;
    if postgres_url().is_some() {
        body(spawn_app_with(Backend::Postgres, overrides).await).await;
    } else {
        eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL variant not run");
    }
}

/// An RSA key made once per test run, standing in for Maskinporten's signing key.
pub fn maskinporten_key() -> &'static rsa::RsaPrivateKey {
    static KEY: std::sync::OnceLock<rsa::RsaPrivateKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap())
}

/// The public half of `key` as a JWK with `kid`.
pub fn jwk(key: &rsa::RsaPrivateKey, kid: &str) -> serde_json::Value {
    use base64::Engine;
    use rsa::traits::PublicKeyParts;
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    serde_json::json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be()),
    })
}

/// Signs `claims` as Maskinporten would: RS256 with `kid` in the header.
pub fn sign_token(key: &rsa::RsaPrivateKey, kid: &str, claims: &serde_json::Value) -> String {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let der = key.to_pkcs1_der().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes()),
    )
    .unwrap()
}

/// A delegated TT02 token's claims for the valid test order (vendor 974760673 for
/// consumer 313876144, scope brreg:reelle/offentlig), valid for two minutes.
pub fn delegated_claims() -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    serde_json::json!({
        "scope": "brreg:reelle/offentlig",
        "supplier": {"authority": "iso6523-actorid-upis", "ID": "0192:974760673"},
        "iss": "https://test.maskinporten.no/",
        "client_amr": "private_key_jwt",
        "token_type": "Bearer",
        "exp": now + 120,
        "delegation_source": "https://tt02.altinn.no/",
        "iat": now,
        "client_id": "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b",
        "jti": "jti-ABCDEF-123456",
        "consumer": {"authority": "iso6523-actorid-upis", "ID": "0192:313876144"},
    })
}

/// A local HTTP server that plays Maskinporten's JWKS endpoint and counts its requests.
#[derive(Clone)]
pub struct JwksServer {
    pub url: String,
    pub keys: Arc<Mutex<serde_json::Value>>,
    pub hits: Arc<AtomicUsize>,
}

impl JwksServer {
    pub async fn start(keys: serde_json::Value) -> JwksServer {
        let keys = Arc::new(Mutex::new(keys));
        let hits: Arc<AtomicUsize> = Arc::default();
        let (served_keys, counted) = (keys.clone(), hits.clone());
        let addr = serve_http(move |_path| {
            counted.fetch_add(1, Ordering::SeqCst);
            (200, served_keys.lock().unwrap().to_string())
        })
        .await;
        JwksServer {
            url: format!("http://{addr}/jwk"),
            keys,
            hits,
        }
    }
}

/// A tiny HTTP/1.1 server on loopback for services the app calls: each GET is answered with
/// `answer(path)` as JSON, and the connection closed.
pub async fn serve_http(
    answer: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let request = lines.next_line().await.ok().flatten().unwrap_or_default();
                // The headers, up to the blank line.
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.is_empty() {
                        break;
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("");
                let (status, body) = answer(path);
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = write.write_all(response.as_bytes()).await;
            });
        }
    });
    addr
}

/// The first private link path (`/track/...`, without its query) in an email's text.
pub fn track_link_in(body: &str) -> String {
    let start = body.find("/track/").expect("a private link in the email");
    body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '?')
        .collect()
}

/// The private link paths (`/track/...`) in the emails about `reference`: (vendor, consumer).
pub async fn track_links(app: &TestApp, reference: &str) -> (String, String) {
    // All three emails of the new order, so later counts start after them.
    app.smtp
        .wait_for(app.count("mail_outbox").await as usize)
        .await;
    let mut found = (None, None);
    for _ in 0..300 {
        for mail in app.smtp.received() {
            let parsed = mail.parsed();
            let body = parsed.body_text(0).unwrap_or_default().to_string();
            if !parsed.subject().unwrap_or("").contains(reference) || !body.contains("/track/") {
                continue;
            }
            let path = track_link_in(&body);
            if mail.rcpt_to == ["ola@leverandor.no"] {
                found.0 = Some(path)
            } else if mail.rcpt_to == ["kari@kunde.no"] {
                found.1 = Some(path)
            }
        }
        if let (Some(v), Some(c)) = &found {
            return (v.clone(), c.clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no private links for {reference}");
}

/// Loads a contact's page and posts its form for `step` with the page's CSRF token and version.
pub async fn post_contact_step(
    app: &TestApp,
    link: &str,
    step: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (_, page) = app.get_html(link).await;
    let token = attr(&page, "input[name=csrf_token]", "value");
    let version = attr(&page, "input[name=version]", "value");
    let mut body = vec![
        ("csrf_token", token.as_str()),
        ("version", version.as_str()),
    ];
    body.extend_from_slice(fields);
    app.client
        .post(app.url(&format!("{link}/{step}")))
        .form(&body)
        .send()
        .await
        .unwrap()
}

/// A local HTTP server that plays Enhetsregisteret: `GET /enheter/{orgnr}` answers from
/// `units` (status and JSON body), 200 with a generic unit for numbers it does not list, or
/// 503 for everything while `down` is set. It records the numbers asked for.
#[derive(Clone)]
pub struct RegisterServer {
    pub url: String,
    pub units: Arc<Mutex<HashMap<String, (u16, serde_json::Value)>>>,
    pub down: Arc<std::sync::atomic::AtomicBool>,
    pub asked: Arc<Mutex<Vec<String>>>,
}

impl RegisterServer {
    pub async fn start() -> RegisterServer {
        let units: Arc<Mutex<HashMap<String, (u16, serde_json::Value)>>> = Arc::default();
        let down: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        let asked: Arc<Mutex<Vec<String>>> = Arc::default();
        let (known, is_down, log) = (units.clone(), down.clone(), asked.clone());
        let addr = serve_http(move |path| {
            let number = path.rsplit('/').next().unwrap_or("").to_owned();
            log.lock().unwrap().push(number.clone());
            let (status, body) = if is_down.load(Ordering::SeqCst) {
                (503, serde_json::json!({"error": "unavailable"}))
            } else {
                known.lock().unwrap().get(&number).cloned().unwrap_or_else(|| {
                    (200, serde_json::json!({"organisasjonsnummer": number, "navn": "REGISTRERT VIRKSOMHET AS"}))
                })
            };
            (status, body.to_string())
        })
        .await;
        let server = RegisterServer {
            url: format!("http://{addr}/enhetsregisteret/api"),
            units,
            down,
            asked,
        };
        // The organisations of the valid test order, as the register writes them.
        for (number, name) in [
            ("974760673", "LEVERANDØR SYSTEMER AS"),
            ("313876144", "KUNDE BANK ASA"),
        ] {
            server.set(
                number,
                200,
                serde_json::json!({"organisasjonsnummer": number, "navn": name, "konkurs": false}),
            );
        }
        server
    }

    pub fn set(&self, number: &str, status: u16, body: serde_json::Value) {
        self.units
            .lock()
            .unwrap()
            .insert(number.to_owned(), (status, body));
    }
}
