//! The HTTP API against a real server: web form, reads, auth and roles, audit, admin, errors.

use crate::helpers::*;
use postroom::domain::interaction::InteractionCommand;
use postroom::domain::{Millis, Principal};
use serde_json::json;

#[test]
fn health_and_readiness_answer() {
    let app = spawn_app();
    assert_eq!(app.get("/healthz", None).status, 200);
    let r = app.get("/readyz", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body["ready"], true);
}

#[test]
fn a_web_form_becomes_a_queued_interaction() {
    let app = spawn_app();
    let r = app.post_json(
        "/api/v1/webform",
        None,
        json!({"from": "ann@example.com", "name": "Ann Lee", "subject": "Late order", "body": "Where is order 42?"}),
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let id = r.body["interaction_id"].as_str().unwrap();

    let got = app.admin_get(&format!("/api/v1/interactions/{id}"));
    assert_eq!(got.status, 200, "{:?}", got.body);
    let b = &got.body;
    assert_eq!(b["status"], "queued");
    assert_eq!(b["queue"], "inbound");
    assert_eq!(b["channel"], "webform");
    assert_eq!(b["from"], "ann@example.com");
    assert_eq!(b["from_name"], "Ann Lee");
    assert_eq!(b["subject"], "Late order");
    assert_eq!(b["locked"], false);
    // Received, the process's run, queued.
    assert_eq!(b["version"], 3);
    // The body is in the content store, referenced by its hash, not in the log.
    let hash = postroom::events::codec::sha256(b"Where is order 42?");
    assert_eq!(b["content_ref"], hex::encode(hash));
    let stored = app
        .engine
        .storage
        .content
        .get(&postroom::domain::ContentRef(hash))
        .unwrap();
    assert_eq!(stored.as_deref(), Some(&b"Where is order 42?"[..]));
}

#[test]
fn invalid_web_forms_are_refused_with_a_problem_body() {
    let app = spawn_app_with(|s| s.webform.max_body_bytes = 1000);
    let cases = [
        (
            json!({"from": "not-an-address", "subject": "s", "body": "b"}),
            422,
            "from",
        ),
        (
            json!({"from": "a@b.example", "subject": "x\r\nBcc: victim@example.com", "body": "b"}),
            422,
            "subject",
        ),
        (
            json!({"from": "a@b.example", "name": "Eve\nBcc: x@y.z", "subject": "s", "body": "b"}),
            422,
            "name",
        ),
        (
            json!({"from": "a@b.example\r\nBcc: x@y.z", "subject": "s", "body": "b"}),
            422,
            "from",
        ),
        (
            json!({"from": "a@b.example", "subject": "s", "body": "   "}),
            422,
            "body",
        ),
        (json!({"from": "a@b.example", "subject": "s"}), 422, "body"),
        (
            json!({"from": "a@b.example", "subject": "s", "body": "b", "admin": true}),
            422,
            "admin",
        ),
        (
            json!({"from": "a@b.example", "subject": "s", "body": "x".repeat(1001)}),
            413,
            "body",
        ),
        (json!({"from": 5, "subject": "s", "body": "b"}), 422, "from"),
    ];
    for (body, status, mentions) in cases {
        let r = app.post_json("/api/v1/webform", None, body.clone());
        assert_eq!(r.status, status, "{body} → {:?}", r.body);
        assert_eq!(r.body["status"], status, "problem body for {body}");
        assert!(r.body["type"].as_str().unwrap().starts_with("https://"));
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains(mentions),
            "{detail:?} should mention {mentions}"
        );
    }
    let r = app.post_raw("/api/v1/webform", "application/json", b"{\"from\":");
    assert_eq!(r.status, 400);
    let r = app.post_raw("/api/v1/webform", "text/plain", b"hello");
    assert_eq!(r.status, 415);
    let big = vec![b'x'; 2 << 20];
    let r = app.post_raw("/api/v1/webform", "application/json", &big);
    assert_eq!(r.status, 413);
    // Nothing was recorded by any of them (the log holds the root user and the process
    // version).
    assert_eq!(
        postroom::events::EventStore::head(app.engine.storage.store.as_ref()),
        2
    );
}

