//! The token check: tokens signed in the test with a key generated in the test, keys served
//! by a local JWKS server, through the library and through the vendor's page.

use std::sync::atomic::Ordering;
use std::time::Duration;

use rrh_tt02::domain::Environment;
use rrh_tt02::maskinporten::{self, Expected, Outcome, Report, jwks::JwksCache};

use crate::helpers::*;

const KID: &str = "mp-test-key-1";

fn expected() -> Expected {
    Expected {
        environment: Environment::Test,
        scope: "brreg:reelle/offentlig".into(),
        consumer_org: "313876144".into(),
        vendor_org: "974760673".into(),
        client_id: None,
    }
}

fn outcome(report: &Report, name: &str) -> Outcome {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap()
        .outcome
}

/// Asserts exactly `failed` failed, everything before it passed, and what follows was not
/// checked (when `stops`) or passed.
fn assert_only_failed(report: &Report, failed: &str, stops: bool) {
    let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        maskinporten::CHECKS,
        "every check is listed, in order"
    );
    let position = names.iter().position(|n| *n == failed).unwrap();
    for (i, check) in report.checks.iter().enumerate() {
        let want = if i < position {
            Outcome::Passed
        } else if i == position {
            Outcome::Failed
        } else if stops {
            Outcome::NotChecked
        } else {
            Outcome::Passed
        };
        assert_eq!(check.outcome, want, "{}: {report:#?}", check.name);
    }
    assert!(!report.passed());
}

async fn setup() -> (JwksServer, JwksCache) {
    let server =
        JwksServer::start(serde_json::json!({ "keys": [jwk(maskinporten_key(), KID)] })).await;
    let cache = JwksCache::new(
        server.url.clone(),
        server.url.clone(),
        Duration::from_secs(2),
    )
    .unwrap();
    (server, cache)
}

