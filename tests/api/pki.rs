//! Test certificates made in the test: certificate authorities named as Buypass's test and
//! production CAs, and business certificates (virksomhetssertifikat) issued by them, with
//! RSA keys from the `rsa` crate signed through rcgen's `SigningKey` (ring cannot make RSA
//! keys, and refuses to sign with short ones).

use std::sync::OnceLock;

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyUsagePurpose,
    PublicKeyData, SignatureAlgorithm, SigningKey,
};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::signature::{SignatureEncoding, Signer};

/// The vendor and customer of `valid_json()`.
pub const VENDOR: &str = "974760673";
pub const CONSUMER: &str = "313876144";

pub const TEST_CA: &str = "Buypass Class 3 Test4 CA G2 ST Business";
pub const PRODUCTION_CA: &str = "Buypass Class 3 CA G2 ST Business";
pub const UNKNOWN_CA: &str = "Acme Internal Issuing CA";

/// An RSA key that rcgen can sign with.
pub struct RsaKey {
    pub key: rsa::RsaPrivateKey,
    public_der: Vec<u8>,
}

impl RsaKey {
    pub fn new(bits: usize) -> RsaKey {
        let key = generated_by_openssl(bits)
            .unwrap_or_else(|| rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).unwrap());
        let public_der = key.to_public_key().to_pkcs1_der().unwrap().into_vec();
        RsaKey { key, public_der }
    }

    /// The key as a JWT is signed with it.
    pub fn encoding_key(&self) -> jsonwebtoken::EncodingKey {
        let der = self.key.to_pkcs1_der().unwrap();
        jsonwebtoken::EncodingKey::from_rsa_der(der.as_bytes())
    }

    /// The private key as a vendor might paste it by mistake (PKCS#8 PEM).
    pub fn private_pem(&self) -> String {
        use rsa::pkcs8::EncodePrivateKey;
        self.key
            .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string()
    }
}

/// A key made by the `openssl` command when there is one: it makes a 4608-bit key in about a
/// second, where the `rsa` crate in a debug build takes far longer.
fn generated_by_openssl(bits: usize) -> Option<rsa::RsaPrivateKey> {
    use rsa::pkcs8::DecodePrivateKey;
    let output = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt"])
        .arg(format!("rsa_keygen_bits:{bits}"))
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let pem = String::from_utf8(output.stdout).ok()?;
    rsa::RsaPrivateKey::from_pkcs8_pem(&pem).ok()
}

impl PublicKeyData for RsaKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public_der
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl SigningKey for RsaKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(self.key.clone());
        Ok(signer.sign(msg).to_vec())
    }
}

/// Keys made once per test run: RSA key generation is slow.
pub fn key(which: Key) -> &'static RsaKey {
    static KEYS: [OnceLock<RsaKey>; 5] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    let bits = match which {
        Key::Short => 1024,
        Key::Long => 4608,
        _ => 2048,
    };
    KEYS[which as usize].get_or_init(|| RsaKey::new(bits))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Vendor = 0,
    /// Another key of the vendor's: signs a grant whose x5c holds the other certificate.
    Other = 1,
    Authority = 2,
    Short = 3,
    /// Longer than the 4096 bits jsonwebtoken's backend verifies with.
    Long = 4,
}

/// A certificate authority's parameters (all test CAs share one key).
fn authority(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Buypass AS-983163327");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// The CA's own certificate, for a chain.
pub fn authority_certificate(name: &str) -> rcgen::Certificate {
    authority(name).self_signed(key(Key::Authority)).unwrap()
}

/// An intermediate CA's certificate, issued by the CA named `by`.
pub fn intermediate_certificate(name: &str, by: &str) -> rcgen::Certificate {
    let issuer_params = authority(by);
    let issuer = Issuer::from_params(&issuer_params, key(Key::Authority));
    authority(name)
        .signed_by(key(Key::Authority), &issuer)
        .unwrap()
}

/// What a business certificate says; [`Leaf::default`] is the vendor's, valid, from the
/// test CA, for signing.
#[derive(Clone)]
pub struct Leaf {
    pub issuer: &'static str,
    /// In `organizationIdentifier` as `NTRNO-...` (SEID 2), unless `seid1`.
    pub org_number: Option<String>,
    /// The older profile: the number in `serialNumber`.
    pub seid1: bool,
    /// (year, month, day) of not-before and not-after.
    pub valid: ((i32, u8, u8), (i32, u8, u8)),
    pub key: Key,
    pub key_usages: Vec<KeyUsagePurpose>,
}

impl Default for Leaf {
    fn default() -> Self {
        Leaf {
            issuer: TEST_CA,
            org_number: Some(VENDOR.to_owned()),
            seid1: false,
            valid: ((2024, 1, 1), (2099, 1, 1)),
            key: Key::Vendor,
            key_usages: vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ],
        }
    }
}

