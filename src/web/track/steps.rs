//! The contacts' workflow steps: the consumer confirms the delegation, the vendor withdraws.

use actix_web::HttpResponse;

use super::ContactPage;
use crate::app::contacts;
use crate::web::error::AppError;
use crate::web::extract::{ContactForm, Visit};
use crate::web::see_other;
use crate::web::view::FormView;

pub async fn confirm_delegation(
    visit: Visit,
    posted: ContactForm,
) -> Result<HttpResponse, AppError> {
    let version = posted.form.version().ok();
    match contacts::confirm_delegation(&visit.ctx, &posted.link, version).await {
        Ok(_) => Ok(see_other(format!(
            "/track/{}?done=delegation",
            posted.token
        ))),
        Err(error) => {
            let page = ContactPage::of(&visit, &posted);
            page.refused(error, FormView::default()).await
        }
    }
}

pub async fn withdraw(visit: Visit, posted: ContactForm) -> Result<HttpResponse, AppError> {
    let version = posted.form.version().ok();
    let reason = posted.form.get("withdraw_reason");
    match contacts::withdraw(&visit.ctx, &posted.link, version, reason).await {
        Ok(_) => Ok(see_other(format!("/track/{}?done=withdrawn", posted.token))),
        Err(error) => {
            let typed = FormView::typed(posted.form.values(), &["withdraw_reason"]);
            ContactPage::of(&visit, &posted).refused(error, typed).await
        }
    }
}
