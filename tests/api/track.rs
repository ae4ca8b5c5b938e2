//! The contacts' private pages, reached through the links in their confirmation emails.

use crate::helpers::*;
use crate::on_both_databases;

fn notice(page: &scraper::Html) -> String {
    text(page, ".notice")
}

const SYNTHETIC_ID: &str = "01818610099";

on_both_databases! {
    async fn each_contact_gets_a_private_link_to_its_own_page(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        assert_ne!(vendor, consumer);
        assert_eq!(vendor.len(), "/track/".len() + 64, "256 bits as hex: {vendor}");
        for (link, role) in [(&vendor, "vendor"), (&consumer, "consumer")] {
            let response = app.get(&format!("{link}?lang=en")).await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["referrer-policy"], "no-referrer");
            assert_eq!(response.headers()["cache-control"], "no-store");
            let page = scraper::Html::parse_document(&response.text().await.unwrap());
            assert_eq!(text(&page, "h1"), format!("Order {reference}"));
            assert_eq!(attr(&page, "#next-step", "data-role"), role);
            assert_eq!(attr(&page, "#status strong", "data-status"), "received");
            assert!(text(&page, "#next-step-text").starts_with("You do not need to do anything now."));
        }
        // Only a hash is stored: once the emails are sent, the token is nowhere in the database.
        let token = vendor.trim_start_matches("/track/");
        assert_eq!(app.count(&format!("contact_links WHERE token_hash = '{token}'")).await, 0);
        assert_eq!(app.count("contact_links").await, 2);
        for _ in 0..100 {
            if app.count("mail_outbox WHERE status = 'sent'").await == 3 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(app.count(&format!("mail_outbox WHERE body_text LIKE '%{token}%' OR body_html LIKE '%{token}%'")).await, 0);
        assert_eq!(app.count("mail_outbox WHERE status = 'sent' AND body_text = ''").await, 3);

        let stranger = app.browser();
        for bad in ["/track/0000000000000000000000000000000000000000000000000000000000000000", "/track/abc", "/track/%27%20OR%201%3D1"] {
            let response = stranger.get(bad).await;
            assert_eq!(response.status(), 404, "{bad}");
            let page = scraper::Html::parse_document(&response.text().await.unwrap());
            assert!(text(&page, "main").contains("lenkene dine på nytt"), "{bad}");
            // A way on, not a dead end.
            assert_eq!(attr(&page, "main p a[href='/track']", "href"), "/track", "{bad}");
        }
    }

    async fn a_link_of_one_order_neither_sees_nor_acts_on_another(app) {
        let first = app.order(&valid_json()).await;
        let mut other = valid_json();
        other["consumer_org_number"] = org_number(7).into();
        let second = app.order(&other).await;
        let (_, first_consumer) = track_links(&app, &first).await;
        let (second_vendor, _) = track_links(&app, &second).await;
        let (_, page) = app.get_html(&first_consumer).await;
        assert!(page.html().contains(&first) && !page.html().contains(&second));

        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        browser.act(&first, "start_tt02_loading", &[]).await;
        browser.act(&first, "mark_tt02_loaded", &[("tt02_identity", SYNTHETIC_ID)]).await;
        // The second order's vendor link can withdraw only the second order.
        let response = post_contact_step(&app, &second_vendor, "withdrawal", &[("withdraw_reason", "Feil kunde.")]).await;
        assert_eq!(response.status(), 303);
        assert_eq!(app.order_column(&second, "status").await.as_deref(), Some("withdrawn"));
        assert_eq!(app.order_column(&first, "status").await.as_deref(), Some("tt02_loaded"));
    }

    async fn each_link_can_only_take_its_own_contacts_steps(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        browser.act(&reference, "start_tt02_loading", &[]).await;
        browser.act(&reference, "mark_tt02_loaded", &[("tt02_identity", SYNTHETIC_ID)]).await;

        let (_, vendor_page) = app.get_html(&vendor).await;
        assert!(select(&vendor_page, "#delegation").is_empty(), "the vendor has no delegation form");
        assert!(!vendor_page.html().contains(SYNTHETIC_ID), "nor sees the TT02 identity");
        let (_, consumer_page) = app.get_html(&consumer).await;
        assert!(select(&consumer_page, "#withdrawal").is_empty(), "the consumer cannot withdraw");

        // Hand-made POSTs with a valid CSRF token are refused all the same.
        let token = attr(&consumer_page, "input[name=csrf_token]", "value");
        for (link, step) in [(&vendor, "delegation"), (&consumer, "withdrawal")] {
            let response = app.client.post(app.url(&format!("{link}/{step}")))
                .form(&[("csrf_token", token.as_str()), ("version", "3"), ("withdraw_reason", "x")]).send().await.unwrap();
            assert_eq!(response.status(), 403, "{link} {step}");
        }
        // And without a CSRF token nothing happens either.
        let response = app.client.post(app.url(&format!("{consumer}/delegation"))).form(&[("version", "3")]).send().await.unwrap();
        assert_eq!(response.status(), 403);
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("tt02_loaded"));
    }

    async fn the_consumer_sees_its_login_and_schema_and_confirms_the_delegation(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        browser.act(&reference, "start_tt02_loading", &[]).await;
        let (_, page) = app.get_html(&consumer).await;
        assert!(select(&page, "#delegation").is_empty(), "nothing to delegate before the loading is done");
        browser.act(&reference, "mark_tt02_loaded", &[("tt02_identity", SYNTHETIC_ID)]).await;

        let (_, page) = app.get_html(&consumer).await;
        let stale_form = [("csrf_token", attr(&page, "input[name=csrf_token]", "value")), ("version", attr(&page, "input[name=version]", "value"))];
        assert_eq!(text(&page, "#tt02-identity"), SYNTHETIC_ID);
        assert_eq!(text(&page, "#delegation-schema"), "Register over reelle rettighetshavere - Offentlig myndighet - På vegne av");
        assert!(text(&page, "#delegation").contains("974760673"), "names the vendor to delegate to");
        let before = app.mail_settled().await;
        let response = post_contact_step(&app, &consumer, "delegation", &[]).await;
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let (_, page) = app.get_html(&location).await;
        assert!(notice(&page).contains("delegert"));
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("delegated"));
        let mails = app.smtp.wait_for(before + 2).await;
        let mut to: Vec<String> = mails[before..].iter().map(|m| m.rcpt_to.join(",")).collect();
        to.sort();
        assert_eq!(to, ["kari@kunde.no", "ola@leverandor.no"]);
        // The vendor's page now tells it to fetch a token.
        let (_, page) = app.get_html(&vendor).await;
        assert!(text(&page, "#next-step-text").contains("consumer_org 313876144"));
        // The same form sent twice is refused: the order has moved on.
        let response = app.client.post(app.url(&format!("{consumer}/delegation"))).form(&stale_form).send().await.unwrap();
        assert_eq!(response.status(), 409);
        assert_eq!(app.events(&reference, "status_changed").await, 3);
    }

    async fn a_production_order_is_delegated_straight_from_received(app) {
        let body = production_json();
        let reference = app.order(&body).await;
        let (_, consumer) = track_links(&app, &reference).await;
        let (_, page) = app.get_html(&consumer).await;
        assert!(select(&page, "#tt02-identity").is_empty());
        assert!(text(&page, "#delegation").contains("www.altinn.no"));
        assert_eq!(post_contact_step(&app, &consumer, "delegation", &[]).await.status(), 303);
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("delegated"));
    }

    async fn a_withdrawal_from_a_stale_page_is_judged_by_its_reason_first(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, _) = track_links(&app, &reference).await;
        let (_, page) = app.get_html(&vendor).await;
        let stale = |reason: &'static str| {
            [
                ("csrf_token", attr(&page, "input[name=csrf_token]", "value")),
                ("version", attr(&page, "input[name=version]", "value")),
                ("withdraw_reason", reason.to_owned()),
            ]
        };
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        browser.act(&reference, "start_tt02_loading", &[]).await;
        // The page is stale, but the missing reason is what the vendor must fix first.
        let post = |form| app.client.post(app.url(&format!("{vendor}/withdrawal"))).form(&form).send();
        let response = post(stale("  ")).await.unwrap();
        assert_eq!(response.status(), 422);
        let answer = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(attr(&answer, ".error-summary a", "href"), "#withdraw_reason");
        // With a reason, the stale version is refused and nothing changes.
        assert_eq!(post(stale("Feil kunde.")).await.unwrap().status(), 409);
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("tt02_loading"));
        // A step the order cannot take any more is refused as such, whatever the version.
        browser.act(&reference, "reject", &[("reason", "Ukjent kunde.")]).await;
        let response = post(stale("Feil kunde.")).await.unwrap();
        assert_eq!(response.status(), 409);
        let answer = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(text(&answer, ".error-summary").contains("Avvist"), "{}", text(&answer, ".error-summary"));
    }

    async fn the_vendor_withdraws_with_a_reason_both_contacts_read(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        let response = post_contact_step(&app, &vendor, "withdrawal", &[("withdraw_reason", "  ")]).await;
        assert_eq!(response.status(), 422);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(attr(&page, ".error-summary a", "href"), "#withdraw_reason");
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("received"));

        let before = app.mail_settled().await;
        let response = post_contact_step(&app, &vendor, "withdrawal", &[("withdraw_reason", "Kunden valgte en annen leverandør.")]).await;
        assert_eq!(response.status(), 303);
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("withdrawn"));
        for mail in &app.smtp.wait_for(before + 2).await[before..] {
            let body = mail.parsed().body_text(0).unwrap().to_string();
            assert!(body.contains("Kunden valgte en annen leverandør."), "{body}");
            assert!(body.contains("Leverandøren oppga denne begrunnelsen"), "{body}");
        }
        let (_, page) = app.get_html(&consumer).await;
        assert_eq!(attr(&page, "#status strong", "data-status"), "withdrawn");
        assert!(text(&page, "#timeline").contains("Kunden valgte en annen leverandør."));
        assert!(select(&page, "#delegation").is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_stop_working_the_configured_time_after_the_order_ends() {
    on_both_with(&[("RRH_LINK_DAYS_AFTER_CLOSE", "0")], |app| async move {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        assert_eq!(
            post_contact_step(
                &app,
                &vendor,
                "withdrawal",
                &[("withdraw_reason", "Ikke aktuelt.")]
            )
            .await
            .status(),
            303
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(app.get(&consumer).await.status(), 404);
        assert_eq!(app.get(&vendor).await.status(), 404);
    })
    .await;
}

/// Asks for links for `email` through the form, as a browser would.
async fn ask_for_links(browser: &Browser, email: &str) -> reqwest::Response {
    let (_, page) = browser.get_html("/track").await;
    let token = attr(&page, "input[name=csrf_token]", "value");
    browser
        .post(
            "/track",
            &[("csrf_token", token.as_str()), ("contact_email", email)],
        )
        .await
}

on_both_databases! {
    async fn anyone_can_ask_for_their_links_and_the_answer_never_tells_whether_they_matched(app) {
        let first = app.order(&valid_json()).await;
        let mut other = valid_json();
        other["consumer_org_number"] = org_number(9).into();
        let second = app.order(&other).await;
        let (old_vendor, old_consumer) = track_links(&app, &first).await;
        let before = app.mail_settled().await;

        let browser = app.browser();
        let known = ask_for_links(&browser, "  OLA@Leverandor.no ").await;
        let unknown = ask_for_links(&browser, "nobody@example.com").await;
        assert_eq!(known.status(), 303);
        assert_eq!(unknown.status(), 303);
        assert_eq!(known.headers()["location"], unknown.headers()["location"]);
        let (_, page) = browser.get_html(known.headers()["location"].to_str().unwrap()).await;
        assert!(!text(&page, "#sent").is_empty());

        // One email, to the vendor's contact only, with a new link to each of its orders.
        let mails = app.smtp.wait_for(before + 1).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let new: Vec<_> = app.smtp.received().into_iter().skip(before).collect();
        assert_eq!(new.len(), 1, "nothing for the unknown address");
        assert_eq!(new[0].rcpt_to, ["ola@leverandor.no"]);
        let body = mails[before].parsed().body_text(0).unwrap().to_string();
        assert!(body.contains(&first) && body.contains(&second), "{body}");
        let paths: Vec<String> = body.match_indices("/track/").map(|(i, _)| body[i..].chars().take_while(|c| !c.is_whitespace() && *c != '?').collect()).collect();
        assert_eq!(paths.len(), 2, "{body}");
        for path in &paths {
            assert_eq!(app.get(path).await.status(), 200);
        }
        // The old vendor link was replaced; the consumer's still works.
        assert_eq!(app.get(&old_vendor).await.status(), 404);
        assert_eq!(app.get(&old_consumer).await.status(), 200);
    }

    async fn asking_for_links_is_limited_and_checked(app) {
        let browser = app.browser();
        let bad = ask_for_links(&browser, "not an address").await;
        assert_eq!(bad.status(), 422);
        let page = scraper::Html::parse_document(&bad.text().await.unwrap());
        assert_eq!(attr(&page, ".error-summary a", "href"), "#contact_email");
        let forged = browser.post("/track", &[("csrf_token", "0"), ("contact_email", "ola@leverandor.no")]).await;
        assert_eq!(forged.status(), 403);
        for _ in 0..3 {
            assert_eq!(ask_for_links(&browser, "someone@example.com").await.status(), 303);
        }
        // A login attempt in between (another limit, with a shorter window) resets nothing.
        assert_eq!(browser.login("nobody@brreg.no", "guess").await.status(), 401);
        let limited = ask_for_links(&browser, "someone@example.com").await;
        assert_eq!(limited.status(), 429);
        let page = scraper::Html::parse_document(&limited.text().await.unwrap());
        assert!(text(&page, ".error-summary").contains("minutt"));
    }

    async fn the_help_page_says_where_to_turn_with_what(app) {
        let (status, page) = app.get_html("/help?lang=en").await;
        assert_eq!(status, 200);
        assert!(text(&page, "#desk-maskinporten").contains("servicedesk@digdir.no"));
        assert!(text(&page, "#desk-maskinporten").contains("client_id"));
        assert!(text(&page, "#desk-altinn").contains("servicedesk@altinn.no"));
        assert!(text(&page, "#desk-registry").contains("opendata.rrh@brreg.no"));
        for code in ["MP-251", "MP-250", "MP-200", "MP-110", "MP-130", "MP-012", "consumer_org in claim"] {
            assert!(text(&page, "dl.errors").contains(code), "{code}");
        }
        assert_eq!(attr(&page, "a[href='/track']", "href"), "/track");
        let (_, home) = app.get_html("/").await;
        assert!(!select(&home, "nav a[href='/help']").is_empty(), "the help page is in the menu");
    }
}
