//! The TT02 loading list: the organisations of a batch of test orders, each once, with its
//! name as Enhetsregisteret knows it, for Altinn to load into TT02. It is mailed (the list in
//! the text, and as a CSV attachment) or, without a mailbox, offered to the case handler to
//! copy and download; the CSV is the same either way.

use std::collections::HashMap;

use askama::Template;
use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::csv;
use crate::i18n::{Lang, Tr};
use crate::registry::Lookup;
use crate::store::orders::Order;
use crate::store::outbox::{Attachment, OutgoingMail};

/// The CSV's MIME type, for the attachment and the download alike.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// Where a listed organisation's name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSource {
    /// Enhetsregisteret's own name.
    Register,
    /// A synthetic test organisation (Tenor), which the register does not have: the name
    /// given on the order.
    Synthetic,
    /// The register does not know the number, or removed it: the name given on the order.
    NotInRegister,
    /// The register could not be asked: the name given on the order.
    Unavailable,
}

impl NameSource {
    pub const ALL: [NameSource; 4] = [
        NameSource::Register,
        NameSource::Synthetic,
        NameSource::NotInRegister,
        NameSource::Unavailable,
    ];

    fn of(lookup: Option<&Lookup>) -> (Option<&str>, NameSource) {
        match lookup {
            Some(Lookup::Found { name, .. }) => (Some(name), NameSource::Register),
            Some(Lookup::Synthetic) => (None, NameSource::Synthetic),
            Some(Lookup::NotFound | Lookup::Removed) => (None, NameSource::NotInRegister),
            Some(Lookup::Unavailable) | None => (None, NameSource::Unavailable),
        }
    }

    /// Stable name, for catalog keys (`admin.loading.name_<source>`) and page attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            NameSource::Register => "register",
            NameSource::Synthetic => "synthetic",
            NameSource::NotInRegister => "not_in_register",
            NameSource::Unavailable => "unavailable",
        }
    }
}

/// What the register warns about an organisation it knows: Altinn loads what it is sent, so
/// the case handler and the list's reader are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterWarning {
    Deleted,
    Bankrupt,
    Dissolving,
}

impl RegisterWarning {
    /// The gravest of the register's flags, if any is set.
    fn of(lookup: Option<&Lookup>) -> Option<Self> {
        match lookup {
            Some(Lookup::Found { deleted: true, .. }) => Some(RegisterWarning::Deleted),
            Some(Lookup::Found { bankrupt: true, .. }) => Some(RegisterWarning::Bankrupt),
            Some(Lookup::Found {
                dissolving: true, ..
            }) => Some(RegisterWarning::Dissolving),
            _ => None,
        }
    }

    /// Stable name, for catalog keys (`admin.loading.warning_<name>`,
    /// `mail.loading.warning_<name>`) and page attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            RegisterWarning::Deleted => "deleted",
            RegisterWarning::Bankrupt => "bankrupt",
            RegisterWarning::Dissolving => "dissolving",
        }
    }
}

/// One organisation on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedOrganisation {
    pub org_number: String,
    pub name: String,
    pub source: NameSource,
    /// Deleted, bankrupt or being dissolved, as the register says.
    pub warning: Option<RegisterWarning>,
    /// The orders it is on, in the list's order.
    pub references: Vec<String>,
}

impl ListedOrganisation {
    pub fn name_from_register(&self) -> bool {
        self.source == NameSource::Register
    }

