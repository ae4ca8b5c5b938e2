//! Faults injected against the real binary: a mail server that hangs, SIGTERM with a
//! backlog, SIGKILL in the middle of sending. Each test prints its figures.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::*;

/// The app binary serving on a free loopback port with a SQLite file of its own.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(db_url: &str, env: &[(&str, &str)]) -> Server {
        // A free port is only free until someone else takes it: other tests bind port 0 all
        // the time. If the binary could not bind it, it has exited (and the health check may
        // have reached another test's app), so try another port.
        for _ in 0..10 {
            if let Some(server) = Self::try_start(db_url, env).await {
                return server;
            }
        }
        panic!("the binary did not start listening");
    }

    async fn try_start(db_url: &str, env: &[(&str, &str)]) -> Option<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_rrh-tt02"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", db_url)
            .env("RRH_LISTEN", format!("127.0.0.1:{port}"))
            .env("RRH_BASE_URL", "http://rrh.test")
            .env("RRH_MAIL_FROM", "RRH <no-reply@rrh.test>")
            .env("RRH_MAIL_POLL_MS", "100")
            .env("RRH_ORDERS_PER_HOUR", "100000")
            .env("RRH_ENHETSREGISTERET_TIMEOUT_MS", "2000")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        #[allow(clippy::zombie_processes)] // Drop kills and waits for it.
        let child = command.spawn().expect("the binary starts");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if server.child.try_wait().unwrap().is_some() {
                return None;
            }
            if client
                .get(format!("{}/health/live", server.base))
                .send()
                .await
                .is_ok()
            {
                // Still ours a moment later: a binary that lost the port exits at once.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return server.child.try_wait().unwrap().is_none().then_some(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to end; how long it took, or None.
    fn wait_exit(&mut self, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.child.try_wait().unwrap().is_some() {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn order_body(i: u32) -> serde_json::Value {
    let mut body = valid_json();
    body["consumer_org_number"] = org_number(1000 + i).into();
    body
}

async fn count(db: &rrh_tt02::store::Db, condition: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) AS n FROM mail_outbox WHERE {condition}");
    sqlx::Row::get(
        &sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(db.pool())
            .await
            .unwrap(),
        "n",
    )
}

#[tokio::test]
async fn sigterm_with_a_backlog_exits_promptly_and_gives_every_claim_back() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:{}", dir.path().join("rrh.db").display());
    sigterm_with_a_backlog(&sqlite, "SQLite").await;
    if postgres_url().is_none() {
        eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL variant not run");
        return;
    }
    let postgres = PostgresDatabase::create().await;
    sigterm_with_a_backlog(&postgres.url, "PostgreSQL").await;
}

async fn sigterm_with_a_backlog(db_url: &str, name: &str) {
    let silent = SmtpSink::silent().await;
    let register = RegisterServer::start().await;
    let smtp = format!("smtp://{silent}");
    let mut server = Server::start(
        db_url,
        &[
            ("RRH_SMTP_URL", &smtp),
            ("RRH_SMTP_TIMEOUT_MS", "60000"),
            ("RRH_ENHETSREGISTERET_URL", &register.url),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    for i in 0..10 {
        let response = client
            .post(format!("{}/api/v1/orders", server.base))
            .json(&order_body(i))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let db = rrh_tt02::store::Db::connect(db_url).await.unwrap();
    // The worker is stuck on a server that never answers, with a batch claimed.
    for _ in 0..100 {
        if count(&db, "status = 'sending'").await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(count(&db, "status = 'sending'").await > 0);

    server.signal("TERM");
    let took = server.wait_exit(Duration::from_secs(20));
    println!(
        "SIGTERM ({name}) with 30 messages due, the worker on a hung send: exited after {took:?}"
    );
    assert!(
        took.is_some_and(|t| t <= Duration::from_secs(15)),
        "exits within 15 s: {took:?}"
    );
    // Nothing stays claimed by the dead process: the next start sends at once.
    assert_eq!(count(&db, "status = 'sending'").await, 0);
    assert_eq!(
        count(&db, "status = 'pending' AND claimed_by IS NULL").await,
        30
    );
    assert_eq!(
        count(&db, "attempts > 0").await,
        0,
        "no attempt was completed, none is counted"
    );
}

#[tokio::test]
async fn sigkill_while_sending_loses_nothing_and_repeats_at_most_the_message_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:{}", dir.path().join("rrh.db").display());
    sigkill_while_sending(&sqlite, "SQLite").await;
    if postgres_url().is_none() {
        eprintln!("TEST_POSTGRES_URL is not set: PostgreSQL variant not run");
        return;
    }
    let postgres = PostgresDatabase::create().await;
    sigkill_while_sending(&postgres.url, "PostgreSQL").await;
}

async fn sigkill_while_sending(db_url: &str, name: &str) {
    let sink = SmtpSink::start().await;
    // A busy mail server: the mail of the orders is still going out when the kill comes.
    sink.delay_ms.store(40, std::sync::atomic::Ordering::SeqCst);
    let register = RegisterServer::start().await;
    let smtp = format!("smtp://{}", sink.addr);
    let env = [
        ("RRH_SMTP_URL", smtp.as_str()),
        ("RRH_MAIL_LEASE_MS", "3000"),
        ("RRH_ENHETSREGISTERET_URL", &register.url),
    ];
    let server = Server::start(db_url, &env).await;

    // Orders stream in; the process is killed while their mail is going out.
    let client = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    let mut sent = 0;
    for i in 0..30 {
        sent += 1;
        let answer = client
            .post(format!("{}/api/v1/orders", server.base))
            .json(&order_body(i))
            .send()
            .await;
        if let Ok(response) = answer
            && response.status() == 201
        {
            let body: serde_json::Value = response.json().await.unwrap();
            acknowledged.push(body["reference"].as_str().unwrap().to_owned());
        }
    }
    let delivered_before_kill = sink.received().len();
    drop(server); // SIGKILL
    let db = rrh_tt02::store::Db::connect(db_url).await.unwrap();
    let expected = 3 * acknowledged.len();
    assert_eq!(
        count(&db, "1 = 1").await as usize,
        expected,
        "every acknowledged order's mail is stored"
    );

    let restarted = Instant::now();
    let _server = Server::start(db_url, &env).await;
    let mut ids: HashMap<String, usize> = HashMap::new();
    while restarted.elapsed() < Duration::from_secs(60) {
        ids.clear();
        for mail in sink.received() {
            let id = mail.parsed().message_id().unwrap_or_default().to_owned();
            *ids.entry(id).or_default() += 1;
        }
        if ids.len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained = restarted.elapsed();
    let duplicates: usize = ids.values().map(|n| n - 1).sum();
    println!(
        "SIGKILL under load ({name}): {sent} orders sent, {} acknowledged and stored, {expected} emails expected, \
         {delivered_before_kill} delivered before the kill, {} distinct delivered, {duplicates} duplicated, \
         drained {drained:?} after the restart",
        acknowledged.len(),
        ids.len()
    );
    assert_eq!(
        ids.len(),
        expected,
        "every email delivered within 60 s of the restart"
    );
    assert!(
        duplicates <= 1,
        "only the message in flight may go twice: {duplicates}"
    );
    // The last one is confirmed by the server a moment after it arrived there.
    for _ in 0..100 {
        if count(&db, "status = 'sent'").await as usize == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&db, "status = 'sent'").await as usize, expected);
}

/// A worker whose lease ran out (a send that outlasted it) records nothing over the worker
/// that took the message after it.
#[tokio::test]
async fn an_outcome_is_recorded_only_by_the_worker_that_still_holds_the_claim() {
    use rrh_tt02::store::outbox;
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("RRH_SMTP_URL", "smtp://127.0.0.1:9"),
            ("RRH_MAIL_POLL_MS", "3600000"),
        ],
    )
    .await;
    let db = app.db.clone();
    // Its one look at start is over before the row exists.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut conn = db.acquire().await.unwrap();
    let mail = outbox::OutgoingMail {
        kind: "test",
        to: vec!["a@example.no".into()],
        reply_to: None,
        subject: "s".into(),
        text: "t".into(),
        html: None,
        attachments: Vec::new(),
    };
    // The app's own worker looks once at start and then not for an hour: the row is ours.
    outbox::enqueue(&mut conn, None, &mail, "rrh.test")
        .await
        .unwrap();
    let lease = Duration::from_millis(1);
    let first = outbox::claim_due(&mut conn, db.backend(), "first", lease, 10)
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = outbox::claim_due(
        &mut conn,
        db.backend(),
        "second",
        Duration::from_secs(60),
        10,
    )
    .await
    .unwrap();
    assert_eq!(second.len(), 1, "the lapsed claim is taken over");
    let id = &first[0].id;
    assert!(
        !outbox::mark_sent(&mut conn, &first[0], "first")
            .await
            .unwrap()
    );
    assert!(
        !outbox::mark_attempt_failed(&mut conn, id, "first", "late", None)
            .await
            .unwrap()
    );
    assert_eq!(
        count(
            &db,
            "status = 'sending' AND claimed_by = 'second' AND attempts = 2"
        )
        .await,
        1
    );
    assert!(
        outbox::mark_sent(&mut conn, &second[0], "second")
            .await
            .unwrap()
    );
    assert_eq!(count(&db, "status = 'sent'").await, 1);
}

/// Waits up to `seconds` for `count` outbox rows matching `condition` in `db`.
async fn wait_rows(db: &rrh_tt02::store::Db, condition: &str, count: i64, seconds: u64) -> i64 {
    for _ in 0..seconds * 20 {
        if self::count(db, condition).await == count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    self::count(db, condition).await
}

/// The three SMTP faults against the binary: a server that never answers, one that turns
/// connections away with 421 for a while, and one that refuses a recipient with 550.
#[tokio::test]
async fn the_binary_rides_out_a_silent_a_busy_and_a_refusing_mail_server() {
    let register = RegisterServer::start().await;
    let client = reqwest::Client::new();

    // Silent: each attempt ends at the limit as a temporary failure; SIGTERM still works.
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite:{}", dir.path().join("rrh.db").display());
    let silent = format!("smtp://{}", SmtpSink::silent().await);
    let env = [
        ("RRH_SMTP_URL", silent.as_str()),
        ("RRH_SMTP_TIMEOUT_MS", "300"),
        ("RRH_MAIL_RETRY_MS", "60000"),
        ("RRH_ENHETSREGISTERET_URL", &register.url),
    ];
    let mut server = Server::start(&db_url, &env).await;
    let response = client
        .post(format!("{}/api/v1/orders", server.base))
        .json(&order_body(0))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let db = rrh_tt02::store::Db::connect(&db_url).await.unwrap();
    let timed_out =
        "status = 'pending' AND attempts = 1 AND last_error = 'SMTP: no answer within 300 ms'";
    assert_eq!(wait_rows(&db, timed_out, 3, 10).await, 3);
    server.signal("TERM");
    assert!(server.wait_exit(Duration::from_secs(15)).is_some());

    // Busy, then refusing one recipient: the 421s are retried, the 550 fails at once.
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite:{}", dir.path().join("rrh.db").display());
    let sink = SmtpSink::start().await;
    sink.busy_next.store(4, std::sync::atomic::Ordering::SeqCst);
    sink.reject.lock().unwrap().push("kari@kunde.no".to_owned());
    let smtp = format!("smtp://{}", sink.addr);
    let env = [
        ("RRH_SMTP_URL", smtp.as_str()),
        ("RRH_MAIL_RETRY_MS", "100"),
        ("RRH_ENHETSREGISTERET_URL", &register.url),
    ];
    let _server = Server::start(&db_url, &env).await;
    let response = client
        .post(format!("{}/api/v1/orders", _server.base))
        .json(&order_body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let db = rrh_tt02::store::Db::connect(&db_url).await.unwrap();
    assert_eq!(wait_rows(&db, "status = 'sent'", 2, 15).await, 2);
    assert_eq!(
        wait_rows(
            &db,
            "status = 'failed' AND kind = 'consumer_confirmation'",
            1,
            15
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "status = 'failed' AND last_error LIKE '%550%' AND last_error NOT LIKE '%kunde.no%'"
        )
        .await,
        1
    );
    assert!(count(&db, "attempts > 1").await >= 1, "a 421 is retried");
    assert_eq!(sink.received().len(), 2, "each delivered once");
}
