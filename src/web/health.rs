//! Liveness (the process answers) and readiness (it can reach its database).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::app::Context;

pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

pub async fn ready(ctx: web::Data<Context>) -> HttpResponse {
    match ctx.database_reachable().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok", "database": "ok" })),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": "unreachable" }))
        }
    }
}
