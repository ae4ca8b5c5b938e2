//! A new order as submitted by a vendor, from the HTML form or the JSON API.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fields::{FIELD_ORDER, Input, ORDER_FIELDS, order_field};
use super::{
    EmailAddress, Environment, FieldError, IpRange, MobileNumber, OrgName, OrgNumber, Scope,
    ScopeCatalog, codes, ip, optional_text,
};

/// One field's value as it arrived, in the shape its [`Input`] kind says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputValue {
    Text(String),
    List(Vec<String>),
    Flag(bool),
}

impl From<&str> for InputValue {
    fn from(text: &str) -> Self {
        InputValue::Text(text.to_owned())
    }
}

impl From<String> for InputValue {
    fn from(text: String) -> Self {
        InputValue::Text(text)
    }
}

impl From<Vec<String>> for InputValue {
    fn from(items: Vec<String>) -> Self {
        InputValue::List(items)
    }
}

impl From<bool> for InputValue {
    fn from(flag: bool) -> Self {
        InputValue::Flag(flag)
    }
}

/// Why a value was not taken into an [`OrderInput`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTaken {
    /// The order has no field of that name.
    UnknownField,
    /// The field takes another shape; this is the one it takes.
    WrongShape(Input),
}

/// The order's fields as they arrive, unchecked, keyed by the names in [`ORDER_FIELDS`].
/// A field that did not come reads as empty, so a client that leaves one out gets
/// `required` on it rather than a malformed-body error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderInput {
    values: BTreeMap<&'static str, InputValue>,
}

impl OrderInput {
    /// Takes `value` for the field `name`, if the order has that field and the value has its
    /// shape.
    pub fn set(&mut self, name: &str, value: InputValue) -> Result<(), NotTaken> {
        let field = order_field(name).ok_or(NotTaken::UnknownField)?;
        let fits = matches!(
            (field.input, &value),
            (Input::Text, InputValue::Text(_))
                | (Input::List, InputValue::List(_))
                | (Input::Flag, InputValue::Flag(_))
        );
        if !fits {
            return Err(NotTaken::WrongShape(field.input));
        }
        self.values.insert(field.name, value);
        Ok(())
    }

    /// [`OrderInput::set`] for building an input by hand; a value that is not taken is
    /// dropped, so the field reads as empty.
    pub fn with(mut self, name: &str, value: impl Into<InputValue>) -> Self {
        let _ = self.set(name, value.into());
        self
    }

    /// A text field's value, empty when it did not come.
    pub fn text(&self, name: &str) -> &str {
        match self.values.get(name) {
            Some(InputValue::Text(text)) => text,
            _ => "",
        }
    }

    /// A list field's items, none when it did not come.
    pub fn list(&self, name: &str) -> &[String] {
        match self.values.get(name) {
            Some(InputValue::List(items)) => items,
            _ => &[],
        }
    }

    /// A flag's value, false when it did not come.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some(InputValue::Flag(true)))
    }
}

/// One side of the order: the vendor or the consumer organisation and its contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    org_number: OrgNumber,
    org_name: OrgName,
    contact_email: EmailAddress,
    contact_phone: MobileNumber,
}

impl Party {
    pub fn org_number(&self) -> &OrgNumber {
        &self.org_number
    }

    pub fn org_name(&self) -> &OrgName {
        &self.org_name
    }

    pub fn contact_email(&self) -> &EmailAddress {
        &self.contact_email
    }

    pub fn contact_phone(&self) -> &MobileNumber {
        &self.contact_phone
    }

    /// One of the party's values as stored, by the field name's part after the party's.
    fn stored_value(&self, part: &str) -> Option<Option<String>> {
        Some(match part {
            "org_number" => Some(self.org_number.as_str().to_owned()),
            "org_name" => Some(self.org_name.as_str().to_owned()),
            "contact_email" => Some(self.contact_email.as_str().to_owned()),
            "contact_phone" => Some(self.contact_phone.as_str().to_owned()),
            _ => return None,
        })
    }
}

/// A fully checked order, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewOrder {
    environment: Environment,
    scope: Scope,
    vendor: Party,
    consumer: Party,
    ip_ranges: Vec<IpRange>,
    /// The optional free texts that were given, by field name (see `OrderField::free_text`).
    free_texts: BTreeMap<&'static str, String>,
    acknowledged_test_data: bool,
}

