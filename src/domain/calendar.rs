//! Norwegian time: how times are shown to people (Europe/Oslo, summer and winter time), and
//! working days in Norway (no weekends, no public holidays), for marking orders that have
//! waited too long and for the time orders spend in each status. Stored times stay UTC.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Oslo;

/// A time as people here read it, in Norwegian time: `26.11.2026 14:32`. The same in every
/// language of the service, as the dates are Norwegian ones.
pub fn display(at: DateTime<Utc>) -> String {
    at.with_timezone(&Oslo).format("%d.%m.%Y %H:%M").to_string()
}

/// A time for a spreadsheet, in Norwegian time: `2026-11-26 14:32:05`, a form Excel and
/// LibreOffice read as a date and time in any locale.
pub fn spreadsheet(at: DateTime<Utc>) -> String {
    at.with_timezone(&Oslo)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The date of a moment in Norway.
fn oslo_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Oslo).date_naive()
}

/// Easter Sunday of `year` (the anonymous Gregorian computus).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let (b, c) = (year / 100, year % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // The computus only gives dates in March and April, which always exist.
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

/// Norway's public holidays (helligdager) in `year`: the fixed days and those that follow
/// Easter.
pub fn public_holidays(year: i32) -> Vec<NaiveDate> {
    let easter = easter_sunday(year);
    let fixed = [(1, 1), (5, 1), (5, 17), (12, 25), (12, 26)]
        .into_iter()
        .filter_map(|(month, day)| NaiveDate::from_ymd_opt(year, month, day));
    // Maundy Thursday, Good Friday, Easter Sunday and Monday, Ascension Day, Whit Sunday
    // and Monday.
    let moving = [-3, -2, 0, 1, 39, 49, 50]
        .into_iter()
        .map(|days| easter + Duration::days(days));
    let mut days: Vec<NaiveDate> = fixed.chain(moving).collect();
    days.sort();
    days
}

fn is_weekday(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Working days in Norway from the day after `from` up to and including the day of `to`
/// (Norwegian dates): an order changed on Friday has waited one working day on Monday.
pub fn working_days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    let (start, end) = (oslo_date(from), oslo_date(to));
    if end <= start {
        return 0;
    }
    // Whole weeks have five weekdays each; the days after them are counted one by one.
    let days = (end - start).num_days();
    let mut weekdays = days / 7 * 5;
    let mut day = start + Duration::days(days / 7 * 7);
    while day < end {
        day += Duration::days(1);
        if is_weekday(day) {
            weekdays += 1;
        }
    }
    // Then the holidays in the span that fall on a weekday come off, once each.
    let holidays = (start.year()..=end.year())
        .flat_map(public_holidays)
        .filter(|h| *h > start && *h <= end && is_weekday(*h))
        .count();
    weekdays - holidays as i64
}

/// Whether `day` is a working day in Norway: a weekday that is not a public holiday.
pub fn is_working_day(day: NaiveDate) -> bool {
    is_weekday(day) && !public_holidays(day.year()).contains(&day)
}

