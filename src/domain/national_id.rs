//! The TT02 login identity: a synthetic (Tenor) fødselsnummer or D-number.

use std::fmt;

use super::{FieldError, codes};

const K1_WEIGHTS: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
/// Tenor (Skatteetaten's synthetic population, used in TT02) adds 80 to the month.
const SYNTHETIC_MONTH_OFFSET: u8 = 80;
/// D-numbers add 40 to the day.
const D_NUMBER_DAY_OFFSET: u8 = 40;

/// An 11-digit synthetic national identity number with valid control digits and a real
/// birth date. Deliberately no `Display`/`Serialize`: it is personal-looking data shown
/// only on purpose (`as_str`), and `Debug` is masked so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SyntheticNationalId(String);

use super::org_number::mod11;

/// The two control digits (k1, k2) for the first nine digits (values 0-9, not ASCII),
/// or `None` when either comes out as 10: no valid number starts with those digits.
/// Public so tests elsewhere can build valid numbers.
pub fn control_digits(first9: &[u8; 9]) -> Option<[u8; 2]> {
    if first9.iter().any(|d| *d > 9) {
        return None;
    }
    let k1 = mod11(first9, &K1_WEIGHTS)?;
    let mut first10 = [0u8; 10];
    first10[..9].copy_from_slice(first9);
    first10[9] = k1;
    let k2 = mod11(&first10, &K2_WEIGHTS)?;
    Some([k1, k2])
}

impl SyntheticNationalId {
    pub fn parse(raw: &str) -> Result<SyntheticNationalId, FieldError> {
        let digits = super::digits_of(raw)?;
        let format = || FieldError::new(codes::NATIONAL_ID_FORMAT);
        if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format());
        }
        let v: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
        let mut first9 = [0u8; 9];
        first9.copy_from_slice(&v[..9]);
        if control_digits(&first9) != Some([v[9], v[10]]) {
            return Err(FieldError::new(codes::NATIONAL_ID_CHECKSUM));
        }

        let two = |i: usize| v[i] * 10 + v[i + 1];
        let (day, month, year) = (two(0), two(2), two(4));
        let individual = u16::from(v[6]) * 100 + u16::from(v[7]) * 10 + u16::from(v[8]);
        let day = if day > D_NUMBER_DAY_OFFSET {
            day - D_NUMBER_DAY_OFFSET
        } else {
            day
        };
        let (month, synthetic) = match month {
            81..=92 => (month - SYNTHETIC_MONTH_OFFSET, true),
            1..=12 => (month, false),
            _ => return Err(format()),
        };
        if !is_calendar_day(day, month, year, individual) {
            return Err(format());
        }
        // A valid real-looking number must never be used as a test login.
        if !synthetic {
            return Err(FieldError::new(codes::NATIONAL_ID_NOT_SYNTHETIC));
        }
        Ok(SyntheticNationalId(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth-date part only ("018690*****"), for places that must not show it all.
    pub fn masked(&self) -> String {
        let date: String = self.0.chars().take(6).collect();
        format!("{date}*****")
    }
}

impl fmt::Debug for SyntheticNationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SyntheticNationalId")
            .field(&self.masked())
            .finish()
    }
}

