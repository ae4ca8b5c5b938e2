//! The case handlers' workspace, through HTTP as a browser uses it.

use crate::helpers::*;
use crate::on_both_databases;

/// The emails that arrived after the first `skip`, by recipient: (subject, text body).
async fn status_mails(app: &TestApp, before: usize) -> Vec<(String, String, String)> {
    app.smtp.wait_for(before + 2).await;
    let mut mails: Vec<(String, String, String)> = mails_after(app, before)
        .into_iter()
        .map(|(to, subject, text, _)| (to, subject, text))
        .collect();
    assert_eq!(mails.len(), 2, "{mails:#?}");
    mails.sort_by_key(|(to, _, _)| if to == "ola@leverandor.no" { 0 } else { 1 });
    assert_eq!(mails[0].0, "ola@leverandor.no");
    assert_eq!(mails[1].0, "kari@kunde.no");
    mails
}

async fn status_of(app: &TestApp, browser: &Browser, reference: &str) -> String {
    let (status, page) = browser
        .get_html(&format!("/admin/orders/{reference}"))
        .await;
    assert_eq!(status, 200);
    let _ = app;
    attr(&page, "#status", "data-status")
}

fn offered_actions(page: &scraper::Html) -> Vec<String> {
    select(page, "form[data-action]")
        .iter()
        .map(|f| f.value().attr("data-action").unwrap().to_owned())
        .collect()
}

/// A synthetic (Tenor) national id: month + 80, valid check digits.
const SYNTHETIC_ID: &str = "01818610099";

