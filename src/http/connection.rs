//! The connection layer in front of the HTTP dispatcher.
//!
//! - **A bound on open connections per client** (its IP address, IPv6 by /64; trusted proxies
//!   excepted, since they carry many clients): over it, a new connection is answered 429 with a
//!   problem body and closed before the dispatcher sees it.
//! - **Problem bodies for the dispatcher's own errors.** actix-http answers a request it cannot
//!   parse (400: a malformed line, a URL over its buffer), a head too large (431) and a head that
//!   does not arrive in time (408) itself, with an empty body, before any handler or middleware
//!   runs. Those answers are written as one buffer at the start of a write, with
//!   `content-length: 0`, just before the connection closes; `Conn` recognises exactly that shape
//!   (no handler of ours answers these statuses without a body) and writes the same status line
//!   and headers with an RFC 9457 body instead.

use super::problem::problem_json;
use super::rate_limit::client_key;
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Counts the open connections of each client.
pub struct ClientConnections {
    max: usize,
    trusted: Vec<IpAddr>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; the count goes down when it is dropped with the connection.
pub struct Slot {
    held: Option<(Arc<ClientConnections>, IpAddr)>,
}

impl ClientConnections {
    /// `max == 0`: no bound.
    pub fn new(max: usize, trusted: &[IpAddr]) -> Arc<Self> {
        Arc::new(ClientConnections {
            max,
            trusted: trusted.iter().map(IpAddr::to_canonical).collect(),
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a new connection from `peer`, or `None` when the client already holds the most.
    pub fn admit(self: &Arc<Self>, peer: Option<IpAddr>) -> Option<Slot> {
        let free = Slot { held: None };
        let Some(peer) = peer.map(|p| p.to_canonical()) else {
            return Some(free);
        };
        if self.max == 0 || self.trusted.contains(&peer) {
            return Some(free);
        }
        let client = client_key(peer);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(client).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot {
            held: Some((self.clone(), client)),
        })
    }

    /// Open connections of the client `ip` belongs to.
    pub fn open(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&client_key(ip.to_canonical()))
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some((owner, client)) = self.held.take() {
            let mut open = owner.open.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(count) = open.get_mut(&client) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&client);
                }
            }
        }
    }
}

