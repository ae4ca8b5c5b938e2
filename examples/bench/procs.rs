//! The processes the benchmark runs: the app's release binary, nginx and wrk. Every long-lived
//! one sits in a [`Guarded`], which stops it (SIGTERM, then SIGKILL) when dropped, so an error
//! or Ctrl-C never leaves a server behind.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A port that was free a moment ago (bound on port 0, then let go).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Sends `signal` (`TERM`, `KILL`) to `pid` with kill(1): the standard library only has SIGKILL.
fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The direct children of `pid` (nginx's workers), from /proc.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// A child process that is stopped when dropped.
pub struct Guarded {
    child: Option<Child>,
    name: String,
}

impl Guarded {
    pub fn new(child: Child, name: &str) -> Self {
        Guarded {
            child: Some(child),
            name: name.to_owned(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The exit status if the process has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGTERM, then up to `grace` for the process to end, then SIGKILL (its children too).
    /// Blocks the calling thread: for drops. [`Guarded::stop`] is the async one.
    fn stop_blocking(&mut self, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        let kids = children(child.id());
        signal(child.id(), "TERM");
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not stop within {grace:?}: killed", self.name);
        for kid in kids {
            signal(kid, "KILL");
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Waits up to `limit` for the process to end by itself, then stops it.
    pub async fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(status) = self.exited() {
                self.child = None;
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.stop(Duration::from_secs(5)).await
    }

    /// Stops the process as [`Drop`] does, without blocking the runtime; returns how it ended
    /// (`None` when it had to be killed).
    pub async fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        if let Ok(Some(status)) = child.try_wait() {
            self.child = None;
            return Some(status);
        }
        signal(child.id(), "TERM");
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.stop_blocking(Duration::ZERO);
        None
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.stop_blocking(Duration::from_secs(20));
    }
}

/// The app's binary with none of the caller's settings: every variable the app reads
/// (`RRH_*`, `DATABASE_URL`, `RUST_LOG`) comes from the benchmark or is the default.
fn app_command(bin: &Path) -> Command {
    let mut command = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("RRH_") || name_text == "DATABASE_URL" || name_text == "RUST_LOG" {
            command.env_remove(&name);
        }
    }
    command.stdin(Stdio::null());
    command
}

/// Runs `rrh-tt02 migrate` on `database_url`: the same schema, triggers and indexes as the app.
pub fn migrate(bin: &Path, database_url: &str, log: &Path) -> anyhow::Result<()> {
    let out = File::create(log)?;
    let status = app_command(bin)
        .arg("migrate")
        .env("DATABASE_URL", database_url)
        .stdout(out.try_clone()?)
        .stderr(out)
        .status()
        .with_context(|| format!("running {} migrate", bin.display()))?;
    if !status.success() {
        bail!("{} migrate failed: {}", bin.display(), tail(log, 20));
    }
    Ok(())
}

/// How the app is started for one part of the benchmark.
pub struct AppConfig<'a> {
    pub bin: &'a Path,
    pub database_url: String,
    pub mail_dir: PathBuf,
    /// `smtp://127.0.0.1:<port>`: the sink, or the server that never answers.
    pub smtp_url: String,
    /// A loopback port where nothing listens: Enhetsregisteret and the JWKS URLs point there,
    /// so the app can never reach the network.
    pub closed_port: u16,
    pub log: PathBuf,
}

/// The app's release binary, serving on a port of its own.
pub struct App {
    process: Guarded,
    pub port: u16,
    pub log: PathBuf,
}

impl App {
    pub async fn start(config: &AppConfig<'_>) -> anyhow::Result<App> {
        let port = free_port()?;
        let out = File::options()
            .create(true)
            .append(true)
            .open(&config.log)
            .with_context(|| format!("opening {}", config.log.display()))?;
        let nowhere = format!("http://127.0.0.1:{}", config.closed_port);
        let child = app_command(config.bin)
            .arg("serve")
            .env("RRH_LISTEN", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &config.database_url)
            .env("RRH_MAIL_DIR", &config.mail_dir)
            .env("RRH_SMTP_URL", &config.smtp_url)
            // Far more than the load sends, so the limit never answers 429 (it is still
            // counted: one write per order, as in production).
            .env("RRH_ORDERS_PER_HOUR", "1000000000")
            // No order ends during the run; a large value also keeps the purge at start idle.
            .env("RRH_PURGE_AFTER_DAYS", "100000")
            // The held SMTP connection (see `sink::Holder`) must not time out mid-run.
            .env("RRH_SMTP_TIMEOUT_MS", "3600000")
            .env(
                "RRH_ENHETSREGISTERET_URL",
                format!("{nowhere}/enhetsregisteret/api"),
            )
            .env("RRH_MASKINPORTEN_TEST_JWKS_URL", format!("{nowhere}/jwk"))
            .env("RRH_MASKINPORTEN_PROD_JWKS_URL", format!("{nowhere}/jwk"))
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {}", config.bin.display()))?;
        let mut app = App {
            process: Guarded::new(child, "the app"),
            port,
            log: config.log.clone(),
        };
        app.wait_ready().await?;
        Ok(app)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.process.exited() {
                bail!("the app exited ({status}): {}", tail(&self.log, 30));
            }
            let ready = client
                .get(self.url("/health/ready"))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > until {
                bail!("the app was not ready within 60 s: {}", tail(&self.log, 30));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM and wait for the app to end as it does in production (it gives back its mail
    /// claims); an error if it did not end by itself within 30 s or ended badly.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        match self.process.stop(Duration::from_secs(30)).await {
            Some(status) if status.success() => Ok(()),
            Some(status) => bail!("the app ended with {status}: {}", tail(&self.log, 20)),
            None => bail!("the app did not stop within 30 s of SIGTERM"),
        }
    }
}

/// nginx serving one page, `/orders/new`, as a static file.
pub struct Nginx {
    _process: Guarded,
    pub port: u16,
}

impl Nginx {
    /// Writes `page` and a minimal configuration to `dir` and starts nginx on a free port:
    /// `worker_processes auto`, the default access log (combined format) to a file, sendfile,
    /// and gzip at level 1 for clients that ask for it.
    pub async fn start(dir: &Path, page: &[u8]) -> anyhow::Result<Nginx> {
        let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists())
            .context("nginx is not installed (scripts/bench installs it)")?;
        let port = free_port()?;
        let www = dir.join("www");
        std::fs::create_dir_all(dir.join("temp"))?;
        std::fs::create_dir_all(&www)?;
        std::fs::write(www.join("orders-new.html"), page)?;
        // nginx's workers run as `nobody` when the master is root: they must read the page.
        make_readable(dir)?;
        let d = dir.display();
        let config = format!(
            "daemon off;
worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{ text/html html; }}
    charset utf-8;
    access_log {d}/access.log;
    sendfile on;
    client_body_temp_path {d}/temp/body;
    proxy_temp_path {d}/temp/proxy;
    fastcgi_temp_path {d}/temp/fastcgi;
    uwsgi_temp_path {d}/temp/uwsgi;
    scgi_temp_path {d}/temp/scgi;
    gzip on;
    gzip_comp_level 1;
    gzip_types text/html;
    gzip_min_length 0;
    server {{
        listen 127.0.0.1:{port};
        root {d}/www;
        location = /orders/new {{ try_files /orders-new.html =404; }}
    }}
}}
"
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config)?;
        let log = File::create(dir.join("stderr.log"))?;
        let child = Command::new(bin)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting nginx")?;
        let mut process = Guarded::new(child, "nginx");
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/orders/new");
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = process.exited() {
                bail!(
                    "nginx exited ({status}): {} {}",
                    tail(&dir.join("stderr.log"), 10),
                    tail(&dir.join("error.log"), 10)
                );
            }
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(Nginx {
                    _process: process,
                    port,
                });
            }
            if Instant::now() > until {
                bail!("nginx did not serve within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// Opens `dir` and everything in it to reading (the temp folder is private by default).
fn make_readable(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            make_readable(&entry.path())?;
        } else {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o644))?;
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    let mut parent = dir.parent();
    // The benchmark's own temp folder above it, up to (not including) the system's.
    while let Some(p) = parent {
        if p == std::env::temp_dir() || p.parent().is_none() {
            break;
        }
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))?;
        parent = p.parent();
    }
    Ok(())
}