/// Every field's first error as (field name, error), in [`FIELD_ORDER`], at most one per field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the order has {} invalid field(s)", .0.len())]
pub struct OrderErrors(pub Vec<(&'static str, FieldError)>);

impl OrderErrors {
    /// The error for one field, for showing it next to that field.
    pub fn get(&self, field: &str) -> Option<&FieldError> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, e)| e)
    }
}

/// Collects the first error of each field while the parse goes on, so the person sees
/// every problem at once.
struct Collector {
    errors: Vec<(&'static str, FieldError)>,
}

impl Collector {
    fn check<T>(&mut self, field: &'static str, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error);
                None
            }
        }
    }

    fn add(&mut self, field: &'static str, error: FieldError) {
        if !self.errors.iter().any(|(f, _)| *f == field) {
            self.errors.push((field, error));
        }
    }

    fn finish(mut self) -> OrderErrors {
        let position = |field: &str| FIELD_ORDER.iter().position(|f| *f == field);
        self.errors.sort_by_key(|(field, _)| position(field));
        OrderErrors(self.errors)
    }
}

/// The form's names for one party's fields.
struct PartyFields<'a> {
    org_number: (&'static str, &'a str),
    org_name: (&'static str, &'a str),
    contact_email: (&'static str, &'a str),
    contact_phone: (&'static str, &'a str),
}

/// One party's fields, each parsed on its own, so the org number is at hand for the
/// cross-field rule even when another field of the party is wrong.
struct PartyParts {
    org_number: Option<OrgNumber>,
    org_name: Option<OrgName>,
    contact_email: Option<EmailAddress>,
    contact_phone: Option<MobileNumber>,
}

impl PartyFields<'_> {
    fn parse(self, errors: &mut Collector) -> PartyParts {
        let (field, raw) = self.org_number;
        let org_number = errors.check(field, OrgNumber::parse(raw));
        let (field, raw) = self.org_name;
        let org_name = errors.check(field, OrgName::parse(raw));
        let (field, raw) = self.contact_email;
        let contact_email = errors.check(field, EmailAddress::parse(raw));
        let (field, raw) = self.contact_phone;
        let contact_phone = errors.check(field, MobileNumber::parse(raw));
        PartyParts {
            org_number,
            org_name,
            contact_email,
            contact_phone,
        }
    }
}

impl PartyParts {
    fn into_party(self) -> Option<Party> {
        Some(Party {
            org_number: self.org_number?,
            org_name: self.org_name?,
            contact_email: self.contact_email?,
            contact_phone: self.contact_phone?,
        })
    }
}

