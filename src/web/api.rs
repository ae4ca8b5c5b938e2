//! `POST /api/v1/orders`: the order form as JSON, for vendors who script their orders.
//!
//! Answers: 201 with the reference; 400 for a body that is not JSON; 409 when an open order
//! for the same pair exists; 413 for an oversized body; 415 for another content type; 422 with
//! one `{code, message}` per field for everything else a person could get wrong.
//!
//! With an `Idempotency-Key` header, the same key with the same order (the same JSON once
//! parsed) within 24 hours gets the first answer again, without a second order or emails;
//! the same key with another order gets 422 `idempotency_key_reused`; a key that is not 1–255
//! visible ASCII characters gets 400 `invalid_idempotency_key`.

use std::collections::BTreeMap;

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::error::AppError;
use super::extract::{is_json, read_body};
use super::lang::Language;
#[allow(unused_imports)] // Named in the `#[utoipa::path]` above.
use super::openapi::{ApiError, OrderCreated, OrderRequest};
use super::view::{field_message, wait_message};
use super::{client_key, request_context};
use crate::app::orders::SubmitError;
use crate::app::{self, ACTOR_API, Context};
use crate::domain::fields::Input;
use crate::domain::{
    FIELD_ORDER, FieldError, IdempotencyKey, InputValue, KeyScope, NewOrder, OrderInput,
    Submission, order_field,
};
use crate::i18n::{Lang, Tr};

