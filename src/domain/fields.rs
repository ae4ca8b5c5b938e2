//! The order's fields, listed once. The table drives the form (sections, widgets, order),
//! the JSON API's field names and types, the error order, the stored columns, the CSV
//! export, the registry's email and the purge. Adding a field is: an entry here, a column in
//! a migration per database, its texts in the catalogs, and the rule that checks it.

/// The shape a field's value arrives in, in a form and in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// One string (JSON string; one form field).
    Text,
    /// Several strings (JSON array of strings; one per line or comma-separated in the form).
    List,
    /// Yes or no (JSON boolean; a checkbox).
    Flag,
}

/// Where a field stands on the form and in the registry's email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Order,
    Vendor,
    Consumer,
    /// Asked for test orders only.
    Test,
    Other,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Order,
        Section::Vendor,
        Section::Consumer,
        Section::Test,
        Section::Other,
    ];

    /// The last part of its catalog keys (`form.section_<name>`) and its HTML id.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Order => "order",
            Section::Vendor => "vendor",
            Section::Consumer => "consumer",
            Section::Test => "test",
            Section::Other => "other",
        }
    }

    /// Whether the section has an explanation under its heading (`form.section_<name>_hint`).
    pub fn has_hint(self) -> bool {
        matches!(self, Section::Vendor | Section::Consumer | Section::Test)
    }
}

/// How the form shows a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Widget {
    /// One radio button per choice (the choices come from the page).
    Radios,
    Input {
        /// The `type` attribute.
        kind: &'static str,
        autocomplete: &'static str,
        inputmode: &'static str,
        /// `short`, `medium` or `full`.
        width: &'static str,
    },
    Textarea {
        rows: u8,
    },
    Checkbox,
}

/// A flag kept in a column named otherwise than the field.
const fn set_at(field: OrderField, column: &'static str) -> OrderField {
    OrderField {
        stored: Stored::SetAt(column),
        ..field
    }
}

const fn text(kind: &'static str, autocomplete: &'static str, width: &'static str) -> Widget {
    Widget::Input {
        kind,
        autocomplete,
        inputmode: "",
        width,
    }
}

const NUMBER: Widget = Widget::Input {
    kind: "text",
    autocomplete: "off",
    inputmode: "numeric",
    width: "short",
};

/// How a field is stored, and what the purge leaves in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A NOT NULL text column; purged to `''`.
    Text,
    /// A nullable text column, NULL when not given; purged to NULL.
    Optional,
    /// A JSON array of strings; purged to `[]`.
    List,
    /// A flag kept as the time it was set (`<name>` → `test_data_acknowledged_at`).
    SetAt(&'static str),
}

/// The longest one-line free text (names, ids), in characters.
pub const SHORT_TEXT_MAX: usize = 200;
/// The longest free text that may span lines (the message to the registry).
pub const LONG_TEXT_MAX: usize = 2000;

/// One field of the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderField {
    /// The form's and the JSON API's name, the stored column and the CSV column.
    pub name: &'static str,
    pub input: Input,
    pub section: Section,
    pub widget: Widget,
    /// Shown as optional on the form; the rest are required (some for test orders only).
    pub required: bool,
    /// Has a hint under its label (`hint.<name>`).
    pub hint: bool,
    /// Personal data: emptied when the order is purged.
    pub personal: bool,
    pub stored: Stored,
    /// A column of the CSV export (the flag is not: its time says no more than the status).
    pub csv: bool,
}

impl OrderField {
    /// The `orders` column the field is kept in.
    pub fn column(&self) -> &'static str {
        match self.stored {
            Stored::SetAt(column) => column,
            _ => self.name,
        }
    }

    /// For an optional free text (a name, an id, a message): the most characters it takes,
    /// and whether it may span lines. Such fields are checked, stored, exported, mailed and
    /// purged by their table entry alone.
    pub fn free_text(&self) -> Option<(usize, bool)> {
        match (self.stored, self.widget) {
            (Stored::Optional, Widget::Textarea { .. }) => Some((LONG_TEXT_MAX, true)),
            (Stored::Optional, _) => Some((SHORT_TEXT_MAX, false)),
            _ => None,
        }
    }

    /// What the purge sets the column to, for personal data.
    pub fn purged(&self) -> &'static str {
        match self.stored {
            Stored::Text => "''",
            Stored::Optional | Stored::SetAt(_) => "NULL",
            Stored::List => "'[]'",
        }
    }
}

