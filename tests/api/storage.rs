//! The stored data's own guards: the enumerated text columns take only the values the app
//! knows (migration `enum_checks`: CHECK constraints on PostgreSQL, triggers on SQLite), and
//! a value that got in anyway is an error when the order is read, never a default.

use sqlx::AssertSqlSafe;
use sqlx::Row;

use crate::helpers::*;
use crate::on_both_databases;

/// Each guarded column, the column that picks one of its rows, and a value it must refuse:
/// near misses (case, an alias the app would parse, the queue's "all" filter, `_` for `-`).
const GUARDED: [(&str, &str, &str, &str); 9] = [
    ("orders", "status", "reference", "Received"),
    ("orders", "environment", "reference", "staging"),
    ("orders", "language", "reference", "no"),
    ("order_events", "from_status", "id", ""),
    ("order_events", "to_status", "id", "archived"),
    ("order_status_counts", "status", "status", "all"),
    ("mail_outbox", "status", "id", "bounced"),
    ("users", "role", "id", "case_handler"),
    ("contact_links", "role", "token_hash", "admin"),
];

/// Asserts that the database refused the write with the guard of `table.column`: the SQLite
/// trigger's message, or the name of the PostgreSQL constraint.
fn assert_refused_by_guard(
    result: Result<sqlx::any::AnyQueryResult, sqlx::Error>,
    table: &str,
    column: &str,
    value: &str,
) {
    let message = match result {
        Ok(_) => panic!("{table}.{column} = {value:?} was stored"),
        Err(sqlx::Error::Database(err)) => err.message().to_owned(),
        Err(other) => panic!("{table}.{column} = {value:?}: not a database error: {other}"),
    };
    assert!(
        message.contains(&format!("{table}.{column}: invalid value"))
            || message.contains(&format!("\"{table}_{column}_valid\"")),
        "{table}.{column} = {value:?} was refused, but not by its guard: {message}"
    );
}

/// `column` of the row of `table` whose `key` is `id`.
async fn value_of(app: &TestApp, table: &str, key: &str, id: &str, column: &str) -> Option<String> {
    let sql = format!("SELECT {column} FROM {table} WHERE {key} = $1");
    sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .get::<Option<String>, _>(0)
}

async fn execute(
    app: &TestApp,
    sql: &str,
    binds: &[&str],
) -> Result<sqlx::any::AnyQueryResult, sqlx::Error> {
    let mut query = sqlx::query(AssertSqlSafe(sql.to_owned()));
    for value in binds {
        query = query.bind(value.to_string());
    }
    query.execute(app.db.pool()).await
}

/// `value` as `$1`, then `others`.
fn with_value<'a>(value: &'a str, others: &'a [String]) -> Vec<&'a str> {
    std::iter::once(value)
        .chain(others.iter().map(String::as_str))
        .collect()
}

/// Waits until the mail worker has sent every queued email, so no row of the outbox changes
/// under the test.
async fn outbox_settled(app: &TestApp) {
    for _ in 0..300 {
        if app.count("mail_outbox WHERE status <> 'sent'").await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the outbox did not settle");
}

/// Removes the guard of `table.column` from this test's own database, as a manual repair or
/// an old backup restored without it could leave it.
async fn drop_guard(app: &TestApp, table: &str, column: &str) {
    let statements = match app.db.backend() {
        rrh_tt02::store::Backend::Sqlite => vec![
            format!("DROP TRIGGER {table}_{column}_valid_insert"),
            format!("DROP TRIGGER {table}_{column}_valid_update"),
        ],
        rrh_tt02::store::Backend::Postgres => vec![format!(
            "ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_valid"
        )],
    };
    for sql in statements {
        execute(app, &sql, &[]).await.unwrap();
    }
}

/// Sets one column of the order with this reference behind the app's back.
async fn set_order_column(app: &TestApp, reference: &str, column: &str, value: &str) {
    let sql = format!("UPDATE orders SET {column} = $1 WHERE reference = $2");
    let done = execute(app, &sql, &[value, reference]).await.unwrap();
    assert_eq!(done.rows_affected(), 1);
    assert_eq!(
        app.order_column(reference, column).await.as_deref(),
        Some(value)
    );
}

/// The order's pages: the case handler's, each contact's private page and the receipt.
fn order_pages(reference: &str, vendor: &str, consumer: &str) -> Vec<(bool, String)> {
    vec![
        (true, format!("/admin/orders/{reference}")),
        (false, vendor.to_owned()),
        (false, consumer.to_owned()),
        (false, format!("/orders/{reference}/receipt")),
    ]
}

/// Each page of the order answers `expected`; a 500 must be the error page with the request
/// id, showing nothing of the order. Checks every page before failing, to name all that differ.
async fn assert_pages(
    app: &TestApp,
    case_handler: &Browser,
    pages: &[(bool, String)],
    expected: u16,
    what: &str,
) {
    let mut wrong = Vec::new();
    for (admin, path) in pages {
        let response = if *admin {
            case_handler.get(path).await
        } else {
            app.get(path).await
        };
        let status = response.status();
        let request_id = response
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned());
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        if status != expected {
            wrong.push(format!("{path} answered {status}"));
        } else if expected == 500 {
            match request_id {
                Some(id) if !select(&page, "main code").is_empty() => {
                    if text(&page, "main code") != id {
                        wrong.push(format!("{path} shows another request id than its header"));
                    }
                }
                _ => wrong.push(format!("{path} has no request id")),
            }
            if select(&page, "h1").is_empty() || text(&page, "h1") != "Noe gikk galt" {
                wrong.push(format!("{path} is not the error page"));
            }
            if !select(&page, "#status, #reference").is_empty() {
                wrong.push(format!("{path} shows the order"));
            }
        }
    }
    assert!(wrong.is_empty(), "{what}, expected {expected}: {wrong:#?}");
}