/// Submits an order.
///
/// The body is the order's fields as a JSON object. Every field is checked at once; a
/// refused order gets 422 with one `{code, message}` per field in `errors`. A retry under
/// the same `Idempotency-Key` within 24 hours gets the first answer again.
#[utoipa::path(
    post,
    path = "/api/v1/orders",
    tag = "orders",
    operation_id = "create_order",
    summary = "Submit an order",
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
            pattern = r"^[\x21-\x7E]+$",
            description = "Makes a retry safe: the same key with the same order within \
                24 hours gets the first answer, without a second order. 1–255 visible \
                ASCII characters."),
        ("lang" = Option<String>, Query,
            pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069]*$",
            description = "The language of messages: `nb` (default), `nn` or `en`; another \
                value is ignored. Like every query parameter here, it may not hold control \
                characters (400 `bad_request`).")
    ),
    request_body(content = OrderRequest, content_type = "application/json",
        description = "The order", examples(
            ("test" = (summary = "A test (TT02) order", value = json!({
                "environment": "test",
                "scope": "brreg:reelle/offentlig",
                "vendor_org_number": "974760673",
                "vendor_org_name": "Leverandør Systemer AS",
                "vendor_contact_email": "ola@leverandor.no",
                "vendor_contact_phone": "91234567",
                "consumer_org_number": "313876144",
                "consumer_org_name": "Kunde Bank ASA",
                "consumer_contact_email": "kari@kunde.no",
                "consumer_contact_phone": "41234567",
                "ip_addresses": ["8.8.8.8", "1.1.1.0/24"],
                "acknowledge_test_data": true,
                "language": "en"
            }))),
            ("production" = (summary = "A production order", value = json!({
                "environment": "production",
                "scope": "brreg:reelle/rapporteringspliktig",
                "vendor_org_number": "974760673",
                "vendor_org_name": "Leverandør Systemer AS",
                "vendor_contact_name": "Ola Nordmann",
                "vendor_contact_email": "ola@leverandor.no",
                "vendor_contact_phone": "+47 912 34 567",
                "consumer_org_number": "313 876 144",
                "consumer_org_name": "Kunde Bank ASA",
                "consumer_contact_email": "kari@kunde.no",
                "consumer_contact_phone": "41234567",
                "maskinporten_client_id": "a1b2c3d4-0000-4000-8000-000000000000"
            }))))),
    responses(
        (status = 201, description = "The order is received", body = OrderCreated,
            headers(("Location" = String, description = "The order's receipt page"))),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key header is \
            not one key of visible ASCII", body = ApiError, examples(
            ("malformed_json" = (value = json!({"error": "malformed_json",
                "message": "The body is not valid JSON.",
                "detail": "EOF while parsing a value at line 1 column 16",
                "request_id": "0a1b2c3d4e5f"}))),
            ("invalid_idempotency_key" = (value = json!({"error": "invalid_idempotency_key",
                "message": "Idempotency-Key must be 1–255 visible ASCII characters (no spaces), and only one.",
                "request_id": "0a1b2c3d4e5f"}))),
            ("bad_request" = (value = json!({"error": "bad_request",
                "message": "What was sent contains control characters (a null character, for example), which no field accepts. Remove them and try again.",
                "request_id": "0a1b2c3d4e5f"}))))),
        (status = 409, description = "An open order for the same vendor, consumer, \
            environment and scope exists", body = ApiError, examples(
            ("duplicate_open_order" = (value = json!({"error": "duplicate_open_order",
                "message": "There is already an open order for the same organisations, environment and scope. Its contacts have been emailed links to it and can get them again.",
                "track_url": "https://tt02.example.no/track",
                "request_id": "0a1b2c3d4e5f"}))))),
        (status = 413, description = "The body is larger than the server takes (64 KiB by \
            default)", body = ApiError, examples(
            ("payload_too_large" = (value = json!({"error": "payload_too_large",
                "message": "The request is too large.", "request_id": "0a1b2c3d4e5f"}))))),
        (status = 415, description = "The body is not JSON (`Content-Type` is not \
            `application/json`)", body = ApiError, examples(
            ("unsupported_media_type" = (value = json!({"error": "unsupported_media_type",
                "message": "The request has a content type this service does not accept.",
                "request_id": "0a1b2c3d4e5f"}))))),
        (status = 422, description = "The order has errors (`validation_failed`, with \
            `errors`), the body is not an object, or the Idempotency-Key was used for \
            another order", body = ApiError, examples(
            ("validation_failed" = (value = json!({"error": "validation_failed",
                "message": "The order has errors. See the fields in \"errors\".",
                "errors": {
                    "vendor_org_number": {"code": "org_number_checksum",
                        "message": "The vendor's organisation number is not a valid organisation number: one of its digits is probably wrong. Check that it is typed correctly."},
                    "ip_addresses": {"code": "ip_not_public",
                        "message": "\"10.1.2.3\" is not a public address (for example private, local or reserved). Enter the address the services see when you call from the internet."},
                    "acknowledge_test_data": {"code": "wrong_type",
                        "message": "Wrong type: expected boolean."}
                },
                "request_id": "0a1b2c3d4e5f"}))),
            ("not_an_object" = (value = json!({"error": "not_an_object",
                "message": "The body must be a JSON object with the order's fields.",
                "request_id": "0a1b2c3d4e5f"}))),
            ("idempotency_key_reused" = (value = json!({"error": "idempotency_key_reused",
                "message": "This Idempotency-Key was already used for another order in the last 24 hours. Use a new key for a new order.",
                "request_id": "0a1b2c3d4e5f"}))))),
        (status = 429, description = "Too many orders from this address in the last hour",
            body = ApiError,
            headers(("Retry-After" = String, description = "Seconds until another order is taken")),
            examples(("rate_limited" = (value = json!({"error": "rate_limited",
                "message": "Too many orders have come from your address in the last hour. Wait 12 minutes and send again, or write to opendata.rrh@brreg.no.",
                "request_id": "0a1b2c3d4e5f"}))))),
        (status = 500, description = "Something failed on our side; quote the request id",
            body = ApiError, examples(("internal_error" = (value = json!({"error": "internal_error",
                "message": "Something went wrong on our side. Nothing was stored. Please try again in a moment.",
                "request_id": "0a1b2c3d4e5f"})))))
    )
)]
pub async fn create_order(
    req: HttpRequest,
    ctx: web::Data<Context>,
    lang: Language,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    if !is_json(&req) {
        return Err(AppError::UnsupportedMediaType);
    }
    let key = match idempotency_key(&req, lang) {
        Ok(key) => key,
        Err(answer) => return Ok(*answer),
    };
    let body = read_body(&req, payload, ctx.settings.max_body_bytes).await?;
    let parsed = tracing::debug_span!("parse").in_scope(|| parse_order(&body, lang, &ctx, key));
    let (order, lang, submission) = match parsed {
        Ok(parsed) => parsed,
        Err(answer) => return Ok(*answer),
    };
    let tr = Tr::new(lang);
    let client = client_key(&req, &ctx);
    let submitted =
        app::orders::submit(&ctx, &order, lang, ACTOR_API, &client, submission.as_ref());
    match submitted.await {
        Ok(created) => {
            let receipt = format!(
                "{}/orders/{}/receipt",
                ctx.settings.base_url, created.reference
            );
            Ok(HttpResponse::Created()
                .insert_header((LOCATION, receipt.clone()))
                .json(json!({
                    "reference": created.reference,
                    "status": "received",
                    "receipt_url": receipt,
                })))
        }
        Err(SubmitError::RateLimited { minutes }) => Ok(HttpResponse::TooManyRequests()
            .insert_header(("retry-after", (minutes * 60).to_string()))
            .json(json!({
                "error": "rate_limited",
                "message": wait_message(tr, "error.too_many_orders", minutes),
                "request_id": request_context().id,
            }))),
        Err(SubmitError::Duplicate) => Ok(HttpResponse::Conflict().json(json!({
            "error": "duplicate_open_order",
            "message": tr.t("error.duplicate_open_order"),
            // Where that order's contacts get their private links again.
            "track_url": format!("{}/track", ctx.settings.base_url),
            "request_id": request_context().id,
        }))),
        Err(SubmitError::KeyReused) => Ok(HttpResponse::UnprocessableEntity().json(json!({
            "error": "idempotency_key_reused",
            "message": tr.t("api.idempotency_key_reused"),
            "request_id": request_context().id,
        }))),
        Err(SubmitError::Refused(refused)) => {
            let errors: BTreeMap<String, FieldError> = refused
                .into_iter()
                .map(|(field, error)| (field.to_owned(), error))
                .collect();
            Ok(validation_failed(tr, &errors))
        }
        Err(other) => Err(other.into()),
    }
}

