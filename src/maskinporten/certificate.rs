//! The certificate check on the vendor's page: a pasted virksomhetssertifikat (PEM, or the
//! base64 of a `.cer`) is read and held against the order, one line per check, so the vendor
//! finds the known mistakes (a production certificate in test, another organisation's
//! certificate, a short key) before Maskinporten refuses it. Pure: text in, report out; the
//! grant check runs the same checks on the certificate in a grant's `x5c`.
//!
//! Nothing pasted is kept: a private key is refused before anything else is read.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::der_parser::ber::BerObjectContent;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::{SubjectPublicKeyInfo, X509Name};

use super::lines::{Lines, Recorder};
use crate::domain::Environment;

/// The checks in the order of the page, each with the details its text can have
/// (`track.cert.{name}.label`, `track.cert.{name}.{detail}`).
pub const CHECKS: [(&str, &[&str]); 6] = [
    (
        "parse",
        &[
            "garbage",
            "jwt",
            "csr",
            "public_key",
            "pkcs7",
            "other_pem",
            "unreadable",
            "chain",
            "chain_order",
        ],
    ),
    ("validity", &["not_yet", "expired", "expires_soon"]),
    ("organisation", &["missing", "consumer", "other"]),
    (
        "issuer",
        &[
            "issued_by",
            "production_in_test",
            "test_in_production",
            "unknown",
        ],
    ),
    ("key", &["not_rsa", "too_short"]),
    (
        "key_usage",
        &["missing", "no_digital_signature", "unreadable"],
    ),
];

/// The shortest RSA key accepted.
pub const MIN_RSA_BITS: usize = 2048;
/// A certificate that expires within this many days gets a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Which certificate authorities are test CAs and which are production CAs: names found at
/// the start of a word, case-insensitively, in the issuer's CN and O; test names win.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerLists {
    pub test: Vec<String>,
    pub production: Vec<String>,
}

impl Default for IssuerLists {
    /// Buypass's test CAs carry "Test4" in their names and Commfides' "TEST"; the production
    /// names are the current CA generations of both (`shared/reference/domain.md`).
    fn default() -> Self {
        IssuerLists {
            test: ["Test4", "TEST"].map(String::from).to_vec(),
            production: [
                "Buypass Class 3 CA 3",
                "Buypass Class 3 CA G2 ST Business",
                "Buypass Class 3 CA G2 HT Business",
                "Commfides CPN Enterprise-Norwegian SHA256 CA",
                "Commfides Legal Person - G3",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

impl IssuerLists {
    /// A comma-separated list, as the settings give it; empty entries are dropped.
    pub fn parse_list(list: &str) -> Vec<String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The environment whose CA issued a certificate with these issuer names, if known.
    pub fn environment_of(&self, names: &[String]) -> Option<Environment> {
        let matches = |list: &[String]| {
            list.iter().any(|wanted| {
                let wanted = wanted.to_lowercase();
                names
                    .iter()
                    .any(|name| starts_a_word(&name.to_lowercase(), &wanted))
            })
        };
        if matches(&self.test) {
            Some(Environment::Test)
        } else if matches(&self.production) {
            Some(Environment::Production)
        } else {
            None
        }
    }
}

/// Whether `wanted` occurs in `name` at the start of a word: "TEST" is in "CA - TEST2" but
/// not in "Attestation CA" or "Latest Root", which a plain substring match took for test CAs.
fn starts_a_word(name: &str, wanted: &str) -> bool {
    name.match_indices(wanted).any(|(at, _)| {
        name[..at]
            .chars()
            .next_back()
            .is_none_or(|before| !before.is_alphanumeric())
    })
}

/// What the certificate must be for this order.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub environment: Environment,
    /// The vendor signs with its own certificate.
    pub vendor_org: &'a str,
    /// Named when it is the customer's certificate instead, a known mistake.
    pub consumer_org: &'a str,
    pub issuers: &'a IssuerLists,
}

/// Why a paste is not checked at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A private key (or a file that holds one, such as a `.p12`) was pasted.
    PrivateKey,
}

/// The certificate's RSA key, for verifying a grant's signature with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaKey {
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
}

/// The report on one certificate, and its RSA key when it has one.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub lines: Lines,
    pub rsa_key: Option<RsaKey>,
}

