//! A contact's private page, `/track/{token}`: where the order stands, whose step is next,
//! and that contact's own steps (in [`steps`], [`token`] and [`preparation`]); [`resend`]
//! sends the links again. Every action is a POST with a CSRF token; the page is never cached
//! and never sends its address on as a referrer.

pub mod collection;
pub mod preparation;
pub mod resend;
pub mod steps;
pub mod token;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue, REFERRER_POLICY};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::csrf;
use super::error::{AppError, html, with_cookie};
use super::extract::{ContactForm, Visit, open_link};
use super::progress::ProgressView;
use super::view::{
    FormView, OrderView, Page, display_time, environment_label, iso_time, status_label,
};
use crate::app::Order;
use crate::app::contacts::{self, Link, StepError};
use crate::domain::{Action, ContactRole, Environment};
use crate::i18n::Tr;
use crate::mail::render::OrderFacts;
use preparation::CheckReportView;
use token::{GrantHelp, ReportView, grant_help};

pub use preparation::{check_certificate, check_grant};
pub use resend::{resend, resend_form};
pub use steps::{confirm_delegation, withdraw};
pub use token::check_token;

/// One line of the contact's timeline: status changes only, no internal notes or names.
pub struct PublicEvent {
    pub at: String,
    pub at_iso: String,
    pub what: String,
    pub comment: Option<String>,
}

#[derive(Template)]
#[template(path = "track/order.html")]
struct TrackPage {
    page: Page,
    form: FormView,
    o: OrderView,
    /// The heading's text before and after the reference, which is kept whole on one line.
    heading: (&'static str, &'static str),
    role: &'static str,
    is_test: bool,
    status_label: &'static str,
    environment_label: &'static str,
    /// What this contact must do now, in the second person.
    next_step: String,
    progress: ProgressView,
    delegation_schema: String,
    can_confirm_delegation: bool,
    can_withdraw: bool,
    events: Vec<PublicEvent>,
    csrf_token: String,
    token: String,
    notice: Option<&'static str>,
    /// The vendor's help with the JWT grant (vendor pages of open orders).
    grant: Option<GrantHelp>,
    /// The vendor may paste its token (the order is `delegated`).
    can_check_token: bool,
    report: Option<ReportView>,
    /// The vendor may check its certificate and its JWT grant (any open status).
    can_prepare: bool,
    certificate_report: Option<CheckReportView>,
    grant_report: Option<CheckReportView>,
}

/// What the page says besides the order: the form's state, a notice, a check's report.
#[derive(Default)]
pub struct Answer {
    pub form: FormView,
    pub notice: Option<&'static str>,
    pub report: Option<ReportView>,
    pub certificate_report: Option<CheckReportView>,
    pub grant_report: Option<CheckReportView>,
    pub status: StatusCode,
}

/// One contact's page as this request renders it.
pub struct ContactPage<'a> {
    pub visit: &'a Visit,
    pub token: &'a str,
    pub role: ContactRole,
}

impl<'a> ContactPage<'a> {
    /// The page of the contact who posted `posted`.
    pub fn of(visit: &'a Visit, posted: &'a ContactForm) -> Self {
        ContactPage {
            visit,
            token: &posted.token,
            role: posted.link.role,
        }
    }

