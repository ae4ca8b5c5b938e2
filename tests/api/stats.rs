//! The process statistics (`/admin/stats` and its CSV), over HTTP on both databases.

use sqlx::Row;

use crate::helpers::*;
use crate::on_both_databases;

/// The cells of the row `row` (a CSS selector) of the table `table`, as the page shows them.
fn cells(page: &scraper::Html, table: &str, row: &str) -> Vec<String> {
    select(page, &format!("{table} tbody tr{row} td"))
        .iter()
        .map(|td| td.text().collect::<String>().trim().to_owned())
        .collect()
}

/// An order made through the API (test, or production with `production`), whose history
/// is then written into the database with exact times: it came in at `created` and made
/// each of `steps` (from, to, when; UTC). When it ended, the app is started over on the same
/// database, which works out the time in each status of orders that ended without it, as
/// after an upgrade. Returns the reference.
async fn seeded(
    app: &TestApp,
    seed: u32,
    production: bool,
    created: &str,
    steps: &[(&str, &str, &str)],
) -> String {
    let mut body = if production {
        production_json()
    } else {
        valid_json()
    };
    body["consumer_org_number"] = org_number(seed).into();
    let reference = app.order(&body).await;
    let pool = app.db.pool();
    let (last_status, last_at) = steps
        .last()
        .map(|(_, to, at)| (*to, Some(*at)))
        .unwrap_or(("received", None));
    let closed = ![
        "received",
        "tt02_loading",
        "tt02_loaded",
        "delegated",
        "token_verified",
    ]
    .contains(&last_status);
    sqlx::query(
        "UPDATE orders SET created_at = $1, updated_at = $2, status = $3, closed_at = $4
         WHERE reference = $5",
    )
    .bind(utc(created))
    .bind(utc(last_at.unwrap_or(created)))
    .bind(last_status)
    .bind(closed.then(|| utc(last_at.unwrap_or(created))))
    .bind(&reference)
    .execute(pool)
    .await
    .unwrap();
    for (n, (from, to, at)) in steps.iter().enumerate() {
        sqlx::query(
            "INSERT INTO order_events (id, order_id, occurred_at, actor, kind, from_status,
                to_status)
             SELECT $1, id, $2, 'system', 'status_changed', $3, $4 FROM orders
             WHERE reference = $5",
        )
        .bind(format!("{reference}-{n}"))
        .bind(utc(at))
        .bind(*from)
        .bind(*to)
        .bind(&reference)
        .execute(pool)
        .await
        .unwrap();
    }
    if closed {
        sqlx::query(
            "INSERT INTO order_status_times_pending (order_id)
             SELECT id FROM orders WHERE reference = $1",
        )
        .bind(&reference)
        .execute(pool)
        .await
        .unwrap();
    }
    reference
}

/// A stored timestamp from `2026-04-01T10:00`, UTC.
fn utc(at: &str) -> String {
    format!("{at}:00.000000Z")
}

