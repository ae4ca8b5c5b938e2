//! Norwegian organisation numbers (organisasjonsnummer).

use super::named::text_value;
use super::{FieldError, codes};

text_value! {
    /// A 9-digit organisation number with a valid modulus-11 check digit.
    #[derive(PartialOrd, Ord)]
    pub struct OrgNumber;
}

const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

/// The check digit for the first eight digits (values 0-9, not ASCII), or `None` when
/// the remainder gives 10: no valid organisation number starts with those eight digits.
pub fn check_digit(first8: &[u8; 8]) -> Option<u8> {
    if first8.iter().any(|d| *d > 9) {
        return None;
    }
    mod11(first8, &WEIGHTS)
}

/// Modulus 11 as Norwegian numbers use it: 11 - (weighted sum mod 11), where 11 means 0 and
/// 10 means that no valid digit exists.
pub(crate) fn mod11(digits: &[u8], weights: &[u32]) -> Option<u8> {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        // Always 1..=9 here, so the narrowing cannot lose anything.
        k => u8::try_from(k).ok(),
    }
}

impl OrgNumber {
    /// Accepts the number as people type it ("974 760 673"), stores the 9 digits.
    pub fn parse(raw: &str) -> Result<OrgNumber, FieldError> {
        let digits = super::digits_of(raw)?;
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(codes::ORG_NUMBER_FORMAT));
        }
        let values: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        let mut first8 = [0u8; 8];
        first8.copy_from_slice(&values[..8]);
        if check_digit(&first8) != Some(values[8]) {
            return Err(FieldError::new(codes::ORG_NUMBER_CHECKSUM));
        }
        Ok(OrgNumber(digits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::{assert_refused, serialized};
    use proptest::prelude::*;

    #[test]
    fn accepts_a_real_number_typed_with_spaces() {
        let n = OrgNumber::parse(" 974 760 673 ").unwrap();
        assert_eq!(n.as_str(), "974760673");
        assert_eq!(n.to_string(), "974760673");
    }

    #[test]
    fn accepts_non_breaking_spaces_and_synthetic_numbers() {
        assert_eq!(
            OrgNumber::parse("974\u{a0}760\u{a0}673").unwrap().as_str(),
            "974760673"
        );
        // Synthetic TT02 organisations from the guide's example token.
        assert!(OrgNumber::parse("310149942").is_ok());
        assert!(OrgNumber::parse("313876144").is_ok());
    }

    #[test]
    fn empty_is_required() {
        assert_refused(OrgNumber::parse, codes::REQUIRED, ["", "   "]);
    }

    #[test]
    fn wrong_shape_is_a_format_error() {
        assert_refused(
            OrgNumber::parse,
            codes::ORG_NUMBER_FORMAT,
            [
                "97476067",
                "9747606731",
                "974-760-673",
                "NO974760673",
                // Non-ASCII digits must not sneak through.
                "97476067٣",
                "974\t760673",
            ],
        );
    }

    #[test]
    fn wrong_check_digit_is_a_checksum_error() {
        assert_refused(OrgNumber::parse, codes::ORG_NUMBER_CHECKSUM, ["974760674"]);
    }

    #[test]
    fn remainder_ten_means_no_valid_number() {
        // 3*1 + 2*0 + ... sums chosen so that 11 - (sum mod 11) == 10.
        let first8 = [0, 0, 0, 0, 0, 0, 0, 5]; // 2*5 = 10 -> 11 - 10 = 1
        assert_eq!(check_digit(&first8), Some(1));
        let first8 = [0, 0, 0, 0, 0, 0, 0, 6]; // 12 mod 11 = 1 -> 10
        assert_eq!(check_digit(&first8), None);
        let every_last_digit = (0..10).map(|last| format!("00000006{last}"));
        assert_refused(
            OrgNumber::parse,
            codes::ORG_NUMBER_CHECKSUM,
            every_last_digit,
        );
    }

    #[test]
    fn remainder_eleven_means_zero() {
        assert_eq!(check_digit(&[0; 8]), Some(0));
        assert!(OrgNumber::parse("000000000").is_ok());
    }

    #[test]
    fn serializes_as_the_digits() {
        let n = OrgNumber::parse("974760673").unwrap();
        assert_eq!(serialized(&n), "974760673");
    }

    proptest! {
        #[test]
        fn numbers_with_a_computed_check_digit_are_accepted(first8 in prop::array::uniform8(0u8..10)) {
            let check = check_digit(&first8);
            prop_assume!(check.is_some());
            let s = digits_to_string(&first8, check.unwrap());
            let parsed = OrgNumber::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }

        #[test]
        fn every_single_digit_change_is_rejected(first8 in prop::array::uniform8(0u8..10)) {
            let check = check_digit(&first8);
            prop_assume!(check.is_some());
            let valid = digits_to_string(&first8, check.unwrap()).into_bytes();
            for pos in 0..9 {
                for d in b'0'..=b'9' {
                    if d == valid[pos] {
                        continue;
                    }
                    let mut changed = valid.clone();
                    changed[pos] = d;
                    let changed = String::from_utf8(changed).unwrap();
                    prop_assert_eq!(
                        OrgNumber::parse(&changed).unwrap_err().code,
                        codes::ORG_NUMBER_CHECKSUM,
                        "{} should be rejected", changed
                    );
                }
            }
        }
    }

    fn digits_to_string(first8: &[u8; 8], check: u8) -> String {
        first8
            .iter()
            .chain(std::iter::once(&check))
            .map(|d| char::from(b'0' + d))
            .collect()
    }
}
