//! The one place where errors become responses: an HTML page for people, JSON for the API,
//! both with the request id. Internal details are logged, never shown.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde_json::json;

use super::request_context;
use super::view::Page;
use crate::app::Failure;
use crate::app::accounts::LoginError;
use crate::app::contacts::{ResendError, StepError};
use crate::app::orders::SubmitError;
use crate::app::workflow::{CaseError, MoveError};
use crate::i18n::Tr;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// Not found, with a catalog key that says why and what to do.
    #[error("not found: {0}")]
    NotFoundBecause(&'static str),
    /// A malformed request; the string is a catalog key that explains what was wrong.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The order is not where the request expected it (moved on, or a step it cannot take).
    #[error("conflict")]
    Conflict,
    #[error("too many requests")]
    TooManyRequests,
    /// Not allowed: a missing or wrong CSRF token, or a role that may not do this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// An anonymous request for a workspace page: sent to the login page, which returns to
    /// the given local path afterwards.
    #[error("login required")]
    LoginRequired(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

impl AppError {
    /// Stable code for API clients, and the catalog key for the message.
    fn code_and_key(&self) -> (&'static str, &'static str) {
        match self {
            AppError::NotFound => ("not_found", "error_page.not_found"),
            AppError::NotFoundBecause(key) => ("not_found", key),
            AppError::BadRequest(key) => ("bad_request", key),
            AppError::MethodNotAllowed => ("method_not_allowed", "error_page.method_not_allowed"),
            AppError::Conflict => ("conflict", "error_page.conflict"),
            AppError::TooManyRequests => ("rate_limited", "error_page.too_many_requests"),
            AppError::Forbidden(key) => ("forbidden", key),
            AppError::LoginRequired(_) => ("login_required", "error_page.login_required"),
            AppError::PayloadTooLarge => ("payload_too_large", "error_page.too_large"),
            AppError::UnsupportedMediaType => (
                "unsupported_media_type",
                "error_page.unsupported_media_type",
            ),
            AppError::Internal(_) | AppError::Template(_) => {
                ("internal_error", "error_page.internal")
            }
        }
    }
}

impl AppError {
    /// The error page's heading: what happened, when a person can tell; else that
    /// something went wrong.
    fn heading_key(&self) -> &'static str {
        match self {
            AppError::NotFound | AppError::NotFoundBecause(_) => "error_page.not_found_title",
            _ => "error_page.title",
        }
    }

    /// A link to where the person can go on, with its text's catalog key.
    fn next_step(&self) -> Option<(&'static str, &'static str)> {
        match self {
            AppError::NotFoundBecause("track.link_not_found") => {
                Some(("/track", "track.link_not_found_action"))
            }
            _ => None,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    heading: &'static str,
    message: &'static str,
    /// Where to go from here, when there is a better place than the front page.
    next: Option<(&'static str, &'static str)>,
    request_id: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound | AppError::NotFoundBecause(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict => StatusCode::CONFLICT,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::LoginRequired(_) => StatusCode::SEE_OTHER,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Internal(_) | AppError::Template(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let context = request_context();
        let status = self.status_code();
        if status.is_server_error() {
            // `{:#}` keeps anyhow's context chain; none of our errors carry personal data.
            tracing::error!(error = format!("{self:#}"), "internal error");
        }
        if let AppError::LoginRequired(next) = self {
            let target = format!(
                "/admin/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return HttpResponse::SeeOther()
                .insert_header((actix_web::http::header::LOCATION, target))
                .insert_header(("cache-control", "no-store"))
                .finish();
        }
        let (code, key) = self.code_and_key();
        let tr = Tr::new(context.lang);
        if context.api {
            return HttpResponse::build(status).json(json!({
                "error": code,
                "message": tr.t(key),
                "request_id": context.id,
            }));
        }
        let heading = tr.t(self.heading_key());
        let page = match context.workspace() {
            Some(nav) => Page::workspace(tr, heading, "/admin/orders", nav),
            None => Page::new(tr, heading, None),
        };
        let page = ErrorPage {
            page,
            heading,
            message: tr.t(key),
            next: self.next_step().map(|(href, text)| (href, tr.t(text))),
            request_id: context.id,
        };
        match page.render() {
            Ok(body) => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .body(body),
            Err(_) => HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(tr.t(key)),
        }
    }
}

/// Renders a page template into a response.
pub fn html(status: StatusCode, template: &impl Template) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(template.render()?))
}

/// The response with `cookie` set, if there is one.
pub fn with_cookie(
    mut response: HttpResponse,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> Result<HttpResponse, AppError> {
    if let Some(cookie) = cookie {
        response
            .add_cookie(&cookie)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(response)
}

impl From<Failure> for AppError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Database(err) => AppError::Internal(anyhow::Error::new(err)),
            Failure::Internal(err) => AppError::Internal(err),
        }
    }
}

/// The workflow's refusals, where a handler has no page of its own to show them on.
impl From<MoveError> for AppError {
    fn from(err: MoveError) -> Self {
        match err {
            MoveError::NotFound => AppError::NotFound,
            MoveError::Conflict(_) | MoveError::Illegal(..) => AppError::Conflict,
            MoveError::Invalid(..) => AppError::BadRequest("error_page.invalid"),
            MoveError::Failed(failure) => failure.into(),
        }
    }
}

impl From<CaseError> for AppError {
    fn from(err: CaseError) -> Self {
        match err {
            CaseError::NotFound => AppError::NotFound,
            CaseError::Invalid(..) => AppError::BadRequest("error_page.invalid"),
            CaseError::Failed(failure) => failure.into(),
        }
    }
}

impl From<StepError> for AppError {
    fn from(err: StepError) -> Self {
        match err {
            StepError::NotYourStep => AppError::Forbidden("track.not_your_step"),
            StepError::NotPossibleNow(_) | StepError::Conflict(_) => AppError::Conflict,
            StepError::Invalid(..) => AppError::BadRequest("error_page.invalid"),
            StepError::BadVersion => AppError::BadRequest("admin.order.bad_version"),
            StepError::Gone => AppError::NotFound,
            StepError::Failed(failure) => failure.into(),
        }
    }
}

impl From<SubmitError> for AppError {
    fn from(err: SubmitError) -> Self {
        match err {
            SubmitError::RateLimited { .. } => AppError::TooManyRequests,
            SubmitError::Duplicate | SubmitError::KeyReused => AppError::Conflict,
            SubmitError::Refused(_) => AppError::BadRequest("error_page.invalid"),
            SubmitError::Failed(failure) => failure.into(),
        }
    }
}

impl From<LoginError> for AppError {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::Throttled { .. } => AppError::TooManyRequests,
            LoginError::Refused => AppError::Forbidden("admin.login.failed"),
            LoginError::Failed(failure) => failure.into(),
        }
    }
}

impl From<ResendError> for AppError {
    fn from(err: ResendError) -> Self {
        match err {
            ResendError::Throttled { .. } => AppError::TooManyRequests,
            ResendError::Failed(failure) => failure.into(),
        }
    }
}
