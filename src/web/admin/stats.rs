//! The registry's process statistics (`/admin/stats`) and their table by month as CSV
//! (`/admin/stats.csv`), for case handlers and admins. Both read the period from `from` and
//! `to` in the query string. The charts are SVG bars without script, hidden from screen
//! readers: each has its table right after it, with the same figures.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, Utc};

use super::session::CaseHandler;
use crate::app::stats::{self, CheckFailures, OUTCOMES, Report};
use crate::csv;
use crate::domain::stats::{AGE_BOUNDS, Period, PeriodError};
use crate::domain::{Environment, OrderStatus};
use crate::i18n::Tr;
use crate::web::error::{AppError, html};
use crate::web::extract::Visit;
use crate::web::view::{FormView, Page};

pub const PATH: &str = "/admin/stats";
pub const CSV_PATH: &str = "/admin/stats.csv";

/// One bar of a chart: its label, the figure as the table shows it, and its length in per
/// cent of the longest bar.
pub struct Bar {
    pub label: String,
    pub value: String,
    pub width: String,
}

/// Bars for `(label, amount, shown)`, the longest amount filling the chart.
fn bars(items: Vec<(String, i64, String)>) -> Vec<Bar> {
    let longest = items.iter().map(|(_, n, _)| *n).max().unwrap_or(0).max(1);
    items
        .into_iter()
        .map(|(label, n, value)| Bar {
            label,
            value,
            width: format!("{:.1}", n.max(0) as f64 * 100.0 / longest as f64),
        })
        .collect()
}

/// A count of tenths of a working day with its one decimal, as the language writes it.
pub fn tenths_text(tr: Tr, tenths: i64) -> String {
    let mark = if tr.code() == "en" { '.' } else { ',' };
    format!("{}{mark}{}", tenths / 10, tenths % 10)
}

/// One line of a table: its heading cell and its figures.
pub struct Line {
    pub label: String,
    /// `data-` name for tests and styling: a status, an environment, a month.
    pub key: String,
    pub cells: Vec<String>,
}

/// A line of the table by month, which is also the CSV's.
pub struct MonthLine {
    pub month: String,
    /// The environment's code (the CSV's) and name (the page's).
    pub code: &'static str,
    pub environment: &'static str,
    pub cells: Vec<String>,
}

pub struct CheckView {
    pub heading: String,
    pub caption: String,
    pub bars: Vec<Bar>,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "admin/stats.html")]
struct StatsPage {
    page: Page,
    form: FormView,
    /// `None` when the period is not valid: the page shows the form and its errors only.
    figures: Option<Figures>,
}

struct Figures {
    period_text: String,
    csv_link: String,
    environments: Vec<&'static str>,
    outcomes: Vec<&'static str>,
    ended_bars: Vec<Bar>,
    ended: Vec<Line>,
    months: Vec<MonthLine>,
    time_bars: Vec<Bar>,
    times: Vec<Line>,
    ages: Vec<String>,
    open_bars: Vec<Bar>,
    open: Vec<Line>,
    checks: Vec<CheckView>,
}

/// The period in the query string, or the messages for the form.
fn period(query: &HashMap<String, String>, today: NaiveDate) -> Result<Period, Vec<PeriodError>> {
    let get = |name: &str| query.get(name).map(String::as_str).unwrap_or("");
    Period::parse(get("from"), get("to"), today)
}

fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Europe::Oslo)
        .date_naive()
}

fn date_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

pub async fn page(
    user: CaseHandler,
    visit: Visit,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let tr = visit.tr();
    let title = tr.t("admin.stats.title");
    let mut form = FormView::typed(&query, &["from", "to"]);
    let page = Page::workspace(tr, title, PATH, user.nav());
    let period = match period(&query, today()) {
        Ok(period) => period,
        Err(errors) => {
            for error in errors {
                form.add_error(error.field(), tr.t(error.key()).to_owned());
            }
            let page = StatsPage {
                page: page.with_form(&form),
                form,
                figures: None,
            };
            return html(StatusCode::BAD_REQUEST, &page);
        }
    };
    form.set("from", date_text(period.from));
    form.set("to", date_text(period.to));
    let report = stats::report(&visit.ctx, period, Utc::now()).await?;
    let page = StatsPage {
        page: Page {
            path: format!("{PATH}?{}", period_query(&period)),
            ..page
        },
        form,
        figures: Some(figures(tr, &report)),
    };
    html(StatusCode::OK, &page)
}

