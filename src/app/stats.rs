//! The registry's process statistics: the orders that ended in a period by month, outcome
//! and environment; how long orders spent in each status; the open orders by status and age;
//! and the checks vendors fail most. See `domain::stats` for how time is counted.

use chrono::{DateTime, Utc};

use super::{Context, Failure};
use crate::domain::stats::{AGE_BOUNDS, Period, age_cutoff, percentile};
use crate::domain::{Environment, OrderStatus};
use crate::store::events::{CHECK_EVENTS, CheckEvent};
use crate::store::stats;

/// The ways an order ends, in the order the tables show them.
pub const OUTCOMES: [OrderStatus; 3] = [
    OrderStatus::Completed,
    OrderStatus::Rejected,
    OrderStatus::Withdrawn,
];

/// Ended orders of one environment: how many per outcome, in [`OUTCOMES`]' order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcomes(pub [i64; 3]);

impl Outcomes {
    pub fn total(&self) -> i64 {
        self.0.iter().sum()
    }

    fn add(&mut self, outcome: OrderStatus, n: i64) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.0[i] += n;
        }
    }
}

/// One month of the period (clipped to it): ended orders per environment, in
/// [`Environment::ALL`]'s order.
#[derive(Debug, Clone)]
pub struct MonthRow {
    pub label: String,
    pub environments: Vec<(Environment, Outcomes)>,
}

/// Time in one status, over the stays of the orders that ended in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusTime {
    pub status: OrderStatus,
    /// How many ended orders passed through the status.
    pub stays: i64,
    /// In tenths of a working day.
    pub median: i64,
    pub p90: i64,
}

/// The open orders of one status now, by age: `ages[i]` came in at least `AGE_BOUNDS[i-1]`
/// and less than `AGE_BOUNDS[i]` working days ago (the first from 0, the last with no end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRow {
    pub status: OrderStatus,
    pub total: i64,
    pub ages: Vec<i64>,
}

/// The failures of one kind of check in the period.
#[derive(Debug, Clone)]
pub struct CheckFailures {
    pub check: CheckEvent,
    /// Failed runs of the check.
    pub runs: i64,
    /// Each check name with how many failed runs it failed in, most first.
    pub names: Vec<(String, i64)>,
}

pub struct Report {
    pub period: Period,
    pub months: Vec<MonthRow>,
    /// The period's ended orders per environment.
    pub totals: Vec<(Environment, Outcomes)>,
    /// The open statuses, in workflow order; a status no ended order passed is left out.
    pub status_times: Vec<StatusTime>,
    pub open: Vec<OpenRow>,
    pub checks: Vec<CheckFailures>,
}

pub async fn report(ctx: &Context, period: Period, now: DateTime<Utc>) -> Result<Report, Failure> {
    let mut conn = ctx.db.acquire().await?;
    let (start, end) = (period.start(), period.end());
    let mut months = Vec::new();
    let mut totals: Vec<(Environment, Outcomes)> = Environment::ALL
        .iter()
        .map(|e| (*e, Outcomes::default()))
        .collect();
    // A query per month, with the month's bounds in Oslo time: grouping stored UTC times by
    // their text would put the last hours of a month into the next one.
    for month in period.months() {
        let mut environments = totals.clone();
        environments
            .iter_mut()
            .for_each(|(_, o)| *o = Outcomes::default());
        for (outcome, environment, n) in stats::ended(&mut conn, month.start, month.end).await? {
            for (e, outcomes) in environments.iter_mut().chain(totals.iter_mut()) {
                if *e == environment {
                    outcomes.add(outcome, n);
                }
            }
        }
        months.push(MonthRow {
            label: month.label,
            environments,
        });
    }
    let histogram = stats::status_time_histogram(&mut conn, start, end).await?;
    let status_times = status_times(&histogram);
    let today = now.with_timezone(&chrono_tz::Europe::Oslo).date_naive();
    let cutoffs: Vec<DateTime<Utc>> = AGE_BOUNDS.iter().map(|d| age_cutoff(today, *d)).collect();
    let open = open_rows(stats::open_by_age(&mut conn, &cutoffs).await?);
    let mut checks = Vec::new();
    for check in CHECK_EVENTS {
        let lists = stats::failed_checks(&mut conn, *check, start, end).await?;
        checks.push(check_failures(*check, &lists));
    }
    Ok(Report {
        period,
        months,
        totals,
        status_times,
        open,
        checks,
    })
}

/// Median and 90th percentile per status, from the histogram's (status, tenths, stays).
fn status_times(histogram: &[(OrderStatus, i64, i64)]) -> Vec<StatusTime> {
    OrderStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .filter_map(|status| {
            let values: Vec<(i64, i64)> = histogram
                .iter()
                .filter(|(s, _, _)| s == status)
                .map(|(_, tenths, n)| (*tenths, *n))
                .collect();
            Some(StatusTime {
                status: *status,
                stays: values.iter().map(|(_, n)| n).sum(),
                median: percentile(&values, 50)?,
                p90: percentile(&values, 90)?,
            })
        })
        .collect()
}

/// Every open status in workflow order, with its orders split by age from the counts of
/// orders older than each bound.
fn open_rows(counted: Vec<(OrderStatus, i64, Vec<i64>)>) -> Vec<OpenRow> {
    OrderStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|status| {
            let (total, older) = counted
                .iter()
                .find(|(s, _, _)| s == status)
                .map(|(_, total, older)| (*total, older.clone()))
                .unwrap_or((0, vec![0; AGE_BOUNDS.len()]));
            // At least 0, at least each bound: the difference of neighbours is each band.
            let at_least: Vec<i64> = std::iter::once(total).chain(older).collect();
            let ages = at_least
                .iter()
                .zip(at_least.iter().skip(1).chain(std::iter::once(&0)))
                .map(|(this, next)| this - next)
                .collect();
            OpenRow {
                status: *status,
                total,
                ages,
            }
        })
        .collect()
}

fn check_failures(check: CheckEvent, lists: &[Vec<String>]) -> CheckFailures {
    let mut names: Vec<(String, i64)> = Vec::new();
    for name in lists.iter().flatten() {
        match names.iter_mut().find(|(n, _)| n == name) {
            Some((_, count)) => *count += 1,
            None => names.push((name.clone(), 1)),
        }
    }
    // Most first; a tie by name, so the order does not depend on the database's.
    names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    CheckFailures {
        check,
        runs: lists.len() as i64,
        names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_orders_are_split_into_age_bands() {
        let rows = open_rows(vec![(OrderStatus::Delegated, 10, vec![6, 3, 1])]);
        let delegated = rows
            .iter()
            .find(|r| r.status == OrderStatus::Delegated)
            .unwrap();
        assert_eq!(delegated.ages, [4, 3, 2, 1]);
        let received = rows
            .iter()
            .find(|r| r.status == OrderStatus::Received)
            .unwrap();
        assert_eq!(
            (received.total, received.ages.clone()),
            (0, vec![0, 0, 0, 0])
        );
        assert_eq!(rows.len(), 5);
    }

    #[test]
    fn failed_checks_are_counted_most_first() {
        let lists = vec![
            vec!["scope".to_owned(), "expiry".to_owned()],
            vec!["expiry".to_owned()],
            vec![],
        ];
        let failures = check_failures(CHECK_EVENTS[0], &lists);
        assert_eq!(failures.runs, 3);
        assert_eq!(
            failures.names,
            [("expiry".to_owned(), 2), ("scope".to_owned(), 1)]
        );
    }
}
