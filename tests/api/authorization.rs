//! The authorisation matrix, written out route by route (`MATRIX`) and held to the route table
//! (`http::routes::ROUTES`): every route against every caller (none, each role, admin) and
//! against another agent's work. A role the route does not admit gets 403, no token gets 401, an
//! admitted caller is never refused for who they are, and another agent acting on someone's
//! interaction or review gets the status its row names. And the table names exactly the routes
//! the OpenAPI document describes, so no endpoint goes undeclared.

use crate::helpers::spawn_app_with;
use postroom::domain::user::Role;
use postroom::http::routes::ROUTES;
use std::collections::BTreeSet;

/// A concrete path for a route pattern: every `{param}` filled with a value of the right shape.
fn concrete(pattern: &str) -> String {
    concrete_with(pattern, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
}

/// As `concrete`, with this id.
fn concrete_with(pattern: &str, id: &str) -> String {
    pattern
        .replace("{id}", id)
        .replace("{n}", "0")
        .replace("{name}", "nobody")
}

#[test]
fn the_route_table_and_the_openapi_document_name_the_same_routes() {
    let doc = serde_json::to_value(postroom::http::openapi()).expect("the document serialises");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("an operation map").keys() {
            documented.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let declared: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        // The document does not describe itself.
        .filter(|(_, p)| p != "/api/v1/openapi.json")
        .collect();
    assert_eq!(declared, documented);
}

/// The authorisation matrix, written out: every route (method and path as the route table
/// serves them), the answer of each caller (none, agent, supervisor, auditor, admin: `U` 401,
/// `F` 403, `.` answered past the check), and what another agent gets acting on alice's
/// interaction or on a review offered to rita (`None`: the route is not about one). Agents read
/// any interaction (the desk works from the whole history: 200, or 404 for what a web form has
/// not); they act only on their own work (403), and an offer that is not theirs cannot be taken
/// (409: it is not offered now). A route without a row fails the test, as does a row whose
/// route is gone.
const MATRIX: &[(&str, &str, Option<u16>)] = &[
    ("GET /", ". . . . .", None),
    ("GET /assets/{name}", ". . . . .", None),
    ("GET /healthz", ". . . . .", None),
    ("GET /readyz", ". . . . .", None),
    ("GET /metrics", "U F . . .", None),
    ("GET /api/v1/openapi.json", ". . . . .", None),
    ("POST /api/v1/webform", ". . . . .", None),
    ("GET /api/v1/interactions/{id}", "U . . . .", Some(200)),
    (
        "GET /api/v1/interactions/{id}/thread",
        "U . . . .",
        Some(200),
    ),
    ("GET /api/v1/interactions/{id}/history", "U F . . .", None),
    (
        "GET /api/v1/interactions/{id}/content",
        "U . . . .",
        Some(200),
    ),
    (
        "GET /api/v1/interactions/{id}/attachments/{n}",
        "U . . . .",
        Some(404),
    ),
    ("GET /api/v1/interactions/{id}/raw", "U . . . .", Some(404)),
    (
        "GET /api/v1/interactions/{id}/notes",
        "U . . . .",
        Some(200),
    ),
    ("GET /api/v1/contacts", "U . . . .", None),
    ("GET /api/v1/contacts/{id}", "U . . . .", None),
    ("GET /api/v1/queues", "U . . F .", None),
    ("GET /api/v1/queues/{name}", "U . . F .", None),
    ("GET /api/v1/queues/{name}/service-level", "U . . F .", None),
    ("GET /api/v1/queues/{name}/trend", "U . . F .", None),
    ("GET /api/v1/audit/events", "U F F . .", None),
    ("GET /api/v1/audit/verify", "U F F . .", None),
    ("POST /api/v1/admin/users", "U F F F .", None),
    ("DELETE /api/v1/admin/users/{name}", "U F F F .", None),
    ("POST /api/v1/admin/config/reload", "U F F F .", None),
    ("POST /api/v1/standard-responses", "U F F F .", None),
    ("GET /api/v1/standard-responses", "U . . F .", None),
    ("GET /api/v1/standard-responses/{id}", "U . . F .", None),
    ("PUT /api/v1/standard-responses/{id}", "U F F F .", None),
    ("DELETE /api/v1/standard-responses/{id}", "U F F F .", None),
    (
        "GET /api/v1/interactions/{id}/suggested-responses",
        "U . . F .",
        Some(200),
    ),
    ("POST /api/v1/admin/agents", "U F F F .", None),
    ("GET /api/v1/admin/agents/{user}", "U F F F .", None),
    ("PATCH /api/v1/admin/agents/{user}", "U F F F .", None),
    ("DELETE /api/v1/admin/agents/{user}", "U F F F .", None),
    ("GET /api/v1/agents", "U F . F .", None),
    ("GET /api/v1/agents/{user}", "U F . F .", None),
    ("POST /api/v1/me/state", "U . . F .", None),
    ("GET /api/v1/me/state", "U . . F .", None),
    (
        "POST /api/v1/interactions/{id}/accept",
        "U . . F .",
        Some(409),
    ),
    (
        "POST /api/v1/interactions/{id}/reject",
        "U . . F .",
        Some(409),
    ),
    (
        "GET /api/v1/interactions/{id}/routing",
        "U . . . .",
        Some(200),
    ),
    ("GET /api/v1/me/interactions", "U . . F .", None),
    (
        "POST /api/v1/interactions/{id}/categorise",
        "U . . F .",
        Some(403),
    ),
    (
        "POST /api/v1/interactions/{id}/transfer",
        "U . . F .",
        Some(403),
    ),
    (
        "POST /api/v1/interactions/{id}/consult",
        "U . . F .",
        Some(403),
    ),
    (
        "POST /api/v1/interactions/{id}/consult/contribution",
        "U . . F .",
        Some(403),
    ),
    (
        "POST /api/v1/interactions/{id}/consult/end",
        "U . . F .",
        Some(403),
    ),
    (
        "POST /api/v1/interactions/{id}/return",
        "U . . F .",
        Some(403),
    ),
    (
        "POST /api/v1/interactions/{id}/done",
        "U . . F .",
        Some(403),
    ),
    ("GET /api/v1/desktop", "U . . F .", None),
    (
        "PUT /api/v1/interactions/{id}/reply",
        "U . . F .",
        Some(403),
    ),
    (
        "GET /api/v1/interactions/{id}/reply",
        "U . . F .",
        Some(403),
    ),
    (
        "POST /api/v1/interactions/{id}/release",
        "U . . F .",
        Some(403),
    ),
    ("GET /api/v1/me/events", "U . . F .", None),
    ("POST /api/v1/interactions/{id}/move", "U F . F .", None),
    ("POST /api/v1/interactions/{id}/priority", "U F . F .", None),
    ("POST /api/v1/interactions/{id}/assign", "U F . F .", None),
    ("POST /api/v1/interactions/{id}/stop", "U F . F .", None),
    ("POST /api/v1/interactions/bulk", "U F . F .", None),
    (
        "PATCH /api/v1/interactions/{id}/attributes",
        "U F . F .",
        None,
    ),
    ("POST /api/v1/auth/signin", ". . . . .", None),
    ("GET /api/v1/auth/session", "U . . . .", None),
    ("POST /api/v1/auth/signout", "U . . . .", None),
    ("POST /api/v1/auth/invitation", ". . . . .", None),
    (
        "POST /api/v1/admin/users/{name}/password",
        "U F F F .",
        None,
    ),
    (
        "POST /api/v1/admin/users/{name}/invitation",
        "U F F F .",
        None,
    ),
    ("GET /api/v1/reviews", "U . . F .", None),
    ("POST /api/v1/reviews/{id}/approve", "U . . F .", Some(403)),
    ("POST /api/v1/reviews/{id}/return", "U . . F .", Some(403)),
    ("POST /api/v1/reviews/{id}/edit", "U . . F .", Some(403)),
    ("POST /api/v1/reviews/{id}/reassign", "U . . F .", Some(403)),
];

/// A body the route takes, so another agent's request passes every check but who they are.
fn body_for(method_path: &str) -> Option<serde_json::Value> {
    use serde_json::json;
    let path = method_path.split_once(' ').map(|(_, p)| p).unwrap_or("");
    Some(match path.rsplit('/').next().unwrap_or("") {
        "transfer" => json!({"queue": "inbound", "note": "yours"}),
        "consult" => json!({"agent": "carol"}),
        "contribution" => json!({"text": "a thought"}),
        "end" => json!({"agent": "carol"}),
        "return" if path.starts_with("/api/v1/reviews") => json!({"comment": "again"}),
        "return" => json!({"reason": "not mine"}),
        "done" => json!({"disposition": "resolved"}),
        "reply" => json!({"text": "Hello"}),
        "categorise" => json!({"category": "billing"}),
        "edit" => json!({"text": "Better"}),
        "reassign" => json!({"reviewer": "rita"}),
        _ => json!({}),
    })
}

#[test]
fn the_matrix_holds_for_every_route_every_role_and_another_agents_work() {
    use crate::helpers::{agent, TestApp};
    use postroom::domain::interaction::{InteractionCommand as C, ReviewDecided};
    use postroom::domain::{ContentRef, EmailAddress, InteractionId, Principal, QueueName};
    let app = spawn_app_with(|s| s.routing.every_ms = 0);
    // Every route has exactly one row, and every row a route.
    let served: BTreeSet<String> = ROUTES
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let rows: BTreeSet<String> = MATRIX.iter().map(|(r, ..)| r.to_string()).collect();
    let missing: Vec<_> = served.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in MATRIX: {missing:?}"
    );
    let stale: Vec<_> = rows.difference(&served).collect();
    assert!(stale.is_empty(), "rows of routes that are gone: {stale:?}");
    assert_eq!(rows.len(), MATRIX.len(), "one row per route");

    // alice works an interaction; her reply waits for rita's review; bob is another agent.
    let admin = app.admin_token.clone();
    let mut tokens = std::collections::HashMap::new();
    for (name, reviewer) in [
        ("alice", false),
        ("bob", false),
        ("carol", false),
        ("rita", true),
    ] {
        tokens.insert(name, app.token_for(name, "agent"));
        let r = app.post_json(
            "/api/v1/admin/agents",
            Some(&admin),
            serde_json::json!({"user": name, "reviewer": reviewer}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let r = app.post_json(
            "/api/v1/me/state",
            Some(&tokens[name]),
            serde_json::json!({"state": "ready"}),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let work = app.new_interaction("ann@example.com", "Refund");
    let sam = app.token_for("sam", "supervisor");
    let r = app.post_json(
        &format!("/api/v1/interactions/{work}/assign"),
        Some(&sam),
        serde_json::json!({"agent": "alice"}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let reply = InteractionId::from_uuid(uuid::Uuid::now_v7());
    let alice = Principal::User("alice".into());
    let now = postroom::startup::now();
    let run = |app: &TestApp, cmd: C, who: &Principal| {
        app.execute(reply, cmd.clone(), who.clone())
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    };
    run(
        &app,
        C::DraftReply {
            parent: work,
            agent: agent("alice"),
            to: EmailAddress::parse("ann@example.com").unwrap(),
            subject: "Re: Refund".into(),
            content: Some(ContentRef([1; 32])),
            html: None,
            at: now,
        },
        &alice,
    );
    run(
        &app,
        C::SendReply {
            agent: agent("alice"),
            queue: QueueName::parse("outbound").unwrap(),
            message: ContentRef([2; 32]),
            message_id: "m@example.test".into(),
            review: Box::new(ReviewDecided {
                required: true,
                reasons: vec![],
                policy: "qa-test".into(),
                queue: QueueName::parse("review").ok(),
                at: now,
            }),
            at: now,
        },
        &alice,
    );
    run(
        &app,
        C::Offer {
            agent: agent("rita"),
            deadline: postroom::domain::Millis(now.0 + 3_600_000),
            at: now,
            explained: None,
        },
        &Principal::System("router".into()),
    );

    let roles = [Role::Agent, Role::Supervisor, Role::Auditor];
    let callers: Vec<String> = roles
        .iter()
        .map(|r| app.token_for(&format!("matrix-{}", r.as_str()), r.as_str()))
        .collect();
    let mut wrong = Vec::new();
    for (route, expected, other) in MATRIX {
        let (method, pattern) = route.split_once(' ').unwrap();
        let path = concrete(pattern);
        let marks: Vec<&str> = expected.split(' ').collect();
        assert_eq!(marks.len(), 5, "{route}: five columns");
        let mut tokens_by_column: Vec<Option<&str>> = vec![None];
        tokens_by_column.extend(callers.iter().map(|t| Some(t.as_str())));
        tokens_by_column.push(Some(admin.as_str()));
        for (column, (mark, token)) in marks.iter().zip(tokens_by_column).enumerate() {
            let status = app.request(method, &path, token).status;
            let ok = match *mark {
                "U" => status == 401,
                "F" => status == 403,
                "." => status != 401 && status != 403,
                m => panic!("{route}: unknown mark {m}"),
            };
            if !ok {
                wrong.push(format!(
                    "{route} column {column}: expected {mark}, got {status}"
                ));
            }
        }
        // Another agent on alice's work (or rita's review).
        let target = if pattern.starts_with("/api/v1/reviews/") {
            reply
        } else {
            work
        };
        let concrete = concrete_with(pattern, &target.to_string());
        let about_one = pattern.starts_with("/api/v1/interactions/{id}")
            || pattern.starts_with("/api/v1/reviews/{id}");
        let status = if about_one && marks[1] == "." {
            let body = body_for(route).unwrap_or_default();
            let r = if method == "GET" {
                app.get(&concrete, Some(&tokens["bob"]))
            } else {
                app.request_json(method, &concrete, Some(&tokens["bob"]), body)
            };
            Some(r.status)
        } else {
            None
        };
        if status != *other {
            wrong.push(format!(
                "{route} by another agent: expected {other:?}, got {status:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the matrix does not hold:\n{}",
        wrong.join("\n")
    );
}
