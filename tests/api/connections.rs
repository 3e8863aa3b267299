//! Hostile clients at the connection level (issue 10, items 1 and 6): stalled and dripping bodies,
//! too many connections from one client, and the errors the HTTP dispatcher answers itself (a
//! URL too long, too many headers, a slow head), each a problem body. Raw sockets, since ordinary
//! clients cannot misbehave on purpose.

use crate::helpers::{spawn_app_with, TestApp};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn connect(app: &TestApp) -> TcpStream {
    let addr = app.address.trim_start_matches("http://");
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Reads until the server closes (or 20 s pass): status and the body parsed as JSON.
fn answer(mut s: TcpStream) -> (u16, String, Value) {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let json = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, head.to_ascii_lowercase(), json)
}

fn assert_problem(status: u16, head: &str, body: &Value, want: u16) {
    assert_eq!(status, want, "{head}\n{body}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    assert_eq!(body["status"], want, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

fn quick_deadlines(app: &mut postroom::settings::Settings) {
    app.http.body_timeout_secs = 3.0;
    app.http.body_read_timeout_secs = 1.0;
}

#[test]
fn a_stalled_body_gets_408_on_every_route_that_takes_one() {
    let app = spawn_app_with(quick_deadlines);
    let routes = [
        ("/api/v1/webform", String::new()),
        (
            "/api/v1/admin/users",
            format!("Authorization: Bearer {}\r\n", app.admin_token),
        ),
    ];
    for (path, auth) in routes {
        let mut s = connect(&app);
        let started = Instant::now();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n\
             Content-Length: 100000\r\n\r\n{{\"from\""
        )
        .unwrap();
        let (status, head, body) = answer(s);
        assert_problem(status, &head, &body, 408);
        assert!(started.elapsed() < Duration::from_secs(10), "{path}");
    }
}

#[test]
fn a_body_dripping_in_gets_408_at_the_whole_body_deadline() {
    let app = spawn_app_with(quick_deadlines);
    let mut s = connect(&app);
    let started = Instant::now();
    write!(
        s,
        "POST /api/v1/webform HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n"
    )
    .unwrap();
    // A byte every 0.3 s keeps every single read in time.
    let writer = s.try_clone().unwrap();
    let drip = std::thread::spawn(move || {
        let mut w = writer;
        for _ in 0..40 {
            if w.write_all(b" ").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let (status, head, body) = answer(s);
    assert_problem(status, &head, &body, 408);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(9),
        "{took:?}"
    );
    drip.join().unwrap();
}

#[test]
fn a_client_holds_a_bounded_number_of_connections() {
    let app = spawn_app_with(|s| {
        s.http.max_connections_per_client = 3;
        s.http.header_timeout_secs = 30.0;
    });
    let held: Vec<TcpStream> = (0..3).map(|_| connect(&app)).collect();
    // Give the server a moment to accept them all.
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = connect(&app);
    write!(extra, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (status, head, body) = answer(extra);
    assert_problem(status, &head, &body, 429);
    assert!(head.contains("retry-after:"), "{head}");

    // One closed, one more may come in.
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(app.get("/healthz", None).status, 200);
}

#[test]
fn the_dispatchers_own_errors_are_problem_bodies() {
    let app = spawn_app_with(|s| s.http.header_timeout_secs = 1.0);

    // A URL over the dispatcher's buffer.
    let mut s = connect(&app);
    let long = "a".repeat(140 * 1024);
    let _ = write!(s, "GET /api/v1/queues?x={long} HTTP/1.1\r\nHost: x\r\n\r\n");
    let (status, head, body) = answer(s);
    assert!(status == 400 || status == 431, "{status} {head}");
    assert_problem(status, &head, &body, status);

    // More header fields than it parses.
    let mut s = connect(&app);
    let mut req = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for i in 0..120 {
        req.push_str(&format!("X-Field-{i}: {i}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let (status, head, body) = answer(s);
    assert!(status == 400 || status == 431, "{status} {head}");
    assert_problem(status, &head, &body, status);

    // A malformed request line.
    let mut s = connect(&app);
    s.write_all(b"GET /healthz HTTP/9.9 nonsense\r\n\r\n")
        .unwrap();
    let (status, head, body) = answer(s);
    assert_problem(status, &head, &body, 400);

    // A head that never ends.
    let mut s = connect(&app);
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let (status, head, body) = answer(s);
    assert_problem(status, &head, &body, 408);
}
