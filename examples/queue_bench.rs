//! Measures the queue page at 100,000 orders: seeds a fresh database, logs in over HTTP and
//! times queue requests as a browser makes them.
//!
//! ```text
//! cargo run --release --example queue_bench                       # SQLite in a temp folder
//! cargo run --release --example queue_bench -- postgres://postgres@127.0.0.1:5432/test
//! ```
//! Optional second argument: the number of orders (default 100000).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use rrh_tt02::config::Settings;
use rrh_tt02::startup::Application;
use rrh_tt02::store::{Db, timestamp};

const STATUSES_OPEN: [&str; 5] = [
    "received",
    "tt02_loading",
    "tt02_loaded",
    "delegated",
    "token_verified",
];
const STATUSES_CLOSED: [&str; 3] = ["completed", "rejected", "withdrawn"];
const SAMPLES: usize = 200;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let orders: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let (database_url, cleanup) = match args.first() {
        Some(url) if url.starts_with("postgres") => {
            let name = format!("rrh_bench_{}", uuid::Uuid::new_v4().simple());
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                .execute(&mut conn)
                .await?;
            let mut db_url = url::Url::parse(url)?;
            db_url.set_path(&name);
            (db_url.to_string(), Some((url.clone(), name)))
        }
        _ => (
            format!("sqlite:{}", dir.path().join("bench.db").display()),
            None,
        ),
    };

    let env: HashMap<&str, String> = [
        ("RRH_LISTEN", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", database_url.clone()),
        (
            "RRH_MAIL_DIR",
            dir.path().join("mail").display().to_string(),
        ),
        // The server's purge starts with it and would race the seeding, rewriting orders
        // while they are inserted; the benchmark measures the queue, not the purge.
        ("RRH_PURGE_AFTER_DAYS", "100000".to_owned()),
    ]
    .into_iter()
    .collect();
    let settings = Settings::from_lookup(|name| env.get(name).cloned())?;
    let app = Application::build(settings).await?;
    let port = app.port();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());

    let started = Instant::now();
    seed(&db, orders).await?;
    println!(
        "backend: {:?}; seeded {orders} orders in {:.1} s",
        db.backend(),
        started.elapsed().as_secs_f64()
    );

    let hash = rrh_tt02::auth::hash_password("benchmark password".into()).await?;
    let user = rrh_tt02::store::users::create(
        &mut *db.acquire().await?,
        "bench@brreg.no",
        "Bench",
        rrh_tt02::auth::Role::CaseHandler,
        &hash,
    )
    .await?;
    // Some orders assigned to the user, as in a working queue.
    sqlx::query(
        "UPDATE orders SET assigned_to = $1 WHERE closed_at IS NULL AND reference LIKE 'RRH-2%'",
    )
    .bind(&user.id)
    .execute(db.pool())
    .await?;

    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let login = client
        .get(format!("{base}/admin/login"))
        .send()
        .await?
        .text()
        .await?;
    let token = login
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let response = client
        .post(format!("{base}/admin/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "bench@brreg.no"),
            ("password", "benchmark password"),
        ])
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == 303,
        "login failed: {}",
        response.status()
    );

    // A cursor deep into the table, for a late page.
    let deep = sqlx::query_as::<_, (String, String)>(
        "SELECT updated_at, id FROM orders ORDER BY updated_at, id LIMIT 1 OFFSET 90000",
    )
    .fetch_optional(db.pool())
    .await?
    .map(|(u, i)| format!("{u}_{i}"));

    let mut paths = vec![
        "/admin/orders".to_owned(),
        "/admin/orders?status=all".to_owned(),
        "/admin/orders?status=received&environment=test".to_owned(),
        "/admin/orders?assigned=me".to_owned(),
        "/admin/orders?status=all&q=974760673".to_owned(),
        "/admin/orders?status=all&q=kunde+17".to_owned(),
        "/admin/orders?status=all&q=RRH-2345-6789".to_owned(),
        // Worst case: text that matches nothing walks every order.
        "/admin/orders?status=all&q=finnes+ikke".to_owned(),
    ];
    if let Some(deep) = deep {
        paths.push(format!("/admin/orders?status=all&after={deep}"));
    }
    println!(
        "{:<55} {:>10} {:>10} {:>8}",
        "queue page", "median ms", "p95 ms", "bytes"
    );
    for path in paths {
        let mut times = Vec::with_capacity(SAMPLES);
        let mut bytes = 0;
        for _ in 0..SAMPLES {
            let started = Instant::now();
            let response = client.get(format!("{base}{path}")).send().await?;
            anyhow::ensure!(response.status() == 200, "{path}: {}", response.status());
            bytes = response.bytes().await?.len();
            times.push(started.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<55} {:>10.2} {:>10.2} {:>8}",
            path,
            ms(times[SAMPLES / 2]),
            ms(times[SAMPLES * 95 / 100]),
            bytes
        );
    }
    let started = Instant::now();
    let csv = client
        .get(format!("{base}/admin/orders.csv?status=all"))
        .send()
        .await?
        .bytes()
        .await?;
    println!(
        "CSV export of all {orders} orders: {:.0} ms, {} bytes",
        started.elapsed().as_secs_f64() * 1000.0,
        csv.len()
    );

    db.close().await;
    if let Some((admin_url, name)) = cleanup.filter(|(_, name)| {
        // RRH_BENCH_KEEP=1 keeps the database for EXPLAIN sessions.
        let keep = std::env::var_os("RRH_BENCH_KEEP").is_some();
        if keep {
            println!("kept database {name}");
        }
        !keep
    }) {
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await?;
    }
    Ok(())
}

