//! The accounts, for admins to see who has access. Accounts are changed on the command line
//! (`user add|passwd|disable`), where passwords never pass through a browser form.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;

use super::session::Admin;
use crate::app::accounts;
use crate::web::error::{AppError, html};
use crate::web::extract::Visit;
use crate::web::view::Page;

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    page: Page,
    users: Vec<UserLine>,
}

/// One account as the page lists it.
struct UserLine {
    name: String,
    email: String,
    role: &'static str,
    disabled: bool,
}

pub async fn page(admin: Admin, visit: Visit) -> Result<HttpResponse, AppError> {
    let tr = visit.tr();
    let page = UsersPage {
        page: Page::workspace(tr, tr.t("admin.users.title"), "/admin/users", admin.0.nav()),
        users: accounts::all(&visit.ctx)
            .await?
            .into_iter()
            .map(|user| UserLine {
                role: tr.t(&format!("admin.role.{}", user.role.as_str())),
                name: user.name,
                email: user.email,
                disabled: user.disabled,
            })
            .collect(),
    };
    html(StatusCode::OK, &page)
}