fn period_query(period: &Period) -> String {
    format!(
        "from={}&to={}",
        date_text(period.from),
        date_text(period.to)
    )
}

fn figures(tr: Tr, report: &Report) -> Figures {
    let period = &report.period;
    let environments = Environment::ALL
        .iter()
        .map(|e| tr.environment(*e))
        .collect();
    let outcomes = OUTCOMES.iter().map(|o| tr.status(*o)).collect();
    let (ended_bars, ended) = ended(tr, report);
    let (time_bars, times) = times(tr, report);
    let (open_bars, open) = open(tr, report);
    Figures {
        period_text: tr.fill(
            "admin.stats.period_text",
            &[
                ("from", &period.from.format("%d.%m.%Y").to_string()),
                ("to", &period.to.format("%d.%m.%Y").to_string()),
            ],
        ),
        csv_link: format!("{CSV_PATH}?{}", period_query(period)),
        environments,
        outcomes,
        ended_bars,
        ended,
        months: months(tr, report),
        time_bars,
        times,
        ages: age_labels(tr),
        open_bars,
        open,
        checks: report.checks.iter().map(|c| check_view(tr, c)).collect(),
    }
}

/// Ended orders by outcome (rows) and environment (columns), and a bar per outcome.
fn ended(tr: Tr, report: &Report) -> (Vec<Bar>, Vec<Line>) {
    let lines: Vec<(OrderStatus, Vec<i64>)> = OUTCOMES
        .iter()
        .enumerate()
        .map(|(i, outcome)| {
            let per_env: Vec<i64> = report.totals.iter().map(|(_, o)| o.0[i]).collect();
            (*outcome, per_env)
        })
        .collect();
    let bars = bars(
        lines
            .iter()
            .map(|(o, n)| {
                let total: i64 = n.iter().sum();
                (tr.status(*o).to_owned(), total, total.to_string())
            })
            .collect(),
    );
    let lines = lines
        .into_iter()
        .map(|(outcome, per_env)| Line {
            label: tr.status(outcome).to_owned(),
            key: outcome.as_str().to_owned(),
            cells: per_env
                .iter()
                .chain(std::iter::once(&per_env.iter().sum()))
                .map(i64::to_string)
                .collect(),
        })
        .collect();
    (bars, lines)
}

/// A line per month and environment: the outcomes and their total. The same lines are the
/// CSV's.
fn months(tr: Tr, report: &Report) -> Vec<MonthLine> {
    report
        .months
        .iter()
        .flat_map(|month| {
            month
                .environments
                .iter()
                .map(move |(environment, outcomes)| MonthLine {
                    month: month.label.clone(),
                    code: environment.as_str(),
                    environment: tr.environment(*environment),
                    cells: outcomes
                        .0
                        .iter()
                        .chain(std::iter::once(&outcomes.total()))
                        .map(i64::to_string)
                        .collect(),
                })
        })
        .collect()
}

/// Median and 90th percentile per status, with a bar per median.
fn times(tr: Tr, report: &Report) -> (Vec<Bar>, Vec<Line>) {
    let bars = bars(
        report
            .status_times
            .iter()
            .map(|t| {
                (
                    tr.status(t.status).to_owned(),
                    t.median,
                    tenths_text(tr, t.median),
                )
            })
            .collect(),
    );
    let lines = report
        .status_times
        .iter()
        .map(|t| Line {
            label: tr.status(t.status).to_owned(),
            key: t.status.as_str().to_owned(),
            cells: vec![
                t.stays.to_string(),
                tenths_text(tr, t.median),
                tenths_text(tr, t.p90),
            ],
        })
        .collect();
    (bars, lines)
}

/// The age bands' column headings: under 5, 5–9, 10–19, 20 or more working days.
fn age_labels(tr: Tr) -> Vec<String> {
    let mut labels = Vec::new();
    let mut low = 0;
    for high in AGE_BOUNDS {
        let last = (high - 1).to_string();
        labels.push(if low == 0 {
            tr.fill("admin.stats.age_under", &[("days", &high.to_string())])
        } else {
            tr.fill(
                "admin.stats.age_between",
                &[("from", &low.to_string()), ("to", &last)],
            )
        });
        low = high;
    }
    labels.push(tr.fill("admin.stats.age_over", &[("days", &low.to_string())]));
    labels
}

