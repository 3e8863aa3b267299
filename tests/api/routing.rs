//! Routing end to end: agents with skills and capacities go ready, web forms that need a skill
//! are offered to the best qualified agent with free capacity, a rejected offer never returns to
//! the same agent, an unanswered one expires and moves on, an accepted one is the agent's, and
//! `GET …/routing` explains every placement.

use crate::helpers::*;
use postroom::settings::Settings;
use serde_json::{json, Value};

fn view(app: &TestApp, id: &str) -> Value {
    app.admin_get(&format!("/api/v1/interactions/{id}")).body
}

fn submit(app: &TestApp, subject: &str) -> String {
    let r = app.submit_webform("cara@example.com", subject, "Please help with my invoice.");
    assert_eq!(r.status, 202, "{:?}", r.body);
    r.body["interaction_id"].as_str().unwrap().to_string()
}

fn wait_status(app: &TestApp, id: &str, status: &str, owner_or_offer: Option<&str>) -> Value {
    let mut last = Value::Null;
    wait_until(&format!("{id} {status}"), 20, || {
        last = view(app, id);
        last["status"] == status
            && owner_or_offer.is_none_or(|a| last["owner"] == a || last["offered_to"] == a)
    });
    last
}

#[test]
fn work_goes_to_the_best_qualified_agent_and_moves_on_when_refused_or_ignored() {
    let app = spawn_app_with(|s: &mut Settings| {
        s.workflow.process =
            toml::from_str(r#"inbound = [{ step = "route", skills = ["billing"] }]"#).unwrap();
        s.routing.offer_secs = 1.0;
        s.routing.every_ms = 50;
    });
    let admin = app.admin_token.clone();
    let mut tokens = std::collections::HashMap::new();
    for (name, skills, capacity) in [
        ("alice", json!({"billing": 5}), 1),
        ("bob", json!({"billing": 8}), 1),
        ("carol", json!({"returns": 9}), 5),
    ] {
        let token = app.token_for(name, "agent");
        let r = app.post_json(
            "/api/v1/admin/agents",
            Some(&admin),
            json!({"user": name, "skills": skills, "capacity": {"email": capacity}}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let r = app.post_json("/api/v1/me/state", Some(&token), json!({"state": "ready"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        tokens.insert(name, token);
    }

    // The highest billing level first.
    let a = submit(&app, "Invoice A");
    let v = wait_status(&app, &a, "offered", Some("bob"));
    assert_eq!(v["offered_to"], "bob", "{v}");
    // Not hers to take.
    let r = app.post_json(
        &format!("/api/v1/interactions/{a}/accept"),
        Some(&tokens["alice"]),
        json!({}),
    );
    assert_eq!(r.status, 403, "{:?}", r.body);
    // Refused: the next best, never bob again.
    let r = app.post_json(
        &format!("/api/v1/interactions/{a}/reject"),
        Some(&tokens["bob"]),
        json!({}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    wait_status(&app, &a, "offered", Some("alice"));
    // Ignored past its deadline: back in the queue, and nobody qualified is left for it.
    wait_status(&app, &a, "queued", None);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(view(&app, &a)["status"], "queued");

    // Accepted: it is the agent's; their capacity is then full.
    let b = submit(&app, "Invoice B");
    wait_status(&app, &b, "offered", Some("bob"));
    let r = app.post_json(
        &format!("/api/v1/interactions/{b}/accept"),
        Some(&tokens["bob"]),
        json!({}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "assigned");
    assert_eq!(r.body["owner"], "bob");
    let again = app.post_json(
        &format!("/api/v1/interactions/{b}/accept"),
        Some(&tokens["bob"]),
        json!({}),
    );
    assert_eq!(again.status, 409, "{:?}", again.body);
    // Bob corrects his interaction's category (what retraining learns from); not alice.
    let r = app.post_json(
        &format!("/api/v1/interactions/{b}/categorise"),
        Some(&tokens["alice"]),
        json!({"category": "billing_payment"}),
    );
    assert_eq!(r.status, 403, "{:?}", r.body);
    let r = app.post_json(
        &format!("/api/v1/interactions/{b}/categorise"),
        Some(&tokens["bob"]),
        json!({"category": "has space"}),
    );
    assert_eq!(r.status, 422, "{:?}", r.body);
    let r = app.post_json(
        &format!("/api/v1/interactions/{b}/categorise"),
        Some(&tokens["bob"]),
        json!({"category": "billing_payment"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["category"], "billing_payment");
    let b_id: postroom::domain::InteractionId = b.parse().unwrap();
    assert_eq!(
        app.engine
            .projections
            .read(|p| p.corrections.get(&b_id).cloned())
            .as_deref(),
        Some("billing_payment")
    );
    let c = submit(&app, "Invoice C");
    wait_status(&app, &c, "offered", Some("alice"));
    // The desktop lists each agent's work.
    let mine = app
        .get("/api/v1/me/interactions", Some(&tokens["bob"]))
        .body;
    assert_eq!(mine["assigned"][0]["id"], b.as_str(), "{mine}");
    let mine = app
        .get("/api/v1/me/interactions", Some(&tokens["alice"]))
        .body;
    assert_eq!(mine["offered"][0]["id"], c.as_str(), "{mine}");
    assert!(mine["offered"][0]["offer_deadline"].is_string(), "{mine}");
    // Going not ready withdraws her offers at once; nobody else can take C now.
    let r = app.post_json(
        "/api/v1/me/state",
        Some(&tokens["alice"]),
        json!({"state": "not_ready", "reason": "meeting"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    wait_status(&app, &c, "queued", None);
    let routing = app
        .admin_get(&format!("/api/v1/interactions/{c}/routing"))
        .body;
    let withdrawn = routing["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "OfferWithdrawn")
        .unwrap_or_else(|| panic!("{routing}"));
    assert_eq!(withdrawn["data"]["reason"], "the agent is not ready");

    // Nobody exceeds capacity; carol (no billing) was never offered anything.
    let agents = app.get("/api/v1/agents", Some(&admin)).body;
    for a in agents.as_array().unwrap() {
        let load = a["load"]["email"].as_u64().unwrap();
        assert!(load <= a["capacity"]["email"].as_u64().unwrap(), "{a}");
    }
    let carol = app.get("/api/v1/agents/carol", Some(&admin)).body;
    assert_eq!(carol["load"]["email"], 0);

    // Every placement explained.
    let r = app.admin_get(&format!("/api/v1/interactions/{a}/routing"));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["offered_to"], json!(["bob", "alice"]));
    let explained: Vec<&Value> = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "OfferExplained")
        .map(|e| &e["data"])
        .collect();
    assert_eq!(explained.len(), 2, "{:?}", r.body);
    assert_eq!(explained[0]["agent"], "bob");
    assert_eq!(explained[0]["eligible"], 2);
    assert_eq!(explained[0]["rule"], "highest skill level");
    assert_eq!(explained[1]["agent"], "alice");
    assert_eq!(explained[1]["rule"], "only eligible agent");
    let types: Vec<&str> = r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"OfferRejected") && types.contains(&"OfferExpired"),
        "{types:?}"
    );
}

/// Records `snapshots/eventlog-v1-routing.ndjson` (RoutingLocked, InteractionOffered,
/// OfferExplained, OfferRejected, OfferAccepted as routing records them). Run once by hand; a
/// recorded log is never overwritten.
#[test]
#[ignore = "records a schema snapshot; run by hand once per new schema"]
fn record_the_routing_log() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots/eventlog-v1-routing.ndjson");
    let app = spawn_app_with(|s: &mut Settings| {
        s.routing.every_ms = 50;
    });
    let admin = app.admin_token.clone();
    let mut tokens = Vec::new();
    for name in ["alice", "bob"] {
        let token = app.token_for(name, "agent");
        app.post_json("/api/v1/admin/agents", Some(&admin), json!({"user": name}));
        app.post_json("/api/v1/me/state", Some(&token), json!({"state": "ready"}));
        tokens.push(token);
    }
    let a = submit(&app, "Invoice A");
    let first = wait_status(&app, &a, "offered", None)["offered_to"]
        .as_str()
        .unwrap()
        .to_string();
    let (t1, t2) = if first == "alice" {
        (&tokens[0], &tokens[1])
    } else {
        (&tokens[1], &tokens[0])
    };
    app.post_json(
        &format!("/api/v1/interactions/{a}/reject"),
        Some(t1),
        json!({}),
    );
    wait_until("offered to the other", 20, || {
        let v = view(&app, &a);
        v["status"] == "offered" && v["offered_to"] != first.as_str()
    });
    app.post_json(
        &format!("/api/v1/interactions/{a}/accept"),
        Some(t2),
        json!({}),
    );
    record_log(&app, &path);
}

/// Records `snapshots/eventlog-v1-withdrawal.ndjson` (OfferWithdrawn). Run once by hand; a
/// recorded log is never overwritten.
#[test]
#[ignore = "records a schema snapshot; run by hand once per new schema"]
fn record_the_withdrawal_log() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots/eventlog-v1-withdrawal.ndjson");
    let app = spawn_app_with(|s: &mut Settings| {
        s.routing.every_ms = 50;
    });
    let token = app.token_for("alice", "agent");
    app.post_json(
        "/api/v1/admin/agents",
        Some(&app.admin_token),
        json!({"user": "alice"}),
    );
    app.post_json("/api/v1/me/state", Some(&token), json!({"state": "ready"}));
    let a = submit(&app, "Invoice A");
    wait_status(&app, &a, "offered", Some("alice"));
    app.post_json(
        "/api/v1/me/state",
        Some(&token),
        json!({"state": "logged_out"}),
    );
    wait_status(&app, &a, "queued", None);
    record_log(&app, &path);
}

/// The offer's explanation (the last `OfferExplained` in its routing view).
fn explained(app: &TestApp, id: &str) -> Value {
    let r = app
        .admin_get(&format!("/api/v1/interactions/{id}/routing"))
        .body;
    r["events"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["type"] == "OfferExplained")
        .map(|e| e["data"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn a_customers_answer_goes_to_the_agent_who_handled_the_thread_first() {
    let app = spawn_app_with(|s: &mut Settings| {
        s.workflow.process =
            toml::from_str(r#"inbound = [{ step = "route", skills = ["billing"] }]"#).unwrap();
        s.routing.every_ms = 50;
        s.routing.preferred_wait_secs = 1.5;
    });
    let mut t = std::collections::HashMap::new();
    for (name, level, capacity) in [("alice", 3, 1), ("bob", 9, 5)] {
        let token = app.token_for(name, "agent");
        let r = app.post_json(
            "/api/v1/admin/agents",
            Some(&app.admin_token),
            json!({"user": name, "skills": {"billing": level}, "capacity": {"email": capacity}}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let r = app.post_json("/api/v1/me/state", Some(&token), json!({"state": "ready"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        t.insert(name, token);
    }
    let act = |who: &str, id: &str, action: &str, body: Value| {
        let r = app.post_json(
            &format!("/api/v1/interactions/{id}/{action}"),
            Some(&t[who]),
            body,
        );
        assert_eq!(r.status, 200, "{who} {action}: {:?}", r.body);
    };
    // Bob is the better match, refuses; alice handles it and finishes.
    let a = submit(&app, "Invoice twice");
    wait_status(&app, &a, "offered", Some("bob"));
    act("bob", &a, "reject", json!({}));
    wait_status(&app, &a, "offered", Some("alice"));
    act("alice", &a, "accept", json!({}));
    act("alice", &a, "done", json!({"disposition": "resolved"}));

    // The customer answers in the thread: alice first, though bob ranks higher.
    let token = postroom::domain::threading::thread_token(a.parse().unwrap());
    let answer = |text: &str| {
        let r = app.submit_webform(
            "cara@example.com",
            &format!("Re: Invoice twice [#{token}]"),
            text,
        );
        assert_eq!(r.status, 202, "{:?}", r.body);
        r.body["interaction_id"].as_str().unwrap().to_string()
    };
    let b = answer("Thanks, one more question.");
    wait_status(&app, &b, "offered", Some("alice"));
    let why = explained(&app, &b);
    assert_eq!(why["rule"], "preferred agent (handled the thread)", "{why}");
    assert_eq!(why["rank"], 2, "{why}");
    act("alice", &b, "accept", json!({}));

    // Alice is full now: a further answer waits for her a while, then goes to bob.
    let c = answer("And another.");
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(view(&app, &c)["status"], "queued", "reserved for alice");
    let v = wait_status(&app, &c, "offered", Some("bob"));
    assert_eq!(v["offered_to"], "bob");
    assert_eq!(explained(&app, &c)["rule"], "only eligible agent");
}

#[test]
fn work_nobody_qualifies_for_is_widened_after_its_wait() {
    let app = spawn_app_with(|s: &mut Settings| {
        s.workflow.process =
            toml::from_str(r#"inbound = [{ step = "route", skills = ["german"] }]"#).unwrap();
        s.routing.every_ms = 50;
        s.routing.widen = vec![postroom::settings::WidenStep {
            queue: "inbound".into(),
            after_secs: 1.0,
            skills: vec![],
        }];
    });
    let token = app.token_for("ann", "agent");
    app.post_json(
        "/api/v1/admin/agents",
        Some(&app.admin_token),
        json!({"user": "ann", "skills": {"billing": 5}}),
    );
    app.post_json("/api/v1/me/state", Some(&token), json!({"state": "ready"}));
    let a = submit(&app, "Rechnung");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(view(&app, &a)["status"], "queued", "nobody speaks German");
    wait_status(&app, &a, "offered", Some("ann"));
    let why = explained(&app, &a);
    assert_eq!(
        why["rule"], "only eligible agent (skills widened after 1 s)",
        "{why}"
    );
    assert_eq!(why["skills"], json!([]));
}

#[test]
fn mail_in_two_languages_goes_to_agents_who_read_it_and_nobody_exceeds_capacity() {
    use crate::ingest::{folder_count, mailbox, wait_for, SUPPORT};
    use crate::mailservers::Dovecot;
    let dovecot = Dovecot::start(&[SUPPORT]);
    let mb = mailbox(&dovecot, "support", SUPPORT, Some("Processed"));
    let app = spawn_app_with(|s: &mut Settings| {
        s.mailboxes = vec![mb];
        // Screening detects the language; routing asks for billing.
        s.workflow.rules = Some(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("examples/screening-rules.toml"),
        );
        s.workflow.process = toml::from_str(
            r#"inbound = [{ step = "screen" }, { step = "route", skills = ["billing"] }]"#,
        )
        .unwrap();
        s.routing.every_ms = 50;
    });
    let mut t = std::collections::HashMap::new();
    for (name, language, capacity) in [("anna", "en", 1), ("bernd", "de", 2)] {
        let token = app.token_for(name, "agent");
        let r = app.post_json(
            "/api/v1/admin/agents",
            Some(&app.admin_token),
            json!({"user": name, "skills": {"billing": 5}, "languages": [language],
                   "capacity": {"email": capacity}}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let r = app.post_json("/api/v1/me/state", Some(&token), json!({"state": "ready"}));
        assert_eq!(r.status, 200, "{:?}", r.body);
        t.insert(name, token);
    }
    let mail = |from: &str, subject: &str, body: &str| {
        format!(
            "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nDate: Fri, 27 Nov 2026 09:00:00 +0000\r\n\r\n{body}\r\n"
        )
        .into_bytes()
    };
    dovecot.append(
        SUPPORT,
        "INBOX",
        &[
            mail(
                "Ann Lee <ann@example.com>",
                "Charged twice",
                "Hello, I was charged twice for the same invoice this month. Could you please refund one of the two payments to my card?",
            ),
            mail(
                "Dieter <dieter@example.de>",
                "Doppelte Abbuchung",
                "Guten Tag, mir wurde die Rechnung diesen Monat zweimal abgebucht. Bitte erstatten Sie mir eine der beiden Zahlungen auf mein Konto.",
            ),
            mail(
                "Bob Ray <bob@example.com>",
                "Wrong amount on my invoice",
                "Hi, the amount on my latest invoice is higher than the price I agreed to when I ordered. Please correct the invoice and send me a new one.",
            ),
        ],
    );
    wait_for("the inbox read", || {
        folder_count(&dovecot, SUPPORT, "INBOX") == 0
    });
    let id_of = |subject: &str| -> String {
        let mut id = String::new();
        wait_until(subject, 20, || {
            let found = app.engine.projections.read(|p| {
                p.cache
                    .iter()
                    .find(|(_, s)| s.subject == subject)
                    .map(|(id, _)| id)
            });
            found.map(|f| id = f.to_string()).is_some()
        });
        id
    };
    let (ann, dieter, bob) = (
        id_of("Charged twice"),
        id_of("Doppelte Abbuchung"),
        id_of("Wrong amount on my invoice"),
    );
    wait_status(&app, &dieter, "offered", Some("bernd"));
    assert_eq!(view(&app, &dieter)["language"], "deu");
    // One English message goes to anna; the other waits: she is full and bernd reads German.
    wait_until("one English message offered", 20, || {
        [&ann, &bob]
            .iter()
            .filter(|id| view(&app, id)["offered_to"] == "anna")
            .count()
            == 1
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (first, second) = if view(&app, &ann)["offered_to"] == "anna" {
        (ann.clone(), bob.clone())
    } else {
        (bob.clone(), ann.clone())
    };
    assert_eq!(view(&app, &second)["status"], "queued");
    for name in ["anna", "bernd"] {
        let w = app.admin_get(&format!("/api/v1/agents/{name}")).body;
        assert!(
            w["load"]["email"].as_u64().unwrap() <= w["capacity"]["email"].as_u64().unwrap(),
            "{name} over capacity: {w}"
        );
    }
    // Anna finishes the first: the second is hers next.
    for action in ["accept", "done"] {
        let body = if action == "done" {
            json!({"disposition": "resolved"})
        } else {
            json!({})
        };
        let r = app.post_json(
            &format!("/api/v1/interactions/{first}/{action}"),
            Some(&t["anna"]),
            body,
        );
        assert_eq!(r.status, 200, "{action}: {:?}", r.body);
    }
    wait_status(&app, &second, "offered", Some("anna"));
}
