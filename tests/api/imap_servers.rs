//! IMAP behaviours a second server (Cyrus) showed, played by Dovecot: a personal namespace
//! `INBOX.` with `.` as separator, the commands an idle mailbox costs, and a crash between COPY
//! and EXPUNGE on a server without MOVE.

use crate::helpers::*;
use crate::ingest::{folder_count, interactions, mailbox, wait_for, SUPPORT};
use crate::mailservers::{Dovecot, Options};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: c{n}@example.com\r\nTo: {SUPPORT}\r\nSubject: Question {n}\r\nMessage-ID: <srv{n}@example.com>\r\n\r\nHello {n}.\r\n"
    )
    .into_bytes()
}

fn cyrus_like() -> Dovecot {
    Dovecot::start_with(
        &[SUPPORT],
        Options {
            inbox_prefix: true,
            ..Options::default()
        },
    )
}

#[test]
fn the_processed_folder_is_resolved_in_the_servers_namespace_and_created() {
    let dovecot = cyrus_like();
    {
        // What the server does with the README's example as it stands.
        let mut s = dovecot.session(SUPPORT);
        assert!(s.create("Processed").is_err());
        let _ = s.logout();
    }
    dovecot.append(SUPPORT, "INBOX", &(1..=3).map(message).collect::<Vec<_>>());
    let app = spawn_app_with(|s| {
        s.mailboxes = vec![mailbox(&dovecot, "support", SUPPORT, Some("Processed"))]
    });
    wait_for("3 interactions", || interactions(&app) == 3);
    wait_for("the inbox emptied", || {
        folder_count(&dovecot, SUPPORT, "INBOX") == 0
    });
    assert_eq!(folder_count(&dovecot, SUPPORT, "INBOX.Processed"), 3);
    let ready = app.admin_get("/readyz");
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    let support = &ready.body["details"]["mailboxes"]["support"];
    assert_eq!(
        support["processed_folder"], "INBOX.Processed",
        "{support:?}"
    );
    assert_eq!(support["ready"], true, "{support:?}");
    assert_eq!(support["ingested"], 3, "{support:?}");
}

#[test]
fn a_mailbox_that_cannot_move_is_not_ready_and_says_why() {
    let dovecot = cyrus_like();
    dovecot.append(SUPPORT, "INBOX", &[message(4)]);
    // Dovecot refuses to create a folder whose name begins with `~`.
    let app = spawn_app_with(|s| {
        s.mailboxes = vec![mailbox(&dovecot, "support", SUPPORT, Some("~Processed"))]
    });
    wait_for("/readyz to say not ready", || {
        app.admin_get("/readyz").status == 503
    });
    let ready = app.admin_get("/readyz");
    let support = &ready.body["details"]["mailboxes"]["support"];
    assert_eq!(support["ready"], false, "{support:?}");
    assert_eq!(support["last_error_kind"], "permanent", "{support:?}");
    let reasons = ready.body["details"]["not_ready"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        reasons.iter().any(|r| {
            let r = r.as_str().unwrap_or_default();
            r.starts_with("mailbox support:") && r.contains("INBOX.~Processed")
        }),
        "{:?}",
        ready.body
    );
    // The details readiness had stay, for a caller with a token; anyone learns the one word.
    for field in ["log_head", "projections_lag", "mailboxes", "interactions"] {
        assert!(
            ready.body["details"].get(field).is_some(),
            "{field}: {:?}",
            ready.body
        );
    }
    let public = app.get("/readyz", None);
    assert_eq!(public.status, 503);
    assert_eq!(
        public.body,
        serde_json::json!({"ready": false, "reason": "mailbox"})
    );
    // Nothing was moved anywhere.
    assert_eq!(folder_count(&dovecot, SUPPORT, "INBOX"), 1);
}

/// A TCP relay to the mail server that counts the tagged commands clients send through it (lines
/// `a<digits> …`, the imap crate's tags; `DONE` and literals are not commands). Answers its port
/// and the counter.
fn counting_relay(to: u16) -> (u16, Arc<AtomicUsize>) {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").expect("a relay port");
    let port = listener.local_addr().expect("its address").port();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = TcpStream::connect(("127.0.0.1", to)) else {
                return;
            };
            let (mut client_out, mut server_in) = (
                client.try_clone().expect("a client handle"),
                server.try_clone().expect("a server handle"),
            );
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut server_in, &mut client_out);
            });
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut pending = Vec::new();
                let mut buf = [0u8; 65536];
                loop {
                    let n = match client.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = pending.drain(..=end).collect();
                        let tag = line.split(|b| *b == b' ').next().unwrap_or_default();
                        if tag.len() > 1
                            && tag[0] == b'a'
                            && tag[1..].iter().all(u8::is_ascii_digit)
                        {
                            counter.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    if server.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, count)
}

