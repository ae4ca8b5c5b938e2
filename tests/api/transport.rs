//! How responses travel: compression and the server's sockets.

use std::io::Read as _;

use crate::helpers::*;

/// What a browser sends, on a connection kept open for the next page.
async fn get_gzipped(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap()
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("a valid gzip stream");
    text
}

#[tokio::test]
async fn pages_and_the_stylesheet_are_gzipped_whole_with_a_length() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, form) = app.get_html("/orders/new").await;
    let stylesheet = attr(&form, "link[rel=stylesheet]", "href");
    for path in [
        "/orders/new",
        "/help?lang=en",
        "/no/such/page",
        stylesheet.as_str(),
    ] {
        let response = get_gzipped(&app, path).await;
        let headers = response.headers().clone();
        assert_eq!(headers["content-encoding"], "gzip", "{path}");
        assert!(
            headers["vary"]
                .to_str()
                .unwrap()
                .contains("accept-encoding"),
            "{path}"
        );
        // One piece with its length, not chunks written one after another.
        assert!(headers.get("transfer-encoding").is_none(), "{path}");
        let length: usize = headers["content-length"].to_str().unwrap().parse().unwrap();
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len(), length, "{path}");
        let text = gunzip(&body);
        assert!(body.len() < text.len(), "{path}: it is compressed");
        if path.starts_with("/orders/new") {
            assert!(text.contains("name=\"csrf_token\""), "the form is whole");
        }
    }
    // A client that asks for nothing, or refuses gzip, gets plain text.
    let plain = app.get("/orders/new").await;
    assert!(plain.headers().get("content-encoding").is_none());
    let refused = app
        .client
        .get(format!("{}/orders/new", app.address))
        .header("accept-encoding", "gzip;q=0, identity")
        .send()
        .await
        .unwrap();
    assert!(refused.headers().get("content-encoding").is_none());
    assert!(refused.text().await.unwrap().contains("<form"));
}

#[tokio::test]
async fn a_gzipped_json_error_reads_back_whole() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app
        .client
        .post(format!("{}/api/v1/orders", app.address))
        .header("accept-encoding", "gzip")
        .header("content-type", "application/json")
        .body(r#"{"vendor_org_number": "123"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let gzipped = response.headers().get("content-encoding").is_some();
    let body = response.bytes().await.unwrap();
    let text = if gzipped {
        gunzip(&body)
    } else {
        String::from_utf8(body.to_vec()).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["error"], "validation_failed", "{json}");
}

/// The server's end of every connection has `TCP_NODELAY`. Without it, a kept-open
/// connection waited about 40 ms per response for the client's delayed ACK (Nagle's
/// algorithm holding back the last small write). Read off the socket itself, so the check
/// does not depend on timing.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_servers_end_of_a_connection_sends_without_delay() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let app = spawn_app(Backend::Sqlite).await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let mut client = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    client
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: rrh.test\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 12];
    client.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");

    // The app runs in this process: its accepted socket is one of our file descriptors.
    let ours = client.local_addr().unwrap();
    let mut found = None;
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: only borrowed for the calls below; `client` keeps the connection (and so
        // the server's descriptor) open throughout.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let local = socket.local_addr().ok().and_then(|a| a.as_socket());
        let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
        if local.map(|a| a.port()) == Some(port) && peer == Some(ours) {
            found = Some(socket.tcp_nodelay().unwrap());
        }
    }
    assert_eq!(found, Some(true), "the server's socket has TCP_NODELAY");
}

/// The CSV export is streamed: actix's `Compress` still gzips it on the way.
#[tokio::test]
async fn the_streamed_csv_export_is_gzipped_too() {
    let app = spawn_app(Backend::Sqlite).await;
    app.order(&valid_json()).await;
    let kari = app.logged_in("kari@brreg.no", "case-handler").await;
    let response = kari
        .client
        .get(format!("{}/admin/orders.csv?status=all", kari.address))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let csv = gunzip(&response.bytes().await.unwrap());
    assert!(csv.starts_with("\u{feff}reference;status;"), "{csv}");
    assert_eq!(csv.split("\r\n").filter(|l| !l.is_empty()).count(), 2);
}
