//! The order's status and the workflow between statuses, as a type: every move goes through
//! [`OrderStatus::transition`], which refuses the ones the workflow does not have.
//!
//! ```text
//! test:        received -> tt02_loading -> tt02_loaded -> delegated -> token_verified -> completed
//! production:  received ---------------------------------> delegated -> token_verified -> completed
//! any open state -> rejected | withdrawn
//! ```

use super::Environment;
use super::named::named_enum;

named_enum! {
    /// Where an order stands; the names are stored and sent as they are.
    pub enum OrderStatus {
        /// The registry has the order; the case handlers' step.
        Received = "received",
        /// The registry is loading both organisations into TT02 (test only).
        Tt02Loading = "tt02_loading",
        /// Both are in TT02 and the consumer has its login identity (test only).
        Tt02Loaded = "tt02_loaded",
        /// The consumer has delegated the scope to the vendor in Altinn.
        Delegated = "delegated",
        /// The vendor fetched a delegated token for the consumer.
        TokenVerified = "token_verified",
        Completed = "completed",
        /// Refused by the registry, with a reason.
        Rejected = "rejected",
        /// Taken back by the vendor, with a reason.
        Withdrawn = "withdrawn",
    }
}

impl OrderStatus {
    /// An order is open until it is completed, rejected or withdrawn.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            OrderStatus::Completed | OrderStatus::Rejected | OrderStatus::Withdrawn
        )
    }
}

named_enum! {
    /// What someone does to an order. Each action leads to exactly one status.
    pub enum Action {
        /// The registry starts loading both organisations into TT02 (test only).
        StartTt02Loading = "start_tt02_loading",
        /// Both organisations are in TT02; needs the consumer's TT02 login identity (test only).
        MarkTt02Loaded = "mark_tt02_loaded",
        /// The consumer has delegated the scope to the vendor in Altinn.
        ConfirmDelegation = "confirm_delegation",
        /// The vendor's delegated token was verified (or the registry saw its calls).
        VerifyToken = "verify_token",
        Complete = "complete",
        /// The registry refuses the order; needs a reason.
        Reject = "reject",
        /// The vendor takes the order back.
        Withdraw = "withdraw",
    }
}

impl Action {
    /// Withdrawing is the vendor's own step (through its link); every other action is one a
    /// case handler may take.
    pub fn is_case_handler_action(self) -> bool {
        !matches!(self, Action::Withdraw)
    }
}

/// Why a move was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{action:?} is not possible from {from} for a {environment:?} order")]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub action: Action,
    pub environment: Environment,
}

impl OrderStatus {
    /// The status `action` leads to from this one, or an error if the workflow has no such move.
    pub fn transition(
        self,
        environment: Environment,
        action: Action,
    ) -> Result<OrderStatus, IllegalTransition> {
        use OrderStatus as S;
        let test = environment == Environment::Test;
        let next = match (self, action) {
            (from, Action::Reject) if from.is_open() => S::Rejected,
            (from, Action::Withdraw) if from.is_open() => S::Withdrawn,
            (S::Received, Action::StartTt02Loading) if test => S::Tt02Loading,
            (S::Tt02Loading, Action::MarkTt02Loaded) if test => S::Tt02Loaded,
            (S::Tt02Loaded, Action::ConfirmDelegation) if test => S::Delegated,
            (S::Received, Action::ConfirmDelegation) if !test => S::Delegated,
            (S::Delegated, Action::VerifyToken) => S::TokenVerified,
            (S::TokenVerified, Action::Complete) => S::Completed,
            _ => {
                return Err(IllegalTransition {
                    from: self,
                    action,
                    environment,
                });
            }
        };
        Ok(next)
    }

    /// The actions the workflow allows from here, in the order they are offered.
    pub fn allowed_actions(self, environment: Environment) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| self.transition(environment, *a).is_ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, written out by hand: every status × action × environment not listed
    /// here must be refused.
    #[test]
    fn every_state_and_action_follows_the_workflow_exactly() {
        use Action as A;
        use Environment::{Production, Test};
        use OrderStatus as S;
        let mut legal = vec![
            (Test, S::Received, A::StartTt02Loading, S::Tt02Loading),
            (Test, S::Tt02Loading, A::MarkTt02Loaded, S::Tt02Loaded),
            (Test, S::Tt02Loaded, A::ConfirmDelegation, S::Delegated),
            (Test, S::Delegated, A::VerifyToken, S::TokenVerified),
            (Test, S::TokenVerified, A::Complete, S::Completed),
            (Production, S::Received, A::ConfirmDelegation, S::Delegated),
            (Production, S::Delegated, A::VerifyToken, S::TokenVerified),
            (Production, S::TokenVerified, A::Complete, S::Completed),
        ];
        for env in [Test, Production] {
            for from in OrderStatus::ALL.into_iter().filter(|s| s.is_open()) {
                legal.push((env, from, A::Reject, S::Rejected));
                legal.push((env, from, A::Withdraw, S::Withdrawn));
            }
        }
        let mut checked = 0;
        for env in [Test, Production] {
            for from in OrderStatus::ALL {
                for action in Action::ALL {
                    let expected = legal
                        .iter()
                        .find(|(e, f, a, _)| *e == env && *f == from && *a == action)
                        .map(|(_, _, _, to)| *to);
                    let got = from.transition(env, action).ok();
                    assert_eq!(got, expected, "{env:?} {from} {action:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 2 * 8 * 7);
    }

    #[test]
    fn closed_orders_allow_nothing_and_open_ones_can_always_be_rejected() {
        for env in [Environment::Test, Environment::Production] {
            for status in OrderStatus::ALL {
                let actions = status.allowed_actions(env);
                if status.is_open() {
                    assert!(actions.contains(&Action::Reject), "{status}");
                } else {
                    assert!(actions.is_empty(), "{status}");
                }
            }
        }
    }

    #[test]
    fn only_the_end_states_are_closed() {
        let closed: Vec<_> = OrderStatus::ALL
            .into_iter()
            .filter(|s| !s.is_open())
            .collect();
        assert_eq!(
            closed,
            [
                OrderStatus::Completed,
                OrderStatus::Rejected,
                OrderStatus::Withdrawn
            ]
        );
    }
}
