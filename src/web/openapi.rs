//! The OpenAPI 3.1 document of everything under `/api/v1`, generated from the handlers'
//! `#[utoipa::path]` annotations and the types below, so it cannot drift from what the API
//! does: `GET /api/v1/openapi.json` serves it, and `GET /api` (see [`super::api_docs`]) shows
//! it to people. Another area's API joins it with one `.merge(...)` in [`document`]; the test
//! at the end of this file fails for a route under `/api/v1` that the document lacks.
//!
//! The order's schema states what JSON Schema can (types, the org number's digits, choices,
//! lengths), no more: a value the schema refuses is one the API refuses too. What only code
//! can check (check digits, mobile numbers, public IP addresses, the rules between fields)
//! is in the descriptions, and comes back as a 422 with a code per field.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use actix_web::web;
use serde::Serialize;
use utoipa::openapi::schema::{AdditionalProperties, Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::app::Context;
use crate::domain::{ALL_CODES, ScopeCatalog};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "TT02 order tracker API",
        version = "1",
        description = "Order TT02 access to the Register of Beneficial Owners as JSON. \
            Messages are in Norwegian bokmål unless `?lang=nn` or `?lang=en` (or \
            `Accept-Language`) asks for nynorsk or English. Every error is JSON with a \
            stable `error` code, a `message` for people and the `request_id` to quote."
    ),
    paths(super::api::create_order, openapi_json),
    components(schemas(OrderRequest, OrderCreated, ApiError, FieldProblem)),
    modifiers(&BearerScheme, &ClosedOrder),
    tags((name = "orders", description = "Submitting orders"),
         (name = "meta", description = "This description"))
)]
pub struct ApiDoc;

/// The whole document: [`ApiDoc`] and every other area's API, with the order's scopes as
/// configured. The one place another `#[derive(OpenApi)]` is merged in.
pub fn document(scopes: &ScopeCatalog) -> Document {
    let mut doc = ApiDoc::openapi();
    doc.merge(super::contact_api::VendorApiDoc::openapi());
    doc.merge(super::contact_checks::PreparationApiDoc::openapi());
    set_scope_choices(&mut doc, scopes);
    doc
}

/// Declares HTTP bearer authentication as `bearer`, for operations that take a token.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Closes the order to other fields, which utoipa's derive does not say.
struct ClosedOrder;

impl Modify for ClosedOrder {
    fn modify(&self, openapi: &mut Document) {
        if let Some(order) = order_schema(openapi) {
            order.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// The order's schema in the document's components.
fn order_schema(doc: &mut Document) -> Option<&mut Object> {
    match doc.components.as_mut()?.schemas.get_mut("OrderRequest")? {
        RefOr::T(Schema::Object(order)) => Some(order),
        _ => None,
    }
}

/// The `scope` choices are the configured ones (`RRH_SCOPES`), not the defaults the derive
/// starts from.
fn set_scope_choices(doc: &mut Document, scopes: &ScopeCatalog) {
    if let Some(order) = order_schema(doc) {
        order
            .properties
            .insert("scope".to_owned(), scope_schema(scopes).into());
    }
}

fn scope_schema(scopes: &ScopeCatalog) -> Object {
    let names: Vec<&str> = scopes.entries().iter().map(|e| e.name.as_str()).collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names.clone()))
        .description(Some(
            "The Maskinporten scope the consumer delegates to the vendor.",
        ))
        .examples(names.first().copied())
        .build()
}

fn default_scope_schema() -> Object {
    scope_schema(&ScopeCatalog::default())
}

/// Every code a field's error can have.
fn field_code_schema() -> Object {
    let codes = ALL_CODES
        .iter()
        .copied()
        .chain(["wrong_type", "unknown_field"]);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes))
        .description(Some(
            "The rule the value broke; stable, for programs to key on. `wrong_type`: the \
             JSON type is not the field's; `unknown_field`: the order has no such field.",
        ))
        .examples(["org_number_checksum"])
        .build()
}