/// The `Idempotency-Key` header, if one was sent; or the 400 answer when it is not one key of
/// 1 to 255 visible ASCII characters.
fn idempotency_key(
    req: &HttpRequest,
    lang: Language,
) -> Result<Option<IdempotencyKey>, Box<HttpResponse>> {
    let mut values = req.headers().get_all("idempotency-key");
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let key = first.to_str().ok().and_then(IdempotencyKey::parse);
    match key {
        Some(key) if values.next().is_none() => Ok(Some(key)),
        _ => Err(Box::new(HttpResponse::BadRequest().json(json!({
            "error": "invalid_idempotency_key",
            "message": lang.tr().t("api.invalid_idempotency_key"),
            "request_id": request_context().id,
        })))),
    }
}

/// The order in a JSON body, the language its emails and messages are in, and the
/// submission under `key` (the body's fingerprint with it); or the 400 or 422 answer that
/// says what is wrong with it.
fn parse_order(
    body: &[u8],
    lang: Language,
    ctx: &Context,
    key: Option<IdempotencyKey>,
) -> Result<(NewOrder, Lang, Option<Submission>), Box<HttpResponse>> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(err) => {
            let tr = lang.tr();
            return Err(Box::new(HttpResponse::BadRequest().json(json!({
                "error": "malformed_json",
                "message": tr.t("api.malformed_json"),
                "detail": err.to_string(),
                "request_id": request_context().id,
            }))));
        }
    };
    let Value::Object(object) = value else {
        let tr = lang.tr();
        return Err(Box::new(HttpResponse::UnprocessableEntity().json(json!({
            "error": "not_an_object",
            "message": tr.t("api.not_an_object"),
            "request_id": request_context().id,
        }))));
    };
    let (input, language, mut errors) = read_fields(&object);
    let lang = language.unwrap_or(lang.0);
    match NewOrder::parse(&input, &ctx.settings.scopes) {
        Ok(order) if errors.is_empty() => {
            let submission =
                key.map(|key| Submission::new(KeyScope::Api, key, &Value::Object(object)));
            return Ok((order, lang, submission));
        }
        Ok(_) => {}
        Err(order_errors) => {
            for (field, error) in order_errors.0 {
                // A type error on a field says more than a rule broken by its empty stand-in.
                errors.entry(field.to_owned()).or_insert(error);
            }
        }
    }
    Err(Box::new(validation_failed(Tr::new(lang), &errors)))
}