/// When a Norwegian date begins, in UTC. Midnight exists on every Oslo date (the clocks
/// change at 02:00 and 03:00), so the fallback is never taken.
pub fn oslo_midnight(day: NaiveDate) -> DateTime<Utc> {
    Oslo.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// The part of `from`..`to` that falls on Norwegian working days (whole Oslo calendar days,
/// around the clock): what the statistics call time in a status. Friday 15:00 to Monday
/// 09:00 is 9 + 9 = 18 hours; a weekend or a public holiday adds nothing. Divided by 24 hours
/// it is the time in working days. Zero when `to` is not after `from`.
pub fn working_time(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    let mut total = Duration::zero();
    if to <= from {
        return total;
    }
    let mut day = oslo_date(from);
    let last = oslo_date(to);
    // The holidays of the year at hand, looked up once a year rather than once a day.
    let mut holidays = (day.year(), public_holidays(day.year()));
    while day <= last {
        if holidays.0 != day.year() {
            holidays = (day.year(), public_holidays(day.year()));
        }
        let next = day + Duration::days(1);
        if is_weekday(day) && !holidays.1.contains(&day) {
            let start = oslo_midnight(day).max(from);
            let end = oslo_midnight(next).min(to);
            if end > start {
                total += end - start;
            }
        }
        day = next;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_times_are_norwegian_in_summer_and_winter() {
        let winter = "2026-11-26T13:32:05Z".parse::<DateTime<Utc>>().unwrap();
        let summer = "2026-07-01T13:32:05Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(spreadsheet(winter), "2026-11-26 14:32:05");
        assert_eq!(spreadsheet(summer), "2026-07-01 15:32:05");
    }
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
    fn long_spans_count_five_days_a_week_less_the_holidays() {
        // Monday to the Monday 52 weeks later: 260 weekdays, of which nine are holidays
        // (25 and 26 Dec, 1 Jan, Maundy Thursday, Good Friday, Easter Monday, 1 May,
        // Ascension Day, Whit Monday; 17 May 2026 is a Sunday).
        assert_eq!(
            working_days_between(at(2025, 11, 24, 9), at(2026, 11, 23, 9)),
            251
        );
    }

    #[test]
    fn easter_and_the_holidays_that_follow_it() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(easter_sunday(2026), date(2026, 4, 5));
        assert_eq!(easter_sunday(2027), date(2027, 3, 28));
        assert_eq!(easter_sunday(2024), date(2024, 3, 31));
        assert_eq!(easter_sunday(2038), date(2038, 4, 25));
        assert_eq!(
            public_holidays(2026),
            [
                date(2026, 1, 1),
                date(2026, 4, 2),
                date(2026, 4, 3),
                date(2026, 4, 5),
                date(2026, 4, 6),
                date(2026, 5, 1),
                date(2026, 5, 14),
                date(2026, 5, 17),
                date(2026, 5, 24),
                date(2026, 5, 25),
                date(2026, 12, 25),
                date(2026, 12, 26),
            ]
        );
        let holidays_2027 = public_holidays(2027);
        for day in [
            date(2027, 3, 25),
            date(2027, 3, 26),
            date(2027, 3, 29),
            date(2027, 5, 6),
            date(2027, 5, 17),
        ] {
            assert!(holidays_2027.contains(&day), "{day}");
        }
    }

    #[test]
    fn easter_week_is_not_waiting_time() {
        // Wednesday before Easter 2026 to the Tuesday after: only the Tuesday counts.
        assert_eq!(
            working_days_between(at(2026, 4, 1, 10), at(2026, 4, 7, 10)),
            1
        );
        // Christmas: Wednesday 23 Dec to Monday 28 Dec 2026 (25 and 26 are holidays).
        assert_eq!(
            working_days_between(at(2026, 12, 23, 10), at(2026, 12, 28, 10)),
            2
        );
    }

    #[test]
    fn days_are_norwegian_days() {
        // 23:30 UTC on Friday is already Saturday in Oslo (winter time, UTC+1): no working
        // day has passed by Sunday.
        assert_eq!(
            working_days_between(at(2026, 11, 20, 10), at(2026, 11, 20, 23)),
            0
        );
        // A Thursday evening in UTC that is Friday in Oslo counts Friday.
        let friday_in_oslo = Utc.with_ymd_and_hms(2026, 11, 19, 23, 30, 0).unwrap();
        assert_eq!(
            working_days_between(at(2026, 11, 19, 10), friday_in_oslo),
            1
        );
    }

    #[test]
    fn times_are_shown_in_norwegian_time_summer_and_winter() {
        assert_eq!(display(at(2026, 11, 26, 13)), "26.11.2026 14:00");
        assert_eq!(display(at(2026, 7, 1, 13)), "01.07.2026 15:00");
        // The night the clocks go back: 00:30 and 01:30 UTC are 02:30 summer and 02:30 winter.
        assert_eq!(
            display(Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap()),
            "25.10.2026 02:30"
        );
        assert_eq!(
            display(Utc.with_ymd_and_hms(2026, 10, 25, 1, 30, 0).unwrap()),
            "25.10.2026 02:30"
        );
    }

    #[test]
    fn working_time_leaves_out_weekends_and_holidays() {
        let hours = |from, to| working_time(from, to).num_minutes() as f64 / 60.0;
        // Friday 15:00 to Monday 09:00 in Oslo (UTC+1 in November): 9 + 9 hours.
        assert_eq!(hours(at(2026, 11, 20, 14), at(2026, 11, 23, 8)), 18.0);
        // Within one working day.
        assert_eq!(hours(at(2026, 11, 24, 8), at(2026, 11, 24, 11)), 3.0);
        // Wednesday 12:00 before Easter 2026 to Tuesday 12:00 after (UTC+2 in April):
        // half of Wednesday and half of Tuesday; Maundy Thursday to Easter Monday are not
        // working days.
        assert_eq!(hours(at(2026, 4, 1, 10), at(2026, 4, 7, 10)), 24.0);
        // The night the clocks go forward (Sunday 29 March 2026) is a weekend night; Monday
        // counts whole.
        assert_eq!(hours(at(2026, 3, 27, 23), at(2026, 3, 30, 22)), 24.0);
        // Backwards and empty spans are nothing.
        assert_eq!(hours(at(2026, 11, 24, 8), at(2026, 11, 24, 8)), 0.0);
        assert_eq!(hours(at(2026, 11, 24, 8), at(2026, 11, 23, 8)), 0.0);
    }

    #[test]
    fn working_days_are_weekdays_that_are_not_holidays() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(is_working_day(date(2026, 11, 23)));
        assert!(!is_working_day(date(2026, 11, 21)));
        assert!(!is_working_day(date(2026, 5, 14)));
    }
}
