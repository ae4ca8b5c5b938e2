//! The two contacts of an order and what tells them apart.

/// Whose private link it is; each sees the order and may take that contact's steps only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactRole {
    Vendor,
    Consumer,
}

impl ContactRole {
    pub const ALL: [ContactRole; 2] = [ContactRole::Vendor, ContactRole::Consumer];

    pub const fn as_str(self) -> &'static str {
        match self {
            ContactRole::Vendor => "vendor",
            ContactRole::Consumer => "consumer",
        }
    }

    pub fn parse(raw: &str) -> Option<ContactRole> {
        Self::ALL.into_iter().find(|role| role.as_str() == raw)
    }

    /// How events name this contact.
    pub const fn actor(self) -> &'static str {
        match self {
            ContactRole::Vendor => "vendor_contact",
            ContactRole::Consumer => "consumer_contact",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in ContactRole::ALL {
            assert_eq!(ContactRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(ContactRole::parse("Vendor"), None);
    }
}
