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

use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::error::AppError;
use super::extract::read_body;
use super::lang::Language;
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

pub async fn create_order(
    req: HttpRequest,
    ctx: web::Data<Context>,
    lang: Language,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
        });
    if !is_json {
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