on_both_databases! {
    async fn the_database_refuses_to_set_an_enumerated_column_to_a_value_outside_its_list(app) {
        let reference = app.order(&valid_json()).await;
        app.add_user("kari@brreg.no", "Kari Saksbehandler", "case-handler").await;
        outbox_settled(&app).await;
        for (table, column, key, bad) in GUARDED {
            let sql = format!("SELECT {key}, {column} FROM {table} ORDER BY {key} LIMIT 1");
            let row = sqlx::query(AssertSqlSafe(sql)).fetch_one(app.db.pool()).await.unwrap();
            let (id, before) = (row.get::<String, _>(0), row.get::<Option<String>, _>(1));
            let update = format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2");
            let refused = execute(&app, &update, &[bad, &id]).await;
            assert_refused_by_guard(refused, table, column, bad);
            let after = value_of(&app, table, key, &id, column).await;
            assert_eq!(after, before, "{table}.{column} keeps its value");
        }

        // What the lists allow still goes in: the other languages (nynorsk by the later
        // migration `language_nn`), NULL where the column is nullable.
        set_order_column(&app, &reference, "language", "en").await;
        set_order_column(&app, &reference, "language", "nn").await;
        execute(&app, "UPDATE order_events SET from_status = NULL, to_status = NULL", &[])
            .await
            .unwrap();
        let events = app.count("order_events").await;
        assert_eq!(app.count("order_events WHERE to_status IS NULL").await, events);
    }

    async fn the_database_refuses_a_new_row_with_a_value_outside_an_enumerated_column_s_list(app) {
        app.order(&valid_json()).await;
        outbox_settled(&app).await;
        let now = "2026-11-26T12:00:00.000000Z";
        // An ended order of its own for the rows that hang off an order, so a valid link does
        // not collide with the links the app made.
        let bare = uuid::Uuid::now_v7().to_string();
        let insert_order = |status: &str, environment: &str, language: &str| format!(
            "INSERT INTO orders (id, reference, status, environment, scope, vendor_org_number,
                vendor_org_name, vendor_contact_email, vendor_contact_phone, consumer_org_number,
                consumer_org_name, consumer_contact_email, consumer_contact_phone, language,
                created_at, updated_at, closed_at)
             VALUES ($2, $3, {status}, {environment}, 'brreg:reelle/offentlig', '974760673',
                'Leverandør Systemer AS', 'ola@leverandor.no', '+4791234567', '313876144',
                'Kunde Bank ASA', 'kari@kunde.no', '+4741234567', {language}, $4, $4, $4)"
        );
        let binds = ["completed", &bare, "RRH-BARE-0001", now];
        execute(&app, &insert_order("$1", "'test'", "'nb'"), &binds).await.unwrap();

        // (table, column, refused, allowed, statement with the value as $1, the other values)
        let fresh = || uuid::Uuid::now_v7().to_string();
        type Case<'a> = (&'a str, &'a str, &'a str, &'a str, String, Vec<String>);
        let cases: Vec<Case> = vec![
            ("orders", "status", "Received", "withdrawn", insert_order("$1", "'test'", "'nb'"),
                vec![fresh(), "RRH-BARE-0002".into(), now.into()]),
            ("orders", "environment", "staging", "production",
                insert_order("'completed'", "$1", "'nb'"),
                vec![fresh(), "RRH-BARE-0003".into(), now.into()]),
            ("orders", "language", "no", "nn", insert_order("'completed'", "'test'", "$1"),
                vec![fresh(), "RRH-BARE-0004".into(), now.into()]),
            ("order_events", "from_status", "", "tt02_loaded",
                "INSERT INTO order_events (id, order_id, occurred_at, actor, kind, from_status,
                    to_status)
                 VALUES ($2, $3, $4, 'system', 'status_changed', $1, 'delegated')".into(),
                vec![fresh(), bare.clone(), now.into()]),
            ("order_events", "to_status", "archived", "received",
                "INSERT INTO order_events (id, order_id, occurred_at, actor, kind, to_status)
                 VALUES ($2, $3, $4, 'system', 'created', $1)".into(),
                vec![fresh(), bare.clone(), now.into()]),
            ("order_status_counts", "status", "all", "withdrawn",
                "INSERT INTO order_status_counts (status, orders) VALUES ($1, 0)".into(),
                vec![]),
            ("mail_outbox", "status", "bounced", "failed",
                "INSERT INTO mail_outbox (id, order_id, message_id, kind, recipients, subject,
                    body_text, status, next_attempt_at, created_at)
                 VALUES ($2, $3, $4, 'status_changed', '[]', 'Emne', 'Tekst', $1, $5, $5)".into(),
                vec![fresh(), bare.clone(), format!("<{}@rrh.test>", fresh()), now.into()]),
            ("users", "role", "case_handler", "admin",
                "INSERT INTO users (id, email, name, role, password_hash, created_at)
                 VALUES ($2, $3, 'Ny Bruker', $1, 'x', $4)".into(),
                vec![fresh(), "ny@brreg.no".into(), now.into()]),
            ("contact_links", "role", "admin", "vendor",
                "INSERT INTO contact_links (token_hash, order_id, role, created_at)
                 VALUES ($2, $3, $1, $4)".into(),
                vec![fresh(), bare.clone(), now.into()]),
        ];
        for (table, column, bad, good, sql, others) in &cases {
            let rows = app.count(table).await;
            let refused = execute(&app, sql, &with_value(bad, others)).await;
            assert_refused_by_guard(refused, table, column, bad);
            assert_eq!(app.count(table).await, rows, "no {table} row was stored");
            // The same row with an allowed value goes in: it was the value that was refused.
            execute(&app, sql, &with_value(good, others)).await
                .unwrap_or_else(|e| panic!("{table}.{column} = {good:?}: {e}"));
            assert_eq!(app.count(table).await, rows + 1, "{table}.{column} = {good:?}");
        }
    }

    async fn a_corrupted_environment_in_a_stored_order_is_an_error_not_a_default(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        let case_handler = app.logged_in("kari@brreg.no", "case-handler").await;
        let pages = order_pages(&reference, &vendor, &consumer);
        assert_pages(&app, &case_handler, &pages, 200, "intact").await;

        drop_guard(&app, "orders", "environment").await;
        set_order_column(&app, &reference, "environment", "staging").await;
        assert_pages(&app, &case_handler, &pages, 500, "environment 'staging'").await;
    }

    async fn a_corrupted_status_or_language_in_a_stored_order_is_an_error_not_a_default(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        let case_handler = app.logged_in("kari@brreg.no", "case-handler").await;
        let pages = order_pages(&reference, &vendor, &consumer);
        assert_pages(&app, &case_handler, &pages, 200, "intact").await;

        drop_guard(&app, "orders", "status").await;
        set_order_column(&app, &reference, "status", "archived").await;
        assert_pages(&app, &case_handler, &pages, 500, "status 'archived'").await;
        // Repaired, the order shows again: it was the status that broke the pages.
        set_order_column(&app, &reference, "status", "received").await;
        assert_pages(&app, &case_handler, &pages, 200, "status repaired").await;

        drop_guard(&app, "orders", "language").await;
        set_order_column(&app, &reference, "language", "de").await;
        assert_pages(&app, &case_handler, &pages, 500, "language 'de'").await;
    }
}

