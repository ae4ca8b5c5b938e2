//! `GET /metrics`: Prometheus text, for the client addresses `RRH_METRICS_ALLOW` names
//! (loopback by default), resolved through the trusted proxies as everywhere else.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::{self, Context};
use crate::metrics::Exposition;
use crate::web::client_address;
use crate::web::error::AppError;

pub async fn scrape(req: HttpRequest, ctx: web::Data<Context>) -> Result<HttpResponse, AppError> {
    let allowed = client_address(&req, &ctx.settings.trusted_proxies).is_some_and(|ip| {
        ctx.settings
            .metrics_allow
            .iter()
            .any(|net| net.contains(&ip))
    });
    if !allowed {
        return Ok(HttpResponse::Forbidden()
            .content_type("text/plain; charset=utf-8")
            .body("Metrics are not available to this address.\n"));
    }
    let text = app::metrics::scrape(&ctx).await?;
    Ok(HttpResponse::Ok()
        .content_type(Exposition::CONTENT_TYPE)
        .body(text))
}
