//! The two contacts of an order and what tells them apart.

use super::named::named_enum;

named_enum! {
    /// Whose private link it is; each sees the order and may take that contact's steps only.
    pub enum ContactRole {
        Vendor = "vendor",
        Consumer = "consumer",
    }
}

impl ContactRole {
    /// How events name this contact.
    pub const fn actor(self) -> &'static str {
        match self {
            ContactRole::Vendor => "vendor_contact",
            ContactRole::Consumer => "consumer_contact",
        }
    }
}