/// What one wrk run reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wrk {
    pub requests_per_second: f64,
    pub requests: u64,
    /// Answers other than 2xx or 3xx.
    pub bad_answers: u64,
    /// Connect, read, write errors and timeouts.
    pub socket_errors: u64,
}

/// `wrk -t1 -c<connections> -d<seconds>s url`, with `Accept-Encoding: gzip` when `gzip`.
pub async fn wrk(url: &str, seconds: u64, connections: u32, gzip: bool) -> anyhow::Result<Wrk> {
    let mut command = Command::new("wrk");
    command
        .arg("-t1")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("--timeout")
        .arg("5s");
    if gzip {
        command.arg("-H").arg("Accept-Encoding: gzip");
    }
    command
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .context("running wrk (scripts/bench installs it)")?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    // Guarded, so a benchmark that is interrupted does not leave wrk running.
    let mut process = Guarded::new(child, "wrk");
    let (text, errors) = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let (mut text, mut errors) = (String::new(), String::new());
        if let Some(mut out) = stdout {
            let _ = out.read_to_string(&mut text);
        }
        if let Some(mut err) = stderr {
            let _ = err.read_to_string(&mut errors);
        }
        (text, errors)
    })
    .await?;
    let status = process.wait(Duration::from_secs(10)).await;
    if !status.is_some_and(|s| s.success()) {
        bail!("wrk failed: {text} {errors}");
    }
    parse_wrk(&text).with_context(|| format!("reading wrk's output: {text}"))
}

