//! The benchmark: every figure of the app's release binary next to a ceiling measured in the
//! same run (nginx for pages, raw inserts for submissions, a plain SMTP client for mail),
//! alternating app and ceiling round by round, printed as a Markdown table.
//!
//! ```text
//! scripts/bench                       # installs wrk and nginx if missing, builds, runs this
//! target/release/examples/bench [--rounds 3] [--seconds 5] [--mail-orders 300]
//!                               [--postgres postgres://user@host/db] [--app PATH] [--keep]
//! ```
//! docs/benchmarks.md says what each row measures and how its ceiling is made.

#[path = "bench/orders.rs"]
mod orders;
#[path = "bench/procs.rs"]
mod procs;
#[path = "bench/report.rs"]
mod report;
#[path = "bench/smtp.rs"]
mod smtp;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use orders::{Database, Load, OrgNumbers, Templates};
use procs::{App, AppConfig, Nginx};
use report::{Goal, Row, median, number, rounds};
use smtp::{Holder, Sink};

/// wrk's connections for the page rows, and the submitting tasks.
const CONNECTIONS: u32 = 32;
const TASKS: usize = 8;
/// Orders whose rows the submission ceiling copies.
const TEMPLATES: i64 = 200;

struct Args {
    rounds: usize,
    seconds: u64,
    mail_orders: u64,
    postgres: Option<String>,
    app: PathBuf,
    keep: bool,
    /// Only the mail row: for looking into mail delivery without the rest.
    mail_only: bool,
}

const USAGE: &str = "usage: bench [--rounds N] [--seconds S] [--mail-orders N] \
                     [--postgres URL] [--app PATH] [--keep] [--mail-only]";

fn parse_args() -> anyhow::Result<Args> {
    let default_app = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join("rrh-tt02"))
        .context("cannot tell where the app's binary is: give --app")?;
    let mut args = Args {
        rounds: 3,
        seconds: 5,
        mail_orders: 300,
        postgres: None,
        app: default_app,
        keep: false,
        mail_only: false,
    };
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        let mut value = || given.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rounds" => args.rounds = value()?.parse()?,
            "--seconds" => args.seconds = value()?.parse()?,
            "--mail-orders" => args.mail_orders = value()?.parse()?,
            "--postgres" => args.postgres = Some(value()?),
            "--app" => args.app = value()?.into(),
            "--keep" => args.keep = true,
            "--mail-only" => args.mail_only = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    if args.rounds == 0 || args.seconds == 0 || args.mail_orders == 0 {
        bail!("--rounds, --seconds and --mail-orders must be at least 1");
    }
    if !args.app.exists() {
        bail!(
            "{} does not exist: build it with `cargo build --release` (scripts/bench does)",
            args.app.display()
        );
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().is_some_and(|a| a == "--smtp-client") {
        return match smtp::client_main(&raw[1..]).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("SMTP client: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err:#}");
            return ExitCode::from(2);
        }
    };
    let tmp = match tempfile::Builder::new().prefix("rrh-bench-").tempdir() {
        Ok(tmp) => tmp,
        Err(err) => {
            eprintln!("creating a temp folder: {err}");
            return ExitCode::FAILURE;
        }
    };
    let databases = Arc::new(PgDatabases::default());
    let result = tokio::select! {
        result = run(&args, tmp.path(), &databases) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
        _ = terminated() => Err(anyhow::anyhow!("terminated")),
    };
    // Every process was stopped when `run` was dropped; the databases go now.
    databases.drop_all().await;
    if args.keep {
        eprintln!("kept {}", tmp.keep().display());
    }
    match result {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bench failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

/// PostgreSQL databases this run created, dropped at the end whatever happened.
#[derive(Default)]
struct PgDatabases(std::sync::Mutex<Vec<(String, String)>>);

impl PgDatabases {
    /// Creates a database next to the one `url` names; returns its URL.
    async fn create(&self, url: &str, suffix: &str) -> anyhow::Result<String> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let name = format!("rrh_bench_{}_{suffix}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::AnyConnection::connect(url)
            .await
            .with_context(|| format!("connecting to {}", orders::redact(url)))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        if let Ok(mut list) = self.0.lock() {
            list.push((url.to_owned(), name.clone()));
        }
        let mut created = url::Url::parse(url)?;
        created.set_path(&name);
        Ok(created.to_string())
    }

    async fn drop_all(&self) {
        use sqlx::Connection;
        let list = self.0.lock().map(|mut l| std::mem::take(&mut *l));
        for (url, name) in list.unwrap_or_default() {
            let dropped = async {
                let mut conn = sqlx::AnyConnection::connect(&url).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await?;
                conn.close().await
            };
            if let Err(err) = dropped.await {
                eprintln!("could not drop database {name}: {err}");
            }
        }
    }
}

/// What stays the same through the run.
struct Bench<'a> {
    args: &'a Args,
    tmp: &'a Path,
    /// Nobody listens here: the app's Enhetsregisteret and JWKS URLs point at it.
    closed_port: u16,
    sink: Sink,
    holder: Holder,
    numbers: Arc<OrgNumbers>,
}