/// Whether day/month exist in the two-digit year. Only 29 February depends on the
/// century, and only for year 00: individual numbers 500-999 mean 2000 (a leap year),
/// 000-499 mean 1900 (not one).
fn is_calendar_day(day: u8, month: u8, year: u8, individual: u16) -> bool {
    let leap = if year == 0 {
        individual >= 500
    } else {
        year.is_multiple_of(4)
    };
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::test_support::assert_refused;
    use proptest::prelude::*;

    /// Builds a valid number from the digits as written (offsets already applied), trying
    /// individual numbers from `individual` upwards until the control digits exist.
    fn build(day: u8, month: u8, year: u8, individual: u16) -> String {
        (individual..1000)
            .find_map(|i| build_exact(day, month, year, i))
            .unwrap()
    }

    fn build_exact(day: u8, month: u8, year: u8, individual: u16) -> Option<String> {
        let i = individual;
        let first9 = [
            day / 10,
            day % 10,
            month / 10,
            month % 10,
            year / 10,
            year % 10,
            (i / 100) as u8,
            (i / 10 % 10) as u8,
            (i % 10) as u8,
        ];
        let [k1, k2] = control_digits(&first9)?;
        Some(
            first9
                .iter()
                .chain([k1, k2].iter())
                .map(|d| char::from(b'0' + d))
                .collect(),
        )
    }

    fn code(raw: &str) -> &'static str {
        SyntheticNationalId::parse(raw).unwrap_err().code
    }

    #[test]
    fn accepts_a_synthetic_tenor_number() {
        // Born 1 June 1990, Tenor style: month 06 + 80 = 86.
        let n = build(1, 86, 90, 123);
        let id = SyntheticNationalId::parse(&n).unwrap();
        assert_eq!(id.as_str(), n);
        assert_eq!(id.masked(), "018690*****");
        assert!(!format!("{id:?}").contains(&n[6..]));
    }

    #[test]
    fn accepts_spaces_and_a_synthetic_d_number() {
        let n = build(1, 86, 90, 123);
        let spaced = format!(" {} {} ", &n[..6], &n[6..]);
        assert_eq!(SyntheticNationalId::parse(&spaced).unwrap().as_str(), n);
        // D-number: day 15 + 40 = 55.
        assert!(SyntheticNationalId::parse(&build(55, 92, 5, 600)).is_ok());
    }

    #[test]
    fn refuses_a_real_looking_number() {
        let real = build(1, 6, 90, 123);
        let real_d_number = build(55, 12, 5, 600);
        assert_refused(
            SyntheticNationalId::parse,
            codes::NATIONAL_ID_NOT_SYNTHETIC,
            [real, real_d_number],
        );
    }

    #[test]
    fn refuses_bad_control_digits() {
        let n = build(1, 86, 90, 123);
        // k2 (position 10), then k1 (position 9), each one up, 9 going round to 0.
        let one_control_digit_off = [10, 9].map(|pos| {
            let mut digits = n.clone().into_bytes();
            digits[pos] = if digits[pos] == b'9' {
                b'0'
            } else {
                digits[pos] + 1
            };
            String::from_utf8(digits).unwrap()
        });
        assert_refused(
            SyntheticNationalId::parse,
            codes::NATIONAL_ID_CHECKSUM,
            one_control_digit_off,
        );
    }

    #[test]
    fn empty_is_required() {
        assert_refused(SyntheticNationalId::parse, codes::REQUIRED, ["", "   "]);
    }

    #[test]
    fn wrong_shape_is_a_format_error() {
        let n = build(1, 86, 90, 123);
        assert_refused(
            SyntheticNationalId::parse,
            codes::NATIONAL_ID_FORMAT,
            [
                n[..10].to_owned(),
                format!("{n}0"),
                "0186901234x".to_owned(),
                n.replace('8', "-"),
            ],
        );
    }

    #[test]
    fn dates_that_do_not_exist_are_format_errors() {
        let numbers = [
            (1, 13, 90, 100),  // month 13, real-looking
            (1, 0, 90, 100),   // month 0
            (1, 93, 90, 100),  // synthetic month 13
            (1, 46, 90, 100),  // month + 40 (not a Tenor number)
            (0, 86, 90, 100),  // day 0
            (32, 81, 90, 100), // 32 January
            (31, 84, 90, 100), // 31 April
            (40, 81, 90, 100), // neither a day nor a D-number day
            (72, 81, 90, 100), // D-number day 32
            (29, 82, 1, 100),  // 29 February 2001
            (29, 82, 0, 100),  // 29 February 1900
        ]
        .map(|(day, month, year, individual)| build(day, month, year, individual));
        assert_refused(
            SyntheticNationalId::parse,
            codes::NATIONAL_ID_FORMAT,
            numbers,
        );
    }

    #[test]
    fn leap_days_exist_where_they_should() {
        for (day, month, year, individual) in [
            (29, 82, 4, 100),
            (29, 82, 0, 500), // 2000
            (69, 82, 0, 500), // D-number
            (31, 92, 99, 100),
        ] {
            let n = build(day, month, year, individual);
            assert!(SyntheticNationalId::parse(&n).is_ok(), "{n}");
        }
    }

    proptest! {
        #[test]
        fn built_synthetic_numbers_are_accepted_and_every_digit_change_refused(
            day in 1u8..=28,
            d_number in any::<bool>(),
            month in 81u8..=92,
            year in 0u8..=99,
            individual in 0u16..=999,
        ) {
            let day = if d_number { day + 40 } else { day };
            let n = build_exact(day, month, year, individual);
            prop_assume!(n.is_some());
            let n = n.unwrap();
            prop_assert!(SyntheticNationalId::parse(&n).is_ok(), "{} refused", n);
            for pos in 0..11 {
                for d in b'0'..=b'9' {
                    let mut changed = n.clone().into_bytes();
                    if changed[pos] == d {
                        continue;
                    }
                    changed[pos] = d;
                    let changed = String::from_utf8(changed).unwrap();
                    prop_assert_eq!(code(&changed), codes::NATIONAL_ID_CHECKSUM);
                }
            }
        }
    }
}
