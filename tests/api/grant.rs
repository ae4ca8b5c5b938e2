//! The vendor's grant check, through its page: grants signed in the test with the keys of
//! the test certificates (see `pki`), each fault on its own line, and nothing kept but the
//! outcome.

use crate::certificate::{event_details, outcomes, stored_anywhere};
use crate::helpers::*;
use crate::on_both_databases;
use crate::pki::*;

/// Posts `grant` to the vendor's grant check.
async fn check(app: &TestApp, vendor: &str, grant: &str) -> (u16, scraper::Html) {
    let response = post_contact_step(app, vendor, "grant", &[("grant", grant)]).await;
    let status = response.status().as_u16();
    (
        status,
        scraper::Html::parse_document(&response.text().await.unwrap()),
    )
}

fn outcome(page: &scraper::Html, check: &str) -> String {
    attr(
        page,
        &format!("#grant-report-lines > li[data-check={check}]"),
        "data-outcome",
    )
}

fn line(page: &scraper::Html, check: &str) -> String {
    text(
        page,
        &format!("#grant-report-lines > li[data-check={check}]"),
    )
}

/// Every line passed but the ones named, which have the outcomes given.
fn assert_lines(page: &scraper::Html, others: &[(&str, &str)]) {
    let lines = outcomes(page, "grant-report-lines");
    assert_eq!(lines.len(), 13, "{lines:?}");
    for (check, found) in &lines {
        let want = others
            .iter()
            .find(|(name, _)| name == check)
            .map(|(_, outcome)| *outcome)
            .unwrap_or("passed");
        assert_eq!(found, want, "{check} in {lines:?}");
    }
}

async fn vendor_link(app: &TestApp, order: &serde_json::Value) -> String {
    let reference = app.order(order).await;
    track_links(app, &reference).await.0
}

