//! Data shared by page templates: the layout's needs and the form state with its errors.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::app::Order;
use crate::domain::{Environment, FieldError};
use crate::i18n::{Lang, Tr};

/// What `_layout.html` needs on every page.
#[derive(Debug, Clone)]
pub struct Page {
    pub tr: Tr,
    pub title: String,
    /// Path the language switch links to (the same page in another language), with the
    /// query the page needs to be itself, if any.
    pub path: String,
    pub has_errors: bool,
    /// Set on workspace pages: the header shows the workspace navigation and a logout button.
    pub session: Option<SessionNav>,
}

/// What the workspace header needs about the logged-in user.
#[derive(Debug, Clone)]
pub struct SessionNav {
    pub name: String,
    pub is_admin: bool,
    pub csrf_token: String,
}

impl Page {
    pub fn new(tr: Tr, title: &str, path: Option<&str>) -> Self {
        Self {
            tr,
            title: title.to_owned(),
            path: path.unwrap_or("/").to_owned(),
            has_errors: false,
            session: None,
        }
    }

    /// The page of a form: the error summary's landmark follows the form's state.
    pub fn with_form(mut self, form: &FormView) -> Self {
        self.has_errors = form.has_errors();
        self
    }

    /// A workspace page for the logged-in user.
    pub fn workspace(tr: Tr, title: &str, path: &str, session: SessionNav) -> Self {
        Self {
            session: Some(session),
            ..Self::new(tr, title, Some(path))
        }
    }

    /// The same page in the language `code`: the path with `lang` added to its query.
    pub fn lang_link(&self, code: &str) -> String {
        let separator = if self.path.contains('?') { '&' } else { '?' };
        format!("{}{separator}lang={code}", self.path)
    }

    /// The other languages, offered by the switch in the header, in the order of
    /// [`Lang::ALL`].
    pub fn other_langs(&self) -> Vec<LangChoice> {
        Lang::ALL
            .into_iter()
            .filter(|&lang| lang != self.tr.lang)
            .map(|lang| LangChoice {
                code: lang.code(),
                // In the language it switches to, as people look for their own.
                name: Tr::new(lang).t("layout.this_language"),
            })
            .collect()
    }
}

/// A link of the language switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LangChoice {
    pub code: &'static str,
    pub name: &'static str,
}

/// One problem to list in the error summary and next to its field.
#[derive(Debug, Clone)]
pub struct ErrorItem {
    /// The field's `name`; the summary links to `#<name>`.
    pub field: String,
    pub message: String,
}

/// What the user typed, and what was wrong with it, so a re-rendered form keeps everything.
#[derive(Debug, Clone, Default)]
pub struct FormView {
    values: HashMap<String, String>,
    pub errors: Vec<ErrorItem>,
    /// Where the person can go to sort the problem out (a path and the link text's catalog
    /// key), shown in the error summary.
    pub next: Option<(&'static str, &'static str)>,
}

impl FormView {
    pub fn new(values: HashMap<String, String>) -> Self {
        Self {
            values,
            errors: Vec::new(),
            next: None,
        }
    }

    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_owned(), value.into());
    }

    /// True for a checkbox that was ticked, or a radio/select option that was chosen.
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.value(name) == value
    }

    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.as_str())
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// A form with the named fields as the person typed them, for showing it again.
    pub fn typed(values: &HashMap<String, String>, names: &[&str]) -> Self {
        let mut form = Self::default();
        for name in names {
            form.set(name, values.get(*name).cloned().unwrap_or_default());
        }
        form
    }

    /// Every field error next to its field, in the page's language.
    pub fn add_field_errors(&mut self, tr: Tr, errors: &[(&'static str, FieldError)]) {
        for (field, error) in errors {
            self.add_error(field, field_message(tr, field, error));
        }
    }

    pub fn add_error(&mut self, field: &str, message: String) {
        self.errors.push(ErrorItem {
            field: field.to_owned(),
            message,
        });
    }
}

/// The message for a rule a field broke, in the page's language. A field-specific text
/// (`error.<field>.<code>`) wins over the general one (`error.<code>`).
pub fn field_message(tr: Tr, field: &str, error: &FieldError) -> String {
    let specific = format!("error.{field}.{}", error.code);
    let key = if tr.has(&specific) {
        specific
    } else {
        format!("error.{}", error.code)
    };
    let name = tr.t(&format!("fieldref.{field}"));
    let message = tr.fill(
        &key,
        &[
            ("field", name),
            ("value", error.value.as_deref().unwrap_or("")),
        ],
    );
    capitalise_first(&message)
}

/// Messages may start with a field's name, which is written in lower case for mid-sentence use.
fn capitalise_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One choice in a radio group.
#[derive(Debug, Clone)]
pub struct RadioOption {
    pub value: String,
    pub label: String,
    pub hint: String,
}

/// "Wait N minutes" for a limit that was reached, from the catalog text `key` with its
/// `{minutes}` placeholder, filled with the number and its unit in the right plural
/// ("1 minutt", "5 minutter"): one and other are the only forms nb and en have.
pub fn wait_message(tr: Tr, key: &str, minutes: i64) -> String {
    tr.fill(key, &[("minutes", &tr.plural("wait.minutes", minutes))])
}

/// A time as people read it, in Norwegian time: `25.11.2026 15:03`.
pub fn display_time(at: DateTime<Utc>) -> String {
    crate::domain::calendar::display(at)
}

/// A time for `<time datetime>`: RFC 3339 in UTC, to the millisecond (HTML allows at most
/// three fractional digits).
pub fn iso_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An order as its pages show it: every value in display form, nothing to parse or look up
/// in a template.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub reference: String,
    /// The status's code, for `data-status`.
    pub status: &'static str,
    pub version: i64,
    pub scope: String,
    /// The code of the language the contacts are mailed in.
    pub language: &'static str,
    pub tt02_identity: Option<String>,
    pub vendor_org_number: String,
    pub vendor_org_name: String,
    pub vendor_contact_name: Option<String>,
    pub vendor_contact_email: String,
    pub vendor_contact_phone: String,
    pub consumer_org_number: String,
    pub consumer_org_name: String,
    pub consumer_contact_name: Option<String>,
    pub consumer_contact_email: String,
    pub consumer_contact_phone: String,
    pub maskinporten_client_id: Option<String>,
    pub ip_addresses: Vec<String>,
    /// The vendor confirmed it knows production data goes into a test environment.
    pub acknowledged: bool,
    pub message: Option<String>,
}

