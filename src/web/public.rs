//! The public pages: what the service is, the order form, and the receipt.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;

use super::AppState;
use super::error::{AppError, html, with_cookie};
use super::lang::Language;
use super::view::{FormView, Page, RadioOption, field_message};
use crate::domain::{Environment, FIELD_ORDER, NewOrder, OrderInput, ip};
use crate::i18n::{Lang, Tr};
use crate::store::orders::{self, ACTOR_VENDOR_CONTACT, CreateError};

#[derive(Template)]
#[template(path = "public/landing.html")]
struct LandingPage {
    page: Page,
}

pub async fn landing(lang: Language) -> Result<HttpResponse, AppError> {
    let tr = lang.tr();
    html(
        StatusCode::OK,
        &LandingPage {
            page: Page::new(tr, tr.t("landing.title"), Some("/")),
        },
    )
}

#[derive(Template)]
#[template(path = "public/order_form.html")]
struct OrderFormPage {
    page: Page,
    form: FormView,
    csrf_token: String,
    environments: Vec<RadioOption>,
    scopes: Vec<RadioOption>,
}

fn form_page(state: &AppState, tr: Tr, form: FormView, csrf_token: String) -> OrderFormPage {
    let mut page = Page::new(tr, tr.t("form.title"), Some("/orders/new"));
    page.has_errors = form.has_errors();
    let environments = Environment::ALL
        .iter()
        .map(|env| RadioOption {
            value: env.as_str().to_owned(),
            label: tr.t(&format!("environment.{}", env.as_str())).to_owned(),
            hint: tr
                .t(&format!("environment.{}_hint", env.as_str()))
                .to_owned(),
        })
        .collect();
    let scopes = state
        .settings
        .scopes
        .entries()
        .iter()
        .map(|scope| RadioOption {
            value: scope.name.clone(),
            label: scope.name.clone(),
            hint: tr.fill("form.scope_schema", &[("schema", &scope.delegation_schema)]),
        })
        .collect();
    OrderFormPage {
        page,
        form,
        csrf_token,
        environments,
        scopes,
    }
}

pub async fn new_order_form(
    req: HttpRequest,
    lang: Language,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (token, cookie) = state.issue_csrf(&req);
    let mut form = FormView::default();
    // With a single configured scope there is nothing to choose.
    if let [only] = state.settings.scopes.entries() {
        form.set("scope", only.name.clone());
    }
    let page = form_page(&state, lang.tr(), form, token);
    with_cookie(html(StatusCode::OK, &page)?, cookie)
}

/// Reads a request body of at most `limit` bytes; more is refused before it is buffered.
pub async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::Bytes, AppError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::BadRequest("error_page.bad_body"))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The form as submitted: the last value of each field (a browser sends each once).
pub(crate) fn parse_form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn order_input(values: &HashMap<String, String>) -> OrderInput {
    let get = |name: &str| values.get(name).cloned().unwrap_or_default();
    OrderInput {
        environment: get("environment"),
        scope: get("scope"),
        vendor_org_number: get("vendor_org_number"),
        vendor_org_name: get("vendor_org_name"),
        vendor_contact_name: get("vendor_contact_name"),
        vendor_contact_email: get("vendor_contact_email"),
        vendor_contact_phone: get("vendor_contact_phone"),
        consumer_org_number: get("consumer_org_number"),
        consumer_org_name: get("consumer_org_name"),
        consumer_contact_name: get("consumer_contact_name"),
        consumer_contact_email: get("consumer_contact_email"),
        consumer_contact_phone: get("consumer_contact_phone"),
        ip_addresses: ip::split_list(&get("ip_addresses")),
        maskinporten_client_id: get("maskinporten_client_id"),
        message: get("message"),
        acknowledge_test_data: matches!(get("acknowledge_test_data").as_str(), "true" | "on"),
    }
}

