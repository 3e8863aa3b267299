//! IMAP as real servers are configured: implicit TLS and STARTTLS with a company CA, IDLE, and a
//! server without MOVE.

use crate::helpers::*;
use crate::ingest::{folder_count, interactions, wait_for, SUPPORT};
use crate::mailservers::{Dovecot, Options};
use postroom::settings::MailboxSettings;
use std::time::{Duration, Instant};

const SALES: &str = "sales@example.test";

fn mailbox(name: &str, port: u16, tls: &str, user: &str, extra: &str) -> MailboxSettings {
    toml::from_str(&format!(
        "name = \"{name}\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\nusername = \"{user}\"\npassword = \"secret\"\nprocessed_folder = \"Processed\"\npoll_interval_secs = 0.1\n{extra}"
    ))
    .expect("mailbox settings")
}

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: c{n}@example.com\r\nTo: {SUPPORT}\r\nSubject: Question {n}\r\nMessage-ID: <tls{n}@example.com>\r\n\r\nHello {n}.\r\n"
    )
    .into_bytes()
}

fn state(app: &TestApp, mailbox: &str) -> (String, String) {
    let r = app.admin_get("/readyz");
    let m = &r.body["details"]["mailboxes"][mailbox];
    (
        m["state"].as_str().unwrap_or_default().to_string(),
        m["last_error"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn implicit_tls_and_starttls_ingest_and_an_unknown_ca_is_refused() {
    let dovecot = Dovecot::start_with(
        &[SUPPORT, SALES],
        Options {
            tls: true,
            ..Options::default()
        },
    );
    let ca = dovecot.ca_file.clone().unwrap();
    let tls_port = dovecot.tls_port.unwrap();
    dovecot.append(SUPPORT, "INBOX", &[message(1)]);
    dovecot.append(SALES, "INBOX", &[message(2)]);
    let ca_line = format!("tls_ca_file = \"{}\"\n", ca.display());
    let boxes = vec![
        mailbox("implicit", tls_port, "tls", SUPPORT, &ca_line),
        mailbox("upgraded", dovecot.port, "starttls", SALES, &ca_line),
        // The test CA is in no system store: this one must refuse the server.
        mailbox("untrusted", tls_port, "tls", SUPPORT, ""),
    ];
    let app = spawn_app_with(|s| s.mailboxes = boxes);
    wait_for("both messages", || interactions(&app) == 2);
    wait_for("both inboxes emptied", || {
        folder_count(&dovecot, SUPPORT, "INBOX") == 0 && folder_count(&dovecot, SALES, "INBOX") == 0
    });
    wait_for("the untrusted mailbox reports its error", || {
        state(&app, "untrusted").0 == "error"
    });
    let (_, error) = state(&app, "untrusted");
    assert!(
        error.to_lowercase().contains("certificate"),
        "the error names the certificate: {error}"
    );
    assert_eq!(state(&app, "implicit").0, "ok");
    assert_eq!(state(&app, "upgraded").0, "ok");
}

#[test]
fn starttls_is_never_given_up_for_plain_text() {
    // A server without TLS: a mailbox that asks for STARTTLS must not log in in clear.
    let dovecot = Dovecot::start(&[SUPPORT]);
    dovecot.append(SUPPORT, "INBOX", &[message(3)]);
    let app = spawn_app_with(|s| {
        s.mailboxes = vec![mailbox("support", dovecot.port, "starttls", SUPPORT, "")]
    });
    wait_for("the error", || state(&app, "support").0 == "error");
    assert!(
        state(&app, "support").1.contains("STARTTLS"),
        "{:?}",
        state(&app, "support")
    );
    assert_eq!(interactions(&app), 0);
    assert_eq!(folder_count(&dovecot, SUPPORT, "INBOX"), 1);
}

/// An app ingesting from `port` with a poll of a minute, after its first pass: mail that comes
/// in quicker than that was found while waiting with IDLE.
fn idle_app(port: u16) -> TestApp {
    let mb = MailboxSettings {
        poll_interval_secs: 60.0,
        ..mailbox("support", port, "none", SUPPORT, "")
    };
    let app = spawn_app_with(|s| s.mailboxes = vec![mb]);
    wait_for("the first pass", || state(&app, "support").0 == "ok");
    app
}

/// Delivers one message and asserts it becomes an interaction well before the poll.
fn assert_ingested_before_the_poll(app: &TestApp, dovecot: &Dovecot, n: usize) {
    let sent = Instant::now();
    dovecot.append(SUPPORT, "INBOX", &[message(n)]);
    wait_for("the message", || interactions(app) == 1);
    assert!(
        sent.elapsed() < Duration::from_secs(20),
        "{:?}",
        sent.elapsed()
    );
}

#[test]
fn idle_picks_up_new_mail_without_waiting_for_the_poll() {
    let dovecot = Dovecot::start(&[SUPPORT]);
    let app = idle_app(dovecot.port);
    assert_ingested_before_the_poll(&app, &dovecot, 4);
}

/// A TCP relay to the mail server that drops every `* n EXISTS` and `* n RECENT` line the server
/// sends: what a client sees when such an announcement falls where it cannot read it (the imap
/// crate drops those that arrive while IDLE's DONE is answered). Answers its port.
fn relay_without_announcements(to: u16) -> u16 {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").expect("a relay port");
    let port = listener.local_addr().expect("its address").port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = TcpStream::connect(("127.0.0.1", to)) else {
                return;
            };
            let (mut client_in, mut server_out) = (
                client.try_clone().expect("a client handle"),
                server.try_clone().expect("a server handle"),
            );
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_in, &mut server_out);
            });
            std::thread::spawn(move || {
                let mut pending = Vec::new();
                let mut buf = [0u8; 65536];
                loop {
                    let n = match server.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    let mut out = Vec::new();
                    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = pending.drain(..=end).collect();
                        let text = String::from_utf8_lossy(&line);
                        let words: Vec<&str> = text.split_whitespace().collect();
                        let announcement = matches!(words.as_slice(), ["*", n, "EXISTS" | "RECENT"] if n.parse::<u32>().is_ok());
                        if !announcement {
                            out.extend_from_slice(&line);
                        }
                    }
                    if client.write_all(&out).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[test]
fn idle_finds_new_mail_whose_announcement_was_lost() {
    let dovecot = Dovecot::start(&[SUPPORT]);
    let port = relay_without_announcements(dovecot.port);
    // IDLE never hears of the message, and the poll is a minute away: only the check after each
    // IDLE renewal can find it in time.
    let app = idle_app(port);
    std::thread::sleep(Duration::from_millis(500));
    assert_ingested_before_the_poll(&app, &dovecot, 5);
    wait_for("the message moved", || {
        folder_count(&dovecot, SUPPORT, "Processed") == 1
    });
}

#[test]
fn without_move_messages_are_copied_and_expunged_once() {
    let dovecot = Dovecot::start_with(
        &[SUPPORT],
        Options {
            capability: Some("IMAP4rev1 LITERAL+ UIDPLUS IDLE".into()),
            mail_log: true,
            ..Options::default()
        },
    );
    {
        // The server really announces no MOVE.
        let mut s = dovecot.session(SUPPORT);
        let caps = s.capabilities().unwrap();
        assert!(!caps.has_str("MOVE") && caps.has_str("UIDPLUS"));
        let _ = s.logout();
    }
    let batch: Vec<Vec<u8>> = (10..40).map(message).collect();
    dovecot.append(SUPPORT, "INBOX", &batch);
    let app = spawn_app_with(|s| {
        s.mailboxes = vec![mailbox("support", dovecot.port, "none", SUPPORT, "")]
    });
    wait_for("30 interactions", || interactions(&app) == 30);
    wait_for("the inbox emptied", || {
        folder_count(&dovecot, SUPPORT, "INBOX") == 0
    });
    assert_eq!(folder_count(&dovecot, SUPPORT, "Processed"), 30);
    // The fallback was taken: a MOVE expunges its messages without flagging them \Deleted.
    let log = std::fs::read_to_string(dovecot.dir.join("dovecot.log")).unwrap_or_default();
    let deleted = log
        .lines()
        .filter(|l| l.contains("expunge:") && l.contains("\\Deleted"))
        .count();
    assert_eq!(deleted, 30, "{log}");
}
