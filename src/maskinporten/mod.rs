//! The token check on the vendor's page: a Maskinporten access token is verified against the
//! order, and every check is reported, passed or failed, so the vendor sees what to fix.
//! The token itself is never stored or logged; only [`TokenSummary`] is kept.

pub mod certificate;
pub mod grant;
pub mod jwks;
pub mod lines;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::domain::Environment;

/// Facts about Maskinporten per environment (see `shared/reference/domain.md`).
pub fn issuer(environment: Environment) -> &'static str {
    match environment {
        Environment::Test => "https://test.maskinporten.no/",
        Environment::Production => "https://maskinporten.no/",
    }
}

pub fn token_endpoint(environment: Environment) -> &'static str {
    match environment {
        Environment::Test => "https://test.maskinporten.no/token",
        Environment::Production => "https://maskinporten.no/token",
    }
}

pub fn delegation_source(environment: Environment) -> &'static str {
    match environment {
        Environment::Test => "https://tt02.altinn.no/",
        Environment::Production => "https://www.altinn.no/",
    }
}

/// Clock skew allowed on `exp`.
pub const LEEWAY_SECONDS: i64 = 30;

/// How far in the future a token's `iat` may be: Maskinporten allows ±10 s on a grant's
/// `iat`, and a token it issued cannot come from further ahead than our clocks differ.
pub const FUTURE_IAT_SECONDS: i64 = 10;

/// The only organisation-number authority Maskinporten writes in `consumer` and `supplier`.
pub const AUTHORITY: &str = "iso6523-actorid-upis";

/// What the token must say for this order.
#[derive(Debug, Clone)]
pub struct Expected {
    pub environment: Environment,
    pub scope: String,
    pub consumer_org: String,
    pub vendor_org: String,
    /// The order's `maskinporten_client_id`, when it names one.
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    /// Not looked at, because an earlier check failed (claims of a token whose signature
    /// does not hold mean nothing).
    NotChecked,
}

/// One line of the report. `name` is a stable id (`signature`, `issuer`, ...), which is
/// also the catalog key's last part; `found` is what the token had, for the fix.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
    pub found: Option<String>,
    /// Set when the failure is ours, not the token's: Maskinporten's keys could not be
    /// fetched, so the check could not be made.
    pub keys_unavailable: bool,
}

/// What is kept of a verified token: no signature, nothing that could be replayed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenSummary {
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub iat: Option<i64>,
    pub exp: Option<i64>,
    /// SHA-256 of the token's `jti`, so a token can be recognised without being kept.
    pub jti_sha256: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub checks: Vec<Check>,
    pub summary: Option<TokenSummary>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome == Outcome::Passed)
    }
}

/// The order of the checks on the page.
pub const CHECKS: [&str; 15] = [
    "format",
    "algorithm",
    "key",
    "signature",
    "issuer",
    "token_type",
    "issued_at",
    "expiry",
    "client",
    "scope",
    "consumer",
    "consumer_authority",
    "supplier",
    "supplier_authority",
    "delegation_source",
];

struct Builder {
    checks: Vec<Check>,
}

impl Builder {
    fn record(&mut self, name: &'static str, passed: bool, found: Option<String>) -> bool {
        self.checks.push(Check {
            name,
            outcome: if passed {
                Outcome::Passed
            } else {
                Outcome::Failed
            },
            found,
            keys_unavailable: false,
        });
        passed
    }

    /// Marks every check not yet reported as not checked.
    fn finish(mut self, summary: Option<TokenSummary>) -> Report {
        for name in CHECKS {
            if !self.checks.iter().any(|c| c.name == name) {
                self.checks.push(Check {
                    name,
                    outcome: Outcome::NotChecked,
                    found: None,
                    keys_unavailable: false,
                });
            }
        }
        Report {
            checks: self.checks,
            summary,
        }
    }
}

