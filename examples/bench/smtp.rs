//! SMTP on loopback: a sink that accepts everything and records when each message arrived, a
//! server that accepts connections and never answers (to hold the app's mail back), and the
//! plain client that is the mail row's ceiling.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One message as it crossed the wire: the envelope and the DATA bytes exactly as sent
/// (dot-stuffed, ending with the `.` line).
#[derive(Debug, Clone)]
pub struct Message {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

/// A message and when its final `.` line was read.
pub struct Arrival {
    pub at: Instant,
    pub message: Message,
}

type Arrivals = Arc<Mutex<Vec<Arrival>>>;

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The SMTP sink: 220, 250 to EHLO/HELO/MAIL/RCPT/RSET/NOOP, 354 to DATA, 250 after the
/// message, 221 to QUIT; any number of connections and of messages per connection.
pub struct Sink {
    pub port: u16,
    arrivals: Arrivals,
    connections: Arc<AtomicUsize>,
    _accept: AbortOnDrop,
}

impl Sink {
    pub async fn start() -> anyhow::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let arrivals: Arrivals = Arc::default();
        let connections = Arc::new(AtomicUsize::new(0));
        let (shared, counted) = (arrivals.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::Relaxed);
                let arrivals = shared.clone();
                tokio::spawn(async move {
                    if let Err(err) = serve(stream, arrivals).await {
                        eprintln!("SMTP sink: a connection failed: {err:#}");
                    }
                });
            }
        });
        Ok(Sink {
            port,
            arrivals,
            connections,
            _accept: AbortOnDrop(accept),
        })
    }

    pub fn count(&self) -> usize {
        self.arrivals.lock().map_or(0, |a| a.len())
    }

    /// Connections accepted since the last call.
    pub fn take_connections(&self) -> usize {
        self.connections.swap(0, Ordering::Relaxed)
    }

    /// Every message since the last take, in order of arrival.
    pub fn take(&self) -> Vec<Arrival> {
        self.arrivals
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }
}

async fn serve(stream: TcpStream, arrivals: Arrivals) -> anyhow::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::with_capacity(64 * 1024, read);
    write.write_all(b"220 bench-sink ESMTP\r\n").await?;
    let mut line = Vec::with_capacity(1024);
    let mut from = String::new();
    let mut to = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let verb = text.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 bench-sink\r\n",
            "MAIL" => {
                from = argument(&text);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(argument(&text));
                b"250 OK\r\n"
            }
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = Vec::with_capacity(32 * 1024);
                loop {
                    let start = data.len();
                    if read.read_until(b'\n', &mut data).await? == 0 {
                        bail!("connection closed in DATA");
                    }
                    if &data[start..] == b".\r\n" {
                        break;
                    }
                }
                let at = Instant::now();
                let message = Message {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                };
                if let Ok(mut arrivals) = arrivals.lock() {
                    arrivals.push(Arrival { at, message });
                }
                b"250 OK queued\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// What follows the colon of `MAIL FROM:<a>` or `RCPT TO:<b>`, without the line break.
fn argument(line: &str) -> String {
    line.split_once(':')
        .map_or("", |(_, rest)| rest)
        .trim()
        .to_owned()
}

/// A server that accepts connections and never says anything: the app's mail worker waits on
/// its first message (with `RRH_SMTP_TIMEOUT_MS` long), so no mail is sent and the outbox
/// fills while orders come in.
pub struct Holder {
    pub port: u16,
    _accept: AbortOnDrop,
}

impl Holder {
    pub async fn start() -> anyhow::Result<Holder> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let accept = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(tokio::spawn(async move {
                    // Read and drop whatever comes, until the client goes away.
                    let mut stream = stream;
                    let mut buf = [0u8; 1024];
                    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                }));
                held.retain(|h| !h.is_finished());
            }
        });
        Ok(Holder {
            port,
            _accept: AbortOnDrop(accept),
        })
    }
}

