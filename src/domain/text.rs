//! Free text: organisation names, contact names, client ids, the message.

use super::named::text_value;
use super::{FieldError, codes};

/// Longest organisation name we keep; Enhetsregisteret names are far shorter.
pub const ORG_NAME_MAX: usize = 200;

/// Characters we refuse in text: C0/C1 controls, and the bidirectional overrides and
/// isolates, which can make a name display as something else in the admin UI or email.
pub(crate) fn is_forbidden_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

text_value! {
    /// An organisation's name as typed: 1-200 characters after trimming, no control characters.
    pub struct OrgName;
}

impl OrgName {
    pub fn parse(raw: &str) -> Result<OrgName, FieldError> {
        let name = super::required(raw)?;
        // Characters, not bytes: "Brønnøysund" must not count double.
        if name.chars().count() > ORG_NAME_MAX {
            return Err(FieldError::new(codes::TOO_LONG));
        }
        if name.chars().any(is_forbidden_control) {
            return Err(FieldError::new(codes::CONTROL_CHARACTERS));
        }
        Ok(OrgName(name.to_owned()))
    }
}

/// Optional free text: trimmed, `None` when empty, at most `max` characters, no control
/// characters (line breaks and tabs are allowed when `allow_newlines`). Line breaks are
/// normalised to `\n` before counting, so a browser's `\r\n` counts as one character,
/// as it does for the textarea's `maxlength`.
pub fn optional_text(
    raw: &str,
    max: usize,
    allow_newlines: bool,
) -> Result<Option<String>, FieldError> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let text = if allow_newlines {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_owned()
    };
    if text.chars().count() > max {
        return Err(FieldError::new(codes::TOO_LONG));
    }
    let allowed = |c: char| allow_newlines && matches!(c, '\n' | '\t');
    if text.chars().any(|c| is_forbidden_control(c) && !allowed(c)) {
        return Err(FieldError::new(codes::CONTROL_CHARACTERS));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::serialized;

    #[test]
    fn org_name_is_trimmed() {
        let name = OrgName::parse("  Brønnøysundregistrene  ").unwrap();
        assert_eq!(name.as_str(), "Brønnøysundregistrene");
        assert_eq!(name.to_string(), "Brønnøysundregistrene");
        assert_eq!(serialized(&name), "Brønnøysundregistrene");
    }

    #[test]
    fn org_name_is_required() {
        assert_eq!(OrgName::parse("").unwrap_err().code, codes::REQUIRED);
        assert_eq!(OrgName::parse(" \t\n ").unwrap_err().code, codes::REQUIRED);
    }

    #[test]
    fn org_name_length_counts_characters_not_bytes() {
        let at_limit = "ø".repeat(200);
        assert_eq!(OrgName::parse(&at_limit).unwrap().as_str(), at_limit);
        let over = "a".repeat(201);
        assert_eq!(OrgName::parse(&over).unwrap_err().code, codes::TOO_LONG);
    }

    #[test]
    fn org_name_refuses_control_characters() {
        for bad in [
            "A\nB",
            "A\tB",
            "A\u{0}B",
            "A\u{7f}B",
            "A\u{85}B",
            "A\u{202E}B",
        ] {
            assert_eq!(
                OrgName::parse(bad).unwrap_err().code,
                codes::CONTROL_CHARACTERS,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn optional_text_empty_is_none() {
        assert_eq!(optional_text("", 10, false), Ok(None));
        assert_eq!(optional_text("  \n ", 10, true), Ok(None));
    }

    #[test]
    fn optional_text_is_trimmed_and_limited() {
        assert_eq!(optional_text(" Kari ", 4, false), Ok(Some("Kari".into())));
        assert_eq!(
            optional_text("Karin", 4, false).unwrap_err().code,
            codes::TOO_LONG
        );
        assert_eq!(optional_text("åååå", 4, false), Ok(Some("åååå".into())));
    }

    #[test]
    fn optional_text_newlines_only_when_allowed() {
        assert_eq!(
            optional_text("a\nb", 10, false).unwrap_err().code,
            codes::CONTROL_CHARACTERS
        );
        assert_eq!(
            optional_text("a\tb", 10, false).unwrap_err().code,
            codes::CONTROL_CHARACTERS
        );
        assert_eq!(
            optional_text("a\r\nb\rc\td", 10, true),
            Ok(Some("a\nb\nc\td".into()))
        );
        assert_eq!(
            optional_text("a\u{0}b", 10, true).unwrap_err().code,
            codes::CONTROL_CHARACTERS
        );
    }

    #[test]
    fn optional_text_counts_crlf_as_one_character() {
        let text = "ab\r\ncd"; // 5 characters once normalised
        assert_eq!(optional_text(text, 5, true), Ok(Some("ab\ncd".into())));
        assert_eq!(
            optional_text(text, 4, true).unwrap_err().code,
            codes::TOO_LONG
        );
    }
}