fn parse_wrk(text: &str) -> anyhow::Result<Wrk> {
    let mut wrk = Wrk::default();
    let mut seen_rate = false;
    for line in text.lines().map(str::trim) {
        if let Some(rate) = line.strip_prefix("Requests/sec:") {
            wrk.requests_per_second = rate.trim().parse()?;
            seen_rate = true;
        } else if let Some(count) = line.strip_prefix("Non-2xx or 3xx responses:") {
            wrk.bad_answers = count.trim().parse()?;
        } else if let Some(errors) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            wrk.socket_errors = errors
                .split(',')
                .filter_map(|part| part.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum();
        } else if line.contains(" requests in ") {
            wrk.requests = line
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        }
    }
    if !seen_rate {
        bail!("no Requests/sec line");
    }
    Ok(wrk)
}

/// A field of /proc/<pid>/status in kB (`VmRSS`, `VmHWM`).
pub fn memory_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The last `lines` lines of a log file, for error messages.
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    format!(
        "last lines of {}:\n{}",
        path.display(),
        all[all.len().saturating_sub(lines)..].join("\n")
    )
}

/// Log lines at WARN or ERROR level, for the report: a benchmark that provokes warnings has
/// found something.
pub fn warnings(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(strip_colours)
        .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
        .collect()
}

/// `line` without ANSI colour sequences (`ESC [ ... m`), which the app writes to its log
/// even when that is a file.
fn strip_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let text = "Running 5s test @ http://127.0.0.1:1/orders/new
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.00ms  100.00us   2.00ms   90.00%
    Req/Sec    10.00k     1.00k   12.00k    80.00%
  50000 requests in 5.00s, 100.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  10000.50
Transfer/sec:     20.00MB
";
        let wrk = parse_wrk(text).unwrap();
        assert_eq!(
            strip_colours("\u{1b}[2mtime\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m mail not sent"),
            "time  WARN mail not sent"
        );
        assert_eq!(wrk.requests, 50000);
        assert_eq!(wrk.socket_errors, 3);
        assert_eq!(wrk.bad_answers, 4);
        assert!((wrk.requests_per_second - 10000.5).abs() < 1e-9);
    }
}