/// An acknowledged order survives a power loss: every commit syncs the write-ahead log.
#[tokio::test]
async fn sqlite_syncs_every_commit() {
    let app = spawn_app(Backend::Sqlite).await;
    // Each pooled connection has the setting, not only the first: three held at once.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(app.db.acquire().await.unwrap());
    }
    for conn in &mut held {
        let row = sqlx::query("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        let level: i64 = sqlx::Row::get(&row, 0);
        assert_eq!(level, 2, "FULL");
        let row = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        let mode: String = sqlx::Row::get(&row, 0);
        assert_eq!(mode, "wal");
    }
}

/// Copies the order `reference` `n` times as ended orders changed long ago, so an export
/// reads them in its first batches and the original last.
async fn clone_order(app: &TestApp, reference: &str, n: usize) {
    let columns: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info('orders')")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    // SQLite's search key is the database's to give (unique, by trigger), not to copy.
    let columns: Vec<String> = columns.into_iter().filter(|c| c != "search_key").collect();
    let values: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            "id" => "id || '-' || n.i".to_owned(),
            "reference" => "'RRH-CL' || printf('%04d', n.i)".to_owned(),
            "status" => "'completed'".to_owned(),
            "closed_at" | "updated_at" | "created_at" => "'2000-01-01T00:00:00.000000Z'".to_owned(),
            other => other.to_owned(),
        })
        .collect();
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
         INSERT INTO orders ({}) SELECT {} FROM orders, n WHERE reference = '{reference}'",
        columns.join(", "),
        values.join(", ")
    );
    sqlx::query(AssertSqlSafe(sql))
        .execute(app.db.pool())
        .await
        .unwrap();
}