impl Leaf {
    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::default();
        let ((y1, m1, d1), (y2, m2, d2)) = self.valid;
        params.not_before = rcgen::date_time_ymd(y1, m1, d1);
        params.not_after = rcgen::date_time_ymd(y2, m2, d2);
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CountryName, "NO");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "LEVERANDØR SYSTEMER AS");
        params
            .distinguished_name
            .push(DnType::CommonName, "LEVERANDØR SYSTEMER AS");
        if let Some(number) = &self.org_number {
            let (oid, value) = if self.seid1 {
                (vec![2, 5, 4, 5], number.clone())
            } else {
                (vec![2, 5, 4, 97], format!("NTRNO-{number}"))
            };
            params
                .distinguished_name
                .push(DnType::CustomDnType(oid), value);
        }
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = self.key_usages.clone();
        params
    }

    pub fn certificate(&self) -> rcgen::Certificate {
        let issuer_params = authority(self.issuer);
        let issuer = Issuer::from_params(&issuer_params, key(Key::Authority));
        self.params().signed_by(key(self.key), &issuer).unwrap()
    }

    pub fn pem(&self) -> String {
        self.certificate().pem()
    }

    /// The certificate's DER in standard base64, as a `.cer` file's base64 and in `x5c`.
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.certificate().der())
    }

    /// A certificate signing request with the same subject, by the leaf's key.
    pub fn csr_pem(&self) -> String {
        self.params()
            .serialize_request(key(self.key))
            .unwrap()
            .pem()
            .unwrap()
    }
}

/// The date `days` from today, for a certificate that expires soon.
pub fn days_from_now(days: i64) -> (i32, u8, u8) {
    use chrono::Datelike;
    let date = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
    (date.year(), date.month() as u8, date.day() as u8)
}

/// A JWT grant for the valid test order, signed by `key` with `header`'s key reference.
pub struct Grant {
    pub header: jsonwebtoken::Header,
    pub claims: serde_json::Value,
    pub key: Key,
}

impl Grant {
    /// The right grant: RS256 with the vendor's test certificate in x5c, made now.
    pub fn right() -> Grant {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.x5c = Some(vec![Leaf::default().base64()]);
        Grant {
            header,
            claims: grant_claims(chrono::Utc::now().timestamp()),
            key: Key::Vendor,
        }
    }

    /// The same grant with `name` set to `value`, or removed when `value` is null.
    pub fn with(mut self, name: &str, value: serde_json::Value) -> Grant {
        if value.is_null() {
            self.claims.as_object_mut().unwrap().remove(name);
        } else {
            self.claims[name] = value;
        }
        self
    }

    pub fn signed(&self) -> String {
        jsonwebtoken::encode(&self.header, &self.claims, &key(self.key).encoding_key()).unwrap()
    }
}

pub fn grant_claims(now: i64) -> serde_json::Value {
    serde_json::json!({
        "aud": "https://test.maskinporten.no/",
        "iss": "0f9a1c7e-4b8e-4d9a-9c1f-2b7e3d4c5a6b",
        "scope": "brreg:reelle/offentlig",
        "consumer_org": CONSUMER,
        "iat": now,
        "exp": now + 120,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

/// A grant with a header and claims of its own, and a made-up signature: for the headers
/// jsonwebtoken will not sign (`alg: none`).
pub fn unsigned(header: serde_json::Value, claims: &serde_json::Value) -> String {
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!("{}.{}.", b64(&header), b64(claims))
}