async fn check(cache: &JwksCache, token: &str) -> Report {
    maskinporten::check(token, &expected(), cache, chrono::Utc::now().timestamp()).await
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

#[tokio::test]
async fn a_good_delegated_token_passes_every_check_and_leaves_only_a_summary() {
    let (server, cache) = setup().await;
    let token = sign_token(maskinporten_key(), KID, &delegated_claims());
    let report = check(&cache, &format!("Bearer {token}")).await;
    assert!(report.passed(), "{report:#?}");
    let summary = report.summary.unwrap();
    assert_eq!(
        summary.client_id.as_deref(),
        Some("0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b")
    );
    assert_eq!(summary.scope.as_deref(), Some("brreg:reelle/offentlig"));
    assert_eq!(summary.jti_sha256.as_deref().map(str::len), Some(64));
    assert_ne!(summary.jti_sha256.as_deref(), Some("jti-ABCDEF-123456"));
    // The keys were fetched once and are kept.
    check(&cache, &token).await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn each_claim_that_does_not_fit_the_order_fails_its_own_check() {
    let (_server, cache) = setup().await;
    let past = chrono::Utc::now().timestamp() - 600;
    let cases = [
        (
            "issuer",
            with_claim("iss", "https://maskinporten.no/".into()),
        ),
        ("expiry", with_claim("exp", past.into())),
        (
            "scope",
            with_claim("scope", "brreg:reelle/rapporteringspliktig".into()),
        ),
        (
            "consumer",
            with_claim(
                "consumer",
                serde_json::json!({"authority": "iso6523-actorid-upis", "ID": "0192:974760673"}),
            ),
        ),
        (
            "supplier",
            with_claim(
                "supplier",
                serde_json::json!({"authority": "iso6523-actorid-upis", "ID": "0192:313876144"}),
            ),
        ),
        ("token_type", with_claim("token_type", "DPoP".into())),
        (
            "token_type",
            with_claim("token_type", serde_json::Value::Null),
        ),
        (
            "issued_at",
            with_claim("iat", (chrono::Utc::now().timestamp() + 600).into()),
        ),
        ("issued_at", with_claim("iat", serde_json::Value::Null)),
        (
            "consumer_authority",
            with_claim(
                "consumer",
                serde_json::json!({"authority": "iso6523", "ID": "0192:313876144"}),
            ),
        ),
        (
            "supplier_authority",
            with_claim("supplier", serde_json::json!({"ID": "0192:974760673"})),
        ),
        (
            "delegation_source",
            with_claim("delegation_source", "https://www.altinn.no/".into()),
        ),
    ];
    for (failing, claims) in cases {
        let report = check(&cache, &sign_token(maskinporten_key(), KID, &claims)).await;
        assert_only_failed(&report, failing, false);
    }
    // A scope list that includes the order's scope is fine.
    let report = check(
        &cache,
        &sign_token(
            maskinporten_key(),
            KID,
            &with_claim("scope", "other:scope brreg:reelle/offentlig".into()),
        ),
    )
    .await;
    assert!(report.passed());
    // Expired within the leeway is accepted.
    let report = check(
        &cache,
        &sign_token(
            maskinporten_key(),
            KID,
            &with_claim("exp", (chrono::Utc::now().timestamp() - 10).into()),
        ),
    )
    .await;
    assert_eq!(outcome(&report, "expiry"), Outcome::Passed);
    // A token issued a few seconds ahead of our clock is accepted (clocks differ a little).
    let report = check(
        &cache,
        &sign_token(
            maskinporten_key(),
            KID,
            &with_claim("iat", (chrono::Utc::now().timestamp() + 5).into()),
        ),
    )
    .await;
    assert_eq!(outcome(&report, "issued_at"), Outcome::Passed);
    // No supplier at all: a token fetched for the vendor itself, not delegated.
    let report = check(
        &cache,
        &sign_token(
            maskinporten_key(),
            KID,
            &with_claim("supplier", serde_json::Value::Null),
        ),
    )
    .await;
    assert_eq!(outcome(&report, "supplier"), Outcome::Failed);
    assert_eq!(outcome(&report, "supplier_authority"), Outcome::Failed);
}

#[tokio::test]
async fn a_token_from_another_client_than_the_order_names_fails_and_says_which() {
    let (_server, cache) = setup().await;
    let token = sign_token(maskinporten_key(), KID, &delegated_claims());
    let mut wanted = expected();
    wanted.client_id = Some("0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b".into());
    let now = chrono::Utc::now().timestamp();
    assert!(
        maskinporten::check(&token, &wanted, &cache, now)
            .await
            .passed()
    );
    wanted.client_id = Some("11111111-2222-3333-4444-555555555555".into());
    let report = maskinporten::check(&token, &wanted, &cache, now).await;
    assert_only_failed(&report, "client", false);
    let client = report.checks.iter().find(|c| c.name == "client").unwrap();
    assert_eq!(
        client.found.as_deref(),
        Some("0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b")
    );
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_refused_before_their_claims_are_believed() {
    use base64::Engine;
    let (_server, cache) = setup().await;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };

    for malformed in [
        "",
        "not a token",
        "a.b",
        "eyJhbGciOiJSUzI1NiJ9.x",
        "!!!.???.###",
    ] {
        assert_only_failed(&check(&cache, malformed).await, "format", true);
    }
    // alg none: no signature at all.
    let none = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "kid": KID})),
        b64(&delegated_claims())
    );
    assert_only_failed(&check(&cache, &none).await, "algorithm", true);
    // HS256 with the public key as the shared secret (the classic key-confusion attack).
    let public_pem = {
        use rsa::pkcs8::EncodePublicKey;
        maskinporten_key()
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(KID.into());
    let hs256 = jsonwebtoken::encode(
        &header,
        &delegated_claims(),
        &jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .unwrap();
    assert_only_failed(&check(&cache, &hs256).await, "algorithm", true);
    // Signed with another key under Maskinporten's key id.
    let other = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    assert_only_failed(
        &check(&cache, &sign_token(&other, KID, &delegated_claims())).await,
        "signature",
        true,
    );
    // A valid token with one claim changed after signing.
    let good = sign_token(maskinporten_key(), KID, &delegated_claims());
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
    assert_only_failed(&check(&cache, &tampered).await, "signature", true);
}

#[tokio::test]
async fn an_unknown_key_id_fetches_the_keys_again_but_not_at_every_request() {
    let (server, cache) = setup().await;
    let cache = cache.with_refetch_interval(Duration::ZERO);
    check(
        &cache,
        &sign_token(maskinporten_key(), KID, &delegated_claims()),
    )
    .await;
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
    // Maskinporten rotates: a token with a new kid makes us fetch, and then it verifies.
    let rotated = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    *server.keys.lock().unwrap() = serde_json::json!({ "keys": [jwk(maskinporten_key(), KID), jwk(&rotated, "mp-test-key-2")] });
    let report = check(
        &cache,
        &sign_token(&rotated, "mp-test-key-2", &delegated_claims()),
    )
    .await;
    assert!(report.passed(), "{report:#?}");
    assert_eq!(server.hits.load(Ordering::SeqCst), 2);
    // With the real interval, a made-up kid right after a fetch does not fetch again.
    let (server, cache) = setup().await;
    check(
        &cache,
        &sign_token(maskinporten_key(), KID, &delegated_claims()),
    )
    .await;
    for kid in ["made-up-1", "made-up-2", "made-up-3"] {
        let report = check(&cache, &sign_token(&rotated, kid, &delegated_claims())).await;
        assert_only_failed(&report, "key", true);
    }
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unreachable_jwks_fails_the_key_check_instead_of_hanging() {
    let cache = JwksCache::new(
        "http://127.0.0.1:9/jwk".into(),
        "http://127.0.0.1:9/jwk".into(),
        Duration::from_secs(1),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let report = check(
        &cache,
        &sign_token(maskinporten_key(), KID, &delegated_claims()),
    )
    .await;
    assert_only_failed(&report, "key", true);
    assert!(
        report.checks[2].keys_unavailable,
        "the page says the fault is ours, not the token's"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Runs the whole contact-driven walk on one database.
async fn contact_walk(app: TestApp) {
    let reference = app.order(&valid_json()).await;
    let (vendor, consumer) = track_links(&app, &reference).await;
    let browser = app.logged_in("kari@brreg.no", "case-handler").await;
    browser.act(&reference, "start_tt02_loading", &[]).await;
    browser
        .act(
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

    // The vendor's page shows the grant for this order.
    let (_, page) = app.get_html(&vendor).await;
    let claims: serde_json::Value = serde_json::from_str(&text(&page, "#grant-claims")).unwrap();
    assert_eq!(claims["aud"], "https://test.maskinporten.no/");
    assert_eq!(claims["consumer_org"], "313876144");
    assert_eq!(claims["scope"], "brreg:reelle/offentlig");
    assert_eq!(
        claims["iss"], "<client_id>",
        "no client_id was given with the order"
    );
    // Times and jti are placeholders the vendor fills at signing, not values that expire.
    assert_eq!(claims["iat"], "<now>");
    assert_eq!(claims["exp"], "<now + 120>");
    assert_eq!(claims["jti"], "<new uuid>");
    assert!(text(&page, "#grant-request").contains("https://test.maskinporten.no/token"));

    // The consumer's link cannot check a token.
    let (_, consumer_page) = app.get_html(&consumer).await;
    assert!(select(&consumer_page, "#token-check").is_empty());
    // A valid CSRF token (this browser's, from the vendor's page) does not make it possible.
    let token = attr(&page, "input[name=csrf_token]", "value");
    let refused = app
        .client
        .post(app.url(&format!("{consumer}/token")))
        .form(&[("csrf_token", token.as_str()), ("access_token", "x.y.z")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // A token for the wrong customer: every check shown, the failing one with its fix.
    let wrong = sign_token(
        maskinporten_key(),
        KID,
        &with_claim("consumer", serde_json::json!({"ID": "0192:974760673"})),
    );
    let response =
        post_contact_step(&app, &vendor, "token", &[("access_token", wrong.as_str())]).await;
    assert_eq!(response.status(), 422);
    let page = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        select(&page, "#token-report li").len(),
        maskinporten::CHECKS.len()
    );
    assert_eq!(
        attr(&page, "li[data-check=consumer]", "data-outcome"),
        "failed"
    );
    assert!(text(&page, "li[data-check=consumer]").contains("consumer_org = \"313876144\""));
    assert_eq!(
        attr(&page, "li[data-check=signature]", "data-outcome"),
        "passed"
    );
    assert!(!page.html().contains(&wrong), "the token is not sent back");
    assert_eq!(
        app.order_column(&reference, "status").await.as_deref(),
        Some("delegated")
    );

    let before = app.mail_settled().await;
    let good = sign_token(maskinporten_key(), KID, &delegated_claims());
    let response =
        post_contact_step(&app, &vendor, "token", &[("access_token", good.as_str())]).await;
    assert_eq!(response.status(), 200);
    let page = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        select(&page, "#token-report li[data-outcome=passed]").len(),
        maskinporten::CHECKS.len()
    );
    assert_eq!(
        attr(&page, "#status strong", "data-status"),
        "token_verified"
    );
    assert_eq!(
        app.order_column(&reference, "status").await.as_deref(),
        Some("token_verified")
    );
    app.smtp.wait_for(before + 2).await;

    // What is kept: a summary on the event, never the token or its signature.
    use sqlx::Row;
    let details: String = sqlx::query("SELECT details FROM order_events WHERE kind = 'status_changed' AND to_status = 'token_verified'")
        .fetch_one(app.db.pool()).await.unwrap().get(0);
    let details: serde_json::Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["client_id"], "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b");
    assert_eq!(details["jti_sha256"].as_str().unwrap().len(), 64);
    let signature = good.rsplit('.').next().unwrap();
    let everywhere: i64 =
        sqlx::query("SELECT COUNT(*) FROM order_events WHERE details LIKE $1 OR comment LIKE $1")
            .bind(format!("%{}%", &signature[..20]))
            .fetch_one(app.db.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(everywhere, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contacts_walk_an_order_from_received_to_token_verified() {
    let server =
        JwksServer::start(serde_json::json!({ "keys": [jwk(maskinporten_key(), KID)] })).await;
    on_both_with(
        &[("RRH_MASKINPORTEN_TEST_JWKS_URL", server.url.as_str())],
        contact_walk,
    )
    .await;
}

/// Maskinporten's keys cannot be fetched: the vendor is told the check could not be done
/// (our side, 503), no check is marked as the token's failure, and the order stays.
async fn outage_walk(app: TestApp) {
    let body = production_json();
    let reference = app.order(&body).await;
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
    let response =
        post_contact_step(&app, &vendor, "token", &[("access_token", token.as_str())]).await;
    assert_eq!(response.status(), 503);
    let page = scraper::Html::parse_document(&response.text().await.unwrap());
    assert_eq!(
        text(&page, "#token-report-heading"),
        "Sjekken kunne ikke gjøres nå"
    );
    assert!(
        select(&page, "#token-report [data-outcome=failed]").is_empty(),
        "nothing blamed on the token"
    );
    assert!(text(&page, "#token-report").contains("Feilen er hos oss"));
    assert_eq!(
        app.order_column(&reference, "status").await.as_deref(),
        Some("delegated")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_maskinporten_s_keys_cannot_be_fetched_the_vendor_is_told_it_is_our_side() {
    on_both_with(
        &[
            ("RRH_MASKINPORTEN_PROD_JWKS_URL", "http://127.0.0.1:9/jwk"),
            ("RRH_MASKINPORTEN_TIMEOUT_MS", "1000"),
        ],
        outage_walk,
    )
    .await;
}

/// The order names a Maskinporten client: a token from another client fails on the page,
/// and the fix names the client the token came from.
async fn client_walk(app: TestApp) {
    let mut body = production_json();
    body["maskinporten_client_id"] = "11111111-2222-3333-4444-555555555555".into();
    let reference = app.order(&body).await;
    let (vendor, consumer) = track_links(&app, &reference).await;
    assert_eq!(
        post_contact_step(&app, &consumer, "delegation", &[])
            .await
            .status(),
        303
    );
    let mut claims = delegated_claims();
    claims["iss"] = "https://maskinporten.no/".into();
    claims["delegation_source"] = "https://www.altinn.no/".into();
    let token = sign_token(maskinporten_key(), KID, &claims);
    let response =
        post_contact_step(&app, &vendor, "token", &[("access_token", token.as_str())]).await;
    assert_eq!(response.status(), 422);
    let page = scraper::Html::parse_document(&response.text().await.unwrap());
    let failed: Vec<String> = page
        .select(&scraper::Selector::parse("#token-report li[data-outcome=failed]").unwrap())
        .map(|li| li.value().attr("data-check").unwrap().to_owned())
        .collect();
    assert_eq!(failed, ["client"]);
    let fix = text(&page, "li[data-check=client]");
    assert!(
        fix.contains("0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b"),
        "{fix}"
    );
    assert!(
        fix.contains("11111111-2222-3333-4444-555555555555"),
        "{fix}"
    );
    assert_eq!(
        app.order_column(&reference, "status").await.as_deref(),
        Some("delegated")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_another_client_than_the_order_names_is_refused_on_the_page() {
    let server =
        JwksServer::start(serde_json::json!({ "keys": [jwk(maskinporten_key(), KID)] })).await;
    on_both_with(
        &[("RRH_MASKINPORTEN_PROD_JWKS_URL", server.url.as_str())],
        client_walk,
    )
    .await;
}
