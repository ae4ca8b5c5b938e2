//! Emails are askama templates in `templates/mail/`, with every text from the catalog.

use askama::Template;
use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::fields::{self, Section};
use crate::domain::progress;
use crate::domain::{ContactRole, Environment, NewOrder, OrderStatus, Party};
use crate::i18n::{Lang, Tr};
use crate::store::orders::Order;
use crate::store::outbox::OutgoingMail;

/// The two contacts' private link tokens for the emails about to be written; they exist
/// only in those emails (the database has their hashes).
pub struct ContactTokens {
    pub vendor: String,
    pub consumer: String,
}

impl ContactTokens {
    /// Two new random tokens.
    pub fn issue() -> Self {
        Self {
            vendor: crate::auth::random_token(),
            consumer: crate::auth::random_token(),
        }
    }

    pub fn of(&self, role: ContactRole) -> &str {
        match role {
            ContactRole::Vendor => &self.vendor,
            ContactRole::Consumer => &self.consumer,
        }
    }
}

/// A contact's link issued anew, for the email that carries it.
pub struct IssuedLink {
    pub order: Order,
    pub role: ContactRole,
    pub token: String,
}

/// One organisation and its contact, as the emails show and use them. (The registry's
/// email lists the rest from the field table.)
#[derive(Debug, Clone)]
pub struct PartyFacts {
    pub org_number: String,
    pub org_name: String,
    pub contact_email: String,
    /// The contact's name, when the form gave one: the emails greet them by it.
    pub contact_name: Option<String>,
}

impl PartyFacts {
    fn new(org_number: &str, org_name: &str, contact_email: &str, name: Option<&str>) -> Self {
        Self {
            org_number: org_number.to_owned(),
            org_name: org_name.to_owned(),
            contact_email: contact_email.to_owned(),
            contact_name: name.map(str::to_owned),
        }
    }

    fn from_party(party: &Party, name: Option<&str>) -> Self {
        Self::new(
            party.org_number().as_str(),
            party.org_name().as_str(),
            party.contact_email().as_str(),
            name,
        )
    }

    /// "Hei Kari," with the contact's name, else "Hei,".
    fn greeting(&self, tr: Tr) -> String {
        match &self.contact_name {
            Some(name) => tr.fill("mail.greeting_name", &[("name", name)]),
            None => tr.t("mail.confirmation.greeting").to_owned(),
        }
    }
}

/// Everything an email may say about an order, already in display form.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    pub reference: String,
    pub environment: Environment,
    pub scope: String,
    pub delegation_schema: String,
    pub vendor: PartyFacts,
    pub consumer: PartyFacts,
    pub ip_addresses: Vec<String>,
    pub acknowledged_test_data: bool,
    pub submitted_at: String,
}

