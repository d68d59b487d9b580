//! The bytes of an HTTP/1 connection, watched at two cheap points so that the errors actix-http
//! answers by itself, before any service runs (a malformed request line or header, a head over
//! its 128 KiB buffer, a URI over the `http` crate's limit, a head that never finishes), carry a
//! Graph error body like every other error of the gateway.
//!
//! actix-http writes those answers as a bodiless head (`content-length: 0`) and then closes the
//! connection. [`Wire`] looks at the first bytes of each write only: a write that starts with
//! such a head (status 400, 408, 431 or 500) is replaced by the same head with a Graph body.
//! On the read side it measures the request line of the request being read (up to its first
//! `\n`, then nothing until the next response), so that a 400 or 431 caused by an over-long URI
//! is answered 414. Response bodies and request bodies are never scanned; HTTP/2 connections
//! are not watched at all.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::context::RequestCtx;
use super::error::ApiError;
use super::response::Body;

/// The longest request target the `http` crate parses (`u16::MAX - 1`); a longer one is
/// refused by actix-http as malformed.
pub const MAX_URI_BYTES: usize = 65_534;
/// actix-http's buffer for a request head; a head that does not fit is refused with 431.
pub const MAX_HEAD_BYTES: usize = 131_072;
/// How far into a write a response head is looked for (actix-http's error heads are ~100 bytes).
const MAX_ERROR_HEAD: usize = 1024;
/// ` HTTP/1.1` after the target.
const VERSION_SUFFIX: usize = 9;

/// A connection's byte stream with actix-http's bodiless error answers replaced by Graph ones.
#[derive(Debug)]
pub struct Wire<T> {
    io: T,
    /// HTTP/1 (watched) or HTTP/2 (passed through).
    watch: bool,
    line: RequestLine,
    /// A replacement answer still to be written, and how much of it is.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> Wire<T> {
    /// An HTTP/1 connection, watched.
    pub fn http1(io: T) -> Self {
        Self {
            io,
            watch: true,
            line: RequestLine::new(),
            pending: None,
        }
    }

    /// An HTTP/2 connection (its frames are passed through untouched).
    pub fn http2(io: T) -> Self {
        Self {
            watch: false,
            ..Self::http1(io)
        }
    }
}

/// The length of the request line being read: from the first byte read after a response (or at
/// the start of the connection) to the first `\n`.
#[derive(Debug)]
struct RequestLine {
    scanning: bool,
    len: usize,
    /// The length of the method (up to the first space), once seen.
    method: Option<usize>,
}

impl RequestLine {
    fn new() -> Self {
        Self {
            scanning: true,
            len: 0,
            method: None,
        }
    }

    fn read(&mut self, data: &[u8]) {
        if !self.scanning || data.is_empty() {
            return;
        }
        if self.method.is_none() {
            let window = &data[..data.len().min(32)];
            self.method = window.iter().position(|&b| b == b' ').map(|i| self.len + i);
        }
        match data.iter().position(|&b| b == b'\n') {
            Some(end) => {
                self.len += end;
                self.scanning = false;
            }
            None => self.len += data.len(),
        }
    }

    /// Whether the target of the line read so far is over [`MAX_URI_BYTES`].
    fn uri_too_long(&self) -> bool {
        let method = self.method.unwrap_or(0) + 1;
        let suffix = if self.scanning { 0 } else { VERSION_SUFFIX + 1 };
        self.len.saturating_sub(method + suffix) > MAX_URI_BYTES
    }
}

/// The Graph answer replacing the bodiless error head at the start of `buf`, and the length of
/// that head; `None` for anything else.
fn replacement(buf: &[u8], line: &RequestLine) -> Option<(Vec<u8>, usize)> {
    let status = buf.get(9..12)?;
    let error = match status {
        b"400" | b"431" if line.uri_too_long() => ApiError::UriTooLong(MAX_URI_BYTES),
        b"400" => ApiError::MalformedRequest,
        b"431" => ApiError::HeadersTooLarge(MAX_HEAD_BYTES),
        b"408" => ApiError::HeadTimeout,
        b"500" => ApiError::Internal(anyhow::anyhow!("the HTTP layer failed a request")),
        _ => return None,
    };
    let window = &buf[..buf.len().min(MAX_ERROR_HEAD)];
    let head_len = window.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = &buf[..head_len];
    // The lines between the status line and the blank line, each with its `\r\n`.
    let status_end = head.iter().position(|&b| b == b'\n')? + 1;
    let fields = &head[status_end..head_len - 2];
    let mut bodiless = false;
    let mut kept = Vec::with_capacity(fields.len());
    for field in fields.split_inclusive(|&b| b == b'\n') {
        if field.eq_ignore_ascii_case(b"content-length: 0\r\n") {
            bodiless = true;
        } else {
            kept.extend_from_slice(field);
        }
    }
    if !bodiless {
        return None;
    }
    let ctx = RequestCtx::new("", "", None);
    let response = error.render(&ctx);
    let Body::Json(body, content_type) = response.body else {
        return None;
    };
    let reason = response.status.canonical_reason().unwrap_or_default();
    // `HTTP/1.x` as actix-http wrote it.
    let version = String::from_utf8_lossy(&head[..8]);
    let mut out = format!(
        "{version} {} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
         request-id: {}\r\nclient-request-id: {}\r\n",
        response.status.as_u16(),
        body.len(),
        ctx.request_id,
        ctx.client_request_id,
    )
    .into_bytes();
    out.extend_from_slice(&kept);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    tracing::debug!(
        status = response.status.as_u16(),
        request_id = %ctx.request_id,
        "the HTTP layer refused a request"
    );
    Some((out, head_len))
}

