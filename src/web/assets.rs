//! The stylesheet and icon, built into the binary: a release binary copied to a server
//! serves them without the source tree. The stylesheet's address carries a hash of its
//! content, so browsers may keep it for a year and still get a changed one at once. It is
//! served minified (made once, at start-up); the source file keeps its comments.

use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, ETAG};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

mod minify;

const STYLESHEET_SOURCE: &str = include_str!("../../static/app.css");
const ICON: &str = include_str!("../../static/favicon.svg");

/// The stylesheet as served: `static/app.css` without comments and needless whitespace.
static STYLESHEET: LazyLock<String> = LazyLock::new(|| minify::minify(STYLESHEET_SOURCE));

/// `app.<first 12 hex digits of the served stylesheet's SHA-256>.css`.
static STYLESHEET_NAME: LazyLock<String> = LazyLock::new(|| {
    let digest = hex::encode(Sha256::digest(STYLESHEET.as_bytes()));
    format!("app.{}.css", &digest[..12])
});

/// The stylesheet exactly as `GET /static/app.<hash>.css` serves it.
pub fn stylesheet() -> &'static str {
    &STYLESHEET
}

/// Makes the served stylesheet and its name now, so no request pays for it.
pub fn prepare() {
    LazyLock::force(&STYLESHEET_NAME);
}

/// Where pages link the stylesheet.
pub fn stylesheet_path() -> String {
    format!("/static/{}", *STYLESHEET_NAME)
}

/// `GET /static/{name}`: the stylesheet under its hashed name (kept a year), or under its
/// plain name for anything that still asks for it (revalidated each time).
pub async fn file(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let etag = format!("\"{}\"", *STYLESHEET_NAME);
    let cache = match name.as_str() {
        n if n == STYLESHEET_NAME.as_str() => "public, max-age=31536000, immutable",
        "app.css" => "no-cache",
        "favicon.svg" => return icon().await,
        _ => return HttpResponse::NotFound().finish(),
    };
    let unchanged = req
        .headers()
        .get(actix_web::http::header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if unchanged {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .content_type("text/css; charset=utf-8")
        .insert_header((CACHE_CONTROL, cache))
        .insert_header((ETAG, etag));
    if unchanged {
        response.finish()
    } else {
        response.body(stylesheet())
    }
}

/// `/favicon.ico` (what browsers ask for on every page) and `/static/favicon.svg`.
pub async fn icon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(ICON)
}