/// Checks a pasted certificate (or chain) at `now` (Unix seconds). A private key anywhere
/// in the paste refuses the whole of it.
pub fn check_pasted(text: &str, expected: &Expected, now: i64) -> Result<Inspection, Refusal> {
    if holds_private_key(text) {
        return Err(Refusal::PrivateKey);
    }
    let mut report = Recorder::new();
    let ders = match read_paste(text)? {
        Ok(ders) => ders,
        Err((detail, found)) => {
            report.fail("parse", detail, found);
            return Ok(unreadable(report));
        }
    };
    let certificates: Vec<X509Certificate> = ders
        .iter()
        .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
        .collect();
    if certificates.is_empty() || certificates.len() < ders.len() {
        // A block that says it is a certificate and is not one.
        report.fail("parse", "unreadable", None);
        return Ok(unreadable(report));
    }
    let leaf = leaf_of(&certificates);
    let count = Some(certificates.len().to_string());
    if certificates.len() == 1 {
        report.pass("parse");
    } else if leaf == 0 && in_order(&certificates) {
        report.note("parse", "chain", count);
    } else {
        report.note("parse", "chain_order", count);
    }
    Ok(inspect(&certificates[leaf], expected, now, report))
}

/// Whether each certificate of a chain is issued by the next (RFC 5246 and RFC 7515 both
/// want that order). Where the leaf is does not say it: leaf, root, intermediate is not.
fn in_order(certificates: &[X509Certificate]) -> bool {
    certificates
        .windows(2)
        .all(|pair| pair[0].issuer().as_raw() == pair[1].subject().as_raw())
}

/// Checks the certificates of a grant's `x5c`, each in DER, in the header's order: the
/// checks on the certificate that signs (the leaf, wherever it is), and its index; `Err`
/// when an entry is a private key. Maskinporten
/// takes the first as the signer's, so an index other than 0 is the vendor's mistake to fix;
/// the checks on the leaf still tell whether the certificate itself will do.
pub fn check_x5c(
    ders: &[Vec<u8>],
    expected: &Expected,
    now: i64,
) -> Result<(Inspection, usize), Refusal> {
    for der in ders {
        // A private key put in x5c by mistake refuses the grant, as a pasted one does.
        classify_der(der)?;
    }
    let parsed: Vec<(usize, X509Certificate)> = ders
        .iter()
        .enumerate()
        .filter_map(|(i, der)| X509Certificate::from_der(der).ok().map(|(_, c)| (i, c)))
        .collect();
    if parsed.first().is_none_or(|(i, _)| *i != 0) {
        // The first is not a certificate: that is what the vendor must fix first.
        return Ok((check_der(&ders[0], expected, now), 0));
    }
    let (indices, certificates): (Vec<usize>, Vec<X509Certificate>) = parsed.into_iter().unzip();
    let leaf = leaf_of(&certificates);
    let mut report = Recorder::new();
    report.pass("parse");
    Ok((
        inspect(&certificates[leaf], expected, now, report),
        indices[leaf],
    ))
}

/// Checks one certificate in DER.
fn check_der(der: &[u8], expected: &Expected, now: i64) -> Inspection {
    let mut report = Recorder::new();
    match X509Certificate::from_der(der) {
        Ok((_, certificate)) => {
            report.pass("parse");
            inspect(&certificate, expected, now, report)
        }
        Err(_) => {
            let detail = match classify_der(der) {
                Ok(Some(detail)) => detail,
                // A private key was refused before this (`check_x5c`).
                Ok(None) | Err(Refusal::PrivateKey) => "unreadable",
            };
            report.fail("parse", detail, None);
            unreadable(report)
        }
    }
}

fn unreadable(report: Recorder) -> Inspection {
    Inspection {
        lines: report.finish(&CHECKS),
        rsa_key: None,
    }
}

/// Every check after `parse`, on the certificate that was read.
fn inspect(
    certificate: &X509Certificate,
    expected: &Expected,
    now: i64,
    mut report: Recorder,
) -> Inspection {
    check_validity(certificate, now, &mut report);
    check_organisation(certificate, expected, &mut report);
    check_issuer(certificate, expected, &mut report);
    let rsa_key = check_key(certificate, &mut report);
    check_key_usage(certificate, &mut report);
    Inspection {
        lines: report.finish(&CHECKS),
        rsa_key,
    }
}

