//! The grant check on the vendor's page: a JWT grant the vendor is about to send to
//! Maskinporten, checked as Maskinporten checks it, one line per check with the fix. A grant
//! with `x5c` gets the certificate checks on its certificate and its signature verified with
//! that certificate's key; one with `kid` names a key registered on the client, which cannot
//! be had here, so its signature is not checked. Pure: text in, report out.
//!
//! The claims are checked even when the signature is not right: nothing is trusted or changed
//! on the strength of this report, and the vendor gets every fix at once.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::certificate::{self, Inspection, Refusal, RsaKey};
use super::issuer;
use super::lines::{Lines, Recorder};
use crate::domain::Environment;

/// The checks in the order of the page, each with the details its text can have
/// (`track.grant.{name}.label`, `track.grant.{name}.{detail}`).
pub const CHECKS: [(&str, &[&str]); 13] = [
    ("format", &["not_jws", "access_token"]),
    ("algorithm", &["unsupported"]),
    (
        "key_header",
        &["x5c", "kid", "x5c_invalid", "x5c_order", "missing"],
    ),
    ("certificate", &["kid", "not_base64", "failed"]),
    (
        "signature",
        &["algorithm", "kid", "no_key", "key_too_large", "mismatch"],
    ),
    (
        "audience",
        &["missing", "slash", "other_environment", "wrong"],
    ),
    (
        "issuer",
        &["missing", "not_string", "not_client_id", "other_client"],
    ),
    ("scope", &["missing", "not_string", "wrong"]),
    (
        "consumer_org",
        &["missing", "vendor", "not_string", "other"],
    ),
    (
        "lifetime",
        &[
            "missing",
            "not_number",
            "not_after_iat",
            "too_long",
            "expired",
        ],
    ),
    ("issued_at", &["future"]),
    ("jti", &["missing", "not_string"]),
    ("claims", &["unknown"]),
];

/// The claims Maskinporten documents for a grant. Digdir's page on the JWT grant
/// (docs.digdir.no, Maskinporten, "JWT grant") lists aud, iss, iat, exp, jti, scope and
/// resource, and, for acting for another organisation, consumer_org and iss_onbehalfof; it
/// says any other claim gets 400 "Invalid assertion". Altinn's system-user guide adds
/// authorization_details and sub to the grant. As the list may not be complete, a claim not
/// in it is named in a remark, not failed.
pub const KNOWN_CLAIMS: [&str; 11] = [
    "aud",
    "iss",
    "iat",
    "exp",
    "jti",
    "scope",
    "resource",
    "consumer_org",
    "iss_onbehalfof",
    "authorization_details",
    "sub",
];

/// The longest lifetime (`exp - iat`) Maskinporten accepts, in seconds.
pub const MAX_LIFETIME_SECONDS: i64 = 120;
/// How far ahead of our clock `iat` may be (Maskinporten allows 10 s of skew).
pub const IAT_LEEWAY_SECONDS: i64 = 10;
/// The longest RSA key a signature is checked with. The `rsa` crate's own limit (and so
/// jsonwebtoken's) is 4096 bits, but certificate authorities issue longer keys and
/// Maskinporten takes them; far longer ones would only make the check slow.
pub const MAX_RSA_BITS: usize = 16384;

/// What the grant must say for this order.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// What its certificate must be, when it carries one (`x5c`); names the environment and
    /// both organisations for the claims too.
    pub certificate: certificate::Expected<'a>,
    pub scope: &'a str,
    /// The order's `maskinporten_client_id`, when the vendor gave one.
    pub client_id: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub lines: Lines,
    /// The certificate checks on the grant's `x5c`, when it has one that decodes.
    pub certificate: Option<Lines>,
}

impl Report {
    /// No check failed, the certificate's included.
    pub fn passed(&self) -> bool {
        self.lines.passed() && self.certificate.as_ref().is_none_or(Lines::passed)
    }
}

/// The decoded parts of a JWS in compact form.
struct Jws<'a> {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    /// `header.payload`, what the signature is over.
    signed: &'a str,
    signature: &'a str,
}

