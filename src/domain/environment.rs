//! Which Maskinporten/Altinn environment an order is for.

use std::fmt;

use serde::Serialize;

use super::{FieldError, codes};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Maskinporten TEST with Altinn TT02.
    Test,
    Production,
}

impl Environment {
    /// In form order, for building the choice list.
    pub const ALL: [Environment; 2] = [Environment::Test, Environment::Production];

    /// Accepts exactly the stable names; these are form values and API input, not prose.
    pub fn parse(raw: &str) -> Result<Environment, FieldError> {
        match raw.trim() {
            "" => Err(FieldError::new(codes::REQUIRED)),
            "test" => Ok(Environment::Test),
            "production" => Ok(Environment::Production),
            _ => Err(FieldError::new(codes::INVALID_CHOICE)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Production => "production",
        }
    }

    /// The test APIs filter callers by IP address; production does not ask.
    pub fn requires_ip_addresses(self) -> bool {
        matches!(self, Environment::Test)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{assert_displays_and_serializes_as, assert_refused};

    #[test]
    fn parses_the_two_names() {
        assert_eq!(Environment::parse("test"), Ok(Environment::Test));
        assert_eq!(
            Environment::parse(" production "),
            Ok(Environment::Production)
        );
    }

    #[test]
    fn empty_is_required_and_anything_else_invalid() {
        assert_refused(Environment::parse, codes::REQUIRED, [" "]);
        assert_refused(
            Environment::parse,
            codes::INVALID_CHOICE,
            ["Test", "PRODUCTION", "tt02", "prod", "test production"],
        );
    }

    #[test]
    fn names_round_trip() {
        for env in Environment::ALL {
            assert_eq!(Environment::parse(env.as_str()), Ok(env));
            assert_displays_and_serializes_as(&env, env.as_str());
        }
    }

    #[test]
    fn only_test_requires_ip_addresses() {
        assert!(Environment::Test.requires_ip_addresses());
        assert!(!Environment::Production.requires_ip_addresses());
    }
}