// Not used to read the body: the handler reads the fields one by one, so that a wrong type
// is an error on that field among the others rather than one error for the whole body. The
// test below keeps its fields those of the order.
/// A new order. Fields the order does not have are refused (`unknown_field`), so a typo
/// never drops a value; `null` is the same as leaving a field out.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct OrderRequest {
    /// `test` (TT02) or `production`.
    environment: EnvironmentName,
    #[schema(schema_with = default_scope_schema)]
    scope: String,
    /// The vendor's organisation number: 9 digits, spaces allowed between them; the last is
    /// a check digit (modulus 11). Must differ from the consumer's.
    #[schema(
        pattern = r"^\s*[0-9](?:[ \u00A0\u202F]*[0-9]){8}\s*$",
        examples("974760673")
    )]
    vendor_org_number: String,
    /// 1–200 characters after trimming, with a letter or digit, no control characters.
    #[schema(min_length = 1, max_length = 200, examples("Leverandør Systemer AS"))]
    vendor_org_name: String,
    /// At most 200 characters after trimming.
    #[schema(max_length = 200, examples("Ola Nordmann"))]
    vendor_contact_name: Option<String>,
    #[schema(format = Email, examples("ola@leverandor.no"))]
    vendor_contact_email: String,
    /// A mobile number: Norwegian by default (`91234567`, `+47 912 34 567`), others in E.164
    /// (`+46701234567`). Stored in E.164.
    #[schema(min_length = 1, examples("91234567"))]
    vendor_contact_phone: String,
    /// The consumer's organisation number, as the vendor's.
    #[schema(
        pattern = r"^\s*[0-9](?:[ \u00A0\u202F]*[0-9]){8}\s*$",
        examples("313876144")
    )]
    consumer_org_number: String,
    /// As the vendor's name.
    #[schema(min_length = 1, max_length = 200, examples("Kunde Bank ASA"))]
    consumer_org_name: String,
    /// At most 200 characters after trimming.
    #[schema(max_length = 200)]
    consumer_contact_name: Option<String>,
    #[schema(format = Email, examples("kari@kunde.no"))]
    consumer_contact_email: String,
    /// As the vendor's phone.
    #[schema(min_length = 1, examples("41234567"))]
    consumer_contact_phone: String,
    /// Required for `test`, ignored for `production`: 1–10 IPv4/IPv6 addresses or CIDR
    /// ranges the vendor calls from; public unicast only; IPv4 ranges no wider than /24,
    /// IPv6 no wider than /48.
    ip_addresses: Option<Vec<String>>,
    /// Required (`true`) for `test`: the vendor knows that production data about the
    /// organisations is loaded into the test environment. Ignored for `production`.
    #[schema(examples(true))]
    acknowledge_test_data: Option<bool>,
    /// The vendor's Maskinporten client id, if it has one; at most 200 characters after
    /// trimming.
    #[schema(max_length = 200)]
    maskinporten_client_id: Option<String>,
    /// A message to the registry, at most 2000 characters after trimming.
    #[schema(max_length = 2000)]
    message: Option<String>,
    /// The language of the contacts' emails and of this answer's messages: `nb` (the
    /// default), `nn` or `en`; `no`, `nb-NO`, `en-GB` and the like, in any case, are taken too.
    #[schema(examples("en"))]
    language: Option<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum EnvironmentName {
    Test,
    Production,
}

/// The answer to a new order.
#[derive(Serialize, ToSchema)]
#[schema(examples(json!({
    "reference": "RRH-7KQ2-M4XA",
    "status": "received",
    "receipt_url": "https://tt02.example.no/orders/RRH-7KQ2-M4XA/receipt"
})))]
pub struct OrderCreated {
    /// The order's reference, to quote to the registry.
    pub reference: String,
    /// Always `received` for a new order.
    pub status: String,
    /// The order's receipt page (also in `Location`).
    pub receipt_url: String,
}