/// Orders that ended in April and May 2026, times in UTC (Oslo is UTC+2 then), with each
/// stay's working time worked out by hand. Easter 2026: Thursday 2 April to Monday 6 April
/// are holidays; 1 May is one.
async fn seed_known_orders(app: &TestApp) {
    // A: test, completed. Received Wednesday 1 April 12:00 Oslo to Tuesday 7 April 12:00:
    // 12 h + Easter + 12 h = 1.0 day; loading 6 h = 0.25, rounds to 0.3; loaded 6 + 6 h =
    // 0.5; delegated Wednesday 06:00 to Friday 06:00 = 2.0; token verified Friday 06:00 to
    // Monday 06:00 over the weekend = 1.0.
    seeded(
        app,
        1,
        false,
        "2026-04-01T10:00",
        &[
            ("received", "tt02_loading", "2026-04-07T10:00"),
            ("tt02_loading", "tt02_loaded", "2026-04-07T16:00"),
            ("tt02_loaded", "delegated", "2026-04-08T04:00"),
            ("delegated", "token_verified", "2026-04-10T04:00"),
            ("token_verified", "completed", "2026-04-13T04:00"),
        ],
    )
    .await;
    // B: production, completed. Received Friday 10 April 15:00 to Monday 09:00: 18 h = 0.75,
    // rounds to 0.8; delegated 12 h = 0.5; token verified 21:00 to 09:00 = 0.5.
    seeded(
        app,
        2,
        true,
        "2026-04-10T13:00",
        &[
            ("received", "delegated", "2026-04-13T07:00"),
            ("delegated", "token_verified", "2026-04-13T19:00"),
            ("token_verified", "completed", "2026-04-14T07:00"),
        ],
    )
    .await;
    // C: test, rejected. Received Monday 13 April 08:00 to Friday 08:00: 4.0.
    seeded(
        app,
        3,
        false,
        "2026-04-13T06:00",
        &[("received", "rejected", "2026-04-17T06:00")],
    )
    .await;
    // D: production, withdrawn after an hour: 0.0.
    seeded(
        app,
        4,
        true,
        "2026-04-16T10:00",
        &[("received", "withdrawn", "2026-04-16T11:00")],
    )
    .await;
    // E: test, withdrawn in May. Received Wednesday 29 April 12:00 to Thursday 12:00: 1.0;
    // loading Thursday 12:00 to Monday 4 May 12:00, over 1 May and a weekend: 1.0.
    seeded(
        app,
        5,
        false,
        "2026-04-29T10:00",
        &[
            ("received", "tt02_loading", "2026-04-30T10:00"),
            ("tt02_loading", "withdrawn", "2026-05-04T10:00"),
        ],
    )
    .await;
    // The start-up step that keeps the times of orders that ended without the app.
    app.db.migrate().await.unwrap();
}