/// Orders spread over two years; about one in twenty still open, as in a queue that is
/// worked every day.
async fn seed(db: &Db, count: usize) -> anyhow::Result<()> {
    let now = Utc::now();
    let batch = 200;
    for start in (0..count).step_by(batch) {
        let mut tx = db.begin_write().await?;
        let end = (start + batch).min(count);
        let mut sql = String::from(
            "INSERT INTO orders (id, reference, status, version, environment, scope, vendor_org_number,
                vendor_org_name, vendor_contact_email, vendor_contact_phone, consumer_org_number,
                consumer_org_name, consumer_contact_email, consumer_contact_phone, ip_addresses,
                language, created_at, updated_at, closed_at, search_text) VALUES ",
        );
        let mut params: Vec<Option<String>> = Vec::new();
        for i in start..end {
            let age = chrono::Duration::minutes(((count - i) as i64) * 10);
            let updated = timestamp(now - age);
            let open = i % 20 == 0;
            let status = if open {
                STATUSES_OPEN[i / 20 % 5]
            } else {
                STATUSES_CLOSED[i % 3]
            };
            let environment = if i % 3 == 0 { "production" } else { "test" };
            let consumer_name = format!("Kunde {i} AS");
            let row = [
                Some(uuid::Uuid::now_v7().to_string()),
                Some(format!("RRH-{:04}-{:04}", i / 10000 + 2000, i % 10000)),
                Some(status.to_owned()),
                Some(environment.to_owned()),
                Some("brreg:reelle/offentlig".to_owned()),
                Some("974760673".to_owned()),
                Some("Leverandør Systemer AS".to_owned()),
                Some("ola@leverandor.no".to_owned()),
                Some("+4791234567".to_owned()),
                Some(format!("{:09}", 800_000_000 + i)),
                Some(consumer_name.clone()),
                Some(format!("kontakt{i}@kunde.no")),
                Some("+4741234567".to_owned()),
                Some("[]".to_owned()),
                Some("nb".to_owned()),
                Some(updated.clone()),
                Some(updated.clone()),
                (!open).then(|| updated.clone()),
                Some(format!(
                    "leverandør systemer as kunde {i} as ola@leverandor.no kontakt{i}@kunde.no"
                )),
            ];
            let n = params.len();
            let placeholders: Vec<String> =
                (1..=row.len()).map(|k| format!("${}", n + k)).collect();
            if i > start {
                sql.push(',');
            }
            // version is the literal 1, after status.
            let mut p = placeholders;
            p.insert(3, "1".into());
            sql.push_str(&format!("({})", p.join(",")));
            params.extend(row);
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in params {
            query = query.bind(p);
        }
        query.execute(&mut **tx).await?;
        tx.commit().await?;
    }
    // Seeding bypassed the app, so the kept counts are rebuilt the way the migration does.
    sqlx::query("DELETE FROM order_status_counts")
        .execute(db.pool())
        .await?;
    sqlx::query(
        "INSERT INTO order_status_counts (status, orders)
         SELECT status, COUNT(*) FROM orders GROUP BY status",
    )
    .execute(db.pool())
    .await?;
    // Fresh statistics, as a running database would have.
    match db.backend() {
        rrh_tt02::store::Backend::Sqlite => sqlx::query("ANALYZE").execute(db.pool()).await?,
        // Autovacuum does this on a live database; it lets counts use index-only scans.
        rrh_tt02::store::Backend::Postgres => {
            sqlx::query("VACUUM ANALYZE orders")
                .execute(db.pool())
                .await?
        }
    };
    Ok(())
}