    /// The page for `order` with `answer` on it.
    pub async fn render(&self, order: Order, answer: Answer) -> Result<HttpResponse, AppError> {
        let (tr, ctx) = (self.visit.tr(), &self.visit.ctx);
        let (csrf_token, cookie) = csrf::issue_for(&self.visit.req, ctx);
        // What the page says the contact does now, in the same words as the emails.
        let facts = OrderFacts::from_stored(&order, &ctx.settings);
        let allowed = order.status.allowed_actions(order.environment);
        let vendor = self.role == ContactRole::Vendor;
        let timeline = contacts::timeline(ctx, &order).await?;
        let ending = crate::app::orders::ending(&order, &timeline);
        let progress = ProgressView::new(
            tr,
            &order,
            ending.as_ref(),
            Some(self.role),
            ctx.settings.workspace.expected_working_days,
        );
        let events = public_events(tr, timeline);
        let title = tr.fill("track.title", &[("reference", &order.reference)]);
        let path = format!("/track/{}", self.token);
        let page = Page::new(tr, &title, Some(&path)).with_form(&answer.form);
        let view = TrackPage {
            page,
            form: answer.form,
            heading: tr
                .t("track.title")
                .split_once("{reference}")
                .unwrap_or(("", "")),
            role: self.role.as_str(),
            is_test: order.environment == Environment::Test,
            status_label: status_label(tr, order.status),
            environment_label: environment_label(tr, order.environment),
            next_step: facts.next_step(tr, self.role, order.status),
            progress,
            delegation_schema: facts.delegation_schema,
            can_confirm_delegation: !vendor && allowed.contains(&Action::ConfirmDelegation),
            can_withdraw: vendor && allowed.contains(&Action::Withdraw),
            grant: (vendor && order.status.is_open()).then(|| grant_help(&order)),
            can_check_token: vendor && allowed.contains(&Action::VerifyToken),
            report: answer.report,
            can_prepare: vendor && order.status.is_open(),
            certificate_report: answer.certificate_report,
            grant_report: answer.grant_report,
            events,
            csrf_token,
            token: self.token.to_owned(),
            notice: answer.notice,
            o: OrderView::new(&order),
        };
        let mut response = with_cookie(html(answer.status, &view)?, cookie)?;
        // The address is the key to the order: never send it on to another site.
        let headers = response.headers_mut();
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(
            HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex, nofollow"),
        );
        Ok(response)
    }

    /// The page with the order as it stands and why the step was not taken (409): the answer
    /// is about the order, not about a field of a form that may no longer be shown.
    pub async fn refuse(&self, order: Order, key: &str) -> Result<HttpResponse, AppError> {
        let tr = self.visit.tr();
        let mut form = FormView::default();
        let status = status_label(tr, order.status);
        form.add_error("status", tr.fill(key, &[("status", status)]));
        let answer = Answer {
            form,
            status: StatusCode::CONFLICT,
            ..Answer::default()
        };
        self.render(order, answer).await
    }

    /// The answer to a step that was not taken; `typed` is the form as sent, for fields
    /// shown again with their errors.
    pub async fn refused(
        &self,
        error: StepError,
        typed: FormView,
    ) -> Result<HttpResponse, AppError> {
        match error {
            StepError::Conflict(current) => self.refuse(*current, "track.conflict").await,
            StepError::NotPossibleNow(order) => self.refuse(*order, "track.not_possible_now").await,
            StepError::Invalid(errors, order) => {
                let mut form = typed;
                form.add_field_errors(self.visit.tr(), &errors);
                let answer = Answer {
                    form,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    ..Answer::default()
                };
                self.render(*order, answer).await
            }
            other => Err(other.into()),
        }
    }
}

fn public_events(tr: Tr, events: Vec<crate::app::Event>) -> Vec<PublicEvent> {
    events
        .into_iter()
        .map(|e| PublicEvent {
            at: display_time(e.occurred_at),
            at_iso: iso_time(e.occurred_at),
            what: match e.to_status {
                Some(to) if e.kind == "status_changed" => {
                    tr.fill("track.event_status", &[("status", status_label(tr, to))])
                }
                _ => tr.t("admin.timeline.created").to_owned(),
            },
            comment: e.comment,
        })
        .collect()
}

pub async fn page(
    visit: Visit,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let Link { order, role } = open_link(&visit.ctx, &path).await?;
    let notice = match query.get("done").map(String::as_str) {
        Some("delegation") => Some("track.done_delegation"),
        Some("withdrawn") => Some("track.done_withdrawn"),
        _ => None,
    };
    let page = ContactPage {
        visit: &visit,
        token: &path,
        role,
    };
    let answer = Answer {
        notice,
        ..Answer::default()
    };
    page.render(order, answer).await
}
