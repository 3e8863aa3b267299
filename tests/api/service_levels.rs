//! Service levels end to end: due times recorded when queued (in business time), at-risk and
//! breached interactions in the queue view, a breach recorded once per target by the
//! service-level process and escalating the priority, and a queue's service level over a window
//! (answered in time, oldest waiting).

use crate::helpers::*;
use crate::outbox::smtp;
use crate::smtp_sink::SmtpSink;
use postroom::settings::{ServiceLevelSettings, Settings};
use serde_json::{json, Value};

fn targets(first: u64, resolution: u64, escalate: i32) -> ServiceLevelSettings {
    ServiceLevelSettings {
        first_response_secs: first,
        resolution_secs: resolution,
        at_risk_percent: 50,
        escalate_priority: escalate,
        business_hours: String::new(),
        utc_offset: String::new(),
    }
}

#[test]
fn late_interactions_are_breached_once_escalated_and_counted_by_queue() {
    scenario(|_| {});
}

/// Records `snapshots/eventlog-v1-service-levels.ndjson`: due times and breaches.
#[test]
#[ignore = "records a schema snapshot; run by hand once per new schema"]
fn record_the_service_levels_log() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("snapshots/eventlog-v1-service-levels.ndjson");
    if path.exists() {
        return; // never overwrite a recorded log
    }
    scenario(|app| record_log(app, &path));
}