impl<T: AsyncWrite + Unpin> Wire<T> {
    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
            if *written == bytes.len() {
                self.pending = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Wire<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if this.watch {
            this.line.read(&buf.filled()[before..]);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Wire<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if this.watch && buf.starts_with(b"HTTP/1.") {
            if let Some((answer, head_len)) = replacement(buf, &this.line) {
                this.pending = Some((answer, 0));
                // Written as far as the caller is concerned; the rest goes out on the next
                // write, flush or shutdown.
                if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                    return Poll::Ready(Err(e));
                }
                return Poll::Ready(Ok(head_len));
            }
            // A final response: the next bytes read start a new request.
            if buf.get(9) != Some(&b'1') {
                this.line = RequestLine::new();
            }
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD_400: &[u8] =
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Thu, 03 Dec 2026 13:00:00 GMT\r\n\r\n";

    fn answer(head: &[u8], line: &RequestLine) -> Option<(String, usize)> {
        replacement(head, line).map(|(bytes, n)| (String::from_utf8(bytes).unwrap(), n))
    }

    fn body(answer: &str) -> serde_json::Value {
        serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap()
    }

    #[test]
    fn a_bodiless_error_head_gets_a_graph_body() {
        let (answer, consumed) = answer(HEAD_400, &RequestLine::new()).unwrap();
        assert_eq!(consumed, HEAD_400.len());
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        assert!(answer.contains("content-type: application/json\r\n"));
        assert!(answer.contains("connection: close\r\n"));
        assert!(!answer.contains("content-length: 0\r\n"));
        let body = body(&answer);
        assert_eq!(body["error"]["code"], "BadRequest");
        let length = format!("content-length: {}\r\n", body.to_string().len());
        assert!(answer.contains(&length), "{answer}");
        assert!(body["error"]["innerError"]["request-id"].is_string());
    }

    #[test]
    fn the_version_of_the_head_is_kept() {
        let head = b"HTTP/1.0 408 Request Timeout\r\ncontent-length: 0\r\n\r\n";
        let (timeout, _) = answer(head, &RequestLine::new()).unwrap();
        assert!(
            timeout.starts_with("HTTP/1.0 408 Request Timeout\r\n"),
            "{timeout}"
        );
        assert_eq!(body(&timeout)["error"]["code"], "RequestTimeout");
    }

    #[test]
    fn responses_with_bodies_and_other_statuses_pass() {
        let line = RequestLine::new();
        let graph = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n{\"error\":{}}";
        assert!(replacement(graph, &line).is_none());
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(ok, &line).is_none());
        let no_end = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n";
        assert!(replacement(no_end, &line).is_none());
    }

    #[test]
    fn an_overlong_request_line_makes_it_414() {
        let mut line = RequestLine::new();
        line.read(b"GET /");
        line.read(&vec![b'a'; MAX_URI_BYTES]);
        line.read(b" HTTP/1.1\r\nHost: x\r\n");
        let (answer, _) = answer(HEAD_400, &line).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"),
            "{answer}"
        );
        assert_eq!(body(&answer)["error"]["code"], "RequestUriTooLong");
        // One byte shorter is a URI the `http` crate accepts: a 400 then has another cause.
        let mut line = RequestLine::new();
        line.read(b"GET /");
        line.read(&vec![b'a'; MAX_URI_BYTES - 1]);
        line.read(b" HTTP/1.1\r\n");
        assert!(answer_status(&line).starts_with("HTTP/1.1 400"));
        // A line still unfinished when the head buffer ran out.
        let mut line = RequestLine::new();
        line.read(&vec![b'a'; MAX_HEAD_BYTES]);
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let (answer, _) = replacement(head, &line).unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 414"));
    }

    fn answer_status(line: &RequestLine) -> String {
        answer(HEAD_400, line).unwrap().0
    }

    #[test]
    fn only_the_request_line_is_measured() {
        let mut line = RequestLine::new();
        line.read(b"POST /beta/x HTTP/1.1\r\n");
        line.read(&vec![b'a'; 200_000]);
        assert!(!line.scanning);
        assert!(!line.uri_too_long());
    }
}
