//! IMAP behaviours a second server (Cyrus) showed, played by Dovecot: a personal namespace
//! `INBOX.` with `.` as separator, the commands an idle mailbox costs, and a crash between COPY
//! and EXPUNGE on a server without MOVE.

use crate::helpers::*;
use crate::ingest::{folder_count, interactions, mailbox, wait_for, SUPPORT};
use crate::mailservers::{Dovecot, Options};

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
    let ready = app.get("/readyz", None);
    assert_eq!(ready.status, 200, "{:?}", ready.body);
    let support = &ready.body["mailboxes"]["support"];
    assert_eq!(support["processed_folder"], "INBOX.Processed", "{support:?}");
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
        app.get("/readyz", None).status == 503
    });
    let ready = app.get("/readyz", None);
    let support = &ready.body["mailboxes"]["support"];
    assert_eq!(support["ready"], false, "{support:?}");
    assert_eq!(support["last_error_kind"], "permanent", "{support:?}");
    let reasons = ready.body["not_ready"].as_array().cloned().unwrap_or_default();
    assert!(
        reasons.iter().any(|r| {
            let r = r.as_str().unwrap_or_default();
            r.starts_with("mailbox support:") && r.contains("INBOX.~Processed")
        }),
        "{:?}",
        ready.body
    );
    // The fields readiness had stay.
    for field in ["log_head", "projections_lag", "mailboxes", "interactions"] {
        assert!(ready.body.get(field).is_some(), "{field}: {:?}", ready.body);
    }
    // Nothing was moved anywhere.
    assert_eq!(folder_count(&dovecot, SUPPORT, "INBOX"), 1);
}
