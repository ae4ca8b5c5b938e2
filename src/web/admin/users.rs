//! The accounts, for admins to see who has access. Accounts are changed on the command line
//! (`user add|passwd|disable`), where passwords never pass through a browser form.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::session::Admin;
use crate::store::users::{self, User};
use crate::web::AppState;
use crate::web::error::{AppError, html};
use crate::web::lang::Language;
use crate::web::view::Page;

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: Page,
    users: Vec<User>,
}

pub async fn page(
    admin: Admin,
    lang: Language,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let tr = lang.tr();
    let page = UsersPage {
        page: Page::workspace(tr, tr.t("admin.users.title"), "/admin/users", admin.0.nav()),
        users: users::all(&state.db).await?,
    };
    html(StatusCode::OK, &page)
}