impl NewOrder {
    /// Every field's first error at once. Long because it is one line per field plus the
    /// cross-field rules, which need the fields parsed so far in one place.
    pub fn parse(input: &OrderInput, scopes: &ScopeCatalog) -> Result<NewOrder, OrderErrors> {
        let mut errors = Collector { errors: Vec::new() };

        let environment =
            errors.check("environment", Environment::parse(input.text("environment")));
        let scope = errors.check("scope", scopes.parse_scope(input.text("scope")));
        let vendor = PartyFields {
            org_number: ("vendor_org_number", input.text("vendor_org_number")),
            org_name: ("vendor_org_name", input.text("vendor_org_name")),
            contact_email: ("vendor_contact_email", input.text("vendor_contact_email")),
            contact_phone: ("vendor_contact_phone", input.text("vendor_contact_phone")),
        }
        .parse(&mut errors);
        let consumer = PartyFields {
            org_number: ("consumer_org_number", input.text("consumer_org_number")),
            org_name: ("consumer_org_name", input.text("consumer_org_name")),
            contact_email: (
                "consumer_contact_email",
                input.text("consumer_contact_email"),
            ),
            contact_phone: (
                "consumer_contact_phone",
                input.text("consumer_contact_phone"),
            ),
        }
        .parse(&mut errors);

        // Maskinporten refuses a consumer_org equal to the vendor's own number, so such an
        // order could never reach a working token.
        if let (Some(v), Some(c)) = (&vendor.org_number, &consumer.org_number)
            && v == c
        {
            errors.add(
                "consumer_org_number",
                FieldError::new(codes::SAME_ORG_NUMBER),
            );
        }

        let (ip_ranges, acknowledged_test_data) = match environment {
            Some(env) if env.requires_ip_addresses() => {
                let ranges =
                    errors.check("ip_addresses", ip::parse_list(input.list("ip_addresses")));
                let acknowledged = input.flag("acknowledge_test_data");
                if !acknowledged {
                    errors.add(
                        "acknowledge_test_data",
                        FieldError::new(codes::ACKNOWLEDGE_REQUIRED),
                    );
                }
                (ranges, acknowledged)
            }
            // Production asks for neither; whatever came in is dropped. When the
            // environment itself is invalid, the test-only rules are not applied.
            _ => (Some(Vec::new()), false),
        };

        // The optional free texts are checked by their table entry alone.
        let mut free_texts = BTreeMap::new();
        for field in ORDER_FIELDS {
            let Some((max, multiline)) = field.free_text() else {
                continue;
            };
            let text = optional_text(input.text(field.name), max, multiline);
            if let Some(Some(text)) = errors.check(field.name, text) {
                free_texts.insert(field.name, text);
            }
        }

        match (
            environment,
            scope,
            vendor.into_party(),
            consumer.into_party(),
            ip_ranges,
        ) {
            (Some(environment), Some(scope), Some(vendor), Some(consumer), Some(ip_ranges))
                if errors.errors.is_empty() =>
            {
                Ok(NewOrder {
                    environment,
                    scope,
                    vendor,
                    consumer,
                    ip_ranges,
                    free_texts,
                    acknowledged_test_data,
                })
            }
            _ => Err(errors.finish()),
        }
    }