/// A time as the report shows it: RFC 3339 in UTC, turned into local time by the page.
pub fn time_text(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn check_validity(certificate: &X509Certificate, now: i64, report: &mut Recorder) {
    let validity = certificate.validity();
    let (from, to) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if now < from {
        report.fail("validity", "not_yet", time_text(from));
    } else if now > to {
        report.fail("validity", "expired", time_text(to));
    } else if to - now < EXPIRY_WARNING_DAYS * 86_400 {
        report.note("validity", "expires_soon", time_text(to));
    } else {
        report.pass("validity");
    }
}

fn check_organisation(certificate: &X509Certificate, expected: &Expected, report: &mut Recorder) {
    match organisation_number(certificate.subject()) {
        None => report.fail("organisation", "missing", None),
        Some(number) if number == expected.vendor_org => report.pass("organisation"),
        Some(number) if number == expected.consumer_org => {
            report.fail("organisation", "consumer", Some(number))
        }
        Some(number) => report.fail("organisation", "other", Some(number)),
    }
}

/// The organisation number in a Norwegian enterprise certificate's subject: SEID 2 writes it
/// in `organizationIdentifier` as `NTRNO-<orgnr>`, SEID 1 in `serialNumber` as nine digits.
pub fn organisation_number(subject: &X509Name) -> Option<String> {
    let values = |oid: &str| -> Vec<String> {
        subject
            .iter_attributes()
            .filter(|a| a.attr_type().to_id_string() == oid)
            .filter_map(|a| a.as_str().ok().map(str::trim).map(str::to_owned))
            .collect()
    };
    let nine_digits = |s: &str| s.len() == 9 && s.bytes().all(|b| b.is_ascii_digit());
    let seid2 = values("2.5.4.97").into_iter().find_map(|v| {
        let number = v
            .get(..6)?
            .eq_ignore_ascii_case("NTRNO-")
            .then(|| v[6..].to_owned())?;
        nine_digits(&number).then_some(number)
    });
    seid2.or_else(|| values("2.5.4.5").into_iter().find(|v| nine_digits(v)))
}

/// The issuer's CN and O values, the names the issuer lists are matched against.
fn issuer_names(certificate: &X509Certificate) -> Vec<String> {
    let issuer = certificate.issuer();
    issuer
        .iter_common_name()
        .chain(issuer.iter_organization())
        .filter_map(|a| a.as_str().ok().map(str::to_owned))
        .collect()
}

fn check_issuer(certificate: &X509Certificate, expected: &Expected, report: &mut Recorder) {
    let names = issuer_names(certificate);
    // The CN names the CA; without one, the whole name.
    let shown = names
        .first()
        .cloned()
        .unwrap_or_else(|| certificate.issuer().to_string());
    match expected.issuers.environment_of(&names) {
        None => report.skip("issuer", "unknown", Some(shown)),
        Some(found) if found == expected.environment => {
            report.note("issuer", "issued_by", Some(shown))
        }
        Some(Environment::Production) => report.fail("issuer", "production_in_test", Some(shown)),
        Some(Environment::Test) => report.fail("issuer", "test_in_production", Some(shown)),
    }
}

/// Bits of a big-endian unsigned integer, leading zero bytes and bits not counted.
fn bit_length(bytes: &[u8]) -> usize {
    let significant: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(at) => &bytes[at..],
        None => return 0,
    };
    (significant.len() - 1) * 8 + (8 - significant[0].leading_zeros() as usize)
}

fn check_key(certificate: &X509Certificate, report: &mut Recorder) -> Option<RsaKey> {
    match certificate.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = bit_length(rsa.modulus);
            if bits < MIN_RSA_BITS {
                report.fail("key", "too_short", Some(bits.to_string()));
            } else {
                report.pass("key");
            }
            Some(RsaKey {
                modulus: rsa.modulus.to_vec(),
                exponent: rsa.exponent.to_vec(),
            })
        }
        Ok(PublicKey::EC(_)) => {
            report.fail("key", "not_rsa", Some("EC".into()));
            None
        }
        _ => {
            let oid = certificate.public_key().algorithm.algorithm.to_id_string();
            report.fail("key", "not_rsa", Some(oid));
            None
        }
    }
}