#[test]
fn reads_need_a_token_and_the_right_role() {
    let app = spawn_app();
    let id = app.new_interaction("bob@example.com", "Hi");
    let path = format!("/api/v1/interactions/{id}");

    let r = app.get(&path, None);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(r.body["status"], 401);
    assert_eq!(app.get(&path, Some("prt_wrong")).status, 401);

    let agent = app.token_for("alice", "agent");
    let auditor = app.token_for("audrey", "auditor");
    assert_eq!(app.get(&path, Some(&agent)).status, 200);
    assert_eq!(
        app.get(&format!("{path}/history"), Some(&agent)).status,
        403
    );
    assert_eq!(app.get("/api/v1/audit/events", Some(&agent)).status, 403);
    assert_eq!(app.get("/api/v1/audit/events", Some(&auditor)).status, 200);
    assert_eq!(app.get("/api/v1/queues", Some(&auditor)).status, 403);
    let r = app.post_json(
        "/api/v1/admin/users",
        Some(&agent),
        json!({"name": "mallory", "role": "admin"}),
    );
    assert_eq!(r.status, 403);
    assert!(r.body["detail"].as_str().unwrap().contains("admin"));
}

#[test]
fn admins_create_and_revoke_users() {
    let app = spawn_app();
    let token = app.token_for("carol", "supervisor");
    assert!(token.starts_with("prt_") && token.len() == 68);
    assert_eq!(app.get("/api/v1/queues", Some(&token)).status, 200);

    assert_eq!(app.create_user("carol", "agent").status, 409);
    assert_eq!(app.create_user("bad name", "agent").status, 422);
    assert_eq!(app.create_user("dave", "overlord").status, 422);

    assert_eq!(
        app.delete("/api/v1/admin/users/carol", Some(&app.admin_token))
            .status,
        204
    );
    assert_eq!(app.get("/api/v1/queues", Some(&token)).status, 401);
    assert_eq!(
        app.delete("/api/v1/admin/users/carol", Some(&app.admin_token))
            .status,
        404
    );

    // The token never reaches the log: only its digest, under the admin who acted.
    let page = app.admin_get(&format!(
        "/api/v1/audit/events?type=UserAdded&principal=user:{}",
        app.admin_name()
    ));
    let events = page.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert!(!events[0].to_string().contains(&token));
}

#[test]
fn history_replays_every_event_with_the_state_after_it() {
    let app = spawn_app();
    let id = app.new_interaction("erin@example.com", "Question");
    app.execute(
        id,
        InteractionCommand::SupervisorReprioritise {
            supervisor: agent("sam"),
            priority: 5,
            at: Millis(1),
        },
        Principal::User("sam".into()),
    )
    .unwrap();
    let r = app.admin_get(&format!("/api/v1/interactions/{id}/history"));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let events = r.body["events"].as_array().unwrap();
    let types: Vec<_> = events
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "InteractionReceived",
            "ProcessRan",
            "InteractionQueued",
            "Reprioritised"
        ]
    );
    let states: Vec<_> = events
        .iter()
        .map(|e| e["state"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["received", "received", "queued", "queued"]);
    assert_eq!(events[0]["event"]["principal"], "customer:erin@example.com");
    assert_eq!(events[1]["event"]["principal"], "system:workflow");
    assert_eq!(events[2]["event"]["principal"], "system:workflow");
    assert_eq!(events[3]["event"]["principal"], "user:sam");
    assert_eq!(events[3]["state"]["priority"], 5);
    // Received and queued share a correlation id: one submission.
    assert_eq!(
        events[0]["event"]["correlation_id"],
        events[1]["event"]["correlation_id"]
    );
    for e in events {
        for k in [
            "position",
            "version",
            "id",
            "recorded_at",
            "hash",
            "prev_hash",
            "schema_version",
        ] {
            assert!(!e["event"][k].is_null(), "envelope field {k}");
        }
    }

    let r = app.admin_get(&format!("/api/v1/interactions/{id}/history?version=1"));
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.body["state"]["status"], "received");
    assert_eq!(r.body["events"].as_array().unwrap().len(), 1);

    assert_eq!(
        app.admin_get(&format!("/api/v1/interactions/{id}/history?version=0"))
            .status,
        400
    );
    assert_eq!(
        app.admin_get(&format!("/api/v1/interactions/{id}/history?version=9"))
            .status,
        404
    );
    assert_eq!(
        app.admin_get(&format!("/api/v1/interactions/{id}/history?version=x"))
            .status,
        400
    );
    assert_eq!(
        app.admin_get("/api/v1/interactions/not-a-uuid/history")
            .status,
        400
    );
    let unknown = uuid::Uuid::now_v7();
    assert_eq!(
        app.admin_get(&format!("/api/v1/interactions/{unknown}/history"))
            .status,
        404
    );
    assert_eq!(
        app.admin_get(&format!("/api/v1/interactions/{unknown}"))
            .status,
        404
    );
}

