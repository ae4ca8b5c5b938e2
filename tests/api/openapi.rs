use serde_json::Value;

use crate::helpers::*;
use crate::on_both_databases;

/// The served document, parsed.
async fn document(app: &TestApp) -> Value {
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_openapi_document_is_3_1_with_full_paths_examples_and_every_error_code() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    assert!(
        paths.keys().all(|p| p.starts_with("/api/v1/")),
        "{:?}",
        paths.keys()
    );
    let create = &doc["paths"]["/api/v1/orders"]["post"];
    assert_eq!(create["operationId"], "create_order");
    assert!(
        create["requestBody"]["content"]["application/json"]["examples"]["test"]["value"]
            .is_object()
    );
    // Every error code the API answers with is in the document, with an example of each.
    let codes: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let mut examples = Vec::new();
    for response in create["responses"].as_object().unwrap().values() {
        if let Some(named) = response["content"]["application/json"]["examples"].as_object() {
            for example in named.values() {
                examples.push(example["value"]["error"].as_str().unwrap().to_owned());
            }
        }
    }
    for code in [
        "validation_failed",
        "duplicate_open_order",
        "rate_limited",
        "idempotency_key_reused",
        "invalid_idempotency_key",
        "malformed_json",
        "not_an_object",
        "unsupported_media_type",
        "payload_too_large",
    ] {
        assert!(codes.contains(&code), "{code} not in ErrorCode");
        assert!(examples.iter().any(|e| e == code), "no example of {code}");
    }
    // The per-field codes, as the 422 carries them.
    let field_codes = &doc["components"]["schemas"]["FieldProblem"]["properties"]["code"]["enum"];
    for code in [
        "org_number_checksum",
        "wrong_type",
        "unknown_field",
        "required",
    ] {
        assert!(
            field_codes.as_array().unwrap().iter().any(|c| c == code),
            "{code}"
        );
    }
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (scheme["type"].as_str(), scheme["scheme"].as_str()),
        (Some("http"), Some("bearer"))
    );
}

on_both_databases! {
    async fn the_documented_example_order_is_accepted_and_its_answer_matches_the_document(app) {
    let doc = document(&app).await;
    let create = &doc["paths"]["/api/v1/orders"]["post"];
    let example = &create["requestBody"]["content"]["application/json"]["examples"]["test"]["value"];
    let response = app.post_json(example).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let created = &doc["components"]["schemas"]["OrderCreated"];
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    let mut documented: Vec<&String> = created["properties"].as_object().unwrap().keys().collect();
    keys.sort();
    documented.sort();
    assert_eq!(keys, documented);
    assert_eq!(app.count("orders").await, 1);
    }
}

#[tokio::test]
async fn the_order_schema_takes_the_configured_scopes() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &[("RRH_SCOPES", "brreg:reelle/annet=Et skjema")],
    )
    .await;
    let doc = document(&app).await;
    let scope = &doc["components"]["schemas"]["OrderRequest"]["properties"]["scope"];
    assert_eq!(scope["enum"], serde_json::json!(["brreg:reelle/annet"]));
    assert_eq!(
        doc["components"]["schemas"]["OrderRequest"]["additionalProperties"],
        false
    );
}