impl Bench<'_> {
    fn app_config(&self, name: &str, database_url: String, smtp_port: u16) -> AppConfig<'_> {
        AppConfig {
            bin: &self.args.app,
            database_url,
            mail_dir: self.tmp.join(format!("{name}-mail")),
            smtp_url: format!("smtp://127.0.0.1:{smtp_port}"),
            closed_port: self.closed_port,
            log: self.tmp.join(format!("{name}.log")),
        }
    }

    fn seconds(&self) -> f64 {
        self.args.seconds as f64
    }
}

async fn run(args: &Args, tmp: &Path, databases: &PgDatabases) -> anyhow::Result<String> {
    let machine = report::machine();
    let load_before = report::load_average();
    eprintln!("machine: {machine}; load average {load_before}");
    let bench = Bench {
        args,
        tmp,
        closed_port: procs::free_port()?,
        sink: Sink::start().await?,
        holder: Holder::start().await?,
        numbers: Arc::new(OrgNumbers::new()),
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    if !args.mail_only {
        other_rows(args, &bench, tmp, databases, &mut rows, &mut problems).await?;
    }
    let (mail, mail_problems) = mail_row(&bench).await?;
    rows.push(mail);
    problems.extend(mail_problems);
    report(rows, problems, &machine, &load_before, args)
}

/// Every row but mail's: pages, memory and submissions, on SQLite (and PostgreSQL if given).
async fn other_rows(
    args: &Args,
    bench: &Bench<'_>,
    tmp: &Path,
    databases: &PgDatabases,
    rows: &mut Vec<Row>,
    problems: &mut Vec<String>,
) -> anyhow::Result<()> {
    // The app on SQLite, its mail held back: pages, memory, submissions.
    let db_path = tmp.join("app.db");
    let config = bench.app_config(
        "app",
        format!("sqlite:{}", db_path.display()),
        bench.holder.port,
    );
    let app = App::start(&config).await?;
    let (idle, weight, page) = idle_and_weight(&app).await?;
    rows.push(weight);
    rows.push(idle);

    let nginx = Nginx::start(&tmp.join("nginx"), &page).await?;
    rows.extend(page_rows(bench, &app, &nginx).await?);
    drop(nginx);

    let ceiling_path = tmp.join("ceiling.db");
    let ceiling_url = format!("sqlite:{}", ceiling_path.display());
    procs::migrate(&args.app, &ceiling_url, &tmp.join("migrate.log"))?;
    let app_db_url = format!("sqlite:{}", db_path.display());
    rows.push(submission_row(bench, "SQLite", &app, &app_db_url, &ceiling_url).await?);
    let peak = procs::memory_kb(app.pid(), "VmHWM").context("reading VmHWM")?;
    rows.push(memory_row(
        "memory: peak RSS (VmHWM after the submission load)",
        peak,
        40.0,
    ));
    app.stop().await?;
    problems.extend(log_problems("app (SQLite)", &config.log, true));

    if let Some(url) = &args.postgres {
        let app_url = databases.create(url, "app").await?;
        let ceiling_url = databases.create(url, "ceiling").await?;
        procs::migrate(&args.app, &ceiling_url, &tmp.join("migrate-pg.log"))?;
        let config = bench.app_config("app-pg", app_url.clone(), bench.holder.port);
        let app = App::start(&config).await?;
        rows.push(submission_row(bench, "PostgreSQL", &app, &app_url, &ceiling_url).await?);
        app.stop().await?;
        problems.extend(log_problems("app (PostgreSQL)", &config.log, true));
    }
    Ok(())
}

fn report(
    rows: Vec<Row>,
    problems: Vec<String>,
    machine: &str,
    load_before: &str,
    args: &Args,
) -> anyhow::Result<String> {
    let mut out = String::new();
    out.push_str("## Results\n\n");
    out.push_str(&report::table(&rows));
    out.push_str(&format!(
        "\nMachine: {machine}; load average {load_before} before, {} after.\n",
        report::load_average()
    ));
    out.push_str(&format!(
        "Rounds: {} of {} s each, app and ceiling alternating, median reported; \
         wrk 1 thread, {CONNECTIONS} connections; submissions from {TASKS} tasks.\n",
        args.rounds, args.seconds
    ));
    out.push_str("\n### Rounds and notes\n\n");
    out.push_str(&report::notes(&rows));
    if !problems.is_empty() {
        out.push_str("\n### Warnings and errors in the app's logs\n\n");
        for problem in &problems {
            out.push_str(&format!("- {problem}\n"));
        }
    }
    out.push_str(
        "\nQueue pages: `cargo run --release --example queue_bench` (`scripts/bench --queue` runs it).\n",
    );
    Ok(out)
}

/// Warms the app with a few requests, reads its idle RSS, and weighs the order form: its
/// HTML plus the stylesheet it links, uncompressed. Returns the page's bytes for nginx.
async fn idle_and_weight(app: &App) -> anyhow::Result<(Row, Row, Vec<u8>)> {
    let client = reqwest::Client::new();
    let mut page = Vec::new();
    for path in ["/", "/orders/new", "/help", "/orders/new", "/health/ready"] {
        let response = client.get(app.url(path)).send().await?;
        if !response.status().is_success() {
            bail!("GET {path}: {}", response.status());
        }
        let body = response.bytes().await?;
        if path == "/orders/new" {
            page = body.to_vec();
        }
    }
    let html = String::from_utf8_lossy(&page).into_owned();
    let stylesheet = {
        let document = scraper::Html::parse_document(&html);
        let selector = scraper::Selector::parse("link[rel~=stylesheet][href]")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        document
            .select(&selector)
            .filter_map(|link| link.value().attr("href"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let mut css_bytes = 0;
    let mut css_notes = Vec::new();
    for href in &stylesheet {
        let url = if href.starts_with("http") {
            href.clone()
        } else {
            app.url(href)
        };
        let response = client.get(&url).send().await?;
        if !response.status().is_success() {
            bail!("GET {href}: {}", response.status());
        }
        let bytes = response.bytes().await?.len();
        css_bytes += bytes;
        css_notes.push(format!("{href} {} bytes", number(bytes as f64)));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_kb = procs::memory_kb(app.pid(), "VmRSS").context("reading VmRSS")?;
    let idle = memory_row(
        "memory: idle RSS (VmRSS after start and a few requests)",
        idle_kb,
        20.0,
    );
    let mut notes = vec![format!(
        "HTML {} bytes + stylesheet: {}",
        number(page.len() as f64),
        if css_notes.is_empty() {
            "none linked".to_owned()
        } else {
            css_notes.join(", ")
        }
    )];
    notes.push("goal 30 KB = 30,000 bytes".into());
    let weight = Row {
        measure: "form page weight: HTML of `/orders/new` + its stylesheet, uncompressed".into(),
        figure: (page.len() + css_bytes) as f64,
        unit: "bytes",
        ceiling: None,
        goal: Goal::AtMost(30_000.0, "bytes"),
        notes,
        errors: Vec::new(),
    };
    Ok((idle, weight, page))
}

fn memory_row(measure: &str, kb: u64, limit_mb: f64) -> Row {
    Row {
        measure: measure.into(),
        // /proc reports kibibytes; the goals are in MB of 1,000,000 bytes.
        figure: kb as f64 * 1024.0 / 1e6,
        unit: "MB",
        ceiling: None,
        goal: Goal::AtMost(limit_mb, "MB"),
        notes: vec![format!(
            "{} kB (KiB) in /proc/<pid>/status",
            number(kb as f64)
        )],
        errors: Vec::new(),
    }
}

/// The two page rows: wrk against the app and against nginx serving the same bytes, rounds
/// alternating, without and with `Accept-Encoding: gzip`.
async fn page_rows(bench: &Bench<'_>, app: &App, nginx: &Nginx) -> anyhow::Result<Vec<Row>> {
    let (app_url, nginx_url) = (app.url("/orders/new"), nginx.url("/orders/new"));
    let mut rows = Vec::new();
    for gzip in [false, true] {
        let mut errors = Vec::new();
        let mut notes = Vec::new();
        // Both must really compress (or not) for the comparison to hold.
        for (who, url) in [("app", &app_url), ("nginx", &nginx_url)] {
            let mut request = reqwest::Client::new().get(url.as_str());
            if gzip {
                request = request.header("accept-encoding", "gzip");
            }
            let response = request.send().await?;
            let encoding = response
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
                .to_owned();
            let size = response.bytes().await?.len();
            notes.push(format!(
                "{who}: {} bytes on the wire, content-encoding {encoding}",
                number(size as f64)
            ));
            if (encoding == "gzip") != gzip {
                errors.push(format!("{who} answered with content-encoding {encoding}"));
            }
        }
        // A second of each first, so neither is measured cold.
        procs::wrk(&app_url, 1, CONNECTIONS, gzip).await?;
        procs::wrk(&nginx_url, 1, CONNECTIONS, gzip).await?;
        let (mut figures, mut ceilings) = (Vec::new(), Vec::new());
        for round in 1..=bench.args.rounds {
            let ours = procs::wrk(&app_url, bench.args.seconds, CONNECTIONS, gzip).await?;
            let theirs = procs::wrk(&nginx_url, bench.args.seconds, CONNECTIONS, gzip).await?;
            eprintln!(
                "GET /orders/new{} round {round}: app {} req/s, nginx {} req/s",
                if gzip { " (gzip)" } else { "" },
                number(ours.requests_per_second),
                number(theirs.requests_per_second)
            );
            for (who, run) in [("app", ours), ("nginx", theirs)] {
                if run.bad_answers > 0 || run.socket_errors > 0 {
                    errors.push(format!(
                        "{who} round {round}: {} non-2xx/3xx answers, {} socket errors of {} requests",
                        run.bad_answers, run.socket_errors, run.requests
                    ));
                }
            }
            figures.push(ours.requests_per_second);
            ceilings.push(theirs.requests_per_second);
        }
        notes.insert(
            0,
            format!(
                "rounds: app {}, nginx {} req/s",
                rounds(&figures),
                rounds(&ceilings)
            ),
        );
        rows.push(Row {
            measure: if gzip {
                format!(
                    "`GET /orders/new`, `Accept-Encoding: gzip` (wrk 1 thread, {CONNECTIONS} connections) vs nginx gzip level 1 on the fly"
                )
            } else {
                format!(
                    "`GET /orders/new`, no compression (wrk 1 thread, {CONNECTIONS} connections) vs nginx static file"
                )
            },
            figure: median(&figures),
            unit: "req/s",
            ceiling: Some(median(&ceilings)),
            goal: Goal::RatioAtLeast(0.6),
            notes,
            errors,
        });
    }
    Ok(rows)
}

/// Fresh orders posted to the app for `seconds`, then the same rows inserted raw into the
/// ceiling database for as long, rounds alternating.
async fn submission_row(
    bench: &Bench<'_>,
    backend: &str,
    app: &App,
    app_db_url: &str,
    ceiling_url: &str,
) -> anyhow::Result<Row> {
    let url = app.url("/api/v1/orders");
    let ceiling_db = Arc::new(Database::open(ceiling_url).await?);
    let mut templates: Option<Arc<Templates>> = None;
    let (mut figures, mut ceilings) = (Vec::new(), Vec::new());
    let mut errors = Vec::new();
    // A short first pass warms both (connections, caches), not counted.
    let warm = orders::post_orders(&url, 1.0, TASKS, &bench.numbers).await?;
    collect_errors(&mut errors, "app warm-up", &warm);
    for round in 1..=bench.args.rounds {
        let ours = orders::post_orders(&url, bench.seconds(), TASKS, &bench.numbers).await?;
        collect_errors(&mut errors, &format!("app round {round}"), &ours);
        let templates = match &templates {
            Some(t) => t.clone(),
            None => {
                let app_db = Database::open(app_db_url).await?;
                let read = Arc::new(Templates::read(&app_db, TEMPLATES).await?);
                app_db.close().await;
                orders::insert_orders(&ceiling_db, &read, 1.0, TASKS, &bench.numbers).await?;
                templates = Some(read.clone());
                read
            }
        };
        let theirs = orders::insert_orders(
            &ceiling_db,
            &templates,
            bench.seconds(),
            TASKS,
            &bench.numbers,
        )
        .await?;
        collect_errors(&mut errors, &format!("ceiling round {round}"), &theirs);
        eprintln!(
            "POST /api/v1/orders ({backend}) round {round}: app {} orders/s, raw inserts {} orders/s",
            number(ours.per_second()),
            number(theirs.per_second())
        );
        figures.push(ours.per_second());
        ceilings.push(theirs.per_second());
    }
    let shape = templates.map(|t| t.shape()).unwrap_or_default();
    Arc::try_unwrap(ceiling_db)
        .ok()
        .context("the ceiling's database is still in use")?
        .close()
        .await;
    Ok(Row {
        measure: format!(
            "`POST /api/v1/orders` on {backend}, fresh valid orders, {TASKS} connections vs raw inserts of the same rows"
        ),
        figure: median(&figures),
        unit: "orders/s",
        ceiling: Some(median(&ceilings)),
        goal: Goal::RatioAtLeast(0.5),
        notes: vec![
            format!(
                "rounds: app {}, raw inserts {} orders/s",
                rounds(&figures),
                rounds(&ceilings)
            ),
            format!("rows per order copied by the ceiling: {shape}"),
        ],
        errors,
    })
}

fn collect_errors(errors: &mut Vec<String>, what: &str, load: &Load) {
    for (kind, count) in &load.errors {
        errors.push(format!("{what}: {count} × {kind}"));
    }
}

/// The mail row. A backlog is made once: orders posted to an app whose SMTP server never
/// answers, the app stopped, every outbox row made due again and the database kept as a
/// snapshot. Each app round starts the binary on a fresh copy of the snapshot with the sink as
/// its SMTP server and times first to last arrival; each ceiling round sends the messages the
/// first app round delivered, byte for byte, over one connection to the same sink.
async fn mail_row(bench: &Bench<'_>) -> anyhow::Result<(Row, Vec<String>)> {
    let tmp = bench.tmp;
    let backlog_path = tmp.join("mail-backlog.db");
    let backlog_url = format!("sqlite:{}", backlog_path.display());
    let config = bench.app_config("mail-backlog", backlog_url.clone(), bench.holder.port);
    let app = App::start(&config).await?;
    let made = orders::post_count(
        &app.url("/api/v1/orders"),
        bench.args.mail_orders,
        TASKS,
        &bench.numbers,
    )
    .await?;
    let mut errors = Vec::new();
    collect_errors(&mut errors, "making the backlog", &made);
    app.stop().await?;
    let mut problems = log_problems("app (making the mail backlog)", &config.log, true);

    let expected = {
        let db = Database::open(&backlog_url).await?;
        sqlx::query(
            "UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = created_at,
                locked_until = NULL, claimed_by = NULL, last_error = NULL, sent_at = NULL",
        )
        .execute(&db.pool)
        .await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
            .fetch_one(&db.pool)
            .await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&db.pool)
            .await?;
        db.close().await;
        usize::try_from(count)?
    };
    if expected == 0 {
        bail!("the backlog has no mail");
    }
    eprintln!("mail backlog: {} orders, {expected} messages", made.done);

    let run_path = tmp.join("mail-run.db");
    let run_url = format!("sqlite:{}", run_path.display());
    let mut captured: Vec<smtp::Message> = Vec::new();
    let (mut figures, mut ceilings, mut same_process) = (Vec::new(), Vec::new(), Vec::new());
    let mut notes = Vec::new();
    let mut peak_kb = 0;
    let mut connections = 0;
    for round in 1..=bench.args.rounds {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", run_path.display()));
        }
        std::fs::copy(&backlog_path, &run_path)?;
        bench.sink.take();
        bench.sink.take_connections();
        let config = bench.app_config("mail", run_url.clone(), bench.sink.port);
        let app = App::start(&config).await?;
        let delivered = wait_for_mail(&bench.sink, expected).await;
        peak_kb = peak_kb.max(procs::memory_kb(app.pid(), "VmHWM").unwrap_or(0));
        app.stop().await?;
        let arrivals = bench.sink.take();
        connections = bench.sink.take_connections();
        if !delivered {
            errors.push(format!(
                "app round {round}: {} of {expected} messages arrived (stalled for 30 s)",
                arrivals.len()
            ));
        }
        let unique: HashSet<Option<String>> = arrivals
            .iter()
            .map(|a| smtp::message_id(&a.message.data))
            .collect();
        if unique.len() < arrivals.len() {
            errors.push(format!(
                "app round {round}: {} duplicate messages",
                arrivals.len() - unique.len()
            ));
        }
        let ours = rate(&arrivals);
        if captured.is_empty() {
            captured = arrivals.into_iter().map(|a| a.message).collect();
        }

        let _ = bench.sink.take();
        smtp::send_all_from_another_process(bench.sink.port, &captured, &tmp.join("mail.bin"))
            .await
            .context("the ceiling's SMTP client")?;
        let theirs = rate(&bench.sink.take());
        smtp::send_all(bench.sink.port, &captured)
            .await
            .context("the SMTP client in this process")?;
        let in_process = rate(&bench.sink.take());
        eprintln!(
            "mail round {round}: app {} messages/s, plain client {} messages/s \
             (in the benchmark's process: {})",
            number(ours),
            number(theirs),
            number(in_process)
        );
        figures.push(ours);
        ceilings.push(theirs);
        same_process.push(in_process);
        if round == bench.args.rounds {
            problems.extend(log_problems("app (sending mail)", &config.log, false));
        }
    }
    let bytes: usize = captured.iter().map(|m| m.data.len()).sum();
    notes.push(format!(
        "rounds: app {}, plain client {} messages/s",
        rounds(&figures),
        rounds(&ceilings)
    ));
    notes.push(format!(
        "the plain client runs in a process of its own, as the app does; run in the \
         benchmark's own process, sharing a runtime with the sink, it sent {} messages/s \
         (rounds {})",
        number(median(&same_process)),
        rounds(&same_process)
    ));
    notes.push(format!(
        "{expected} messages from {} orders, {} bytes on average; the app's peak RSS while sending {:.1} MB",
        made.done,
        number(bytes as f64 / captured.len().max(1) as f64),
        peak_kb as f64 * 1024.0 / 1e6
    ));
    notes.push(format!(
        "the app took {:.1} ms per message and opened {connections} SMTP connections for {expected} messages (last round)",
        1000.0 / median(&figures).max(1e-9)
    ));
    Ok((
        Row {
            measure: "mail delivery to a loopback SMTP sink, first to last arrival vs one plain SMTP connection".into(),
            figure: median(&figures),
            unit: "messages/s",
            ceiling: Some(median(&ceilings)),
            goal: Goal::RatioAtLeast(0.5),
            notes,
            errors,
        },
        problems,
    ))
}

/// Waits until `expected` messages arrived; false when none came for 30 s first.
async fn wait_for_mail(sink: &Sink, expected: usize) -> bool {
    let mut last = (0, Instant::now());
    loop {
        let count = sink.count();
        if count >= expected {
            return true;
        }
        if count != last.0 {
            last = (count, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(30) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Messages per second from the first arrival to the last.
fn rate(arrivals: &[smtp::Arrival]) -> f64 {
    let first = arrivals.iter().map(|a| a.at).min();
    let last = arrivals.iter().map(|a| a.at).max();
    match (first, last) {
        (Some(first), Some(last)) if arrivals.len() > 1 => {
            let span = last.duration_since(first).as_secs_f64();
            (arrivals.len() - 1) as f64 / span.max(1e-9)
        }
        _ => 0.0,
    }
}

/// The app's WARN and ERROR lines, grouped by message with counts (the first 10 kinds).
/// `held`: the app's mail was held back, so one "send given up" at its stop is expected.
fn log_problems(who: &str, log: &Path, held: bool) -> Vec<String> {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for line in procs::warnings(log) {
        // Drop the timestamp and the fields: lines differ by them only.
        let text = line.split_once(' ').map_or(line.as_str(), |(_, rest)| rest);
        let message = text.split(" mail_id=").next().unwrap_or(text);
        let key: String = message.chars().take(200).collect();
        *kinds.entry(key).or_default() += 1;
    }
    kinds
        .into_iter()
        .take(10)
        .map(|(kind, count)| {
            let expected = if held && count == 1 && kind.contains("send given up") {
                " (expected: the message held by the SMTP server that never answers)"
            } else {
                ""
            };
            format!("{who}: {count} × `{}`{expected}", kind.trim())
        })
        .collect()
}
