use crate::helpers::*;
use crate::on_both_databases;

/// Every visible form control has a label (or, for radios, a fieldset legend).
fn assert_every_control_is_labelled(page: &scraper::Html) {
    for control in select(page, "form input:not([type=hidden]), form textarea") {
        let id = control.value().attr("id").expect("every control has an id");
        assert!(
            !select(page, &format!("label[for='{id}']")).is_empty(),
            "control {id} has no label"
        );
    }
    for fieldset in select(page, "form fieldset") {
        assert!(
            fieldset
                .select(&scraper::Selector::parse("legend").unwrap())
                .next()
                .is_some()
        );
    }
}

/// Loads the order form and returns its CSRF token and one-time submission id.
async fn form_ids(app: &TestApp) -> (String, String) {
    let (_, page) = app.get_html("/orders/new").await;
    (
        attr(&page, "input[name=csrf_token]", "value"),
        attr(
            &page,
            "form input[type=hidden][name=submission_id]",
            "value",
        ),
    )
}

/// Posts `fields` with the given CSRF token and submission id, as a browser sends the page.
async fn post_page(
    app: &TestApp,
    token: &str,
    submission_id: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut body = vec![("csrf_token", token), ("submission_id", submission_id)];
    body.extend_from_slice(fields);
    app.client
        .post(app.url("/orders"))
        .form(&body)
        .send()
        .await
        .unwrap()
}

