//! Enhetsregisteret lookups on submission, against a local server playing the register.

use crate::helpers::*;
use crate::on_both_databases;

/// The valid order with a consumer the register is asked about (8xxxxxxxx: not synthetic).
fn order_with_consumer(number: &str, name: &str) -> serde_json::Value {
    let mut body = valid_json();
    body["consumer_org_number"] = number.into();
    body["consumer_org_name"] = name.into();
    body
}

async fn registry_text(app: &TestApp, reference: &str) -> String {
    let browser = app
        .logged_in(
            &format!("{}@brreg.no", reference.to_lowercase()),
            "case-handler",
        )
        .await;
    let (_, page) = browser
        .get_html(&format!("/admin/orders/{reference}"))
        .await;
    text(&page, "#registry-check")
}

on_both_databases! {
    async fn an_organisation_unknown_to_the_register_is_refused_and_nothing_is_stored(app) {
        let consumer = org_number(1);
        app.register.set(&consumer, 404, serde_json::json!({"feilmelding": "Ingen enhet"}));
        let response = app.post_json(&order_with_consumer(&consumer, "Kunde AS")).await;
        assert_eq!(response.status(), 422);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["errors"]["consumer_org_number"]["code"], "org_not_found");
        assert!(body["errors"]["consumer_org_number"]["message"].as_str().unwrap().contains("Enhetsregisteret"));
        assert_eq!(app.count("orders").await, 0);
        assert_eq!(app.count("mail_outbox").await, 0);

        // The form says the same, next to the field, with what was typed kept.
        let form = with(with(valid_form(), "consumer_org_number", Box::leak(consumer.clone().into_boxed_str())), "consumer_org_name", "Kunde AS");
        let response = app.submit_form(&form).await;
        assert_eq!(response.status(), 422);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(attr(&page, ".error-summary a", "href"), "#consumer_org_number");
        assert_eq!(attr(&page, "#consumer_org_number", "value"), consumer);
        assert_eq!(app.count("orders").await, 0);
    }

    async fn a_removed_organisation_is_refused(app) {
        app.register.set("974760673", 410, serde_json::json!({"feilmelding": "Slettet"}));
        let response = app.post_json(&valid_json()).await;
        assert_eq!(response.status(), 422);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["errors"]["vendor_org_number"]["code"], "org_removed");
        assert_eq!(app.count("orders").await, 0);
    }

    async fn a_differing_name_and_a_bankruptcy_are_shown_to_the_case_handler(app) {
        let consumer = org_number(2);
        app.register.set(&consumer, 200, serde_json::json!({"organisasjonsnummer": consumer, "navn": "ANNET NAVN ASA", "konkurs": true}));
        let reference = app.order(&order_with_consumer(&consumer, "Kunde Bank ASA")).await;
        let shown = registry_text(&app, &reference).await;
        assert!(shown.contains("Navnet avviker"), "{shown}");
        assert!(shown.contains("ANNET NAVN ASA"), "{shown}");
        assert!(shown.contains("Konkurs"), "{shown}");
        // The vendor, with the register's own spelling of the same name, is simply found.
        let browser = app.logged_in("ola@brreg.no", "case-handler").await;
        let (_, page) = browser.get_html(&format!("/admin/orders/{reference}")).await;
        assert_eq!(attr(&page, "#registry-vendor", "data-flagged"), "false");
        assert_eq!(attr(&page, "#registry-consumer", "data-flagged"), "true");
    }

    async fn when_the_register_is_down_the_order_is_taken_and_marked_not_verified(app) {
        app.register.down.store(true, std::sync::atomic::Ordering::SeqCst);
        let reference = app.order(&order_with_consumer(&org_number(3), "Kunde AS")).await;
        let shown = registry_text(&app, &reference).await;
        assert!(shown.contains("ikke verifisert"), "{shown}");
        assert_eq!(app.count("mail_outbox").await, 3, "the order went on as usual");
    }

    async fn answers_are_cached_and_synthetic_organisations_are_not_looked_up(app) {
        app.order(&valid_json()).await;
        let mut again = valid_json();
        again["consumer_org_number"] = org_number(4).into();
        app.order(&again).await;
        let asked = app.register.asked.lock().unwrap().clone();
        assert_eq!(asked.iter().filter(|n| *n == "974760673").count(), 1, "{asked:?}");
        assert!(!asked.contains(&"313876144".to_owned()), "a TT02 organisation is not asked about: {asked:?}");
    }
}

