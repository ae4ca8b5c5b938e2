//! Domain types for an order: every value from a form or JSON body is parsed into one of
//! these before any handler uses it, so the rest of the app never sees unchecked input.
//! Errors carry stable codes only; the web layer turns codes into catalog messages.

pub mod calendar;
pub mod contact;
pub mod email;
pub mod environment;
pub mod fields;
pub mod idempotency;
pub mod ip;
pub(crate) mod named;
pub mod national_id;
pub mod new_order;
pub mod org_number;
pub mod phone;
pub mod progress;
pub mod scope;
pub mod stats;
pub mod status;
pub mod text;

#[cfg(test)]
mod test_support;

pub use contact::ContactRole;
pub use email::EmailAddress;
pub use environment::Environment;
pub use fields::{FIELD_ORDER, ORDER_FIELDS, OrderField, Section, order_field};
pub use idempotency::{IdempotencyKey, KeyScope, Submission};
pub use ip::IpRange;
pub use national_id::SyntheticNationalId;
pub use new_order::{InputValue, NewOrder, NotTaken, OrderErrors, OrderInput, Party};
pub use org_number::OrgNumber;
pub use phone::MobileNumber;
pub use scope::{Scope, ScopeCatalog, ScopeDefinition};
pub use status::{Action, IllegalTransition, OrderStatus};
pub use text::{OrgName, is_forbidden_control, optional_text};

/// A rule a value broke. `code` is stable (API clients key on it; the catalog has a message `error.<code>`);
/// `value` names the offending part when that helps (e.g. the one bad IP entry), never a whole personal datum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}")]
pub struct FieldError {
    pub code: &'static str,
    pub value: Option<String>,
}

impl FieldError {
    pub fn new(code: &'static str) -> Self {
        Self { code, value: None }
    }

    pub fn with_value(code: &'static str, value: impl Into<String>) -> Self {
        Self {
            code,
            value: Some(value.into()),
        }
    }
}

/// The input without surrounding whitespace, or `required` when nothing is left: how every
/// required field's parse starts.
pub fn required(raw: &str) -> Result<&str, FieldError> {
    match raw.trim() {
        "" => Err(FieldError::new(codes::REQUIRED)),
        text => Ok(text),
    }
}

/// The digits of a number as people type it: spaces (non-breaking ones too, from copying off
/// web pages) are grouping only; `required` when nothing is left. Other characters stay, for
/// the caller's format check.
pub fn digits_of(raw: &str) -> Result<String, FieldError> {
    let digits: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{00A0}' | '\u{202F}'))
        .collect();
    if digits.is_empty() {
        return Err(FieldError::new(codes::REQUIRED));
    }
    Ok(digits)
}

/// [`required`], and at most `max` characters (not bytes: "Brønnøysund" must not count
/// double).
pub fn required_within(raw: &str, max: usize) -> Result<&str, FieldError> {
    let text = required(raw)?;
    if text.chars().count() > max {
        return Err(FieldError::new(codes::TOO_LONG));
    }
    Ok(text)
}

/// The stable error codes, as constants so a typo is a compile error rather than a
/// message missing from the catalog.
pub mod codes {
    pub const REQUIRED: &str = "required";
    pub const TOO_LONG: &str = "too_long";
    pub const CONTROL_CHARACTERS: &str = "control_characters";
    pub const NO_LETTERS: &str = "no_letters";
    pub const INVALID_CHOICE: &str = "invalid_choice";
    pub const ORG_NUMBER_FORMAT: &str = "org_number_format";
    pub const ORG_NUMBER_CHECKSUM: &str = "org_number_checksum";
    pub const SAME_ORG_NUMBER: &str = "same_org_number";
    pub const EMAIL_INVALID: &str = "email_invalid";
    pub const PHONE_INVALID: &str = "phone_invalid";
    pub const PHONE_NOT_MOBILE: &str = "phone_not_mobile";
    pub const IP_INVALID: &str = "ip_invalid";
    pub const IP_NOT_PUBLIC: &str = "ip_not_public";
    pub const IP_RANGE_TOO_WIDE: &str = "ip_range_too_wide";
    pub const IP_HOST_BITS: &str = "ip_host_bits";
    pub const IP_TOO_MANY: &str = "ip_too_many";
    pub const ACKNOWLEDGE_REQUIRED: &str = "acknowledge_required";
    pub const NATIONAL_ID_FORMAT: &str = "national_id_format";
    pub const NATIONAL_ID_CHECKSUM: &str = "national_id_checksum";
    pub const NATIONAL_ID_NOT_SYNTHETIC: &str = "national_id_not_synthetic";
    pub const ORG_NOT_FOUND: &str = "org_not_found";
    pub const ORG_REMOVED: &str = "org_removed";
    /// Free text that is emailed must not carry a national identity number.
    pub const NATIONAL_ID_IN_TEXT: &str = "national_id_in_text";
}

/// Every code this module can produce; the catalog test checks each has a message.
pub const ALL_CODES: &[&str] = &[
    codes::REQUIRED,
    codes::TOO_LONG,
    codes::CONTROL_CHARACTERS,
    codes::NO_LETTERS,
    codes::INVALID_CHOICE,
    codes::ORG_NUMBER_FORMAT,
    codes::ORG_NUMBER_CHECKSUM,
    codes::SAME_ORG_NUMBER,
    codes::EMAIL_INVALID,
    codes::PHONE_INVALID,
    codes::PHONE_NOT_MOBILE,
    codes::IP_INVALID,
    codes::IP_NOT_PUBLIC,
    codes::IP_RANGE_TOO_WIDE,
    codes::IP_HOST_BITS,
    codes::IP_TOO_MANY,
    codes::ACKNOWLEDGE_REQUIRED,
    codes::NATIONAL_ID_FORMAT,
    codes::NATIONAL_ID_CHECKSUM,
    codes::NATIONAL_ID_NOT_SYNTHETIC,
    codes::ORG_NOT_FOUND,
    codes::ORG_REMOVED,
    codes::NATIONAL_ID_IN_TEXT,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Each name once, and in snake_case: stable names that clients and the catalog key on.
    pub(crate) fn assert_unique_snake_case<'a>(names: impl IntoIterator<Item = &'a str>) {
        let mut seen = std::collections::HashSet::new();
        for name in names {
            assert!(seen.insert(name), "{name} twice");
            let snake = name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            assert!(snake, "{name} is not snake_case");
        }
    }

    #[test]
    fn codes_are_unique_snake_case_and_complete() {
        assert_unique_snake_case(ALL_CODES.iter().copied());
        assert_eq!(ALL_CODES.len(), 23);
    }

    #[test]
    fn field_error_constructors() {
        assert_eq!(
            FieldError::new(codes::REQUIRED),
            FieldError {
                code: "required",
                value: None
            }
        );
        let e = FieldError::with_value(codes::IP_INVALID, "x");
        assert_eq!(e.value.as_deref(), Some("x"));
        assert_eq!(e.to_string(), "ip_invalid");
    }
}