fn header_of(token: &str) -> Option<Value> {
    let part = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn organisation_id(claims: &Value, field: &str) -> Option<String> {
    claims.get(field)?.get("ID")?.as_str().map(str::to_owned)
}

fn organisation_authority(claims: &Value, field: &str) -> Option<String> {
    claims
        .get(field)?
        .get("authority")?
        .as_str()
        .map(str::to_owned)
}

/// Verifies `token` for `expected`, at `now` (Unix seconds). Long on purpose: the checks run
/// in Maskinporten's own order, each stopping the ones after it, and read best as one list.
pub async fn check(token: &str, expected: &Expected, keys: &jwks::JwksCache, now: i64) -> Report {
    let token = token.trim();
    let token = token
        .strip_prefix("Bearer ")
        .or_else(|| token.strip_prefix("bearer "))
        .unwrap_or(token)
        .trim();
    let mut report = Builder { checks: Vec::new() };

    let header = (token.split('.').count() == 3)
        .then(|| header_of(token))
        .flatten();
    let Some(header) = header else {
        report.record("format", false, None);
        return report.finish(None);
    };
    report.record("format", true, None);

    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let algorithm = match alg {
        "RS256" => Some(Algorithm::RS256),
        "RS384" => Some(Algorithm::RS384),
        "RS512" => Some(Algorithm::RS512),
        _ => None,
    };
    let Some(algorithm) = algorithm else {
        report.record("algorithm", false, Some(alg.to_owned()));
        return report.finish(None);
    };
    report.record("algorithm", true, Some(alg.to_owned()));

    let kid = header.get("kid").and_then(Value::as_str).unwrap_or("");
    let key = match keys.key(expected.environment, kid).await {
        Ok(Some(jwk)) => DecodingKey::from_jwk(&jwk).ok(),
        Ok(None) => None,
        Err(err) => {
            tracing::warn!(error = %err, "JWKS unavailable");
            report.record("key", false, Some(kid.to_owned()));
            if let Some(check) = report.checks.last_mut() {
                check.keys_unavailable = true;
            }
            return report.finish(None);
        }
    };
    let Some(key) = key else {
        report.record("key", false, Some(kid.to_owned()));
        return report.finish(None);
    };
    report.record("key", true, Some(kid.to_owned()));

    // Only the signature here: every claim is checked below, one by one, so each gets its
    // own line in the report.
    let mut validation = Validation::new(algorithm);
    validation.algorithms = vec![algorithm];
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = match jsonwebtoken::decode::<Value>(token, &key, &validation) {
        Ok(data) => data.claims,
        Err(_) => {
            report.record("signature", false, None);
            return report.finish(None);
        }
    };
    report.record("signature", true, None);

    check_claims(&mut report, &claims, expected, now);

    let text = |field: &str| claims.get(field).and_then(Value::as_str).map(str::to_owned);
    let summary = TokenSummary {
        client_id: text("client_id"),
        scope: text("scope"),
        iat: claims.get("iat").and_then(Value::as_i64),
        exp: claims.get("exp").and_then(Value::as_i64),
        jti_sha256: text("jti").map(|jti| crate::store::sha256_hex(&jti)),
    };
    report.finish(Some(summary))
}

/// The claims of a token whose signature holds, each on its own line of the report.
fn check_claims(report: &mut Builder, claims: &Value, expected: &Expected, now: i64) {
    let text = |field: &str| claims.get(field).and_then(Value::as_str).map(str::to_owned);
    let iss = text("iss");
    report.record(
        "issuer",
        iss.as_deref() == Some(issuer(expected.environment)),
        iss,
    );
    let token_type = text("token_type");
    report.record(
        "token_type",
        token_type.as_deref() == Some("Bearer"),
        token_type,
    );
    let iat = claims.get("iat").and_then(Value::as_i64);
    report.record(
        "issued_at",
        iat.is_some_and(|iat| iat <= now + FUTURE_IAT_SECONDS),
        iat.map(|i| i.to_string()),
    );
    let exp = claims.get("exp").and_then(Value::as_i64);
    report.record(
        "expiry",
        exp.is_some_and(|exp| exp + LEEWAY_SECONDS >= now),
        exp.map(|e| e.to_string()),
    );
    // Any client will do when the order names none.
    let client = text("client_id");
    report.record(
        "client",
        match &expected.client_id {
            Some(wanted) => client.as_deref() == Some(wanted.as_str()),
            None => true,
        },
        client,
    );
    let scope = text("scope");
    report.record(
        "scope",
        scope
            .as_deref()
            .is_some_and(|s| s.split(' ').any(|one| one == expected.scope)),
        scope,
    );
    let consumer = organisation_id(claims, "consumer");
    report.record(
        "consumer",
        consumer.as_deref() == Some(format!("0192:{}", expected.consumer_org).as_str()),
        consumer,
    );
    let authority = organisation_authority(claims, "consumer");
    report.record(
        "consumer_authority",
        authority.as_deref() == Some(AUTHORITY),
        authority,
    );
    let supplier = organisation_id(claims, "supplier");
    report.record(
        "supplier",
        supplier.as_deref() == Some(format!("0192:{}", expected.vendor_org).as_str()),
        supplier,
    );
    let authority = organisation_authority(claims, "supplier");
    report.record(
        "supplier_authority",
        authority.as_deref() == Some(AUTHORITY),
        authority,
    );
    let source = text("delegation_source");
    report.record(
        "delegation_source",
        source.as_deref() == Some(delegation_source(expected.environment)),
        source,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Expected {
        Expected {
            environment: Environment::Test,
            scope: "brreg:reelle/offentlig".into(),
            consumer_org: "313876144".into(),
            vendor_org: "974760673".into(),
            client_id: None,
        }
    }

    fn token_with_header(header: &str) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header))
    }

    /// The catalog has `track.check.<name>.label` and `.fix` for each name in [`CHECKS`]
    /// (see `i18n::coverage`), so a name recorded anywhere else would render as a missing
    /// text. Every `record` call names its check with a literal; all of them are here.
    #[test]
    fn every_check_recorded_is_listed() {
        let source = include_str!("mod.rs");
        let marker = [".record", "("].concat();
        let recorded: Vec<&str> = source
            .match_indices(&marker)
            .map(|(at, _)| {
                let rest = source[at + marker.len()..]
                    .trim_start()
                    .strip_prefix('"')
                    .expect("`record` is called with the check's name as a literal");
                &rest[..rest.find('"').expect("a closing quote")]
            })
            .collect();
        assert!(recorded.len() >= CHECKS.len(), "{recorded:?}");
        for name in &recorded {
            assert!(
                CHECKS.contains(name),
                "{name} is recorded but not in CHECKS"
            );
        }
        for name in CHECKS {
            assert!(
                recorded.contains(&name),
                "{name} is in CHECKS but never recorded"
            );
        }
    }

    /// The reports that need no keys: each lists every check, in the order of [`CHECKS`].
    #[tokio::test]
    async fn every_report_lists_exactly_the_listed_checks() {
        // Nothing listens on port 1, so fetching the keys fails at once.
        let keys = jwks::JwksCache::new(
            "http://127.0.0.1:1/jwks".into(),
            "http://127.0.0.1:1/jwks".into(),
            std::time::Duration::from_secs(2),
        )
        .unwrap();
        let cases = [
            ("not a token", "format", false),
            ("a.b.c", "format", false),
            (
                &token_with_header(r#"{"alg":"HS256","typ":"JWT"}"#),
                "algorithm",
                false,
            ),
            (
                &token_with_header(r#"{"alg":"RS256","kid":"mp-key"}"#),
                "key",
                true,
            ),
        ];
        for (token, failed, keys_unavailable) in cases {
            let report = check(token, &expected(), &keys, 0).await;
            let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
            assert_eq!(names, CHECKS, "{token}");
            let position = CHECKS.iter().position(|n| *n == failed).unwrap();
            for (i, check) in report.checks.iter().enumerate() {
                let want = match i.cmp(&position) {
                    std::cmp::Ordering::Less => Outcome::Passed,
                    std::cmp::Ordering::Equal => Outcome::Failed,
                    std::cmp::Ordering::Greater => Outcome::NotChecked,
                };
                assert_eq!(check.outcome, want, "{token}: {}", check.name);
            }
            assert_eq!(report.checks[position].keys_unavailable, keys_unavailable);
            assert!(!report.passed());
            assert!(report.summary.is_none());
        }
    }
}