fn json_part(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn parse(grant: &str) -> Option<Jws<'_>> {
    let mut parts = grant.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some(Jws {
        header: json_part(header)?,
        claims: json_part(payload)?,
        signed: &grant[..header.len() + 1 + payload.len()],
        signature,
    })
}

/// Checks `grant` for `expected` at `now` (Unix seconds). A private key, pasted instead of
/// the grant or put in its `x5c`, refuses it.
pub fn check(grant: &str, expected: &Expected, now: i64) -> Result<Report, Refusal> {
    if certificate::holds_private_key(grant) {
        return Err(Refusal::PrivateKey);
    }
    let mut report = Recorder::new();
    let Some(jws) = parse(grant.trim()) else {
        report.fail("format", "not_jws", None);
        return Ok(finish(report, None));
    };
    // An access token is a JWS too; its claims say Maskinporten made it.
    if jws.claims.contains_key("token_type") || jws.claims.contains_key("client_amr") {
        report.fail("format", "access_token", None);
        return Ok(finish(report, None));
    }
    report.pass("format");
    let algorithm = check_algorithm(&jws, &mut report);
    let inspection = check_key_header(&jws, expected, now, &mut report)?;
    check_signature(&jws, algorithm, inspection.as_ref(), &mut report);
    check_claims(&jws.claims, expected, now, &mut report);
    Ok(finish(report, inspection.map(|i| i.lines)))
}

fn finish(report: Recorder, certificate: Option<Lines>) -> Report {
    Report {
        lines: report.finish(&CHECKS),
        certificate,
    }
}

fn text<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    map.get(name).and_then(Value::as_str)
}

fn check_algorithm(jws: &Jws, report: &mut Recorder) -> Option<Algorithm> {
    let alg = text(&jws.header, "alg");
    let algorithm = match alg {
        Some("RS256") => Some(Algorithm::RS256),
        Some("RS384") => Some(Algorithm::RS384),
        Some("RS512") => Some(Algorithm::RS512),
        _ => None,
    };
    match algorithm {
        Some(_) => report.pass("algorithm"),
        None => report.fail("algorithm", "unsupported", alg.map(str::to_owned)),
    }
    algorithm
}

