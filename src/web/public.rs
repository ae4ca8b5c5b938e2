//! The public pages: what the service is, the order form, and the receipt.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::error::{AppError, html, with_cookie};
use super::extract::{Form, Visit, read_body};
use super::lang::Language;
use super::progress::ProgressView;
use super::view::{FormView, Page, RadioOption, wait_message};
use super::{client_key, csrf, see_other};
use crate::app::orders::SubmitError;
use crate::app::{self, ACTOR_VENDOR_CONTACT, Context};
use crate::domain::{
    Environment, FIELD_ORDER, IdempotencyKey, InputValue, KeyScope, NewOrder, ORDER_FIELDS,
    OrderField, OrderInput, OrderStatus, Section, Submission, fields, ip,
};
use crate::i18n::{Lang, Tr};
use fields::Widget;

#[derive(Template)]
#[template(path = "public/landing.html")]
struct LandingPage {
    page: Page,
}

pub async fn landing(lang: Language) -> Result<HttpResponse, AppError> {
    let page = Page::new(lang.tr(), lang.tr().t("landing.title"), Some("/"));
    html(StatusCode::OK, &LandingPage { page })
}

#[derive(Template)]
#[template(path = "public/order_form.html")]
struct OrderFormPage {
    page: Page,
    form: FormView,
    csrf_token: String,
    /// New with every page: a second POST of the same page (a double click, a resubmitted
    /// request) finds the first one's order instead of making another.
    submission_id: String,
    sections: Vec<FormSection>,
    environments: Vec<RadioOption>,
    scopes: Vec<RadioOption>,
}

impl OrderFormPage {
    /// The choices of a radio field.
    fn choices(&self, name: &str) -> &[RadioOption] {
        match name {
            "environment" => &self.environments,
            _ => &self.scopes,
        }
    }
}

/// One part of the form, with its fields from the field table.
struct FormSection {
    id: &'static str,
    heading: String,
    hint: Option<String>,
    fields: Vec<&'static OrderField>,
}

fn form_sections() -> Vec<FormSection> {
    Section::ALL
        .into_iter()
        .map(|section| FormSection {
            id: section.as_str(),
            heading: format!("form.section_{}", section.as_str()),
            hint: section
                .has_hint()
                .then(|| format!("form.section_{}_hint", section.as_str())),
            fields: fields::in_section(section).collect(),
        })
        .collect()
}

fn form_page(ctx: &Context, tr: Tr, form: FormView, csrf_token: String) -> OrderFormPage {
    let page = Page::new(tr, tr.t("form.title"), Some("/orders/new")).with_form(&form);
    let environments = Environment::ALL
        .iter()
        .map(|env| RadioOption {
            value: env.as_str().to_owned(),
            label: tr.environment(*env).to_owned(),
            hint: tr
                .t(&format!("environment.{}_hint", env.as_str()))
                .to_owned(),
        })
        .collect();
    let scopes = ctx
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
        submission_id: crate::auth::random_token(),
        sections: form_sections(),
        environments,
        scopes,
    }
}

pub async fn new_order_form(visit: Visit) -> Result<HttpResponse, AppError> {
    let (lang, ctx) = (visit.lang, &visit.ctx);
    let (token, cookie) = csrf::issue_for(&visit.req, ctx);
    let mut form = FormView::default();
    // With a single configured scope there is nothing to choose.
    if let [only] = ctx.settings.scopes.entries() {
        form.set("scope", only.name.clone());
    }
    let page = form_page(ctx, lang.tr(), form, token);
    with_cookie(html(StatusCode::OK, &page)?, cookie)
}

/// The order's fields from the form, each in the shape the field table gives it.
fn order_input(form: &Form) -> OrderInput {
    let mut input = OrderInput::default();
    for field in ORDER_FIELDS {
        let raw = form.get(field.name);
        let value = match field.input {
            fields::Input::Text => InputValue::Text(raw.to_owned()),
            fields::Input::List => InputValue::List(ip::split_list(raw)),
            fields::Input::Flag => InputValue::Flag(matches!(raw, "true" | "on")),
        };
        // Every value here has its field's shape, so it is always taken.
        let _ = input.set(field.name, value);
    }
    input
}