#[test]
fn queues_list_in_priority_then_age_order() {
    let app = spawn_app_with(|s| s.workflow.queues = vec!["inbound".into(), "vip".into()]);
    let first = app.new_interaction("a@example.com", "first");
    let second = app.new_interaction("b@example.com", "second");
    let third = app.new_interaction("c@example.com", "third");
    app.execute(
        third,
        InteractionCommand::SupervisorReprioritise {
            supervisor: agent("sam"),
            priority: 10,
            at: Millis(1),
        },
        Principal::User("sam".into()),
    )
    .unwrap();
    let r = app.admin_get("/api/v1/queues/inbound");
    assert_eq!(r.status, 200);
    assert_eq!(r.body["depth"], 3);
    let order: Vec<_> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["interaction_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        order,
        [third.to_string(), first.to_string(), second.to_string()]
    );
    assert_eq!(r.body["items"][0]["rank"], 1);

    let r = app.admin_get("/api/v1/queues/inbound?limit=1");
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["depth"], 3);
    assert_eq!(app.admin_get("/api/v1/queues/inbound?limit=0").status, 400);

    let all = app.admin_get("/api/v1/queues");
    assert_eq!(
        all.body,
        json!([
            {"name": "inbound", "depth": 3, "configured": true},
            {"name": "vip", "depth": 0, "configured": true}
        ])
    );
    assert_eq!(app.admin_get("/api/v1/queues/vip").body["depth"], 0);
    assert_eq!(app.admin_get("/api/v1/queues/nowhere").status, 404);
    // A name that cannot be a queue's names none (the document's `name` is any string).
    assert_eq!(app.admin_get("/api/v1/queues/bad%20name").status, 404);
}

