//! An agent's reply, end to end with a real Dovecot (the customer's mail in) and a real SMTP
//! server (the reply out): a draft saved, changed and read back, a standard response rendered
//! for the customer, the release composed and sent once, threaded to the customer's message.

use crate::helpers::*;
use crate::ingest::{folder_count, mailbox, wait_for, SUPPORT};
use crate::mailservers::Dovecot;
use crate::outbox::smtp;
use crate::smtp_sink::SmtpSink;
use postroom::domain::threading::thread_token;
use postroom::domain::InteractionId;
use postroom::settings::Settings;
use serde_json::{json, Value};

fn view(app: &TestApp, id: &str) -> Value {
    app.admin_get(&format!("/api/v1/interactions/{id}")).body
}

/// The mail servers and the app: a mailbox in, an SMTP server out, routing by skill.
fn servers() -> (SmtpSink, Dovecot, TestApp) {
    let sink = SmtpSink::start();
    let dovecot = Dovecot::start(&[SUPPORT]);
    let mb = mailbox(&dovecot, "support", SUPPORT, Some("Processed"));
    let app = spawn_app_with(|s: &mut Settings| {
        s.mailboxes = vec![mb];
        s.smtp = Some(smtp(sink.port));
        // No acknowledgement: what reaches the SMTP server is the agent's reply alone.
        s.workflow.process =
            toml::from_str(r#"inbound = [{ step = "route", skills = ["billing"] }]"#).unwrap();
        s.routing.every_ms = 50;
    });
    (sink, dovecot, app)
}

#[test]
fn a_released_reply_reaches_the_customer_once_threaded_to_their_message() {
    let (sink, dovecot, app) = servers();
    scenario(&sink, &dovecot, &app);
}

/// Records `snapshots/eventlog-v2-replies.ndjson`: drafts (version 2, with HTML) and a release
/// (`ReplyComposed`).
#[test]
#[ignore = "records a schema snapshot; run by hand once per new schema"]
fn record_the_replies_log() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots/eventlog-v2-replies.ndjson");
    let (sink, dovecot, app) = servers();
    scenario(&sink, &dovecot, &app);
    record_log(&app, &path);
}

