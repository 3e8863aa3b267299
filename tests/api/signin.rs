//! Signing in through a browser: passwords (set by an admin, by the command line, or through a
//! one-time invitation), a session cookie with its flags, CSRF on every change, sign-out ending
//! the session on the server, idle expiry, revocation, refused attempts limited and recorded,
//! and nothing to crack in the log.

use crate::helpers::*;
use serde_json::{json, Value};

/// A browser's request: its session cookie and CSRF token, if any.
fn browser(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Option<Value>,
) -> Resp {
    let mut req = ureq::request(method, &app.url(path));
    if let Some(c) = cookie {
        req = req.set("Cookie", &format!("postroom_session={c}"));
    }
    if let Some(t) = csrf {
        req = req.set("X-CSRF-Token", t);
    }
    call(req, body)
}

/// Signs in; the session cookie's value and the CSRF token.
fn sign_in(app: &TestApp, name: &str, password: &str) -> (Resp, Option<(String, String)>) {
    let r = browser(
        app,
        "POST",
        "/api/v1/auth/signin",
        None,
        None,
        Some(json!({"name": name, "password": password})),
    );
    let cookie = r
        .header("set-cookie")
        .and_then(|c| c.strip_prefix("postroom_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_string);
    let csrf = r.body["csrf_token"].as_str().map(str::to_string);
    let session = cookie.zip(csrf);
    (r, session)
}

fn events_of(app: &TestApp, user: &str) -> Vec<Value> {
    let r = app.get(
        &format!("/api/v1/audit/events?stream=user-{user}&limit=1000"),
        Some(&app.admin_token),
    );
    r.body["events"].as_array().cloned().unwrap_or_default()
}

fn types(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_person_signs_in_works_with_csrf_and_signs_out() {
    let app = spawn_app_with(|s| s.routing.every_ms = 0);
    scenario(&app);
}

/// Records `snapshots/eventlog-v1-signin.ndjson`: passwords set, sign-ins, refusals, sessions
/// ended, an invitation.
#[test]
#[ignore = "records a schema snapshot; run by hand once per new schema"]
fn record_the_signin_log() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots/eventlog-v1-signin.ndjson");
    if path.exists() {
        return; // never overwrite a recorded log
    }
    let app = spawn_app_with(|s| s.routing.every_ms = 0);
    scenario(&app);
    app.token_for("erin", "agent");
    let r = app.post_json(
        "/api/v1/admin/users/erin/invitation",
        Some(&app.admin_token),
        json!({}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    record_log(&app, &path);
}

fn scenario(app: &TestApp) {
    let admin = app.admin_token.clone();
    app.token_for("alice", "agent");
    let r = app.post_json(
        "/api/v1/admin/agents",
        Some(&admin),
        json!({"user": "alice"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let password = "correct horse battery staple";

    // No password yet: refused like any wrong one.
    let (r, none) = sign_in(app, "alice", password);
    assert_eq!(r.status, 401, "{:?}", r.body);
    assert!(none.is_none());
    let set = |pw: &str| {
        app.post_json(
            "/api/v1/admin/users/alice/password",
            Some(&admin),
            json!({ "password": pw }),
        )
    };
    assert_eq!(set("short").status, 422);
    assert_eq!(set("ALICE").status, 422);
    assert_eq!(set(password).status, 204);
    let r = app.post_json(
        "/api/v1/admin/users/nobody/password",
        Some(&admin),
        json!({ "password": password }),
    );
    assert_eq!(r.status, 404, "{:?}", r.body);

    // Wrong password and unknown user: the same answer.
    let (wrong, _) = sign_in(app, "alice", "not her password at all");
    let (unknown, _) = sign_in(app, "mallory", password);
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);

    // Signed in: the cookie's flags, the CSRF token.
    let (r, session) = sign_in(app, "ALICE", password);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["name"], "alice");
    assert_eq!(r.body["role"], "agent");
    let set_cookie = r.header("set-cookie").unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(flag), "{flag} in {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let (cookie, csrf) = session.unwrap();

    // Reading needs only the cookie; changing needs the CSRF token too.
    let r = browser(
        app,
        "GET",
        "/api/v1/me/interactions",
        Some(&cookie),
        None,
        None,
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = browser(
        app,
        "GET",
        "/api/v1/auth/session",
        Some(&cookie),
        None,
        None,
    );
    assert_eq!(r.body["csrf_token"], csrf.as_str());
    let ready = json!({"state": "ready"});
    let r = browser(
        app,
        "POST",
        "/api/v1/me/state",
        Some(&cookie),
        None,
        Some(ready.clone()),
    );
    assert_eq!(r.status, 403, "no CSRF token: {:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("X-CSRF-Token"));
    let r = browser(
        app,
        "POST",
        "/api/v1/me/state",
        Some(&cookie),
        Some("prt_not_the_token"),
        Some(ready.clone()),
    );
    assert_eq!(r.status, 403, "a wrong CSRF token: {:?}", r.body);
    let r = browser(
        app,
        "POST",
        "/api/v1/me/state",
        Some(&cookie),
        Some(&csrf),
        Some(ready.clone()),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    // The role still counts: an agent's session is no admin's.
    let r = browser(app, "GET", "/api/v1/agents", Some(&cookie), None, None);
    assert_eq!(r.status, 403);
    // Nothing works without a session (or a token).
    let r = browser(app, "GET", "/api/v1/me/interactions", None, None, None);
    assert_eq!(r.status, 401);
    let r = browser(
        app,
        "GET",
        "/api/v1/me/interactions",
        Some("made-up"),
        None,
        None,
    );
    assert_eq!(r.status, 401);

    // Signing out ends the session on the server.
    let r = browser(
        app,
        "POST",
        "/api/v1/auth/signout",
        Some(&cookie),
        None,
        None,
    );
    assert_eq!(r.status, 403, "sign-out changes something: CSRF");
    let r = browser(
        app,
        "POST",
        "/api/v1/auth/signout",
        Some(&cookie),
        Some(&csrf),
        None,
    );
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
    let r = browser(
        app,
        "GET",
        "/api/v1/me/interactions",
        Some(&cookie),
        None,
        None,
    );
    assert_eq!(r.status, 401, "the old cookie is worth nothing");

    // The record: the password set, the refusals, the session; no hash anywhere in the log.
    let recorded = events_of(app, "alice");
    let t = types(&recorded);
    for expected in ["PasswordSet", "SignInFailed", "SignedIn", "SignedOut"] {
        assert!(t.contains(&expected.to_string()), "{expected} in {t:?}");
    }
    let failed: Vec<&Value> = recorded
        .iter()
        .filter(|e| e["type"] == "SignInFailed")
        .collect();
    assert_eq!(
        failed[0]["data"]["reason"],
        "no password is set from 127.0.0.1"
    );
    assert_eq!(failed[1]["data"]["reason"], "wrong password from 127.0.0.1");
    let mallory = events_of(app, "mallory");
    assert_eq!(
        mallory[0]["data"]["reason"],
        "no active user of that name from 127.0.0.1"
    );
    let audrey = app.token_for("audrey", "auditor");
    let all = app
        .get("/api/v1/audit/events?limit=1000", Some(&audrey))
        .body;
    assert!(
        !all.to_string().contains("$argon2"),
        "no password hash in the log"
    );
    assert!(!all.to_string().contains(password));

    // Revoked, a user signs in no more and their sessions end.
    let (_, session) = sign_in(app, "alice", password);
    let (cookie, _) = session.unwrap();
    assert_eq!(
        app.delete("/api/v1/admin/users/alice", Some(&admin)).status,
        204
    );
    let r = browser(
        app,
        "GET",
        "/api/v1/me/interactions",
        Some(&cookie),
        None,
        None,
    );
    assert_eq!(r.status, 401);
    let (r, _) = sign_in(app, "alice", password);
    assert_eq!(r.status, 401);
}

#[test]
fn refused_attempts_are_limited_and_invitations_work_once() {
    let app = spawn_app_with(|s| {
        s.routing.every_ms = 0;
        s.http.session_idle_secs = 1;
    });
    let admin = app.admin_token.clone();
    app.token_for("bob", "supervisor");
    let password = "bob's long passphrase";
    let r = app.post_json(
        "/api/v1/admin/users/bob/password",
        Some(&admin),
        json!({ "password": password }),
    );
    assert_eq!(r.status, 204, "{:?}", r.body);
    for _ in 0..5 {
        assert_eq!(sign_in(&app, "bob", "guess guess guess").0.status, 401);
    }
    let (r, _) = sign_in(&app, "bob", password);
    assert_eq!(
        r.status, 429,
        "held, even with the right password: {:?}",
        r.body
    );
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");

    // An invitation: one-time, its password checked, then sign in.
    app.token_for("carol", "auditor");
    let r = app.post_json(
        "/api/v1/admin/users/carol/invitation",
        Some(&admin),
        json!({}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let token = r.body["token"].as_str().unwrap().to_string();
    assert!(r.body["link"].as_str().unwrap().contains(&token));
    let accept = |pw: &str| {
        browser(
            &app,
            "POST",
            "/api/v1/auth/invitation",
            None,
            None,
            Some(json!({"token": token, "password": pw})),
        )
    };
    assert_eq!(accept("short").status, 422);
    let r = accept("carol's own passphrase");
    assert_eq!(
        r.status, 200,
        "still open after a refused password: {:?}",
        r.body
    );
    assert_eq!(r.body["name"], "carol");
    assert_eq!(accept("carol's own passphrase").status, 404, "used");
    let (r, session) = sign_in(&app, "carol", "carol's own passphrase");
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["idle_secs"], 1);
    let t = types(&events_of(&app, "carol"));
    assert!(t.contains(&"InvitationIssued".to_string()), "{t:?}");

    // Idle for longer than a second: the session is over, and that is recorded.
    let (cookie, _) = session.unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1_600));
    let r = browser(
        &app,
        "GET",
        "/api/v1/auth/session",
        Some(&cookie),
        None,
        None,
    );
    assert_eq!(r.status, 401);
    wait_until("the expiry recorded", 10, || {
        events_of(&app, "carol")
            .iter()
            .any(|e| e["type"] == "SignedOut" && e["data"]["reason"] == "expired")
    });
}

#[test]
fn the_command_line_sets_a_password_read_from_standard_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    crate::cli::postroom(&["users", "add", "dave", "--role", "agent", "--data", d])
        .assert_success();
    let passwd = |input: &str| {
        let mut child = crate::cli::command()
            .args(["users", "passwd", "dave", "--data", d])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = passwd("short\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12"));
    let out = passwd("dave's long passphrase\n");
    assert!(out.status.success(), "{out:?}");
    let app = start(data, |s| s.routing.every_ms = 0);
    let (r, _) = sign_in(&app, "dave", "dave's long passphrase");
    assert_eq!(r.status, 200, "{:?}", r.body);
}
