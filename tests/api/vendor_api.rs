//! The contacts' API (`/api/v1/orders/{reference}` with the private link token as a bearer
//! token) and the vendor's request collections, over HTTP on both databases.

use std::collections::HashMap;

use rrh_tt02::maskinporten;

use crate::helpers::*;
use crate::on_both_databases;

const KID: &str = "mp-test-key-1";

/// The link token in a private link's path.
fn token_of(link: &str) -> &str {
    link.trim_start_matches("/track/")
}

async fn api_get(app: &TestApp, reference: &str, auth: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&format!("/api/v1/orders/{reference}")));
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    request.send().await.unwrap()
}

async fn token_check(
    app: &TestApp,
    reference: &str,
    link_token: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/orders/{reference}/token-check")))
        .bearer_auth(link_token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// A test order moved to `delegated` the way its people do it; returns its reference and
/// the (vendor, consumer) links.
async fn delegated_order(app: &TestApp, browser: &Browser) -> (String, String, String) {
    let reference = app.order(&valid_json()).await;
    let (vendor, consumer) = track_links(app, &reference).await;
    browser.act(&reference, "start_tt02_loading", &[]).await;
    let identity = [("tt02_identity", "01818610099")];
    browser.act(&reference, "mark_tt02_loaded", &identity).await;
    let confirmed = post_contact_step(app, &consumer, "delegation", &[]).await;
    assert_eq!(confirmed.status(), 303);
    (reference, vendor, consumer)
}

fn with_claim(name: &str, value: serde_json::Value) -> serde_json::Value {
    let mut claims = delegated_claims();
    if value.is_null() {
        claims.as_object_mut().unwrap().remove(name);
    } else {
        claims[name] = value;
    }
    claims
}

/// The checks that failed in a report from the API.
fn failed_checks(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_reads_its_order_with_its_link_token_and_every_other_token_gets_one_401() {
    on_both_with(&[("RRH_LINK_DAYS_AFTER_CLOSE", "0")], |app| async move {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;

        let response = api_get(
            &app,
            &reference,
            Some(&format!("Bearer {}", token_of(&vendor))),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let order: serde_json::Value = response.json().await.unwrap();
        assert_eq!(order["reference"], reference.as_str());
        assert_eq!(order["status"], "received");
        assert_eq!(order["status_label"], "Mottatt");
        assert_eq!(order["environment"], "test");
        assert_eq!(order["scope"], "brreg:reelle/offentlig");
        assert_eq!(order["role"], "vendor");
        assert_eq!(order["consumer"]["org_number"], "313876144");
        let states: Vec<(&str, &str)> = order["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["status"].as_str().unwrap(), s["state"].as_str().unwrap()))
            .collect();
        assert_eq!(
            states,
            [
                ("received", "current"),
                ("tt02_loading", "to_come"),
                ("tt02_loaded", "to_come"),
                ("delegated", "to_come"),
                ("token_verified", "to_come"),
                ("completed", "to_come"),
            ]
        );
        assert_eq!(order["turn"]["who"], "registry");
        assert_eq!(order["turn"]["yours"], false);
        assert_eq!(order["can_check_token"], false);
        assert_eq!(order["timeline"].as_array().unwrap().len(), 1);

        // Further on, the consumer reads the same order, in English, without the TT02 identity
        // its page shows.
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        browser.act(&reference, "start_tt02_loading", &[]).await;
        browser
            .act(
                &reference,
                "mark_tt02_loaded",
                &[("tt02_identity", "01818610099")],
            )
            .await;
        let response = app
            .client
            .get(app.url(&format!("/api/v1/orders/{}", reference.to_lowercase())))
            .bearer_auth(token_of(&consumer))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let answer = response.text().await.unwrap();
        assert!(!answer.contains("01818610099"), "{answer}");
        let order: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(order["role"], "consumer");
        assert_eq!(order["status"], "tt02_loaded");
        assert_eq!(order["status_label"], "Loaded into TT02");
        assert_eq!(order["turn"]["who"], "consumer");
        assert_eq!(order["turn"]["yours"], true);
        let reached: Vec<&str> = order["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["status"].as_str())
            .collect();
        assert_eq!(reached, ["tt02_loading", "tt02_loaded"]);

        // Another order with its own links, and a third that ended (its links have expired).
        let mut other = valid_json();
        other["consumer_org_number"] = org_number(9).into();
        let other_reference = app.order(&other).await;
        let (other_vendor, _) = track_links(&app, &other_reference).await;
        let mut ended = valid_json();
        ended["consumer_org_number"] = org_number(11).into();
        let ended_reference = app.order(&ended).await;
        let (ended_vendor, _) = track_links(&app, &ended_reference).await;
        let withdrawn = post_contact_step(
            &app,
            &ended_vendor,
            "withdrawal",
            &[("withdraw_reason", "Ikke aktuelt.")],
        )
        .await;
        assert_eq!(withdrawn.status(), 303);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;

        let unknown = format!("Bearer {}", "ab".repeat(32));
        let vendor_token = token_of(&vendor);
        let cases: Vec<(&str, &str, Option<String>)> = vec![
            ("missing", reference.as_str(), None),
            (
                "another scheme",
                reference.as_str(),
                Some(format!("Basic {vendor_token}")),
            ),
            ("no token", reference.as_str(), Some("Bearer".into())),
            (
                "malformed",
                reference.as_str(),
                Some("Bearer not-a-token".into()),
            ),
            ("unknown", reference.as_str(), Some(unknown.clone())),
            (
                "expired",
                ended_reference.as_str(),
                Some(format!("Bearer {}", token_of(&ended_vendor))),
            ),
            (
                "another order's",
                reference.as_str(),
                Some(format!("Bearer {}", token_of(&other_vendor))),
            ),
            (
                "a reference that does not exist",
                "RRH-ZZZZ-ZZZZ",
                Some(format!("Bearer {vendor_token}")),
            ),
        ];
        let mut bodies = Vec::new();
        for (case, reference, auth) in cases {
            for post in [false, true] {
                let response = if post {
                    let mut request = app
                        .client
                        .post(app.url(&format!("/api/v1/orders/{reference}/token-check")))
                        .json(&serde_json::json!({"access_token": "x.y.z"}));
                    if let Some(auth) = &auth {
                        request = request.header("authorization", auth);
                    }
                    request.send().await.unwrap()
                } else {
                    api_get(&app, reference, auth.as_deref()).await
                };
                assert_eq!(response.status(), 401, "{case}");
                assert_eq!(response.headers()["www-authenticate"], "Bearer", "{case}");
                let mut body: serde_json::Value = response.json().await.unwrap();
                assert!(body["request_id"].is_string(), "{case}");
                body.as_object_mut().unwrap().remove("request_id");
                bodies.push((case, body));
            }
        }
        let (_, first) = &bodies[0];
        assert_eq!(first["error"], "unauthorized");
        assert!(
            first["message"]
                .as_str()
                .unwrap()
                .contains("Authorization: Bearer")
        );
        for (case, body) in &bodies {
            assert_eq!(body, first, "{case} is answered like every other bad token");
        }
        // The 401s changed nothing.
        assert_eq!(
            app.order_column(&reference, "status").await.as_deref(),
            Some("tt02_loaded")
        );
    })
    .await;
}

/// Walks the token check through the API on one database: refusals, the held-out kinds of
/// bad tokens, then a good one.
async fn api_token_walk(app: TestApp) {
    let reference = app.order(&valid_json()).await;
    let (vendor, _) = track_links(&app, &reference).await;
    let vendor_token = token_of(&vendor).to_owned();
    let body = |token: &str| serde_json::json!({ "access_token": token });
    let good = sign_token(maskinporten_key(), KID, &delegated_claims());

    // Not at the step where the page offers the check: 409 with the status, nothing checked.
    let response = token_check(&app, &reference, &vendor_token, &body(&good)).await;
    assert_eq!(response.status(), 409);
    let refused: serde_json::Value = response.json().await.unwrap();
    assert_eq!(refused["error"], "not_possible_now");
    assert_eq!(refused["status"], "received");
    assert!(refused["message"].as_str().unwrap().contains("Mottatt"));
    assert_eq!(app.events(&reference, "token_checked").await, 0);
    // Two open orders for one pair are refused, so the walk goes on with a fresh pair.
    let browser = app.logged_in("kari@brreg.no", "case-handler").await;
    browser
        .act(&reference, "reject", &[("reason", "Feil kunde.")])
        .await;

    let (reference, vendor, consumer) = delegated_order(&app, &browser).await;
    let vendor_token = token_of(&vendor).to_owned();
    // The consumer's token cannot check, whatever it sends.
    let response = token_check(&app, &reference, token_of(&consumer), &body(&good)).await;
    assert_eq!(response.status(), 403);
    let refused: serde_json::Value = response.json().await.unwrap();
    assert_eq!(refused["error"], "forbidden");

    // Bodies that are not a token check.
    let url = app.url(&format!("/api/v1/orders/{reference}/token-check"));
    let response = app
        .client
        .post(&url)
        .bearer_auth(&vendor_token)
        .form(&[("access_token", good.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = app
        .client
        .post(&url)
        .bearer_auth(&vendor_token)
        .header("content-type", "application/json")
        .body(format!("{{\"access_token\": \"{good}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer = response.text().await.unwrap();
    assert!(answer.contains("malformed_json"));
    assert!(
        !answer.contains(&good[..40]),
        "the body is never quoted back"
    );
    for (sent, status, field, code) in [
        (serde_json::json!([good]), 422, None, "not_an_object"),
        (
            serde_json::json!({"access_token": 42}),
            422,
            Some("access_token"),
            "wrong_type",
        ),
        (
            serde_json::json!({"access_token": good, "token": "x"}),
            422,
            Some("token"),
            "unknown_field",
        ),
        (
            serde_json::json!({"access_token": "  "}),
            422,
            Some("access_token"),
            "required",
        ),
        (serde_json::json!({}), 422, Some("access_token"), "required"),
    ] {
        let response = token_check(&app, &reference, &vendor_token, &sent).await;
        assert_eq!(response.status(), status, "{sent}");
        let answer: serde_json::Value = response.json().await.unwrap();
        match field {
            Some(field) => {
                assert_eq!(answer["error"], "validation_failed", "{sent}");
                assert_eq!(answer["errors"][field]["code"], code, "{sent}");
                assert!(answer["errors"][field]["message"].is_string());
            }
            None => assert_eq!(answer["error"], code),
        }
    }

    // The held-out kinds of bad tokens of the page's tests: each 422, with every check listed
    // and the failing one named.
    use base64::Engine;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let none = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "kid": KID})),
        b64(&delegated_claims())
    );
    let other_key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(&with_claim(
            "consumer",
            serde_json::json!({"ID": "0192:999999999"})
        )),
        parts[2]
    );
    let past = chrono::Utc::now().timestamp() - 600;
    let wrong_customer =
        serde_json::json!({"authority": "iso6523-actorid-upis", "ID": "0192:974760673"});
    let bad: Vec<(&str, String)> = vec![
        ("format", "not a token".into()),
        ("algorithm", none),
        (
            "signature",
            sign_token(&other_key, KID, &delegated_claims()),
        ),
        ("signature", tampered),
        (
            "key",
            sign_token(&other_key, "made-up-kid", &delegated_claims()),
        ),
        (
            "expiry",
            sign_token(maskinporten_key(), KID, &with_claim("exp", past.into())),
        ),
        (
            "consumer",
            sign_token(
                maskinporten_key(),
                KID,
                &with_claim("consumer", wrong_customer.clone()),
            ),
        ),
        (
            "delegation_source",
            sign_token(
                maskinporten_key(),
                KID,
                &with_claim("delegation_source", "https://www.altinn.no/".into()),
            ),
        ),
    ];
    let count = bad.len() as i64;
    for (failing, token) in &bad {
        let response = token_check(&app, &reference, &vendor_token, &body(token)).await;
        assert_eq!(response.status(), 422, "{failing}");
        let answer = response.text().await.unwrap();
        assert!(
            !answer.contains(token.as_str()),
            "the token is not sent back"
        );
        let report: serde_json::Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(report["error"], "token_check_failed");
        assert_eq!(report["passed"], false);
        assert_eq!(report["status"], "delegated");
        assert_eq!(
            report["checks"].as_array().unwrap().len(),
            maskinporten::CHECKS.len()
        );
        assert_eq!(failed_checks(&report), [*failing], "{report:#}");
        let check = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == *failing)
            .unwrap();
        assert!(
            check["fix"].as_str().is_some_and(|f| !f.is_empty()),
            "{check}"
        );
    }
    // The fix says what to put in the grant, in the language asked for.
    let wrong = sign_token(
        maskinporten_key(),
        KID,
        &with_claim("consumer", wrong_customer),
    );
    let response = app
        .client
        .post(app.url(&format!("/api/v1/orders/{reference}/token-check?lang=nn")))
        .bearer_auth(&vendor_token)
        .json(&body(&wrong))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!(report["message"], "Tokenet bestod ikkje alle sjekkane");
    let consumer_check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "consumer")
        .unwrap();
    assert!(
        consumer_check["fix"]
            .as_str()
            .unwrap()
            .contains("consumer_org = \"313876144\"")
    );

    // Each failure is an event for the registry, as on the page, and without the token.
    assert_eq!(app.events(&reference, "token_checked").await, count + 1);
    let page = post_contact_step(&app, &vendor, "token", &[("access_token", wrong.as_str())]).await;
    assert_eq!(page.status(), 422);
    assert_eq!(app.events(&reference, "token_checked").await, count + 2);
    use sqlx::Row;
    let rows = sqlx::query("SELECT details FROM order_events WHERE kind = 'token_checked'")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    let signature = wrong.rsplit('.').next().unwrap();
    for row in rows {
        let details: String = row.get(0);
        assert!(!details.contains(&signature[..20]), "{details}");
        assert!(
            !details.contains("jti-ABCDEF-123456"),
            "only the jti's hash: {details}"
        );
    }
    let last: String = sqlx::query("SELECT e.details FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.reference = $1 AND e.kind = 'token_checked' ORDER BY e.occurred_at DESC, e.id DESC")
        .bind(&reference)
        .fetch_all(app.db.pool())
        .await
        .unwrap()[0]
        .get(0);
    let last: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["failed"], serde_json::json!(["consumer"]));
    assert_eq!(
        last["token"]["client_id"],
        "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b"
    );
    // The case handler sees them on the order's timeline.
    let (_, case) = browser
        .get_html(&format!("/admin/orders/{reference}"))
        .await;
    assert!(
        text(&case, "body").contains("Leverandørens token besto ikke; feilet: På vegne av kunden")
    );
    assert_eq!(
        app.order_column(&reference, "status").await.as_deref(),
        Some("delegated")
    );

    // A good token: 200, every check passed, and the order moves as on the page.
    // A script's client (no cookie from the `?lang=nn` call above) in English by its header.
    let before = app.mail_settled().await;
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/orders/{reference}/token-check")))
        .bearer_auth(&vendor_token)
        .header("accept-language", "en-GB,en;q=0.9")
        .json(&body(&format!("Bearer {good}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!(report["passed"], true);
    assert!(report.get("error").is_none());
    assert_eq!(report["message"], "Every check passed");
    assert_eq!(report["status"], "token_verified");
    assert!(failed_checks(&report).is_empty());
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["outcome"] == "passed" && c["fix"].is_null())
    );
    assert_eq!(
        app.order_column(&reference, "status").await.as_deref(),
        Some("token_verified")
    );
    // Both contacts are told, as when the vendor checks on its page.
    let mails = app.smtp.wait_for(before + 2).await;
    let mut to: Vec<&str> = mails[before..]
        .iter()
        .map(|m| m.rcpt_to[0].as_str())
        .collect();
    to.sort();
    assert_eq!(to, ["kari@kunde.no", "ola@leverandor.no"]);
    let details: String = sqlx::query("SELECT e.details FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.reference = $1 AND e.to_status = 'token_verified'")
        .bind(&reference)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
        .get(0);
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["jti_sha256"].as_str().unwrap().len(), 64);
    // A second check finds the order past that step.
    let response = token_check(&app, &reference, &vendor_token, &body(&good)).await;
    assert_eq!(response.status(), 409);
    let refused: serde_json::Value = response.json().await.unwrap();
    assert_eq!(refused["status"], "token_verified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_checks_its_token_through_the_api_as_on_its_page() {
    let server =
        JwksServer::start(serde_json::json!({ "keys": [jwk(maskinporten_key(), KID)] })).await;
    // The walk makes more checks than a minute's default allowance; that has its own test.
    let overrides = [
        ("RRH_MASKINPORTEN_TEST_JWKS_URL", server.url.as_str()),
        ("RRH_API_TOKEN_CHECKS_PER_MINUTE", "100"),
    ];
    on_both_with(&overrides, api_token_walk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_maskinporten_s_keys_cannot_be_fetched_the_api_answers_503_and_blames_nothing_on_the_token()
 {
    let overrides = [
        ("RRH_MASKINPORTEN_PROD_JWKS_URL", "http://127.0.0.1:9/jwk"),
        ("RRH_MASKINPORTEN_TIMEOUT_MS", "1000"),
    ];
    on_both_with(&overrides, |app| async move {
        let reference = app.order(&production_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        assert_eq!(
            post_contact_step(&app, &consumer, "delegation", &[])
                .await
                .status(),
            303
        );
        let mut claims = delegated_claims();
        claims["iss"] = "https://maskinporten.no/".into();
        let token = sign_token(maskinporten_key(), KID, &claims);
        let response = token_check(
            &app,
            &reference,
            token_of(&vendor),
            &serde_json::json!({"access_token": token}),
        )
        .await;
        assert_eq!(response.status(), 503);
        let report: serde_json::Value = response.json().await.unwrap();
        assert_eq!(report["error"], "maskinporten_unavailable");
        assert!(failed_checks(&report).is_empty(), "{report:#}");
        assert_eq!(
            app.events(&reference, "token_checked").await,
            0,
            "our outage is not the vendor's failure"
        );
        assert_eq!(
            app.order_column(&reference, "status").await.as_deref(),
            Some("delegated")
        );
    })
    .await;
}

on_both_databases! {
    async fn each_link_token_has_its_own_allowance_of_calls_a_minute(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        // Ten checks a minute (here refused as too early, which counts all the same).
        let check = serde_json::json!({"access_token": "x.y.z"});
        for _ in 0..10 {
            let response = token_check(&app, &reference, token_of(&vendor), &check).await;
            assert_eq!(response.status(), 409);
        }
        let response = token_check(&app, &reference, token_of(&vendor), &check).await;
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()["retry-after"], "60");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "rate_limited");
        assert!(body["message"].as_str().unwrap().contains("1 minutt"));
        // Reading has its own allowance: sixty a minute.
        let vendor_auth = format!("Bearer {}", token_of(&vendor));
        for _ in 0..60 {
            assert_eq!(api_get(&app, &reference, Some(&vendor_auth)).await.status(), 200);
        }
        assert_eq!(api_get(&app, &reference, Some(&vendor_auth)).await.status(), 429);
        // The other contact's token is not held back by the vendor's calls.
        let consumer_auth = format!("Bearer {}", token_of(&consumer));
        assert_eq!(api_get(&app, &reference, Some(&consumer_auth)).await.status(), 200);
        // Nothing in the table names the token.
        use sqlx::Row;
        let keys: Vec<String> = sqlx::query("SELECT key FROM rate_limits").fetch_all(app.db.pool()).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert!(keys.iter().all(|k| !k.contains(token_of(&vendor))));
    }
}

/// The variables (`@name = value`) and requests of an `.http` file, as the REST clients of
/// VS Code and JetBrains read it: requests separated by `###`, `#` comments, the request
/// line, headers up to a blank line, then the body.
struct HttpFile {
    variables: HashMap<String, String>,
    requests: Vec<HttpRequest>,
}

#[derive(Debug)]
struct HttpRequest {
    title: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn parse_http_file(text: &str) -> HttpFile {
    let mut chunks = text.split("\n###");
    let preamble = chunks.next().unwrap();
    let variables = preamble
        .lines()
        .filter_map(|line| line.strip_prefix('@'))
        .map(|line| {
            let (name, value) = line.split_once('=').expect("a variable is `@name = value`");
            (name.trim().to_owned(), value.trim().to_owned())
        })
        .collect();
    let requests = chunks
        .map(|chunk| {
            let mut lines = chunk.lines();
            let title = lines.next().unwrap().trim().to_owned();
            let mut lines = lines.skip_while(|l| l.trim().is_empty() || l.starts_with('#'));
            let request_line = lines.next().expect("a request line");
            let (method, url) = request_line.split_once(' ').expect("METHOD URL");
            assert!(["GET", "POST"].contains(&method), "{request_line}");
            assert!(!url.trim().contains(' '), "{request_line}");
            let mut headers = Vec::new();
            for line in lines.by_ref() {
                if line.trim().is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').expect("a header is `Name: value`");
                assert!(!name.is_empty() && !name.contains(' '), "{line}");
                headers.push((name.to_owned(), value.trim().to_owned()));
            }
            let body = lines.collect::<Vec<_>>().join("\n").trim().to_owned();
            HttpRequest {
                title,
                method: method.to_owned(),
                url: url.trim().to_owned(),
                headers,
                body,
            }
        })
        .collect();
    HttpFile {
        variables,
        requests,
    }
}

/// `text` with every `{{name}}` replaced from `variables`; a name they lack fails the test.
fn resolve(text: &str, variables: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("a closed {{variable}}") + start;
        let name = &rest[start + 2..end];
        out.push_str(
            variables
                .get(name)
                .unwrap_or_else(|| panic!("{{{{{name}}}}} is not defined")),
        );
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

on_both_databases! {
    async fn the_vendor_s_page_offers_request_collections_made_for_its_order(app) {
        let mut body = valid_json();
        body["maskinporten_client_id"] = "11111111-2222-3333-4444-555555555555".into();
        let reference = app.order(&body).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        let link_token = token_of(&vendor);

        let (_, page) = app.get_html(&format!("{vendor}?lang=en")).await;
        let hrefs: Vec<String> = select(&page, "#collection a").iter().map(|a| a.value().attr("href").unwrap().to_owned()).collect();
        assert_eq!(hrefs, [format!("{vendor}/collection.http"), format!("{vendor}/collection.postman.json")]);
        assert!(text(&page, "#collection-secret").contains("The only secret in the files is your own private link token"));
        let (_, consumer_page) = app.get_html(&consumer).await;
        assert!(select(&consumer_page, "#collection").is_empty());

        // The .http file: well-formed requests, every variable defined, the order's facts.
        let response = app.get(&hrefs[0]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["content-disposition"], format!("attachment; filename=\"{reference}.http\"").as_str());
        let file = response.text().await.unwrap();
        assert!(!file.contains("ola@leverandor.no") && !file.contains("+47"), "no personal data");
        let http = parse_http_file(&file);
        assert_eq!(http.variables["link_token"], link_token);
        assert_eq!(http.variables["reference"], reference);
        assert_eq!(http.requests.len(), 3, "{:?}", http.requests);
        // Each is named in the client's list of requests.
        assert!(http.requests.iter().all(|r| r.title.len() > 3), "{:?}", http.requests);
        let claims = ["\"aud\": \"https://test.maskinporten.no/\"", "\"scope\": \"brreg:reelle/offentlig\"", "\"consumer_org\": \"313876144\"", "\"iss\": \"11111111-2222-3333-4444-555555555555\"", "\"jti\": \"<new uuid>\""];
        for claim in claims {
            assert!(file.lines().any(|l| l.starts_with('#') && l.contains(claim)), "{claim} in\n{file}");
        }
        let grant = &http.requests[0];
        assert_eq!((grant.method.as_str(), grant.url.as_str()), ("POST", "https://test.maskinporten.no/token"));
        assert!(grant.headers.iter().all(|(name, _)| name != "Authorization"), "never the link token to Maskinporten");
        assert_eq!(grant.body, "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion={{grant}}");
        let check = &http.requests[2];
        assert_eq!(check.url, "{{base_url}}/api/v1/orders/{{reference}}/token-check");
        assert!(check.headers.contains(&("Authorization".into(), "Bearer {{link_token}}".into())));
        let sent: serde_json::Value = serde_json::from_str(&resolve(&check.body, &http.variables)).unwrap();
        assert!(sent["access_token"].is_string());
        // Its order request works against this service as written.
        let mut variables = http.variables.clone();
        variables.insert("base_url".into(), app.address.clone());
        let read = &http.requests[1];
        let mut request = app.client.get(resolve(&read.url, &variables));
        for (name, value) in &read.headers {
            request = request.header(name.as_str(), resolve(value, &variables));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        let order: serde_json::Value = response.json().await.unwrap();
        assert_eq!(order["reference"], reference.as_str());

        // The Postman collection: v2.1, the same requests, the link token in a variable.
        let response = app.get(&hrefs[1]).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        assert_eq!(response.headers()["content-disposition"], format!("attachment; filename=\"{reference}.postman_collection.json\"").as_str());
        let collection: serde_json::Value = response.json().await.unwrap();
        assert_eq!(collection["info"]["schema"], "https://schema.getpostman.com/json/collection/v2.1.0/collection.json");
        assert!(collection["info"]["name"].as_str().unwrap().contains(&reference));
        let variables: HashMap<String, String> = collection["variable"].as_array().unwrap().iter().map(|v| (v["key"].as_str().unwrap().to_owned(), v["value"].as_str().unwrap().to_owned())).collect();
        assert_eq!(variables["link_token"], link_token);
        assert_eq!(variables["reference"], reference);
        let grant_help = collection["variable"].as_array().unwrap().iter().find(|v| v["key"] == "grant").unwrap()["description"].as_str().unwrap().to_owned();
        for claim in claims {
            assert!(grant_help.contains(claim), "{claim} in {grant_help}");
        }
        let items = collection["item"].as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["request"]["url"], "https://test.maskinporten.no/token");
        assert_eq!(items[0]["request"]["auth"]["type"], "noauth");
        let form: Vec<(&str, &str)> = items[0]["request"]["body"]["urlencoded"].as_array().unwrap().iter().map(|p| (p["key"].as_str().unwrap(), p["value"].as_str().unwrap())).collect();
        assert_eq!(form, [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", "{{grant}}")]);
        for (item, method, url) in [(&items[1], "GET", "{{base_url}}/api/v1/orders/{{reference}}"), (&items[2], "POST", "{{base_url}}/api/v1/orders/{{reference}}/token-check")] {
            assert_eq!(item["request"]["method"], method);
            assert_eq!(item["request"]["url"]["raw"], url);
            assert_eq!(item["request"]["auth"]["type"], "bearer");
            assert_eq!(item["request"]["auth"]["bearer"][0]["value"], "{{link_token}}");
        }
        let raw = items[2]["request"]["body"]["raw"].as_str().unwrap();
        assert!(serde_json::from_str::<serde_json::Value>(raw).unwrap()["access_token"].is_string());

        // Only the vendor's link has them; an unknown link has nothing.
        assert_eq!(app.get(&format!("{consumer}/collection.http")).await.status(), 403);
        assert_eq!(app.get(&format!("{consumer}/collection.postman.json")).await.status(), 403);
        assert_eq!(app.get(&format!("/track/{}/collection.http", "ab".repeat(32))).await.status(), 404);
    }
}
