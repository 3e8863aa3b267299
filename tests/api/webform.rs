//! The web form on the mail path: files (multipart/form-data) within limits, the thread-token
//! rule, refused header injection, and a per-client rate limit.

use crate::helpers::*;
use postroom::mail::threading::thread_token;

const BOUNDARY: &str = "postroom-test-boundary-7MA4YWxkTrZu0gW";
const MULTIPART: &str = "multipart/form-data; boundary=postroom-test-boundary-7MA4YWxkTrZu0gW";

/// A text field or a file (`Some((file name, content type))`).
type Part<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [u8]);

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some((file_name, ct)) => out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {ct}\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn form<'a>(from: &'a str, subject: &'a str, files: &[Part<'a>]) -> Vec<u8> {
    let mut parts: Vec<Part<'a>> = vec![
        ("from", None, from.as_bytes()),
        ("name", None, "Carol Customer".as_bytes()),
        ("subject", None, subject.as_bytes()),
        (
            "body",
            None,
            "Photos of the broken kettle attached.".as_bytes(),
        ),
    ];
    parts.extend_from_slice(files);
    multipart(&parts)
}

#[test]
fn a_form_with_files_is_stored_with_its_attachments() {
    let app = spawn_app();
    let tok = app.token_for("ann", "agent");
    let png: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let body = form(
        "carol@example.com",
        "Broken kettle",
        &[
            ("attachment", Some(("kettle.png", "image/png")), &png),
            (
                "attachment",
                Some(("../../etc/receipt.pdf", "application/pdf")),
                b"%PDF-1.4 receipt",
            ),
            // A file input left empty, as browsers send it.
            ("attachment", Some(("", "application/octet-stream")), b""),
        ],
    );
    let r = app.post_raw("/api/v1/webform", MULTIPART, &body);
    assert_eq!(r.status, 202, "{:?}", r.body);
    let id = r.body["interaction_id"].as_str().unwrap().to_string();

    let view = app.get(&format!("/api/v1/interactions/{id}"), Some(&tok));
    assert_eq!(view.body["channel"], "webform");
    assert_eq!(view.body["from_name"], "Carol Customer");
    assert_eq!(view.body["queue"], "inbound");
    let content = app.get(&format!("/api/v1/interactions/{id}/content"), Some(&tok));
    assert_eq!(content.status, 200, "{:?}", content.body);
    assert_eq!(
        content.body["text"],
        "Photos of the broken kettle attached."
    );
    let files = content.body["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[0]["name"], "kettle.png");
    assert_eq!(files[0]["size"], 70_000);
    assert_eq!(files[1]["name"], "receipt.pdf", "no path survives");
    let got = ureq::get(&app.url(&format!("/api/v1/interactions/{id}/attachments/0")))
        .set("Authorization", &format!("Bearer {tok}"))
        .call()
        .unwrap();
    assert_eq!(got.header("content-type"), Some("image/png"));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut got.into_reader(), &mut bytes).unwrap();
    assert_eq!(bytes, png);
    // There is no original e-mail for a form.
    let raw = app.get(&format!("/api/v1/interactions/{id}/raw"), Some(&tok));
    assert_eq!(raw.status, 404);
}

#[test]
fn forms_over_the_limits_or_with_bad_fields_are_refused_whole() {
    let app = spawn_app_with(|s| {
        s.webform.max_attachments = 2;
        s.webform.max_attachment_bytes = 1000;
        s.webform.max_total_attachment_bytes = 1500;
    });
    let small = vec![b'x'; 600];
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (
            form(
                "carol@example.com",
                "Three files",
                &[
                    ("attachment", Some(("a.txt", "text/plain")), b"a"),
                    ("attachment", Some(("b.txt", "text/plain")), b"b"),
                    ("attachment", Some(("c.txt", "text/plain")), b"c"),
                ],
            ),
            422,
            "at most 2 attachments",
        ),
        (
            form(
                "carol@example.com",
                "Too big",
                &[(
                    "attachment",
                    Some(("big.bin", "application/octet-stream")),
                    &[0u8; 1001],
                )],
            ),
            413,
            "larger than 1000 bytes",
        ),
        (
            form(
                "carol@example.com",
                "Too big together",
                &[
                    (
                        "attachment",
                        Some(("a.bin", "application/octet-stream")),
                        &small,
                    ),
                    (
                        "attachment",
                        Some(("b.bin", "application/octet-stream")),
                        &small,
                    ),
                    (
                        "attachment",
                        Some(("c.bin", "application/octet-stream")),
                        &small,
                    ),
                ],
            ),
            413,
            "together are larger than 1500 bytes",
        ),
        (
            form(
                "carol@example.com",
                "Injected\r\nBcc: everyone@example.com",
                &[],
            ),
            422,
            "subject must be a single line",
        ),
        (
            form("carol@example.com\r\nBcc: x@example.com", "Hi", &[]),
            422,
            "from",
        ),
        (
            form("carol@example.com", "Hi", &[("password", None, b"hunter2")]),
            422,
            "unknown field \"password\"",
        ),
        (
            multipart(&[
                ("from", None, b"carol@example.com"),
                ("subject", None, b"Hi"),
            ]),
            422,
            "missing field `body`",
        ),
        (
            multipart(&[
                ("from", None, b"carol@example.com"),
                ("from", None, b"mallory@example.net"),
                ("subject", None, b"Hi"),
                ("body", None, b"Hello"),
            ]),
            422,
            "from is given twice",
        ),
        (
            multipart(&[
                ("from", None, b"carol@example.com"),
                ("subject", None, b"Hi"),
                ("body", None, b"\xff\xfe not utf-8"),
            ]),
            422,
            "body is not UTF-8",
        ),
        (
            form(
                "carol@example.com",
                "Many empty file inputs",
                &[(
                    "attachment",
                    Some(("", "application/octet-stream")),
                    &b""[..],
                ); 20],
            ),
            422,
            "more than 10 parts",
        ),
        (b"--not-the-boundary\r\ngarbage".to_vec(), 400, "multipart"),
    ];
    for (body, status, says) in cases {
        let r = app.post_raw("/api/v1/webform", MULTIPART, &body);
        assert_eq!(r.status, status, "{says}: {:?}", r.body);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{says:?} not in {detail:?}");
    }
    // Nothing of a refused form was recorded.
    assert_eq!(app.engine.projections.read(|p| p.cache.len()), 0);
    let r = app.post_raw("/api/v1/webform", "text/plain", b"from=carol");
    assert_eq!(r.status, 415, "{:?}", r.body);
}