/// The ceiling: one connection with `TCP_NODELAY`, EHLO once, then MAIL, RCPT and DATA per
/// message, each command waiting for its reply (no pipelining), the DATA bytes as captured.
pub async fn send_all(port: u16, messages: &[Message]) -> anyhow::Result<()> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    expect(&mut read, 220).await?;
    write.write_all(b"EHLO bench-client\r\n").await?;
    expect(&mut read, 250).await?;
    for message in messages {
        write
            .write_all(format!("MAIL FROM:{}\r\n", message.from).as_bytes())
            .await?;
        expect(&mut read, 250).await?;
        for to in &message.to {
            write
                .write_all(format!("RCPT TO:{to}\r\n").as_bytes())
                .await?;
            expect(&mut read, 250).await?;
        }
        write.write_all(b"DATA\r\n").await?;
        expect(&mut read, 354).await?;
        write.write_all(&message.data).await?;
        expect(&mut read, 250).await?;
    }
    write.write_all(b"QUIT\r\n").await?;
    expect(&mut read, 221).await?;
    Ok(())
}

/// The ceiling in a process of its own, as the app is: this benchmark's binary run again with
/// `--smtp-client PORT FILE`, the messages handed over in `file`. A client in the benchmark's
/// own process shares a runtime with the sink, so its replies need no switch between
/// processes; the app's always do.
pub async fn send_all_from_another_process(
    port: u16,
    messages: &[Message],
    file: &std::path::Path,
) -> anyhow::Result<()> {
    save(file, messages)?;
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command.arg("--smtp-client").arg(port.to_string()).arg(file);
    // Waited for on a blocking thread: the sink runs on this process's runtime.
    let status = tokio::task::spawn_blocking(move || command.status())
        .await?
        .context("starting the SMTP client process")?;
    if !status.success() {
        bail!("the SMTP client process failed: {status}");
    }
    Ok(())
}

/// The child's side of [`send_all_from_another_process`]: `--smtp-client PORT FILE`.
pub async fn client_main(args: &[String]) -> anyhow::Result<()> {
    let [port, file] = args else {
        bail!("usage: bench --smtp-client PORT FILE");
    };
    send_all(port.parse()?, &load(std::path::Path::new(file))?).await
}

// Each message as three lines (sender; recipients separated by spaces; the length of the
// data) followed by the data's bytes.
fn save(file: &std::path::Path, messages: &[Message]) -> anyhow::Result<()> {
    let mut out = Vec::new();
    for message in messages {
        let to = message.to.join(" ");
        out.extend_from_slice(
            format!("{}\n{to}\n{}\n", message.from, message.data.len()).as_bytes(),
        );
        out.extend_from_slice(&message.data);
    }
    std::fs::write(file, out).with_context(|| format!("writing {}", file.display()))
}

fn load(file: &std::path::Path) -> anyhow::Result<Vec<Message>> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut rest = bytes.as_slice();
    let mut messages = Vec::new();
    while !rest.is_empty() {
        let from = take_line(&mut rest)?;
        let to = take_line(&mut rest)?
            .split(' ')
            .map(str::to_owned)
            .collect();
        let len: usize = take_line(&mut rest)?.parse()?;
        let data = rest.get(..len).context("the data is cut short")?.to_vec();
        rest = &rest[len..];
        messages.push(Message { from, to, data });
    }
    Ok(messages)
}

fn take_line(rest: &mut &[u8]) -> anyhow::Result<String> {
    let end = rest
        .iter()
        .position(|&b| b == b'\n')
        .context("a line is missing")?;
    let text = String::from_utf8(rest[..end].to_vec())?;
    *rest = &rest[end + 1..];
    Ok(text)
}

/// Reads one reply (all its lines) and checks its code.
async fn expect(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    code: u16,
) -> anyhow::Result<()> {
    let mut line = String::new();
    loop {
        line.clear();
        let n = tokio::time::timeout(Duration::from_secs(30), read.read_line(&mut line))
            .await
            .context("no SMTP reply within 30 s")??;
        if n == 0 {
            bail!("the SMTP server closed the connection");
        }
        // "250-..." continues, "250 ..." ends the reply.
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
    if !line.starts_with(&code.to_string()) {
        bail!("expected {code}, got {}", line.trim_end());
    }
    Ok(())
}

/// The Message-ID header of a message, for counting duplicates.
pub fn message_id(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let headers = text.split("\r\n\r\n").next()?;
    headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("message-id")
            .then(|| value.trim().to_owned())
    })
}
