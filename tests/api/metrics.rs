//! `GET /metrics` and `/health/ready` as an operator's tools read them.

use std::collections::{BTreeMap, BTreeSet};

use crate::helpers::*;
use crate::on_both_databases;

/// Parses the text format strictly enough to catch a malformed line: every line is a
/// `# HELP`, a `# TYPE` or a sample of a declared family with a number for its value.
/// Returns each sample (name and labels, as written) with its value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    let mut typed = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut samples = BTreeMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has a text");
            assert!(!help.is_empty(), "{line}");
            helped.insert(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a kind");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.insert(name.to_owned(), kind.to_owned());
        } else {
            assert!(!line.starts_with('#'), "{line}");
            let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
            };
            let name = series.split('{').next().unwrap();
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            let labels = &series[name.len()..];
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix)
                        .filter(|base| typed.get(*base).is_some_and(|k| k == "histogram"))
                })
                .unwrap_or(name);
            assert!(typed.contains_key(family), "no TYPE before {line}");
            assert!(helped.contains(family), "no HELP before {line}");
            samples.insert(series.to_owned(), value);
        }
    }
    samples
}

async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    parse(&response.text().await.unwrap())
}

on_both_databases! {
    async fn metrics_count_orders_the_outbox_and_deliveries(app) {
        let before = scrape(&app).await;
        assert_eq!(before["rrh_orders_created_total"], 0.0);
        assert_eq!(before["rrh_orders{status=\"received\"}"], 0.0);
        assert_eq!(before["rrh_mail_delivery_total{result=\"sent\"}"], 0.0);
        assert_eq!(before["rrh_mail_oldest_pending_seconds"], 0.0);
        assert!(!before.contains_key("rrh_orders{status=\"completed\"}"), "open orders only");

        app.order(&valid_json()).await;
        app.mail_settled().await;
        let mut after = scrape(&app).await;
        // The last message is recorded as sent just after the SMTP server has it.
        for _ in 0..100 {
            if after["rrh_mail_delivery_total{result=\"sent\"}"] == 3.0
                && after["rrh_outbox_messages{status=\"sent\"}"] == 3.0
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            after = scrape(&app).await;
        }
        assert_eq!(after["rrh_orders_created_total"], 1.0);
        assert_eq!(after["rrh_orders{status=\"received\"}"], 1.0);
        assert_eq!(after["rrh_outbox_messages{status=\"sent\"}"], 3.0);
        assert_eq!(after["rrh_outbox_messages{status=\"failed\"}"], 0.0);
        assert_eq!(after["rrh_mail_delivery_total{result=\"sent\"}"], 3.0);
        assert_eq!(after["rrh_mail_delivery_total{result=\"temporary_failure\"}"], 0.0);
        // The API call, by its route pattern.
        let created = "rrh_http_request_duration_seconds_count{route=\"/api/v1/orders\",status=\"2xx\"}";
        assert_eq!(after[created], 1.0, "{after:#?}");
        assert_eq!(
            after["rrh_http_request_duration_seconds_bucket{route=\"/api/v1/orders\",status=\"2xx\",le=\"+Inf\"}"],
            1.0
        );
        app.get("/orders/RRH-AAAA-BBBB/receipt").await;
        let later = scrape(&app).await;
        assert_eq!(
            later["rrh_http_request_duration_seconds_count{route=\"/orders/{reference}/receipt\",status=\"4xx\"}"],
            1.0,
            "the pattern, never the reference"
        );
    }

    async fn ready_fails_when_the_database_is_gone(app) {
        assert_eq!(app.get("/health/ready").await.status(), 200);
        app.db.pool().close().await;
        let response = app.get("/health/ready").await;
        assert_eq!(response.status(), 503);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["database"], "unreachable");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_refused_to_addresses_not_allowed() {
    let app = spawn_app_with(Backend::Sqlite, &[("RRH_METRICS_ALLOW", "10.0.0.0/8")]).await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("not available"));

    // Behind a trusted proxy, the client it names is the one checked.
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("RRH_METRICS_ALLOW", "203.0.113.0/24"),
            ("RRH_TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    assert_eq!(
        app.get("/metrics").await.status(),
        403,
        "the proxy itself is not allowed"
    );
    let through = |client: &'static str| {
        app.client
            .get(app.url("/metrics"))
            .header("x-forwarded-for", client)
            .send()
    };
    assert_eq!(through("203.0.113.5").await.unwrap().status(), 200);
    assert_eq!(through("198.51.100.7").await.unwrap().status(), 403);
}
