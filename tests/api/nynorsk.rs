//! Nynorsk (`nn`), the third language: chosen with `?lang=nn` (and remembered), or by the
//! browser's `Accept-Language`; on the pages, in the messages, and in the emails of an order
//! made in it.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_databases;

/// What the header's language switch offers: (hreflang, name) of each link.
fn switch(page: &scraper::Html) -> Vec<(String, String)> {
    select(page, "header nav .lang-list a")
        .iter()
        .map(|a| {
            let name = a.text().collect::<String>().trim().to_owned();
            (a.value().attr("hreflang").unwrap().to_owned(), name)
        })
        .collect()
}

fn pair(code: &str, name: &str) -> (String, String) {
    (code.to_owned(), name.to_owned())
}

/// The private link in an email's text, with its query (`?lang=`).
fn track_url(body: &str) -> String {
    let start = body
        .find("/track/")
        .unwrap_or_else(|| panic!("no private link in:\n{body}"));
    body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

on_both_databases! {
    async fn the_order_form_is_in_nynorsk_with_lang_nn_and_the_switch_offers_the_other_two(app) {
        let (status, form) = app.get_html("/orders/new?lang=nn").await;
        assert_eq!(status, 200);
        assert_eq!(attr(&form, "html", "lang"), "nn");
        assert_eq!(text(&form, "h1"), "Bestill tilgang");
        assert_eq!(text(&form, "main form button[type=submit]"), "Send bestillinga");
        assert!(text(&form, "main").contains("Verksemda som skal kalle API-et på vegner av kunden."));
        // The form carries its language, so the answer and the emails are in it too.
        assert_eq!(attr(&form, "input[name=language]", "value"), "nn");

        assert_eq!(switch(&form), [pair("nb", "Norsk (bokmål)"), pair("en", "English")]);
        for link in select(&form, "header nav .lang-list a") {
            let code = link.value().attr("hreflang").unwrap();
            assert_eq!(link.value().attr("lang"), Some(code), "named in its own language");
            assert_eq!(link.value().attr("href"), Some(format!("/orders/new?lang={code}").as_str()));
        }

        // Remembered on the next page.
        let (_, help) = app.get_html("/help").await;
        assert_eq!(attr(&help, "html", "lang"), "nn");
        assert_eq!(text(&help, "h1"), "Kvar du kan få hjelp");

        // Bokmål and English offer nynorsk in turn.
        let (_, nb) = app.get_html("/?lang=nb").await;
        assert_eq!(attr(&nb, "html", "lang"), "nb");
        assert_eq!(switch(&nb), [pair("nn", "Norsk (nynorsk)"), pair("en", "English")]);
        let (_, en) = app.get_html("/?lang=en").await;
        assert_eq!(switch(&en), [pair("nb", "Norsk (bokmål)"), pair("nn", "Norsk (nynorsk)")]);
    }

    async fn the_accessibility_statement_no_longer_lists_nynorsk_as_missing(app) {
        for (lang, title) in [("nb", "Tilgjengelighetserklæring"), ("nn", "Tilgjengelegheitserklæring"), ("en", "Accessibility statement")] {
            let (status, statement) = app.get_html(&format!("/accessibility?lang={lang}")).await;
            assert_eq!(status, 200);
            assert_eq!(text(&statement, "h1"), title);
            let gaps = text(&statement, "#known-gaps").to_lowercase();
            assert!(!gaps.contains("nynorsk"), "{lang}: {gaps}");
        }
    }

    async fn a_browser_that_asks_for_nynorsk_gets_nynorsk(app) {
        let page_for = |accept: &'static str| {
            let request = app.client.get(app.url("/")).header("accept-language", accept);
            async move {
                let response = request.send().await.unwrap();
                scraper::Html::parse_document(&response.text().await.unwrap())
            }
        };
        let page = page_for("nn-NO,nn;q=0.9,nb;q=0.8,en;q=0.5").await;
        assert_eq!(attr(&page, "html", "lang"), "nn");
        assert!(text(&page, "main").contains("Slik går det føre seg"), "{}", text(&page, "main"));
        // Plain Norwegian is bokmål, and a lower q for nynorsk loses.
        assert_eq!(attr(&page_for("no").await, "html", "lang"), "nb");
        assert_eq!(attr(&page_for("nb-NO,nn;q=0.5").await, "html", "lang"), "nb");
    }

    async fn an_order_in_nynorsk_is_stored_as_nn_and_confirmed_in_nynorsk(app) {
        let response = app.submit_form(&with(valid_form(), "language", "nn")).await;
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.ends_with("?lang=nn"), "{location}");
        let reference = location.split('/').nth(2).unwrap().to_owned();
        assert_eq!(app.order_column(&reference, "language").await.as_deref(), Some("nn"));

        let (_, receipt) = app.get_html(&location).await;
        assert_eq!(attr(&receipt, "html", "lang"), "nn");
        assert_eq!(text(&receipt, "h1"), "Bestillinga er motteken");
        assert_eq!(text(&receipt, "#progress-heading"), "Kvar bestillinga står");

        let received = app.smtp.wait_for(3).await;
        for (address, intro) in [
            ("ola@leverandor.no", "Brønnøysundregistra har teke imot bestillinga di"),
            ("kari@kunde.no", "Du er ført opp som kontaktperson."),
        ] {
            let mail = received.iter().find(|m| m.rcpt_to == [address]).unwrap_or_else(|| panic!("no mail to {address}"));
            let message = mail.parsed();
            assert_eq!(message.subject().unwrap(), format!("Vi har teke imot bestillinga di ({reference})"));
            let body = message.body_text(0).unwrap().to_string();
            for expected in [intro, "Dette skjer vidare", "Venleg helsing", "Brønnøysundregistra – Register over reelle rettshavarar"] {
                assert!(body.contains(expected), "{expected:?} missing in:\n{body}");
            }
            let html = scraper::Html::parse_document(&message.body_html(0).unwrap());
            assert_eq!(attr(&html, "html", "lang"), "nn");

            // The private link opens the contact's page in nynorsk.
            let link = track_url(&body);
            assert!(link.ends_with("?lang=nn"), "{link}");
            let (status, page) = app.get_html(&link).await;
            assert_eq!(status, 200);
            assert_eq!(attr(&page, "html", "lang"), "nn");
            assert!(text(&page, "main").contains("Dette er sida til kontaktpersonen hos"));
        }
        // The registry's own email stays in bokmål.
        let registry = received.iter().find(|m| m.rcpt_to == ["opendata.rrh@brreg.no"]).unwrap().parsed();
        assert!(registry.body_text(0).unwrap().contains("Kontaktpersonens e-postadresse"));
    }

    async fn a_mistake_on_the_nynorsk_form_is_explained_in_nynorsk(app) {
        let fields = with(with(with(valid_form(),
            "language", "nn"),
            "vendor_org_number", "974 760 674"),
            "consumer_contact_email", "");
        let response = app.submit_form(&fields).await;
        assert_eq!(response.status(), 422);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(attr(&page, "html", "lang"), "nn");
        assert!(text(&page, "title").starts_with("Feil:"), "{}", text(&page, "title"));
        assert!(text(&page, ".error-summary").contains("Bestillinga kan ikkje sendast enno"));
        let org_number = text(&page, "#vendor_org_number-error");
        assert!(org_number.contains("Organisasjonsnummeret til systemleverandøren er ikkje eit gyldig organisasjonsnummer"), "{org_number}");
        let email = text(&page, "#consumer_contact_email-error");
        assert!(email.contains("Fyll inn e-postadressa til kontaktpersonen hos kunden."), "{email}");
        // Sent again, the form is still in nynorsk.
        assert_eq!(attr(&page, "input[name=language]", "value"), "nn");
        assert_eq!(app.count("orders").await, 0);
    }

    async fn a_json_order_in_nynorsk_gets_its_messages_and_status_emails_in_nynorsk(app) {
        let mut body = valid_json();
        body["language"] = json!("nn");
        body["consumer_contact_phone"] = json!("22 22 22 22");
        let response = app.post_json(&body).await;
        assert_eq!(response.status(), 422);
        let answer: Value = response.json().await.unwrap();
        let message = answer["errors"]["consumer_contact_phone"]["message"].as_str().unwrap();
        assert!(message.contains("er ikkje eit mobilnummer"), "{message}");

        body["consumer_contact_phone"] = json!("412 34 567");
        let reference = app.order(&body).await;
        assert_eq!(app.order_column(&reference, "language").await.as_deref(), Some("nn"));
        app.smtp.wait_for(3).await;
        let before = app.mail_settled().await;
        let browser = app.logged_in("kari@brreg.no", "case-handler").await;
        assert_eq!(browser.act(&reference, "start_tt02_loading", &[]).await.status(), 303);
        let received = app.smtp.wait_for(before + 2).await;
        for mail in received.iter().skip(before) {
            let message = mail.parsed();
            let subject = message.subject().unwrap();
            assert_eq!(subject, format!("Bestilling {reference}: Under innlesing i TT02"));
            let text = message.body_text(0).unwrap();
            assert!(text.contains("Brønnøysundregistra har byrja å lese inn"), "{text}");
            assert!(text.contains("Du treng ikkje gjere noko no."), "{text}");
            assert!(text.contains("Kva du gjer no"), "{text}");
        }
    }
}
