//! Free text: organisation names, contact names, client ids, the message.

use super::named::text_value;
use super::{FieldError, codes};

/// Longest organisation name we keep; Enhetsregisteret names are far shorter.
pub const ORG_NAME_MAX: usize = 200;

/// Characters we refuse in text: C0/C1 controls, and the bidirectional overrides and
/// isolates, which can make a name display as something else in the admin UI or email.
pub fn is_forbidden_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Invisible format characters: zero-width spaces and joiners, the word joiner and invisible
/// operators, the byte-order mark, the Mongolian vowel separator, the Arabic letter mark and
/// the tag characters. A name made of them looks empty, or like another name.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{180E}' | '\u{061C}'
        | '\u{2028}' | '\u{2029}' | '\u{FFF9}'..='\u{FFFB}' | '\u{034F}' | '\u{17B4}' | '\u{17B5}'
        // Hangul fillers: letters to Unicode, blank on the screen.
        | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}'
        | '\u{E0000}'..='\u{E007F}')
}

/// What free text (a message, a reason) may keep of the invisible characters: the joiner
/// that emoji sequences need and the marks right-to-left writing needs.
fn allowed_in_free_text(c: char) -> bool {
    matches!(c, '\u{200D}' | '\u{200E}' | '\u{200F}')
}

text_value! {
    /// An organisation's name as typed: 1-200 characters after trimming, at least one letter
    /// or digit, no control or invisible format characters.
    pub struct OrgName;
}

impl OrgName {
    pub fn parse(raw: &str) -> Result<OrgName, FieldError> {
        let name = super::required_within(raw, ORG_NAME_MAX)?;
        if name
            .chars()
            .any(|c| is_forbidden_control(c) || is_invisible_format(c))
        {
            return Err(FieldError::new(codes::CONTROL_CHARACTERS));
        }
        if !name.chars().any(char::is_alphanumeric) {
            return Err(FieldError::new(codes::NO_LETTERS));
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
    if text.chars().any(|c| {
        (is_forbidden_control(c) && !allowed(c))
            || (is_invisible_format(c) && !allowed_in_free_text(c))
    }) {
        return Err(FieldError::new(codes::CONTROL_CHARACTERS));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{assert_displays_and_serializes_as, assert_refused};

    /// An `optional_text` case: the raw text, the limit and whether newlines are allowed,
    /// then the kept text or the code it is refused with.
    type OptionalTextCase<'a> = (&'a str, usize, bool, Result<Option<&'a str>, &'a str>);

    /// Checks each case against what `optional_text` gives.
    #[track_caller]
    fn check_optional_text(cases: &[OptionalTextCase]) {
        for &(raw, max, allow_newlines, expected) in cases {
            let got = optional_text(raw, max, allow_newlines);
            let got = got.as_ref().map(Option::as_deref).map_err(|e| e.code);
            assert_eq!(
                got, expected,
                "{raw:?} (max {max}, newlines {allow_newlines})"
            );
        }
    }

    #[test]
    fn org_name_is_trimmed() {
        let name = OrgName::parse("  Brønnøysundregistrene  ").unwrap();
        assert_eq!(name.as_str(), "Brønnøysundregistrene");
        assert_displays_and_serializes_as(&name, "Brønnøysundregistrene");
    }

    #[test]
    fn org_name_is_required() {
        assert_refused(OrgName::parse, codes::REQUIRED, ["", " \t\n "]);
    }

    #[test]
    fn org_name_length_counts_characters_not_bytes() {
        let at_limit = "ø".repeat(200);
        assert_eq!(OrgName::parse(&at_limit).unwrap().as_str(), at_limit);
        assert_refused(OrgName::parse, codes::TOO_LONG, ["a".repeat(201)]);
    }

    #[test]
    fn a_name_of_nothing_visible_is_refused() {
        for raw in [
            "\u{200B}\u{200B}",
            "A\u{200B}S",
            "Bank\u{E0041}",
            "\u{FEFF}Bank",
        ] {
            assert_eq!(
                OrgName::parse(raw).unwrap_err().code,
                codes::CONTROL_CHARACTERS,
                "{raw:?}"
            );
        }
        assert_eq!(OrgName::parse("...").unwrap_err().code, codes::NO_LETTERS);
        assert!(OrgName::parse("Ærlig Økonomi AS").is_ok());
        assert!(OrgName::parse("3B AS").is_ok());
        assert_eq!(
            optional_text("Kari\u{200B}", 100, false).unwrap_err().code,
            codes::CONTROL_CHARACTERS
        );
    }

    #[test]
    fn org_name_refuses_control_characters() {
        assert_refused(
            OrgName::parse,
            codes::CONTROL_CHARACTERS,
            [
                "A\nB",
                "A\tB",
                "A\u{0}B",
                "A\u{7f}B",
                "A\u{85}B",
                "A\u{202E}B",
            ],
        );
    }

    #[test]
    fn optional_text_empty_is_none() {
        check_optional_text(&[("", 10, false, Ok(None)), ("  \n ", 10, true, Ok(None))]);
    }

    #[test]
    fn optional_text_is_trimmed_and_limited() {
        check_optional_text(&[
            (" Kari ", 4, false, Ok(Some("Kari"))),
            ("Karin", 4, false, Err(codes::TOO_LONG)),
            ("åååå", 4, false, Ok(Some("åååå"))),
        ]);
    }

    #[test]
    fn optional_text_newlines_only_when_allowed() {
        check_optional_text(&[
            ("a\nb", 10, false, Err(codes::CONTROL_CHARACTERS)),
            ("a\tb", 10, false, Err(codes::CONTROL_CHARACTERS)),
            ("a\r\nb\rc\td", 10, true, Ok(Some("a\nb\nc\td"))),
            ("a\u{0}b", 10, true, Err(codes::CONTROL_CHARACTERS)),
        ]);
    }

    #[test]
    fn optional_text_counts_crlf_as_one_character() {
        let text = "ab\r\ncd"; // 5 characters once normalised
        check_optional_text(&[
            (text, 5, true, Ok(Some("ab\ncd"))),
            (text, 4, true, Err(codes::TOO_LONG)),
        ]);
    }
}
