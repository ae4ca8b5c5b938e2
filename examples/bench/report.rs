//! The table: each figure beside its ceiling from the same run, the ratio and the goal, in
//! Markdown; and the machine it ran on.

use std::fmt::Write as _;

/// The goal of a row.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// The figure is at least this fraction of its ceiling.
    RatioAtLeast(f64),
    /// The figure is at most this many (bytes, kB...).
    AtMost(f64, &'static str),
}

#[derive(Debug, Clone)]
pub struct Row {
    pub measure: String,
    pub figure: f64,
    pub unit: &'static str,
    pub ceiling: Option<f64>,
    pub goal: Goal,
    /// The rounds behind a median, and anything that went wrong.
    pub notes: Vec<String>,
    /// Errors seen in the measurement: a row with errors is not met, whatever its figure.
    pub errors: Vec<String>,
}

impl Row {
    pub fn ratio(&self) -> Option<f64> {
        self.ceiling
            .filter(|c| *c > 0.0)
            .map(|ceiling| self.figure / ceiling)
    }

    pub fn met(&self) -> bool {
        self.errors.is_empty()
            && match self.goal {
                Goal::RatioAtLeast(goal) => self.ratio().is_some_and(|r| r >= goal),
                Goal::AtMost(limit, _) => self.figure <= limit,
            }
    }
}

/// The median of the rounds (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// 12345.6 -> "12,346"; small numbers keep a decimal.
pub fn number(x: f64) -> String {
    if x.abs() < 100.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

pub fn rounds(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| number(*v))
        .collect::<Vec<_>>()
        .join(" / ")
}

pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| measure | figure | ceiling | ratio | goal | met |\n|---|---:|---:|---:|---|---|\n",
    );
    for row in rows {
        let figure = format!("{} {}", number(row.figure), row.unit);
        let ceiling = row
            .ceiling
            .map_or("—".to_owned(), |c| format!("{} {}", number(c), row.unit));
        let ratio = row.ratio().map_or("—".to_owned(), |r| {
            if r < 0.1 {
                format!("{r:.3}×")
            } else {
                format!("{r:.2}×")
            }
        });
        let goal = match row.goal {
            Goal::RatioAtLeast(g) => format!("≥ {g}×"),
            Goal::AtMost(limit, unit) => format!("≤ {} {unit}", number(limit)),
        };
        let met = if row.met() { "met" } else { "**not met**" };
        let _ = writeln!(
            out,
            "| {} | {figure} | {ceiling} | {ratio} | {goal} | {met} |",
            row.measure
        );
    }
    out
}

pub fn notes(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        if row.notes.is_empty() && row.errors.is_empty() {
            continue;
        }
        let _ = writeln!(out, "- {}:", row.measure);
        for note in &row.notes {
            let _ = writeln!(out, "  - {note}");
        }
        for error in &row.errors {
            let _ = writeln!(out, "  - ERROR: {error}");
        }
    }
    out
}

/// nproc, CPU model, kernel, date and load.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or("unknown".into(), |kb| {
            format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0)
        });
    format!(
        "nproc {cpus}; CPU {model}; memory {memory}; kernel {kernel}; {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    )
}

/// The 1-, 5- and 15-minute load averages: other work on the machine shows here.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_numbers() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(number(1234567.4), "1,234,567");
        assert_eq!(number(12.34), "12.3");
    }
}
