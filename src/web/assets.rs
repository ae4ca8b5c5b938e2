//! The stylesheets and icon, built into the binary: a release binary copied to a server
//! serves them without the source tree. A stylesheet's address carries a hash of its
//! content, so browsers may keep it for a year and still get a changed one at once. They are
//! served minified (made once, at start-up); the source files keep their comments.

use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, ETAG};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

mod minify;

const ICON: &str = include_str!("../../static/favicon.svg");

/// A stylesheet built into the binary, served minified under a name that carries a hash of
/// what is served.
pub struct Stylesheet {
    /// `app` or `admin`: the plain name is `<stem>.css`.
    stem: &'static str,
    source: &'static str,
}

/// The minified text and hashed name of each stylesheet, made once.
fn served(sheet: &'static Stylesheet) -> &'static (String, String) {
    static SERVED: LazyLock<[(String, String); 2]> = LazyLock::new(|| {
        [&APP, &ADMIN].map(|sheet| {
            let css = minify::minify(sheet.source);
            let digest = hex::encode(Sha256::digest(css.as_bytes()));
            let name = format!("{}.{}.css", sheet.stem, &digest[..12]);
            (css, name)
        })
    });
    &SERVED[usize::from(sheet.stem == ADMIN.stem)]
}

/// Every page's stylesheet.
pub static APP: Stylesheet = Stylesheet {
    stem: "app",
    source: include_str!("../../static/app.css"),
};
/// The workspace's own rules, linked after [`APP`] on case handlers' pages only, so the
/// public pages do not carry them.
pub static ADMIN: Stylesheet = Stylesheet {
    stem: "admin",
    source: include_str!("../../static/admin.css"),
};

/// The stylesheet exactly as `GET /static/app.<hash>.css` serves it.
pub fn stylesheet() -> &'static str {
    &served(&APP).0
}

/// Makes the served stylesheets and their names now, so no request pays for them.
pub fn prepare() {
    served(&APP);
}

/// Where pages link the stylesheet.
pub fn stylesheet_path() -> String {
    format!("/static/{}", served(&APP).1)
}

/// Where workspace pages link their own stylesheet.
pub fn admin_stylesheet_path() -> String {
    format!("/static/{}", served(&ADMIN).1)
}

/// `GET /static/{name}`: a stylesheet under its hashed name (kept a year), or under its
/// plain name for anything that still asks for it (revalidated each time).
pub async fn file(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    if name.as_str() == "favicon.svg" {
        return icon().await;
    }
    let found = [&APP, &ADMIN].into_iter().find_map(|sheet| {
        let (css, hashed) = served(sheet);
        if name.as_str() == hashed.as_str() {
            Some((css, hashed, "public, max-age=31536000, immutable"))
        } else if name.strip_suffix(".css") == Some(sheet.stem) {
            Some((css, hashed, "no-cache"))
        } else {
            None
        }
    });
    let Some((css, hashed, cache)) = found else {
        return HttpResponse::NotFound().finish();
    };
    let etag = format!("\"{hashed}\"");
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
        response.body(css.as_str())
    }
}

/// `/favicon.ico` (what browsers ask for on every page) and `/static/favicon.svg`.
pub async fn icon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(ICON)
}
