//! The contacts' journey: every email takes its reader to their own page, which says where
//! the order stands, whose step it is and what the reader does now.

use crate::helpers::*;
use crate::on_both_databases;

/// Waits for `count` emails after the first `skip`, and returns them.
async fn mails_since(
    app: &TestApp,
    skip: usize,
    count: usize,
) -> Vec<(String, String, String, String)> {
    app.smtp.wait_for(skip + count).await;
    mails_after(app, skip)
}

fn states(page: &scraper::Html) -> Vec<(String, String)> {
    select(page, "#progress li")
        .iter()
        .map(|li| {
            let v = li.value();
            (
                v.attr("data-status").unwrap().to_owned(),
                v.attr("data-state").unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

on_both_databases! {
    async fn every_status_email_carries_the_readers_own_live_link_even_after_a_resend(app) {
        let mut body = valid_json();
        body["consumer_contact_name"] = "Kari Kunde".into();
        let reference = app.order(&body).await;
        let (first_vendor, first_consumer) = track_links(&app, &reference).await;
        let registry: Vec<_> = mails_since(&app, 0, 3).await.into_iter()
            .filter(|(to, ..)| to == "opendata.rrh@brreg.no").collect();
        assert_eq!(registry.len(), 1);
        assert!(!registry[0].2.contains("/track/"), "no private link goes to the registry");
        assert!(registry[0].2.contains(&format!("/admin/orders/{reference}")), "its link to the case stays");

        // The vendor asks for its links again: its earlier ones stop working.
        let before = app.mail_settled().await;
        let browser = app.browser();
        let (_, page) = browser.get_html("/track").await;
        let token = attr(&page, "input[name=csrf_token]", "value");
        let response = browser.post("/track", &[("csrf_token", token.as_str()), ("contact_email", "ola@leverandor.no")]).await;
        assert_eq!(response.status(), 303);
        let resent = mails_since(&app, before, 1).await;
        let resent_link = track_link_in(&resent[0].2);
        assert_eq!(app.get(&first_vendor).await.status(), 404);

        // The next status email carries a live link for each contact, its own, and says what
        // that contact does now; the greeting uses the name when the form had one.
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        let before = app.mail_settled().await;
        assert_eq!(kari.act(&reference, "start_tt02_loading", &[]).await.status(), 303);
        let mails = mails_since(&app, before, 2).await;
        let mut seen = Vec::new();
        for (to, _, text, html) in &mails {
            let link = track_link_in(text);
            assert!(html.contains(&format!("{link}?lang=nb")), "the HTML part has the same link");
            assert_ne!(link, resent_link, "a link of its own, not one sent before");
            let (status, page) = app.get_html(&link).await;
            assert_eq!(status, 200, "{to}");
            let role = attr(&page, "#next-step", "data-role");
            seen.push((to.clone(), role.clone()));
            assert!(text.contains(&self::text(&page, "#next-step-text")), "{to}: {text}");
            if role == "consumer" {
                assert!(text.starts_with("Hei Kari Kunde,"), "{text}");
                assert!(html.contains("<p>Hei Kari Kunde,</p>"), "{html}");
            } else {
                assert!(text.starts_with("Hei,"), "no name given for the vendor's contact");
            }
            // The sign-off keeps its line break in HTML too.
            assert!(html.contains("Vennlig hilsen<br>Brønnøysundregistrene"), "{html}");
        }
        seen.sort();
        assert_eq!(seen, [("kari@kunde.no".to_owned(), "consumer".to_owned()), ("ola@leverandor.no".to_owned(), "vendor".to_owned())]);
        // Links sent earlier keep working, apart from the ones the resend replaced.
        assert_eq!(app.get(&first_consumer).await.status(), 200);
        assert_eq!(app.get(&resent_link).await.status(), 200);
        assert_eq!(app.get(&first_vendor).await.status(), 404);
        // Only hashes are kept, as before: the mail bodies are erased once sent.
        for _ in 0..100 {
            if app.count("mail_outbox WHERE status = 'sent'").await == 6 { break; }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(app.count("mail_outbox WHERE status = 'sent' AND body_text = ''").await, 6);
    }

    async fn the_contacts_pages_show_the_steps_and_whose_turn_it_is(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        let (_, page) = app.get_html(&vendor).await;
        assert_eq!(states(&page), pairs(&[("received", "current"), ("tt02_loading", "to_come"), ("tt02_loaded", "to_come"),
            ("delegated", "to_come"), ("token_verified", "to_come"), ("completed", "to_come")]));
        assert_eq!(text(&page, "#progress-turn"), "Nå er det Brønnøysundregistrene som har neste steg.");
        assert_eq!(text(&page, "#progress-expected"), "Brønnøysundregistrenes steg tar vanligvis inntil 3 arbeidsdager.");
        assert_eq!(attr(&page, "#progress li[aria-current=step]", "data-status"), "received");
        assert_eq!(attr(&page, "#progress a", "href"), "/help#statuses");

        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        assert_eq!(kari.act(&reference, "start_tt02_loading", &[]).await.status(), 303);
        assert_eq!(kari.act(&reference, "mark_tt02_loaded", &[("tt02_identity", "01818610099")]).await.status(), 303);
        let (_, page) = app.get_html(&consumer).await;
        assert_eq!(states(&page)[..4], pairs(&[("received", "done"), ("tt02_loading", "done"), ("tt02_loaded", "current"), ("delegated", "to_come")]));
        assert_eq!(text(&page, "#progress-turn"), "Nå er det din tur.");
        assert_eq!(text(&page, "#progress-meaning"), "Lest inn i TT02: Begge virksomhetene er i TT02, og kunden kan logge inn og delegere scopet.");
        assert!(text(&page, "#next-step-text").starts_with("Logg inn i Altinn TT02"));
        assert!(!select(&page, "#delegation button").is_empty(), "the step it names is on the page");
        let (_, page) = app.get_html(&vendor).await;
        assert_eq!(text(&page, "#progress-turn"), "Nå er det Kunde Bank ASA (kunden) som har neste steg.");
        assert!(text(&page, "#next-step-text").starts_with("Du trenger ikke gjøre noe nå"));
        assert!(select(&page, "#token-check").is_empty(), "and offers nothing it does not ask for");
    }

    async fn a_production_order_asks_the_consumer_first_as_its_page_shows(app) {
        let reference = app.order(&production_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        let (_, page) = app.get_html(&format!("{consumer}?lang=en")).await;
        assert_eq!(states(&page), pairs(&[("received", "current"), ("delegated", "to_come"), ("token_verified", "to_come"), ("completed", "to_come")]));
        assert_eq!(text(&page, "#progress-turn"), "It is your turn now.");
        assert!(text(&page, "#next-step-text").starts_with("Delegate the scope to Leverandør Systemer AS in Altinn"));
        assert!(!select(&page, "#delegation button").is_empty());
        let (_, page) = app.get_html(&format!("{vendor}?lang=en")).await;
        assert_eq!(text(&page, "#progress-turn"), "Kunde Bank ASA (the customer) has the next step.");
        // The receipt is the same path, told to nobody in particular.
        let (_, page) = app.get_html(&format!("/orders/{reference}/receipt?lang=en")).await;
        assert_eq!(states(&page).len(), 4);
        assert_eq!(text(&page, "#progress-turn"), "Kunde Bank ASA (the customer) has the next step.");
        assert_eq!(text(&page, "h1"), "Your order has been received");
    }

    async fn a_rejected_order_says_so_at_the_top_with_the_reason_only_to_its_contacts(app) {
        let reference = app.order(&valid_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        let kari = app.logged_in("kari@brreg.no", "case-handler").await;
        assert_eq!(kari.act(&reference, "start_tt02_loading", &[]).await.status(), 303);
        let reason = "Kunden har ikke tilgang til scopet.";
        assert_eq!(kari.act(&reference, "reject", &[("reason", reason)]).await.status(), 303);
        for link in [&vendor, &consumer] {
            let (_, page) = app.get_html(link).await;
            let top: Vec<_> = select(&page, "main > *").iter().map(|e| e.value().id().unwrap_or("").to_owned()).collect();
            let ended = top.iter().position(|id| id == "ended").expect("the ended panel");
            assert!(ended < top.iter().position(|id| id == "next-step").unwrap(), "at the top: {top:?}");
            assert_eq!(text(&page, "#ended h2"), "Bestillingen er avvist");
            assert!(text(&page, "#ended").contains(reason));
            assert_eq!(states(&page), pairs(&[("received", "done"), ("tt02_loading", "done"), ("tt02_loaded", "skipped"),
                ("delegated", "skipped"), ("token_verified", "skipped"), ("completed", "skipped")]));
            assert!(select(&page, "#progress-turn").is_empty() && select(&page, "#progress-expected").is_empty());
        }
        let (_, page) = app.get_html(&format!("/orders/{reference}/receipt")).await;
        assert_eq!(text(&page, "h1"), "Bestillingen er avvist");
        assert!(select(&page, ".panel--success").is_empty(), "never green");
        assert_eq!(text(&page, "#receipt-status"), "Avvist");
        assert!(!page.html().contains(reason), "the receipt is open to anyone with the reference");
        assert!(!page.html().contains("Bestillingen er mottatt"));
    }

    async fn a_withdrawn_order_shows_the_vendors_reason_or_that_none_was_given(app) {
        let reference = app.order(&production_json()).await;
        let (vendor, consumer) = track_links(&app, &reference).await;
        assert_eq!(post_contact_step(&app, &vendor, "withdrawal", &[("withdraw_reason", "Feil kunde.")]).await.status(), 303);
        let (_, page) = app.get_html(&format!("{consumer}?lang=en")).await;
        assert_eq!(text(&page, "#ended h2"), "The order has been withdrawn");
        assert!(text(&page, "#ended").contains("Reason given by the system vendor: Feil kunde."));
        let (_, page) = app.get_html(&format!("/orders/{reference}/receipt?lang=en")).await;
        assert_eq!(text(&page, "h1"), "The order has been withdrawn");
    }
}

#[tokio::test]
async fn the_help_page_says_what_each_status_means_and_how_long_the_registry_takes() {
    on_both_with(&[("RRH_EXPECTED_WORKING_DAYS", "1")], |app| async move {
        let (status, page) = app.get_html("/help").await;
        assert_eq!(status, 200);
        assert!(text(&page, "#statuses + p").ends_with("tar vanligvis inntil 1 arbeidsdag."));
        for (status, meaning) in [
            ("received", "har fått bestillingen"),
            ("tt02_loaded", "kan logge inn og delegere"),
            ("withdrawn", "trukket bestillingen tilbake"),
        ] {
            assert!(
                text(&page, &format!("#status-{status} dd")).contains(meaning),
                "{status}"
            );
        }
        assert_eq!(select(&page, "dl.statuses > div").len(), 8);
        let reference = app.order(&valid_json()).await;
        let (vendor, _) = track_links(&app, &reference).await;
        let (_, page) = app.get_html(&format!("{vendor}?lang=en")).await;
        assert_eq!(
            text(&page, "#progress-expected"),
            "The Brønnøysund Register Centre's steps usually take up to 1 working day."
        );
    })
    .await;
}
