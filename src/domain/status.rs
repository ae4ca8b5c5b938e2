//! The order's status. The transitions between statuses arrive with the case-handler
//! workflow; intake only creates orders in `received`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Received,
    Tt02Loading,
    Tt02Loaded,
    Delegated,
    TokenVerified,
    Completed,
    Rejected,
    Withdrawn,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::Received,
        OrderStatus::Tt02Loading,
        OrderStatus::Tt02Loaded,
        OrderStatus::Delegated,
        OrderStatus::TokenVerified,
        OrderStatus::Completed,
        OrderStatus::Rejected,
        OrderStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "received",
            OrderStatus::Tt02Loading => "tt02_loading",
            OrderStatus::Tt02Loaded => "tt02_loaded",
            OrderStatus::Delegated => "delegated",
            OrderStatus::TokenVerified => "token_verified",
            OrderStatus::Completed => "completed",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(raw: &str) -> Option<OrderStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// An order is open until it is completed, rejected or withdrawn.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            OrderStatus::Completed | OrderStatus::Rejected | OrderStatus::Withdrawn
        )
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_name() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OrderStatus::parse("Received"), None);
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
