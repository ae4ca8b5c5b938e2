//! Resources that know their methods: every route is registered through [`resource`], so a
//! request with another method gets the 405 page (or JSON under `/api/`) with an `Allow`
//! header naming the methods that path does take (RFC 9110, 15.5.6: a 405 must carry one).
//! actix's own resources answer other methods without `Allow`, since a resource does not
//! tell its default service which methods its routes have.

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::Method;
use actix_web::http::header::{ALLOW, HeaderValue};
use actix_web::{FromRequest, Handler, HttpResponse, Resource, Responder, ResponseError, web};

use super::error::AppError;

/// A path and the handler for each method it takes; registered with `cfg.service(...)`.
pub struct Endpoint {
    resource: Resource,
    methods: Vec<Method>,
}

/// The resource at `path`; add its methods with [`Endpoint::get`], [`Endpoint::post`], ….
pub fn resource(path: &str) -> Endpoint {
    Endpoint {
        resource: web::resource(path),
        methods: Vec::new(),
    }
}

impl Endpoint {
    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::GET, handler)
    }

    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::POST, handler)
    }

    pub fn put<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::PUT, handler)
    }

    pub fn patch<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::PATCH, handler)
    }

    pub fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::DELETE, handler)
    }

    /// `handler` for requests with `method`, which the 405 answer's `Allow` then names.
    pub fn method<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.methods.push(method.clone());
        self.resource = self.resource.route(web::method(method).to(handler));
        self
    }
}

impl HttpServiceFactory for Endpoint {
    fn register(self, config: &mut AppService) {
        let allow = self
            .methods
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        self.resource
            .default_service(web::to(move || method_not_allowed(allow.clone())))
            .register(config);
    }
}

/// The 405 answer (a page, or JSON under `/api/`), with `Allow: <the path's methods>`.
async fn method_not_allowed(allow: String) -> HttpResponse {
    let mut response = AppError::MethodNotAllowed.error_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}