/// The header's `x5c` or `kid`; with `x5c`, the certificate checks on the certificate whose
/// key signed the grant, which must come first (RFC 7515, 4.1.6).
fn check_key_header(
    jws: &Jws,
    expected: &Expected,
    now: i64,
    report: &mut Recorder,
) -> Result<Option<Inspection>, Refusal> {
    let kid = text(&jws.header, "kid").filter(|k| !k.trim().is_empty());
    let Some(x5c) = jws.header.get("x5c") else {
        match kid {
            Some(kid) => {
                report.note("key_header", "kid", Some(kid.to_owned()));
                report.skip("certificate", "kid", None);
            }
            None => report.fail("key_header", "missing", None),
        }
        return Ok(None);
    };
    let Some(entries) = x5c
        .as_array()
        .filter(|chain| !chain.is_empty())
        .and_then(|chain| chain.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
    else {
        report.fail("key_header", "x5c_invalid", None);
        return Ok(None);
    };
    let mut ders = Vec::with_capacity(entries.len());
    for (at, entry) in entries.iter().enumerate() {
        let compact: String = entry.split_whitespace().collect();
        let Ok(der) = STANDARD.decode(compact) else {
            report.note("key_header", "x5c", None);
            report.fail("certificate", "not_base64", Some((at + 1).to_string()));
            return Ok(None);
        };
        ders.push(der);
    }
    let (inspection, leaf) = certificate::check_x5c(&ders, &expected.certificate, now)?;
    if leaf == 0 {
        report.note("key_header", "x5c", None);
    } else {
        // Maskinporten takes the first as the signer's: with the CA first, the vendor would
        // otherwise read "organisation missing" and "signature mismatch", and not why.
        report.fail("key_header", "x5c_order", Some((leaf + 1).to_string()));
    }
    if inspection.lines.passed() {
        report.pass("certificate");
    } else {
        report.fail("certificate", "failed", None);
    }
    Ok(Some(inspection))
}

fn check_signature(
    jws: &Jws,
    algorithm: Option<Algorithm>,
    inspection: Option<&Inspection>,
    report: &mut Recorder,
) {
    let Some(algorithm) = algorithm else {
        report.skip("signature", "algorithm", None);
        return;
    };
    // A header without a key, or with an x5c that is not a list of strings: nothing to say.
    // With the certificates in the wrong order, the signer's key is still checked.
    if report.has_failed("key_header") && inspection.is_none() {
        return;
    }
    let Some(inspection) = inspection else {
        if !jws.header.contains_key("x5c") {
            report.skip("signature", "kid", None);
        } else {
            report.skip("signature", "no_key", None);
        }
        return;
    };
    let Some(key) = &inspection.rsa_key else {
        report.skip("signature", "no_key", None);
        return;
    };
    match verify_rsa(key, algorithm, jws.signed.as_bytes(), jws.signature) {
        Ok(true) => report.pass("signature"),
        Ok(false) => report.fail("signature", "mismatch", None),
        Err(bits) => report.skip("signature", "key_too_large", Some(bits.to_string())),
    }
}

/// Verifies an RS256/384/512 signature (PKCS#1 v1.5) with the certificate's key, with the
/// `rsa` crate directly: jsonwebtoken builds its key with `RsaPublicKey::new`, which refuses
/// keys over 4096 bits, and so called a right grant signed with a longer key a mismatch.
/// `Err` with the key's bits when it is longer than [`MAX_RSA_BITS`].
fn verify_rsa(
    key: &RsaKey,
    algorithm: Algorithm,
    signed: &[u8],
    signature: &str,
) -> Result<bool, usize> {
    let n = BigUint::from_bytes_be(&key.modulus);
    let e = BigUint::from_bytes_be(&key.exponent);
    let bits = n.bits();
    if bits > MAX_RSA_BITS {
        return Err(bits);
    }
    let Ok(public) = RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS) else {
        // A key the crate will not use (an exponent out of range, say) verifies nothing.
        return Ok(false);
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature.trim_end_matches('=')) else {
        return Ok(false);
    };
    let verified = match algorithm {
        Algorithm::RS256 => public.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(signed),
            &signature,
        ),
        Algorithm::RS384 => public.verify(
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(signed),
            &signature,
        ),
        Algorithm::RS512 => public.verify(
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(signed),
            &signature,
        ),
        _ => return Ok(false),
    };
    Ok(verified.is_ok())
}

/// A value as the report shows it: a string as it is, anything else as JSON.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn check_claims(claims: &Map<String, Value>, expected: &Expected, now: i64, report: &mut Recorder) {
    check_audience(claims, expected.certificate.environment, report);
    check_client(claims, expected.client_id, report);
    match claims.get("scope") {
        None => report.fail("scope", "missing", None),
        Some(Value::String(scope)) if scope.split_whitespace().any(|s| s == expected.scope) => {
            report.pass("scope")
        }
        Some(Value::String(scope)) => report.fail("scope", "wrong", Some(scope.clone())),
        Some(other) => report.fail("scope", "not_string", Some(shown(other))),
    }
    let orgs = &expected.certificate;
    match claims.get("consumer_org") {
        None => report.fail("consumer_org", "missing", None),
        Some(Value::String(org)) if org == orgs.consumer_org => report.pass("consumer_org"),
        Some(Value::String(org)) if org == orgs.vendor_org => {
            report.fail("consumer_org", "vendor", Some(org.clone()))
        }
        Some(Value::String(org)) => report.fail("consumer_org", "other", Some(org.clone())),
        Some(other) => report.fail("consumer_org", "not_string", Some(shown(other))),
    }
    check_times(claims, now, report);
    match claims.get("jti") {
        Some(Value::String(jti)) if !jti.trim().is_empty() => report.pass("jti"),
        None | Some(Value::String(_)) => report.fail("jti", "missing", None),
        Some(other) => report.fail("jti", "not_string", Some(shown(other))),
    }
    let unknown: Vec<&str> = claims
        .keys()
        .map(String::as_str)
        .filter(|name| !KNOWN_CLAIMS.contains(name))
        .collect();
    if unknown.is_empty() {
        report.pass("claims");
    } else {
        report.note("claims", "unknown", Some(unknown.join(", ")));
    }
}