#[test]
fn an_idle_mailbox_costs_a_few_commands_a_minute_and_new_mail_still_arrives_at_once() {
    let dovecot = Dovecot::start(&[SUPPORT]);
    let (port, commands) = counting_relay(dovecot.port);
    let mut mb = mailbox(&dovecot, "support", SUPPORT, Some("Processed"));
    mb.port = port;
    mb.poll_interval_secs = 60.0;
    let app = spawn_app_with(|s| s.mailboxes = vec![mb]);
    wait_for("the first pass", || {
        app.admin_get("/readyz").body["details"]["mailboxes"]["support"]["state"] == "ok"
    });
    std::thread::sleep(Duration::from_millis(500));
    let before = commands.load(Ordering::SeqCst);
    let window = Duration::from_secs(20);
    std::thread::sleep(window);
    let idle = commands.load(Ordering::SeqCst) - before;
    println!("an idle mailbox sent {idle} commands in {window:?}");
    // One IDLE and one check every 15 s at most, not one IDLE and one search every second.
    assert!(idle <= 6, "{idle} commands in {window:?}");
    // New mail still arrives at once: IDLE reports it.
    let sent = Instant::now();
    dovecot.append(SUPPORT, "INBOX", &[message(7)]);
    wait_for("the message", || interactions(&app) == 1);
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
}

/// The Message-IDs in a folder, sorted (repeated as often as they are there).
fn message_ids(dovecot: &Dovecot, folder: &str) -> Vec<String> {
    let mut s = dovecot.session(SUPPORT);
    s.select(folder).expect("select");
    let fetched = s.uid_fetch("1:*", "(UID ENVELOPE)").expect("fetch");
    let mut ids: Vec<String> = fetched
        .iter()
        .filter_map(|f| {
            f.envelope()?
                .message_id
                .as_deref()
                .map(|m| String::from_utf8_lossy(m).into_owned())
        })
        .collect();
    ids.sort();
    let _ = s.logout();
    ids
}

#[test]
fn without_move_a_crash_between_copy_and_expunge_never_copies_twice() {
    let dovecot = Dovecot::start_with(
        &[SUPPORT],
        Options {
            capability: Some("IMAP4rev1 LITERAL+ UIDPLUS IDLE".into()),
            ..Options::default()
        },
    );
    dovecot.append(SUPPORT, "INBOX", &(1..=6).map(message).collect::<Vec<_>>());
    {
        // A mover that died: it marked all six, copied four, and never expunged (the last two
        // died between the mark and the copy).
        let mut s = dovecot.session(SUPPORT);
        assert!(!s.capabilities().unwrap().has_str("MOVE"));
        s.create("Processed").unwrap();
        s.select("INBOX").unwrap();
        s.uid_store("1:6", "+FLAGS.SILENT ($PostroomCopied)")
            .unwrap();
        s.uid_copy("1:4", "Processed").unwrap();
        let _ = s.logout();
    }
    let app = spawn_app_with(|s| {
        s.mailboxes = vec![mailbox(&dovecot, "support", SUPPORT, Some("Processed"))]
    });
    wait_for("6 interactions", || interactions(&app) == 6);
    wait_for("the inbox emptied", || {
        folder_count(&dovecot, SUPPORT, "INBOX") == 0
    });
    let expected: Vec<String> = (1..=6).map(|n| format!("<srv{n}@example.com>")).collect();
    assert_eq!(message_ids(&dovecot, "Processed"), expected);
    // New mail after that is copied once too.
    dovecot.append(SUPPORT, "INBOX", &[message(7)]);
    wait_for("the seventh moved", || {
        folder_count(&dovecot, SUPPORT, "Processed") == 7
    });
    wait_for("the inbox emptied", || {
        folder_count(&dovecot, SUPPORT, "INBOX") == 0
    });
    assert_eq!(message_ids(&dovecot, "Processed").len(), 7);
}
