//! A submission that may arrive twice: its key (the API's `Idempotency-Key` header or the
//! form's one-time submission id) and the fingerprint of what was submitted under it.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Where a key was given: keys of the API and of the form never meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyScope {
    Api,
    Form,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Api => "api",
            KeyScope::Form => "form",
        }
    }
}

/// A client's idempotency key: 1 to 255 visible ASCII characters (no space), as the client
/// chose them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Option<Self> {
        let visible = |b: &u8| (0x21..=0x7e).contains(b);
        (!raw.is_empty() && raw.len() <= Self::MAX_LEN && raw.bytes().all(|b| visible(&b)))
            .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One submission under a key: the key, where it was given, and the SHA-256 (hex) of the
/// canonical JSON of what was submitted, so a retry of the same order is told from a
/// different order under the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub scope: KeyScope,
    pub key: IdempotencyKey,
    pub request_hash: String,
}

impl Submission {
    pub fn new(scope: KeyScope, key: IdempotencyKey, request: &Value) -> Self {
        let request_hash = hex::encode(Sha256::digest(canonical_json(request).as_bytes()));
        Self {
            scope,
            key,
            request_hash,
        }
    }
}

/// The JSON text of `value` with every object's keys sorted and no whitespace, so the same
/// JSON written with other key order or spacing gives the same text. Sorted here rather than
/// left to serde_json's map, whose order depends on a feature another crate may turn on.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse("a").is_some());
        assert!(IdempotencyKey::parse("order-2026-11-27/42:~!").is_some());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_some());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_none());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("two words").is_none());
        assert!(IdempotencyKey::parse("tab\there").is_none());
        assert!(IdempotencyKey::parse("blåbær").is_none());
    }

    #[test]
    fn the_same_json_in_another_order_or_spacing_has_the_same_hash() {
        let a: Value =
            serde_json::from_str(r#"{"b": [1, {"y": 2, "x": "é"}], "a": true}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":true,"b":[1,{"x":"é","y":2}]}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":true,"b":[1,{"x":"é","y":2}]}"#);
        let key = IdempotencyKey::parse("k").unwrap();
        let hash = |v: &Value| Submission::new(KeyScope::Api, key.clone(), v).request_hash;
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(
            hash(&a),
            hash(&json!({"a": false, "b": [1, {"x": "é", "y": 2}]}))
        );
        // Array order is meaningful.
        assert_ne!(hash(&json!([1, 2])), hash(&json!([2, 1])));
    }
}
