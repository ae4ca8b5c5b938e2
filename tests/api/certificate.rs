//! The vendor's certificate check, through its page: certificates made in the test (see
//! `pki`), each fault on its own line with its fix, what is refused, and what is kept (an
//! event with the outcome, never the certificate).

use rcgen::KeyUsagePurpose;

use crate::helpers::*;
use crate::on_both_databases;
use crate::pki::*;

/// Posts `pasted` to the vendor's certificate check.
pub async fn check(app: &TestApp, vendor: &str, pasted: &str) -> (u16, scraper::Html) {
    let response = post_contact_step(app, vendor, "certificate", &[("certificate", pasted)]).await;
    let status = response.status().as_u16();
    (
        status,
        scraper::Html::parse_document(&response.text().await.unwrap()),
    )
}

/// Every line of a report list, as (check, outcome).
pub fn outcomes(page: &scraper::Html, list: &str) -> Vec<(String, String)> {
    select(page, &format!("#{list} > li"))
        .iter()
        .map(|li| {
            let attr = |name| li.value().attr(name).unwrap_or_default().to_owned();
            (attr("data-check"), attr("data-outcome"))
        })
        .collect()
}

/// The certificate report's lines, every one passed but `not_passing`, which has `outcome`.
pub fn assert_only(page: &scraper::Html, list: &str, not_passing: &str, outcome: &str) {
    let lines = outcomes(page, list);
    assert_eq!(lines.len(), 6, "{lines:?}");
    for (check, found) in &lines {
        let want = if check == not_passing {
            outcome
        } else {
            "passed"
        };
        assert_eq!(found, want, "{check} in {lines:?}");
    }
}

/// An order in the test environment and its two private links.
async fn test_order(app: &TestApp) -> (String, String, String) {
    let reference = app.order(&valid_json()).await;
    let (vendor, consumer) = track_links(app, &reference).await;
    (reference, vendor, consumer)
}

/// The stored details of the order's events of `kind`, oldest first.
pub async fn event_details(app: &TestApp, kind: &str) -> Vec<serde_json::Value> {
    use sqlx::Row;
    sqlx::query("SELECT details FROM order_events WHERE kind = $1 ORDER BY occurred_at, id")
        .bind(kind)
        .fetch_all(app.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| serde_json::from_str(&row.get::<String, _>(0)).unwrap())
        .collect()
}

/// Whether any event's details or comment holds `text`.
pub async fn stored_anywhere(app: &TestApp, text: &str) -> bool {
    use sqlx::Row;
    let count: i64 =
        sqlx::query("SELECT COUNT(*) FROM order_events WHERE details LIKE $1 OR comment LIKE $1")
            .bind(format!("%{text}%"))
            .fetch_one(app.db.pool())
            .await
            .unwrap()
            .get(0);
    count > 0
}

/// The PEM text without its line `n`, as a careless copy leaves it.
fn without_line(pem: &str, n: usize) -> String {
    let lines: Vec<&str> = pem
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != n)
        .map(|(_, l)| l)
        .collect();
    lines.join("\n")
}

/// A stretch of a pasted certificate or key's base64, to look for where it must not be.
pub fn fragment(pem: &str) -> String {
    pem.lines().nth(3).unwrap().to_owned()
}