    /// The references as one cell or phrase: `RRH-AAAA-BBBB, RRH-CCCC-DDDD`.
    pub fn references_text(&self) -> String {
        self.references.join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadingList {
    pub organisations: Vec<ListedOrganisation>,
    /// The orders the list was made from.
    pub references: Vec<String>,
}

impl LoadingList {
    /// Both organisations of each order (the vendor first), each organisation number once
    /// with every order it is on. The name is the register's (`lookups`, by number); where
    /// the register gave none, the first name an order gave for the number.
    pub fn new(orders: &[Order], lookups: &HashMap<String, Lookup>) -> Self {
        let parties = orders.iter().flat_map(|o| {
            [
                (
                    &o.reference,
                    o.vendor_org_number.as_str(),
                    &o.vendor_org_name,
                ),
                (
                    &o.reference,
                    o.consumer_org_number.as_str(),
                    &o.consumer_org_name,
                ),
            ]
        });
        let mut list = Self::from_parties(parties, lookups);
        list.references = orders.iter().map(|o| o.reference.clone()).collect();
        list
    }

    /// [`LoadingList::new`] from (reference, organisation number, name on the order).
    fn from_parties<'a>(
        parties: impl IntoIterator<Item = (&'a String, &'a str, &'a String)>,
        lookups: &HashMap<String, Lookup>,
    ) -> Self {
        let mut list = LoadingList {
            organisations: Vec::new(),
            references: Vec::new(),
        };
        let mut position: HashMap<&str, usize> = HashMap::new();
        for (reference, number, given_name) in parties {
            if !list.references.contains(reference) {
                list.references.push(reference.clone());
            }
            if let Some(&at) = position.get(number) {
                let listed = &mut list.organisations[at];
                if !listed.references.contains(reference) {
                    listed.references.push(reference.clone());
                }
                continue;
            }
            let (registered, source) = NameSource::of(lookups.get(number));
            position.insert(number, list.organisations.len());
            list.organisations.push(ListedOrganisation {
                org_number: number.to_owned(),
                name: registered.unwrap_or(given_name).to_owned(),
                source,
                warning: RegisterWarning::of(lookups.get(number)),
                references: vec![reference.clone()],
            });
        }
        list
    }

    pub fn is_empty(&self) -> bool {
        self.organisations.is_empty()
    }

    /// Whether some names are the orders' own, which the text then explains.
    pub fn has_given_names(&self) -> bool {
        self.organisations.iter().any(|o| !o.name_from_register())
    }

    /// The list as a spreadsheet opens it: organisation number; name; order references,
    /// with a header line. Always in bokmål, as the email it is attached to.
    pub fn csv(&self) -> String {
        let nb = Tr::new(Lang::Nb);
        let mut text = String::from(csv::BOM);
        text.push_str(&csv::line(&[
            nb.t("mail.loading.csv_org_number"),
            nb.t("mail.loading.csv_name"),
            nb.t("mail.loading.csv_references"),
        ]));
        for organisation in &self.organisations {
            text.push_str(&csv::line(&[
                &organisation.org_number,
                &organisation.name,
                &organisation.references_text(),
            ]));
        }
        text
    }

    /// The list as plain text, one organisation a line in the CSV's order of columns, a name
    /// given on the order marked with `*`: what the email says and the page offers to copy.
    /// A name with a `;`, quote or line break is quoted as in the CSV, so each line still
    /// reads as three fields; what the register warns about follows the name, in bokmål as
    /// the email is.
    pub fn text(&self) -> String {
        let nb = Tr::new(Lang::Nb);
        self.organisations
            .iter()
            .map(|o| {
                let mark = if o.name_from_register() { "" } else { " *" };
                let warning = o
                    .warning
                    .map(|w| {
                        format!(
                            " ({})",
                            nb.t(&format!("mail.loading.warning_{}", w.as_str()))
                        )
                    })
                    .unwrap_or_default();
                let name = csv::quoted(&format!("{}{mark}{warning}", o.name));
                format!("{}; {name}; {}\n", o.org_number, o.references_text())
            })
            .collect()
    }

    /// The CSV's file name, with the time it was made (UTC): it tells two lists apart.
    pub fn filename(at: DateTime<Utc>) -> String {
        format!("rrh-tt02-innlesing-{}.csv", at.format("%Y%m%d-%H%M"))
    }
}

#[derive(Template)]
#[template(path = "mail/tt02_loading.txt", whitespace = "preserve")]
struct LoadingText<'a> {
    tr: Tr,
    intro: String,
    list: &'a LoadingList,
    questions: String,
}

/// The email to Altinn's loading mailbox: the list in the text and as a CSV attachment, in
/// bokmål, Reply-To the registry's mailbox (a question about the list goes to the registry,
/// not to the service's no-reply sender). It names organisations and orders, no people.
pub fn loading_mail(
    list: &LoadingList,
    to: &str,
    settings: &Settings,
    at: DateTime<Utc>,
) -> Result<OutgoingMail, askama::Error> {
    let nb = Tr::new(Lang::Nb);
    let organisations = list.organisations.len().to_string();
    let orders = list.references.len().to_string();
    let counts = [
        ("organisations", organisations.as_str()),
        ("orders", orders.as_str()),
    ];
    let mailbox = settings.mail.registry_mailbox.as_str();
    let text = LoadingText {
        tr: nb,
        intro: nb.fill("mail.loading.intro", &counts),
        list,
        questions: nb.fill("mail.loading.questions", &[("mailbox", mailbox)]),
    };
    Ok(OutgoingMail {
        kind: "tt02_loading_list",
        to: vec![to.to_owned()],
        reply_to: Some(mailbox.to_owned()),
        subject: nb.fill("mail.loading.subject", &counts),
        text: text.render()?,
        html: None,
        attachments: vec![Attachment {
            filename: LoadingList::filename(at),
            content_type: CSV_CONTENT_TYPE.to_owned(),
            content: list.csv(),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn each_organisation_is_listed_once_with_every_order_it_is_on() {
        let [a, b] = ["RRH-AAAA-AAAA".to_owned(), "RRH-BBBB-BBBB".to_owned()];
        let names = [
            "Leverandør AS",
            "Kunde; Filial",
            "Leverandøren",
            "=Formel AS",
            "Konkursbo AS",
        ]
        .map(String::from);
        let c = "RRH-CCCC-CCCC".to_owned();
        let parties = [
            (&a, "974760673", &names[0]),
            (&a, "313876144", &names[1]),
            (&b, "974760673", &names[2]),
            (&b, "910000001", &names[3]),
            (&c, "920000002", &names[4]),
        ];
        let lookups = HashMap::from([
            (
                "974760673".to_owned(),
                Lookup::Found {
                    name: "LEVERANDØR SYSTEMER AS".into(),
                    deleted: false,
                    bankrupt: false,
                    dissolving: false,
                },
            ),
            ("313876144".to_owned(), Lookup::Synthetic),
            ("910000001".to_owned(), Lookup::Unavailable),
            (
                "920000002".to_owned(),
                Lookup::Found {
                    name: "KONKURSBO AS".into(),
                    deleted: false,
                    bankrupt: true,
                    dissolving: true,
                },
            ),
        ]);
        let list = LoadingList::from_parties(parties, &lookups);
        assert_eq!(list.references, [a.clone(), b.clone(), c.clone()]);
        assert_eq!(
            list.csv(),
            "\u{feff}Organisasjonsnummer;Navn;Bestillinger\r\n\
             974760673;LEVERANDØR SYSTEMER AS;RRH-AAAA-AAAA, RRH-BBBB-BBBB\r\n\
             313876144;\"Kunde; Filial\";RRH-AAAA-AAAA\r\n\
             910000001;'=Formel AS;RRH-BBBB-BBBB\r\n\
             920000002;KONKURSBO AS;RRH-CCCC-CCCC\r\n"
        );
        assert_eq!(
            list.text(),
            "974760673; LEVERANDØR SYSTEMER AS; RRH-AAAA-AAAA, RRH-BBBB-BBBB\n\
             313876144; \"Kunde; Filial *\"; RRH-AAAA-AAAA\n\
             910000001; =Formel AS *; RRH-BBBB-BBBB\n\
             920000002; KONKURSBO AS (konkurs i Enhetsregisteret); RRH-CCCC-CCCC\n"
        );
        let sources: Vec<NameSource> = list.organisations.iter().map(|o| o.source).collect();
        assert_eq!(
            sources,
            [
                NameSource::Register,
                NameSource::Synthetic,
                NameSource::Unavailable,
                NameSource::Register,
            ]
        );
        let warnings: Vec<_> = list.organisations.iter().map(|o| o.warning).collect();
        assert_eq!(
            warnings,
            [None, None, None, Some(RegisterWarning::Bankrupt)]
        );
    }
}
