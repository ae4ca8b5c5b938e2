//! Where an order stands on its way, as the contacts and the receipt show it: the steps of
//! its environment, each done / current / to come, and whose move it is now.

use super::{ContactRole, Environment, OrderStatus};
use crate::domain::named::named_enum;

named_enum! {
    /// Who must act for the order to leave the status it is in.
    pub enum Turn {
        Registry = "registry",
        Vendor = "vendor",
        Consumer = "consumer",
    }
}

impl Turn {
    /// Whose move an open order at `status` waits for; nobody's once it has ended.
    pub fn at(environment: Environment, status: OrderStatus) -> Option<Turn> {
        use OrderStatus as S;
        Some(match status {
            // A production order needs no loading: the consumer delegates straight away.
            S::Received if environment == Environment::Production => Turn::Consumer,
            S::Received | S::Tt02Loading | S::TokenVerified => Turn::Registry,
            S::Tt02Loaded => Turn::Consumer,
            S::Delegated => Turn::Vendor,
            S::Completed | S::Rejected | S::Withdrawn => return None,
        })
    }

    pub fn is(self, role: ContactRole) -> bool {
        matches!(
            (self, role),
            (Turn::Vendor, ContactRole::Vendor) | (Turn::Consumer, ContactRole::Consumer)
        )
    }
}

/// One step on the order's way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Done,
    /// The status the order is in now.
    Current,
    ToCome,
    /// Not reached: the order was rejected or withdrawn before it.
    Skipped,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Done => "done",
            StepState::Current => "current",
            StepState::ToCome => "to_come",
            StepState::Skipped => "skipped",
        }
    }
}

/// The statuses an order of `environment` passes through when all goes well.
pub fn path(environment: Environment) -> &'static [OrderStatus] {
    use OrderStatus as S;
    match environment {
        Environment::Test => &[
            S::Received,
            S::Tt02Loading,
            S::Tt02Loaded,
            S::Delegated,
            S::TokenVerified,
            S::Completed,
        ],
        Environment::Production => &[S::Received, S::Delegated, S::TokenVerified, S::Completed],
    }
}

/// The order's steps with their state. `stopped_at` is the status a rejected or withdrawn
/// order was in when it ended (from its history); the steps before it are done, the rest
/// were never reached.
pub fn steps(
    environment: Environment,
    status: OrderStatus,
    stopped_at: Option<OrderStatus>,
) -> Vec<(OrderStatus, StepState)> {
    let path = path(environment);
    let ended_early = matches!(status, OrderStatus::Rejected | OrderStatus::Withdrawn);
    let position = |s: OrderStatus| path.iter().position(|p| *p == s);
    let (mark, at) = if ended_early {
        // The step it stopped at was done; nothing after it happened.
        let at = stopped_at.and_then(position).unwrap_or(0);
        (StepState::Done, at)
    } else {
        (StepState::Current, position(status).unwrap_or(0))
    };
    path.iter()
        .enumerate()
        .map(|(i, s)| {
            let state = match i.cmp(&at) {
                std::cmp::Ordering::Less => StepState::Done,
                std::cmp::Ordering::Equal => mark,
                std::cmp::Ordering::Greater if ended_early => StepState::Skipped,
                std::cmp::Ordering::Greater => StepState::ToCome,
            };
            (*s, state)
        })
        .map(|(s, state)| match (s, state) {
            // A completed order has no step left to be in.
            (OrderStatus::Completed, StepState::Current) => (s, StepState::Done),
            other => other,
        })
        .collect()
}

/// The catalog key of what `role` must do now (or that it need do nothing), in the second
/// person: `next.<role>.<status>`, with `_production` for the one status whose step differs
/// between environments.
pub fn next_step_key(role: ContactRole, environment: Environment, status: OrderStatus) -> String {
    let suffix = if status == OrderStatus::Received && environment == Environment::Production {
        "_production"
    } else {
        ""
    };
    format!("next.{}.{}{suffix}", role.as_str(), status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus as S;
    use StepState::*;

    fn states(env: Environment, status: S, stopped: Option<S>) -> Vec<StepState> {
        steps(env, status, stopped)
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    #[test]
    fn an_open_test_order_is_done_up_to_its_status() {
        assert_eq!(
            states(Environment::Test, S::Tt02Loaded, None),
            [Done, Done, Current, ToCome, ToCome, ToCome]
        );
        assert_eq!(
            states(Environment::Production, S::Received, None),
            [Current, ToCome, ToCome, ToCome]
        );
    }

    #[test]
    fn a_completed_order_has_every_step_done() {
        assert_eq!(
            states(Environment::Production, S::Completed, None),
            [Done, Done, Done, Done]
        );
    }

    #[test]
    fn a_rejected_order_shows_how_far_it_came_and_nothing_current() {
        assert_eq!(
            states(Environment::Test, S::Rejected, Some(S::Tt02Loading)),
            [Done, Done, Skipped, Skipped, Skipped, Skipped]
        );
        assert_eq!(
            states(Environment::Production, S::Withdrawn, None),
            [Done, Skipped, Skipped, Skipped]
        );
    }

    #[test]
    fn whose_turn_follows_the_workflow() {
        assert_eq!(
            Turn::at(Environment::Production, S::Received),
            Some(Turn::Consumer)
        );
        assert_eq!(
            Turn::at(Environment::Test, S::Received),
            Some(Turn::Registry)
        );
        assert_eq!(
            Turn::at(Environment::Test, S::Delegated),
            Some(Turn::Vendor)
        );
        assert_eq!(Turn::at(Environment::Test, S::Completed), None);
        // Whose turn it is matches who may take the step that leaves the status.
        for env in [Environment::Test, Environment::Production] {
            for status in path(env).iter().copied().filter(|s| s.is_open()) {
                let turn = Turn::at(env, status).unwrap();
                let actions = status.allowed_actions(env);
                let consumer_step = actions.contains(&crate::domain::Action::ConfirmDelegation);
                let vendor_step = actions.contains(&crate::domain::Action::VerifyToken);
                assert_eq!(turn == Turn::Consumer, consumer_step, "{env:?} {status}");
                assert_eq!(turn == Turn::Vendor, vendor_step, "{env:?} {status}");
            }
        }
    }

    #[test]
    fn next_step_keys_name_role_and_status() {
        assert_eq!(
            next_step_key(ContactRole::Consumer, Environment::Production, S::Received),
            "next.consumer.received_production"
        );
        assert_eq!(
            next_step_key(ContactRole::Vendor, Environment::Test, S::Delegated),
            "next.vendor.delegated"
        );
    }
}
