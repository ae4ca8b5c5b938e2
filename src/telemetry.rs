//! Logs: human-readable lines by default, JSON with `RRH_LOG_FORMAT=json`; level from
//! `RUST_LOG` (default `info`). Log lines never carry personal data or tokens: handlers log
//! references and ids, and the request log names route patterns, not paths.
//!
//! `RRH_LOG_SPANS=1` adds a line with its time as each span closes: with
//! `RUST_LOG=info,rrh_tt02=debug`, where one submission's time goes (parse, rate-limit look,
//! registry look-up, rendering the emails, the turn to write, the commit), as in
//! docs/benchmarks.md.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let json = std::env::var("RRH_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Colours only for a person at a terminal: escape codes in a log file are noise, and
    // cost bytes on every request's line.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .with_span_events(if std::env::var_os("RRH_LOG_SPANS").is_some() {
            FmtSpan::CLOSE
        } else {
            FmtSpan::NONE
        })
        .with_target(false);
    // A second init (tests start several apps in one process) keeps the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