impl OrderFacts {
    pub fn from_new(
        order: &NewOrder,
        reference: &str,
        settings: &Settings,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            reference: reference.to_owned(),
            environment: order.environment(),
            scope: order.scope().as_str().to_owned(),
            delegation_schema: settings.scopes.delegation_schema_of_stored(order.scope()),
            vendor: PartyFacts::from_party(order.vendor(), order.free_text("vendor_contact_name")),
            consumer: PartyFacts::from_party(
                order.consumer(),
                order.free_text("consumer_contact_name"),
            ),
            ip_addresses: order.ip_ranges().iter().map(ToString::to_string).collect(),
            acknowledged_test_data: order.acknowledged_test_data(),
            submitted_at: crate::domain::calendar::display(at),
        }
    }

    /// An order as stored, for the emails about it after it came in.
    pub fn from_stored(order: &Order, settings: &Settings) -> Self {
        Self {
            reference: order.reference.clone(),
            environment: order.environment,
            scope: order.scope.to_string(),
            delegation_schema: settings.scopes.delegation_schema_of_stored(&order.scope),
            vendor: PartyFacts::new(
                order.vendor_org_number.as_str(),
                &order.vendor_org_name,
                &order.vendor_contact_email,
                order.free_text("vendor_contact_name"),
            ),
            consumer: PartyFacts::new(
                order.consumer_org_number.as_str(),
                &order.consumer_org_name,
                &order.consumer_contact_email,
                order.free_text("consumer_contact_name"),
            ),
            ip_addresses: order.ip_addresses.clone(),
            acknowledged_test_data: order.test_data_acknowledged_at.is_some(),
            submitted_at: crate::domain::calendar::display(order.created_at),
        }
    }

    pub fn is_test(&self) -> bool {
        self.environment == Environment::Test
    }

    pub fn party(&self, role: ContactRole) -> &PartyFacts {
        match role {
            ContactRole::Vendor => &self.vendor,
            ContactRole::Consumer => &self.consumer,
        }
    }

    /// The placeholders the step texts (`mail.status.*`, `next.*`) are filled with, the
    /// environment's and Maskinporten's names in the reader's language.
    pub fn step_values(&self, tr: Tr) -> Vec<(&'static str, &str)> {
        vec![
            ("reference", &self.reference),
            ("vendor", &self.vendor.org_name),
            ("vendor_number", &self.vendor.org_number),
            ("consumer", &self.consumer.org_name),
            ("consumer_number", &self.consumer.org_number),
            ("scope", &self.scope),
            ("schema", &self.delegation_schema),
            ("environment", tr.environment(self.environment)),
            ("maskinporten", tr.maskinporten(self.environment)),
        ]
    }

    /// What `role` must do now that the order is at `status`, in the second person: the
    /// same sentence on the contact's page and in the emails to them.
    pub fn next_step(&self, tr: Tr, role: ContactRole, status: OrderStatus) -> String {
        let key = progress::next_step_key(role, self.environment, status);
        tr.fill(&key, &self.step_values(tr))
    }
}

/// The structured email to the registry's mailbox, always in bokmål (the registry's language).
#[derive(Template)]
#[template(path = "mail/registry_order.txt", whitespace = "preserve")]
struct RegistryOrderText<'a> {
    tr: Tr,
    o: &'a OrderFacts,
    environment: &'static str,
    /// Each party's fields, from the field table.
    parties: Vec<(&'static str, Vec<FieldLine>)>,
    /// The fields at the end (client id, message), from the field table.
    other: Vec<FieldLine>,
    case_url: String,
}

/// One field in the registry's email: its label and its value as submitted.
struct FieldLine {
    label: String,
    value: String,
    /// Free text that may span lines starts on a line of its own.
    multiline: bool,
}

/// The lines of one section of the field table, in its order, from the order as stored.
fn field_lines(tr: Tr, order: &NewOrder, section: Section) -> Vec<FieldLine> {
    fields::in_section(section)
        .map(|field| {
            // A party's fields share their labels; the heading says whose they are.
            let party_part = ["vendor_", "consumer_"]
                .into_iter()
                .find_map(|prefix| field.name.strip_prefix(prefix));
            let label = match party_part {
                Some(part) => tr.t(&format!("mail.registry.{part}")).to_owned(),
                None => tr.label(field.name).to_owned(),
            };
            let value = order.stored_value(field.name, "");
            FieldLine {
                label,
                multiline: value.is_some()
                    && matches!(field.widget, fields::Widget::Textarea { .. }),
                value: value.unwrap_or_else(|| tr.t("mail.not_given").to_owned()),
            }
        })
        .collect()
}

/// A contact's confirmation, with its sentences already filled in for both templates.
struct Confirmation<'a> {
    tr: Tr,
    o: &'a OrderFacts,
    subject: String,
    greeting: String,
    environment: &'static str,
    intro: String,
    /// What this contact does now, in one or two sentences.
    your_step: String,
    next_delegate: String,
    /// The contact's private link.
    track_url: String,
}

#[derive(Template)]
#[template(path = "mail/confirmation.txt", whitespace = "preserve")]
struct ConfirmationText<'a> {
    c: &'a Confirmation<'a>,
}

#[derive(Template)]
#[template(path = "mail/confirmation.html")]
struct ConfirmationHtml<'a> {
    c: &'a Confirmation<'a>,
}

