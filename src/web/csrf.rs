//! CSRF protection for the public form, which has no session: a random value in an HttpOnly
//! cookie, and in the form an HMAC of it under the server's key (a "signed double submit").
//! A cross-site page can neither read the cookie nor compute the form value.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::extract::Form;
use crate::app::Context;

pub const COOKIE: &str = "rrh_csrf";
pub const FIELD: &str = "csrf_token";

type HmacSha256 = Hmac<Sha256>;

/// The token to put in a form without a session, and the cookie to set if the browser has
/// none yet.
pub fn issue_for(req: &HttpRequest, ctx: &Context) -> (String, Option<Cookie<'static>>) {
    issue(
        req,
        ctx.settings.session_key.expose(),
        ctx.settings.secure_cookies(),
    )
}

/// True when the submitted form carries this browser's token.
pub fn form_ok(req: &HttpRequest, ctx: &Context, form: &Form) -> bool {
    verify(req, ctx.settings.session_key.expose(), form.get(FIELD))
}

/// The token to put in a form, and the cookie to set if the browser has none yet.
pub fn issue(req: &HttpRequest, key: &[u8], secure: bool) -> (String, Option<Cookie<'static>>) {
    match req
        .cookie(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 64)
    {
        Some(seed) => (sign(key, &seed), None),
        None => {
            let seed = crate::auth::random_token();
            let cookie = Cookie::build(COOKIE, seed.clone())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(secure)
                .finish();
            (sign(key, &seed), Some(cookie))
        }
    }
}

/// True when `submitted` is the token for this browser's cookie. Compared in constant time.
pub fn verify(req: &HttpRequest, key: &[u8], submitted: &str) -> bool {
    let Some(seed) = req.cookie(COOKIE).map(|c| c.value().to_owned()) else {
        return false;
    };
    let expected = sign(key, &seed);
    expected.len() == submitted.len() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

fn sign(key: &[u8], seed: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(b"rrh-public-form:");
    mac.update(seed.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}
