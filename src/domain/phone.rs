//! Contact mobile numbers.

use phonenumber::{Mode, PhoneNumber, Type, country, metadata::DATABASE};

use super::named::text_value;
use super::{FieldError, codes};

/// Longer input is not a phone number; the cap also keeps the parser's work bounded.
const PHONE_INPUT_MAX: usize = 32;

text_value! {
    /// A mobile number in E.164 form ("+4791234567"). Norwegian numbers may be typed
    /// nationally ("912 34 567") or with `+47`/`0047`; other countries need their code.
    pub struct MobileNumber;
}

impl MobileNumber {
    pub fn parse(raw: &str) -> Result<MobileNumber, FieldError> {
        let input = super::required(raw)?;
        let invalid = || FieldError::new(codes::PHONE_INVALID);
        // Only digits and the usual separators: the parser would otherwise read letters
        // as vanity digits ("9123456A") and words as extensions ("ext 12", "#12").
        let allowed = |c: char| {
            c.is_ascii_digit() || matches!(c, ' ' | '\u{00A0}' | '+' | '-' | '.' | '(' | ')' | '/')
        };
        if input.chars().count() > PHONE_INPUT_MAX || !input.chars().all(allowed) {
            return Err(invalid());
        }
        let number = parse_number(input).ok_or_else(invalid)?;
        if !number.is_valid() || number.extension().is_some() {
            return Err(invalid());
        }
        match number.number_type(&DATABASE) {
            Type::Mobile | Type::FixedLineOrMobile => {}
            _ => return Err(FieldError::new(codes::PHONE_NOT_MOBILE)),
        }
        Ok(MobileNumber(number.format().mode(Mode::E164).to_string()))
    }
}

/// Parses with Norway as the default region. phonenumber 0.3 strips a leading "47" from
/// national input as if it were the country code, so "471 23 456" (a real mobile range)
/// would come out as +47 123456; reading national input as "+47..." first avoids that,
/// and the library's own reading remains the fallback (e.g. for "47 912 34 567").
fn parse_number(input: &str) -> Option<PhoneNumber> {
    let compact: String = input
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let international = compact.starts_with('+') || compact.starts_with("00");
    if !international
        && let Ok(n) = phonenumber::parse(Some(country::Id::NO), format!("+47{compact}"))
        && n.is_valid()
    {
        return Some(n);
    }
    phonenumber::parse(Some(country::Id::NO), input).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{assert_displays_and_serializes_as, assert_refused};
    use proptest::prelude::*;

    fn e164(raw: &str) -> String {
        match MobileNumber::parse(raw) {
            Ok(n) => n.as_str().to_owned(),
            Err(e) => panic!("{raw:?} refused: {}", e.code),
        }
    }

    #[test]
    fn norwegian_mobiles_in_all_spellings() {
        for (spellings, expected) in [
            (
                ["912 34 567", "+47 912 34 567", "0047 91234567"],
                "+4791234567",
            ),
            (
                ["412 34 567", "+47 412 34 567", "0047 41234567"],
                "+4741234567",
            ),
            // The 47 range is the one phonenumber mis-reads on its own.
            (
                ["471 23 456", "+47 471 23 456", "0047 47123456"],
                "+4747123456",
            ),
        ] {
            for raw in spellings {
                assert_eq!(e164(raw), expected, "{raw:?}");
            }
        }
    }

    #[test]
    fn other_harmless_spellings() {
        for raw in [
            "91234567",
            "+4791234567",
            "  912\u{a0}34\u{a0}567 ",
            "(+47) 912 34 567",
            "+47-912-34-567",
            "912.34.567",
            "47 912 34 567",
            "4791234567",
        ] {
            assert_eq!(e164(raw), "+4791234567", "{raw:?}");
        }
        assert_eq!(e164("47000000"), "+4747000000");
    }

    #[test]
    fn display_and_serialize_are_e164() {
        let n = MobileNumber::parse("912 34 567").unwrap();
        assert_displays_and_serializes_as(&n, "+4791234567");
    }

    #[test]
    fn landlines_and_service_numbers_are_not_mobile() {
        assert_refused(
            MobileNumber::parse,
            codes::PHONE_NOT_MOBILE,
            [
                // Norwegian landlines.
                "22 22 22 22",
                "+47 22 22 22 22",
                // Norwegian service numbers.
                "800 12 345",  // toll free
                "820 12 345",  // premium rate
                "880 12 345",  // personal number
                "85 00 00 00", // VoIP
                // A foreign landline.
                "+49 30 123456",
            ],
        );
    }

    #[test]
    fn foreign_mobiles_with_country_code() {
        for (raw, expected) in [
            ("+46 70 123 45 67", "+46701234567"),
            ("0046 70 123 45 67", "+46701234567"),
            ("+358 40 1234567", "+358401234567"),
            // Where the plan cannot tell mobiles from landlines, we give the benefit of the doubt.
            ("+45 20 12 34 56", "+4520123456"),
            ("+1 202 555 0123", "+12025550123"),
        ] {
            assert_eq!(e164(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn foreign_mobile_without_country_code_is_invalid() {
        // Read as a Norwegian number, which it is not.
        assert_refused(
            MobileNumber::parse,
            codes::PHONE_INVALID,
            ["070 123 45 67", "46 70 123 45 67"],
        );
    }

    #[test]
    fn empty_is_required() {
        assert_refused(MobileNumber::parse, codes::REQUIRED, ["", "   "]);
    }

    #[test]
    fn garbage_is_invalid() {
        assert_refused(
            MobileNumber::parse,
            codes::PHONE_INVALID,
            [
                "abc",
                "12",
                "+",
                "1234567",
                "912 34 567 8",
                "9123456A",
                "91234567 ext 12",
                "91234567#12",
                "tel:+4791234567",
                "+999 1234",
                "999999999999999999999",
                "+47 912\n34 567",
                "+47 9\u{0}12 34 567",
            ],
        );
    }

    #[test]
    fn overlong_input_is_invalid() {
        let raw = format!("+47 {}91234567", " ".repeat(40));
        assert_refused(MobileNumber::parse, codes::PHONE_INVALID, [raw]);
    }

    proptest! {
        // phonenumber is a parser with known rough edges; it must never take the request down.
        #[test]
        fn never_panics_on_phone_like_input(raw in "[0-9 +()./-]{0,32}") {
            let _ = MobileNumber::parse(&raw);
        }

        #[test]
        fn every_norwegian_9xxxxxxx_and_4xxxxxxx_is_accepted(
            first in prop::sample::select(vec!['4', '9']),
            rest in "[0-9]{7}",
        ) {
            let n = MobileNumber::parse(&format!("{first}{rest}")).unwrap();
            prop_assert_eq!(n.as_str(), format!("+47{first}{rest}"));
        }
    }
}