/// Reads the known fields with their JSON types; a wrong type or an unknown field is an error
/// on that field (unknown ones are refused so a typo never silently drops a value).
fn read_fields(
    object: &Map<String, Value>,
) -> (OrderInput, Option<Lang>, BTreeMap<String, FieldError>) {
    let mut errors = BTreeMap::new();
    let mut input = OrderInput::default();
    let mut language = None;
    for (key, value) in object {
        if key == "language" {
            match value.as_str().and_then(Lang::parse) {
                Some(lang) => language = Some(lang),
                None if value.is_null() => {}
                None => {
                    errors.insert(key.clone(), FieldError::new("invalid_choice"));
                }
            }
            continue;
        }
        // JSON null is the same as leaving the field out.
        let error = match (order_field(key), json_value(value)) {
            (None, _) => FieldError::new("unknown_field"),
            (Some(_), None) if value.is_null() => continue,
            (Some(field), None) => wrong_type(field.input),
            (Some(field), Some(value)) => match input.set(key, value) {
                Ok(()) => continue,
                Err(_) => wrong_type(field.input),
            },
        };
        errors.insert(key.clone(), error);
    }
    (input, language, errors)
}

/// A JSON value as an order field's value: a string, an array of strings or a boolean.
fn json_value(value: &Value) -> Option<InputValue> {
    match value {
        Value::String(text) => Some(InputValue::Text(text.clone())),
        Value::Bool(flag) => Some(InputValue::Flag(*flag)),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .map(InputValue::List),
        _ => None,
    }
}

/// `wrong_type`, naming the JSON type the field takes.
fn wrong_type(input: Input) -> FieldError {
    let expected = match input {
        Input::Text => "string",
        Input::List => "array of strings",
        Input::Flag => "boolean",
    };
    FieldError::with_value("wrong_type", expected)
}

fn validation_failed(tr: Tr, errors: &BTreeMap<String, FieldError>) -> HttpResponse {
    // Fields in the form's order first, then any unknown ones, so the answer reads top-down.
    let mut ordered: Vec<(&String, &FieldError)> = errors.iter().collect();
    ordered.sort_by_key(|(field, _)| {
        FIELD_ORDER
            .iter()
            .position(|f| f == field)
            .unwrap_or(FIELD_ORDER.len())
    });
    let body: Map<String, Value> = ordered
        .into_iter()
        .map(|(field, error)| {
            let message = match error.code {
                "wrong_type" => tr.fill(
                    "api.wrong_type",
                    &[("expected", error.value.as_deref().unwrap_or(""))],
                ),
                "unknown_field" => tr.t("api.unknown_field").to_owned(),
                _ => field_message(tr, field, error),
            };
            (
                field.clone(),
                json!({ "code": error.code, "message": message }),
            )
        })
        .collect();
    HttpResponse::UnprocessableEntity().json(json!({
        "error": "validation_failed",
        "message": tr.t("api.validation_failed"),
        "errors": body,
        "request_id": request_context().id,
    }))
}
