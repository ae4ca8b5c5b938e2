//! Gzip for responses whose body is already whole in memory (every page, JSON answer and the
//! stylesheet): compressed here in one go, on the worker thread, and sent with a
//! `Content-Length` in one write.
//!
//! actix's own `Compress` sends such a body to the blocking thread pool and then out as
//! chunked encoding in several small writes; on a kept-open connection the last write waited
//! for the client's delayed ACK (Nagle's algorithm), about 40 ms per response. `Compress`
//! stays behind this middleware for streamed bodies (the CSV export), and passes over what is
//! compressed here because it already carries `Content-Encoding`.

use actix_web::HttpMessage as _;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, HeaderValue};
use actix_web::middleware::Next;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Below this, the gzip header and the CPU cost more than the bytes saved.
const MIN_BYTES: usize = 256;

pub async fn whole_bodies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let gzip = accepts_gzip(req.get_header::<AcceptEncoding>());
    let response = next.call(req).await?.map_into_boxed_body();
    if !compressible(response.headers()) {
        return Ok(response);
    }
    Ok(response.map_body(|head, body| {
        // Whatever this client asked for, a cache must not hand it to another.
        head.headers
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
        if !gzip {
            return body;
        }
        let bytes = match body.try_into_bytes() {
            Ok(bytes) => bytes,
            Err(body) => return body,
        };
        if bytes.len() < MIN_BYTES {
            return BoxBody::new(bytes);
        }
        match gzip_bytes(&bytes) {
            Ok(compressed) => {
                head.headers.insert(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_static(ContentEncoding::Gzip.as_str()),
                );
                BoxBody::new(compressed)
            }
            // Cannot happen writing to memory; the plain body is still right.
            Err(_) => BoxBody::new(bytes),
        }
    }))
}

/// Whether `Accept-Encoding` allows gzip (a `q=0` refuses it).
fn accepts_gzip(accept: Option<AcceptEncoding>) -> bool {
    accept
        .and_then(|accept| accept.negotiate([Encoding::gzip(), Encoding::identity()].iter()))
        .is_some_and(|chosen| chosen == Encoding::gzip())
}

/// Text we produce, not yet encoded.
fn compressible(headers: &header::HeaderMap) -> bool {
    if headers.contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.split(';').next().unwrap_or_default().trim();
            ct.starts_with("text/")
                || matches!(ct, "application/json" | "image/svg+xml" | "application/xml")
        })
}

thread_local! {
    /// One compressor per worker thread, reset between responses: a new one allocates and
    /// zeroes a few hundred kilobytes, which cost more than compressing a page.
    static DEFLATE: std::cell::RefCell<Compress> =
        std::cell::RefCell::new(Compress::new(Compression::fast(), false));
}

/// `bytes` as a gzip member (RFC 1952): header, raw deflate at level 1 (nginx's default: most
/// of the saving for a fraction of the CPU), CRC-32 and length.
fn gzip_bytes(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    // Magic, deflate, no flags, no time, no extra flags, OS unknown.
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut out = Vec::with_capacity(bytes.len() / 3 + 64);
    out.extend_from_slice(&HEADER);
    DEFLATE.with_borrow_mut(|deflate| {
        deflate.reset();
        loop {
            let consumed = usize::try_from(deflate.total_in()).unwrap_or(usize::MAX);
            let rest = bytes.get(consumed..).unwrap_or_default();
            match deflate.compress_vec(rest, &mut out, FlushCompress::Finish)? {
                Status::StreamEnd => return Ok::<_, std::io::Error>(()),
                // The output is full: room for more, and go on.
                Status::Ok | Status::BufError => out.reserve(out.capacity().max(1024)),
            }
        }
    })?;
    let mut crc = Crc::new();
    crc.update(bytes);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the length modulo 2^32.
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<AcceptEncoding> {
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::ACCEPT_ENCODING, value))
            .to_http_request();
        req.get_header::<AcceptEncoding>()
    }

    #[test]
    fn gzip_is_used_only_when_the_client_accepts_it() {
        assert!(accepts_gzip(accept("gzip, deflate, br")));
        assert!(accepts_gzip(accept("br;q=1.0, gzip;q=0.8, *;q=0.1")));
        assert!(!accepts_gzip(accept("gzip;q=0, identity")));
        assert!(!accepts_gzip(accept("br")));
        assert!(!accepts_gzip(accept("identity")));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn only_our_own_text_is_compressed() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = header::HeaderMap::new();
            for (name, value) in pairs {
                map.insert(
                    header::HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
            map
        };
        assert!(compressible(&headers(&[(
            "content-type",
            "text/html; charset=utf-8"
        )])));
        assert!(compressible(&headers(&[(
            "content-type",
            "application/json"
        )])));
        assert!(!compressible(&headers(&[("content-type", "image/png")])));
        assert!(!compressible(&headers(&[])));
        assert!(!compressible(&headers(&[
            ("content-type", "text/css"),
            ("content-encoding", "gzip")
        ])));
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut decoded).unwrap();
        decoded
    }

    #[test]
    fn the_compressed_body_reads_back_as_the_original() {
        let page = "<p>Bestilling av tilgang</p>".repeat(100);
        let compressed = gzip_bytes(page.as_bytes()).unwrap();
        assert!(compressed.len() < page.len() / 5);
        assert_eq!(gunzip(&compressed), page.as_bytes());
        // The thread's compressor starts afresh for the next body, of any size, even one
        // that does not compress and outgrows the first guess at the output's size.
        let noise: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for body in [&noise[..], b"", b"x", page.as_bytes()] {
            assert_eq!(gunzip(&gzip_bytes(body).unwrap()), body);
        }
    }
}
