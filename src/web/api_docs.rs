//! `GET /api`: the API for people, in the page's language, made by walking the same OpenAPI
//! document that `GET /api/v1/openapi.json` serves ([`super::openapi::document`]): every
//! operation with its summary, request examples, responses and their examples. The texts
//! are the catalog's (`api_docs.op.<operationId>`, `api_docs.status.<status>`), so each
//! operation and status in the document needs them; `i18n::coverage` checks that it has.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi as Document, RefOr, Schema};

use super::error::{AppError, html};
use super::extract::Visit;
use super::openapi::document;
use super::view::Page;
use crate::i18n::Tr;

/// One example: its name (an error code, or which kind of order) and its JSON, indented.
pub struct ExampleView {
    pub name: String,
    /// Its heading among the request's examples.
    pub heading: String,
    pub json: String,
}

pub struct ResponseView {
    pub status: String,
    pub meaning: &'static str,
    pub examples: Vec<ExampleView>,
}

pub struct OperationView {
    /// The operation id, for the section's anchor.
    pub id: String,
    pub method: &'static str,
    pub path: String,
    pub summary: &'static str,
    /// The caption of its table of responses.
    pub caption: String,
    pub request_examples: Vec<ExampleView>,
    pub responses: Vec<ResponseView>,
}

#[derive(Template)]
#[template(path = "public/api_docs.html")]
struct ApiDocsPage {
    page: Page,
    operations: Vec<OperationView>,
}

pub async fn page(visit: Visit) -> Result<HttpResponse, AppError> {
    let tr = visit.tr();
    let doc = document(&visit.ctx.settings.scopes);
    html(
        StatusCode::OK,
        &ApiDocsPage {
            page: Page::new(tr, tr.t("api_docs.title"), Some("/api")),
            operations: operations(&doc, tr),
        },
    )
}

/// Every operation of the document, by path and then method.
pub fn operations(doc: &Document, tr: Tr) -> Vec<OperationView> {
    let mut views = Vec::new();
    for (path, item) in doc.paths.paths.iter() {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in methods {
            if let Some(operation) = operation {
                views.push(operation_view(doc, tr, method, path, operation));
            }
        }
    }
    views
}

/// The catalog keys the page needs for `doc`: one summary per operation, one meaning per
/// response status.
pub fn catalog_keys(doc: &Document) -> Vec<String> {
    let mut keys = Vec::new();
    for (path, item) in doc.paths.paths.iter() {
        for operation in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
            .into_iter()
            .flatten()
        {
            keys.push(format!("api_docs.op.{}", operation_id(operation, path)));
            for status in operation.responses.responses.keys() {
                keys.push(format!("api_docs.status.{status}"));
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

fn operation_id(operation: &Operation, path: &str) -> String {
    operation
        .operation_id
        .clone()
        .unwrap_or_else(|| path.to_owned())
}

fn operation_view(
    doc: &Document,
    tr: Tr,
    method: &'static str,
    path: &str,
    operation: &Operation,
) -> OperationView {
    let id = operation_id(operation, path);
    let request_examples = operation
        .request_body
        .as_ref()
        .and_then(|body| body.content.get("application/json"))
        .map(|content| content_examples(doc, content))
        .unwrap_or_default()
        .into_iter()
        .map(|example| ExampleView {
            heading: tr.fill("api_docs.request_example", &[("name", &example.name)]),
            ..example
        })
        .collect();
    let responses = operation
        .responses
        .responses
        .iter()
        .map(|(status, response)| {
            let examples = match response {
                RefOr::T(response) => response
                    .content
                    .get("application/json")
                    .map(|content| content_examples(doc, content))
                    .unwrap_or_default(),
                RefOr::Ref(_) => Vec::new(),
            };
            ResponseView {
                status: status.clone(),
                meaning: tr.t(&format!("api_docs.status.{status}")),
                examples,
            }
        })
        .collect();
    OperationView {
        summary: tr.t(&format!("api_docs.op.{id}")),
        caption: tr.fill(
            "api_docs.responses_caption",
            &[("operation", &format!("{method} {path}"))],
        ),
        id,
        method,
        path: path.to_owned(),
        request_examples,
        responses,
    }
}

/// The content's named examples; else its one example; else the first example of its
/// schema (a component's, for a `$ref`).
fn content_examples(doc: &Document, content: &Content) -> Vec<ExampleView> {
    let named: Vec<ExampleView> = content
        .examples
        .iter()
        .filter_map(|(name, example)| match example {
            RefOr::T(example) => example.value.as_ref().map(|value| view(name, value)),
            RefOr::Ref(_) => None,
        })
        .collect();
    if !named.is_empty() {
        return named;
    }
    if let Some(value) = &content.example {
        return vec![view("", value)];
    }
    let schema = match &content.schema {
        Some(RefOr::Ref(reference)) => {
            let name = reference.ref_location.rsplit('/').next().unwrap_or("");
            doc.components.as_ref().and_then(|c| c.schemas.get(name))
        }
        other => other.as_ref(),
    };
    match schema {
        Some(RefOr::T(Schema::Object(object))) => object
            .examples
            .iter()
            .take(1)
            .map(|v| view("", v))
            .collect(),
        _ => Vec::new(),
    }
}

fn view(name: &str, value: &serde_json::Value) -> ExampleView {
    ExampleView {
        name: name.to_owned(),
        heading: String::new(),
        json: serde_json::to_string_pretty(value).unwrap_or_default(),
    }
}