/// A database error in the middle of a CSV export ends the download so that the client sees
/// it failed (the connection is cut, no clean end); one on the first batch is a 500 page.
#[tokio::test]
async fn a_csv_export_that_fails_midway_is_never_a_clean_truncated_file() {
    let app = spawn_app(Backend::Sqlite).await;
    let reference = app.order(&valid_json()).await;
    clone_order(&app, &reference, 600).await;
    drop_guard(&app, "orders", "status").await;
    set_order_column(&app, &reference, "status", "lost").await;
    let kari = app.logged_in("kari@brreg.no", "case-handler").await;
    let response = kari.get("/admin/orders.csv?status=all").await;
    assert_eq!(response.status(), 200, "the first batch reads fine");
    let body = response.bytes().await;
    assert!(
        body.is_err(),
        "the client notices the export broke off: {:?}",
        body.map(|b| b.len())
    );

    // Broken from the first batch on: an error page, not an empty 200.
    let sql = "UPDATE orders SET status = 'lost'";
    sqlx::query(sql).execute(app.db.pool()).await.unwrap();
    let response = kari.get("/admin/orders.csv?status=all").await;
    assert_eq!(response.status(), 500);
}

// A rate limit counts every attempt on its own, at once, and clears rows whose window ended
// more than a day ago whenever an attempt starts a window (the only way rows are added), not
// on every attempt.
on_both_databases! {
    async fn rate_limit_counts_stand_alone_and_stale_rows_go_when_a_window_starts(app) {
        use rrh_tt02::store::{rate_limit, timestamp};
        let now = chrono::Utc::now();
        let hour = chrono::Duration::hours(1);
        let stale = |key: &'static str| {
            let db = app.db.clone();
            async move {
                sqlx::query("INSERT INTO rate_limits (key, attempts, window_start) VALUES ($1, 1, $2)")
                    .bind(key)
                    .bind(timestamp(now - chrono::Duration::days(2)))
                    .execute(db.pool())
                    .await
                    .unwrap();
            }
        };
        let keys_left = || async {
            let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM rate_limits ORDER BY key")
                .fetch_all(app.db.pool())
                .await
                .unwrap();
            keys
        };
        let a = [("a".to_owned(), 2)];
        stale("old-1").await;
        assert_eq!(rate_limit::count_alone(&app.db, &a, now, hour).await.unwrap(), None);
        assert_eq!(keys_left().await, ["a"], "the first attempt started a window and cleared");
        stale("old-2").await;
        assert_eq!(rate_limit::count_alone(&app.db, &a, now, hour).await.unwrap(), None);
        assert_eq!(keys_left().await, ["a", "old-2"], "a second attempt only counts");
        let over = rate_limit::count_alone(&app.db, &a, now, hour).await.unwrap();
        assert_eq!(over, Some(60), "the third of two allowed is refused for the hour");
        let b = [("b".to_owned(), 2)];
        assert_eq!(rate_limit::count_alone(&app.db, &b, now, hour).await.unwrap(), None);
        assert_eq!(keys_left().await, ["a", "b"], "a new key's window cleared again");
    }
}
