//! Personal data leaves ended orders; the skeleton stays.

use crate::helpers::*;
use crate::on_both_databases;

on_both_databases! {
    async fn ended_orders_lose_their_personal_data_and_keep_their_skeleton(app) {
        let ended = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &ended).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        let token = browser.csrf().await;
        browser.post(&format!("/admin/orders/{ended}/notes"), &[("csrf_token", token.as_str()), ("note", "Ringte Ola Nordmann på 912 34 567.")]).await;
        assert_eq!(post_contact_step(&app, &vendor, "withdrawal", &[("withdraw_reason", "Ola slutter.")]).await.status(), 303);
        let mut other = valid_json();
        other["consumer_org_number"] = org_number(40).into();
        let open = app.order(&other).await;
        app.mail_settled().await;

        let purged = rrh_tt02::app::purge::personal_data(&app.context, chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
        assert_eq!(purged, 1, "only the ended order");
        for column in ["vendor_contact_email", "vendor_contact_phone", "consumer_contact_email", "consumer_contact_phone"] {
            assert_eq!(app.order_column(&ended, column).await.as_deref(), Some(""), "{column}");
            assert_ne!(app.order_column(&open, column).await.as_deref(), Some(""), "{column} of the open order");
        }
        assert_eq!(app.order_column(&ended, "ip_addresses").await.as_deref(), Some("[]"));
        assert!(app.order_column(&ended, "purged_at").await.is_some());
        assert_eq!(app.order_column(&ended, "vendor_org_name").await.as_deref(), Some("Leverandør Systemer AS"));
        assert_eq!(app.order_column(&ended, "status").await.as_deref(), Some("withdrawn"));
        assert_eq!(app.count("order_events WHERE comment IS NOT NULL").await, 0, "notes and reasons are gone");
        assert_eq!(app.get(&consumer).await.status(), 404, "the links are gone");
        let (_, page) = browser.get_html(&format!("/admin/orders/{ended}")).await;
        assert!(!page.html().contains("ola@leverandor.no"));
        assert!(!page.html().contains("Ola slutter"));
        // Still found by organisation name, for statistics and questions.
        let (_, queue) = browser.get_html("/admin/orders?status=all&q=leverand%C3%B8r+systemer").await;
        assert_eq!(select(&queue, "table.queue a.reference").len(), 2);
        // Running it again changes nothing.
        assert_eq!(rrh_tt02::app::purge::personal_data(&app.context, chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap(), 0);
    }

    async fn a_purged_contact_cannot_be_found_by_search_and_leaves_the_search_index(app) {
        let mut body = valid_json();
        body["consumer_org_name"] = "Vidsyn Regnskap AS".into();
        body["consumer_contact_email"] = "ingrid.forsvinn@vidsyn.no".into();
        let ended = app.order(&body).await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        kari.act(&ended, "reject", &[("reason", "Feil scope.")]).await;
        let mut other = valid_json();
        other["consumer_org_number"] = org_number(41).into();
        let open = app.order(&other).await;
        app.mail_settled().await;
        let found = |q: &'static str| {
            let kari = &kari;
            async move {
                let (status, page) = kari.get_html(&format!("/admin/orders?status=all&q={q}")).await;
                assert_eq!(status, 200, "{q}");
                select(&page, "table.queue a.reference").iter().map(|a| a.text().collect()).collect::<Vec<String>>()
            }
        };
        assert_eq!(found("forsvinn%40vid").await, vec![ended.clone()], "found before the purge");

        let purged = rrh_tt02::app::purge::personal_data(&app.context, chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
        assert_eq!(purged, 1);
        for q in ["forsvinn%40vid", "ingrid", "forsvinn", "n.f", "%40vidsyn.no"] {
            assert!(found(q).await.is_empty(), "{q} still finds the purged order");
        }
        // The organisations stay searchable, through the index as before.
        assert_eq!(found("vidsyn+regn").await, vec![ended.clone()]);
        assert_eq!(found("ola%40leverandor").await, vec![open.clone()], "the open order keeps its contacts");
        if app.db.backend() == rrh_tt02::store::Backend::Sqlite {
            let gone = ["rsv", "svi", "@vi", "nn@", "d.f", "id."];
            assert_search_index_holds_only_the_orders_text(&app, &ended, "forsvinn@vid", &gone).await;
        }
    }
}

/// SQLite's trigram index (`orders_fts`, external content over `orders.search_text`) as the
/// index itself holds it: no entry for `reference` other than the trigrams of its current
/// search text, none of `gone` (trigrams only the purged text had) for any order, no match for
/// `purged`, the index and the orders in agreement, and deletes set to remove entries, not
/// shadow them.
async fn assert_search_index_holds_only_the_orders_text(
    app: &TestApp,
    reference: &str,
    purged: &str,
    gone: &[&str],
) {
    use sqlx::Row;
    // One connection: the vocabulary table lives in its temp schema.
    let mut conn = app.db.acquire().await.unwrap();
    let (key, text): (i64, String) =
        sqlx::query_as("SELECT search_key, search_text FROM orders WHERE reference = $1")
            .bind(reference)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    sqlx::query("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_instances USING fts5vocab(main, orders_fts, instance)")
        .execute(&mut *conn).await.unwrap();
    let mut held: Vec<String> =
        sqlx::query("SELECT DISTINCT term FROM temp.fts_instances WHERE doc = $1")
            .bind(key)
            .fetch_all(&mut *conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    held.sort();
    let chars: Vec<char> = text.chars().collect();
    let mut expected: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    expected.sort();
    expected.dedup();
    assert_eq!(
        held, expected,
        "the index holds the order's current text and nothing else"
    );
    for trigram in gone {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM temp.fts_instances WHERE term = $1")
            .bind(*trigram)
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{trigram} is still in the index");
    }
    let phrase = sqlx::query("SELECT COUNT(*) FROM orders_fts WHERE orders_fts MATCH $1")
        .bind(format!("\"{purged}\""))
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get::<i64, _>(0);
    assert_eq!(phrase, 0);
    // Compares every index entry with orders.search_text (rank 1: against the content table).
    sqlx::query("INSERT INTO orders_fts (orders_fts, rank) VALUES ('integrity-check', 1)")
        .execute(&mut *conn)
        .await
        .unwrap();
    let secure: String =
        sqlx::query("SELECT CAST(v AS TEXT) FROM orders_fts_config WHERE k = 'secure-delete'")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .get(0);
    assert_eq!(secure, "1");
}

/// Every text column of every table, as (table, column), read from SQLite's own catalog.
async fn text_columns(app: &TestApp) -> Vec<(String, String)> {
    use sqlx::Row;
    let tables: Vec<String> = sqlx::query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'")
        .fetch_all(app.db.pool()).await.unwrap().iter().map(|r| r.get(0)).collect();
    let mut columns = Vec::new();
    for table in tables {
        let sql = format!("SELECT name FROM pragma_table_info('{table}')");
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(app.db.pool())
            .await
            .unwrap()
        {
            columns.push((table.clone(), row.get::<String, _>(0)));
        }
    }
    columns
}

/// After the purge, not one contact address, phone, name, IP range, client id, token digest
/// or private link of the order is anywhere in the database: every column of every table is
/// searched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_order_leaves_no_personal_datum_in_any_table() {
    const KID: &str = "mp-test-key-1";
    let jwks =
        JwksServer::start(serde_json::json!({ "keys": [jwk(maskinporten_key(), KID)] })).await;
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("RRH_MASKINPORTEN_TEST_JWKS_URL", jwks.url.as_str())],
    )
    .await;
    let mut body = valid_json();
    body["vendor_contact_name"] = "Ola Leverandørsen".into();
    body["consumer_contact_name"] = "Kari Kundesen".into();
    body["maskinporten_client_id"] = "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b".into();
    let reference = app.order(&body).await;
    let (vendor, consumer) = track_links(&app, &reference).await;
    let kari = app.logged_in("kari@brreg.no", "case-handler").await;
    kari.act(&reference, "start_tt02_loading", &[]).await;
    kari.act(
        &reference,
        "mark_tt02_loaded",
        &[("tt02_identity", "01818610099")],
    )
    .await;
    assert_eq!(
        post_contact_step(&app, &consumer, "delegation", &[])
            .await
            .status(),
        303
    );
    let token = sign_token(maskinporten_key(), KID, &delegated_claims());
    assert_eq!(
        post_contact_step(&app, &vendor, "token", &[("access_token", token.as_str())])
            .await
            .status(),
        200
    );
    // A resend: an email about no order, to the vendor's contact.
    let browser = app.browser();
    let (_, page) = browser.get_html("/track").await;
    let csrf = attr(&page, "input[name=csrf_token]", "value");
    browser
        .post(
            "/track",
            &[
                ("csrf_token", csrf.as_str()),
                ("contact_email", "ola@leverandor.no"),
            ],
        )
        .await;
    kari.act(&reference, "complete", &[]).await;
    app.mail_settled().await;
    use sqlx::Row;
    let digest: String =
        sqlx::query("SELECT details FROM order_events WHERE to_status = 'token_verified'")
            .fetch_one(app.db.pool())
            .await
            .unwrap()
            .get(0);
    let digest = serde_json::from_str::<serde_json::Value>(&digest).unwrap()["jti_sha256"]
        .as_str()
        .unwrap()
        .to_owned();

    let purged = rrh_tt02::app::purge::personal_data(
        &app.context,
        chrono::Utc::now() + chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(purged, 1);

    let personal = [
        "ola@leverandor.no",
        "kari@kunde.no",
        "+4791234567",
        "91234567",
        "Ola Leverandørsen",
        "Kari Kundesen",
        "1.1.1.0/24",
        "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b",
        "01818610099",
        &digest,
        vendor.trim_start_matches("/track/"),
        consumer.trim_start_matches("/track/"),
    ];
    let mut found = Vec::new();
    for (table, column) in text_columns(&app).await {
        for value in personal {
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE $1");
            let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(format!("%{value}%"))
                .fetch_one(app.db.pool())
                .await
                .unwrap()
                .get(0);
            if n > 0 {
                found.push(format!("{table}.{column}: {value}"));
            }
        }
    }
    assert!(found.is_empty(), "left behind:\n{}", found.join("\n"));
    // The skeleton stays, for the statistics.
    assert_eq!(
        app.order_column(&reference, "status").await.as_deref(),
        Some("completed")
    );
    assert_eq!(
        app.order_column(&reference, "vendor_org_number")
            .await
            .as_deref(),
        Some("974760673")
    );
}