fn scenario(sink: &SmtpSink, dovecot: &Dovecot, app: &TestApp) {
    let admin = app.admin_token.clone();
    let mut t = std::collections::HashMap::new();
    // Bob ranks first by skill; alice ends up handling the customer's thread.
    for (name, level) in [("alice", 3), ("bob", 9)] {
        let token = app.token_for(name, "agent");
        let r = app.post_json(
            "/api/v1/admin/agents",
            Some(&admin),
            json!({"user": name, "skills": {"billing": level}}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let r = app.post_json("/api/v1/me/state", Some(&token), json!({"state": "ready"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        t.insert(name, token);
    }
    let r = app.post_json(
        "/api/v1/standard-responses",
        Some(&admin),
        json!({
            "name": "Refund issued", "categories": [], "usage": "suggestion", "approved": true,
            "subject": "Re: {{ subject }}",
            "text": "Dear {{ contact_name }}, your refund is on its way. {{ agent_name }}",
        }),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let response = r.body["id"].as_str().unwrap().to_string();

    dovecot.append(
        SUPPORT,
        "INBOX",
        &[format!(
            "From: Ann Lee <ann@example.com>\r\nTo: {SUPPORT}\r\nSubject: Charged twice\r\n\
             Date: Fri, 27 Nov 2026 09:00:00 +0000\r\nMessage-ID: <k1@mail.example.com>\r\n\
             References: <k0@mail.example.com>\r\n\r\nYou charged my card twice.\r\n"
        )
        .into_bytes()],
    );
    wait_for("the inbox read", || {
        folder_count(dovecot, SUPPORT, "INBOX") == 0
    });
    let mut a = String::new();
    wait_until("offered to bob", 20, || {
        let found = app.engine.projections.read(|p| {
            p.cache
                .iter()
                .find(|(_, s)| !s.is_reply() && s.subject == "Charged twice")
                .map(|(id, _)| id)
        });
        if let Some(id) = found {
            a = id.to_string();
            view(app, &a)["offered_to"] == "bob"
        } else {
            false
        }
    });
    let url = |action: &str| format!("/api/v1/interactions/{a}/{action}");
    assert_eq!(
        app.post_json(&url("reject"), Some(&t["bob"]), json!({}))
            .status,
        200
    );
    wait_until("offered to alice", 20, || {
        view(app, &a)["offered_to"] == "alice"
    });
    assert_eq!(
        app.post_json(&url("accept"), Some(&t["alice"]), json!({}))
            .status,
        200
    );

    // Nobody else writes or reads her reply; there is none yet.
    let r = app.request_json("PUT", &url("reply"), Some(&t["bob"]), json!({"text": "Hi"}));
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = app.get(&url("reply"), Some(&t["alice"]));
    assert_eq!(r.status, 404, "{:?}", r.body);
    let r = app.post_json(&url("release"), Some(&t["alice"]), json!({}));
    assert_eq!(r.status, 409, "nothing to release: {:?}", r.body);

    // A standard response, rendered for Ann by alice; then her own words replace it.
    let r = app.request_json(
        "PUT",
        &url("reply"),
        Some(&t["alice"]),
        json!({"standard_response_id": response}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["text"],
        "Dear Ann Lee, your refund is on its way. alice"
    );
    let reply_id = r.body["reply_id"].as_str().unwrap().to_string();
    let token = thread_token(a.parse::<InteractionId>().unwrap());
    assert_eq!(
        r.body["subject"],
        format!("Re: Charged twice [#{token}]").as_str()
    );
    assert_eq!(r.body["status"], "draft");
    let r = app.request_json(
        "PUT",
        &url("reply"),
        Some(&t["alice"]),
        json!({"text": "Hi", "standard_response_id": response}),
    );
    assert_eq!(r.status, 422, "{:?}", r.body);
    let text = "Dear Ann,\n\nwe refunded the second charge today.\n\nAlice";
    let html = "<p>Dear Ann,</p><p>we refunded the second charge today.</p><p>Alice</p>";
    let r = app.request_json(
        "PUT",
        &url("reply"),
        Some(&t["alice"]),
        json!({"text": text, "html": html}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["reply_id"], reply_id.as_str(), "the same draft");
    let r = app.get(&url("reply"), Some(&t["alice"]));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["text"], text);
    assert_eq!(r.body["html"], html);

    // Released: composed, sent once, threaded.
    let r = app.post_json(&url("release"), Some(&t["alice"]), json!({}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["reply_id"], reply_id.as_str());
    let message_id = r.body["message_id"].as_str().unwrap().to_string();
    wait_until("the reply sent", 20, || {
        view(app, &reply_id)["status"] == "sent"
    });
    let again = app.post_json(&url("release"), Some(&t["alice"]), json!({}));
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["reply_id"], reply_id.as_str(), "the same reply");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let received = sink.messages();
    assert_eq!(received.len(), 1, "sent once: {received:#?}");
    let m = &received[0];
    assert_eq!(m.rcpt_tos, ["ann@example.com"]);
    assert_eq!(m.mail_from, "support@example.test");
    assert_eq!(
        m.header("Subject").as_deref(),
        Some(format!("Re: Charged twice [#{token}]").as_str())
    );
    assert_eq!(
        m.header("Message-ID").as_deref(),
        Some(format!("<{message_id}>").as_str())
    );
    assert_eq!(
        m.header("In-Reply-To").as_deref(),
        Some("<k1@mail.example.com>")
    );
    assert_eq!(
        m.header("References").as_deref(),
        Some("<k0@mail.example.com> <k1@mail.example.com>")
    );
    assert_eq!(m.header("Auto-Submitted"), None, "a person wrote it");
    // Byte for byte what was composed and recorded at the release.
    let rid: InteractionId = reply_id.parse().unwrap();
    let stored = app
        .engine
        .projections
        .read(|p| p.cache.get(&rid))
        .and_then(|s| s.outbound)
        .and_then(|r| app.engine.storage.content.get(&r).unwrap())
        .expect("the composed message is stored");
    assert_eq!(m.bytes, stored);
    let parsed = postroom::mail::parse(&m.bytes, &postroom::mail::Limits::default());
    // Lines end in CRLF on the wire (RFC 5322).
    assert_eq!(parsed.text.trim_end(), text.replace('\n', "\r\n"));
    assert!(parsed
        .html
        .as_deref()
        .unwrap_or_default()
        .contains("second charge"));

    // The customer's interaction shows the reply; it is finished with a disposition.
    let v = view(app, &a);
    assert_eq!(v["status"], "replied", "{v}");
    let r = app.post_json(
        &url("done"),
        Some(&t["alice"]),
        json!({"disposition": "resolved"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.request_json(
        "PUT",
        &url("reply"),
        Some(&t["alice"]),
        json!({"text": "One more thing"}),
    );
    assert_eq!(r.status, 409, "finished: {:?}", r.body);

    // Ann answers the reply from her mail program: it joins the thread and goes to alice
    // first, though bob ranks higher.
    dovecot.append(
        SUPPORT,
        "INBOX",
        &[format!(
            "From: Ann Lee <ann@example.com>\r\nTo: {SUPPORT}\r\n\
             Subject: Re: Charged twice [#{token}]\r\n\
             Date: Fri, 27 Nov 2026 11:00:00 +0000\r\nMessage-ID: <k2@mail.example.com>\r\n\
             In-Reply-To: <{message_id}>\r\n\
             References: <k0@mail.example.com> <k1@mail.example.com> <{message_id}>\r\n\r\n\
             Thank you! Will the refund show on this month's statement?\r\n"
        )
        .into_bytes()],
    );
    let mut answer = String::new();
    wait_until("the answer offered to alice", 20, || {
        let found = app.engine.projections.read(|p| {
            p.cache
                .iter()
                .find(|(_, s)| s.message_id.as_deref() == Some("k2@mail.example.com"))
                .map(|(id, _)| id)
        });
        found.is_some_and(|id| {
            answer = id.to_string();
            view(app, &answer)["offered_to"] == "alice"
        })
    });
    let v = view(app, &answer);
    assert_eq!(v["thread"], a.as_str(), "{v}");
    let routing = app
        .admin_get(&format!("/api/v1/interactions/{answer}/routing"))
        .body;
    let explained = routing["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "OfferExplained")
        .expect("explained");
    assert_eq!(
        explained["data"]["rule"], "preferred agent (handled the thread)",
        "{explained}"
    );
    assert_eq!(explained["data"]["rank"], 2);
}

#[test]
fn without_a_mail_server_a_reply_is_saved_but_not_released() {
    let app = spawn_app_with(|s: &mut Settings| {
        s.workflow.process =
            toml::from_str(r#"inbound = [{ step = "route", skills = ["billing"] }]"#).unwrap();
        s.routing.every_ms = 50;
    });
    let token = app.token_for("alice", "agent");
    let r = app.post_json(
        "/api/v1/admin/agents",
        Some(&app.admin_token),
        json!({"user": "alice", "skills": {"billing": 5}}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    app.post_json("/api/v1/me/state", Some(&token), json!({"state": "ready"}));
    let r = app.submit_webform("cara@example.com", "Invoice", "Where is it?");
    let a = r.body["interaction_id"].as_str().unwrap().to_string();
    wait_until("offered", 20, || view(&app, &a)["offered_to"] == "alice");
    let url = |action: &str| format!("/api/v1/interactions/{a}/{action}");
    assert_eq!(
        app.post_json(&url("accept"), Some(&token), json!({}))
            .status,
        200
    );
    let r = app.request_json(
        "PUT",
        &url("reply"),
        Some(&token),
        json!({"text": "It is attached."}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.post_json(&url("release"), Some(&token), json!({}));
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("[smtp]"),
        "{:?}",
        r.body
    );
    let r = app.get(&url("reply"), Some(&token));
    assert_eq!(r.body["status"], "draft", "kept: {:?}", r.body);
}