#[tokio::test]
async fn every_405_names_the_methods_the_path_takes_in_allow() {
    let app = spawn_app(Backend::Sqlite).await;
    for (method, path, allow, json) in [
        ("GET", "/api/v1/orders", "POST", true),
        ("PUT", "/api/v1/orders", "POST", true),
        ("DELETE", "/api/v1/openapi.json", "GET", true),
        ("POST", "/help", "GET", false),
        ("DELETE", "/track", "GET, POST", false),
        ("PUT", "/admin/orders/RRH-AAAA-BBBB/status", "POST", false),
    ] {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            content_type.starts_with("application/json"),
            json,
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn the_api_page_shows_every_operation_with_examples_in_each_language() {
    let app = spawn_app(Backend::Sqlite).await;
    for (lang, title, request) in [
        ("nb", "API for systemleverandører", "Forespørsel"),
        ("nn", "API for systemleverandørar", "Førespurnad"),
        ("en", "API for system vendors", "Request"),
    ] {
        let response = app.get(&format!("/api?lang={lang}")).await;
        assert_eq!(response.status(), 200);
        let page = scraper::Html::parse_document(&response.text().await.unwrap());
        assert_eq!(select(&page, "html")[0].value().attr("lang"), Some(lang));
        assert_eq!(text(&page, "main h1"), title);
        let operations: Vec<String> = select(&page, "main section h2")
            .iter()
            .map(|h| h.text().collect::<String>())
            .collect();
        assert_eq!(
            operations,
            [
                "GET /api/v1/openapi.json",
                "POST /api/v1/orders",
                "GET /api/v1/orders/{reference}",
                "POST /api/v1/orders/{reference}/certificate-check",
                "POST /api/v1/orders/{reference}/grant-check",
                "POST /api/v1/orders/{reference}/token-check"
            ]
        );
        let create = select(&page, "section[aria-labelledby='op-create_order']");
        assert_eq!(create.len(), 1);
        let h3: Vec<String> = create[0]
            .select(&scraper::Selector::parse("h3").unwrap())
            .map(|h| h.text().collect())
            .collect();
        assert_eq!(h3[0], request, "{lang}");
        // The examples are the document's, as JSON that parses.
        let examples: Vec<Value> = create[0]
            .select(&scraper::Selector::parse("pre code").unwrap())
            .map(|code| serde_json::from_str(&code.text().collect::<String>()).unwrap())
            .collect();
        assert!(
            examples.iter().any(|e| e["environment"] == "test"),
            "{lang}"
        );
        assert!(
            examples.iter().any(|e| e["error"] == "validation_failed"),
            "{lang}"
        );
        // Each operation's responses are a table with a caption and a row per status.
        let rows: Vec<String> = create[0]
            .select(&scraper::Selector::parse("table tbody th[scope=row]").unwrap())
            .map(|th| th.text().collect())
            .collect();
        assert_eq!(
            rows,
            ["201", "400", "409", "413", "415", "422", "429", "500"]
        );
        assert!(!text(&page, "section[aria-labelledby='op-create_order'] caption").is_empty());
        assert!(select(&page, "script").is_empty());
        assert_eq!(select(&page, "footer a[href='/api']").len(), 1);
    }
}

/// Whether the schema `schema` (a `$ref`, a `oneOf` of them, or inline) carries examples in
/// the document, every alternative of a `oneOf` included.
fn has_examples(doc: &Value, schema: &Value) -> bool {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap();
        return has_examples(doc, &doc["components"]["schemas"][name]);
    }
    if let Some(alternatives) = schema["oneOf"].as_array() {
        return alternatives.iter().all(|one| has_examples(doc, one));
    }
    schema.get("examples").is_some() || schema.get("example").is_some()
}

#[tokio::test]
async fn every_json_answer_of_every_operation_has_an_example_and_a_known_error_code() {
    let app = spawn_app(Backend::Sqlite).await;
    let doc = document(&app).await;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let content = &response["content"]["application/json"];
                if content.is_null() || path.ends_with("/openapi.json") {
                    continue;
                }
                let shown = content.get("examples").is_some()
                    || content.get("example").is_some()
                    || has_examples(&doc, &content["schema"]);
                assert!(shown, "{method} {path} {status} has no example");
            }
        }
    }
    // The contacts' error codes are an enum, and each example of the error shape uses one.
    let codes = doc["components"]["schemas"]["ContactErrorCode"]["enum"]
        .as_array()
        .unwrap();
    for code in [
        "unauthorized",
        "forbidden",
        "not_possible_now",
        "validation_failed",
        "rate_limited",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code} in {codes:?}");
    }
    for example in doc["components"]["schemas"]["ErrorBody"]["examples"]
        .as_array()
        .unwrap()
    {
        assert!(codes.contains(&example["error"]), "{example}");
    }
}