on_both_databases! {
    async fn in_production_every_number_is_looked_up(app) {
        let body = production_json();
        app.register.set("313876144", 404, serde_json::json!({}));
        let response = app.post_json(&body).await;
        assert_eq!(response.status(), 422, "a synthetic organisation has no production access");
        assert!(app.register.asked.lock().unwrap().contains(&"313876144".to_owned()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_from_one_address_are_limited_per_hour() {
    on_both_with(&[("RRH_ORDERS_PER_HOUR", "2")], |app| async move {
        for i in 0..2 {
            let mut body = valid_json();
            body["consumer_org_number"] = org_number(20 + i).into();
            app.order(&body).await;
        }
        let mut body = valid_json();
        body["consumer_org_number"] = org_number(30).into();
        let response = app.post_json(&body).await;
        assert_eq!(response.status(), 429);
        assert!(response.headers().contains_key("retry-after"));
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["error"], "rate_limited");
        let form = app.submit_form(&valid_form()).await;
        assert_eq!(form.status(), 429);
        assert_eq!(app.count("orders").await, 2);
    })
    .await;
}

/// The count is taken in each order's own transaction: orders sent at the same moment
/// cannot slip past the limit together, and the refused ones leave nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_orders_from_one_address_stop_at_the_limit() {
    on_both_with(&[("RRH_ORDERS_PER_HOUR", "3")], |app| async move {
        let sends = (0..8).map(|i| {
            let mut body = valid_json();
            body["consumer_org_number"] = org_number(40 + i).into();
            let app = &app;
            async move { app.post_json(&body).await.status().as_u16() }
        });
        let mut statuses = futures_util::future::join_all(sends).await;
        statuses.sort();
        assert_eq!(statuses, [201, 201, 201, 429, 429, 429, 429, 429]);
        assert_eq!(app.count("orders").await, 3);
        assert_eq!(app.count("mail_outbox").await, 9);
    })
    .await;
}

/// An order the registry refuses still counts against the limit: each cost a look-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_the_registry_refuses_count_against_the_limit() {
    on_both_with(&[("RRH_ORDERS_PER_HOUR", "2")], |app| async move {
        for i in 0..2 {
            let mut body = valid_json();
            body["consumer_org_number"] = org_number(50 + i).into();
            app.register.set(
                &org_number(50 + i),
                404,
                serde_json::json!({"feilmelding": "Ingen enhet"}),
            );
            assert_eq!(app.post_json(&body).await.status(), 422);
        }
        let mut body = valid_json();
        body["consumer_org_number"] = org_number(60).into();
        assert_eq!(app.post_json(&body).await.status(), 429);
        assert_eq!(app.count("orders").await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_register_never_loses_an_order() {
    on_both_with(
        &[
            (
                "RRH_ENHETSREGISTERET_URL",
                "http://127.0.0.1:9/enhetsregisteret/api",
            ),
            ("RRH_ENHETSREGISTERET_TIMEOUT_MS", "500"),
        ],
        |app| async move {
            let mut body = valid_json();
            body["consumer_org_number"] = org_number(5).into();
            let reference = app.order(&body).await;
            assert!(
                app.order_column(&reference, "registry_check")
                    .await
                    .unwrap()
                    .contains("unavailable")
            );
        },
    )
    .await;
}