const fn field(
    name: &'static str,
    input: Input,
    section: Section,
    widget: Widget,
    flags: (bool, bool, bool),
) -> OrderField {
    let (required, hint, personal) = flags;
    let stored = match input {
        Input::List => Stored::List,
        // A flag is kept as the time it was set, in a column of its own name unless the
        // table says otherwise (see `set_at`).
        Input::Flag => Stored::SetAt(name),
        Input::Text if required => Stored::Text,
        Input::Text => Stored::Optional,
    };
    OrderField {
        name,
        input,
        section,
        widget,
        required,
        hint,
        personal,
        stored,
        csv: !matches!(input, Input::Flag),
    }
}

// (required, hint, personal)
const REQUIRED: (bool, bool, bool) = (true, false, false);
const REQUIRED_HINT: (bool, bool, bool) = (true, true, false);
const PERSONAL: (bool, bool, bool) = (true, false, true);
const PERSONAL_HINT: (bool, bool, bool) = (true, true, true);
const OPTIONAL_PERSONAL: (bool, bool, bool) = (false, false, true);
const OPTIONAL_PERSONAL_HINT: (bool, bool, bool) = (false, true, true);

use Input::{Flag, List, Text};
use Section::{Consumer, Order, Other, Test, Vendor};

/// Every field, in the order of the registry's guide: the form, errors, the CSV and the
/// registry's email follow it. One line per field, as a table reads.
#[rustfmt::skip]
pub const ORDER_FIELDS: [OrderField; 16] = [
    field("environment", Text, Order, Widget::Radios, REQUIRED_HINT),
    field("scope", Text, Order, Widget::Radios, REQUIRED_HINT),
    field("vendor_org_number", Text, Vendor, NUMBER, REQUIRED_HINT),
    field("vendor_org_name", Text, Vendor, text("text", "organization", "full"), REQUIRED),
    field("vendor_contact_name", Text, Vendor, text("text", "name", "full"), OPTIONAL_PERSONAL),
    field("vendor_contact_email", Text, Vendor, text("email", "email", "full"), PERSONAL),
    field("vendor_contact_phone", Text, Vendor, text("tel", "tel", "medium"), PERSONAL_HINT),
    field("consumer_org_number", Text, Consumer, NUMBER, REQUIRED_HINT),
    field("consumer_org_name", Text, Consumer, text("text", "off", "full"), REQUIRED),
    field("consumer_contact_name", Text, Consumer, text("text", "off", "full"), OPTIONAL_PERSONAL),
    field("consumer_contact_email", Text, Consumer, text("email", "off", "full"), PERSONAL),
    field("consumer_contact_phone", Text, Consumer, text("tel", "off", "medium"), PERSONAL_HINT),
    field("ip_addresses", List, Test, Widget::Textarea { rows: 3 }, PERSONAL_HINT),
    set_at(field("acknowledge_test_data", Flag, Test, Widget::Checkbox, REQUIRED_HINT), "test_data_acknowledged_at"),
    field("maskinporten_client_id", Text, Other, text("text", "off", "full"), OPTIONAL_PERSONAL_HINT),
    field("message", Text, Other, Widget::Textarea { rows: 5 }, OPTIONAL_PERSONAL_HINT),
];

/// The fields' names in table order; errors are reported in this order.
pub const FIELD_ORDER: [&str; ORDER_FIELDS.len()] = {
    let mut names = [""; ORDER_FIELDS.len()];
    let mut i = 0;
    while i < ORDER_FIELDS.len() {
        names[i] = ORDER_FIELDS[i].name;
        i += 1;
    }
    names
};

/// The field with this name, if the order has one.
pub fn order_field(name: &str) -> Option<&'static OrderField> {
    ORDER_FIELDS.iter().find(|f| f.name == name)
}

/// The `orders` columns of every field, in table order, comma-separated for SQL.
pub fn columns() -> String {
    ORDER_FIELDS
        .iter()
        .map(OrderField::column)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fields of one section, in table order.
pub fn in_section(section: Section) -> impl Iterator<Item = &'static OrderField> {
    ORDER_FIELDS.iter().filter(move |f| f.section == section)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case_and_sections_keep_together() {
        crate::domain::tests::assert_unique_snake_case(FIELD_ORDER);
        // Each field has a column of its own.
        crate::domain::tests::assert_unique_snake_case(ORDER_FIELDS.map(|f| f.column()));
        // A section's fields are one run, so the form shows them under one heading.
        let sections: Vec<Section> = ORDER_FIELDS.iter().map(|f| f.section).collect();
        let mut runs = sections.clone();
        runs.dedup();
        assert_eq!(runs, Section::ALL, "{sections:?}");
    }
}
