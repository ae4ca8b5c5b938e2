//! The order's progress as the contacts' pages and the receipt show it: the steps of its
//! environment with done / current / to come, whose move it is, how long the registry
//! usually takes, and, for an order that was stopped, that it was (with the reason, on the
//! contacts' pages only).

use crate::app::Order;
use crate::app::orders::Ending;
use crate::domain::ContactRole;
use crate::domain::progress::{self, Turn};
use crate::i18n::Tr;

pub struct StepView {
    pub status: &'static str,
    pub label: &'static str,
    /// `done`, `current`, `to_come` or `skipped`: the CSS class and the test hook.
    pub state: &'static str,
    pub state_label: &'static str,
}

pub struct EndedView {
    pub status: &'static str,
    pub heading: &'static str,
    /// The reason, for a contact (`None` on the receipt, which anyone with the reference
    /// can open); inside, `None` when none was given.
    pub reason: Option<(&'static str, Option<String>)>,
}

pub struct ProgressView {
    pub steps: Vec<StepView>,
    /// What the status the order is in means (as /help explains every status).
    pub meaning: String,
    /// Whose move it is now, while the order is open.
    pub turn: Option<String>,
    /// How long the registry's steps usually take, while the next step is the registry's.
    pub expected: Option<String>,
    pub ended: Option<EndedView>,
}

impl ProgressView {
    /// `reader` is the contact whose page it is (`None` on the receipt); `expected_days` is
    /// `RRH_EXPECTED_WORKING_DAYS`.
    pub fn new(
        tr: Tr,
        order: &Order,
        ending: Option<&Ending>,
        reader: Option<ContactRole>,
        expected_days: u32,
    ) -> Self {
        let stopped_at = ending.and_then(|e| e.from);
        let steps = progress::steps(order.environment, order.status, stopped_at)
            .into_iter()
            .map(|(status, state)| StepView {
                status: status.as_str(),
                label: tr.status(status),
                state: state.as_str(),
                state_label: tr.t(&format!("progress.state.{}", state.as_str())),
            })
            .collect();
        let turn = Turn::at(order.environment, order.status).map(|turn| match turn {
            _ if reader.is_some_and(|role| turn.is(role)) => tr.t("progress.turn.you").to_owned(),
            Turn::Registry => tr.t("progress.turn.registry").to_owned(),
            Turn::Vendor => tr.fill(
                "progress.turn.vendor",
                &[("vendor", &order.vendor_org_name)],
            ),
            Turn::Consumer => tr.fill(
                "progress.turn.consumer",
                &[("consumer", &order.consumer_org_name)],
            ),
        });
        let days = tr.plural("days.working", i64::from(expected_days));
        let ended = ending.map(|ending| {
            let status = order.status.as_str();
            EndedView {
                status,
                heading: tr.t(&format!("progress.ended.{status}")),
                reason: reader.map(|_| {
                    (
                        tr.t(&format!("progress.reason.{status}")),
                        ending.reason.clone().filter(|r| !r.trim().is_empty()),
                    )
                }),
            }
        });
        let meaning = format!(
            "{}: {}",
            tr.status(order.status),
            tr.t(&format!("status.meaning.{}", order.status.as_str()))
        );
        ProgressView {
            steps,
            meaning,
            // Only while the registry has the next step: it says how long *its* steps take.
            expected: (Turn::at(order.environment, order.status) == Some(Turn::Registry))
                .then(|| tr.fill("progress.expected", &[("days", &days)])),
            turn,
            ended,
        }
    }
}