pub async fn submit_order(
    req: HttpRequest,
    ctx: web::Data<Context>,
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
    let values = Form::parse(&read_body(&req, payload, ctx.settings.max_body_bytes).await?);
    // The page's language travels with the form, so the answer and emails match what was read.
    let lang = Lang::parse(values.get("language")).unwrap_or_else(|| Language::resolve(&req));
    let tr = Tr::new(lang);
    let mut form = FormView::typed(values.values(), &FIELD_ORDER);
    let (token, cookie) = csrf::issue_for(&req, &ctx);
    let answer = |form, status| rerender(&ctx, tr, form, token.clone(), cookie.clone(), status);
    if !csrf::form_ok(&req, &ctx, &values) {
        // Nothing is stored; the person gets their form back to submit again.
        form.add_error("environment", tr.t("error.form_expired").to_owned());
        return answer(form, StatusCode::FORBIDDEN);
    }
    let order = match NewOrder::parse(&order_input(&values), &ctx.settings.scopes) {
        Ok(order) => order,
        Err(errors) => {
            form.add_field_errors(tr, &errors.0);
            return answer(form, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let client = client_key(&req, &ctx);
    let submission = submission(&values, lang);
    let submit = |submission| {
        app::orders::submit(
            &ctx,
            &order,
            lang,
            ACTOR_VENDOR_CONTACT,
            &client,
            submission,
        )
    };
    let submitted = match submit(submission.as_ref()).await {
        // The page was sent before with other fields (changed after going back): that is
        // another order, as it was before pages had an id.
        Err(SubmitError::KeyReused) => submit(None).await,
        other => other,
    };
    match submitted {
        // A page sent again lands on the receipt of the order it made the first time.
        Ok(created) => Ok(see_other(format!(
            "/orders/{}/receipt?lang={}",
            created.reference,
            lang.code()
        ))),
        Err(SubmitError::RateLimited { minutes }) => {
            let message = wait_message(tr, "error.too_many_orders", minutes);
            form.add_error("environment", message);
            answer(form, StatusCode::TOO_MANY_REQUESTS)
        }
        Err(SubmitError::Duplicate) => {
            let message = tr.t("error.duplicate_open_order").to_owned();
            form.add_error("vendor_org_number", message);
            // Its contacts can get their links again; the other order stays unnamed.
            form.next = Some(("/track", "error.duplicate_open_order_track"));
            answer(form, StatusCode::CONFLICT)
        }
        Err(SubmitError::Refused(refused)) => {
            form.add_field_errors(tr, &refused);
            answer(form, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => Err(other.into()),
    }
}

/// The page's one-time submission id with a fingerprint of its fields; none from a page
/// without one (loaded before ids were added) or with one that is not an id.
fn submission(values: &Form, lang: Lang) -> Option<Submission> {
    let key = IdempotencyKey::parse(values.get("submission_id"))?;
    let mut fields: serde_json::Map<String, serde_json::Value> = ORDER_FIELDS
        .iter()
        .map(|field| (field.name.to_owned(), values.get(field.name).into()))
        .collect();
    fields.insert("language".to_owned(), lang.code().into());
    Some(Submission::new(
        KeyScope::Form,
        key,
        &serde_json::Value::Object(fields),
    ))
}

fn rerender(
    ctx: &Context,
    tr: Tr,
    form: FormView,
    token: String,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    with_cookie(html(status, &form_page(ctx, tr, form, token))?, cookie)
}

/// Someone reloading `/orders` after a failed submission lands on the form.
pub async fn orders_index() -> HttpResponse {
    see_other("/orders/new")
}

#[derive(Template)]
#[template(path = "public/receipt.html")]
struct ReceiptPage {
    page: Page,
    /// The heading: received while the order is open, else how it ended.
    title: &'static str,
    /// Green only while nothing has gone wrong.
    success: bool,
    reference: String,
    environment: &'static str,
    status: &'static str,
    scope: String,
    vendor_org_name: String,
    consumer_org_name: String,
    progress: ProgressView,
}

/// The receipt names the organisations but no person, and shows a stopped order's status but
/// not its reason: a reference is not a secret link.
pub async fn receipt(
    path: web::Path<String>,
    lang: Language,
    ctx: web::Data<Context>,
) -> Result<HttpResponse, AppError> {
    let (order, ending) = app::orders::receipt(&ctx, &path)
        .await?
        .ok_or(AppError::NotFound)?;
    let tr = lang.tr();
    let title = match order.status {
        OrderStatus::Completed => "receipt.title_completed",
        OrderStatus::Rejected => "receipt.title_rejected",
        OrderStatus::Withdrawn => "receipt.title_withdrawn",
        _ => "receipt.title",
    };
    let page = ReceiptPage {
        page: Page::new(
            tr,
            tr.t(title),
            Some(&format!("/orders/{}/receipt", order.reference)),
        ),
        title: tr.t(title),
        success: !matches!(order.status, OrderStatus::Rejected | OrderStatus::Withdrawn),
        progress: ProgressView::new(
            tr,
            &order,
            ending.as_ref(),
            None,
            ctx.settings.workspace.expected_working_days,
        ),
        environment: tr.environment(order.environment),
        status: tr.status(order.status),
        reference: order.reference,
        scope: order.scope.to_string(),
        vendor_org_name: order.vendor_org_name,
        consumer_org_name: order.consumer_org_name,
    };
    html(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "public/privacy.html")]
struct PrivacyPage {
    page: Page,
    /// How long personal data is kept, with the configured number of days.
    retention: String,
}

/// The privacy notice (personvernerklæring): what is collected, why, who sees it, for how long.
pub async fn privacy(visit: Visit) -> Result<HttpResponse, AppError> {
    let tr = visit.tr();
    let days = visit.ctx.settings.purge_after_days.to_string();
    let page = PrivacyPage {
        page: Page::new(tr, tr.t("privacy.title"), Some("/privacy")),
        retention: tr.fill("privacy.retention", &[("days", &days)]),
    };
    html(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "public/accessibility.html")]
struct AccessibilityPage {
    page: Page,
}

/// The accessibility statement (tilgjengelighetserklæring).
pub async fn accessibility(lang: Language) -> Result<HttpResponse, AppError> {
    let page = Page::new(
        lang.tr(),
        lang.tr().t("accessibility.title"),
        Some("/accessibility"),
    );
    html(StatusCode::OK, &AccessibilityPage { page })
}

/// The site's icon, where browsers look for it by default. SVG, which every current browser
/// takes, at a tenth of an ICO's size.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// The Maskinporten errors the help page explains (`help.error.<code>.*` in the catalog).
pub const HELP_CODES: [&str; 7] = [
    "mp251",
    "mp250",
    "combination",
    "mp200",
    "mp110",
    "mp130",
    "mp012",
];

#[derive(Template)]
#[template(path = "public/help.html")]
struct HelpPage {
    page: Page,
    error_codes: [&'static str; 7],
    /// Every status: its stored name, its name and what it means.
    statuses: Vec<(&'static str, &'static str, &'static str)>,
    statuses_intro: String,
}

/// Where to turn with which problem, what each status means, and what the common
/// Maskinporten errors mean.
pub async fn help(visit: Visit) -> Result<HttpResponse, AppError> {
    let tr = visit.tr();
    let days = visit.ctx.settings.workspace.expected_working_days;
    let days = tr.plural("days.working", i64::from(days));
    html(
        StatusCode::OK,
        &HelpPage {
            page: Page::new(tr, tr.t("help.title"), Some("/help")),
            error_codes: HELP_CODES,
            statuses: OrderStatus::ALL
                .map(|s| {
                    let meaning = tr.t(&format!("status.meaning.{}", s.as_str()));
                    (s.as_str(), tr.status(s), meaning)
                })
                .to_vec(),
            statuses_intro: tr.fill("help.statuses_intro", &[("days", &days)]),
        },
    )
}