fn scenario(then: impl FnOnce(&TestApp)) {
    let sink = SmtpSink::start();
    let rules = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        rules.path(),
        "[[rules]]\nname = \"urgent\"\nwhen = 'subject contains \"URGENT\"'\nqueue = \"urgent\"\n",
    )
    .unwrap();
    let app = spawn_app_with(|s: &mut Settings| {
        s.smtp = Some(smtp(sink.port));
        s.workflow.queues.push("urgent".into());
        s.workflow.rules = Some(rules.path().to_path_buf());
        s.workflow.process =
            toml::from_str(r#"inbound = [{ step = "screen" }, { step = "route" }]"#).unwrap();
        // Nobody routes: the interactions wait (a supervisor assigns one).
        s.routing.every_ms = 0;
        s.service_levels = [
            ("inbound".to_string(), targets(3_600, 7_200, 0)),
            ("urgent".to_string(), targets(1, 2, 10)),
        ]
        .into();
    });
    let sam = app.token_for("sam", "supervisor");
    let audrey = app.token_for("audrey", "auditor");
    let urgent = app
        .new_interaction("ann@example.com", "URGENT: the site is down")
        .to_string();
    let invoice = app
        .new_interaction("bo@example.com", "Invoice copy")
        .to_string();
    let queue = |name: &str| app.get(&format!("/api/v1/queues/{name}"), Some(&sam)).body;

    // The due times, from the arrival.
    let q = queue("inbound");
    let item = &q["items"][0];
    assert_eq!(item["interaction_id"], invoice.as_str(), "{q}");
    assert_eq!(item["service_level"]["first_response"], "ok", "{item}");
    let since = millis(item["waiting_since"].as_str().unwrap());
    let due = millis(
        item["service_level"]["first_response_due"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(due - since, 3_600_000, "{item}");

    // The urgent one misses both targets: each recorded once, the first escalating.
    wait_until("both urgent targets breached", 20, || {
        breaches(&app, &urgent, &audrey).len() == 2
    });
    let q = queue("urgent");
    assert_eq!(q["breached"], 1, "{q}");
    assert_eq!(q["items"][0]["service_level"]["standing"], "breached");
    assert_eq!(q["items"][0]["priority"], 10, "escalated from 0 by 10");
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let found = breaches(&app, &urgent, &audrey);
    assert_eq!(found.len(), 2, "once per target: {found:#?}");
    assert_eq!(found[0]["data"]["target"], "first_response");
    assert_eq!(found[0]["principal"], "system:service-level");
    assert_eq!(found[0]["data"]["priority"], 10);
    assert_eq!(found[1]["data"]["target"], "resolution");
    assert_eq!(found[1]["data"]["priority"], Value::Null);

    // The invoice is answered in time.
    let alice = app.token_for("alice", "agent");
    let r = app.post_json(
        "/api/v1/admin/agents",
        Some(&app.admin_token),
        json!({"user": "alice"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let url = |action: &str| format!("/api/v1/interactions/{invoice}/{action}");
    let r = app.post_json(&url("assign"), Some(&sam), json!({"agent": "alice"}));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.request_json(
        "PUT",
        &url("reply"),
        Some(&alice),
        json!({"text": "Attached."}),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = app.post_json(&url("release"), Some(&alice), json!({}));
    assert_eq!(r.status, 200, "{:?}", r.body);

    let level = |name: &str| {
        let r = app.get(&format!("/api/v1/queues/{name}/service-level"), Some(&sam));
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body
    };
    wait_until("the answer counted", 10, || {
        level("inbound")["answered"] == 1
    });
    let inbound = level("inbound");
    assert_eq!(inbound["answered_within_target"], 1, "{inbound}");
    assert_eq!(inbound["percent_within_target"], 100.0);
    assert_eq!(inbound["targets"]["first_response_secs"], 3_600);
    assert_eq!(inbound["waiting"], 0);
    let late = level("urgent");
    assert_eq!(late["waiting"], 1, "{late}");
    assert_eq!(late["breached"], 1);
    assert_eq!(late["oldest_waiting"]["interaction_id"], urgent.as_str());
    assert_eq!(late["answered"], 0);
    assert_eq!(late["percent_within_target"], Value::Null);
    let r = app.get(
        "/api/v1/queues/urgent/service-level?window_secs=5",
        Some(&sam),
    );
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = app.get("/api/v1/queues/nowhere/service-level", Some(&sam));
    assert_eq!(r.status, 404, "{:?}", r.body);

    // The same over the last hour, minute by minute: inbound held the invoice a while (the
    // minute now holds its peak of 1 and its end of 0) and answered it in time.
    let trend =
        |name: &str, q: &str| app.get(&format!("/api/v1/queues/{name}/trend{q}"), Some(&sam));
    let r = trend("inbound", "?hours=1&step_secs=60");
    assert_eq!(r.status, 200, "{:?}", r.body);
    let points = r.body["points"].as_array().unwrap().clone();
    assert_eq!(points.len(), 60, "{:?}", r.body);
    // (The test may cross a minute's end: the last two steps together.)
    let recent = &points[58..];
    assert_eq!(recent[1]["depth"], 0, "{recent:?}");
    let peak = recent.iter().filter_map(|p| p["max_depth"].as_u64()).max();
    assert_eq!(peak, Some(1), "{recent:?}");
    let answered: u64 = recent.iter().filter_map(|p| p["answered"].as_u64()).sum();
    assert_eq!(answered, 1, "{recent:?}");
    assert!(recent
        .iter()
        .all(|p| p["answered"] == 0 || p["percent_within_target"] == 100.0));
    assert!(points[..58]
        .iter()
        .all(|p| p["max_depth"] == 0 && p["answered"] == 0));
    let urgent_now = trend("urgent", "?hours=1&step_secs=600").body;
    assert_eq!(urgent_now["points"].as_array().unwrap().len(), 6);
    assert_eq!(urgent_now["points"][5]["depth"], 1, "{urgent_now}");
    for bad in [
        "?hours=0",
        "?hours=169",
        "?step_secs=59",
        "?step_secs=3601",
        "?other=1",
    ] {
        let r = trend("inbound", bad);
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    assert_eq!(trend("nowhere", "").status, 404);
    then(&app);
}

/// The breaches recorded on `id`, read by an auditor.
fn breaches(app: &TestApp, id: &str, auditor: &str) -> Vec<Value> {
    let r = app.get(
        &format!("/api/v1/audit/events?interaction={id}&type=ServiceLevelBreached"),
        Some(auditor),
    );
    r.body["events"].as_array().cloned().unwrap_or_default()
}

fn millis(rfc3339: &str) -> i64 {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}