on_both_databases! {
    async fn the_statistics_are_only_for_the_workspace(app) {
        let browser = app.browser();
        for path in ["/admin/stats", "/admin/stats?from=2026-01-01", "/admin/stats.csv"] {
            let response = browser.get(path).await;
            assert_eq!(response.status(), 303, "{path}");
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            assert!(location.starts_with("/admin/login?next=%2Fadmin%2Fstats"), "{path} -> {location}");
        }
        let handler = app.logged_in("sara@brreg.no", "case-handler").await;
        let (status, page) = handler.get_html("/admin/orders").await;
        assert_eq!(status, 200);
        assert_eq!(attr(&page, "header nav a[href='/admin/stats']", "href"), "/admin/stats");
    }

    async fn ended_orders_and_time_in_each_status_have_the_known_medians(app) {
        seed_known_orders(&app).await;
        let handler = app.logged_in("sara@brreg.no", "case-handler").await;
        let (status, page) = handler.get_html("/admin/stats?from=2026-04-01&to=2026-05-31").await;
        assert_eq!(status, 200);
        assert_eq!(text(&page, "h1"), "Prosesstatistikk");
        assert_eq!(input_value(&page, "#from"), "2026-04-01");
        assert_eq!(input_value(&page, "#to"), "2026-05-31");

        // Ended: test, production, total.
        assert_eq!(cells(&page, "#ended", "[data-outcome=completed]"), ["1", "1", "2"]);
        assert_eq!(cells(&page, "#ended", "[data-outcome=rejected]"), ["1", "0", "1"]);
        assert_eq!(cells(&page, "#ended", "[data-outcome=withdrawn]"), ["1", "1", "2"]);

        // By month: environment, completed, rejected, withdrawn, total.
        let month = |m: &str, e: &str| cells(&page, "#months", &format!("[data-month='{m}'][data-environment={e}]"));
        assert_eq!(month("2026-04", "test"), ["Test (TT02)", "1", "1", "0", "2"]);
        assert_eq!(month("2026-04", "production"), ["Produksjon", "1", "0", "1", "2"]);
        assert_eq!(month("2026-05", "test"), ["Test (TT02)", "0", "0", "1", "1"]);
        assert_eq!(month("2026-05", "production"), ["Produksjon", "0", "0", "0", "0"]);

        // Orders, median, 90th percentile. Received: 0.0, 0.8, 1.0, 1.0, 4.0.
        assert_eq!(cells(&page, "#times", "[data-status=received]"), ["5", "1,0", "4,0"]);
        assert_eq!(cells(&page, "#times", "[data-status=tt02_loading]"), ["2", "0,3", "1,0"]);
        assert_eq!(cells(&page, "#times", "[data-status=tt02_loaded]"), ["1", "0,5", "0,5"]);
        assert_eq!(cells(&page, "#times", "[data-status=delegated]"), ["2", "0,5", "2,0"]);
        assert_eq!(cells(&page, "#times", "[data-status=token_verified]"), ["2", "0,5", "1,0"]);
        // The chart shows the medians, hidden from screen readers, who read the table.
        assert_eq!(attr(&page, ".bar-chart", "aria-hidden"), "true");
        assert!(!select(&page, "#times caption").is_empty());

        // April alone: the received stays are 0.0, 0.8, 1.0 and 4.0.
        let (_, april) = handler.get_html("/admin/stats?from=2026-04-01&to=2026-04-30").await;
        assert_eq!(cells(&april, "#times", "[data-status=received]"), ["4", "0,8", "4,0"]);
        assert_eq!(cells(&april, "#ended", "[data-outcome=withdrawn]"), ["0", "1", "1"]);

        // In English, with a decimal point.
        let (_, english) = handler.get_html("/admin/stats?from=2026-04-01&to=2026-05-31&lang=en").await;
        assert_eq!(cells(&english, "#times", "[data-status=received]"), ["5", "1.0", "4.0"]);

        // The CSV has the table by month, for the same period.
        let link = attr(&page, "#stats-csv", "href");
        assert_eq!(link, "/admin/stats.csv?from=2026-04-01&to=2026-05-31");
        let response = handler.get(&link).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
        let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert_eq!(disposition, "attachment; filename=\"rrh-stats-20260401-20260531.csv\"");
        let csv = response.text().await.unwrap();
        assert_eq!(
            csv,
            "\u{feff}month;environment;completed;rejected;withdrawn;total\r\n\
             2026-04;test;1;1;0;2\r\n\
             2026-04;production;1;0;1;2\r\n\
             2026-05;test;0;0;1;1\r\n\
             2026-05;production;0;0;0;0\r\n"
        );
    }

    async fn an_order_ended_over_http_keeps_its_times_and_open_orders_are_shown_by_age(app) {
        let handler = app.logged_in("sara@brreg.no", "case-handler").await;
        let rejected = app.order(&valid_json()).await;
        let response = handler.act(&rejected, "reject", &[("reason", "Feil kunde")]).await;
        assert_eq!(response.status(), 303);
        let kept = sqlx::query(
            "SELECT t.status, t.working_seconds FROM order_status_times t
             JOIN orders o ON o.id = t.order_id WHERE o.reference = $1",
        )
        .bind(&rejected)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        assert_eq!(kept.len(), 1, "only received was stayed in");
        assert_eq!(kept[0].get::<String, _>("status"), "received");

        // Open: one just in, one delegated 60 days ago (20 working days or more).
        let mut fresh = valid_json();
        fresh["consumer_org_number"] = org_number(7).into();
        app.order(&fresh).await;
        let old = seeded(&app, 8, true, "2026-01-01T10:00", &[]).await;
        sqlx::query("UPDATE orders SET status = 'delegated', created_at = $1 WHERE reference = $2")
            .bind(rrh_tt02::store::timestamp(chrono::Utc::now() - chrono::Duration::days(60)))
            .bind(&old)
            .execute(app.db.pool())
            .await
            .unwrap();

        // The default period: the last 90 days, today included.
        let (status, page) = handler.get_html("/admin/stats").await;
        assert_eq!(status, 200);
        let today = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Oslo).date_naive();
        assert_eq!(input_value(&page, "#to"), today.format("%Y-%m-%d").to_string());
        let from = today - chrono::Duration::days(89);
        assert_eq!(input_value(&page, "#from"), from.format("%Y-%m-%d").to_string());
        assert_eq!(cells(&page, "#ended", "[data-outcome=rejected]"), ["1", "0", "1"]);
        assert_eq!(cells(&page, "#times", "[data-status=received]"), ["1", "0,0", "0,0"]);
        // Under 5, 5-9, 10-19, 20 or more working days, total.
        assert_eq!(cells(&page, "#open", "[data-status=received]"), ["1", "0", "0", "0", "1"]);
        assert_eq!(cells(&page, "#open", "[data-status=delegated]"), ["0", "0", "0", "1", "1"]);
        assert_eq!(cells(&page, "#open", "[data-status=completed]"), Vec::<String>::new());
    }

    async fn the_token_checks_vendors_fail_are_counted(app) {
        let reference = app.order(&production_json()).await;
        let (vendor, _) = track_links(&app, &reference).await;
        sqlx::query("UPDATE orders SET status = 'delegated' WHERE reference = $1")
            .bind(&reference)
            .execute(app.db.pool())
            .await
            .unwrap();
        for token in ["not a token", "still.not.one"] {
            let response = post_contact_step(&app, &vendor, "token", &[("access_token", token)]).await;
            assert_eq!(response.status(), 422);
        }
        assert_eq!(app.events(&reference, "token_checked").await, 2);

        let handler = app.logged_in("sara@brreg.no", "case-handler").await;
        let (_, page) = handler.get_html("/admin/stats").await;
        let failed = select(&page, "table.checks tbody tr");
        assert!(!failed.is_empty());
        let first = failed[0].value().attr("data-check").unwrap().to_owned();
        assert_eq!(cells(&page, "table.checks", &format!("[data-check={first}]")), ["2"]);
        assert!(text(&page, "table.checks caption").contains('2'));

        // The order page names the failure in its timeline.
        let (_, order) = handler.get_html(&format!("/admin/orders/{reference}")).await;
        assert!(order.root_element().text().collect::<String>().contains("Leverandørens token besto ikke"));

        // The purge keeps which checks failed (names only), so the statistics outlive it.
        sqlx::query("UPDATE orders SET status = 'withdrawn', closed_at = '2020-01-01T00:00:00.000000Z' WHERE reference = $1")
            .bind(&reference)
            .execute(app.db.pool())
            .await
            .unwrap();
        let mut tx = app.db.begin_write().await.unwrap();
        rrh_tt02::store::purge::personal_data(&mut tx, chrono::Utc::now()).await.unwrap();
        tx.commit().await.unwrap();
        let (_, after) = handler.get_html("/admin/stats").await;
        assert_eq!(cells(&after, "table.checks", &format!("[data-check={first}]")), ["2"]);
    }

    async fn a_bad_period_is_a_400_that_says_what_to_fix(app) {
        let handler = app.logged_in("sara@brreg.no", "case-handler").await;
        for (query, field, message) in [
            ("from=2026-13-01", "from", "Skriv fra-datoen som ÅÅÅÅ-MM-DD"),
            ("from=2026-01-01&to=31.12.2026", "to", "Skriv til-datoen som ÅÅÅÅ-MM-DD"),
            ("from=2026-06-01&to=2026-05-01", "from", "Fra-datoen er etter til-datoen"),
            ("from=1900-01-01&to=2026-05-01", "from", "Perioden er lengre enn tre år"),
        ] {
            let (status, page) = handler.get_html(&format!("/admin/stats?{query}")).await;
            assert_eq!(status, 400, "{query}");
            assert_eq!(attr(&page, "#error-summary a", "href"), format!("#{field}"), "{query}");
            assert!(text(&page, "#error-summary").contains(message), "{query}");
            assert_eq!(attr(&page, &format!("#{field}"), "aria-invalid"), "true");
            // What was typed stays in the form; no figures are shown for it.
            assert!(select(&page, "#ended").is_empty());
            let response = handler.get(&format!("/admin/stats.csv?{query}")).await;
            assert_eq!(response.status(), 400, "CSV {query}");
        }
        let (_, page) = handler.get_html("/admin/stats?from=2026-13-01").await;
        assert_eq!(input_value(&page, "#from"), "2026-13-01");
    }
}