#[test]
fn audit_events_filter_and_paginate() {
    let app = spawn_app();
    let a = app.new_interaction("one@example.com", "1");
    let _b = app.new_interaction("two@example.com", "2");
    let all = app.admin_get("/api/v1/audit/events?limit=1000");
    assert_eq!(all.status, 200);
    let events = all.body["events"].as_array().unwrap();
    // the process version and root's UserAdded, then 2 × (received, process run, queued)
    assert_eq!(events.len(), 8);
    assert!(all.body["next_after"].is_null());
    let positions: Vec<_> = events
        .iter()
        .map(|e| e["position"].as_u64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3, 4, 5, 6, 7, 8]);

    let by_type = app.admin_get("/api/v1/audit/events?type=InteractionReceived");
    assert_eq!(by_type.body["events"].as_array().unwrap().len(), 2);
    let by_principal = app.admin_get("/api/v1/audit/events?principal=customer:two@example.com");
    assert_eq!(by_principal.body["events"].as_array().unwrap().len(), 1);
    let by_interaction = app.admin_get(&format!("/api/v1/audit/events?interaction={a}"));
    assert_eq!(by_interaction.body["events"].as_array().unwrap().len(), 3);
    let by_stream = app.admin_get(&format!(
        "/api/v1/audit/events?stream=interaction-{a}&after=4"
    ));
    assert_eq!(by_stream.body["events"].as_array().unwrap().len(), 1);

    // Pages of two, following next_after, cover everything once.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let p = app.admin_get(&format!("/api/v1/audit/events?limit=2&after={after}"));
        for e in p.body["events"].as_array().unwrap() {
            seen.push(e["position"].as_u64().unwrap());
        }
        match p.body["next_after"].as_u64() {
            Some(n) => after = n,
            None => break,
        }
    }
    assert_eq!(seen, [1, 2, 3, 4, 5, 6, 7, 8]);

    // Time range: everything was recorded after 2020 and before 2100.
    let r = app.admin_get("/api/v1/audit/events?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z");
    assert_eq!(r.body["events"].as_array().unwrap().len(), 8);
    let r = app.admin_get("/api/v1/audit/events?to=2020-01-01T00:00:00Z");
    assert_eq!(r.body["events"].as_array().unwrap().len(), 0);

    // The largest cursor means "nothing after", never a wrap to the start; past int64 (the
    // document's bound) is refused.
    let r = app.admin_get(&format!("/api/v1/audit/events?after={}", u64::MAX));
    assert_eq!(r.status, 400);
    let r = app.admin_get(&format!("/api/v1/audit/events?after={}", i64::MAX));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["events"].as_array().unwrap().len(), 0);
    assert!(r.body["next_after"].is_null());

    for bad in [
        "principal=nobody",
        "from=yesterday",
        "limit=0",
        "limit=5000",
        "after=-1",
        "interaction=xyz",
        "colour=blue",
    ] {
        let r = app.admin_get(&format!("/api/v1/audit/events?{bad}"));
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
        assert_eq!(r.body["status"], 400);
    }
}

#[test]
fn unknown_routes_answer_a_problem_body() {
    let app = spawn_app();
    let r = app.get("/api/v1/nothing-here", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.body["status"], 404);
}

