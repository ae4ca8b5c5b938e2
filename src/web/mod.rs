//! HTTP: routes per area, the extractors they share, and the one place errors become responses.
//! A handler parses the request, calls one use case in [`crate::app`], and maps the result to
//! a response; nothing here reaches the database.

pub mod admin;
pub mod api;
pub mod api_docs;
pub mod assets;
pub mod compress;
pub mod contact_api;
pub mod contact_checks;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod health;
pub mod lang;
pub mod metrics;
pub mod openapi;
pub mod progress;
pub mod public;
pub mod routing;
pub mod track;
pub mod view;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use tracing::Instrument;

use crate::app::Context;

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

/// The request's client address as text, for rate-limit keys (see [`client_address`]).
pub fn client_key(req: &actix_web::HttpRequest, ctx: &Context) -> String {
    client_address(req, &ctx.settings.trusted_proxies)
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

/// A `303 See Other` to `location`: the answer to a POST that worked.
pub fn see_other(location: impl Into<String>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.into()))
        .finish()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    // Each resource answers other methods with a 405 that names the ones it takes (`Allow`).
    use routing::resource;
    cfg.service(resource("/").get(public::landing))
        .service(resource("/orders/new").get(public::new_order_form))
        .service(
            resource("/orders")
                .post(public::submit_order)
                .get(public::orders_index),
        )
        .service(resource("/orders/{reference}/receipt").get(public::receipt))
        .service(resource("/api/v1/orders").post(api::create_order))
        .service(resource("/api/v1/openapi.json").get(openapi::openapi_json))
        .service(resource("/api").get(api_docs::page))
        .service(resource("/api/v1/orders/{reference}").get(contact_api::order))
        .service(resource("/api/v1/orders/{reference}/token-check").post(contact_api::token_check))
        .service(
            resource("/api/v1/orders/{reference}/certificate-check")
                .post(contact_checks::certificate_check),
        )
        .service(
            resource("/api/v1/orders/{reference}/grant-check").post(contact_checks::grant_check),
        )
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
        .service(resource("/track/{token}/certificate").post(track::check_certificate))
        .service(resource("/track/{token}/grant").post(track::check_grant))
        .service(resource("/track/{token}/collection.http").get(track::collection::http_file))
        .service(resource("/track/{token}/collection.postman.json").get(track::collection::postman))
        .configure(admin::routes)
        .service(resource("/favicon.ico").get(assets::icon))
        .service(resource("/privacy").get(public::privacy))
        .service(resource("/accessibility").get(public::accessibility))
        .service(resource("/health/live").get(health::live))
        .service(resource("/health/ready").get(health::ready))
        .service(resource("/metrics").get(metrics::scrape))
        .service(resource("/static/{name}").get(assets::file))
        .default_service(web::to(public::not_found));
}

/// What an error response needs to know about its request when it is built outside a
/// handler's reach (actix turns errors into responses without the request at hand).
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub id: String,
    pub lang: crate::i18n::Lang,
    /// JSON errors for the API, HTML pages for everything else.
    pub api: bool,
    /// The workspace header of the case handler this request is from, once the session is
    /// read, so an error page inside `/admin` keeps it.
    pub workspace: std::sync::Arc<std::sync::Mutex<Option<view::SessionNav>>>,
}

impl RequestContext {
    /// Remembers the logged-in case handler's header for this request's error pages.
    pub fn set_workspace(nav: view::SessionNav) {
        let _ = REQUEST_CONTEXT.try_with(|context| {
            if let Ok(mut slot) = context.workspace.lock() {
                *slot = Some(nav);
            }
        });
    }

    /// The workspace header, if this request came from a logged-in case handler.
    pub fn workspace(&self) -> Option<view::SessionNav> {
        self.workspace.lock().ok().and_then(|slot| slot.clone())
    }
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
            workspace: Default::default(),
        })
}

/// A short id per request (logged with every line it causes, returned as `X-Request-Id`, shown
/// on error pages), the access log and security headers. The log line names the route pattern, never
/// the concrete path or query, which may carry personal data or link tokens.
pub async fn request_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // 48 random bits from the thread's generator: unique enough to find a request's log
    // lines, and no system call per request as a v4 UUID's fresh entropy costs.
    let id = format!("{:012x}", rand::random::<u64>() >> 16);
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let chosen_lang = lang::chosen_in_query(req.query_string());
    let ctx = req.app_data::<web::Data<Context>>().cloned();
    let secure = ctx
        .as_ref()
        .is_some_and(|ctx| ctx.settings.secure_cookies());
    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    let started = std::time::Instant::now();

    let context = RequestContext {
        id: id.clone(),
        lang: lang::Language::resolve(req.request()),
        api: req.path().starts_with("/api/"),
        workspace: Default::default(),
    };
    // A control character in the query (`?q=%00`) is refused before any handler sees it: no
    // parameter of ours takes one, and PostgreSQL cannot compare with a NUL.
    let bad_query = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| extract::has_control_characters(&k) || extract::has_control_characters(&v));
    let result = REQUEST_CONTEXT
        .scope(context, async move {
            if bad_query {
                let error = error::AppError::BadRequest("error_page.control_characters");
                return Ok(req.error_response(error));
            }
            next.call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        })
        .instrument(span.clone())
        .await;

    let _entered = span.enter();
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let elapsed = started.elapsed();
            if let Some(ctx) = &ctx {
                ctx.metrics().request(&route, status, elapsed);
            }
            // To the microsecond: `0.071`, not `0.07102599999999999`.
            let elapsed_ms = format_args!("{:.3}", elapsed.as_secs_f64() * 1000.0);
            if status >= 500 {
                tracing::error!(status, %elapsed_ms, "request failed");
            } else {
                tracing::info!(status, %elapsed_ms, "request done");
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
            if secure {
                // Served over https: browsers are to use nothing else for a year.
                headers.insert(
                    header::STRICT_TRANSPORT_SECURITY,
                    HeaderValue::from_static("max-age=31536000; includeSubDomains"),
                );
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
            if let Some(ctx) = &ctx {
                let status = err.as_response_error().status_code().as_u16();
                ctx.metrics().request(&route, status, started.elapsed());
            }
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

    /// The web layer reaches storage only through `crate::app`: no file under src/web names
    /// the storage module or the database driver, so a handler cannot run SQL or open a
    /// transaction of its own. (The needles are split so this file does not match itself.)
    #[test]
    fn the_web_layer_reaches_storage_only_through_the_app() {
        const NEEDLES: [&str; 3] = [
            concat!("sto", "re::"),
            concat!("sq", "lx"),
            concat!(".db", "()"),
        ];
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                for (number, line) in source.lines().enumerate() {
                    if NEEDLES.iter().any(|n| line.contains(n)) {
                        found.push(format!(
                            "{}:{}: {}",
                            path.display(),
                            number + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"),
            &mut found,
        );
        assert!(found.is_empty(), "{}", found.join("\n"));
    }

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