#[test]
fn a_token_in_the_subject_joins_the_customers_own_thread_only() {
    let app = spawn_app();
    let tok = app.token_for("ann", "agent");
    let first = app.new_interaction("carol@example.com", "Broken kettle");
    let token = thread_token(first);
    let subject = format!("Re: Broken kettle [#{token}]");
    let answer = app.new_interaction("Carol@Example.com", &subject);
    let view = app.get(&format!("/api/v1/interactions/{answer}"), Some(&tok));
    assert_eq!(view.body["thread"], first.to_string());
    assert_eq!(view.body["thread_match"], "token");
    let stranger = app.new_interaction("mallory@example.net", &subject);
    let view = app.get(&format!("/api/v1/interactions/{stranger}"), Some(&tok));
    assert_eq!(view.body["thread"], stranger.to_string());
    assert_eq!(view.body["thread_match"], "none");
    let first_view = app.get(&format!("/api/v1/interactions/{first}"), Some(&tok));
    assert_eq!(first_view.body["thread_token"], token);
    assert_eq!(first_view.body["thread_match"], "none");
}

#[test]
fn a_client_over_its_rate_gets_429_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.webform.rate_limit_per_minute = 2;
        s.webform.rate_limit_burst = 3;
    });
    for i in 0..3 {
        let r = app.submit_webform("carol@example.com", &format!("Form {i}"), "Hello");
        assert_eq!(r.status, 202, "{:?}", r.body);
    }
    let r = app.submit_webform("carol@example.com", "One too many", "Hello");
    assert_eq!(r.status, 429, "{:?}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "one token every 30 s: {wait}");
    assert_eq!(r.body["status"], 429);
    // Invalid forms count too (they cost the server as much), and nothing was recorded for the
    // refused ones.
    let r = app.post_raw("/api/v1/webform", MULTIPART, &form("x", "y", &[]));
    assert_eq!(r.status, 429);
    assert_eq!(app.engine.projections.read(|p| p.cache.len()), 3);
}

#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = spawn_app_with(|s| {
        s.webform.rate_limit_per_minute = 1;
        s.webform.rate_limit_burst = 1;
        s.webform.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    });
    let send = |client: &str| -> u16 {
        let body =
            serde_json::json!({"from": "carol@example.com", "subject": "Hi", "body": "Hello"});
        match ureq::post(&app.url("/api/v1/webform"))
            .set("X-Forwarded-For", client)
            .send_json(body)
        {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(s, _)) => s,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(send("203.0.113.5"), 202);
    assert_eq!(send("203.0.113.5"), 429);
    // Another client behind the same proxy is not held up.
    assert_eq!(send("198.51.100.7"), 202);
    // A client cannot escape by prepending addresses of its own choosing.
    assert_eq!(send("192.0.2.99, 203.0.113.5"), 429);
}

#[test]
fn only_inert_types_are_served_as_declared_everything_else_is_a_download() {
    let app = spawn_app_with(|s| s.webform.max_attachments = 12);
    let tok = app.token_for("typist", "agent");
    let cases: &[(&str, &str)] = &[
        ("text/jscript", "application/octet-stream"),
        ("text/livescript", "application/octet-stream"),
        ("text/xsl", "application/octet-stream"),
        ("text/css", "application/octet-stream"),
        ("application/wasm", "application/octet-stream"),
        ("application/x-shockwave-flash", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("text/html", "application/octet-stream"),
        ("image/png", "image/png"),
        ("application/pdf", "application/pdf"),
        ("text/plain; charset=utf-8", "text/plain"),
    ];
    let files: Vec<Part<'_>> = cases
        .iter()
        .map(|(declared, _)| ("attachment", Some(("file.bin", *declared)), &b"x"[..]))
        .collect();
    let r = app.post_raw(
        "/api/v1/webform",
        MULTIPART,
        &form("ann@example.com", "types", &files),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let id = r.body["interaction_id"].as_str().unwrap().to_string();
    for (n, (declared, served)) in cases.iter().enumerate() {
        let got = ureq::get(&app.url(&format!("/api/v1/interactions/{id}/attachments/{n}")))
            .set("Authorization", &format!("Bearer {tok}"))
            .call()
            .unwrap();
        assert_eq!(
            got.header("content-type"),
            Some(*served),
            "declared {declared}"
        );
        assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    }
}
