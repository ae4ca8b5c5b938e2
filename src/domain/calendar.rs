//! Working days, for marking orders that have waited too long.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};

/// Weekdays (Monday to Friday) from the day after `from` up to and including the day of `to`:
/// an order changed on Friday has waited one working day on Monday. Public holidays are not
/// counted out.
pub fn working_days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    let (start, end) = (from.date_naive(), to.date_naive());
    if end <= start {
        return 0;
    }
    let days = (end - start).num_days();
    let mut count = days / 7 * 5;
    let mut day = start + Duration::days(days / 7 * 7);
    while day < end {
        day += Duration::days(1);
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn weekends_do_not_count() {
        // 2026-11-20 is a Friday.
        for (from, to, expected) in [
            (at(2026, 11, 20, 15), at(2026, 11, 20, 23), 0), // the same evening
            (at(2026, 11, 20, 15), at(2026, 11, 22, 12), 0), // Sunday
            (at(2026, 11, 20, 15), at(2026, 11, 23, 8), 1),  // Monday
            (at(2026, 11, 20, 15), at(2026, 11, 25, 8), 3),  // Wednesday
            (at(2026, 11, 20, 15), at(2026, 12, 4, 8), 10),  // Friday two weeks on
            (at(2026, 11, 25, 8), at(2026, 11, 20, 8), 0),   // backwards
        ] {
            assert_eq!(working_days_between(from, to), expected, "{from} to {to}");
        }
    }

    #[test]
    fn long_spans_count_five_days_a_week() {
        // Monday to the Monday 52 weeks later.
        assert_eq!(
            working_days_between(at(2025, 11, 24, 9), at(2026, 11, 23, 9)),
            260
        );
    }
}
