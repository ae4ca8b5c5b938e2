//! Extractors that do what every form handler did first: read the body within its size
//! limit, check the CSRF token, and open what the path names.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;

use super::admin::session::CaseHandler;
use super::csrf;
use super::error::AppError;
use super::lang::Language;
use crate::app::Context;
use crate::app::contacts::{self, Link};
use crate::i18n::Tr;

type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, AppError>>>>;

/// The app's context as a handler would get it.
pub fn context(req: &HttpRequest) -> Result<web::Data<Context>, AppError> {
    req.app_data::<web::Data<Context>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no app context")))
}

/// What nearly every handler needs about its request: the request, the app and the page's
/// language, in one extractor so handlers' signatures say only what is particular to them.
pub struct Visit {
    pub req: HttpRequest,
    pub ctx: web::Data<Context>,
    pub lang: Language,
}

impl Visit {
    pub fn tr(&self) -> Tr {
        self.lang.tr()
    }
}

impl FromRequest for Visit {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(context(req).map(|ctx| Visit {
            req: req.clone(),
            ctx,
            lang: Language(Language::resolve(req)),
        }))
    }
}

/// An URL-encoded form as submitted, read within `RRH_MAX_BODY_BYTES`: [`Form::get`] gives a
/// field's last value (a browser sends most fields once), [`Form::all`] every value of a
/// field sent several times (checkboxes and hidden fields sharing a name).
#[derive(Clone, Default)]
pub struct Form {
    last: HashMap<String, String>,
    pairs: Vec<(String, String)>,
}

/// Only the field names: a form may carry a password or a pasted access token.
impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.last.keys()).finish()
    }
}

impl Form {
    /// The field's value, empty when it was not sent.
    pub fn get(&self, name: &str) -> &str {
        self.last.get(name).map(String::as_str).unwrap_or("")
    }

    /// Every value sent for the field, in the order sent.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    pub fn values(&self) -> &HashMap<String, String> {
        &self.last
    }

    /// The order version a step names (the one the person saw); 400 when it is missing.
    pub fn version(&self) -> Result<i64, AppError> {
        self.get("version")
            .trim()
            .parse()
            .map_err(|_| AppError::BadRequest("admin.order.bad_version"))
    }

    /// A body or query string, `application/x-www-form-urlencoded`.
    pub fn parse(body: &[u8]) -> Self {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        Form {
            last: pairs.iter().cloned().collect(),
            pairs,
        }
    }

    /// Refuses a form with a control character (a NUL, say) in any name or value: no field
    /// of ours takes one, and PostgreSQL cannot store a NUL. Tabs and line breaks pass, for
    /// the text areas. (The order form checks its fields one by one instead, to say which.)
    pub fn checked(self) -> Result<Self, AppError> {
        if self
            .pairs
            .iter()
            .any(|(k, v)| has_control_characters(k) || has_control_characters(v))
        {
            return Err(AppError::BadRequest("error_page.control_characters"));
        }
        Ok(self)
    }
}

/// A control character other than a tab or a line break, or a bidirectional override.
pub fn has_control_characters(text: &str) -> bool {
    text.chars()
        .any(|c| crate::domain::is_forbidden_control(c) && !matches!(c, '\t' | '\r' | '\n'))
}

impl FromRequest for Form {
    type Error = AppError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        let payload = web::Payload::from_request(&req, payload);
        Box::pin(async move {
            let ctx = context(&req)?;
            let payload = payload
                .await
                .map_err(|_| AppError::BadRequest("error_page.bad_body"))?;
            let body = read_body(&req, payload, ctx.settings.max_body_bytes).await?;
            Form::parse(&body).checked()
        })
    }
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

/// A workspace form: a logged-in case handler, and a form that carries the session's CSRF
/// token (403 otherwise, with nothing changed).
pub struct StaffForm {
    pub user: CaseHandler,
    pub form: Form,
}

impl FromRequest for StaffForm {
    type Error = AppError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let user = CaseHandler::from_request(req, payload);
        let form = Form::from_request(req, payload);
        Box::pin(async move {
            let user = user.await?;
            let form = form.await?;
            user.check_csrf(form.get(csrf::FIELD))?;
            Ok(StaffForm { user, form })
        })
    }
}

/// A contact's form posted under `/track/{token}/...`: checked against the browser's CSRF
/// cookie, and the order the link opens.
pub struct ContactForm {
    pub token: String,
    pub link: Link,
    pub form: Form,
}

impl FromRequest for ContactForm {
    type Error = AppError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let form = Form::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = form.await?;
            let ctx = context(&req)?;
            if !csrf::form_ok(&req, &ctx, &form) {
                return Err(AppError::Forbidden("error_page.csrf"));
            }
            let token = req.match_info().get("token").unwrap_or("").to_owned();
            let link = open_link(&ctx, &token).await?;
            Ok(ContactForm { token, link, form })
        })
    }
}

/// The order and role a link token opens; an unknown or expired link is a 404 that says so.
pub async fn open_link(ctx: &Context, token: &str) -> Result<Link, AppError> {
    contacts::open(ctx, token)
        .await?
        .ok_or(AppError::NotFoundBecause("track.link_not_found"))
}

/// Whether the request says its body is JSON (`application/json` or a `+json` type).
pub fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/json") || v.ends_with("+json")
        })
}
