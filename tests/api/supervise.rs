//! Supervisors manage waiting work: move, reprioritise, assign, stop, one at a time or in bulk
//! (an answer per id); refused with 409 naming who holds it while an offer is pending or an agent
//! works it; each action recorded under the supervisor.

use crate::helpers::*;
use postroom::settings::Settings;
use serde_json::{json, Value};

fn view(app: &TestApp, id: &str) -> Value {
    app.admin_get(&format!("/api/v1/interactions/{id}")).body
}

#[test]
fn supervisors_move_reprioritise_assign_and_stop_waiting_work_only() {
    let app = spawn_app_with(|s: &mut Settings| {
        s.workflow.queues = vec!["inbound".into(), "vip".into()];
        s.workflow.process =
            toml::from_str(r#"inbound = [{ step = "route", skills = ["billing"] }]"#).unwrap();
        s.routing.every_ms = 50;
    });
    let sam = app.token_for("sam", "supervisor");
    let alice = app.token_for("alice", "agent");
    let r = app.post_json(
        "/api/v1/admin/agents",
        Some(&app.admin_token),
        json!({"user": "alice", "skills": {"billing": 5}, "capacity": {"email": 3}}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    // Nobody is ready: everything waits.
    let submit = |subject: &str| {
        let r = app.submit_webform("cara@example.com", subject, "Please help.");
        assert_eq!(r.status, 202, "{:?}", r.body);
        r.body["interaction_id"].as_str().unwrap().to_string()
    };
    let [a, b, c, d] = ["A", "B", "C", "D"].map(submit);
    for id in [&a, &b, &c, &d] {
        wait_until("queued", 20, || view(&app, id)["status"] == "queued");
    }
    let sup = |id: &str, action: &str, body: Value| {
        app.post_json(
            &format!("/api/v1/interactions/{id}/{action}"),
            Some(&sam),
            body,
        )
    };

    // Agents may not.
    let r = app.post_json(
        &format!("/api/v1/interactions/{a}/move"),
        Some(&alice),
        json!({"queue": "vip"}),
    );
    assert_eq!(r.status, 403, "{:?}", r.body);

    let r = sup(&a, "move", json!({"queue": "vip"}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["queue"], "vip");
    let r = sup(&a, "move", json!({"queue": "nowhere"}));
    assert_eq!(r.status, 422, "{:?}", r.body);
    let r = sup(&b, "priority", json!({"priority": 7}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["priority"], 7);
    let r = sup(&b, "priority", json!({"priority": 5000}));
    assert_eq!(r.status, 422, "{:?}", r.body);
    let r = sup(&c, "assign", json!({"agent": "alice"}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["status"], "assigned");
    assert_eq!(r.body["owner"], "alice");
    let r = sup(&c, "assign", json!({"agent": "zed"}));
    assert_eq!(r.status, 422, "{:?}", r.body);
    // Alice works C now: refused, naming her.
    let r = sup(&c, "move", json!({"queue": "inbound"}));
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("held by alice"),
        "{:?}",
        r.body
    );

    // Attributes: set, changed, removed (a merge patch); a bad key is 422.
    let attrs = format!("/api/v1/interactions/{d}/attributes");
    let r = app.request_json(
        "PATCH",
        &attrs,
        Some(&sam),
        json!({"tier": "gold", "source": "phone"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["attributes"]["tier"], "gold");
    let r = app.request_json("PATCH", &attrs, Some(&sam), json!({"tier": null}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["attributes"].get("tier").is_none(), "{:?}", r.body);
    assert_eq!(r.body["attributes"]["source"], "phone");
    let r = app.request_json("PATCH", &attrs, Some(&sam), json!({"a b": "x"}));
    assert_eq!(r.status, 422, "{:?}", r.body);
    let r = app.request_json(
        "PATCH",
        &format!("/api/v1/interactions/{c}/attributes"),
        Some(&sam),
        json!({"tier": "gold"}),
    );
    assert_eq!(r.status, 409, "alice works it: {:?}", r.body);

    // Alice ready: A and B are offered to her (C fills her third place); D waits.
    let r = app.post_json("/api/v1/me/state", Some(&alice), json!({"state": "ready"}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    for id in [&a, &b] {
        wait_until("offered", 20, || view(&app, id)["status"] == "offered");
    }
    assert_eq!(view(&app, &d)["status"], "queued");
    let r = sup(&a, "priority", json!({"priority": 1}));
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("held by an offer to alice"),
        "{:?}",
        r.body
    );

    // Bulk: an answer per id, in order; unknown ids included.
    let unknown = uuid::Uuid::now_v7().to_string();
    let r = app.post_json(
        "/api/v1/interactions/bulk",
        Some(&sam),
        json!({"action": "stop", "ids": [b, unknown, d], "reason": "duplicate of A"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let statuses: Vec<u64> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [409, 404, 200], "{:?}", r.body);
    assert_eq!(r.body["results"][2]["id"], d.as_str());
    assert_eq!(view(&app, &d)["status"], "stopped");
    assert_eq!(view(&app, &d)["stop_reason"], "duplicate of A");
    for bad in [
        json!({"action": "stop", "ids": ["not-an-id"], "reason": "x"}),
        json!({"action": "stop", "ids": [d], "reason": "x", "priority": 3}),
        json!({"action": "fly", "ids": [d]}),
        json!({"action": "move", "ids": []}),
    ] {
        let r = app.post_json("/api/v1/interactions/bulk", Some(&sam), bad.clone());
        assert_eq!(r.status, 422, "{bad}: {:?}", r.body);
    }
    let r = app.post_json(
        "/api/v1/interactions/bulk",
        Some(&sam),
        json!({"action": "assign", "ids": [d], "agent": "zed"}),
    );
    assert_eq!(r.status, 404, "{:?}", r.body);

    // The bulk path answers POST only (not the `/interactions/{id}` it looks like).
    let r = app.get("/api/v1/interactions/bulk", Some(&sam));
    assert_eq!(r.status, 405, "{:?}", r.body);
    assert_eq!(r.header("allow"), Some("POST"));

    // Each action is in the history under the supervisor.
    let h = app
        .admin_get(&format!("/api/v1/interactions/{a}/history"))
        .body;
    let moved = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["type"] == "MovedBySupervisor")
        .expect("moved");
    assert_eq!(moved["event"]["principal"], "user:sam");
    assert_eq!(moved["event"]["data"]["to_queue"], "vip");
}

/// Records `snapshots/eventlog-v1-supervise.ndjson`: a supervisor's attribute edit.
#[test]
#[ignore = "records a schema snapshot; run by hand once per new schema"]
fn record_the_supervise_log() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots/eventlog-v1-supervise.ndjson");
    let app = spawn_app_with(|s: &mut Settings| s.routing.every_ms = 0);
    let sam = app.token_for("sam", "supervisor");
    let r = app.submit_webform("cara@example.com", "Invoice", "Please help.");
    let id = r.body["interaction_id"].as_str().unwrap().to_string();
    wait_until("queued", 20, || view(&app, &id)["status"] == "queued");
    let r = app.request_json(
        "PATCH",
        &format!("/api/v1/interactions/{id}/attributes"),
        Some(&sam),
        json!({"tier": "gold"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.request_json(
        "PATCH",
        &format!("/api/v1/interactions/{id}/attributes"),
        Some(&sam),
        json!({"tier": null, "source": "phone"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    record_log(&app, &path);
}