on_both_databases! {
    async fn the_form_labels_every_field_and_carries_a_csrf_token(app) {
        let (status, page) = app.get_html("/orders/new").await;
        assert_eq!(status, 200);
        assert_every_control_is_labelled(&page);
        assert_eq!(attr(&page, "input[name=csrf_token]", "value").len(), 64);
        assert_eq!(attr(&page, "form", "method"), "post");
        for name in ["environment", "scope", "vendor_org_number", "vendor_org_name",
            "vendor_contact_email", "vendor_contact_phone", "consumer_org_number",
            "consumer_org_name", "consumer_contact_email", "consumer_contact_phone",
            "ip_addresses", "acknowledge_test_data", "maskinporten_client_id", "message"] {
            assert!(!select(&page, &format!("[name={name}]")).is_empty(), "{name} missing");
        }
        // The scope options come from configuration and show the delegation schema.
        assert!(text(&page, "form").contains("Register over reelle rettighetshavere - Rapporteringspliktig virksomhet - På vegne av"));
        assert!(!page.html().contains("error-summary"));
    }

    async fn a_valid_test_order_from_the_form_is_stored_and_lands_on_a_receipt(app) {
        let response = app.submit_form(&valid_form()).await;
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("/orders/RRH-"), "{location}");
        let reference = location.split('/').nth(2).unwrap().to_owned();

        let (status, receipt) = app.get_html(&location).await;
        assert_eq!(status, 200);
        assert_eq!(text(&receipt, "#reference"), reference);
        assert_eq!(text(&receipt, "h1"), "Bestillingen er mottatt");
        assert!(text(&receipt, "main").contains("Kunde Bank ASA"));
        // No personal data on a page reached by reference alone.
        assert!(!receipt.html().contains("ola@leverandor.no"));

        assert_eq!(app.count("orders").await, 1);
        assert_eq!(app.order_column(&reference, "status").await.as_deref(), Some("received"));
        assert_eq!(app.order_column(&reference, "vendor_org_number").await.as_deref(), Some("974760673"));
        assert_eq!(app.order_column(&reference, "vendor_contact_phone").await.as_deref(), Some("+4791234567"));
        assert_eq!(app.order_column(&reference, "consumer_contact_phone").await.as_deref(), Some("+4741234567"));
        assert_eq!(
            app.order_column(&reference, "ip_addresses").await.as_deref(),
            Some(r#"["8.8.8.8","2a00:1450:4001::/48"]"#)
        );
        assert!(app.order_column(&reference, "test_data_acknowledged_at").await.is_some());
        assert_eq!(app.count("order_events").await, 1);
        assert_eq!(app.count("mail_outbox").await, 3);
    }

    async fn mistakes_are_explained_next_to_each_field_and_what_was_typed_stays(app) {
        let fields = with(with(with(with(valid_form(),
            "vendor_org_number", "974 760 674"),
            "consumer_contact_email", "kari@"),
            "ip_addresses", "192.168.1.10"),
            "acknowledge_test_data", "");
        let response = app.submit_form(&fields).await;
        assert_eq!(response.status(), 422);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());

        assert!(text(&page, "title").starts_with("Feil:"), "{}", text(&page, "title"));
        // The summary takes focus on load, without JavaScript, so keyboard and screen-reader
        // users land on it.
        assert!(!select(&page, ".error-summary[autofocus][tabindex='-1']").is_empty());
        let links: Vec<String> = select(&page, ".error-summary a")
            .iter()
            .map(|a| a.value().attr("href").unwrap().to_owned())
            .collect();
        assert_eq!(links, ["#vendor_org_number", "#consumer_contact_email", "#ip_addresses", "#acknowledge_test_data"]);
        for link in &links {
            let id = &link[1..];
            assert_eq!(attr(&page, link, "aria-invalid"), "true", "{id}");
            let described = attr(&page, link, "aria-describedby");
            assert!(described.split(' ').any(|d| d == format!("{id}-error")), "{id}: {described}");
            assert!(!select(&page, &format!("#{id}-error")).is_empty());
        }
        assert!(text(&page, "#vendor_org_number-error").contains("ikke et gyldig organisasjonsnummer"));
        assert!(text(&page, "#ip_addresses-error").contains("192.168.1.10"));
        // What the person typed is still there, including the fields without errors.
        assert_eq!(attr(&page, "#vendor_org_number", "value"), "974 760 674");
        assert_eq!(attr(&page, "#vendor_org_name", "value"), "Leverandør Systemer AS");
        assert_eq!(text(&page, "#message"), "Vi tester mot TT02 i desember.");
        assert_eq!(attr(&page, "input[name=environment][checked]", "value"), "test");
        assert!(select(&page, "#acknowledge_test_data[checked]").is_empty());
        // Nothing stored, nothing mailed.
        assert_eq!(app.count("orders").await, 0);
        assert_eq!(app.count("mail_outbox").await, 0);
    }

    async fn an_empty_form_lists_every_required_field(app) {
        let response = app.submit_form(&[("language", "en")]).await;
        assert_eq!(response.status(), 422);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(text(&page, "title").starts_with("Error:"));
        let links: Vec<String> = select(&page, ".error-summary a")
            .iter()
            .map(|a| a.value().attr("href").unwrap().to_owned())
            .collect();
        for field in ["#environment", "#scope", "#vendor_org_number", "#vendor_org_name",
            "#vendor_contact_email", "#vendor_contact_phone", "#consumer_org_number",
            "#consumer_org_name", "#consumer_contact_email", "#consumer_contact_phone"] {
            assert!(links.iter().any(|l| l == field), "{field} not in {links:?}");
        }
        assert_eq!(text(&page, "#environment-error"), "Error: Choose an environment.");
    }

    async fn a_production_order_needs_no_ip_addresses(app) {
        let fields = with(with(with(valid_form(), "environment", "production"), "ip_addresses", ""), "acknowledge_test_data", "");
        let response = app.submit_form(&fields).await;
        assert_eq!(response.status(), 303);
        assert_eq!(app.count("orders").await, 1);
    }

    async fn the_same_organisation_cannot_be_vendor_and_customer(app) {
        let fields = with(valid_form(), "consumer_org_number", "974760673");
        let response = app.submit_form(&fields).await;
        assert_eq!(response.status(), 422);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(text(&page, "#consumer_org_number-error").contains("annen virksomhet"));
        assert_eq!(app.count("orders").await, 0);
    }

    async fn a_second_open_order_for_the_same_pair_is_refused_without_naming_its_contacts(app) {
        assert_eq!(app.submit_form(&valid_form()).await.status(), 303);
        let other_contact = with(valid_form(), "vendor_contact_email", "someone.else@leverandor.no");
        let response = app.submit_form(&other_contact).await;
        assert_eq!(response.status(), 409);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        let summary = text(&page, ".error-summary");
        assert!(summary.contains("åpen bestilling"), "{summary}");
        assert!(!summary.contains("ola@leverandor.no"));
        // Its contacts are sent where they can get their links again; the order is not named.
        assert_eq!(attr(&page, ".error-summary a#error-summary-next", "href"), "/track");
        assert!(!page.html().contains("RRH-"), "the other order's reference stays hidden");
        // Another scope is another order.
        let other_scope = with(valid_form(), "scope", "brreg:reelle/rapporteringspliktig");
        assert_eq!(app.submit_form(&other_scope).await.status(), 303);
        assert_eq!(app.count("orders").await, 2);
    }

    async fn a_post_without_a_valid_csrf_token_changes_nothing(app) {
        app.form_token(None).await;
        let mut fields = valid_form();
        fields.push(("csrf_token", "forged"));
        let response = app.client.post(app.url("/orders")).form(&fields).send().await.unwrap();
        assert_eq!(response.status(), 403);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert!(text(&page, ".error-summary").contains("utløpt"));
        // The form comes back filled in, with a fresh token that works.
        assert_eq!(attr(&page, "#vendor_org_name", "value"), "Leverandør Systemer AS");

        // A browser that never loaded the form has no cookie: refused too.
        let fresh = reqwest::Client::new();
        let response = fresh.post(app.url("/orders")).form(&valid_form()).send().await.unwrap();
        assert_eq!(response.status(), 403);
        assert_eq!(app.count("orders").await, 0);
    }

    async fn an_oversized_form_gets_413_and_stores_nothing(app) {
        let token = app.form_token(None).await;
        let huge = "x".repeat(200_000);
        let mut fields = valid_form();
        fields.push(("csrf_token", &token));
        fields.push(("message", &huge));
        let response = app.client.post(app.url("/orders")).form(&fields).send().await.unwrap();
        assert_eq!(response.status(), 413);
        assert_eq!(app.count("orders").await, 0);
    }

    async fn a_form_post_with_another_content_type_gets_415(app) {
        let response = app.client.post(app.url("/orders")).body("environment=test").header("content-type", "text/plain").send().await.unwrap();
        assert_eq!(response.status(), 415);
    }

    async fn hostile_text_is_escaped_when_the_form_comes_back(app) {
        let fields = with(with(valid_form(), "vendor_org_name", "<script>alert(1)</script>"), "vendor_org_number", "1");
        let response = app.submit_form(&fields).await;
        let body = response.text().await.unwrap();
        assert!(!body.contains("<script>alert(1)</script>"));
        assert!(body.contains("&lt;script&gt;") || body.contains("&#60;script&#62;") || body.contains("&#x3c;script"));
    }

    async fn a_page_sent_twice_lands_on_the_first_orders_receipt(app) {
        let (token, id) = form_ids(&app).await;
        assert_eq!(id.len(), 64);
        assert_ne!(form_ids(&app).await.1, id, "a new id with every page");
        let first = post_page(&app, &token, &id, &valid_form()).await;
        assert_eq!(first.status(), 303);
        let location = first.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with("/orders/RRH-"), "{location}");
        // The request sent again (a lost answer, a resubmitted POST).
        let again = post_page(&app, &token, &id, &valid_form()).await;
        assert_eq!(again.status(), 303, "{}", again.text().await.unwrap());
        assert_eq!(again.headers()["location"].to_str().unwrap(), location);
        assert_eq!(app.count("orders").await, 1);
        assert_eq!(app.count("mail_outbox").await, 3);
    }

    async fn a_double_click_makes_one_order(app) {
        let (token, id) = form_ids(&app).await;
        let fields = valid_form();
        let (a, b) = tokio::join!(
            post_page(&app, &token, &id, &fields),
            post_page(&app, &token, &id, &fields)
        );
        assert_eq!((a.status(), b.status()), (303.try_into().unwrap(), 303.try_into().unwrap()));
        assert_eq!(a.headers()["location"], b.headers()["location"]);
        assert_eq!(app.count("orders").await, 1);
        assert_eq!(app.count("mail_outbox").await, 3);
    }

    async fn a_page_sent_again_with_other_fields_is_another_order(app) {
        let (token, id) = form_ids(&app).await;
        let first = post_page(&app, &token, &id, &valid_form()).await;
        assert_eq!(first.status(), 303);
        // Back, another consumer, send: the id is the old page's, the order a new one.
        let other = org_number(44);
        let fields = with(valid_form(), "consumer_org_number", Box::leak(other.into_boxed_str()));
        let second = post_page(&app, &token, &id, &fields).await;
        assert_eq!(second.status(), 303);
        assert_ne!(second.headers()["location"], first.headers()["location"]);
        assert_eq!(app.count("orders").await, 2);
        // The first page's fields under its id still land on the first receipt.
        let third = post_page(&app, &token, &id, &valid_form()).await;
        assert_eq!(third.status(), 303);
        assert_eq!(third.headers()["location"], first.headers()["location"]);
        assert_eq!(app.count("orders").await, 2);
        // And without an id (a page from before ids) the same order again is a duplicate.
        assert_eq!(app.submit_form(&valid_form()).await.status(), 409);
    }
}
