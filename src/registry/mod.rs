//! Enhetsregisteret, the Central Coordinating Register for Legal Entities: each order's
//! organisation numbers are looked up when the order is submitted. An unknown or removed
//! organisation is refused; a deleted, bankrupt or dissolving one, or a name that differs
//! from the register's, is flagged for the case handler; when the register cannot be reached
//! the order is still taken, marked "not verified".

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::domain::Environment;

/// Answers are kept this long: names and statuses change rarely, and a form that is
/// corrected and sent again should not ask twice.
const KEEP: Duration = Duration::from_secs(60 * 60);
/// At most this many answers are kept.
const MAX_CACHED: usize = 10_000;

/// What the register says about one organisation number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Lookup {
    Found {
        name: String,
        /// `slettedato` is set.
        deleted: bool,
        /// `konkurs`.
        bankrupt: bool,
        /// `underAvvikling` or `underTvangsavviklingEllerTvangsopplosning`.
        dissolving: bool,
    },
    /// 404: no such unit.
    NotFound,
    /// 410: removed from the register.
    Removed,
    /// Synthetic test organisations (numbers starting with 2 or 3) are not in the production
    /// register, so they are not looked up.
    Synthetic,
    /// The register did not answer in time, or answered with an error.
    Unavailable,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Unit {
    navn: String,
    #[serde(default)]
    konkurs: bool,
    #[serde(default)]
    under_avvikling: bool,
    #[serde(default)]
    under_tvangsavvikling_eller_tvangsopplosning: bool,
    #[serde(default)]
    slettedato: Option<String>,
}

pub struct RegistryClient {
    client: reqwest::Client,
    base_url: String,
    cache: Mutex<HashMap<String, (Instant, Lookup)>>,
}

impl RegistryClient {
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .build()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// What the register says about `org_number` (nine digits, already validated). For a
    /// test order, numbers in the synthetic ranges are not looked up; a production order has
    /// no business with a synthetic organisation, so there they are looked up like any other.
    pub async fn lookup(&self, org_number: &str, environment: Environment) -> Lookup {
        if environment == Environment::Test && org_number.starts_with(['2', '3']) {
            return Lookup::Synthetic;
        }
        if let Some((at, cached)) = self.cache.lock().await.get(org_number)
            && at.elapsed() < KEEP
        {
            return cached.clone();
        }
        let lookup = self.fetch(org_number).await;
        // An unavailable register is asked again next time.
        if lookup != Lookup::Unavailable {
            let mut cache = self.cache.lock().await;
            // Submissions decide what is cached, so the cache is kept to a bounded size.
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, (at, _)| at.elapsed() < KEEP);
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
            }
            cache.insert(org_number.to_owned(), (Instant::now(), lookup.clone()));
        }
        lookup
    }

    async fn fetch(&self, org_number: &str) -> Lookup {
        let url = format!("{}/enheter/{org_number}", self.base_url);
        let response = match self
            .client
            .get(&url)
            .header("accept", "application/json")
            .send()
            .await
        {
            Ok(response) => response,
            Err(err) => {
                tracing::warn!(error = %err.without_url(), "Enhetsregisteret unavailable");
                return Lookup::Unavailable;
            }
        };
        match response.status().as_u16() {
            200 => match response.json::<Unit>().await {
                Ok(unit) => Lookup::Found {
                    name: unit.navn,
                    deleted: unit.slettedato.is_some(),
                    bankrupt: unit.konkurs,
                    dissolving: unit.under_avvikling
                        || unit.under_tvangsavvikling_eller_tvangsopplosning,
                },
                Err(err) => {
                    tracing::warn!(error = %err.without_url(), "Enhetsregisteret answer unreadable");
                    Lookup::Unavailable
                }
            },
            404 => Lookup::NotFound,
            410 => Lookup::Removed,
            status => {
                tracing::warn!(status, "Enhetsregisteret answered with an error");
                Lookup::Unavailable
            }
        }
    }
}

/// Names compared the way the register writes them: upper case, single spaces.
pub fn same_name(given: &str, registered: &str) -> bool {
    let fold = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase()
    };
    fold(given) == fold(registered)
}

/// One organisation's check, as stored on the order for the case handler.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartyCheck {
    pub lookup: Lookup,
    /// The name on the order differs from the register's.
    pub name_differs: bool,
}

impl PartyCheck {
    pub fn new(lookup: Lookup, given_name: &str) -> Self {
        let name_differs =
            matches!(&lookup, Lookup::Found { name, .. } if !same_name(given_name, name));
        Self {
            lookup,
            name_differs,
        }
    }

    /// Something for the case handler to look at.
    pub fn flagged(&self) -> bool {
        self.name_differs
            || matches!(
                self.lookup,
                Lookup::Unavailable
                    | Lookup::Found { deleted: true, .. }
                    | Lookup::Found { bankrupt: true, .. }
                    | Lookup::Found {
                        dissolving: true,
                        ..
                    }
            )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RegistryCheck {
    pub vendor: PartyCheck,
    pub consumer: PartyCheck,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_regardless_of_case_and_spacing() {
        assert!(same_name("Brønnøysundregistrene", "BRØNNØYSUNDREGISTRENE"));
        assert!(same_name("  Kunde   Bank ASA ", "KUNDE BANK ASA"));
        assert!(!same_name("Kunde Bank", "KUNDE BANK ASA"));
    }

    #[test]
    fn differing_names_and_troubled_organisations_are_flagged() {
        let found = |deleted, bankrupt| Lookup::Found {
            name: "KUNDE BANK ASA".into(),
            deleted,
            bankrupt,
            dissolving: false,
        };
        assert!(!PartyCheck::new(found(false, false), "Kunde Bank ASA").flagged());
        assert!(PartyCheck::new(found(false, false), "Kunde Bank").flagged());
        assert!(PartyCheck::new(found(true, false), "Kunde Bank ASA").flagged());
        assert!(PartyCheck::new(found(false, true), "Kunde Bank ASA").flagged());
        assert!(PartyCheck::new(Lookup::Unavailable, "x").flagged());
        assert!(!PartyCheck::new(Lookup::Synthetic, "x").flagged());
    }
}