/// A contact's private link, in the language the order was made in.
pub fn track_url(settings: &Settings, token: &str, lang: Lang) -> String {
    format!("{}/track/{token}?lang={}", settings.base_url, lang.code())
}

/// The structured email to the registry's mailbox: every field in the guide's order, the
/// reference in the subject, Reply-To the vendor's contact, and a link to the case.
fn registry_mail(
    facts: &OrderFacts,
    order: &NewOrder,
    settings: &Settings,
) -> Result<OutgoingMail, askama::Error> {
    let nb = Tr::new(Lang::Nb);
    let parties = vec![
        (
            nb.t("mail.registry.vendor_heading"),
            field_lines(nb, order, Section::Vendor),
        ),
        (
            nb.t("mail.registry.consumer_heading"),
            field_lines(nb, order, Section::Consumer),
        ),
    ];
    Ok(OutgoingMail {
        kind: "registry_new_order",
        to: vec![settings.mail.registry_mailbox.clone()],
        reply_to: Some(facts.vendor.contact_email.clone()),
        subject: nb.fill(
            "mail.registry.subject",
            &[
                ("reference", &facts.reference),
                ("vendor", &facts.vendor.org_name),
                ("consumer", &facts.consumer.org_name),
                ("environment", nb.environment(facts.environment)),
            ],
        ),
        text: RegistryOrderText {
            tr: nb,
            o: facts,
            environment: nb.environment(facts.environment),
            parties,
            other: field_lines(nb, order, Section::Other),
            case_url: format!("{}/admin/orders/{}", settings.base_url, facts.reference),
        }
        .render()?,
        html: None,
        attachments: Vec::new(),
    })
}

/// The emails a new order causes: one to the registry, one confirmation to each contact.
pub fn new_order_mails(
    facts: &OrderFacts,
    order: &NewOrder,
    lang: Lang,
    settings: &Settings,
    tokens: &ContactTokens,
) -> Result<Vec<OutgoingMail>, askama::Error> {
    let registry = registry_mail(facts, order, settings)?;
    let tr = Tr::new(lang);
    let next_delegate = tr.fill(
        if facts.is_test() {
            "mail.confirmation.next_delegate_test"
        } else {
            "mail.confirmation.next_delegate_production"
        },
        &[("schema", &facts.delegation_schema)],
    );
    let mut mails = vec![registry];
    for role in ContactRole::ALL {
        let (kind, intro) = match role {
            ContactRole::Vendor => (
                "vendor_confirmation",
                tr.fill(
                    "mail.confirmation.vendor_intro",
                    &[("consumer", &facts.consumer.org_name)],
                ),
            ),
            ContactRole::Consumer => (
                "consumer_confirmation",
                tr.fill(
                    "mail.confirmation.consumer_intro",
                    &[("vendor", &facts.vendor.org_name)],
                ),
            ),
        };
        let party = facts.party(role);
        let confirmation = Confirmation {
            tr,
            o: facts,
            subject: tr.fill(
                "mail.confirmation.subject",
                &[("reference", &facts.reference)],
            ),
            greeting: party.greeting(tr),
            environment: tr.environment(facts.environment),
            intro,
            your_step: facts.next_step(tr, role, OrderStatus::Received),
            next_delegate: next_delegate.clone(),
            track_url: track_url(settings, tokens.of(role), lang),
        };
        mails.push(OutgoingMail {
            kind,
            to: vec![party.contact_email.clone()],
            reply_to: None,
            subject: confirmation.subject.clone(),
            text: ConfirmationText { c: &confirmation }.render()?,
            html: Some(ConfirmationHtml { c: &confirmation }.render()?),
            attachments: Vec::new(),
        });
    }
    Ok(mails)
}

/// A status-change email to one contact, with every sentence filled in for both templates.
struct StatusChange<'a> {
    tr: Tr,
    o: &'a OrderFacts,
    subject: &'a str,
    greeting: String,
    environment: &'static str,
    happened: &'a str,
    reason: Option<&'a str>,
    /// Whose words `reason` is.
    reason_label: &'static str,
    /// What this contact does now.
    your_step: String,
    /// This contact's private link.
    track_url: String,
}

