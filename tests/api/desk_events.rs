//! `GET /api/v1/me/events`: each agent's desktop hears of its own work only, as it happens, and a
//! desktop that reconnects with `Last-Event-ID` misses nothing and repeats nothing.

use crate::helpers::*;
use postroom::settings::Settings;
use serde_json::{json, Value};
use std::io::BufRead;
use std::sync::mpsc;
use std::time::Duration;

/// One Server-Sent Event as received.
#[derive(Debug, Clone)]
pub(crate) struct Sse {
    pub(crate) id: u64,
    pub(crate) kind: String,
    pub(crate) data: Value,
}

/// An open event stream, read by a thread of its own.
pub(crate) struct Stream {
    events: mpsc::Receiver<Sse>,
}

impl Stream {
    pub(crate) fn open(app: &TestApp, token: &str, last_event_id: Option<u64>) -> Stream {
        let mut req = ureq::AgentBuilder::new()
            .build()
            .get(&format!("{}/api/v1/me/events", app.address))
            .set("Authorization", &format!("Bearer {token}"));
        if let Some(id) = last_event_id {
            req = req.set("Last-Event-ID", &id.to_string());
        }
        let resp = req.call().expect("the stream opens");
        assert_eq!(resp.content_type(), "text/event-stream");
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            let reader = std::io::BufReader::new(resp.into_reader());
            let (mut id, mut kind, mut data) = (None, None, None);
            for line in reader.lines() {
                let Ok(line) = line else { return };
                if line.is_empty() {
                    if let (Some(id), Some(kind), Some(data)) =
                        (id.take(), kind.take(), data.take())
                    {
                        if tx.send(Sse { id, kind, data }).is_err() {
                            return;
                        }
                    }
                    continue;
                }
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.parse().ok();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    kind = Some(v.to_string());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(v).ok();
                }
            }
        });
        Stream { events }
    }

    /// The next event, within 10 s.
    pub(crate) fn next(&self) -> Sse {
        self.events
            .recv_timeout(Duration::from_secs(10))
            .expect("an event within 10 s")
    }

    /// No event for `ms` milliseconds.
    fn quiet(&self, ms: u64) -> Option<Sse> {
        self.events.recv_timeout(Duration::from_millis(ms)).ok()
    }
}

#[test]
fn each_desktop_hears_its_own_work_and_a_reconnect_misses_nothing() {
    let app = spawn_app_with(|s: &mut Settings| {
        s.workflow.process =
            toml::from_str(r#"inbound = [{ step = "route", skills = ["billing"] }]"#).unwrap();
        s.routing.every_ms = 50;
    });
    let mut t = std::collections::HashMap::new();
    for (name, level) in [("alice", 9), ("bob", 5)] {
        let token = app.token_for(name, "agent");
        let r = app.post_json(
            "/api/v1/admin/agents",
            Some(&app.admin_token),
            json!({"user": name, "skills": {"billing": level}}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        t.insert(name, token);
    }
    // Not an agent: no stream.
    let r = app.admin_get("/api/v1/me/events");
    assert_eq!(r.status, 404, "{:?}", r.body);
    let alice = Stream::open(&app, &t["alice"], None);
    let bob = Stream::open(&app, &t["bob"], None);
    for (name, token) in &t {
        let r = app.post_json("/api/v1/me/state", Some(token), json!({"state": "ready"}));
        assert_eq!(r.status, 200, "{name}: {:?}", r.body);
    }

    // Offered to alice: she hears it, with its deadline; bob hears nothing.
    let r = app.submit_webform("cara@example.com", "Invoice twice", "Charged twice.");
    let a = r.body["interaction_id"].as_str().unwrap().to_string();
    let offer = alice.next();
    assert_eq!(offer.kind, "offer");
    assert_eq!(offer.data["interaction_id"], a.as_str());
    assert_eq!(offer.data["event"]["type"], "InteractionOffered");
    assert!(
        offer.data["event"]["data"]["deadline"].is_number(),
        "{offer:?}"
    );
    assert!(
        bob.quiet(300).is_none(),
        "bob hears nothing of alice's offer"
    );

    // Rejected: alice hears her refusal, bob his offer.
    let url = |action: &str| format!("/api/v1/interactions/{a}/{action}");
    assert_eq!(
        app.post_json(&url("reject"), Some(&t["alice"]), json!({}))
            .status,
        200
    );
    assert_eq!(alice.next().kind, "offer_rejected");
    let offer = bob.next();
    assert_eq!(offer.kind, "offer");
    assert_eq!(offer.data["interaction_id"], a.as_str());
    let last_seen = offer.id;
    drop(bob);

    // While bob is away: he accepts (from another tab), consults alice, she contributes.
    assert_eq!(
        app.post_json(&url("accept"), Some(&t["bob"]), json!({}))
            .status,
        200
    );
    let r = app.post_json(
        &url("consult"),
        Some(&t["bob"]),
        json!({"agent": "alice", "note": "Refunded?"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let invite = alice.next();
    assert_eq!(invite.kind, "consultation");
    assert_eq!(invite.data["event"]["data"]["note"], "Refunded?");
    let r = app.post_json(
        &url("consult/contribution"),
        Some(&t["alice"]),
        json!({"text": "Yes, on 3 May."}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);

    // Back with the last id he saw: what he missed, in order, nothing he had; then live.
    let bob = Stream::open(&app, &t["bob"], Some(last_seen));
    let assigned = bob.next();
    assert_eq!(assigned.kind, "assigned");
    assert!(assigned.id > last_seen);
    let contribution = bob.next();
    assert_eq!(contribution.kind, "contribution");
    assert_eq!(contribution.data["event"]["data"]["text"], "Yes, on 3 May.");
    assert!(contribution.id > assigned.id);
    let r = app.post_json(&url("consult/end"), Some(&t["alice"]), json!({}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let ended = bob.next();
    assert_eq!(ended.kind, "consultation_ended");
    assert!(ended.id > contribution.id);
    assert!(bob.quiet(300).is_none(), "nothing twice");
    // Alice heard nothing of bob's assignment.
    assert!(alice.quiet(300).is_none());

    let bad = ureq::get(&format!("{}/api/v1/me/events", app.address))
        .set("Authorization", &format!("Bearer {}", t["bob"]))
        .set("Last-Event-ID", "yesterday")
        .call();
    match bad {
        Err(ureq::Error::Status(400, _)) => {}
        other => panic!("a bad Last-Event-ID is 400: {other:?}"),
    }
}