fn check_key_usage(certificate: &X509Certificate, report: &mut Recorder) {
    match certificate.key_usage() {
        Ok(Some(usage)) if usage.value.digital_signature() => report.pass("key_usage"),
        Ok(Some(usage)) => report.fail(
            "key_usage",
            "no_digital_signature",
            Some(usage.value.to_string()),
        ),
        // RFC 5280 would let such a key be used for anything, but Norwegian enterprise
        // certificates always carry key usage, and the one to sign with says
        // digitalSignature: one without it is not the certificate to sign grants with.
        Ok(None) => report.fail("key_usage", "missing", None),
        Err(_) => report.fail("key_usage", "unreadable", None),
    }
}

/// The certificate a chain is for: the one that issued none of the others; of several such,
/// one that is not a CA. Index into `certificates`.
fn leaf_of(certificates: &[X509Certificate]) -> usize {
    let issued_another = |candidate: &X509Certificate| {
        certificates.iter().any(|other| {
            !std::ptr::eq(other, candidate)
                && other.issuer().as_raw() == candidate.subject().as_raw()
        })
    };
    let leaves: Vec<usize> = (0..certificates.len())
        .filter(|&i| !issued_another(&certificates[i]))
        .collect();
    leaves
        .iter()
        .copied()
        .find(|&i| !certificates[i].is_ca())
        .or_else(|| leaves.first().copied())
        .unwrap_or(0)
}

/// Whether the text holds a private key in any of the forms people paste: a PEM block (PKCS#1,
/// PKCS#8, encrypted, OpenSSH, EC) or a JWK with its private part `d`, alone or in a set.
/// The base64 of a DER key is found when the paste is read.
pub fn holds_private_key(text: &str) -> bool {
    if text.to_ascii_uppercase().contains("PRIVATE KEY") {
        return true;
    }
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text.trim()) else {
        return false;
    };
    // A JWK, or a JWK set (`{"keys": [...]}`) as a key tool exports it, private parts and all.
    let private = |jwk: &serde_json::Value| jwk.get("d").is_some();
    private(&json)
        || json
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|keys| keys.iter().any(private))
}

/// A failure of the `parse` check: its detail, and what was found.
type Unparsed = (&'static str, Option<String>);

/// The DER of every certificate in the paste, or why there is none. `Err` refuses the paste.
fn read_paste(text: &str) -> Result<Result<Vec<Vec<u8>>, Unparsed>, Refusal> {
    let blocks = pem_blocks(text);
    if blocks.is_empty() {
        return read_base64(text);
    }
    let mut certificates = Vec::new();
    let mut other = None;
    for (label, der) in blocks {
        match label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => match der {
                Some(der) => certificates.push(der),
                None => return Ok(Err(("unreadable", None))),
            },
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                other.get_or_insert(("csr", None));
            }
            "PUBLIC KEY" | "RSA PUBLIC KEY" => {
                other.get_or_insert(("public_key", None));
            }
            "PKCS7" | "CMS" => {
                other.get_or_insert(("pkcs7", None));
            }
            _ => {
                other.get_or_insert(("other_pem", Some(label)));
            }
        }
    }
    Ok(match (certificates.is_empty(), other) {
        (false, _) => Ok(certificates),
        (true, Some(other)) => Err(other),
        (true, None) => Err(("garbage", None)),
    })
}

/// A paste without PEM armour: the base64 of a `.cer` (DER), or something else.
fn read_base64(text: &str) -> Result<Result<Vec<Vec<u8>>, Unparsed>, Refusal> {
    let compact: String = text.split_whitespace().collect();
    if compact.split('.').count() == 3 && compact.starts_with("eyJ") {
        return Ok(Err(("jwt", None)));
    }
    let Some(der) = decode_base64(&compact) else {
        return Ok(Err(("garbage", None)));
    };
    Ok(match classify_der(&der)? {
        None => Ok(vec![der]),
        Some(detail) => Err((detail, None)),
    })
}

