//! HTTP: routes per area, the extractors they share, and the one place errors become responses.

pub mod admin;
pub mod api;
pub mod csrf;
pub mod error;
pub mod health;
pub mod lang;
pub mod public;
pub mod track;
pub mod view;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tokio::sync::Notify;
use tracing::Instrument;

use crate::config::Settings;
use crate::mail::{self, render::OrderFacts};
use crate::store::Db;

/// What every handler may need; cloned per worker thread by actix.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// Wakes the mail worker as soon as a transaction has queued mail.
    pub mail_waker: Arc<Notify>,
    /// Maskinporten's signing keys, shared by all workers so a fetch serves them all.
    pub jwks: Arc<crate::maskinporten::jwks::JwksCache>,
    pub registry: Arc<crate::registry::RegistryClient>,
}

impl AppState {
    /// Domain used in Message-IDs: the public host name, so IDs are unique to this service.
    pub fn message_id_domain(&self) -> &str {
        &self.settings.mail.message_id_domain
    }
}

impl AppState {
    /// Looks both organisations up in Enhetsregisteret, then stores a valid order with its
    /// first event and its emails, and wakes the mail worker.
    pub async fn create_order(
        &self,
        order: &crate::domain::NewOrder,
        lang: crate::i18n::Lang,
        actor: &str,
    ) -> Result<crate::store::orders::Created, crate::store::orders::CreateError> {
        use crate::domain::{FieldError, codes};
        use crate::registry::{Lookup, PartyCheck, RegistryCheck};
        let environment = order.environment();
        let (vendor, consumer) = tokio::join!(
            self.registry
                .lookup(order.vendor().org_number().as_str(), environment),
            self.registry
                .lookup(order.consumer().org_number().as_str(), environment),
        );
        let mut refused = Vec::new();
        for (field, lookup) in [
            ("vendor_org_number", &vendor),
            ("consumer_org_number", &consumer),
        ] {
            match lookup {
                Lookup::NotFound => refused.push((field, FieldError::new(codes::ORG_NOT_FOUND))),
                Lookup::Removed => refused.push((field, FieldError::new(codes::ORG_REMOVED))),
                _ => {}
            }
        }
        if !refused.is_empty() {
            return Err(crate::store::orders::CreateError::Refused(refused));
        }
        let check = RegistryCheck {
            vendor: PartyCheck::new(vendor, order.vendor().org_name().as_str()),
            consumer: PartyCheck::new(consumer, order.consumer().org_name().as_str()),
        };
        let check = serde_json::to_string(&check).ok();

        let settings = &self.settings;
        let created = crate::store::orders::create(
            &self.db,
            order,
            check.as_deref(),
            lang,
            actor,
            self.message_id_domain(),
            |reference, tokens| {
                let facts = OrderFacts::from_new(order, reference, settings, chrono::Utc::now());
                Ok(mail::render::new_order_mails(
                    &facts, lang, settings, tokens,
                )?)
            },
        )
        .await?;
        tracing::info!(reference = %created.reference, "order received");
        self.mail_waker.notify_one();
        Ok(created)
    }
}

/// The client's address: the connecting peer, or, when that peer is a trusted reverse proxy,
/// the nearest address in `X-Forwarded-For` that is not itself a trusted proxy. Only trusted
/// proxies are believed, since anyone can send the header.
pub fn client_address(
    req: &actix_web::HttpRequest,
    trusted: &[ipnet::IpNet],
) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|entry| entry.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(Some(peer))
}

impl AppState {
    /// The request's client address as text, for rate-limit keys (see [`client_address`]).
    pub fn client_address(&self, req: &actix_web::HttpRequest) -> String {
        client_address(req, &self.settings.trusted_proxies)
            .map(|ip| ip.to_string())
            .unwrap_or_default()
    }

    /// The signed CSRF token for a form without a session, and the cookie to set if the
    /// browser has none yet.
    pub fn issue_csrf(
        &self,
        req: &actix_web::HttpRequest,
    ) -> (String, Option<actix_web::cookie::Cookie<'static>>) {
        csrf::issue(
            req,
            &self.settings.session_key,
            self.settings.secure_cookies(),
        )
    }

    /// True when the submitted form carries this browser's CSRF token.
    pub fn csrf_ok(
        &self,
        req: &actix_web::HttpRequest,
        values: &std::collections::HashMap<String, String>,
    ) -> bool {
        let submitted = values.get(csrf::FIELD).map(String::as_str).unwrap_or("");
        csrf::verify(req, &self.settings.session_key, submitted)
    }

    /// Counts an order submission from the request's client address; when the address is
    /// over its hourly limit, the number of minutes until it may send again.
    pub async fn order_limit(
        &self,
        req: &actix_web::HttpRequest,
    ) -> Result<Option<i64>, error::AppError> {
        let limits = [(
            crate::store::rate_limit::key("orders-address", &self.client_address(req)),
            self.settings.orders_per_hour,
        )];
        let now = chrono::Utc::now();
        Ok(
            crate::store::rate_limit::count(&self.db, &limits, now, chrono::Duration::hours(1))
                .await?,
        )
    }

