//! Prometheus metrics: the process-local counters (mail deliveries, HTTP request durations)
//! and the text exposition format. What several instances share (orders, the outbox) is
//! read from the database at scrape time by `app::metrics`; only what one process saw is
//! counted here. A small hand-written registry: two metric families do not need a crate.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How a delivery attempt ended, the `result` label of `rrh_mail_delivery_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Refused for now (or timed out): tried again later, or failed when attempts ran out.
    TemporaryFailure,
    /// Refused for good (a 5xx reply, an unusable address).
    PermanentFailure,
}

impl Delivery {
    pub const ALL: [Delivery; 3] = [
        Delivery::Sent,
        Delivery::TemporaryFailure,
        Delivery::PermanentFailure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Sent => "sent",
            Delivery::TemporaryFailure => "temporary_failure",
            Delivery::PermanentFailure => "permanent_failure",
        }
    }
}

/// Upper bounds of the request duration buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or below each bound (not cumulative; summed when written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What this process has counted since it started.
#[derive(Debug, Default)]
pub struct Metrics {
    deliveries: [AtomicU64; 3],
    /// By (route pattern, status class).
    requests: Mutex<BTreeMap<(String, &'static str), Histogram>>,
}

impl Metrics {
    pub fn delivery(&self, result: Delivery) {
        let index = Delivery::ALL.iter().position(|d| *d == result).unwrap_or(0);
        self.deliveries[index].fetch_add(1, Ordering::Relaxed);
    }

    /// One answered request: its route pattern (never the concrete path, which may carry
    /// references or link tokens), its status code and how long it took.
    pub fn request(&self, route: &str, status: u16, elapsed: Duration) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let seconds = elapsed.as_secs_f64();
        let Ok(mut requests) = self.requests.lock() else {
            return;
        };
        let histogram = requests.entry((route.to_owned(), class)).or_default();
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket] += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// Writes this process's families in the text format.
    pub fn write(&self, out: &mut Exposition) {
        out.family(
            "rrh_mail_delivery_total",
            "Delivery attempts by this process, by how they ended.",
            "counter",
        );
        for (result, count) in Delivery::ALL.iter().zip(&self.deliveries) {
            out.sample(
                "rrh_mail_delivery_total",
                &[("result", result.as_str())],
                count.load(Ordering::Relaxed) as f64,
            );
        }
        out.family(
            "rrh_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern and status class.",
            "histogram",
        );
        let requests = match self.requests.lock() {
            Ok(requests) => requests.clone(),
            Err(_) => return,
        };
        for ((route, class), histogram) in &requests {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(histogram.buckets) {
                cumulative += n;
                out.sample(
                    "rrh_http_request_duration_seconds_bucket",
                    &[
                        ("route", route),
                        ("status", class),
                        ("le", &bound.to_string()),
                    ],
                    cumulative as f64,
                );
            }
            let labels = [("route", route.as_str()), ("status", class)];
            out.sample(
                "rrh_http_request_duration_seconds_bucket",
                &[labels[0], labels[1], ("le", "+Inf")],
                histogram.count as f64,
            );
            out.sample(
                "rrh_http_request_duration_seconds_sum",
                &labels,
                histogram.sum,
            );
            out.sample(
                "rrh_http_request_duration_seconds_count",
                &labels,
                histogram.count as f64,
            );
        }
    }
}

/// The Prometheus text exposition format (version 0.0.4), written family by family.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    pub const CONTENT_TYPE: &'static str = "text/plain; version=0.0.4; charset=utf-8";

    /// Starts a family: its `# HELP` and `# TYPE` lines.
    pub fn family(&mut self, name: &str, help: &str, kind: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            let labels: Vec<String> = labels
                .iter()
                .map(|(key, value)| format!("{key}=\"{}\"", escape(value)))
                .collect();
            let _ = write!(self.text, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }

    pub fn finish(self) -> String {
        self.text
    }
}

/// A label value as the format needs it: backslash, double quote and line feed escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_labels_escaped() {
        let metrics = Metrics::default();
        metrics.request("/orders/{reference}", 200, Duration::from_millis(3));
        metrics.request("/orders/{reference}", 201, Duration::from_millis(30));
        metrics.request("/a\"b", 503, Duration::from_secs(60));
        metrics.delivery(Delivery::Sent);
        let mut out = Exposition::default();
        metrics.write(&mut out);
        let text = out.finish();
        for line in [
            "rrh_mail_delivery_total{result=\"sent\"} 1",
            "rrh_mail_delivery_total{result=\"permanent_failure\"} 0",
            "rrh_http_request_duration_seconds_bucket{route=\"/orders/{reference}\",status=\"2xx\",le=\"0.005\"} 1",
            "rrh_http_request_duration_seconds_bucket{route=\"/orders/{reference}\",status=\"2xx\",le=\"0.05\"} 2",
            "rrh_http_request_duration_seconds_bucket{route=\"/orders/{reference}\",status=\"2xx\",le=\"+Inf\"} 2",
            "rrh_http_request_duration_seconds_count{route=\"/orders/{reference}\",status=\"2xx\"} 2",
            "rrh_http_request_duration_seconds_bucket{route=\"/a\\\"b\",status=\"5xx\",le=\"10\"} 0",
            "rrh_http_request_duration_seconds_bucket{route=\"/a\\\"b\",status=\"5xx\",le=\"+Inf\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
    }
}