#[derive(Template)]
#[template(path = "mail/status_change.txt", whitespace = "preserve")]
struct StatusChangeText<'a> {
    c: &'a StatusChange<'a>,
}

#[derive(Template)]
#[template(path = "mail/status_change.html")]
struct StatusChangeHtml<'a> {
    c: &'a StatusChange<'a>,
}

/// What each contact is told when their order moves to `to`: what happened, what they must
/// do now (or that they need do nothing), and their own private link (`tokens`, issued for
/// this email), in the order's language. `comment` is the case handler's message to the
/// contacts (the reason, for a rejection; the vendor's, for a withdrawal). The TT02 login
/// identity is never part of it.
pub fn status_change_mails(
    order: &Order,
    to: OrderStatus,
    comment: Option<&str>,
    settings: &Settings,
    tokens: &ContactTokens,
) -> Result<Vec<OutgoingMail>, askama::Error> {
    let tr = Tr::new(order.language);
    let facts = OrderFacts::from_stored(order, settings);
    let mut values = facts.step_values(tr);
    values.push(("status", tr.status(to)));
    let subject = tr.fill("mail.status.subject", &values);
    let happened = tr.fill(&format!("mail.status.happened.{}", to.as_str()), &values);
    let mut mails = Vec::new();
    for role in ContactRole::ALL {
        let party = facts.party(role);
        let change = StatusChange {
            tr,
            o: &facts,
            subject: &subject,
            greeting: party.greeting(tr),
            environment: tr.environment(order.environment),
            happened: &happened,
            reason: comment.filter(|c| !c.trim().is_empty()),
            reason_label: tr.t(if to == OrderStatus::Withdrawn {
                "mail.status.comment_vendor"
            } else {
                "mail.status.comment"
            }),
            your_step: facts.next_step(tr, role, to),
            track_url: track_url(settings, tokens.of(role), order.language),
        };
        mails.push(OutgoingMail {
            kind: match role {
                ContactRole::Vendor => "status_change_vendor",
                ContactRole::Consumer => "status_change_consumer",
            },
            to: vec![party.contact_email.clone()],
            // No Reply-To: a reply quotes the body, and the body holds the private link.
            reply_to: None,
            subject: subject.clone(),
            text: StatusChangeText { c: &change }.render()?,
            html: Some(StatusChangeHtml { c: &change }.render()?),
            attachments: Vec::new(),
        });
    }
    Ok(mails)
}

/// One order in a links email.
struct LinkLine {
    reference: String,
    vendor: String,
    consumer: String,
    role: &'static str,
    url: String,
}

struct LinksMail {
    tr: Tr,
    subject: String,
    lines: Vec<LinkLine>,
}

#[derive(Template)]
#[template(path = "mail/links.txt", whitespace = "preserve")]
struct LinksText<'a> {
    c: &'a LinksMail,
}

#[derive(Template)]
#[template(path = "mail/links.html")]
struct LinksHtml<'a> {
    c: &'a LinksMail,
}

/// The email with a contact's new private links, in the language the request was made in.
pub fn links_mail(
    to: &str,
    issued: &[IssuedLink],
    lang: Lang,
    settings: &Settings,
) -> Result<OutgoingMail, askama::Error> {
    let tr = Tr::new(lang);
    let mail = LinksMail {
        tr,
        subject: tr.t("mail.links.subject").to_owned(),
        lines: issued
            .iter()
            .map(|i| LinkLine {
                reference: i.order.reference.clone(),
                vendor: i.order.vendor_org_name.clone(),
                consumer: i.order.consumer_org_name.clone(),
                role: tr.t(&format!("mail.links.role_{}", i.role.as_str())),
                url: track_url(settings, &i.token, lang),
            })
            .collect(),
    };
    Ok(OutgoingMail {
        kind: "contact_links",
        to: vec![to.to_owned()],
        // No Reply-To: a reply quotes the body, and the body holds the private links.
        reply_to: None,
        subject: mail.subject.clone(),
        text: LinksText { c: &mail }.render()?,
        html: Some(LinksHtml { c: &mail }.render()?),
        attachments: Vec::new(),
    })
}