    /// Moves an order (see `store::workflow::apply`) with the emails that tell both contacts,
    /// and wakes the mail worker when it worked. `change.comment` goes into the emails.
    pub async fn change_status(
        &self,
        reference: &str,
        change: &crate::store::workflow::Change<'_>,
    ) -> Result<crate::store::orders::StoredOrder, crate::store::workflow::WorkflowError> {
        let settings = &self.settings;
        let updated = crate::store::workflow::apply(
            &self.db,
            reference,
            change,
            self.message_id_domain(),
            |order, to| {
                Ok(mail::render::status_change_mails(
                    order,
                    to,
                    change.comment,
                    settings,
                )?)
            },
        )
        .await?;
        tracing::info!(reference = %updated.reference, to = %updated.status, actor = change.actor.split(':').next().unwrap_or(""), "status changed");
        self.mail_waker.notify_one();
        Ok(updated)
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Each resource answers other methods with a 405 page instead of an empty response.
    let resource = |path: &str| web::resource(path).default_service(web::to(method_not_allowed));
    cfg.service(resource("/").get(public::landing))
        .service(resource("/orders/new").get(public::new_order_form))
        .service(
            resource("/orders")
                .post(public::submit_order)
                .get(public::orders_index),
        )
        .service(resource("/orders/{reference}/receipt").get(public::receipt))
        .service(resource("/api/v1/orders").post(api::create_order))
        .service(resource("/help").get(public::help))
        .service(
            resource("/track")
                .get(track::resend_form)
                .post(track::resend),
        )
        .service(resource("/track/{token}").get(track::page))
        .service(resource("/track/{token}/delegation").post(track::confirm_delegation))
        .service(resource("/track/{token}/withdrawal").post(track::withdraw))
        .service(resource("/track/{token}/token").post(track::check_token))
        .configure(admin::routes)
        .service(resource("/health/live").get(health::live))
        .service(resource("/health/ready").get(health::ready))
        .service(
            actix_files::Files::new("/static", concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
                .use_etag(true),
        )
        .default_service(web::to(public::not_found));
}

pub(crate) async fn method_not_allowed() -> Result<actix_web::HttpResponse, error::AppError> {
    Err(error::AppError::MethodNotAllowed)
}

/// What an error response needs to know about its request when it is built outside a
/// handler's reach (actix turns errors into responses without the request at hand).
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub id: String,
    pub lang: crate::i18n::Lang,
    /// JSON errors for the API, HTML pages for everything else.
    pub api: bool,
}

tokio::task_local! {
    static REQUEST_CONTEXT: RequestContext;
}

pub fn request_context() -> RequestContext {
    REQUEST_CONTEXT
        .try_with(Clone::clone)
        .unwrap_or_else(|_| RequestContext {
            id: "-".into(),
            lang: crate::i18n::Lang::default(),
            api: false,
        })
}

/// A short id per request (logged with every line it causes, returned as `X-Request-Id`, shown
/// on error pages), the access log and security headers. The log line names the route pattern, never
/// the concrete path or query, which may carry personal data or link tokens.
pub async fn request_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let chosen_lang = lang::chosen_in_query(req.query_string());
    let secure = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.settings.secure_cookies());
    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    let started = std::time::Instant::now();

    let context = RequestContext {
        id: id.clone(),
        lang: lang::Language::resolve(req.request()),
        api: req.path().starts_with("/api/"),
    };
    let result = REQUEST_CONTEXT
        .scope(context, next.call(req))
        .instrument(span.clone())
        .await;

    let _entered = span.enter();
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            if status >= 500 {
                tracing::error!(status, elapsed_ms, "request failed");
            } else {
                tracing::info!(status, elapsed_ms, "request done");
            }
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&id) {
                headers.insert(header::HeaderName::from_static("x-request-id"), value);
            }
            for (name, value) in SECURITY_HEADERS {
                let name = header::HeaderName::from_static(name);
                if !headers.contains_key(&name) {
                    headers.insert(name, HeaderValue::from_static(value));
                }
            }
            if let Some(lang) = chosen_lang {
                // `?lang=` is remembered so the next page is in the same language.
                let _ = response
                    .response_mut()
                    .add_cookie(&lang::cookie(lang, secure));
            }
            Ok(response)
        }
        Err(err) => {
            tracing::error!(error = %err, "request error");
            Err(err)
        }
    }
}

/// Sent on every response. The pages use no inline script or style, so the policy is strict.
const SECURITY_HEADERS: [(&str, &str); 5] = [
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn request(peer: &str, forwarded: Option<&str>) -> actix_web::HttpRequest {
        let mut req = actix_web::test::TestRequest::default().peer_addr(peer.parse().unwrap());
        if let Some(value) = forwarded {
            req = req.insert_header(("x-forwarded-for", value));
        }
        req.to_http_request()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| Some(s.parse::<std::net::IpAddr>().unwrap());
        // Straight from the client: the header is whatever the client wants it to be.
        assert_eq!(
            client_address(&request("203.0.113.9:5000", Some("1.2.3.4")), &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the nearest untrusted address, not a spoofed one further left.
        assert_eq!(
            client_address(
                &request("10.0.0.2:5000", Some("6.6.6.6, 198.51.100.7")),
                &trusted
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(
                &request("10.0.0.2:5000", Some("198.51.100.7, 10.0.0.3")),
                &trusted
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(&request("10.0.0.2:5000", None), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(&request("10.0.0.2:5000", Some("not an ip")), &[]),
            ip("10.0.0.2")
        );
    }
}