    pub fn environment(&self) -> Environment {
        self.environment
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn vendor(&self) -> &Party {
        &self.vendor
    }

    pub fn consumer(&self) -> &Party {
        &self.consumer
    }

    /// Empty for production orders.
    pub fn ip_ranges(&self) -> &[IpRange] {
        &self.ip_ranges
    }

    /// An optional free text's value (a contact's name, the client id, the message), if given.
    pub fn free_text(&self, name: &str) -> Option<&str> {
        self.free_texts.get(name).map(String::as_str)
    }

    pub fn maskinporten_client_id(&self) -> Option<&str> {
        self.free_text("maskinporten_client_id")
    }

    pub fn message(&self) -> Option<&str> {
        self.free_text("message")
    }

    /// Always false for production orders, where the question is not asked.
    pub fn acknowledged_test_data(&self) -> bool {
        self.acknowledged_test_data
    }

    /// The value stored for the field `name` of [`ORDER_FIELDS`], `None` for SQL NULL; `at`
    /// is the time the order is taken, which a set flag keeps. The one place a field's
    /// typed value becomes its stored text; a test checks it knows every field.
    pub fn stored_value(&self, name: &str, at: &str) -> Option<String> {
        if order_field(name).is_some_and(|f| f.free_text().is_some()) {
            return self.free_text(name).map(str::to_owned);
        }
        let party = |party: &Party, part: &str| party.stored_value(part).flatten();
        if let Some(part) = name.strip_prefix("vendor_") {
            return party(&self.vendor, part);
        }
        if let Some(part) = name.strip_prefix("consumer_") {
            return party(&self.consumer, part);
        }
        match name {
            "environment" => Some(self.environment.as_str().to_owned()),
            "scope" => Some(self.scope.as_str().to_owned()),
            "ip_addresses" => {
                let ips: Vec<String> = self.ip_ranges.iter().map(ToString::to_string).collect();
                serde_json::to_string(&ips).ok()
            }
            "acknowledge_test_data" => self.acknowledged_test_data.then(|| at.to_owned()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_test_input() -> OrderInput {
        OrderInput::default()
            .with("environment", "test")
            .with("scope", "brreg:reelle/offentlig")
            .with("vendor_org_number", "310 149 942")
            .with("vendor_org_name", " Leverandøren AS ")
            .with("vendor_contact_name", "Kari Nordmann")
            .with("vendor_contact_email", "kari@Leverandoren.NO")
            .with("vendor_contact_phone", "912 34 567")
            .with("consumer_org_number", "313876144")
            .with("consumer_org_name", "Kunden AS")
            .with("consumer_contact_name", String::new())
            .with("consumer_contact_email", "ola@kunden.no")
            .with("consumer_contact_phone", "+46 70 123 45 67")
            .with(
                "ip_addresses",
                Vec::<String>::from(["8.8.8.8".into(), "".into(), "2a00:1450:4001::/48".into()]),
            )
            .with("maskinporten_client_id", " 0f9a1c7e-1234 ")
            .with("message", "Hei!\r\nTakk.")
            .with("acknowledge_test_data", true)
    }

    fn valid_production_input() -> OrderInput {
        valid_test_input()
            .with("environment", "production")
            // Ignored for production, however wrong.
            .with(
                "ip_addresses",
                Vec::<String>::from(["10.0.0.1".into(), "nonsense".into()]),
            )
            .with("acknowledge_test_data", false)
    }

    fn parse(input: &OrderInput) -> Result<NewOrder, OrderErrors> {
        NewOrder::parse(input, &ScopeCatalog::default())
    }

    fn errors(input: &OrderInput) -> Vec<(&'static str, &'static str)> {
        match parse(input) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(|(f, e)| (*f, e.code)).collect(),
        }
    }

    /// Sets each (field, value) on the valid test order and asserts that exactly those
    /// fields are refused, each with its code; `changes` is in form order, as errors are.
    #[track_caller]
    fn assert_refused_fields(changes: Vec<(&'static str, InputValue, &'static str)>) {
        let mut input = valid_test_input();
        let mut expected = Vec::new();
        for (field, value, code) in changes {
            input = input.with(field, value);
            expected.push((field, code));
        }
        assert_eq!(errors(&input), expected);
    }

    #[test]
    fn a_valid_test_order() {
        let order = parse(&valid_test_input()).unwrap();
        assert_eq!(order.environment(), Environment::Test);
        assert_eq!(order.scope().as_str(), "brreg:reelle/offentlig");

        let vendor = order.vendor();
        assert_eq!(vendor.org_number().as_str(), "310149942");
        assert_eq!(vendor.org_name().as_str(), "Leverandøren AS");
        assert_eq!(
            order.free_text("vendor_contact_name"),
            Some("Kari Nordmann")
        );
        assert_eq!(vendor.contact_email().as_str(), "kari@leverandoren.no");
        assert_eq!(vendor.contact_phone().as_str(), "+4791234567");

        let consumer = order.consumer();
        assert_eq!(consumer.org_number().as_str(), "313876144");
        assert_eq!(order.free_text("consumer_contact_name"), None);
        assert_eq!(consumer.contact_phone().as_str(), "+46701234567");

        let ips: Vec<String> = order.ip_ranges().iter().map(ToString::to_string).collect();
        assert_eq!(ips, ["8.8.8.8", "2a00:1450:4001::/48"]);
        assert_eq!(order.maskinporten_client_id(), Some("0f9a1c7e-1234"));
        assert_eq!(order.message(), Some("Hei!\nTakk."));
        assert!(order.acknowledged_test_data());
    }

    #[test]
    fn a_valid_production_order_ignores_the_test_only_fields() {
        let order = parse(&valid_production_input()).unwrap();
        assert_eq!(order.environment(), Environment::Production);
        assert!(order.ip_ranges().is_empty());
        assert!(!order.acknowledged_test_data());

        let acknowledged = valid_production_input()
            .with("acknowledge_test_data", true)
            .with("ip_addresses", Vec::<String>::from(["8.8.8.8".into()]));
        let order = parse(&acknowledged).unwrap();
        assert!(order.ip_ranges().is_empty());
        assert!(!order.acknowledged_test_data());
    }

    #[test]
    fn an_empty_form_reports_every_required_field_in_form_order() {
        let required = [
            "environment",
            "scope",
            "vendor_org_number",
            "vendor_org_name",
            "vendor_contact_email",
            "vendor_contact_phone",
            "consumer_org_number",
            "consumer_org_name",
            "consumer_contact_email",
            "consumer_contact_phone",
        ];
        let expected = required.map(|field| (field, codes::REQUIRED));
        assert_eq!(errors(&OrderInput::default()), expected);
    }

    #[test]
    fn an_empty_test_order_also_needs_ips_and_the_acknowledgement() {
        let input = OrderInput::default().with("environment", "test");
        let found = errors(&input);
        assert_eq!(found.len(), 11);
        assert_eq!(
            found[9..],
            [
                ("ip_addresses", codes::REQUIRED),
                ("acknowledge_test_data", codes::ACKNOWLEDGE_REQUIRED),
            ]
        );
    }

    #[test]
    fn an_invalid_environment_skips_the_test_only_rules() {
        let input = valid_test_input()
            .with("environment", "staging")
            .with("ip_addresses", Vec::<String>::from(["10.0.0.1".into()]))
            .with("acknowledge_test_data", false);
        assert_eq!(errors(&input), [("environment", codes::INVALID_CHOICE)]);
    }

    #[test]
    fn an_unknown_scope_is_an_invalid_choice() {
        let input = valid_test_input().with("scope", "brreg:reelle/media");
        assert_eq!(errors(&input), [("scope", codes::INVALID_CHOICE)]);
        let catalog = ScopeCatalog::parse("brreg:reelle/media=Media").unwrap();
        assert!(NewOrder::parse(&input, &catalog).is_ok());
    }

    #[test]
    fn test_orders_need_the_acknowledgement() {
        #[rustfmt::skip]
        assert_refused_fields(vec![
            ("acknowledge_test_data", false.into(), codes::ACKNOWLEDGE_REQUIRED),
        ]);
    }

    #[test]
    fn test_orders_need_valid_public_ips() {
        for (ips, expected) in [
            (vec![], FieldError::new(codes::REQUIRED)),
            (vec!["  ".to_owned()], FieldError::new(codes::REQUIRED)),
            (
                vec!["8.8.8.8".into(), "192.168.1.10".into()],
                FieldError::with_value(codes::IP_NOT_PUBLIC, "192.168.1.10"),
            ),
            (
                (1..=11).map(|i| format!("8.8.8.{i}")).collect(),
                FieldError::new(codes::IP_TOO_MANY),
            ),
        ] {
            let input = valid_test_input().with("ip_addresses", ips);
            let e = parse(&input).unwrap_err();
            assert_eq!(e.0.len(), 1);
            assert_eq!(e.get("ip_addresses"), Some(&expected));
        }
    }

    #[test]
    fn vendor_and_consumer_must_differ() {
        #[rustfmt::skip]
        let cases = [
            vec![("consumer_org_number", "310149942".into(), codes::SAME_ORG_NUMBER)],
            // The same number is found whatever else is wrong.
            vec![
                ("vendor_contact_email", "nope".into(), codes::EMAIL_INVALID),
                ("consumer_org_number", "310149942".into(), codes::SAME_ORG_NUMBER),
                ("consumer_contact_phone", "22 22 22 22".into(), codes::PHONE_NOT_MOBILE),
            ],
            // Only numbers that both parse are compared.
            vec![
                ("vendor_org_number", "974760674".into(), codes::ORG_NUMBER_CHECKSUM),
                ("consumer_org_number", "974760674".into(), codes::ORG_NUMBER_CHECKSUM),
            ],
        ];
        for changes in cases {
            assert_refused_fields(changes);
        }
    }

    #[test]
    fn each_party_field_is_checked() {
        #[rustfmt::skip]
        assert_refused_fields(vec![
            ("vendor_org_number", "12345678".into(), codes::ORG_NUMBER_FORMAT),
            ("vendor_org_name", "Bad\u{7}Name".into(), codes::CONTROL_CHARACTERS),
            ("vendor_contact_name", "x".repeat(201).into(), codes::TOO_LONG),
            ("vendor_contact_email", "kari@localhost".into(), codes::EMAIL_INVALID),
            ("vendor_contact_phone", "22 22 22 22".into(), codes::PHONE_NOT_MOBILE),
            ("consumer_org_number", "974760674".into(), codes::ORG_NUMBER_CHECKSUM),
            ("consumer_org_name", "y".repeat(201).into(), codes::TOO_LONG),
            ("consumer_contact_name", "Ola\nNordmann".into(), codes::CONTROL_CHARACTERS),
            ("consumer_contact_email", "".into(), codes::REQUIRED),
            ("consumer_contact_phone", "abc".into(), codes::PHONE_INVALID),
        ]);
    }

    #[test]
    fn optional_fields_at_their_limits() {
        let input = valid_test_input()
            .with("vendor_contact_name", "n".repeat(200))
            .with("maskinporten_client_id", "c".repeat(200))
            .with("message", "m".repeat(2000));
        let order = parse(&input).unwrap();
        assert_eq!(order.message().map(|m| m.chars().count()), Some(2000));

        #[rustfmt::skip]
        assert_refused_fields(vec![
            ("maskinporten_client_id", "c".repeat(201).into(), codes::TOO_LONG),
            ("message", "m".repeat(2001).into(), codes::TOO_LONG),
        ]);
    }

    #[test]
    fn optional_fields_may_be_empty() {
        let input = valid_test_input()
            .with("vendor_contact_name", "  ")
            .with("maskinporten_client_id", String::new())
            .with("message", " \r\n ");
        let order = parse(&input).unwrap();
        assert_eq!(order.free_text("vendor_contact_name"), None);
        assert_eq!(order.maskinporten_client_id(), None);
        assert_eq!(order.message(), None);
    }

    #[test]
    fn control_characters_in_client_id_and_message() {
        #[rustfmt::skip]
        assert_refused_fields(vec![
            ("maskinporten_client_id", "abc\ndef".into(), codes::CONTROL_CHARACTERS),
            ("message", "line\u{0}".into(), codes::CONTROL_CHARACTERS),
        ]);
    }

    #[test]
    fn error_fields_are_form_fields() {
        let input = OrderInput::default()
            .with("environment", "test")
            .with("maskinporten_client_id", "\u{0}")
            .with("message", "\u{0}");
        let e = parse(&input).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|(f, _)| *f).collect();
        // Every field but the valid environment and the optional names, in form order.
        let expected: Vec<&str> = FIELD_ORDER
            .iter()
            .copied()
            .filter(|f| *f != "environment" && !f.ends_with("contact_name"))
            .collect();
        assert_eq!(fields, expected);
        assert_eq!(e.get("scope"), Some(&FieldError::new(codes::REQUIRED)));
        assert_eq!(e.get("vendor_contact_name"), None);
    }

    #[test]
    fn every_field_of_the_table_has_a_stored_value() {
        let order = parse(&valid_test_input().with("consumer_contact_name", "Ola")).unwrap();
        for field in crate::domain::fields::ORDER_FIELDS {
            let value = order.stored_value(field.name, "2026-11-26T10:00:00.000000Z");
            assert!(
                value.is_some_and(|v| !v.is_empty()),
                "{} is not stored",
                field.name
            );
        }
        for (name, expected) in [
            ("vendor_org_name", Some("Leverandøren AS")),
            ("ip_addresses", Some(r#"["8.8.8.8","2a00:1450:4001::/48"]"#)),
            ("no_such_field", None),
            ("vendor_no_such_part", None),
        ] {
            assert_eq!(order.stored_value(name, "-").as_deref(), expected, "{name}");
        }
    }

    #[test]
    fn fields_that_did_not_come_read_as_empty_and_others_are_refused() {
        let mut input = OrderInput::default().with("environment", "production");
        assert_eq!(input.text("environment"), "production");
        assert_eq!(input.text("scope"), "");
        assert!(input.list("ip_addresses").is_empty());
        assert!(!input.flag("acknowledge_test_data"));
        #[rustfmt::skip]
        let refusals = [
            ("unknown_field", "x".into(), NotTaken::UnknownField),
            ("ip_addresses", "8.8.8.8".into(), NotTaken::WrongShape(Input::List)),
            ("acknowledge_test_data", "yes".into(), NotTaken::WrongShape(Input::Flag)),
            ("scope", true.into(), NotTaken::WrongShape(Input::Text)),
        ];
        for (name, value, refusal) in refusals {
            assert_eq!(input.set(name, value), Err(refusal), "{name}");
        }
        // Every field of the table takes a value of its own shape.
        for field in crate::domain::fields::ORDER_FIELDS {
            let value = match field.input {
                Input::Text => InputValue::Text("x".into()),
                Input::List => InputValue::List(vec!["x".into()]),
                Input::Flag => InputValue::Flag(true),
            };
            assert_eq!(input.set(field.name, value), Ok(()), "{}", field.name);
        }
    }
}
