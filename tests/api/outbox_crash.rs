//! The server killed (SIGKILL) while automatic answers are pending: after a restart every answer
//! reaches the SMTP server, once; a copy repeated by a kill inside the one-append window between
//! the server's `250` and our record of it carries the same Message-ID and bytes.

use crate::cli::{add_user, agent, ServerProcess};
use crate::smtp_sink::{Received, SmtpSink};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

fn config(dir: &Path, smtp_port: u16) -> std::path::PathBuf {
    let path = dir.join("postroom.toml");
    std::fs::write(
        &path,
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\n\
             from = \"Support <support@example.test>\"\nretry_initial_secs = 0.2\nretry_max_secs = 1\n"
        ),
    )
    .expect("a configuration file");
    path
}

fn submit(url: &str, from: &str, subject: &str) {
    let r = agent()
        .post(&format!("{url}/api/v1/webform"))
        .send_json(json!({"from": from, "subject": subject, "body": "Hello"}))
        .expect("the form is taken");
    assert_eq!(r.status(), 202);
}

fn outbox(server: &ServerProcess, token: &str) -> Value {
    server.wait_ready(Some(token))["details"]["outbox"].clone()
}

fn wait(what: &str, secs: u64, server: &ServerProcess, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}; log:\n{}", server.log_text());
}

/// Messages by recipient.
fn by_recipient(received: &[Received]) -> BTreeMap<String, Vec<&Received>> {
    let mut m: BTreeMap<String, Vec<&Received>> = BTreeMap::new();
    for r in received {
        m.entry(r.rcpt_tos.join(",")).or_default().push(r);
    }
    m
}

#[test]
fn answers_pending_when_the_server_is_killed_arrive_once_after_a_restart() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let token = add_user(&data, "olga", "auditor");
    let port = crate::mailservers::free_port();
    let cfg = config(root.path(), port);
    let cfg = cfg.to_str().unwrap();

    // Round 1: the SMTP server is down; five answers wait (failed, to be retried); SIGKILL.
    let mut server =
        ServerProcess::start_with(&data, &root.path().join("1.log"), &["--config", cfg]);
    for i in 0..5 {
        submit(
            &server.url,
            &format!("down{i}@example.com"),
            &format!("Down {i}"),
        );
    }
    wait("five answers pending", 30, &server, || {
        let o = outbox(&server, &token);
        o["pending"] == 5 && o["answers_to_decide"] == 0
    });
    server.kill();

    // The SMTP server comes back, then postroom: every answer arrives once.
    let sink = SmtpSink::start_on(port);
    let mut server =
        ServerProcess::start_with(&data, &root.path().join("2.log"), &["--config", cfg]);
    wait("the five answers sent", 30, &server, || {
        outbox(&server, &token)["pending"] == 0 && sink.messages().len() >= 5
    });

    // Round 2: answers stream out while postroom is killed mid-flight.
    for i in 0..20 {
        submit(
            &server.url,
            &format!("live{i}@example.com"),
            &format!("Live {i}"),
        );
    }
    server.kill();
    let server = ServerProcess::start_with(&data, &root.path().join("3.log"), &["--config", cfg]);
    wait("every answer sent", 60, &server, || {
        let o = outbox(&server, &token);
        o["pending"] == 0
            && o["answers_to_decide"] == 0
            && by_recipient(&sink.messages()).len() == 25
    });
    std::thread::sleep(Duration::from_millis(1500));

    let received = sink.messages();
    let groups = by_recipient(&received);
    assert_eq!(groups.len(), 25, "every customer got an answer");
    let mut repeated = 0;
    for (to, copies) in &groups {
        if to.starts_with("down") {
            assert_eq!(copies.len(), 1, "{to} got {} copies", copies.len());
        }
        // A copy repeated by the kill is the same message: same Message-ID, same bytes.
        for c in copies.iter().skip(1) {
            assert_eq!(c.bytes, copies[0].bytes, "{to}");
            assert_eq!(c.header("Message-ID"), copies[0].header("Message-ID"));
        }
        repeated += copies.len() - 1;
    }
    // At most the messages in flight at the kill (the pool's few) can be repeated.
    assert!(repeated <= 4, "{repeated} repeated");
    eprintln!("25 answers delivered; {repeated} repeated by the kill (same Message-ID)");
}