pub async fn submit_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let is_form = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(AppError::UnsupportedMediaType);
    }
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let values = parse_form(&body);
    // The page's language travels with the form, so the answer and emails match what was read.
    let lang = values
        .get("language")
        .and_then(|l| Lang::parse(l))
        .unwrap_or_else(|| Language::resolve(&req));
    let tr = Tr::new(lang);

    let mut form = FormView::new(
        FIELD_ORDER
            .iter()
            .map(|name| {
                (
                    name.to_string(),
                    values.get(*name).cloned().unwrap_or_default(),
                )
            })
            .collect(),
    );
    let (token, cookie) = state.issue_csrf(&req);
    if !state.csrf_ok(&req, &values) {
        // Nothing is stored; the person gets their form back to submit again.
        form.add_error("environment", tr.t("error.form_expired").to_owned());
        return rerender(&state, tr, form, token, cookie, StatusCode::FORBIDDEN);
    }

    let input = order_input(&values);
    let order = match NewOrder::parse(&input, &state.settings.scopes) {
        Ok(order) => order,
        Err(errors) => {
            for (field, error) in &errors.0 {
                form.add_error(field, field_message(tr, field, error));
            }
            return rerender(
                &state,
                tr,
                form,
                token,
                cookie,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };

    if let Some(minutes) = state.order_limit(&req).await? {
        form.add_error(
            "environment",
            tr.fill(
                "error.too_many_orders",
                &[("minutes", &minutes.to_string())],
            ),
        );
        return rerender(
            &state,
            tr,
            form,
            token,
            cookie,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    match state.create_order(&order, lang, ACTOR_VENDOR_CONTACT).await {
        Ok(created) => Ok(HttpResponse::SeeOther()
            .insert_header((
                LOCATION,
                format!("/orders/{}/receipt?lang={}", created.reference, lang.code()),
            ))
            .finish()),
        Err(CreateError::Duplicate) => {
            form.add_error(
                "vendor_org_number",
                tr.t("error.duplicate_open_order").to_owned(),
            );
            rerender(&state, tr, form, token, cookie, StatusCode::CONFLICT)
        }
        Err(CreateError::Refused(refused)) => {
            for (field, error) in &refused {
                form.add_error(field, field_message(tr, field, error));
            }
            rerender(
                &state,
                tr,
                form,
                token,
                cookie,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(CreateError::Database(err)) => Err(err.into()),
        Err(CreateError::Render(err)) => Err(err.into()),
    }
}

fn rerender(
    state: &AppState,
    tr: Tr,
    form: FormView,
    token: String,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    with_cookie(html(status, &form_page(state, tr, form, token))?, cookie)
}

/// Someone reloading `/orders` after a failed submission lands on the form.
pub async fn orders_index() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/orders/new"))
        .finish()
}

#[derive(Template)]
#[template(path = "public/receipt.html")]
struct ReceiptPage {
    page: Page,
    reference: String,
    environment_key: String,
    status_key: String,
    scope: String,
    vendor_org_name: String,
    consumer_org_name: String,
    is_test: bool,
}

/// The receipt names the organisations but no person: a reference is not a secret link.
pub async fn receipt(
    path: web::Path<String>,
    lang: Language,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let reference = orders::normalise_reference(&path).ok_or(AppError::NotFound)?;
    let order = orders::find_by_reference(&state.db, &reference)
        .await?
        .ok_or(AppError::NotFound)?;
    let tr = lang.tr();
    let page = ReceiptPage {
        page: Page::new(
            tr,
            tr.t("receipt.title"),
            Some(&format!("/orders/{reference}/receipt")),
        ),
        environment_key: format!("environment.{}", order.environment),
        status_key: format!("status.{}", order.status.as_str()),
        is_test: order.environment == "test",
        reference: order.reference,
        scope: order.scope,
        vendor_org_name: order.vendor_org_name,
        consumer_org_name: order.consumer_org_name,
    };
    html(StatusCode::OK, &page)
}

pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "public/help.html")]
struct HelpPage {
    page: Page,
    error_codes: [&'static str; 7],
}

/// Where to turn with which problem, and what the common Maskinporten errors mean.
pub async fn help(lang: Language) -> Result<HttpResponse, AppError> {
    let tr = lang.tr();
    html(
        StatusCode::OK,
        &HelpPage {
            page: Page::new(tr, tr.t("help.title"), Some("/help")),
            error_codes: [
                "mp251",
                "mp250",
                "combination",
                "mp200",
                "mp110",
                "mp130",
                "mp012",
            ],
        },
    )
}