fn check_audience(claims: &Map<String, Value>, environment: Environment, report: &mut Recorder) {
    let wanted = issuer(environment);
    let other = issuer(match environment {
        Environment::Test => Environment::Production,
        Environment::Production => Environment::Test,
    });
    match claims.get("aud") {
        None => report.fail("audience", "missing", None),
        Some(Value::String(aud)) if aud == wanted => report.pass("audience"),
        Some(Value::String(aud)) if format!("{aud}/") == wanted => {
            report.fail("audience", "slash", Some(aud.clone()))
        }
        Some(Value::String(aud)) if aud.trim_end_matches('/') == other.trim_end_matches('/') => {
            report.fail("audience", "other_environment", Some(aud.clone()))
        }
        Some(aud) => report.fail("audience", "wrong", Some(shown(aud))),
    }
}

/// What a Maskinporten client id is not: a URL (the audience put in `iss`), an organisation
/// number, or anything with spaces or a colon (`0192:...`).
fn looks_like_client_id(iss: &str) -> bool {
    !iss.is_empty()
        && iss.len() <= 200
        && !iss.to_ascii_lowercase().starts_with("http")
        && !iss.bytes().all(|b| b.is_ascii_digit())
        && !iss.contains(|c: char| c.is_whitespace() || c == ':')
}

fn check_client(claims: &Map<String, Value>, client_id: Option<&str>, report: &mut Recorder) {
    let iss = match claims.get("iss") {
        Some(Value::String(iss)) if !iss.is_empty() => iss.as_str(),
        None | Some(Value::String(_)) => return report.fail("issuer", "missing", None),
        Some(other) => return report.fail("issuer", "not_string", Some(shown(other))),
    };
    let found = Some(iss.to_owned());
    match client_id {
        Some(id) if iss == id => report.pass("issuer"),
        _ if !looks_like_client_id(iss) => report.fail("issuer", "not_client_id", found),
        Some(_) => report.fail("issuer", "other_client", found),
        None => report.pass("issuer"),
    }
}

/// A NumericDate: whole seconds, though a fraction is allowed.
fn seconds(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    let value = claims.get(name)?;
    value
        .as_i64()
        .or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
}

/// The time window, judged against the grant's own `iat` (so a grant made for this check,
/// and expired since, still shows whether its window is right), and `iat` against our clock.
fn check_times(claims: &Map<String, Value>, now: i64, report: &mut Recorder) {
    let (iat, exp) = (seconds(claims, "iat"), seconds(claims, "exp"));
    let (Some(iat), Some(exp)) = (iat, exp) else {
        let unread = |present: bool| -> Vec<&str> {
            [("iat", iat), ("exp", exp)]
                .into_iter()
                .filter(|(name, v)| v.is_none() && claims.contains_key(*name) == present)
                .map(|(name, _)| name)
                .collect()
        };
        // A claim that is there but not a number ("1700000000" in quotes, say) is named as
        // such: "missing" would send the vendor looking for a claim they can see.
        let (missing, not_numbers) = (unread(false), unread(true));
        if missing.is_empty() {
            report.fail("lifetime", "not_number", Some(not_numbers.join(", ")));
        } else {
            report.fail("lifetime", "missing", Some(missing.join(", ")));
        }
        if let Some(iat) = iat {
            check_issued_at(iat, now, report);
        }
        return;
    };
    let lifetime = exp.saturating_sub(iat);
    if lifetime <= 0 {
        report.fail("lifetime", "not_after_iat", Some(lifetime.to_string()));
    } else if lifetime > MAX_LIFETIME_SECONDS {
        report.fail("lifetime", "too_long", Some(lifetime.to_string()));
    } else if exp < now {
        report.note("lifetime", "expired", certificate::time_text(exp));
    } else {
        report.pass("lifetime");
    }
    check_issued_at(iat, now, report);
}