/// The open orders by status (rows) and age (columns), with a bar per status.
fn open(tr: Tr, report: &Report) -> (Vec<Bar>, Vec<Line>) {
    let bars = bars(
        report
            .open
            .iter()
            .map(|o| (tr.status(o.status).to_owned(), o.total, o.total.to_string()))
            .collect(),
    );
    let lines = report
        .open
        .iter()
        .map(|o| Line {
            label: tr.status(o.status).to_owned(),
            key: o.status.as_str().to_owned(),
            cells: o
                .ages
                .iter()
                .chain(std::iter::once(&o.total))
                .map(i64::to_string)
                .collect(),
        })
        .collect();
    (bars, lines)
}

/// A check's failures: a line and a bar per check name, most failed first.
fn check_view(tr: Tr, failures: &CheckFailures) -> CheckView {
    let label = |name: &str| {
        let key = failures.check.label_key.replace("{name}", name);
        // A name the catalog does not know (from an older or newer version) shows as it is.
        if tr.has(&key) {
            tr.fill(&key, &[("maskinporten", "Maskinporten")])
        } else {
            name.to_owned()
        }
    };
    let kind = failures.check.kind;
    let lines = failures
        .names
        .iter()
        .map(|(name, n)| Line {
            label: label(name),
            key: name.clone(),
            cells: vec![n.to_string()],
        })
        .collect();
    CheckView {
        heading: tr.t(&format!("admin.stats.check.{kind}")).to_owned(),
        caption: tr.fill(
            "admin.stats.checks_caption",
            &[("runs", &failures.runs.to_string())],
        ),
        bars: bars(
            failures
                .names
                .iter()
                .map(|(name, n)| (label(name), *n, n.to_string()))
                .collect(),
        ),
        lines,
    }
}

/// The CSV's columns: the month, the environment, each outcome and the total, as stable
/// codes (like the queue's export) so a spreadsheet's formulas survive a change of language.
pub fn csv_header() -> Vec<&'static str> {
    ["month", "environment"]
        .into_iter()
        .chain(OUTCOMES.iter().map(|o| o.as_str()))
        .chain(["total"])
        .collect()
}

pub async fn csv_export(
    _user: CaseHandler,
    visit: Visit,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let period = period(&query, today()).map_err(|errors| {
        AppError::BadRequest(
            errors
                .first()
                .map_or("admin.stats.error.bad_from", |e| e.key()),
        )
    })?;
    let report = stats::report(&visit.ctx, period, Utc::now()).await?;
    let mut body = format!("{}{}", csv::BOM, csv::line(&csv_header()));
    for line in months(visit.tr(), &report) {
        let cells: Vec<&str> = [line.month.as_str(), line.code]
            .into_iter()
            .chain(line.cells.iter().map(String::as_str))
            .collect();
        body.push_str(&csv::line(&cells));
    }
    let filename = format!(
        "rrh-stats-{}-{}.csv",
        period.from.format("%Y%m%d"),
        period.to.format("%Y%m%d")
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header(("cache-control", "no-store"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn working_days_have_one_decimal_in_the_language_s_own_way() {
        assert_eq!(tenths_text(Tr::new(Lang::Nb), 8), "0,8");
        assert_eq!(tenths_text(Tr::new(Lang::Nn), 125), "12,5");
        assert_eq!(tenths_text(Tr::new(Lang::En), 30), "3.0");
    }

    #[test]
    fn bars_are_in_proportion_to_the_longest() {
        let bars = bars(vec![
            ("a".into(), 4, "4".into()),
            ("b".into(), 1, "1".into()),
            ("c".into(), 0, "0".into()),
        ]);
        let widths: Vec<&str> = bars.iter().map(|b| b.width.as_str()).collect();
        assert_eq!(widths, ["100.0", "25.0", "0.0"]);
        assert_eq!(
            super::bars(vec![("z".into(), 0, "0".into())])[0].width,
            "0.0"
        );
    }

    #[test]
    fn the_csv_has_the_month_the_environment_and_each_outcome() {
        assert_eq!(
            csv_header().join(";"),
            "month;environment;completed;rejected;withdrawn;total"
        );
    }
}