/// Every error: a stable code, a message for people and the request id; some codes carry
/// more (see each field).
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    pub error: ErrorCode,
    /// What went wrong and what to do, in the request's language.
    pub message: String,
    /// Quote it when asking the registry about this request.
    pub request_id: String,
    /// `malformed_json`: where the parser stopped.
    pub detail: Option<String>,
    /// `duplicate_open_order`: where the open order's contacts get their private links again.
    pub track_url: Option<String>,
    /// `validation_failed`: one entry per field that is wrong, by field name.
    pub errors: Option<BTreeMap<String, FieldProblem>>,
}

/// What is wrong with one field.
#[derive(Serialize, ToSchema)]
pub struct FieldProblem {
    #[schema(schema_with = field_code_schema)]
    pub code: String,
    /// The rule in words, in the request's language.
    pub message: String,
}

/// The stable codes of [`ApiError`]: `AppError`'s codes under `/api/`, and the API's own.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    NotAnObject,
    ValidationFailed,
    DuplicateOpenOrder,
    RateLimited,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    UnsupportedMediaType,
    PayloadTooLarge,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    InternalError,
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    operation_id = "openapi_document",
    summary = "This API's OpenAPI 3.1 document",
    responses((status = 200, description = "The document", content_type = "application/json",
        body = Object))
)]
pub async fn openapi_json(ctx: web::Data<Context>) -> HttpResponse {
    HttpResponse::Ok().json(document(&ctx.settings.scopes))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use actix_web::http::Method;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpRequest};

    use super::*;
    use crate::domain::FIELD_ORDER;

    /// Every path and method the app serves under `/api/v1` is in the document, and the
    /// document has nothing the app does not serve. actix lists no routes, so the paths come
    /// from the app's resource map (its `Debug` form names each resource's pattern) and each
    /// path's methods from the `Allow` header of its 405 (see `web::routing`).
    #[actix_web::test]
    async fn the_document_describes_exactly_the_routes_under_api_v1() {
        let app = actix_test::init_service(
            App::new().configure(crate::web::routes).service(
                web::resource("/__resource_map")
                    .to(|req: HttpRequest| async move { format!("{:?}", req.resource_map()) }),
            ),
        )
        .await;
        let map = actix_test::call_and_read_body(
            &app,
            actix_test::TestRequest::get()
                .uri("/__resource_map")
                .to_request(),
        )
        .await;
        let map = String::from_utf8(map.to_vec()).unwrap();
        let patterns: BTreeSet<&str> = map
            .split("Single(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|pattern| pattern.starts_with("/api/v1/"))
            .collect();
        assert!(patterns.contains("/api/v1/orders"), "{map}");

        let mut served: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for pattern in patterns {
            // A concrete path for the pattern: each `{name}` segment as `x`.
            let path: Vec<&str> = pattern
                .split('/')
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect();
            let probe = actix_test::TestRequest::default()
                .method(Method::from_bytes(b"PROBE").unwrap())
                .uri(&path.join("/"))
                .to_request();
            let response = actix_test::call_service(&app, probe).await;
            assert_eq!(response.status(), 405, "{pattern}");
            let allow = response.headers().get("allow").expect("405 without Allow");
            let methods = allow.to_str().unwrap().split(", ").map(str::to_owned);
            served.insert(pattern.to_owned(), methods.collect());
        }

        let doc = serde_json::to_value(document(&ScopeCatalog::default())).unwrap();
        let described: BTreeMap<String, BTreeSet<String>> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(path, item)| {
                let methods = item.as_object().unwrap().keys();
                (path.clone(), methods.map(|m| m.to_uppercase()).collect())
            })
            .collect();
        assert_eq!(described, served);
    }

    #[test]
    fn the_order_schema_has_the_order_fields_and_the_language() {
        let doc = ApiDoc::openapi();
        let Some(RefOr::T(Schema::Object(order))) = doc
            .components
            .as_ref()
            .and_then(|c| c.schemas.get("OrderRequest"))
        else {
            panic!("no OrderRequest schema");
        };
        let mut properties: Vec<&str> = order.properties.keys().map(String::as_str).collect();
        let mut expected: Vec<&str> = FIELD_ORDER.iter().copied().chain(["language"]).collect();
        properties.sort_unstable();
        expected.sort_unstable();
        assert_eq!(properties, expected);
    }
}
