//! The vendor's certificate and grant checks through `/api/v1`, with its link token as a
//! bearer token: the same checks and words as its page, as JSON.

use crate::helpers::*;
use crate::on_both_databases;
use crate::pki::*;

async fn post(
    app: &TestApp,
    reference: &str,
    check: &str,
    link: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/orders/{reference}/{check}-check")))
        .bearer_auth(link.trim_start_matches("/track/"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// (name, outcome) of each check in a report's `checks` (or `certificate`).
fn outcomes(report: &serde_json::Value, list: &str) -> Vec<(String, String)> {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn failed(report: &serde_json::Value) -> Vec<String> {
    outcomes(report, "checks")
        .into_iter()
        .filter(|(_, outcome)| outcome == "failed")
        .map(|(name, _)| name)
        .collect()
}

on_both_databases! {
    async fn the_vendor_checks_its_certificate_and_grant_through_the_api_as_on_its_page(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;

        // A right certificate: 200, every line as on the page, and only an event is kept.
        let pem = Leaf::default().pem();
        let (status, report) = post(&app, &reference, "certificate", &vendor, &serde_json::json!({ "certificate": pem })).await;
        assert_eq!(status, 200, "{report:#}");
        assert_eq!(report["passed"], true);
        assert!(report.get("error").is_none());
        assert_eq!(outcomes(&report, "checks").len(), 6);
        assert!(failed(&report).is_empty(), "{report:#}");
        assert!(!report.to_string().contains(&pem.lines().nth(3).unwrap().to_owned()), "the paste is not sent back");

        // Another organisation's certificate: 422, the organisation line failed with its fix.
        let other = Leaf { org_number: Some(CONSUMER.to_owned()), ..Leaf::default() }.pem();
        let (status, report) = post(&app, &reference, "certificate", &vendor, &serde_json::json!({ "certificate": other })).await;
        assert_eq!(status, 422);
        assert_eq!(report["error"], "check_failed");
        assert_eq!(failed(&report), ["organisation"]);
        let line = report["checks"].as_array().unwrap().iter().find(|c| c["name"] == "organisation").unwrap();
        assert!(line["fix"].as_str().unwrap().contains(VENDOR), "{line:#}");

        // A private key: refused unread, with the never-share message, and not echoed.
        let private = key(Key::Vendor).private_pem();
        let (status, report) = post(&app, &reference, "certificate", &vendor, &serde_json::json!({ "certificate": private })).await;
        assert_eq!(status, 422);
        assert_eq!(report["error"], "private_key_refused");
        assert!(report["checks"].as_array().unwrap().is_empty());
        assert!(!report.to_string().contains(&private.lines().nth(3).unwrap().to_owned()));

        // The grant: a right one passes, with its x5c certificate's checks; a wrong aud fails.
        let (status, report) = post(&app, &reference, "grant", &vendor, &serde_json::json!({ "grant": Grant::right().signed() })).await;
        assert_eq!(status, 200, "{report:#}");
        assert!(failed(&report).is_empty(), "{report:#}");
        assert_eq!(outcomes(&report, "certificate").len(), 6);
        let wrong = Grant::right().with("aud", "https://maskinporten.no/".into()).signed();
        let (status, report) = post(&app, &reference, "grant", &vendor, &serde_json::json!({ "grant": wrong })).await;
        assert_eq!(status, 422);
        assert_eq!(failed(&report), ["audience"]);

        // Bad bodies: empty paste, wrong type, unknown field, not an object.
        let (status, report) = post(&app, &reference, "grant", &vendor, &serde_json::json!({ "grant": "" })).await;
        assert_eq!((status, report["error"].as_str()), (422, Some("validation_failed")));
        assert_eq!(report["errors"]["grant"]["code"], "required");
        let (status, report) = post(&app, &reference, "certificate", &vendor, &serde_json::json!({ "certificate": 7, "x": 1 })).await;
        assert_eq!(status, 422);
        assert_eq!(report["errors"]["certificate"]["code"], "wrong_type");
        assert_eq!(report["errors"]["x"]["code"], "unknown_field");
        let (status, report) = post(&app, &reference, "grant", &vendor, &serde_json::json!(["x"])).await;
        assert_eq!((status, report["error"].as_str()), (422, Some("not_an_object")));
        assert!(report["message"].as_str().unwrap().contains("grant"));

        // The customer's token: 403; another order's or no token: 401.
        let (status, report) = post(&app, &reference, "certificate", &consumer, &serde_json::json!({ "certificate": pem })).await;
        assert_eq!((status, report["error"].as_str()), (403, Some("forbidden")));
        let (status, _) = post(&app, &reference, "grant", "/track/not-a-token", &serde_json::json!({ "grant": "x" })).await;
        assert_eq!(status, 401);

        // The case handler sees the runs as events; the certificate is in none of them.
        assert!(app.events(&reference, "certificate_checked").await >= 2);
        assert!(app.events(&reference, "grant_checked").await >= 2);
        use sqlx::Row;
        let kept: i64 = sqlx::query("SELECT COUNT(*) FROM order_events WHERE details LIKE $1")
            .bind(format!("%{}%", pem.lines().nth(3).unwrap()))
            .fetch_one(app.db.pool()).await.unwrap().get(0);
        assert_eq!(kept, 0);

        // An ended order: 409 with its status.
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        browser.act(&reference, "reject", &[("reason", "Feil scope.")]).await;
        let (status, report) = post(&app, &reference, "certificate", &vendor, &serde_json::json!({ "certificate": pem })).await;
        assert_eq!((status, report["status"].as_str()), (409, Some("rejected")));
    }
}