#[test]
fn the_openapi_document_covers_every_route() {
    let app = spawn_app();
    let r = app.get("/api/v1/openapi.json", None);
    assert_eq!(r.status, 200);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = r.body["paths"].as_object().unwrap();
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    documented.sort();
    let mut expected = vec![
        "GET /",
        "GET /assets/{name}",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "POST /api/v1/webform",
        "GET /api/v1/interactions/{id}",
        "GET /api/v1/interactions/{id}/history",
        "GET /api/v1/interactions/{id}/content",
        "GET /api/v1/interactions/{id}/attachments/{n}",
        "GET /api/v1/interactions/{id}/raw",
        "GET /api/v1/interactions/{id}/notes",
        "GET /api/v1/interactions/{id}/thread",
        "GET /api/v1/contacts",
        "GET /api/v1/contacts/{id}",
        "GET /api/v1/queues",
        "GET /api/v1/queues/{name}",
        "GET /api/v1/queues/{name}/service-level",
        "GET /api/v1/queues/{name}/trend",
        "GET /api/v1/audit/events",
        "GET /api/v1/audit/verify",
        "POST /api/v1/admin/users",
        "DELETE /api/v1/admin/users/{name}",
        "POST /api/v1/admin/config/reload",
        "POST /api/v1/standard-responses",
        "GET /api/v1/standard-responses",
        "GET /api/v1/standard-responses/{id}",
        "PUT /api/v1/standard-responses/{id}",
        "DELETE /api/v1/standard-responses/{id}",
        "GET /api/v1/interactions/{id}/suggested-responses",
        "POST /api/v1/admin/agents",
        "GET /api/v1/admin/agents/{user}",
        "PATCH /api/v1/admin/agents/{user}",
        "DELETE /api/v1/admin/agents/{user}",
        "GET /api/v1/agents",
        "GET /api/v1/agents/{user}",
        "POST /api/v1/me/state",
        "GET /api/v1/me/state",
        "POST /api/v1/interactions/{id}/accept",
        "POST /api/v1/interactions/{id}/reject",
        "GET /api/v1/interactions/{id}/routing",
        "GET /api/v1/me/interactions",
        "POST /api/v1/interactions/{id}/categorise",
        "POST /api/v1/interactions/{id}/transfer",
        "POST /api/v1/interactions/{id}/consult",
        "POST /api/v1/interactions/{id}/consult/contribution",
        "POST /api/v1/interactions/{id}/consult/end",
        "POST /api/v1/interactions/{id}/return",
        "POST /api/v1/interactions/{id}/done",
        "GET /api/v1/desktop",
        "PUT /api/v1/interactions/{id}/reply",
        "GET /api/v1/interactions/{id}/reply",
        "POST /api/v1/interactions/{id}/release",
        "GET /api/v1/me/events",
        "POST /api/v1/interactions/{id}/move",
        "POST /api/v1/interactions/{id}/priority",
        "POST /api/v1/interactions/{id}/assign",
        "POST /api/v1/interactions/{id}/stop",
        "POST /api/v1/interactions/bulk",
        "PATCH /api/v1/interactions/{id}/attributes",
        "POST /api/v1/auth/signin",
        "GET /api/v1/auth/session",
        "POST /api/v1/auth/signout",
        "POST /api/v1/auth/invitation",
        "POST /api/v1/admin/users/{name}/password",
        "POST /api/v1/admin/users/{name}/invitation",
        "GET /api/v1/reviews",
        "POST /api/v1/reviews/{id}/approve",
        "POST /api/v1/reviews/{id}/return",
        "POST /api/v1/reviews/{id}/edit",
        "POST /api/v1/reviews/{id}/reassign",
    ];
    expected.sort();
    assert_eq!(documented, expected);
    // Every documented operation is routed: none falls through to the "no route" answer.
    let id = uuid::Uuid::now_v7().to_string();
    for op in &documented {
        let (method, path) = op.split_once(' ').unwrap();
        let path = path
            .replace("{id}", &id)
            .replace("{name}", "inbound")
            .replace("{n}", "0");
        let req = ureq::request(method, &app.url(&path))
            .set("Authorization", &format!("Bearer {}", app.admin_token));
        let resp = match req.call() {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{op}: {e}"),
        };
        let text = resp.into_string().unwrap_or_default();
        assert!(
            !text.contains("no route for"),
            "{op} is documented but not routed"
        );
    }
    // Secured operations say so.
    assert!(r.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[test]
fn metrics_are_served_in_the_prometheus_format_to_oversight() {
    let app = spawn_app();
    assert_eq!(app.get("/metrics", None).status, 401);
    let agent = app.token_for("metrics-agent", "agent");
    assert_eq!(app.get("/metrics", Some(&agent)).status, 403);
    assert_eq!(
        app.submit_webform("m@example.com", "Metrics", "Count me")
            .status,
        202
    );
    let auditor = app.token_for("metrics-auditor", "auditor");
    let r = ureq::get(&app.url("/metrics"))
        .set("Authorization", &format!("Bearer {auditor}"))
        .call()
        .expect("200");
    assert!(
        r.content_type().starts_with("text/plain"),
        "{}",
        r.content_type()
    );
    let text = r.into_string().unwrap();
    let value = |name: &str| metric(&text, name);
    // The process's recorder is shared by every app a test binary runs: at least ours.
    assert!(value("postroom_webform_submissions_total") >= 1.0);
    assert!(value("postroom_log_events_appended_total") >= 2.0);
    assert!(value("postroom_log_head") >= 2.0);
    assert!(value("postroom_log_write_seconds_count") >= 1.0);
    assert!(value("postroom_queue_depth{queue=\"inbound\"}") >= 1.0);
    assert!(
        text.contains("# TYPE postroom_log_write_seconds histogram"),
        "{text}"
    );
}
