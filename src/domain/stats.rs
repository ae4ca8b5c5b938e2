//! The arithmetic of the process statistics (`/admin/stats`), without storage: the period a
//! person asks for, how long an order spent in each status, percentiles, and the ages of the
//! open orders.
//!
//! Time in a status is *working time*: the part of the stay that fell on Norwegian working
//! days (Oslo calendar days that are neither weekend nor public holiday, counted around the
//! clock, see [`calendar::working_time`]), divided by 24 hours. A stay from Friday 15:00 to
//! Monday 09:00 is 18 hours, 0.75 working days, shown as 0.8. Statistics are kept in tenths
//! of a working day, the one decimal the page shows.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::OrderStatus;
use super::calendar::{self, is_working_day, oslo_midnight};

/// The period shown when none is asked for: the last 90 days, today included.
pub const DEFAULT_DAYS: i64 = 90;
/// The longest period accepted: three years. Longer ones would read more months than a page
/// shows usefully, and more of the database than a page request should.
pub const MAX_DAYS: i64 = 3 * 366;
/// Seconds in a tenth of a working day (24 hours).
pub const TENTH_SECONDS: i64 = 8640;

/// The dates an order must have ended between, both included, as Norwegian dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// What is wrong with a period; each names the form field it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodError {
    /// Not a date written YYYY-MM-DD.
    NotADate(&'static str),
    /// `from` is after `to`.
    Reversed,
    /// Longer than [`MAX_DAYS`].
    TooLong,
}

impl PeriodError {
    /// The form field the message goes next to.
    pub fn field(self) -> &'static str {
        match self {
            PeriodError::NotADate(field) => field,
            PeriodError::Reversed | PeriodError::TooLong => "from",
        }
    }

    /// The catalog key of the message.
    pub fn key(self) -> &'static str {
        match self {
            PeriodError::NotADate("to") => "admin.stats.error.bad_to",
            PeriodError::NotADate(_) => "admin.stats.error.bad_from",
            PeriodError::Reversed => "admin.stats.error.reversed",
            PeriodError::TooLong => "admin.stats.error.too_long",
        }
    }
}

/// One calendar month of a period, clipped to the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// `2026-11`: sorts, and reads the same in every language and spreadsheet.
    pub label: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    /// The last [`DEFAULT_DAYS`] days up to `today`.
    pub fn default_until(today: NaiveDate) -> Period {
        Period {
            from: today - Duration::days(DEFAULT_DAYS - 1),
            to: today,
        }
    }

    /// The period from the form's `from` and `to` (YYYY-MM-DD). An empty `to` is today; an
    /// empty `from` is [`DEFAULT_DAYS`] days before `to`. Every error is returned at once.
    pub fn parse(from: &str, to: &str, today: NaiveDate) -> Result<Period, Vec<PeriodError>> {
        let date = |raw: &str, field| {
            let raw = raw.trim();
            // chrono alone would take `2026-1-5`; the form and the links write two digits.
            let shaped = raw.len() == 10 && raw.as_bytes()[4] == b'-' && raw.as_bytes()[7] == b'-';
            match raw {
                "" => Ok(None),
                _ if !shaped => Err(PeriodError::NotADate(field)),
                _ => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| PeriodError::NotADate(field)),
            }
        };
        let (from, to) = (date(from, "from"), date(to, "to"));
        let errors: Vec<PeriodError> = [&from, &to]
            .into_iter()
            .filter_map(|d| d.as_ref().err().copied())
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let to = to.ok().flatten().unwrap_or(today);
        let from = from
            .ok()
            .flatten()
            .unwrap_or_else(|| Period::default_until(to).from);
        if from > to {
            return Err(vec![PeriodError::Reversed]);
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(vec![PeriodError::TooLong]);
        }
        Ok(Period { from, to })
    }

    /// The first moment of the period (midnight in Oslo on `from`).
    pub fn start(&self) -> DateTime<Utc> {
        oslo_midnight(self.from)
    }

    /// The first moment after the period (midnight in Oslo after `to`).
    pub fn end(&self) -> DateTime<Utc> {
        oslo_midnight(self.to + Duration::days(1))
    }

    /// The calendar months the period touches, oldest first, each clipped to the period.
    pub fn months(&self) -> Vec<Month> {
        let mut months = Vec::new();
        let mut first = self.from;
        while first <= self.to {
            let next_month = first_of_next_month(first);
            let last = (next_month - Duration::days(1)).min(self.to);
            months.push(Month {
                label: format!("{:04}-{:02}", first.year(), first.month()),
                start: oslo_midnight(first),
                end: oslo_midnight(last + Duration::days(1)),
            });
            first = next_month;
        }
        months
    }
}

fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    let (year, month) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    // The first of a month always exists.
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(day)
}

/// One status change as the statistics need it.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
}

/// The working time an order spent in each status it passed through before it ended, in the
/// order it entered them. Every order starts in `received` at `created_at`; each change ends
/// the stay in the status it leaves (its `from`, else the one the previous change entered).
/// A status entered twice adds up. Changes must be in time order; the ending status has no
/// stay.
pub fn status_times(created_at: DateTime<Utc>, changes: &[Change]) -> Vec<(OrderStatus, Duration)> {
    let mut times: Vec<(OrderStatus, Duration)> = Vec::new();
    let (mut current, mut since) = (OrderStatus::Received, created_at);
    for change in changes {
        let left = change.from.unwrap_or(current);
        let stay = calendar::working_time(since, change.at);
        match times.iter_mut().find(|(status, _)| *status == left) {
            Some((_, total)) => *total += stay,
            None => times.push((left, stay)),
        }
        (current, since) = (change.to, change.at);
        if !current.is_open() {
            break;
        }
    }
    times
}

/// A working time in tenths of a working day, rounded half up (the page's one decimal).
pub fn tenths(working_seconds: i64) -> i64 {
    (working_seconds + TENTH_SECONDS / 2) / TENTH_SECONDS
}

/// The `percent`-th percentile by nearest rank: the smallest value that at least `percent`
/// per cent of the values are at or below. The median (50) of an even number of values is
/// the lower of the two middle ones. `histogram` is (value, how many), ascending by value.
/// Nearest rank picks a value that occurs, so a percentile of rounded values is the rounded
/// percentile, and both databases give the same figure from the same counts.
pub fn percentile(histogram: &[(i64, i64)], percent: i64) -> Option<i64> {
    let total: i64 = histogram.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    // ceil(percent * total / 100), at least the first value.
    let rank = ((percent * total + 99) / 100).max(1);
    let mut seen = 0;
    for (value, n) in histogram {
        seen += n;
        if seen >= rank {
            return Some(*value);
        }
    }
    histogram.last().map(|(value, _)| *value)
}

/// Ages (in working days since the order came in) where the open orders' columns split:
/// under 5, 5–9, 10–19, 20 and more.
pub const AGE_BOUNDS: [i64; 3] = [5, 10, 20];

