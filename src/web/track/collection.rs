//! The vendor's request collection for its order, as files to download from its page: an
//! `.http` file (the REST clients of VS Code and JetBrains) and a Postman v2.1 collection.
//! Each has the Maskinporten token request for the order's environment, with the JWT grant
//! as a placeholder and the exact claims to sign in it, then the order and the token check
//! on `/api/v1` with the vendor's link token in a variable. That link token is the only
//! secret in them; the access token is filled in by the vendor's client, never by us.

use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, HeaderName, HeaderValue, REFERRER_POLICY,
};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde_json::{Value, json};

use super::token::grant_claims;
use crate::app::Order;
use crate::domain::ContactRole;
use crate::i18n::Tr;
use crate::maskinporten;
use crate::web::error::AppError;
use crate::web::extract::{Visit, open_link};
use crate::web::view::environment_label;

/// What both files say, in the vendor's language.
struct Collection {
    reference: String,
    base_url: String,
    link_token: String,
    token_endpoint: &'static str,
    /// The grant's claims, pretty-printed, one line each.
    claims: Vec<String>,
    claims_json: Value,
    title: String,
    about: String,
    secret: String,
    grant_step: String,
    token_step: String,
    paste_step: String,
    order_step: String,
    check_step: String,
}

impl Collection {
    fn new(tr: Tr, order: &Order, base_url: &str, link_token: &str) -> Self {
        let environment = order.environment;
        let claims_json = grant_claims(order);
        let pretty = serde_json::to_string_pretty(&claims_json).unwrap_or_default();
        let maskinporten = tr.maskinporten(environment);
        Collection {
            reference: order.reference.clone(),
            base_url: base_url.to_owned(),
            link_token: link_token.to_owned(),
            token_endpoint: maskinporten::token_endpoint(environment),
            claims: pretty.lines().map(str::to_owned).collect(),
            claims_json,
            title: tr.fill("collection.title", &[("reference", &order.reference)]),
            about: tr.fill(
                "collection.about",
                &[
                    ("environment", environment_label(tr, environment)),
                    ("scope", order.scope.as_str()),
                    ("consumer", order.consumer_org_number.as_str()),
                ],
            ),
            secret: tr.fill(
                "collection.secret",
                &[("url", &format!("{base_url}/track"))],
            ),
            grant_step: tr.t("collection.grant").to_owned(),
            token_step: tr.fill("collection.token", &[("maskinporten", maskinporten)]),
            paste_step: tr.t("collection.paste").to_owned(),
            order_step: tr.t("collection.order").to_owned(),
            check_step: tr.t("collection.check").to_owned(),
        }
    }

    fn postman(&self) -> Value {
        let bearer = json!({
            "type": "bearer",
            "bearer": [{ "key": "token", "value": "{{link_token}}", "type": "string" }],
        });
        let api_url = |tail: &[&str]| {
            let mut path = vec!["api", "v1", "orders", "{{reference}}"];
            path.extend_from_slice(tail);
            json!({
                "raw": format!("{{{{base_url}}}}/{}", path.join("/")),
                "host": ["{{base_url}}"],
                "path": path,
            })
        };
        let claims = serde_json::to_string_pretty(&self.claims_json).unwrap_or_default();
        let grant_description = format!("{}\n\n```json\n{claims}\n```", self.grant_step);
        json!({
            "info": {
                "name": self.title,
                "description": format!("{}\n\n{}", self.about, self.secret),
                "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
            },
            "variable": [
                { "key": "base_url", "value": self.base_url, "type": "string" },
                { "key": "reference", "value": self.reference, "type": "string" },
                { "key": "link_token", "value": self.link_token, "type": "string",
                  "description": self.secret },
                { "key": "grant", "value": "<signed JWT grant>", "type": "string",
                  "description": grant_description },
                { "key": "access_token", "value": "", "type": "string",
                  "description": self.paste_step },
            ],
            "item": [
                {
                    "name": format!("1. {}", self.token_step),
                    "request": {
                        // Never the link token to Maskinporten.
                        "auth": { "type": "noauth" },
                        "method": "POST",
                        "header": [],
                        "body": {
                            "mode": "urlencoded",
                            "urlencoded": [
                                { "key": "grant_type", "type": "text",
                                  "value": "urn:ietf:params:oauth:grant-type:jwt-bearer" },
                                { "key": "assertion", "type": "text", "value": "{{grant}}" },
                            ],
                        },
                        "url": self.token_endpoint,
                        "description": grant_description,
                    },
                    // Keeps the answer's access token for the check, in the vendor's own
                    // Postman only.
                    "event": [{
                        "listen": "test",
                        "script": {
                            "type": "text/javascript",
                            "exec": [
                                "if (pm.response.code === 200) {",
                                "  pm.collectionVariables.set('access_token', pm.response.json().access_token);",
                                "}",
                            ],
                        },
                    }],
                },
                {
                    "name": format!("2. {}", self.order_step),
                    "request": {
                        "auth": bearer,
                        "method": "GET",
                        "header": [{ "key": "Accept", "value": "application/json" }],
                        "url": api_url(&[]),
                    },
                },
                {
                    "name": format!("3. {}", self.check_step),
                    "request": {
                        "auth": bearer,
                        "method": "POST",
                        "header": [{ "key": "Content-Type", "value": "application/json" }],
                        "body": {
                            "mode": "raw",
                            "raw": "{\n  \"access_token\": \"{{access_token}}\"\n}",
                            "options": { "raw": { "language": "json" } },
                        },
                        "url": api_url(&["token-check"]),
                    },
                },
            ],
        })
    }
}

#[derive(Template)]
#[template(
    path = "track/collection.http",
    escape = "none",
    whitespace = "preserve"
)]
struct HttpFile<'a> {
    c: &'a Collection,
}

/// The order of the vendor whose link is in the path; the consumer's link gets 403, as the
/// files are for the token check, which is the vendor's.
async fn vendor_collection(visit: &Visit, token: &str) -> Result<Collection, AppError> {
    let link = open_link(&visit.ctx, token).await?;
    if link.role != ContactRole::Vendor {
        return Err(AppError::Forbidden("track.collection_vendor_only"));
    }
    let base_url = visit.ctx.settings.base_url.trim_end_matches('/');
    Ok(Collection::new(visit.tr(), &link.order, base_url, token))
}

/// A file to save, kept out of caches and search engines like the page it comes from.
fn download(content_type: &str, file_name: &str, body: String) -> HttpResponse {
    let mut response = HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(body);
    let headers = response.headers_mut();
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
    response
}

/// `GET /track/{token}/collection.http`
pub async fn http_file(visit: Visit, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let collection = vendor_collection(&visit, &path).await?;
    let body = HttpFile { c: &collection }.render()?;
    let name = format!("{}.http", collection.reference);
    Ok(download("text/plain; charset=utf-8", &name, body))
}

/// `GET /track/{token}/collection.postman.json`
pub async fn postman(visit: Visit, path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let collection = vendor_collection(&visit, &path).await?;
    let body = serde_json::to_string_pretty(&collection.postman())
        .map_err(|e| AppError::Internal(e.into()))?;
    let name = format!("{}.postman_collection.json", collection.reference);
    Ok(download("application/json", &name, body))
}