impl OrderView {
    pub fn new(order: &Order) -> Self {
        let text = |name: &str| order.free_text(name).map(str::to_owned);
        Self {
            reference: order.reference.clone(),
            status: order.status.as_str(),
            version: order.version,
            scope: order.scope.to_string(),
            language: order.language.code(),
            tt02_identity: order.tt02_identity.clone(),
            vendor_org_number: order.vendor_org_number.to_string(),
            vendor_org_name: order.vendor_org_name.clone(),
            vendor_contact_name: text("vendor_contact_name"),
            vendor_contact_email: order.vendor_contact_email.clone(),
            vendor_contact_phone: order.vendor_contact_phone.clone(),
            consumer_org_number: order.consumer_org_number.to_string(),
            consumer_org_name: order.consumer_org_name.clone(),
            consumer_contact_name: text("consumer_contact_name"),
            consumer_contact_email: order.consumer_contact_email.clone(),
            consumer_contact_phone: order.consumer_contact_phone.clone(),
            maskinporten_client_id: text("maskinporten_client_id"),
            ip_addresses: order.ip_addresses.clone(),
            acknowledged: order.test_data_acknowledged_at.is_some(),
            message: text("message"),
        }
    }
}

/// A mail delivery state's name in the page's language.
pub fn mail_state_label(tr: Tr, state: crate::mail::MailState) -> &'static str {
    tr.t(&format!("admin.mail_status.{}", state.as_str()))
}

/// An environment's name in the page's language.
pub fn environment_label(tr: Tr, environment: Environment) -> &'static str {
    tr.environment(environment)
}

/// A status's name in the page's language.
pub fn status_label(tr: Tr, status: crate::domain::OrderStatus) -> &'static str {
    tr.status(status)
}

#[cfg(test)]
mod wait_tests {
    use super::*;

    #[test]
    fn waiting_time_has_the_plural_the_number_needs() {
        let nb = Tr::new(Lang::Nb);
        let nn = Tr::new(Lang::Nn);
        let en = Tr::new(Lang::En);
        assert!(wait_message(nb, "resend.throttled", 1).contains("Vent 1 minutt og"));
        assert!(wait_message(nb, "resend.throttled", 5).contains("Vent 5 minutter og"));
        assert!(wait_message(nn, "resend.throttled", 1).contains("Vent 1 minutt og"));
        assert!(wait_message(nn, "resend.throttled", 5).contains("Vent 5 minutt og"));
        assert!(wait_message(en, "resend.throttled", 1).contains("Wait 1 minute and"));
        assert!(wait_message(en, "resend.throttled", 60).contains("Wait 60 minutes and"));
    }
}

#[cfg(test)]
mod switch_tests {
    use super::*;

    #[test]
    fn the_switch_offers_every_other_language_each_named_in_itself() {
        let offered = |lang| {
            Page::new(Tr::new(lang), "", None)
                .other_langs()
                .into_iter()
                .map(|c| (c.code, c.name))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            offered(Lang::Nb),
            [("nn", "Norsk (nynorsk)"), ("en", "English")]
        );
        assert_eq!(
            offered(Lang::Nn),
            [("nb", "Norsk (bokmål)"), ("en", "English")]
        );
        assert_eq!(
            offered(Lang::En),
            [("nb", "Norsk (bokmål)"), ("nn", "Norsk (nynorsk)")]
        );
    }
}