/// The moment before which an order must have come in to be `days` working days old or more
/// on `today`, as the queue counts working days ([`calendar::working_days_between`]: the
/// working days after the day it came in, up to and including today).
pub fn age_cutoff(today: NaiveDate, days: i64) -> DateTime<Utc> {
    // Walk back from today until `days` working days lie after the day reached.
    let (mut day, mut counted) = (today, 0);
    while counted < days {
        if is_working_day(day) {
            counted += 1;
        }
        day -= Duration::days(1);
    }
    oslo_midnight(day + Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn an_empty_form_is_the_last_ninety_days() {
        let today = date(2026, 12, 3);
        let period = Period::parse("", "", today).unwrap();
        assert_eq!(period, Period::default_until(today));
        assert_eq!(period.from, date(2026, 9, 5));
        let only_to = Period::parse(" ", "2026-06-30", today).unwrap();
        assert_eq!(only_to.from, date(2026, 4, 2));
    }

    #[test]
    fn bad_reversed_and_huge_periods_are_refused() {
        let today = date(2026, 12, 3);
        let parse = |from, to| Period::parse(from, to, today);
        assert_eq!(
            parse("2026-13-01", "yesterday"),
            Err(vec![
                PeriodError::NotADate("from"),
                PeriodError::NotADate("to")
            ])
        );
        assert_eq!(
            parse("2026-1-5", ""),
            Err(vec![PeriodError::NotADate("from")])
        );
        assert_eq!(
            parse("2026-02-30", ""),
            Err(vec![PeriodError::NotADate("from")])
        );
        assert_eq!(
            parse("2026-12-01", "2026-11-30"),
            Err(vec![PeriodError::Reversed])
        );
        assert_eq!(
            parse("1900-01-01", "2026-11-30"),
            Err(vec![PeriodError::TooLong])
        );
        assert!(parse("2023-12-04", "2026-12-03").is_ok());
        assert!(parse("2026-12-03", "2026-12-03").is_ok());
    }

    #[test]
    fn a_period_runs_from_midnight_to_midnight_in_oslo_by_month() {
        let period = Period::parse("2026-10-15", "2026-12-03", date(2026, 12, 3)).unwrap();
        assert_eq!(period.start(), at(2026, 10, 14, 22)); // summer time
        assert_eq!(period.end(), at(2026, 12, 3, 23)); // winter time
        let months = period.months();
        let labels: Vec<&str> = months.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(labels, ["2026-10", "2026-11", "2026-12"]);
        assert_eq!(months[0].start, period.start());
        assert_eq!(months[0].end, at(2026, 10, 31, 23));
        assert_eq!(months[1].end, at(2026, 11, 30, 23));
        assert_eq!(months[2].end, period.end());
    }

    #[test]
    fn time_in_each_status_comes_from_the_changes() {
        // A test order in at Friday 20 Nov 2026 15:00 Oslo, loaded Monday 09:00, rejected
        // Monday 21:00.
        let changes = [
            Change {
                at: at(2026, 11, 23, 8),
                from: Some(OrderStatus::Received),
                to: OrderStatus::Tt02Loading,
            },
            Change {
                at: at(2026, 11, 23, 20),
                from: Some(OrderStatus::Tt02Loading),
                to: OrderStatus::Rejected,
            },
        ];
        let times = status_times(at(2026, 11, 20, 14), &changes);
        assert_eq!(
            times,
            [
                (OrderStatus::Received, Duration::hours(18)),
                (OrderStatus::Tt02Loading, Duration::hours(12)),
            ]
        );
        assert_eq!(tenths(Duration::hours(18).num_seconds()), 8);
        assert_eq!(tenths(Duration::hours(12).num_seconds()), 5);
        assert_eq!(tenths(Duration::hours(1).num_seconds()), 0);
    }

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let values = [(1, 1), (3, 1), (5, 1), (8, 1)];
        assert_eq!(percentile(&values, 50), Some(3));
        assert_eq!(percentile(&values, 90), Some(8));
        assert_eq!(percentile(&[(2, 3), (7, 1)], 50), Some(2));
        assert_eq!(percentile(&[(4, 1)], 90), Some(4));
        // Ten values 1..=10: the median is 5, the 90th percentile 9.
        let ten: Vec<(i64, i64)> = (1..=10).map(|v| (v, 1)).collect();
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&ten, 90), Some(9));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn ages_count_working_days_as_the_queue_does() {
        // Monday 23 Nov 2026: one working day old when in on Sunday or before, five when in
        // on Monday a week before or earlier (Tuesday 17 to Monday 23 hold the five).
        let today = date(2026, 11, 23);
        assert_eq!(age_cutoff(today, 1), at(2026, 11, 22, 23));
        assert_eq!(age_cutoff(today, 5), at(2026, 11, 16, 23));
        for days in [1, 5, 10, 20] {
            let cutoff = age_cutoff(today, days);
            let now = at(2026, 11, 23, 12);
            let just_before = cutoff - Duration::seconds(1);
            assert_eq!(calendar::working_days_between(just_before, now), days);
            assert_eq!(calendar::working_days_between(cutoff, now), days - 1);
        }
    }
}
