//! The page language: `?lang=` (remembered in a cookie), else the cookie, else the browser's
//! `Accept-Language`, else bokmål.

use std::future::{Ready, ready};

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::dev::Payload;
use actix_web::http::header::ACCEPT_LANGUAGE;
use actix_web::{FromRequest, HttpRequest};

use crate::i18n::{Lang, Tr};

pub const COOKIE: &str = "lang";

/// Extractor for the language of the current request.
#[derive(Debug, Clone, Copy)]
pub struct Language(pub Lang);

impl Language {
    pub fn tr(self) -> Tr {
        Tr::new(self.0)
    }

    pub fn resolve(req: &HttpRequest) -> Lang {
        chosen_in_query(req.query_string())
            .or_else(|| req.cookie(COOKIE).and_then(|c| Lang::parse(c.value())))
            .or_else(|| {
                req.headers()
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|h| h.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or_default()
    }
}

impl FromRequest for Language {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Language(Language::resolve(req))))
    }
}

/// The language named by `lang=` in a query string, if it is one we have.
pub fn chosen_in_query(query: &str) -> Option<Lang> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "lang")
        .and_then(|(_, value)| Lang::parse(&value))
}

pub fn cookie(lang: Lang, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, lang.code())
        .path("/")
        .max_age(Duration::days(365))
        .same_site(SameSite::Lax)
        .http_only(true)
        .secure(secure)
        .finish()
}
