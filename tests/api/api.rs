use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_databases;

/// Posts `body` as it is written, under an `Idempotency-Key`.
async fn post_with_key(app: &TestApp, key: &str, body: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/orders"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// The status, `Location` and JSON body of an answer.
async fn answer(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, location, response.json().await.unwrap())
}

on_both_databases! {
    async fn a_valid_json_order_is_created_with_201_and_a_reference(app) {
        let response = app.post_json(&valid_json()).await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        let reference = body["reference"].as_str().unwrap();
        assert_eq!(body["status"], "received");
        assert!(location.ends_with(&format!("/orders/{reference}/receipt")));
        assert_eq!(app.order_column(reference, "consumer_org_number").await.as_deref(), Some("313876144"));
        assert_eq!(app.order_column(reference, "language").await.as_deref(), Some("nb"));
        assert_eq!(app.count("mail_outbox").await, 3);
    }

    async fn json_field_errors_come_back_as_422_with_codes_and_messages(app) {
        let mut body = valid_json();
        body["vendor_org_number"] = json!("974760674");
        body["consumer_contact_phone"] = json!("22 22 22 22");
        body["ip_addresses"] = json!(["10.1.2.3"]);
        body["scope"] = json!("brreg:reelle/ukjent");
        let response = app
            .client
            .post(app.url("/api/v1/orders?lang=en"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "validation_failed");
        let errors = &answer["errors"];
        assert_eq!(errors["vendor_org_number"]["code"], "org_number_checksum");
        assert_eq!(errors["consumer_contact_phone"]["code"], "phone_not_mobile");
        assert_eq!(errors["ip_addresses"]["code"], "ip_not_public");
        assert_eq!(errors["scope"]["code"], "invalid_choice");
        assert!(errors["ip_addresses"]["message"].as_str().unwrap().contains("10.1.2.3"));
        assert!(errors["consumer_contact_phone"]["message"].as_str().unwrap().contains("is not a mobile number"));
        assert_eq!(errors.as_object().unwrap().len(), 4);
        assert_eq!(app.count("orders").await, 0);
    }

    async fn names_made_of_nothing_visible_are_refused(app) {
        let mut body = valid_json();
        body["vendor_org_name"] = json!("\u{200B}\u{200B}\u{200B}");
        body["consumer_org_name"] = json!("- . -");
        body["consumer_contact_name"] = json!("Kari\u{E0041}");
        let response = app.post_json(&body).await;
        assert_eq!(response.status(), 422);
        let answer: Value = response.json().await.unwrap();
        let errors = &answer["errors"];
        assert_eq!(errors["vendor_org_name"]["code"], "control_characters");
        assert_eq!(errors["consumer_org_name"]["code"], "no_letters");
        assert_eq!(errors["consumer_contact_name"]["code"], "control_characters");
        assert!(errors["consumer_org_name"]["message"].as_str().unwrap().contains("minst én bokstav"));
        assert_eq!(app.count("orders").await, 0);
    }

    async fn wrong_json_types_and_unknown_fields_are_422_per_field(app) {
        let mut body = valid_json();
        body["vendor_org_number"] = json!(974760673);
        body["ip_addresses"] = json!("8.8.8.8");
        body["acknowledge_test_data"] = json!("yes");
        body["vendor_org_nmae"] = json!("typo");
        let response = app.post_json(&body).await;
        assert_eq!(response.status(), 422);
        let answer: Value = response.json().await.unwrap();
        let errors = &answer["errors"];
        assert_eq!(errors["vendor_org_number"]["code"], "wrong_type");
        assert_eq!(errors["ip_addresses"]["code"], "wrong_type");
        assert_eq!(errors["acknowledge_test_data"]["code"], "wrong_type");
        assert_eq!(errors["vendor_org_nmae"]["code"], "unknown_field");
        assert_eq!(app.count("orders").await, 0);
    }

    async fn a_body_that_is_not_a_json_object_is_refused_with_a_reason(app) {
        let response = app
            .client
            .post(app.url("/api/v1/orders"))
            .header("content-type", "application/json")
            .body("{\"environment\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "malformed_json");
        assert!(!answer["detail"].as_str().unwrap().is_empty());

        let response = app.post_json(&json!(["not", "an", "object"])).await;
        assert_eq!(response.status(), 422);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "not_an_object");

        let response = app
            .client
            .post(app.url("/api/v1/orders"))
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "unsupported_media_type");
        assert_eq!(app.count("orders").await, 0);
    }

    async fn other_methods_on_the_api_get_405_in_json(app) {
        let response = app.get("/api/v1/orders").await;
        assert_eq!(response.status(), 405);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "method_not_allowed");
    }

    async fn an_oversized_json_body_gets_413(app) {
        let mut body = valid_json();
        body["message"] = json!("x".repeat(100_000));
        let response = app.post_json(&body).await;
        assert_eq!(response.status(), 413);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "payload_too_large");
        assert_eq!(app.count("orders").await, 0);
    }

    async fn a_duplicate_open_order_over_the_api_is_a_conflict(app) {
        assert_eq!(app.post_json(&valid_json()).await.status(), 201);
        let response = app.post_json(&valid_json()).await;
        assert_eq!(response.status(), 409);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], "duplicate_open_order");
        assert!(answer["track_url"].as_str().unwrap().ends_with("/track"), "{answer}");
        assert_eq!(app.count("orders").await, 1);
        assert_eq!(app.count("mail_outbox").await, 3);
    }

    async fn simultaneous_identical_orders_create_exactly_one(app) {
        let body = valid_json();
        let attempts = (0..6).map(|_| app.post_json(&body));
        let statuses: Vec<u16> = futures_util::future::join_all(attempts)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
        assert_eq!(app.count("orders").await, 1);
    }

    async fn the_language_field_sets_the_order_language(app) {
        let mut body = valid_json();
        body["language"] = json!("en");
        let answer: Value = app.post_json(&body).await.json().await.unwrap();
        let reference = answer["reference"].as_str().unwrap();
        assert_eq!(app.order_column(reference, "language").await.as_deref(), Some("en"));
    }

    async fn a_retry_under_the_same_idempotency_key_gets_the_first_answer(app) {
        let body = valid_json().to_string();
        let (status, location, first) = answer(post_with_key(&app, "retry-1", &body).await).await;
        assert_eq!(status, 201, "{first}");
        let (again, again_location, second) = answer(post_with_key(&app, "retry-1", &body).await).await;
        assert_eq!(again, 201, "{second}");
        assert_eq!(again_location, location);
        assert_eq!(second, first, "the same body, reference and all");
        assert_eq!(app.count("orders").await, 1);
        assert_eq!(app.count("mail_outbox").await, 3, "no second emails");
        assert_eq!(app.count("idempotency_keys").await, 1);
    }

    async fn the_same_json_in_another_key_order_and_spacing_is_the_same_request(app) {
        let (status, _, first) = answer(post_with_key(&app, "k-2", &valid_json().to_string()).await).await;
        assert_eq!(status, 201, "{first}");
        let mut fields: Vec<(String, Value)> = valid_json().as_object().unwrap().clone().into_iter().collect();
        fields.reverse();
        let rewritten = format!(
            "{{\n  {}\n}}",
            fields
                .iter()
                .map(|(k, v)| format!("{}  :  {}", Value::String(k.clone()), v))
                .collect::<Vec<_>>()
                .join(",\n  ")
        );
        assert_ne!(rewritten, valid_json().to_string());
        let (status, _, second) = answer(post_with_key(&app, "k-2", &rewritten).await).await;
        assert_eq!(status, 201, "{second}");
        assert_eq!(second["reference"], first["reference"]);
        assert_eq!(app.count("orders").await, 1);
        assert_eq!(app.count("mail_outbox").await, 3);
    }

    async fn the_same_idempotency_key_with_another_order_is_refused(app) {
        assert_eq!(post_with_key(&app, "k-3", &valid_json().to_string()).await.status(), 201);
        let mut other = valid_json();
        other["consumer_org_number"] = org_number(41).into();
        let response = app
            .client
            .post(app.url("/api/v1/orders?lang=en"))
            .header("idempotency-key", "k-3")
            .json(&other)
            .send()
            .await
            .unwrap();
        let (status, _, body) = answer(response).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"], "idempotency_key_reused");
        assert!(body["message"].as_str().unwrap().contains("already used"), "{body}");
        assert_eq!(app.count("orders").await, 1);
        // Under a key of its own, the other order is taken.
        assert_eq!(post_with_key(&app, "k-4", &other.to_string()).await.status(), 201);
        // A new key does not replay another key's order: the same order again is a duplicate.
        let (status, _, body) = answer(post_with_key(&app, "k-5", &valid_json().to_string()).await).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"], "duplicate_open_order");
        assert_eq!(app.count("orders").await, 2);
    }

    async fn simultaneous_requests_under_one_key_make_one_order_and_share_it(app) {
        let body = valid_json().to_string();
        let attempts = (0..6).map(|_| post_with_key(&app, "together", &body));
        let answers = futures_util::future::join_all(
            futures_util::future::join_all(attempts).await.into_iter().map(answer),
        )
        .await;
        for (status, _, body) in &answers {
            assert_eq!(*status, 201, "{body}");
            assert_eq!(body["reference"], answers[0].2["reference"]);
        }
        assert_eq!(app.count("orders").await, 1);
        assert_eq!(app.count("mail_outbox").await, 3);
    }

    async fn an_idempotency_key_that_is_not_visible_ascii_is_a_400(app) {
        let long = "k".repeat(256);
        for key in ["two words", long.as_str(), " "] {
            let (status, _, body) = answer(post_with_key(&app, key, &valid_json().to_string()).await).await;
            assert_eq!(status, 400, "{key:?}: {body}");
            assert_eq!(body["error"], "invalid_idempotency_key");
            assert!(body["message"].as_str().unwrap().contains("ASCII"), "{body}");
        }
        let response = app
            .client
            .post(app.url("/api/v1/orders"))
            .header("idempotency-key", reqwest::header::HeaderValue::from_bytes(b"bl\xe5b\xe6r").unwrap())
            .json(&valid_json())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert_eq!(app.count("orders").await, 0);
        // The longest key is taken.
        assert_eq!(post_with_key(&app, &long[1..], &valid_json().to_string()).await.status(), 201);
    }

    async fn an_idempotency_key_is_forgotten_after_24_hours(app) {
        assert_eq!(post_with_key(&app, "day-old", &valid_json().to_string()).await.status(), 201);
        let day_ago = rrh_tt02::store::timestamp(chrono::Utc::now() - chrono::Duration::hours(25));
        sqlx::query("UPDATE idempotency_keys SET created_at = $1")
            .bind(&day_ago)
            .execute(app.db.pool())
            .await
            .unwrap();
        // Another order under the old key is a new order, not a reused key.
        let mut other = valid_json();
        other["consumer_org_number"] = org_number(42).into();
        let (status, _, body) = answer(post_with_key(&app, "day-old", &other.to_string()).await).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(app.count("orders").await, 2);
        assert_eq!(app.count("idempotency_keys").await, 1, "the expired row made way");
        // The purge deletes expired keys and keeps live ones.
        sqlx::query("UPDATE idempotency_keys SET created_at = $1")
            .bind(&day_ago)
            .execute(app.db.pool())
            .await
            .unwrap();
        assert_eq!(post_with_key(&app, "fresh", &{
            let mut third = valid_json();
            third["consumer_org_number"] = org_number(43).into();
            third.to_string()
        }).await.status(), 201);
        rrh_tt02::app::purge::personal_data(&app.context, chrono::Utc::now()).await.unwrap();
        assert_eq!(app.count("idempotency_keys").await, 1);
    }
}