/// What a DER structure is: `None` for a certificate, the parse detail for anything else.
/// `Err` for a private key: the two-integer RSA public key aside, a structure that starts
/// with an INTEGER is a private key (PKCS#1, PKCS#8) or a PKCS#12 file that holds one, and an
/// algorithm followed by an OCTET STRING is an encrypted private key.
fn classify_der(der: &[u8]) -> Result<Option<&'static str>, Refusal> {
    if X509Certificate::from_der(der).is_ok() {
        return Ok(None);
    }
    if X509CertificationRequest::from_der(der).is_ok() {
        return Ok(Some("csr"));
    }
    if matches!(SubjectPublicKeyInfo::from_der(der), Ok((rest, _)) if rest.is_empty()) {
        return Ok(Some("public_key"));
    }
    // A .p12 exported by some tools (Java's keytool, Windows) is BER with indefinite lengths,
    // which a DER parser refuses; BER is read too, and what even that cannot read is judged
    // by the tag of its first element.
    let parsed = x509_parser::der_parser::parse_der(der)
        .or_else(|_| x509_parser::der_parser::parse_ber(der));
    let Ok((_, object)) = parsed else {
        return match first_inner_tag(der) {
            Some(INTEGER_TAG) => Err(Refusal::PrivateKey),
            _ => Ok(Some("garbage")),
        };
    };
    let Ok(items) = object.as_sequence() else {
        return Ok(Some("garbage"));
    };
    let content = |i: usize| items.get(i).map(|item| &item.content);
    match (content(0), content(1), items.len()) {
        (Some(BerObjectContent::Integer(_)), Some(BerObjectContent::Integer(_)), 2) => {
            Ok(Some("public_key"))
        }
        (Some(BerObjectContent::Integer(_)), _, _) => Err(Refusal::PrivateKey),
        (Some(BerObjectContent::Sequence(_)), Some(BerObjectContent::OctetString(_)), 2) => {
            Err(Refusal::PrivateKey)
        }
        (Some(BerObjectContent::OID(oid)), _, _)
            if oid.to_id_string() == "1.2.840.113549.1.7.2" =>
        {
            Ok(Some("pkcs7"))
        }
        _ => Ok(Some("garbage")),
    }
}

const INTEGER_TAG: u8 = 0x02;

/// The tag of the first element inside an outer SEQUENCE, read from the bytes alone: its
/// length in short, long or indefinite (BER) form is skipped, not trusted.
fn first_inner_tag(der: &[u8]) -> Option<u8> {
    if *der.first()? != 0x30 {
        return None;
    }
    let length = *der.get(1)?;
    let skip = match length {
        0x80 => 2,
        long if long & 0x80 != 0 => 2 + usize::from(long & 0x7f),
        _ => 2,
    };
    der.get(skip).copied()
}

/// Standard base64, with or without padding (people trim it).
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT
        .decode(text)
        .ok()
        .or_else(|| general_purpose::URL_SAFE_NO_PAD.decode(text).ok())
}