on_both_databases! {
    async fn a_right_grant_with_x5c_passes_every_check_and_is_not_kept(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        let right = Grant::right();
        let jti = right.claims["jti"].as_str().unwrap().to_owned();
        let grant = right.signed();
        let (status, page) = check(&app, &vendor, &grant).await;
        assert_eq!(status, 200, "{}", text(&page, "#grant-check"));
        assert_lines(&page, &[]);
        assert_eq!(text(&page, "#grant-report-heading"), "Ingen sjekk feilet");
        // The certificate in x5c got the certificate checks, every one passed.
        let certificate = outcomes(&page, "grant-report-certificate");
        assert_eq!(certificate.len(), 6);
        assert!(certificate.iter().all(|(_, o)| o == "passed"), "{certificate:?}");
        // The grant is neither sent back nor stored; the event has the outcome.
        let signature = grant.rsplit('.').next().unwrap();
        assert!(!page.html().contains(&signature[..40]));
        assert_eq!(text(&page, "textarea#grant"), "");
        let details = event_details(&app, "grant_checked").await;
        assert_eq!(details.len(), 1);
        assert_eq!(details[0]["outcome"], "passed");
        assert_eq!(details[0]["certificate_failed"], serde_json::json!([]));
        assert!(!stored_anywhere(&app, &signature[..40]).await);
        assert!(!stored_anywhere(&app, &jti).await);
    }

    async fn each_grant_fault_fails_its_own_line_with_its_fix(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        let now = chrono::Utc::now().timestamp();
        let cases: Vec<(&str, Grant, &str, &str)> = vec![
            (
                "PROD's audience on a test order",
                Grant::right().with("aud", "https://maskinporten.no/".into()),
                "audience",
                "det andre miljøet",
            ),
            (
                "the audience without its slash",
                Grant::right().with("aud", "https://test.maskinporten.no".into()),
                "audience",
                "uten skråstreken",
            ),
            (
                "consumer_org is the vendor",
                Grant::right().with("consumer_org", VENDOR.into()),
                "consumer_org",
                "ditt eget organisasjonsnummer",
            ),
            (
                "no consumer_org",
                Grant::right().with("consumer_org", serde_json::Value::Null),
                "consumer_org",
                "consumer_org = \"313876144\"",
            ),
            (
                "no scope",
                Grant::right().with("scope", serde_json::Value::Null),
                "scope",
                "brreg:reelle/offentlig",
            ),
            (
                "another scope",
                Grant::right().with("scope", "brreg:reelle/rapporteringspliktig".into()),
                "scope",
                "må inneholde brreg:reelle/offentlig",
            ),
            (
                "a lifetime of 300 s",
                // iat set too: Grant::right()'s own clock may be a second past `now`.
                Grant::right().with("iat", now.into()).with("exp", (now + 300).into()),
                "lifetime",
                "300 sekunder",
            ),
            (
                "iat in the future",
                Grant::right()
                    .with("iat", (now + 600).into())
                    .with("exp", (now + 700).into()),
                "issued_at",
                "foran klokka vår",
            ),
            (
                "no jti",
                Grant::right().with("jti", serde_json::Value::Null),
                "jti",
                "UUID",
            ),
            (
                "iss is the audience",
                Grant::right().with("iss", "https://test.maskinporten.no/".into()),
                "issuer",
                "som ikke er en client_id",
            ),
        ];
        for (case, grant, failing, in_fix) in cases {
            let (status, page) = check(&app, &vendor, &grant.signed()).await;
            assert_eq!(status, 422, "{case}");
            assert_lines(&page, &[(failing, "failed")]);
            assert!(line(&page, failing).contains(in_fix), "{case}: {}", line(&page, failing));
            assert_eq!(attr(&page, "#error-summary a", "href"), "#grant-report");
        }
        // One event per run of the same failure in a row (the repeats are not recorded).
        let failed: Vec<_> = event_details(&app, "grant_checked")
            .await
            .into_iter()
            .map(|d| d["failed"].clone())
            .collect();
        let names = ["audience", "consumer_org", "scope", "lifetime", "issued_at", "jti", "issuer"];
        assert_eq!(failed, names.map(|name| serde_json::json!([name])));
    }

    async fn claims_of_the_wrong_type_are_named_as_such_not_as_missing(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        let now = chrono::Utc::now().timestamp();
        let cases: Vec<(&str, Grant, &str, &str)> = vec![
            (
                "exp as a quoted number",
                Grant::right().with("exp", (now + 60).to_string().into()),
                "lifetime",
                "Ikke et tall: exp.",
            ),
            (
                "scope as a list",
                Grant::right().with("scope", serde_json::json!(["brreg:reelle/offentlig"])),
                "scope",
                "ikke en tekst",
            ),
            ("jti as a number", Grant::right().with("jti", 7.into()), "jti", "jti er 7, ikke en tekst"),
            ("iss as a number", Grant::right().with("iss", 42.into()), "issuer", "iss er 42, ikke en tekst"),
        ];
        for (case, grant, failing, in_fix) in cases {
            let (status, page) = check(&app, &vendor, &grant.signed()).await;
            assert_eq!(status, 422, "{case}");
            assert_lines(&page, &[(failing, "failed")]);
            let text = line(&page, failing);
            assert!(text.contains(in_fix), "{case}: {text}");
            assert!(!text.contains("Granten mangler") && !text.contains("Granten har ingen"), "{case}: {text}");
        }
    }

    async fn unsigned_hmac_and_mismatched_signatures_are_caught(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        let claims = grant_claims(chrono::Utc::now().timestamp());
        // alg none: no signature at all.
        let none = unsigned(
            serde_json::json!({"alg": "none", "x5c": [Leaf::default().base64()]}),
            &claims,
        );
        let (status, page) = check(&app, &vendor, &none).await;
        assert_eq!(status, 422);
        assert_lines(&page, &[("algorithm", "failed"), ("signature", "not_checked")]);
        assert!(line(&page, "algorithm").contains("none"));
        // HS256 with the certificate's public key as the secret.
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.x5c = Some(vec![Leaf::default().base64()]);
        let hs256 = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(Leaf::default().pem().as_bytes()),
        )
        .unwrap();
        let (status, page) = check(&app, &vendor, &hs256).await;
        assert_eq!(status, 422);
        assert_lines(&page, &[("algorithm", "failed"), ("signature", "not_checked")]);
        assert!(line(&page, "algorithm").contains("HS256"));
        // Signed with another key than the certificate's in x5c.
        let other = Grant { key: Key::Other, ..Grant::right() };
        let (status, page) = check(&app, &vendor, &other.signed()).await;
        assert_eq!(status, 422);
        assert_lines(&page, &[("signature", "failed")]);
        // Changed after signing.
        let good = Grant::right().signed();
        let parts: Vec<&str> = good.split('.').collect();
        let changed = Grant::right().with("consumer_org", "999999999".into()).signed();
        let tampered = format!("{}.{}.{}", parts[0], changed.split('.').nth(1).unwrap(), parts[2]);
        let (status, page) = check(&app, &vendor, &tampered).await;
        assert_eq!(status, 422);
        assert_lines(&page, &[("signature", "failed"), ("consumer_org", "failed")]);
    }

    async fn a_grant_signed_with_a_key_over_4096_bits_is_verified(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        let mut grant = Grant { key: Key::Long, ..Grant::right() };
        grant.header.alg = jsonwebtoken::Algorithm::RS512;
        grant.header.x5c = Some(vec![Leaf { key: Key::Long, ..Leaf::default() }.base64()]);
        let (status, page) = check(&app, &vendor, &grant.signed()).await;
        assert_eq!(status, 200, "{}", text(&page, "#grant-check"));
        assert_lines(&page, &[]);
        assert_eq!(outcome(&page, "signature"), "passed");
        // And a wrong signature with that key is still a mismatch.
        let other = Grant { key: Key::Vendor, ..grant };
        let (status, page) = check(&app, &vendor, &other.signed()).await;
        assert_eq!(status, 422);
        assert_lines(&page, &[("signature", "failed")]);
    }

    async fn x5c_with_the_ca_first_fails_the_key_header_and_checks_the_signer_s_certificate(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        let ca = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            authority_certificate(TEST_CA).der(),
        );
        let mut grant = Grant::right();
        grant.header.x5c = Some(vec![ca.clone(), Leaf::default().base64()]);
        let (status, page) = check(&app, &vendor, &grant.signed()).await;
        assert_eq!(status, 422);
        // Only the order fails: the vendor's certificate and its signature are right.
        assert_lines(&page, &[("key_header", "failed")]);
        assert!(line(&page, "key_header").contains("nummer 2"), "{}", line(&page, "key_header"));
        let certificate = outcomes(&page, "grant-report-certificate");
        assert!(certificate.iter().all(|(_, o)| o == "passed"), "{certificate:?}");
        // Leaf first, then its CA: the chain as Maskinporten wants it.
        grant.header.x5c = Some(vec![Leaf::default().base64(), ca]);
        let (status, page) = check(&app, &vendor, &grant.signed()).await;
        assert_eq!(status, 200, "{}", text(&page, "#grant-check"));
        assert_lines(&page, &[]);
        // A later entry that is not base64 is named by its place.
        grant.header.x5c = Some(vec![Leaf::default().base64(), "***".into()]);
        let (_, page) = check(&app, &vendor, &grant.signed()).await;
        assert!(line(&page, "certificate").contains("nummer 2"), "{}", line(&page, "certificate"));
    }

    async fn claims_maskinporten_does_not_know_are_named(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        let grant = Grant::right().with("client_id", "0f9a1c7e".into());
        let (status, page) = check(&app, &vendor, &grant.signed()).await;
        assert_eq!(status, 200, "{}", text(&page, "#grant-check"));
        assert_lines(&page, &[]);
        assert!(line(&page, "claims").contains("ikke dokumenterer: client_id"), "{}", line(&page, "claims"));
    }

    async fn a_kid_grant_passes_with_its_signature_said_to_be_unchecked(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        let mut grant = Grant::right();
        grant.header.x5c = None;
        grant.header.kid = Some("vendor-key-2026".into());
        let (status, page) = check(&app, &vendor, &grant.signed()).await;
        assert_eq!(status, 200);
        assert_lines(&page, &[("certificate", "not_checked"), ("signature", "not_checked")]);
        assert!(line(&page, "key_header").contains("vendor-key-2026"));
        assert!(line(&page, "signature").contains("bare Maskinporten har den"));
        assert!(select(&page, "#grant-report-certificate").is_empty());
    }

    async fn the_certificate_in_x5c_gets_the_certificate_checks(app) {
        let reference = app.order(&valid_json()).await;
        let vendor = track_links(&app, &reference).await.0;
        // A production certificate in a grant for a test order.
        let mut grant = Grant::right();
        grant.header.x5c = Some(vec![Leaf { issuer: PRODUCTION_CA, ..Leaf::default() }.base64()]);
        let (status, page) = check(&app, &vendor, &grant.signed()).await;
        assert_eq!(status, 422);
        assert_lines(&page, &[("certificate", "failed")]);
        let certificate = outcomes(&page, "grant-report-certificate");
        assert!(certificate.contains(&("issuer".into(), "failed".into())), "{certificate:?}");
        let details = event_details(&app, "grant_checked").await;
        assert_eq!(details[0]["certificate_failed"], serde_json::json!(["issuer"]));
        // The signature is still checked with that certificate's key (the vendor's).
        assert_eq!(outcome(&page, "signature"), "passed");
        // The case handler reads which check of the certificate failed.
        let handler = app.logged_in("kari@brreg.no", "case-handler").await;
        let (_, order_page) = handler.get_html(&format!("/admin/orders/{reference}")).await;
        let timeline = text(&order_page, "#timeline");
        assert!(
            timeline.contains(
                "Leverandøren sjekket JWT-granten sin; feilet: Sertifikatet i x5c (Fra en sertifikatutsteder for miljøet)"
            ),
            "{timeline}"
        );
    }

    async fn an_expired_grant_with_a_right_window_passes_and_says_it_expired(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        let hour_ago = chrono::Utc::now().timestamp() - 3600;
        let mut grant = Grant::right();
        grant.claims = grant_claims(hour_ago);
        let (status, page) = check(&app, &vendor, &grant.signed()).await;
        assert_eq!(status, 200);
        assert_lines(&page, &[]);
        assert!(line(&page, "lifetime").contains("gikk ut"));
    }

    async fn the_order_s_client_id_and_environment_are_what_the_grant_is_held_to(app) {
        let mut order = production_json();
        order["maskinporten_client_id"] = "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b".into();
        let vendor = vendor_link(&app, &order).await;
        let production = || {
            let mut grant = Grant::right().with("aud", "https://maskinporten.no/".into());
            grant.header.x5c = Some(vec![Leaf { issuer: PRODUCTION_CA, ..Leaf::default() }.base64()]);
            grant
        };
        let (status, page) = check(&app, &vendor, &production().signed()).await;
        assert_eq!(status, 200, "{}", text(&page, "#grant-check"));
        let other = production().with("iss", "a-different-client".into());
        let (status, page) = check(&app, &vendor, &other.signed()).await;
        assert_eq!(status, 422);
        assert_lines(&page, &[("issuer", "failed")]);
        assert!(line(&page, "issuer").contains("0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b"));
        // TEST's audience on a production order.
        let test_aud = production().with("aud", "https://test.maskinporten.no/".into());
        let (_, page) = check(&app, &vendor, &test_aud.signed()).await;
        assert_lines(&page, &[("audience", "failed")]);
    }

    async fn what_is_not_a_grant_gets_a_clear_answer(app) {
        let vendor = vendor_link(&app, &valid_json()).await;
        // An access token pasted here instead of in the token check.
        let token = sign_token(maskinporten_key(), "mp-key", &delegated_claims());
        let (status, page) = check(&app, &vendor, &token).await;
        assert_eq!(status, 422);
        assert_eq!(outcome(&page, "format"), "failed");
        assert!(line(&page, "format").contains("token-sjekken"));
        for garbage in ["not a grant", "a.b.c", "eyJhbGciOiJSUzI1NiJ9"] {
            let (status, page) = check(&app, &vendor, garbage).await;
            assert_eq!(status, 422, "{garbage}");
            let lines = outcomes(&page, "grant-report-lines");
            assert_eq!(lines[0], ("format".into(), "failed".into()));
            assert!(lines[1..].iter().all(|(_, o)| o == "not_checked"), "{lines:?}");
        }
        // A private key is refused in this field too.
        let (status, page) = check(&app, &vendor, &key(Key::Vendor).private_pem()).await;
        assert_eq!(status, 422);
        assert!(text(&page, "#grant-error").contains("Del aldri en privat nøkkel"));
        assert!(select(&page, "#grant-report").is_empty());
        // And a private key put in x5c, where the certificate belongs.
        let der = rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&key(Key::Vendor).key).unwrap();
        let mut in_x5c = Grant::right();
        in_x5c.header.x5c = Some(vec![base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            der.as_bytes(),
        )]);
        let (status, page) = check(&app, &vendor, &in_x5c.signed()).await;
        assert_eq!(status, 422);
        assert!(text(&page, "#grant-error").contains("Del aldri en privat nøkkel"));
        assert!(select(&page, "#grant-report").is_empty());
        let (status, page) = check(&app, &vendor, "").await;
        assert_eq!(status, 422);
        assert!(text(&page, "#grant-error").contains("Fyll inn JWT-granten"));
    }
}