on_both_databases! {
    async fn every_workspace_page_sends_anonymous_visitors_to_the_login(app) {
        let reference = app.order(&valid_json()).await;
        let browser = app.browser();
        for path in ["/admin", "/admin/orders", "/admin/orders?status=all", "/admin/orders.csv",
            &format!("/admin/orders/{reference}"), "/admin/outbox", "/admin/users"] {
            let response = browser.get(path).await;
            assert_eq!(response.status(), 303, "{path}");
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            assert!(location.starts_with("/admin/login"), "{path} -> {location}");
        }
        let events = app.count("order_events").await;
        for path in [format!("/admin/orders/{reference}/status"), format!("/admin/orders/{reference}/notes"),
            format!("/admin/orders/{reference}/assignment"), "/admin/logout".into(),
            "/admin/outbox/0192f0c1-0000-7000-8000-000000000000/retry".into()] {
            let response = browser.post(&path, &[("action", "reject"), ("version", "1"), ("reason", "x"), ("note", "x"), ("assign", "me")]).await;
            assert_eq!(response.status(), 303, "{path}");
            assert!(response.headers()["location"].to_str().unwrap().starts_with("/admin/login"));
        }
        assert_eq!(app.count("order_events").await, events, "nothing changed");
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("received"));
    }

    async fn login_renews_the_session_and_logout_ends_it(app) {
        app.add_user("kari@brreg.no", "Kari Saksbehandler", "case-handler").await;
        let reference = app.order(&valid_json()).await;
        let browser = app.browser();
        // The link in the registry's email leads through the login to the case.
        let response = browser.get(&format!("/admin/orders/{reference}")).await;
        let login = response.headers()["location"].to_str().unwrap().to_owned();
        let (_, page) = browser.get_html(&login).await;
        let next = attr(&page, "input[name=next]", "value");
        assert_eq!(next, format!("/admin/orders/{reference}"));
        let token = attr(&page, "input[name=csrf_token]", "value");
        let response = browser.post("/admin/login", &[("csrf_token", token.as_str()),
            ("email", "Kari@Brreg.no"), ("password", PASSWORD), ("next", next.as_str())]).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()["location"], next.as_str());
        let cookie = response.headers().get_all("set-cookie").iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("rrh_session=")).expect("a session cookie");
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/admin"] {
            assert!(cookie.contains(flag), "{flag} missing: {cookie}");
        }
        let first = cookie.split(';').next().unwrap().to_owned();

        let (status, page) = browser.get_html("/admin/orders").await;
        assert_eq!(status, 200);
        assert_eq!(text(&page, ".nav-user"), "Kari Saksbehandler");

        // Logging in again issues a new session id; the old one no longer works.
        let again = browser.login("kari@brreg.no", PASSWORD).await;
        assert_eq!(again.status(), 303);
        let stale = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = stale.get(browser.url("/admin/orders")).header("cookie", &first).send().await.unwrap();
        assert_eq!(response.status(), 303, "the session from before the new login is gone");

        let token = browser.csrf().await;
        let response = browser.post("/admin/logout", &[("csrf_token", &token)]).await;
        assert_eq!(response.status(), 303);
        assert_eq!(browser.get("/admin/orders").await.status(), 303);
        assert_eq!(app.count("sessions").await, 0);
    }

    async fn a_wrong_password_and_an_unknown_account_get_the_same_answer(app) {
        app.add_user("kari@brreg.no", "Kari", "case-handler").await;
        let browser = app.browser();
        let wrong = browser.login("kari@brreg.no", "not the password").await;
        assert_eq!(wrong.status(), 401);
        assert!(wrong.headers().get_all("set-cookie").iter().all(|c| !c.to_str().unwrap().starts_with("rrh_session=")));
        let wrong = scraper::Html::parse_document(&wrong.text().await.unwrap());
        let unknown = browser.login("nobody@brreg.no", "not the password").await;
        assert_eq!(unknown.status(), 401);
        let unknown = scraper::Html::parse_document(&unknown.text().await.unwrap());
        assert_eq!(text(&wrong, ".error-summary"), text(&unknown, ".error-summary"));
        assert_eq!(attr(&wrong, "#email", "value"), "kari@brreg.no");
        assert_eq!(input_value(&wrong, "#password"), "", "the password is never sent back");
    }

    async fn repeated_failed_logins_slow_the_account_down(app) {
        app.add_user("kari@brreg.no", "Kari", "case-handler").await;
        let browser = app.browser();
        for _ in 0..5 {
            assert_eq!(browser.login("kari@brreg.no", "guess").await.status(), 401);
        }
        // Now even the right password waits.
        let blocked = browser.login("kari@brreg.no", PASSWORD).await;
        assert_eq!(blocked.status(), 429);
        let page = scraper::Html::parse_document(&blocked.text().await.unwrap());
        assert!(text(&page, ".error-summary").contains("minutt"));
        // The same for an account that does not exist: nothing tells them apart.
        for _ in 0..5 {
            browser.login("ghost@brreg.no", "guess").await;
        }
        assert_eq!(browser.login("ghost@brreg.no", "guess").await.status(), 429);
        // Another account from the same address is not locked out by a colleague's typos.
        app.add_user("ola@brreg.no", "Ola", "case-handler").await;
        assert_eq!(browser.login("ola@brreg.no", PASSWORD).await.status(), 303);
    }

    async fn simultaneous_guesses_are_all_counted(app) {
        app.add_user("kari@brreg.no", "Kari", "case-handler").await;
        let browser = app.browser();
        let (_, page) = browser.get_html("/admin/login").await;
        let token = attr(&page, "input[name=csrf_token]", "value");
        let guesses = (0..12).map(|i| {
            let body = vec![("csrf_token".to_owned(), token.clone()), ("email".to_owned(), "kari@brreg.no".to_owned()), ("password".to_owned(), format!("guess {i}"))];
            browser.client.post(browser.url("/admin/login")).form(&body).send()
        });
        let statuses: Vec<u16> = futures_util::future::join_all(guesses).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 7, "{statuses:?}");
    }

    async fn a_next_address_that_is_not_a_plain_workspace_path_is_ignored(app) {
        app.add_user("kari@brreg.no", "Kari", "case-handler").await;
        for next in ["https://evil.example/admin/", "//evil.example/admin/", "/admin/orders\r\nX-Evil: 1", "/admin/ørders"] {
            let browser = app.browser();
            let (_, page) = browser.get_html("/admin/login").await;
            let token = attr(&page, "input[name=csrf_token]", "value");
            let response = browser.post("/admin/login", &[("csrf_token", token.as_str()), ("email", "kari@brreg.no"), ("password", PASSWORD), ("next", next)]).await;
            assert_eq!(response.status(), 303, "{next:?}");
            assert_eq!(response.headers()["location"], "/admin/orders", "{next:?}");
        }
    }

    async fn an_error_inside_the_workspace_keeps_the_workspace_header(app) {
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        for (path, status) in [("/admin/orders/RRH-2222-2222", 404), ("/admin/outbox", 403)] {
            let (got, page) = browser.get_html(path).await;
            assert_eq!(got, status, "{path}");
            // The header still names the user and offers the queue and the logout.
            assert!(!select(&page, "header form[action='/admin/logout']").is_empty(), "{path}");
            assert!(!select(&page, "header a[href='/admin/orders']").is_empty(), "{path}");
        }
        // Outside the workspace, or without a session, an error page has the public header.
        let (_, page) = app.get_html("/no/such/page").await;
        assert!(select(&page, "header form[action='/admin/logout']").is_empty());
    }

    async fn a_disabled_account_cannot_log_in_and_loses_its_session(app) {
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        rrh_tt02::app::accounts::disable(&app.context, "kari@brreg.no").await.unwrap();
        assert_eq!(browser.get("/admin/orders").await.status(), 303);
        assert_eq!(browser.login("kari@brreg.no", PASSWORD).await.status(), 401);
    }

    async fn a_post_without_the_sessions_csrf_token_is_refused_and_changes_nothing(app) {
        let reference = app.order(&valid_json()).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        let path = format!("/admin/orders/{reference}/status");
        for token in [None, Some("0".repeat(64)), Some("x".into())] {
            let mut body = vec![("action", "start_tt02_loading"), ("version", "1")];
            if let Some(token) = &token { body.push(("csrf_token", token)); }
            let response = browser.post(&path, &body).await;
            assert_eq!(response.status(), 403, "{token:?}");
        }
        // A token from another session is as wrong as a made-up one.
        let other = app.logged_in("ola@brreg.no", "case-handler").await;
        let foreign = other.csrf().await;
        let response = browser.post(&path, &[("csrf_token", foreign.as_str()), ("action", "start_tt02_loading"), ("version", "1")]).await;
        assert_eq!(response.status(), 403);
        let response = browser.post(&format!("/admin/orders/{reference}/notes"), &[("note", "hei")]).await;
        assert_eq!(response.status(), 403);
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("received"));
        assert_eq!(app.events(&reference, "note").await, 0);
        assert_eq!(app.count("mail_outbox").await, 3, "only the order's own three emails");
    }

    async fn a_contact_address_never_becomes_more_than_a_recipient_in_a_mail_link(app) {
        let mut body = valid_json();
        body["vendor_contact_email"] = "a?cc=evil%40evil.example&body=x@example.no".into();
        let response = app.post_json(&body).await;
        assert_eq!(response.status(), 422);
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer["errors"]["vendor_contact_email"]["code"], "email_invalid");
        // An address stored before the rule (or one the rule missed) is encoded in the link.
        let reference = app.order(&valid_json()).await;
        sqlx::query("UPDATE orders SET vendor_contact_email = 'a?cc=x@evil.example&body=y@example.no'")
            .execute(app.db.pool()).await.unwrap();
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let (_, page) = kari.get_html(&format!("/admin/orders/{reference}")).await;
        let href = attr(&page, "#vendor a[href^='mailto:']", "href");
        assert_eq!(href, "mailto:a%3Fcc%3Dx%40evil.example%26body%3Dy%40example.no");
    }

    async fn a_null_character_anywhere_is_a_clear_400_never_a_500(app) {
        app.order(&valid_json()).await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let browser = app.browser();
        let (_, page) = browser.get_html("/admin/login").await;
        let token = attr(&page, "input[name=csrf_token]", "value");
        let response = browser.post("/admin/login", &[("csrf_token", token.as_str()), ("email", "a\0"), ("password", "x")]).await;
        assert_eq!(response.status(), 400);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(text(&page, "main").contains("kontrolltegn"));
        for path in ["/admin/orders?q=%00", "/admin/orders?q=a%01b", "/admin/orders.csv?q=%00", "/help?x=%00"] {
            let response = kari.get(path).await;
            assert_eq!(response.status(), 400, "{path}");
        }
        // A search without one still works, and finds nothing for text no order has.
        let (status, page) = kari.get_html("/admin/orders?q=zzzz").await;
        assert_eq!(status, 200);
        assert!(select(&page, "table.queue tbody tr").is_empty());
    }

    async fn a_test_order_walks_through_every_state_and_each_step_mails_both_contacts(app) {
        let reference = app.order(&valid_json()).await;
        app.smtp.wait_for(3).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;

        let (_, page) = browser.get_html(&format!("/admin/orders/{reference}")).await;
        assert_eq!(offered_actions(&page), ["start_tt02_loading", "reject"]);
        let vendor: Vec<String> = select(&page, "#vendor dd").iter().map(|d| d.text().collect()).collect();
        assert_eq!(vendor, ["974760673", "Leverandør Systemer AS", "(ikke oppgitt)", "ola@leverandor.no", "+4791234567", "(ikke oppgitt)"]);
        assert!(text(&page, "#ip-addresses").contains("1.1.1.0/24"));

        // Each step: the action, its fields, the new status, what both emails say, and what
        // the vendor's and the consumer's email each say they must do now.
        type Step<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a [&'a str], [&'a str; 2]);
        let steps: [Step; 5] = [
            ("start_tt02_loading", &[], "tt02_loading", &["begynt å lese inn"],
                ["Du trenger ikke gjøre noe nå", "får du e-post om å delegere scopet til Leverandør Systemer AS"]),
            ("mark_tt02_loaded", &[("tt02_identity", SYNTHETIC_ID)], "tt02_loaded", &["lest inn i TT02"],
                ["Kunde Bank ASA skal delegere scopet til dere",
                 "Logg inn i Altinn TT02 med testidentiteten på bestillingens side, og deleger scopet til Leverandør Systemer AS."]),
            ("confirm_delegation", &[("comment", "Delegeringen er sjekket i Altinn.")], "delegated",
                &["Delegeringen er sjekket i Altinn."],
                ["Hent et delegert token fra Maskinporten TEST med consumer_org 313876144", "Leverandør Systemer AS tester tokenet sitt"]),
            ("verify_token", &[], "token_verified", &["er verifisert", "Brønnøysundregistrene fullfører bestillingen"],
                ["Du trenger ikke gjøre noe.", "Du trenger ikke gjøre noe."]),
            ("complete", &[], "completed", &["fullført", "du trenger ikke gjøre noe mer"],
                ["Bestillingen er fullført", "Bestillingen er fullført"]),
        ];
        for (action, fields, to, says, yours) in steps {
            let before = app.mail_settled().await;
            let response = browser.act(&reference, action, fields).await;
            assert_eq!(response.status(), 303, "{action}");
            assert_eq!(status_of(&app, &browser, &reference).await, to);
            let mails = status_mails(&app, before).await;
            for ((recipient, subject, body), (your_step, role)) in mails.iter().zip(yours.iter().zip(["vendor", "consumer"])) {
                assert!(subject.contains(&reference), "{subject}");
                for phrase in says.iter().chain([your_step]) {
                    assert!(body.contains(phrase), "{action}: {phrase:?} missing in mail to {recipient}:\n{body}");
                }
                assert!(!body.contains(SYNTHETIC_ID), "the TT02 identity is never mailed");
                assert!(!body.contains("01818"), "not even part of it");
                // The email's link opens the reader's own page, which says the same next step.
                let link = track_link_in(body);
                let (status, page) = app.get_html(&link).await;
                assert_eq!(status, 200, "{action}: {recipient}'s link");
                assert_eq!(attr(&page, "#next-step", "data-role"), role, "{action}: {recipient}");
                assert!(body.contains(&text(&page, "#next-step-text")), "{action}: {recipient}");
            }
        }
        let (_, page) = browser.get_html(&format!("/admin/orders/{reference}")).await;
        assert!(offered_actions(&page).is_empty(), "a completed order offers nothing");
        assert_eq!(text(&page, "#tt02-identity"), SYNTHETIC_ID, "case handlers see the identity");
        let timeline = text(&page, "#timeline");
        for step in ["Mottatt", "Leses inn i TT02", "Lest inn i TT02", "Delegert", "Token verifisert", "Fullført", "Delegeringen er sjekket i Altinn."] {
            assert!(timeline.contains(step), "{step} missing in the timeline: {timeline}");
        }
        assert_eq!(app.events(&reference, "status_changed").await, 5);
        assert!(app.order_column(&reference, "closed_at").await.is_some());
        // A closed order frees the pair for a new order.
        app.order(&valid_json()).await;
    }

    async fn a_production_order_skips_tt02_and_refuses_its_steps(app) {
        let body = production_json();
        let reference = app.order(&body).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        let (_, page) = browser.get_html(&format!("/admin/orders/{reference}")).await;
        assert_eq!(offered_actions(&page), ["confirm_delegation", "reject"]);

        // A hand-made POST for a TT02 step is refused by the server, not just hidden.
        let token = browser.csrf().await;
        let response = browser.post(&format!("/admin/orders/{reference}/status"),
            &[("csrf_token", token.as_str()), ("action", "start_tt02_loading"), ("version", "1")]).await;
        assert_eq!(response.status(), 409);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(text(&page, ".error-summary").contains("ikke mulig"));
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("received"));

        for (action, to) in [("confirm_delegation", "delegated"), ("verify_token", "token_verified"), ("complete", "completed")] {
            app.smtp.wait_for(3).await;
            let before = app.mail_settled().await;
            assert_eq!(browser.act(&reference, action, &[]).await.status(), 303);
            assert_eq!(status_of(&app, &browser, &reference).await, to);
            status_mails(&app, before).await;
        }
    }

    async fn loading_into_tt02_needs_a_synthetic_identity(app) {
        let reference = app.order(&valid_json()).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        assert_eq!(browser.act(&reference, "start_tt02_loading", &[]).await.status(), 303);
        let events = app.count("order_events").await;
        for (identity, message) in [
            ("", "Fyll inn"),
            ("0101011234", "11 siffer"),
            // A valid, real-looking fødselsnummer.
            ("01010150155", "ekte fødselsnummer"),
        ] {
            let response = browser.act(&reference, "mark_tt02_loaded", &[("tt02_identity", identity)]).await;
            assert_eq!(response.status(), 422, "{identity}");
            let page = scraper::Html::parse_document(&response.text().await.unwrap());
            assert!(text(&page, ".error-summary").contains(message), "{identity}: {}", text(&page, ".error-summary"));
            assert_eq!(attr(&page, "#tt02_identity", "aria-invalid"), "true");
            assert_eq!(input_value(&page, "#tt02_identity"), identity, "the input is kept");
        }
        assert_eq!(app.count("order_events").await, events, "nothing stored");
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("tt02_loading"));
    }

    async fn status_emails_are_in_the_language_the_order_was_made_in(app) {
        let mut body = valid_json();
        body["language"] = "en".into();
        let reference = app.order(&body).await;
        app.smtp.wait_for(3).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        let before = app.mail_settled().await;
        assert_eq!(browser.act(&reference, "start_tt02_loading", &[]).await.status(), 303);
        for (_, subject, body) in status_mails(&app, before).await {
            assert!(subject.contains("Being loaded into TT02"), "{subject}");
            assert!(body.contains("has started loading"), "{body}");
        }
    }

    async fn a_national_id_in_a_mailed_message_is_refused(app) {
        let reference = app.order(&valid_json()).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        let response = browser.act(&reference, "start_tt02_loading", &[("comment", "Logg inn med 018186 10099.")]).await;
        assert_eq!(response.status(), 422);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(text(&page, ".error-summary").contains("fødselsnummer"));
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("received"));
        assert_eq!(app.count("mail_outbox").await, 3);
    }

    async fn a_form_from_before_a_colleagues_change_shows_the_order_as_it_is_now(app) {
        let reference = app.order(&valid_json()).await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let (_, stale) = kari.get_html(&format!("/admin/orders/{reference}")).await;
        assert_eq!(kari.act(&reference, "reject", &[("reason", "Feil.")]).await.status(), 303);
        // The old page's reject form, sent with an empty reason: the order has moved on, and
        // that is what the answer says (not "fill in the reason", on a form no longer shown).
        let body = [("csrf_token", attr(&stale, "form[data-action=reject] input[name=csrf_token]", "value")),
            ("action", "reject".to_owned()), ("version", attr(&stale, "form[data-action=reject] input[name=version]", "value")), ("reason", String::new())];
        let response = kari.client.post(kari.url(&format!("/admin/orders/{reference}/status"))).form(&body).send().await.unwrap();
        assert_eq!(response.status(), 409);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(attr(&page, ".error-summary a", "href"), "#actions");
        assert!(!select(&page, "#actions").is_empty());
        assert_eq!(attr(&page, "#status", "data-status"), "rejected");
    }

    async fn rejecting_needs_a_reason_which_both_contacts_are_told(app) {
        let reference = app.order(&valid_json()).await;
        app.smtp.wait_for(3).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        let response = browser.act(&reference, "reject", &[("reason", "   ")]).await;
        assert_eq!(response.status(), 422);
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("received"));

        let before = app.mail_settled().await;
        let response = browser.act(&reference, "reject", &[("reason", "Kunden har ikke tilgang til scopet.")]).await;
        assert_eq!(response.status(), 303);
        for (_, subject, body) in status_mails(&app, before).await {
            assert!(subject.contains("Avvist"), "{subject}");
            assert!(body.contains("Kunden har ikke tilgang til scopet."), "{body}");
        }
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("rejected"));
    }

    async fn two_case_handlers_acting_at_once_cannot_both_win(app) {
        let reference = app.order(&valid_json()).await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let ola = app.logged_in("ola@brreg.no", "case-handler").await;
        // Both have the page open at version 1.
        let page_of = |b: &Browser| {
            let reference = reference.clone();
            let url = b.url(&format!("/admin/orders/{reference}"));
            let client = b.client.clone();
            async move { scraper::Html::parse_document(&client.get(url).send().await.unwrap().text().await.unwrap()) }
        };
        let kari_page = page_of(&kari).await;
        let ola_page = page_of(&ola).await;
        let submit = |b: &Browser, page: &scraper::Html, action: &str, extra: (&'static str, &'static str)| {
            let form = format!("form[data-action={action}]");
            let body = vec![
                ("csrf_token".to_owned(), attr(page, &format!("{form} input[name=csrf_token]"), "value")),
                ("action".to_owned(), action.to_owned()),
                ("version".to_owned(), attr(page, &format!("{form} input[name=version]"), "value")),
                (extra.0.to_owned(), extra.1.to_owned()),
            ];
            b.client.post(b.url(&format!("/admin/orders/{reference}/status"))).form(&body).send()
        };
        let (a, b) = tokio::join!(
            submit(&kari, &kari_page, "start_tt02_loading", ("comment", "")),
            submit(&ola, &ola_page, "reject", ("reason", "Dobbel bestilling.")),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [303, 409], "exactly one wins");
        let loser = if a.status() == 409 { a } else { b };
        let page = scraper::Html::parse_document(&loser.text().await.unwrap());
        let now = app.order_column(&reference, "status").await.unwrap();
        assert_eq!(attr(&page, "#status", "data-status"), now, "the loser sees the current state");
        assert!(text(&page, ".error-summary").contains("Noen andre endret bestillingen"));
        assert_eq!(app.events(&reference, "status_changed").await, 1);
    }

    async fn notes_are_on_the_timeline_and_mail_nobody(app) {
        let reference = app.order(&valid_json()).await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        let mails = app.count("mail_outbox").await;
        let token = browser.csrf().await;
        let path = format!("/admin/orders/{reference}/notes");
        let response = browser.post(&path, &[("csrf_token", token.as_str()), ("note", "Ringte kunden <b>i dag</b>.")]).await;
        assert_eq!(response.status(), 303);
        let (_, page) = browser.get_html(&format!("/admin/orders/{reference}")).await;
        assert!(text(&page, "#timeline").contains("Ringte kunden <b>i dag</b>."), "escaped, shown as typed");
        assert!(select(&page, "#timeline b").is_empty());
        assert_eq!(app.count("mail_outbox").await, mails);
        let empty = browser.post(&path, &[("csrf_token", token.as_str()), ("note", " ")]).await;
        assert_eq!(empty.status(), 422);
        assert_eq!(app.events(&reference, "note").await, 1);
    }

    async fn the_counts_by_status_stay_right_when_orders_arrive_at_once_and_move(app) {
        // New orders add to one of several rows of their status (so that, on PostgreSQL,
        // concurrent submissions do not wait on one row lock); the queue shows their sum.
        let submissions = (0..12u32).map(|i| {
            let mut body = valid_json();
            body["consumer_org_number"] = org_number(100 + i).into();
            let app = &app;
            async move { app.order(&body).await }
        });
        let references = futures_util::future::join_all(submissions).await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        kari.act(&references[0], "reject", &[("reason", "Feil scope.")]).await;
        kari.act(&references[1], "reject", &[("reason", "Feil scope.")]).await;
        kari.act(&references[2], "start_tt02_loading", &[]).await;

        let (_, page) = kari.get_html("/admin/orders").await;
        assert_eq!(text(&page, "a[data-status=received] .count"), "9");
        assert_eq!(text(&page, "a[data-status=rejected] .count"), "2");
        assert_eq!(text(&page, "a[data-status=tt02_loading] .count"), "1");
        use sqlx::Row;
        let rows = sqlx::query("SELECT status, COUNT(*) FROM orders GROUP BY status")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
        for row in rows {
            let status: String = row.get(0);
            let n: i64 = row.get(1);
            let shown = text(&page, &format!("a[data-status={status}] .count"));
            assert_eq!(shown, n.to_string(), "{status}");
        }
    }

    async fn the_queue_filters_searches_counts_and_exports(app) {
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let mut references = Vec::new();
        for (i, (env, scope, name, email)) in [
            ("test", "brreg:reelle/offentlig", "Ærlig Økonomi AS", "post@aerlig.no"),
            ("production", "brreg:reelle/offentlig", "=HYPERLINK(\"http://x\")", "a@formula.no"),
            ("test", "brreg:reelle/rapporteringspliktig", "Bank; Nord \"ASA\"", "b@bank.no"),
        ].into_iter().enumerate() {
            let mut body = valid_json();
            body["environment"] = env.into();
            body["scope"] = scope.into();
            body["consumer_org_name"] = name.into();
            body["consumer_contact_email"] = email.into();
            body["consumer_org_number"] = org_number(i as u32).into();
            if env == "production" {
                body.as_object_mut().unwrap().remove("ip_addresses");
                body.as_object_mut().unwrap().remove("acknowledge_test_data");
            }
            references.push(app.order(&body).await);
        }
        kari.act(&references[2], "reject", &[("reason", "Feil scope.")]).await;
        let token = kari.csrf().await;
        kari.post(&format!("/admin/orders/{}/assignment", references[1]), &[("csrf_token", token.as_str()), ("assign", "me")]).await;

        let shown = |page: &scraper::Html| -> Vec<String> {
            select(page, "table.queue a.reference").iter().map(|a| a.text().collect()).collect()
        };
        let cases: Vec<(String, Vec<&String>)> = vec![
            ("/admin/orders".into(), vec![&references[0], &references[1]]),
            ("/admin/orders?status=all".into(), vec![&references[0], &references[1], &references[2]]),
            ("/admin/orders?status=rejected".into(), vec![&references[2]]),
            ("/admin/orders?status=all&environment=production".into(), vec![&references[1]]),
            ("/admin/orders?status=all&scope=brreg%3Areelle%2Frapporteringspliktig".into(), vec![&references[2]]),
            ("/admin/orders?assigned=me".into(), vec![&references[1]]),
            ("/admin/orders?assigned=none".into(), vec![&references[0]]),
            (format!("/admin/orders?status=all&q={}", references[2].to_lowercase()), vec![&references[2]]),
            (format!("/admin/orders?q={}", org_number(0)), vec![&references[0]]),
            ("/admin/orders?q=974+760+673".into(), vec![&references[0], &references[1]]),
            ("/admin/orders?q=%C3%A6rlig+%C3%B8konomi".into(), vec![&references[0]]),
            ("/admin/orders?q=FORMULA.NO".into(), vec![&references[1]]),
            ("/admin/orders?q=100%25".into(), vec![]),
        ];
        for (path, expected) in cases {
            let (status, page) = kari.get_html(&path).await;
            assert_eq!(status, 200, "{path}");
            let mut got = shown(&page);
            got.sort();
            let mut expected: Vec<String> = expected.into_iter().cloned().collect();
            expected.sort();
            assert_eq!(got, expected, "{path}");
        }
        let (_, page) = kari.get_html("/admin/orders").await;
        assert_eq!(text(&page, "a[data-status=received] .count"), "2");
        assert_eq!(text(&page, "a[data-status=rejected] .count"), "1");
        assert_eq!(attr(&page, "#status option[selected]", "value"), "open");

        for bad in ["/admin/orders?status=lost", "/admin/orders?environment=moon", "/admin/orders?assigned=bob", "/admin/orders?after=garbage", "/admin/orders?scope=x"] {
            assert_eq!(kari.get(bad).await.status(), 400, "{bad}");
        }

        // The export: what the filter shows, one row per order, Excel-safe.
        let response = kari.get("/admin/orders.csv?status=all").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
        let bytes = response.bytes().await.unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a UTF-8 byte order mark for Excel");
        let csv = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 4, "{csv}");
        assert!(lines[0].starts_with("reference;status;environment;scope;vendor_org_number;vendor_org_name"));
        assert!(csv.contains(";Ærlig Økonomi AS;"), "{csv}");
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
        assert!(csv.contains(";\"Bank; Nord \"\"ASA\"\"\";"), "{csv}");
        assert!(csv.contains(";'+4791234567;"), "{csv}");
        assert!(!csv.contains(";=") && !csv.contains(";+"), "no cell starts a formula");
        // Times in Norwegian time, as a spreadsheet reads them; stored times stay UTC.
        let header: Vec<&str> = lines[0].split(';').collect();
        let column = header.iter().position(|c| *c == "created_at").unwrap();
        let reference_cell = lines[1].split(';').next().unwrap();
        let created = lines[1].split(';').nth(column).unwrap();
        let stored = app.order_column(reference_cell, "created_at").await.unwrap();
        let stored: chrono::DateTime<chrono::Utc> = stored.parse().unwrap();
        let oslo = stored.with_timezone(&chrono_tz::Europe::Oslo).format("%Y-%m-%d %H:%M:%S").to_string();
        assert_eq!(created, oslo, "{csv}");
        let open = kari.get("/admin/orders.csv?environment=production").await.text().await.unwrap();
        assert_eq!(open.split("\r\n").filter(|l| !l.is_empty()).count(), 2);
    }

    async fn the_queue_search_finds_any_part_of_a_name_or_email_and_takes_every_character_literally(app) {
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let mut references = Vec::new();
        for (i, (name, email)) in [
            ("Fjellheim Regnskap AS", "post.mottak@fjellheim-regnskap.no"),
            ("100% Drift_Partner AS", "drift@partner.no"),
            ("Bank; Nord \"ASA\"", "b@bank.no"),
            ("Ærlig Økonomi AS", "post@aerlig.no"),
        ].into_iter().enumerate() {
            let mut body = valid_json();
            body["consumer_org_name"] = name.into();
            body["consumer_contact_email"] = email.into();
            body["consumer_org_number"] = org_number(200 + i as u32).into();
            references.push(app.order(&body).await);
        }
        let r = &references;
        let cases: Vec<(&str, Vec<&String>)> = vec![
            // Three characters or more: through the search index.
            ("lheim regn", vec![&r[0]]),
            ("ottak@fjell", vec![&r[0]]),
            ("FJELLHEIM", vec![&r[0]]),
            ("ØKONOMI", vec![&r[3]]),
            ("leverandør", vec![&r[0], &r[1], &r[2], &r[3]]),
            ("finnes ikke", vec![]),
            // One or two characters: the walk.
            ("gn", vec![&r[0]]),
            ("æ", vec![&r[3]]),
            // LIKE's wildcards are plain characters, however long the text.
            ("%", vec![&r[1]]),
            ("_", vec![&r[1]]),
            ("0% d", vec![&r[1]]),
            ("t_p", vec![&r[1]]),
            ("t%p", vec![]),
            ("ba_k", vec![]),
            ("b_", vec![]),
            ("\\", vec![]),
            // The index's query syntax is plain text too.
            ("\"asa\"", vec![&r[2]]),
            ("nord \"", vec![&r[2]]),
            ("\"asa\" OR nord", vec![]),
            ("NEAR(bank nord)", vec![]),
            ("ban*", vec![]),
        ];
        for (q, expected) in cases {
            let query: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
            let path = format!("/admin/orders?status=all&q={query}");
            let (status, page) = kari.get_html(&path).await;
            assert_eq!(status, 200, "{q}");
            let mut got: Vec<String> = select(&page, "table.queue a.reference").iter().map(|a| a.text().collect()).collect();
            got.sort();
            let mut expected: Vec<String> = expected.into_iter().cloned().collect();
            expected.sort();
            assert_eq!(got, expected, "{q}");
        }
    }

    async fn the_queue_pages_through_many_orders_oldest_change_first(app) {
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let mut references = Vec::new();
        for i in 0..55 {
            let mut body = valid_json();
            body["consumer_org_number"] = org_number(100 + i).into();
            references.push(app.order(&body).await);
        }
        let (_, first) = kari.get_html("/admin/orders?environment=test").await;
        let mut seen: Vec<String> = select(&first, "table.queue a.reference").iter().map(|a| a.text().collect()).collect();
        assert_eq!(seen.len(), 50);
        assert_eq!(seen[0], references[0], "the longest waiting first");
        let next = attr(&first, "a[rel=next]", "href");
        assert!(next.contains("environment=test"), "the filter is kept: {next}");
        let (_, second) = kari.get_html(&next).await;
        seen.extend(select(&second, "table.queue a.reference").iter().map(|a| a.text().collect::<String>()));
        assert!(select(&second, "a[rel=next]").is_empty());
        assert_eq!(seen, references, "every order once, in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_see_failed_mail_in_the_outbox_and_can_send_it_again() {
    on_both_with(&[("RRH_MAIL_MAX_ATTEMPTS", "1")], |app| async move {
        app.smtp
            .fail_next
            .store(1, std::sync::atomic::Ordering::SeqCst);
        let reference = app.order(&valid_json()).await;
        app.smtp.wait_for(2).await;
        for _ in 0..100 {
            if app.count("mail_outbox WHERE status = 'failed'").await == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(app.count("mail_outbox WHERE status = 'failed'").await, 1);

        let handler = app.logged_in("kari@brreg.no", "case-handler").await;
        assert_eq!(
            handler.get("/admin/outbox").await.status(),
            403,
            "case handlers do not see the outbox"
        );
        // Nor can they send mail again: the answer names the role, whatever the form carried.
        let retry = "/admin/outbox/0192f0c1-0000-7000-8000-000000000000/retry";
        let response = handler.post(retry, &[]).await;
        assert_eq!(response.status(), 403);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(
            text(&page, "main").contains("administratorer"),
            "{}",
            text(&page, "main")
        );
        let admin = app.logged_in("admin@brreg.no", "admin").await;
        assert_eq!(handler.get("/admin/users").await.status(), 403);
        let (status, users) = admin.get_html("/admin/users").await;
        assert_eq!(status, 200);
        let listed: Vec<String> = select(&users, "table.users tbody tr td:nth-child(2)")
            .iter()
            .map(|td| td.text().collect())
            .collect();
        assert_eq!(listed, ["admin@brreg.no", "kari@brreg.no"]);
        let (status, page) = admin.get_html("/admin/outbox").await;
        assert_eq!(status, 200);
        let rows = select(&page, "table.outbox tbody tr");
        assert_eq!(rows.len(), 1);
        // Machines read the time as RFC 3339; people read the text.
        let datetime = attr(&page, "table.outbox time", "datetime");
        assert!(
            chrono::DateTime::parse_from_rfc3339(&datetime).is_ok(),
            "{datetime}"
        );
        let row = text(&page, "table.outbox tbody tr");
        assert!(row.contains(&reference), "{row}");
        assert!(row.contains("451"), "the last error is shown: {row}");
        let (_, sent) = admin.get_html("/admin/outbox?status=sent").await;
        assert_eq!(select(&sent, "table.outbox tbody tr").len(), 2);
        assert!(
            !page.html().contains("Hei,"),
            "no bodies on the outbox page"
        );

        let action = attr(&page, "table.outbox form", "action");
        let token = attr(&page, "table.outbox form input[name=csrf_token]", "value");
        assert_eq!(
            admin
                .post(&action, &[("csrf_token", "wrong")])
                .await
                .status(),
            403
        );
        assert_eq!(
            handler
                .post(&action, &[("csrf_token", token.as_str())])
                .await
                .status(),
            403
        );
        let response = admin.post(&action, &[("csrf_token", token.as_str())]).await;
        assert_eq!(response.status(), 303);
        app.smtp.wait_for(3).await;
        for _ in 0..100 {
            if app.count("mail_outbox WHERE status = 'sent'").await == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(app.count("mail_outbox WHERE status = 'sent'").await, 3);
        // Retrying again is harmless: the message is no longer failed.
        let again = admin.post(&action, &[("csrf_token", token.as_str())]).await;
        assert!(
            again.headers()["location"]
                .to_str()
                .unwrap()
                .contains("not_failed")
        );
        assert_eq!(app.smtp.received().len(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_session_cookie_is_secure() {
    on_both_with(&[("RRH_BASE_URL", "https://rrh.test")], |app| async move {
        app.add_user("kari@brreg.no", "Kari", "case-handler").await;
        let response = app.browser().login("kari@brreg.no", PASSWORD).await;
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("rrh_session="))
            .expect("a session cookie");
        assert!(cookie.contains("Secure"), "{cookie}");
        // Browsers are told to use https only, for a year, on every answer.
        for path in ["/", "/admin/login", "/nope"] {
            let response = app.get(path).await;
            assert_eq!(
                response.headers()["strict-transport-security"],
                "max-age=31536000; includeSubDomains",
                "{path}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends() {
    on_both_with(&[("RRH_SESSION_IDLE_MINUTES", "0")], |app| async move {
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let response = browser.get("/admin/orders").await;
        assert_eq!(response.status(), 303);
        assert_eq!(
            app.count("sessions").await,
            0,
            "the expired session is deleted"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_its_absolute_limit_however_busy() {
    on_both_with(&[("RRH_SESSION_MAX_HOURS", "0")], |app| async move {
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(browser.get("/admin/orders").await.status(), 303);
    })
    .await;
}