/// The answer to a connection over the client's bound.
pub fn refusal(max: usize) -> Vec<u8> {
    let body = problem_json(
        429,
        "too-many-connections",
        &format!("this client already holds {max} open connections; close one and retry"),
    );
    format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/problem+json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A connection as the dispatcher sees it: the stream, its slot, and the error-body rewrite.
pub struct Conn<T> {
    io: T,
    _slot: Slot,
    rewrite: Rewrite,
    /// The next write starts where the last one ended whole: a response may start there. After
    /// a short write the caller goes on with the rest of the same buffer, which is no start.
    at_boundary: bool,
}

enum Rewrite {
    /// Each write is looked at for a dispatcher error.
    Watch,
    /// A replacement is being written in place of `replaces` bytes of the caller's.
    Send {
        bytes: Vec<u8>,
        sent: usize,
        replaces: usize,
    },
}

impl<T> Conn<T> {
    pub fn new(io: T, slot: Slot) -> Self {
        Conn {
            io,
            _slot: slot,
            rewrite: Rewrite::Watch,
            at_boundary: true,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Conn<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Conn<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let (Rewrite::Watch, true) = (&this.rewrite, this.at_boundary) {
            if let Some(bytes) = with_problem_body(buf) {
                this.rewrite = Rewrite::Send {
                    bytes,
                    sent: 0,
                    replaces: buf.len(),
                };
            }
        }
        if let Rewrite::Send {
            bytes,
            sent,
            replaces,
        } = &mut this.rewrite
        {
            while *sent < bytes.len() {
                match Pin::new(&mut this.io).poll_write(cx, &bytes[*sent..]) {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Poll::Ready(Ok(n)) => *sent += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            let replaced = *replaces;
            this.rewrite = Rewrite::Watch;
            return Poll::Ready(Ok(replaced));
        }
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &written {
            this.at_boundary = *n == buf.len();
        }
        written
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The statuses the dispatcher answers on its own, and what they mean.
const DISPATCHER_ERRORS: &[(&str, &str, &str)] = &[
    (
        "400",
        "bad-request",
        "the request could not be parsed: a malformed request line or header, or a request line \
         or header over the server's limit",
    ),
    (
        "408",
        "request-timeout",
        "the request's head did not arrive in time",
    ),
    (
        "431",
        "request-header-fields-too-large",
        "the request's head is too large (at most 96 header fields and 128 KiB)",
    ),
];

/// `buf` with a problem body, when it is exactly one of the dispatcher's bodiless error answers.
fn with_problem_body(buf: &[u8]) -> Option<Vec<u8>> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let code = std::str::from_utf8(rest.get(..3)?).ok()?;
    let (_, slug, detail) = DISPATCHER_ERRORS.iter().find(|(c, _, _)| *c == code)?;
    // The whole buffer is the head: no body follows and nothing after it.
    if !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head = std::str::from_utf8(&buf[..buf.len() - 4]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut headers = Vec::new();
    let mut empty_body = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "content-length" => empty_body = value.trim() == "0",
            "content-type" | "transfer-encoding" => return None,
            "connection" => {}
            _ => headers.push(line),
        }
    }
    if !empty_body {
        return None;
    }
    let body = problem_json(code.parse().ok()?, slug, detail);
    let mut out = format!("{status_line}\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "content-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bodiless_dispatcher_error_gets_a_problem_body() {
        let out = with_problem_body(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
              connection: close\r\ndate: Thu, 26 Nov 2026 16:00:00 GMT\r\n\r\n",
        )
        .expect("rewritten");
        let text = String::from_utf8(out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("\r\ndate: Thu, 26 Nov 2026"));
        assert!(head.contains("content-type: application/problem+json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["status"], 431);

        // Ours always carry a body; a success, or anything followed by more bytes, is left alone.
        assert!(with_problem_body(
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\n\
              content-length: 2\r\n\r\n{}"
        )
        .is_none());
        assert!(with_problem_body(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(with_problem_body(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"
        )
        .is_none());
        assert!(
            with_problem_body(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n")
                .is_some()
        );
    }

    /// A writer that takes at most `chunk` bytes a call, keeping what it got.
    struct Short {
        got: Vec<u8>,
        chunk: usize,
    }

    impl AsyncWrite for Short {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            let n = buf.len().min(this.chunk);
            this.got.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn written_through(chunk: usize, writes: &[&[u8]]) -> Vec<u8> {
        use tokio::io::AsyncWriteExt;
        let clients = ClientConnections::new(0, &[]);
        let slot = clients.admit(None).expect("unbounded");
        let mut conn = Conn::new(
            Short {
                got: Vec::new(),
                chunk,
            },
            slot,
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            for w in writes {
                conn.write_all(w).await.unwrap();
            }
        });
        conn.io.got
    }

    #[test]
    fn only_a_write_that_starts_a_response_is_looked_at() {
        // A body whose tail reads like the dispatcher's bodiless 400: after a short write, the
        // rest of the same buffer is passed on as it is.
        let body_tail: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        let mut response = b"HTTP/1.1 200 OK\r\ncontent-length: 46\r\n\r\n".to_vec();
        response.extend_from_slice(body_tail);
        let split_at = response.len() - body_tail.len();
        assert_eq!(written_through(split_at, &[&response]), response);
        // A whole write that is the dispatcher's answer is rewritten.
        let out = written_through(
            4096,
            &[b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", body_tail],
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("application/problem+json"), "{text}");
    }

    #[test]
    fn a_client_holds_at_most_its_bound_and_gets_slots_back() {
        let clients = ClientConnections::new(2, &["10.0.0.1".parse().unwrap()]);
        let a: IpAddr = "192.0.2.7".parse().unwrap();
        let first = clients.admit(Some(a)).expect("first");
        let _second = clients.admit(Some(a)).expect("second");
        assert!(clients.admit(Some(a)).is_none());
        // Another client, a trusted proxy and an unknown peer are not counted against it.
        assert!(clients.admit(Some("192.0.2.8".parse().unwrap())).is_some());
        for _ in 0..5 {
            std::mem::forget(
                clients
                    .admit(Some("10.0.0.1".parse().unwrap()))
                    .expect("proxy"),
            );
        }
        assert!(clients.admit(None).is_some());
        // One /64 is one client.
        let v6a = clients.admit(Some("2001:db8::1".parse().unwrap())).unwrap();
        let v6b = clients.admit(Some("2001:db8::2".parse().unwrap())).unwrap();
        assert!(clients
            .admit(Some("2001:db8::3".parse().unwrap()))
            .is_none());
        drop((v6a, v6b));
        drop(first);
        assert_eq!(clients.open(a), 1);
        assert!(clients.admit(Some(a)).is_some());
    }
}
