//! The case handlers' workspace under `/admin`: login, the queue, the order page with its
//! workflow actions, TT02 loading in batches, the CSV export and (for admins) the mail outbox.

pub mod loading;
pub mod login;
pub mod order;
pub mod outbox;
pub mod queue;
pub mod session;
pub mod users;

use actix_web::{HttpResponse, web};

use super::see_other;

pub async fn home(_user: session::CaseHandler) -> HttpResponse {
    see_other("/admin/orders")
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    use super::routing::resource;
    cfg.service(resource("/admin").get(home))
        .service(resource("/admin/").get(home))
        .service(
            resource("/admin/login")
                .get(login::form)
                .post(login::submit),
        )
        .service(resource("/admin/logout").post(login::logout))
        .service(resource("/admin/orders").get(queue::page))
        .service(resource("/admin/orders.csv").get(queue::export))
        .service(
            resource(loading::PATH)
                .get(loading::confirm_page)
                .post(loading::request),
        )
        .service(resource("/admin/tt02-loading.csv").get(loading::csv))
        .service(resource("/admin/orders/{reference}").get(order::page))
        .service(resource("/admin/orders/{reference}/status").post(order::change_status))
        .service(resource("/admin/orders/{reference}/notes").post(order::add_note))
        .service(resource("/admin/orders/{reference}/assignment").post(order::assign))
        .service(resource("/admin/outbox").get(outbox::page))
        .service(resource("/admin/outbox/retry").post(outbox::retry_all))
        .service(resource("/admin/outbox/{id}/retry").post(outbox::retry))
        .service(resource("/admin/users").get(users::page));
}