/// The PEM blocks in `text`: each label with its decoded contents (`None` when the base64
/// does not decode). Lines are trimmed, as a paste from an email or a web page indents them;
/// header lines inside a block (`Proc-Type: ...`) are skipped.
fn pem_blocks(text: &str) -> Vec<(String, Option<Vec<u8>>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines().map(str::trim) {
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        {
            current = Some((label.trim().to_ascii_uppercase(), String::new()));
        } else if line.starts_with("-----END ") {
            if let Some((label, body)) = current.take() {
                blocks.push((label, decode_base64(&body)));
            }
        } else if let Some((_, body)) = current.as_mut()
            && !line.contains(':')
        {
            body.push_str(line);
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maskinporten::Outcome;

    #[test]
    fn every_detail_recorded_is_listed_and_every_listed_one_is_recorded() {
        // `parse` failures are read as values (`Unparsed`); the next tests cover each.
        super::super::lines::assert_recorded_match(
            include_str!("certificate.rs"),
            &CHECKS,
            &["parse"],
        );
    }

    fn expected(issuers: &IssuerLists) -> Expected<'_> {
        Expected {
            environment: Environment::Test,
            vendor_org: "974760673",
            consumer_org: "313876144",
            issuers,
        }
    }

    #[test]
    fn issuer_names_are_matched_case_insensitively_and_test_names_win() {
        let lists = IssuerLists::default();
        let env = |name: &str| lists.environment_of(&[name.to_owned()]);
        assert_eq!(
            env("Buypass Class 3 Test4 CA G2 ST Business"),
            Some(Environment::Test)
        );
        assert_eq!(
            env("Commfides Legal Person - G3 - TEST"),
            Some(Environment::Test)
        );
        assert_eq!(
            env("buypass class 3 ca g2 st business"),
            Some(Environment::Production)
        );
        assert_eq!(
            env("Commfides Legal Person - G3"),
            Some(Environment::Production)
        );
        assert_eq!(env("Let's Encrypt R3"), None);
        // The names match at the start of a word only.
        assert_eq!(
            env("Commfides CPN Enterprise-Norwegian SHA256 CA - TEST2"),
            Some(Environment::Test)
        );
        assert_eq!(env("Attestation Services CA"), None);
        assert_eq!(env("Latest Issuing CA"), None);
        assert_eq!(
            IssuerLists::parse_list(" Test4 , ,Staging CA,"),
            ["Test4", "Staging CA"]
        );
    }

    #[test]
    fn private_keys_are_refused_in_every_form_people_paste() {
        let issuers = IssuerLists::default();
        let expected = expected(&issuers);
        for paste in [
            "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----",
            r#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}"#,
            // A JWK set with a private key in it, as key tools export one.
            r#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB","d":"AQAB"}]}"#,
            // The base64 of a DER structure that starts with an INTEGER (PKCS#1/PKCS#8/.p12).
            "MAkCAQACAQECAQE=",
            // A .p12 in BER, with indefinite lengths: SEQUENCE { INTEGER 3, OCTET STRING }.
            "MIACAQMEAQAAAA==",
            // BER that no parser reads whole, but whose first element is an INTEGER.
            "MIACAQMwgAYF//8=",
        ] {
            assert_eq!(
                check_pasted(paste, &expected, 0).unwrap_err(),
                Refusal::PrivateKey,
                "{paste}"
            );
        }
    }

    #[test]
    fn what_is_not_a_certificate_fails_the_parse_check_with_what_it_is() {
        let issuers = IssuerLists::default();
        let expected = expected(&issuers);
        let mut seen = vec!["chain", "chain_order"];
        for (paste, detail) in [
            ("hello", "garbage"),
            ("", "garbage"),
            ("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln", "jwt"),
            (
                "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----",
                "csr",
            ),
            (
                "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
                "public_key",
            ),
            ("-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----", "pkcs7"),
            (
                "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----",
                "unreadable",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "unreadable",
            ),
            ("-----BEGIN X-----\nAAAA\n-----END X-----", "other_pem"),
            // Two INTEGERs: an RSA public key in PKCS#1.
            ("MAYCAQECAQE=", "public_key"),
        ] {
            let inspection = check_pasted(paste, &expected, 0).unwrap();
            let lines = &inspection.lines.0;
            assert_eq!(lines.len(), CHECKS.len());
            assert_eq!(lines[0].outcome, Outcome::Failed, "{paste}");
            assert_eq!(lines[0].detail, Some(detail), "{paste}");
            assert!(
                lines[1..].iter().all(|l| l.outcome == Outcome::NotChecked),
                "{paste}"
            );
            assert!(inspection.rsa_key.is_none());
            seen.push(detail);
        }
        // Every failure of `parse` is among these (its notes are in the API tests).
        for detail in CHECKS[0].1 {
            assert!(seen.contains(detail), "{detail}");
        }
    }

    #[test]
    fn a_jwk_set_of_public_keys_is_not_taken_for_a_private_key() {
        assert!(!holds_private_key(
            r#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}"#
        ));
        assert_eq!(first_inner_tag(&[0x30, 0x82, 0x01, 0x00, 0x02]), Some(0x02));
        assert_eq!(first_inner_tag(&[0x30, 0x80, 0x06]), Some(0x06));
        assert_eq!(first_inner_tag(&[0x31, 0x03, 0x02]), None);
    }

    #[test]
    fn key_lengths_count_significant_bits_only() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x7f, 0xff]), 15);
        assert_eq!(bit_length(&[0, 0]), 0);
        assert_eq!(bit_length(&[]), 0);
    }
}