on_both_databases! {
    async fn a_test_certificate_for_the_vendor_passes_and_only_the_outcome_is_kept(app) {
        let (reference, vendor, consumer) = test_order(&app).await;
        let pem = Leaf::default().pem();
        let (status, page) = check(&app, &vendor, &pem).await;
        assert_eq!(status, 200);
        assert_only(&page, "certificate-report-lines", "", "");
        assert_eq!(text(&page, "#certificate-report-heading"), "Ingen sjekk feilet");
        assert!(
            text(&page, "#certificate-report [data-check=issuer]").contains(TEST_CA),
            "the issuer is named"
        );
        // Not put back into the form, nor anywhere on the page.
        assert_eq!(text(&page, "textarea#certificate"), "");
        assert!(!page.html().contains(&fragment(&pem)));
        assert!(select(&page, "#error-summary").is_empty());
        // The order is where it was; the check is an event with the outcome, no certificate.
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("received"));
        let details = event_details(&app, "certificate_checked").await;
        assert_eq!(details.len(), 1);
        assert_eq!(details[0]["outcome"], "passed");
        assert_eq!(details[0]["failed"], serde_json::json!([]));
        assert!(!stored_anywhere(&app, &fragment(&pem)).await);

        // The case handler sees it on the order's timeline; the contacts do not.
        let handler = app.logged_in("kari@brreg.no", "case-handler").await;
        let (_, order_page) = handler.get_html(&format!("/admin/orders/{reference}")).await;
        assert!(
            text(&order_page, "#timeline")
                .contains("Leverandøren sjekket sertifikatet sitt: ingen sjekk feilet"),
            "{}",
            text(&order_page, "#timeline")
        );
        for link in [&vendor, &consumer] {
            let (_, page) = app.get_html(link).await;
            assert!(!text(&page, "#timeline").contains("sertifikat"), "{link}");
        }
        // The consumer's page offers neither check.
        let (_, consumer_page) = app.get_html(&consumer).await;
        assert!(select(&consumer_page, "#certificate-check, #grant-check").is_empty());
    }

    async fn each_certificate_fault_fails_its_own_line_with_its_fix(app) {
        let (_, vendor, _) = test_order(&app).await;
        let other = org_number(42);
        let cases: Vec<(&str, Leaf, &str, &str)> = vec![
            (
                "another organisation's certificate",
                Leaf { org_number: Some(other.clone()), ..Leaf::default() },
                "organisation",
                &other,
            ),
            (
                "the customer's certificate",
                Leaf { org_number: Some(CONSUMER.into()), ..Leaf::default() },
                "organisation",
                "kundens",
            ),
            (
                "no organisation number",
                Leaf { org_number: None, ..Leaf::default() },
                "organisation",
                "NTRNO-",
            ),
            (
                "expired",
                Leaf { valid: ((2019, 1, 1), (2021, 1, 1)), ..Leaf::default() },
                "validity",
                "gikk ut",
            ),
            (
                "not valid yet",
                Leaf { valid: ((2098, 1, 1), (2099, 1, 1)), ..Leaf::default() },
                "validity",
                "ikke gyldig før",
            ),
            (
                "a production certificate on a test order",
                Leaf { issuer: PRODUCTION_CA, ..Leaf::default() },
                "issuer",
                PRODUCTION_CA,
            ),
            (
                "a 1024-bit key",
                Leaf { key: Key::Short, ..Leaf::default() },
                "key",
                "1024 bit",
            ),
            (
                "an encryption certificate",
                Leaf { key_usages: vec![KeyUsagePurpose::KeyEncipherment], ..Leaf::default() },
                "key_usage",
                "autentiseringssertifikatet",
            ),
            (
                "a certificate without key usage",
                Leaf { key_usages: Vec::new(), ..Leaf::default() },
                "key_usage",
                "har ingen nøkkelbruk",
            ),
        ];
        for (case, leaf, failing, in_fix) in cases {
            let (status, page) = check(&app, &vendor, &leaf.pem()).await;
            assert_eq!(status, 422, "{case}");
            assert_only(&page, "certificate-report-lines", failing, "failed");
            let line = text(&page, &format!("#certificate-report [data-check={failing}]"));
            assert!(line.contains(in_fix), "{case}: {line}");
            // The summary at the top links to the report.
            assert_eq!(attr(&page, "#error-summary a", "href"), "#certificate-report");
        }
        let failed: Vec<serde_json::Value> = event_details(&app, "certificate_checked")
            .await
            .into_iter()
            .map(|d| d["failed"].clone())
            .collect();
        // One event per run of the same failure in a row (the repeats are not recorded).
        let names = ["organisation", "validity", "issuer", "key", "key_usage"];
        assert_eq!(failed, names.map(|name| serde_json::json!([name])));
    }

    async fn chains_profiles_and_unknown_issuers_are_read_and_said_so(app) {
        let (_, vendor, _) = test_order(&app).await;
        let leaf = Leaf::default().pem();
        let ca = authority_certificate(TEST_CA).pem();
        // A chain, leaf first: the leaf is checked, and the page says so.
        let (status, page) = check(&app, &vendor, &format!("{leaf}\n{ca}")).await;
        assert_eq!(status, 200);
        assert_only(&page, "certificate-report-lines", "", "");
        assert!(text(&page, "[data-check=parse]").contains("kjede med 2 sertifikater"));
        // The wrong order: still the leaf, and a word on the order.
        let (status, page) = check(&app, &vendor, &format!("{ca}\n{leaf}")).await;
        assert_eq!(status, 200);
        assert!(text(&page, "[data-check=parse]").contains("ikke er i rekkefølge"));
        assert!(text(&page, "[data-check=organisation]").contains("bestått"));
        // Leaf, intermediate, root is in order; leaf, root, intermediate is not, though the
        // leaf is first.
        let root = authority_certificate("Buypass Test4 Root CA").pem();
        let intermediate = intermediate_certificate(TEST_CA, "Buypass Test4 Root CA").pem();
        let (_, page) = check(&app, &vendor, &format!("{leaf}\n{intermediate}\n{root}")).await;
        assert!(text(&page, "[data-check=parse]").contains("kjede med 3 sertifikater"));
        assert!(!text(&page, "[data-check=parse]").contains("ikke er i rekkefølge"));
        let (status, page) = check(&app, &vendor, &format!("{leaf}\n{root}\n{intermediate}")).await;
        assert_eq!(status, 200);
        assert!(text(&page, "[data-check=parse]").contains("ikke er i rekkefølge"));
        // The older profile (serialNumber), as the base64 of a .cer with its lines broken.
        let seid1 = Leaf { seid1: true, ..Leaf::default() }.base64();
        let wrapped: Vec<String> = seid1
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let (status, page) = check(&app, &vendor, &wrapped.join("\r\n")).await;
        assert_eq!(status, 200, "{}", text(&page, "#certificate-report"));
        // An issuer we do not know is not checked, named, and does not fail the check.
        let unknown = Leaf { issuer: UNKNOWN_CA, ..Leaf::default() }.pem();
        let (status, page) = check(&app, &vendor, &unknown).await;
        assert_eq!(status, 200);
        assert_only(&page, "certificate-report-lines", "issuer", "not_checked");
        assert!(text(&page, "[data-check=issuer]").contains(UNKNOWN_CA));
        // Expiring within 30 days: passed, with a warning.
        let soon = Leaf { valid: ((2024, 1, 1), days_from_now(10)), ..Leaf::default() }.pem();
        let (status, page) = check(&app, &vendor, &soon).await;
        assert_eq!(status, 200);
        assert!(text(&page, "[data-check=validity]").contains("innen 30 dager"));
    }

    async fn what_is_not_a_certificate_fails_the_first_line_and_nothing_else_is_checked(app) {
        let (_, vendor, _) = test_order(&app).await;
        let cases = [
            ("a CSR", Leaf::default().csr_pem(), "sertifikatforespørsel"),
            ("garbage", "hei på deg".to_owned(), "ikke et sertifikat"),
            ("a token", sign_token(maskinporten_key(), "k", &delegated_claims()), "JWT"),
            ("a certificate with a line lost", without_line(&Leaf::default().pem(), 3), "kunne ikke leses"),
        ];
        for (case, pasted, in_fix) in cases {
            let (status, page) = check(&app, &vendor, &pasted).await;
            assert_eq!(status, 422, "{case}");
            let lines = outcomes(&page, "certificate-report-lines");
            assert_eq!(lines[0], ("parse".into(), "failed".into()), "{case}");
            assert!(lines[1..].iter().all(|(_, o)| o == "not_checked"), "{case}: {lines:?}");
            assert!(text(&page, "[data-check=parse]").contains(in_fix), "{case}");
        }
    }

    async fn repeated_identical_checks_leave_one_event_and_a_new_result_adds_one(app) {
        let (_, vendor, _) = test_order(&app).await;
        let short = Leaf { key: Key::Short, ..Leaf::default() }.pem();
        for _ in 0..5 {
            // Each run is still checked and answered.
            let (status, page) = check(&app, &vendor, &short).await;
            assert_eq!(status, 422);
            assert_only(&page, "certificate-report-lines", "key", "failed");
        }
        let details = event_details(&app, "certificate_checked").await;
        assert_eq!(details.len(), 1, "{details:?}");
        // Another outcome is recorded, and so is the first failure again after it.
        let (status, _) = check(&app, &vendor, &Leaf::default().pem()).await;
        assert_eq!(status, 200);
        check(&app, &vendor, &short).await;
        // Another failed check is a new result too.
        let other = Leaf { org_number: Some(CONSUMER.into()), ..Leaf::default() }.pem();
        check(&app, &vendor, &other).await;
        check(&app, &vendor, &other).await;
        let outcomes: Vec<_> = event_details(&app, "certificate_checked")
            .await
            .into_iter()
            .map(|d| (d["outcome"].clone(), d["failed"].clone()))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("failed".into(), serde_json::json!(["key"])),
                ("passed".into(), serde_json::json!([])),
                ("failed".into(), serde_json::json!(["key"])),
                ("failed".into(), serde_json::json!(["organisation"])),
            ]
        );
    }

    async fn a_pasted_private_key_is_refused_unread_and_never_echoed_or_kept(app) {
        let (reference, vendor, _) = test_order(&app).await;
        let private = key(Key::Vendor).private_pem();
        // Alone, in a file that also holds the certificate, in a JWK set, and as the base64
        // of a .p12 in BER (indefinite lengths, as Java's keytool and Windows write it).
        let jwks = r#"{"keys":[{"kty":"RSA","kid":"k1","e":"AQAB","n":"xjlC","d":"Qk1k"}]}"#;
        let ber_p12 = "MIACAQMEAQAAAA==";
        for pasted in [
            private.clone(),
            format!("{}\n{private}", Leaf::default().pem()),
            jwks.to_owned(),
            ber_p12.to_owned(),
        ] {
            let (status, page) = check(&app, &vendor, &pasted).await;
            assert_eq!(status, 422);
            assert!(select(&page, "#certificate-report").is_empty(), "nothing is checked");
            let message = text(&page, "#certificate-error");
            assert!(message.contains("Del aldri en privat nøkkel"), "{message}");
            assert_eq!(attr(&page, "#error-summary a", "href"), "#certificate");
            assert_eq!(text(&page, "textarea#certificate"), "");
            assert!(!page.html().contains(&fragment(&private)));
        }
        // Four refusals alike, one event: repeats within minutes are not recorded again.
        let details = event_details(&app, "certificate_checked").await;
        assert_eq!(details.len(), 1);
        assert_eq!(details[0], serde_json::json!({"outcome": "refused", "reason": "private_key"}));
        assert!(!stored_anywhere(&app, &fragment(&private)).await);
        let handler = app.logged_in("kari@brreg.no", "case-handler").await;
        let (_, order_page) = handler.get_html(&format!("/admin/orders/{reference}")).await;
        assert!(text(&order_page, "#timeline").contains("limte inn en privat nøkkel"));
    }

    async fn empty_long_and_huge_pastes_get_a_clear_answer_and_leave_nothing(app) {
        let (_, vendor, _) = test_order(&app).await;
        let (status, page) = check(&app, &vendor, "  \n ").await;
        assert_eq!(status, 422);
        assert!(text(&page, "#certificate-error").contains("Fyll inn sertifikatet"));
        // Within the body limit, but longer than any certificate chain.
        let (status, page) = check(&app, &vendor, &"A".repeat(40_000)).await;
        assert_eq!(status, 422);
        assert!(text(&page, "#certificate-error").contains("for mange tegn"));
        // A megabyte: refused before it is read, with the error page, never a 500.
        let (status, page) = check(&app, &vendor, &"A".repeat(1024 * 1024)).await;
        assert_eq!(status, 413);
        assert_eq!(text(&page, "p.lead"), "Forespørselen er for stor.");
        assert!(event_details(&app, "certificate_checked").await.is_empty());
    }

    async fn only_the_vendor_of_an_open_order_can_run_the_checks(app) {
        let (reference, vendor, consumer) = test_order(&app).await;
        let pem = Leaf::default().pem();
        // The consumer's link, with a valid CSRF token (this browser's, from the vendor's
        // page): refused as the token check is.
        let (_, page) = app.get_html(&vendor).await;
        let token = attr(&page, "input[name=csrf_token]", "value");
        for (step, field) in [("certificate", "certificate"), ("grant", "grant")] {
            let response = app
                .client
                .post(app.url(&format!("{consumer}/{step}")))
                .form(&[("csrf_token", token.as_str()), (field, pem.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{step}");
            let page = scraper::Html::parse_document(&response.text().await.unwrap());
            assert!(text(&page, "p.lead").contains("den andre kontaktpersonen"));
        }
        // Without the CSRF token nothing is checked.
        let response = app
            .client
            .post(app.url(&format!("{vendor}/certificate")))
            .form(&[("certificate", pem.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        assert!(event_details(&app, "certificate_checked").await.is_empty());

        // At every open status the vendor has both forms; once the order ends, neither.
        let (_, page) = app.get_html(&vendor).await;
        assert_eq!(select(&page, "form[action$='/certificate'], form[action$='/grant']").len(), 2);
        let handler = app.logged_in("kari@brreg.no", "case-handler").await;
        let response = handler.act(&reference, "reject", &[("reason", "Feil kunde")]).await;
        assert_eq!(response.status(), 303);
        let (_, page) = app.get_html(&vendor).await;
        assert!(select(&page, "#certificate-check, #grant-check").is_empty());
        // The page of an ended order has no form; the token from before still goes with the
        // browser's cookie.
        let response = app
            .client
            .post(app.url(&format!("{vendor}/certificate")))
            .form(&[("csrf_token", token.as_str()), ("certificate", pem.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 409);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(text(&page, "#error-summary").contains("Avvist"));
        assert!(event_details(&app, "certificate_checked").await.is_empty());
    }

    async fn a_test_certificate_on_a_production_order_fails_the_issuer_line(app) {
        let reference = app.order(&production_json()).await;
        let (vendor, _) = track_links(&app, &reference).await;
        let (status, page) = check(&app, &vendor, &Leaf::default().pem()).await;
        assert_eq!(status, 422);
        assert_only(&page, "certificate-report-lines", "issuer", "failed");
        assert!(text(&page, "[data-check=issuer]").contains("for test"));
        let production = Leaf { issuer: PRODUCTION_CA, ..Leaf::default() }.pem();
        let (status, _) = check(&app, &vendor, &production).await;
        assert_eq!(status, 200);
    }
}

/// Issuer lists from the settings replace the defaults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_lists_come_from_the_settings() {
    on_both_with(
        &[
            ("RRH_CERT_TEST_ISSUERS", "Acme Internal"),
            ("RRH_CERT_PROD_ISSUERS", "Buypass Class 3 Test4"),
        ],
        |app| async move {
            let (_, vendor, _) = test_order(&app).await;
            let unknown = Leaf {
                issuer: UNKNOWN_CA,
                ..Leaf::default()
            }
            .pem();
            let (status, page) = check(&app, &vendor, &unknown).await;
            assert_eq!(status, 200);
            assert_only(&page, "certificate-report-lines", "", "");
            // The reference's test CA is now a production one: refused on a test order.
            let (status, page) = check(&app, &vendor, &Leaf::default().pem()).await;
            assert_eq!(status, 422);
            assert_only(&page, "certificate-report-lines", "issuer", "failed");
        },
    )
    .await;
}
