//! Maskinporten scopes an order can be for, and the Altinn delegation schema of each.
//! The list is configuration: the registry adds scopes over time.

use super::named::text_value;
use super::{FieldError, codes};
use crate::domain::text::is_forbidden_control;

text_value! {
    /// A scope that was configured when the order was made.
    pub struct Scope;
}

impl Scope {
    /// Rebuilds a scope read back from storage. Only the syntax is checked: the scope
    /// may since have been removed from configuration, and old orders must still load.
    pub fn from_stored(raw: &str) -> Result<Scope, FieldError> {
        if is_scope_name(raw) {
            Ok(Scope(raw.to_owned()))
        } else {
            Err(FieldError::new(codes::INVALID_CHOICE))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeDefinition {
    pub name: String,
    /// The schema's name exactly as Altinn shows it under "Legge til API-ressurser".
    pub delegation_schema: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeCatalog {
    entries: Vec<ScopeDefinition>,
}

impl Default for ScopeCatalog {
    /// The two scopes in the registry's TT02 guide.
    fn default() -> Self {
        let entry = |name: &str, schema: &str| ScopeDefinition {
            name: name.to_owned(),
            delegation_schema: schema.to_owned(),
        };
        ScopeCatalog {
            entries: vec![
                entry(
                    "brreg:reelle/offentlig",
                    "Register over reelle rettighetshavere - Offentlig myndighet - På vegne av",
                ),
                entry(
                    "brreg:reelle/rapporteringspliktig",
                    "Register over reelle rettighetshavere - Rapporteringspliktig virksomhet - På vegne av",
                ),
            ],
        }
    }
}

impl ScopeCatalog {
    /// Reads the operator's configuration: `scope=schema` entries separated by newlines
    /// or `;`; blank lines and lines starting with `#` are ignored. The error is a
    /// message for the operator at start-up, never shown to users.
    pub fn parse(text: &str) -> Result<ScopeCatalog, String> {
        let mut entries: Vec<ScopeDefinition> = Vec::new();
        let lines = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'));
        for entry in lines.flat_map(|line| line.split(';')).map(str::trim) {
            if entry.is_empty() {
                continue;
            }
            let Some((name, schema)) = entry.split_once('=') else {
                return Err(format!(
                    "scope entry {entry:?} is not of the form scope=delegation schema"
                ));
            };
            let (name, schema) = (name.trim(), schema.trim());
            if !is_scope_name(name) {
                return Err(format!(
                    "{name:?} is not a Maskinporten scope (expected prefix:name, e.g. brreg:reelle/offentlig)"
                ));
            }
            if schema.is_empty() || schema.chars().any(is_forbidden_control) {
                return Err(format!(
                    "scope {name:?} needs a delegation schema name after '='"
                ));
            }
            if entries.iter().any(|e| e.name == name) {
                return Err(format!("scope {name:?} is configured twice"));
            }
            entries.push(ScopeDefinition {
                name: name.to_owned(),
                delegation_schema: schema.to_owned(),
            });
        }
        if entries.is_empty() {
            return Err("no scopes configured".to_owned());
        }
        Ok(ScopeCatalog { entries })
    }

    /// Turns a form or API value into a configured scope.
    pub fn parse_scope(&self, raw: &str) -> Result<Scope, FieldError> {
        let name = super::required(raw)?;
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| Scope(e.name.clone()))
            .ok_or_else(|| FieldError::new(codes::INVALID_CHOICE))
    }

    /// `None` when the scope has been removed from configuration since the order was made.
    pub fn delegation_schema(&self, scope: &Scope) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.name == scope.0)
            .map(|e| e.delegation_schema.as_str())
    }

    /// The schema for a scope as stored on an order; empty when it is no longer configured.
    pub fn delegation_schema_of_stored(&self, scope: &Scope) -> String {
        self.delegation_schema(scope)
            .map(str::to_owned)
            .unwrap_or_default()
    }

    pub fn entries(&self) -> &[ScopeDefinition] {
        &self.entries
    }
}

/// `prefix:name` as Maskinporten writes scopes: a lower-case alphanumeric prefix, a
/// colon, then letters, digits and `. _ / -`.
fn is_scope_name(s: &str) -> bool {
    let Some((prefix, name)) = s.split_once(':') else {
        return false;
    };
    !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{assert_displays_and_serializes_as, assert_refused};

    const OFFENTLIG: &str =
        "Register over reelle rettighetshavere - Offentlig myndighet - På vegne av";
    const RAPPORTERINGSPLIKTIG: &str =
        "Register over reelle rettighetshavere - Rapporteringspliktig virksomhet - På vegne av";

    #[test]
    fn default_has_the_two_scopes_of_the_guide() {
        let catalog = ScopeCatalog::default();
        let names: Vec<&str> = catalog.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "brreg:reelle/offentlig",
                "brreg:reelle/rapporteringspliktig"
            ]
        );
        let scope = catalog.parse_scope("brreg:reelle/offentlig").unwrap();
        assert_eq!(catalog.delegation_schema(&scope), Some(OFFENTLIG));
        let scope = catalog
            .parse_scope(" brreg:reelle/rapporteringspliktig ")
            .unwrap();
        assert_eq!(
            catalog.delegation_schema(&scope),
            Some(RAPPORTERINGSPLIKTIG)
        );
        assert_eq!(scope.as_str(), "brreg:reelle/rapporteringspliktig");
        assert_displays_and_serializes_as(&scope, "brreg:reelle/rapporteringspliktig");
    }

    #[test]
    fn parse_scope_rules() {
        let catalog = ScopeCatalog::default();
        let parse_scope = |raw: &str| catalog.parse_scope(raw);
        assert_refused(parse_scope, codes::REQUIRED, ["", "  "]);
        assert_refused(
            parse_scope,
            codes::INVALID_CHOICE,
            [
                "brreg:reelle/media",
                "BRREG:reelle/offentlig",
                "brreg:reelle/offentlig2",
                "offentlig",
            ],
        );
    }

    #[test]
    fn parses_configuration_with_the_newer_scopes() {
        // The schema names of the newer scopes are placeholders in the guide's pattern;
        // operators copy the exact names from Altinn.
        let text = "\
            # RRH scopes\n\
            brreg:reelle/offentlig = Register over reelle rettighetshavere - Offentlig myndighet - På vegne av\n\
            \n\
            brreg:reelle/rapporteringspliktig=Register over reelle rettighetshavere - Rapporteringspliktig virksomhet - På vegne av\r\n\
            brreg:reelle/rapporteringspliktig.begrenset=RRH - Rapporteringspliktig virksomhet, begrenset - På vegne av; \
            brreg:reelle/media=RRH - Media - På vegne av\n\
              # indented comment; not=an entry\n\
            brreg:reelle/sivilsamfunnsorganisasjon=RRH - Sivilsamfunnsorganisasjon - På vegne av;\n\
            brreg:reelle/hoeyereutdanningsinstitusjon=RRH - Høyere utdanningsinstitusjon - På vegne av\n";
        let catalog = ScopeCatalog::parse(text).unwrap();
        let names: Vec<&str> = catalog.entries().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "brreg:reelle/offentlig",
                "brreg:reelle/rapporteringspliktig",
                "brreg:reelle/rapporteringspliktig.begrenset",
                "brreg:reelle/media",
                "brreg:reelle/sivilsamfunnsorganisasjon",
                "brreg:reelle/hoeyereutdanningsinstitusjon",
            ]
        );
        assert_eq!(catalog.entries()[0].delegation_schema, OFFENTLIG);
        assert_eq!(catalog.entries()[1].delegation_schema, RAPPORTERINGSPLIKTIG);
        let media = catalog.parse_scope("brreg:reelle/media").unwrap();
        assert_eq!(
            catalog.delegation_schema(&media),
            Some("RRH - Media - På vegne av")
        );
    }

    #[test]
    fn configuration_on_one_line() {
        let catalog = ScopeCatalog::parse("a:b=Schema B;c1:d_e.f-g/h=Schema D").unwrap();
        assert_eq!(catalog.entries().len(), 2);
        assert_eq!(catalog.entries()[1].name, "c1:d_e.f-g/h");
    }

    #[test]
    fn configuration_errors() {
        for bad in [
            "",
            "  \n# only a comment\n;;",
            "brreg:reelle/offentlig",
            "brreg:reelle/offentlig=",
            "=Schema",
            "reelle=Schema",
            "Brreg:reelle=Schema",
            "brreg:=Schema",
            "brreg:reelle offentlig=Schema",
            "brreg:reelle/ø=Schema",
            "a:b=Schema\na:b=Other",
            "a:b=Sch\u{0}ema",
        ] {
            assert!(ScopeCatalog::parse(bad).is_err(), "{bad:?}");
        }
        let msg = ScopeCatalog::parse("a:b=S;a:b=T").unwrap_err();
        assert!(msg.contains("twice"), "{msg}");
    }

    #[test]
    fn a_removed_scope_still_loads_from_storage() {
        let catalog = ScopeCatalog::parse("a:b=Schema").unwrap();
        let old = Scope::from_stored("brreg:reelle/offentlig").unwrap();
        assert_eq!(catalog.delegation_schema(&old), None);
        assert_refused(Scope::from_stored, codes::INVALID_CHOICE, ["not a scope"]);
    }
}