fn check_issued_at(iat: i64, now: i64, report: &mut Recorder) {
    let ahead = iat.saturating_sub(now);
    if ahead > IAT_LEEWAY_SECONDS {
        report.fail("issued_at", "future", Some(ahead.to_string()));
    } else {
        report.pass("issued_at");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maskinporten::Outcome;

    #[test]
    fn every_detail_recorded_is_listed_and_every_listed_one_is_recorded() {
        super::super::lines::assert_recorded_match(include_str!("grant.rs"), &CHECKS, &[]);
    }

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn grant(header: Value, claims: Value) -> String {
        format!("{}.{}.c2ln", b64(&header), b64(&claims))
    }

    fn claims(now: i64) -> Value {
        serde_json::json!({
            "aud": "https://test.maskinporten.no/",
            "iss": "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b",
            "scope": "brreg:reelle/offentlig",
            "consumer_org": "313876144",
            "iat": now,
            "exp": now + 120,
            "jti": "a3f1",
        })
    }

    fn run(grant: &str, now: i64, client_id: Option<&str>) -> Report {
        let issuers = certificate::IssuerLists::default();
        let expected = Expected {
            certificate: certificate::Expected {
                environment: Environment::Test,
                vendor_org: "974760673",
                consumer_org: "313876144",
                issuers: &issuers,
            },
            scope: "brreg:reelle/offentlig",
            client_id,
        };
        check(grant, &expected, now).unwrap()
    }

    fn line(report: &Report, name: &str) -> (Outcome, Option<&'static str>, Option<String>) {
        let line = report.lines.named(name).unwrap();
        (line.outcome, line.detail, line.found.clone())
    }

    #[test]
    fn a_kid_grant_with_the_right_claims_passes_with_its_signature_not_checked() {
        let now = 1_800_000_000;
        let report = run(
            &grant(
                serde_json::json!({"alg": "RS256", "kid": "my-key"}),
                claims(now),
            ),
            now,
            None,
        );
        assert!(report.passed(), "{report:#?}");
        assert_eq!(
            line(&report, "signature"),
            (Outcome::NotChecked, Some("kid"), None)
        );
        assert_eq!(
            line(&report, "key_header"),
            (Outcome::Passed, Some("kid"), Some("my-key".into()))
        );
        assert!(report.certificate.is_none());
    }

    #[test]
    fn each_claim_that_does_not_fit_fails_its_own_line() {
        let now = 1_800_000_000;
        let header = serde_json::json!({"alg": "RS256", "kid": "k"});
        let with = |name: &str, value: Value| {
            let mut c = claims(now);
            if value.is_null() {
                c.as_object_mut().unwrap().remove(name);
            } else {
                c[name] = value;
            }
            grant(header.clone(), c)
        };
        let cases = [
            (
                with("aud", "https://test.maskinporten.no".into()),
                "audience",
                "slash",
            ),
            (
                with("aud", "https://maskinporten.no/".into()),
                "audience",
                "other_environment",
            ),
            (
                with("aud", "https://test.maskinporten.no/token".into()),
                "audience",
                "wrong",
            ),
            (with("aud", Value::Null), "audience", "missing"),
            (
                with("iss", "https://test.maskinporten.no/".into()),
                "issuer",
                "not_client_id",
            ),
            (with("iss", "974760673".into()), "issuer", "not_client_id"),
            (with("iss", Value::Null), "issuer", "missing"),
            (
                with("scope", "brreg:reelle/rapporteringspliktig".into()),
                "scope",
                "wrong",
            ),
            (with("scope", Value::Null), "scope", "missing"),
            (
                with("consumer_org", "974760673".into()),
                "consumer_org",
                "vendor",
            ),
            (with("consumer_org", Value::Null), "consumer_org", "missing"),
            (
                with("consumer_org", 313876144.into()),
                "consumer_org",
                "not_string",
            ),
            (
                with("consumer_org", "999999999".into()),
                "consumer_org",
                "other",
            ),
            (with("exp", (now + 300).into()), "lifetime", "too_long"),
            (with("exp", now.into()), "lifetime", "not_after_iat"),
            (with("exp", Value::Null), "lifetime", "missing"),
            (with("jti", Value::Null), "jti", "missing"),
            (with("jti", "".into()), "jti", "missing"),
            // Present with the wrong type: named as such, never as missing.
            (with("iss", 42.into()), "issuer", "not_string"),
            (
                with("scope", serde_json::json!(["brreg:reelle/offentlig"])),
                "scope",
                "not_string",
            ),
            (with("jti", 7.into()), "jti", "not_string"),
            (
                with("iat", now.to_string().into()),
                "lifetime",
                "not_number",
            ),
            (
                with("exp", (now + 60).to_string().into()),
                "lifetime",
                "not_number",
            ),
        ];
        for (grant, name, detail) in cases {
            let report = run(&grant, now, None);
            let failed = report.lines.names(Outcome::Failed);
            assert_eq!(failed, [name], "{name}/{detail}: {report:#?}");
            assert_eq!(report.lines.named(name).unwrap().detail, Some(detail));
        }
    }

    #[test]
    fn keys_longer_than_the_limit_are_not_used_and_garbage_does_not_verify() {
        // (The API tests verify a right grant signed with a 4608-bit key.)
        let mut modulus = vec![0xff; MAX_RSA_BITS / 8 + 1];
        modulus[0] = 0x01;
        let huge = RsaKey {
            modulus,
            exponent: vec![1, 0, 1],
        };
        let bits = MAX_RSA_BITS + 1;
        assert_eq!(
            verify_rsa(&huge, Algorithm::RS256, b"a.b", "c2ln"),
            Err(bits)
        );
        let small = RsaKey {
            modulus: vec![0xc5; 256],
            exponent: vec![1, 0, 1],
        };
        for algorithm in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512] {
            assert_eq!(verify_rsa(&small, algorithm, b"a.b", "c2ln"), Ok(false));
            assert_eq!(verify_rsa(&small, algorithm, b"a.b", "!!"), Ok(false));
        }
    }

    #[test]
    fn a_private_key_in_x5c_refuses_the_grant() {
        let issuers = certificate::IssuerLists::default();
        let expected = Expected {
            certificate: certificate::Expected {
                environment: Environment::Test,
                vendor_org: "974760673",
                consumer_org: "313876144",
                issuers: &issuers,
            },
            scope: "brreg:reelle/offentlig",
            client_id: None,
        };
        let now = 1_800_000_000;
        // SEQUENCE { INTEGER, INTEGER, INTEGER }: the start of a PKCS#1 private key.
        let header = serde_json::json!({"alg": "RS256", "x5c": ["MAkCAQACAQECAQE="]});
        let refused = check(&grant(header, claims(now)), &expected, now);
        assert_eq!(refused.unwrap_err(), Refusal::PrivateKey);
        let header = serde_json::json!({"alg": "RS256", "x5c": ["MIIB", "MIACAQMEAQAAAA=="]});
        let refused = check(&grant(header, claims(now)), &expected, now);
        assert_eq!(refused.unwrap_err(), Refusal::PrivateKey);
    }

    #[test]
    fn claims_maskinporten_does_not_document_are_named_without_failing() {
        let now = 1_800_000_000;
        let header = serde_json::json!({"alg": "RS256", "kid": "k"});
        let report = run(&grant(header.clone(), claims(now)), now, None);
        assert_eq!(line(&report, "claims"), (Outcome::Passed, None, None));
        let mut extra = claims(now);
        extra["nbf"] = now.into();
        extra["client_id"] = "x".into();
        extra["resource"] = serde_json::json!(["https://api.example.no/"]);
        let report = run(&grant(header, extra), now, None);
        assert!(report.passed(), "{report:#?}");
        assert_eq!(
            line(&report, "claims"),
            (
                Outcome::Passed,
                Some("unknown"),
                Some("client_id, nbf".into())
            )
        );
    }

    #[test]
    fn the_time_window_is_judged_by_the_grant_s_own_iat() {
        let now = 1_800_000_000;
        let header = serde_json::json!({"alg": "RS256", "kid": "k"});
        // Made an hour ago with a right window: it has expired, which this check allows.
        let old = grant(header.clone(), claims(now - 3600));
        let report = run(&old, now, None);
        assert!(report.passed(), "{report:#?}");
        assert_eq!(line(&report, "lifetime").1, Some("expired"));
        // iat ahead of our clock by more than the leeway.
        let ahead = grant(header.clone(), claims(now + 60));
        let report = run(&ahead, now, None);
        assert_eq!(
            line(&report, "issued_at"),
            (Outcome::Failed, Some("future"), Some("60".into()))
        );
        assert_eq!(line(&report, "lifetime").0, Outcome::Passed);
        let within = grant(header, claims(now + 5));
        assert!(run(&within, now, None).passed());
    }

    #[test]
    fn the_order_s_client_id_is_held_against_iss_when_there_is_one() {
        let now = 1_800_000_000;
        let header = serde_json::json!({"alg": "RS256", "kid": "k"});
        let good = grant(header, claims(now));
        assert!(run(&good, now, Some("0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b")).passed());
        let report = run(&good, now, Some("another-client"));
        assert_eq!(line(&report, "issuer").1, Some("other_client"));
    }

    #[test]
    fn what_is_not_a_grant_fails_the_format_and_nothing_else_is_checked() {
        let now = 1_800_000_000;
        let access_token = grant(
            serde_json::json!({"alg": "RS256", "kid": "k"}),
            serde_json::json!({"token_type": "Bearer", "iss": "https://test.maskinporten.no/"}),
        );
        for (text, detail) in [
            ("", "not_jws"),
            ("a.b", "not_jws"),
            ("a.b.c.d.e", "not_jws"),
            ("!!.??.##", "not_jws"),
            (access_token.as_str(), "access_token"),
        ] {
            let report = run(text, now, None);
            assert_eq!(line(&report, "format").1, Some(detail), "{text}");
            assert_eq!(report.lines.names(Outcome::Failed), ["format"]);
            assert_eq!(
                report.lines.names(Outcome::NotChecked).len(),
                CHECKS.len() - 1
            );
        }
    }

    #[test]
    fn unsigned_or_hmac_grants_fail_the_algorithm_and_their_signature_is_not_checked() {
        let now = 1_800_000_000;
        for alg in ["none", "HS256"] {
            let report = run(
                &grant(serde_json::json!({"alg": alg, "kid": "k"}), claims(now)),
                now,
                None,
            );
            assert_eq!(
                line(&report, "algorithm"),
                (Outcome::Failed, Some("unsupported"), Some(alg.into()))
            );
            assert_eq!(line(&report, "signature").1, Some("algorithm"));
            assert_eq!(report.lines.names(Outcome::Failed), ["algorithm"]);
        }
        let report = run(
            &grant(serde_json::json!({"alg": "RS256"}), claims(now)),
            now,
            None,
        );
        assert_eq!(line(&report, "key_header").1, Some("missing"));
        let report = run(
            &grant(
                serde_json::json!({"alg": "RS256", "x5c": "MIIB"}),
                claims(now),
            ),
            now,
            None,
        );
        assert_eq!(line(&report, "key_header").1, Some("x5c_invalid"));
        let report = run(
            &grant(
                serde_json::json!({"alg": "RS256", "x5c": ["***"]}),
                claims(now),
            ),
            now,
            None,
        );
        assert_eq!(line(&report, "certificate").1, Some("not_base64"));
        assert_eq!(line(&report, "signature").1, Some("no_key"));
    }
}
