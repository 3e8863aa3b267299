//! Events are a public contract: recorded logs of earlier schema versions must keep loading.
//!
//! `snapshots/eventlog-v1.ndjson` is an export of a real log holding every event type of schema
//! version 1, recorded once (`POSTROOM_RECORD_SNAPSHOTS=1 cargo test --test api record_`) and
//! never rewritten. Each test here reads it as the current code would read an old log.

use crate::helpers::*;
use postroom::domain::interaction::{
    evolve, Actor, Channel, Interaction, InteractionCommand as C, InteractionEvent, TransferTarget,
};
use postroom::domain::user::UserEvent;
use postroom::domain::{EmailAddress, InteractionId, Millis, Principal, QueueName};
use postroom::events::{export, DomainEvent};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn recorded_logs() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .expect("snapshots/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("eventlog-v") && n.ends_with(".ndjson"))
        })
        .collect();
    v.sort();
    v
}

fn lines(path: &PathBuf) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("readable")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

#[test]
fn the_recorded_v1_log_still_verifies() {
    let logs = recorded_logs();
    assert!(
        logs.iter().any(|p| p.ends_with("eventlog-v1.ndjson")),
        "{logs:?}"
    );
    for path in logs {
        let f = std::fs::File::open(&path).unwrap();
        let report = export::verify_file(std::io::BufReader::new(f), export::ExportKind::Complete)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(report.events > 0);
        assert_eq!(report.gaps, 0, "a recorded log is complete");
    }
}

#[test]
fn every_recorded_event_decodes_and_current_versions_encode_to_the_same_bytes() {
    let mut checked = 0;
    for path in recorded_logs() {
        for v in lines(&path) {
            let e = export::from_json(&v).unwrap();
            let decoded = DomainEvent::from_recorded(&e)
                .unwrap_or_else(|err| panic!("{} position {}: {err}", path.display(), e.position));
            assert_eq!(decoded.event_type(), e.event_type);
            if decoded.event_version() == e.schema_version {
                // The layout of this version is pinned: any drift changes these bytes.
                assert_eq!(
                    decoded.encode_payload(),
                    e.payload,
                    "{} v{} no longer encodes as recorded",
                    e.event_type,
                    e.schema_version
                );
            }
            checked += 1;
        }
    }
    assert!(
        checked > 50,
        "the guard must have run on the recorded events"
    );
}

#[test]
fn every_event_type_has_a_recorded_example() {
    let mut recorded = BTreeSet::new();
    for path in recorded_logs() {
        for v in lines(&path) {
            recorded.insert(v["type"].as_str().unwrap().to_string());
        }
    }
    let current: BTreeSet<String> = InteractionEvent::TYPES
        .iter()
        .chain(UserEvent::TYPES)
        .chain(postroom::domain::standard_response::ResponseEvent::TYPES)
        .chain(postroom::domain::process_log::ProcessEvent::TYPES)
        .chain(postroom::domain::agent::AgentEvent::TYPES)
        .map(|t| t.to_string())
        .collect();
    let missing: Vec<_> = current.difference(&recorded).collect();
    assert!(
        missing.is_empty(),
        "new event types need a recorded example in a new snapshots/eventlog-vN.ndjson: {missing:?}"
    );
}

/// The recorded histories replayed by the current code: every interaction's state after each
/// event, reviewed in `snapshots/`. Ids and times are replaced by stable names.
#[test]
fn the_recorded_histories_replay_to_the_reviewed_states() {
    let path = recorded_logs()
        .into_iter()
        .find(|p| p.ends_with("eventlog-v1.ndjson"))
        .unwrap();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut states: BTreeMap<String, Interaction> = BTreeMap::new();
    let mut out = String::new();
    for v in lines(&path) {
        let e = export::from_json(&v).unwrap();
        let n = names.len();
        let name = names
            .entry(e.stream.clone())
            .or_insert_with(|| {
                if e.stream.starts_with("user-") {
                    e.stream.clone()
                } else {
                    format!("interaction-{}", (b'A' + n as u8) as char)
                }
            })
            .clone();
        match DomainEvent::from_recorded(&e).unwrap() {
            DomainEvent::Interaction(ev) => {
                let s = states.remove(&name).unwrap_or_default();
                let s = evolve(s, &ev);
                out.push_str(&format!(
                    "{name} v{} {:<24} by {:<28} -> {} queue={} owner={} priority={} consultants={} attempts={} revisions={}\n",
                    e.version,
                    e.event_type,
                    e.principal.to_label(),
                    s.status.name(),
                    s.queue.as_ref().map(|q| q.to_string()).unwrap_or("-".into()),
                    s.owner.as_ref().map(|q| q.to_string()).unwrap_or("-".into()),
                    s.priority,
                    s.consultants.len(),
                    s.attempts,
                    s.revisions,
                ));
                states.insert(name, s);
            }
            DomainEvent::User(_)
            | DomainEvent::Response(_)
            | DomainEvent::Process(_)
            | DomainEvent::Agent(_) => {
                out.push_str(&format!("{name} v{} {}\n", e.version, e.event_type));
            }
        }
    }
    insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("eventlog-v1-replayed", out);
    });
}

/// Records `snapshots/eventlog-v1.ndjson`. Run once per new schema file, never to overwrite.
#[test]
#[ignore = "records the snapshot; run with POSTROOM_RECORD_SNAPSHOTS=1"]
fn record_the_v1_log() {
    if std::env::var("POSTROOM_RECORD_SNAPSHOTS").is_err() {
        return;
    }
    let app = spawn_app_with(|s| s.routing.every_ms = 0);
    let q = |n: &str| QueueName::parse(n).unwrap();
    let sup = Principal::User("sam".into());
    let router = Principal::System("router".into());
    let run = |id: InteractionId, cmd: C, who: &Principal| {
        app.execute(id, cmd.clone(), who.clone())
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    };
    let t = |n: i64| Millis(1_795_000_000_000 + n * 1000);
    let a = app.new_interaction("alex@example.com", "Where is my parcel?");
    let alice = || agent("alice");
    let carol = || agent("carol");
    run(
        a,
        C::LockForRouting {
            router: "router".into(),
            at: t(1),
        },
        &router,
    );
    run(a, C::UnlockRouting { at: t(2) }, &router);
    run(
        a,
        C::LockForRouting {
            router: "router".into(),
            at: t(3),
        },
        &router,
    );
    run(
        a,
        C::Offer {
            agent: alice(),
            deadline: t(60),
            at: t(4),
            explained: None,
        },
        &router,
    );
    run(
        a,
        C::RejectOffer {
            agent: alice(),
            at: t(5),
        },
        &Principal::User("alice".into()),
    );
    run(
        a,
        C::LockForRouting {
            router: "router".into(),
            at: t(6),
        },
        &router,
    );
    run(
        a,
        C::Offer {
            agent: agent("bob"),
            deadline: t(7),
            at: t(6),
            explained: None,
        },
        &router,
    );
    run(a, C::ExpireOffer { at: t(8) }, &router);
    run(
        a,
        C::LockForRouting {
            router: "router".into(),
            at: t(9),
        },
        &router,
    );
    run(
        a,
        C::Offer {
            agent: carol(),
            deadline: t(70),
            at: t(10),
            explained: None,
        },
        &router,
    );
    let carol_p = Principal::User("carol".into());
    run(
        a,
        C::AcceptOffer {
            agent: carol(),
            at: t(11),
        },
        &carol_p,
    );
    run(
        a,
        C::Categorise {
            category: "delivery".into(),
            confidence_permille: 870,
            at: t(12),
        },
        &Principal::System("classifier".into()),
    );
    run(
        a,
        C::StartConsultation {
            note: String::new(),
            agent: carol(),
            consultant: agent("dave"),
            at: t(13),
        },
        &carol_p,
    );
    run(
        a,
        C::EndConsultation {
            agent: carol(),
            consultant: agent("dave"),
            at: t(14),
        },
        &carol_p,
    );
    run(
        a,
        C::Transfer {
            note: String::new(),
            agent: carol(),
            target: TransferTarget::Queue { queue: q("vip") },
            at: t(15),
        },
        &carol_p,
    );
    run(
        a,
        C::SupervisorReprioritise {
            supervisor: agent("sam"),
            priority: 4,
            at: t(16),
        },
        &sup,
    );
    run(
        a,
        C::SupervisorMove {
            supervisor: agent("sam"),
            queue: q("inbound"),
            at: t(17),
        },
        &sup,
    );
    run(
        a,
        C::SupervisorAssign {
            supervisor: agent("sam"),
            agent: agent("erin"),
            at: t(18),
        },
        &sup,
    );
    let erin_p = Principal::User("erin".into());
    run(
        a,
        C::ReturnToQueue {
            reason: "back to the queue".into(),
            agent: agent("erin"),
            queue: None,
            at: t(19),
        },
        &erin_p,
    );
    run(
        a,
        C::LockForRouting {
            router: "router".into(),
            at: t(20),
        },
        &router,
    );
    run(
        a,
        C::Offer {
            agent: agent("erin"),
            deadline: t(80),
            at: t(21),
            explained: None,
        },
        &router,
    );
    run(
        a,
        C::AcceptOffer {
            agent: agent("erin"),
            at: t(22),
        },
        &erin_p,
    );
    run(
        a,
        C::Transfer {
            note: String::new(),
            agent: agent("erin"),
            target: TransferTarget::Agent {
                agent: alice(),
                deadline: t(90),
            },
            at: t(23),
        },
        &erin_p,
    );
    let alice_p = Principal::User("alice".into());
    run(
        a,
        C::AcceptOffer {
            agent: alice(),
            at: t(24),
        },
        &alice_p,
    );

    let r = InteractionId::from_uuid(uuid::Uuid::now_v7());
    let to = EmailAddress::parse("alex@example.com").unwrap();
    run(
        r,
        C::DraftReply {
            html: None,
            parent: a,
            agent: alice(),
            to,
            subject: "Re: Where is my parcel?".into(),
            content: None,
            at: t(25),
        },
        &alice_p,
    );
    run(
        r,
        C::UpdateDraft {
            html: None,
            agent: alice(),
            content: Some(postroom::domain::ContentRef([7; 32])),
            at: t(26),
        },
        &alice_p,
    );
    run(
        r,
        C::ReleaseReply {
            agent: alice(),
            at: t(27),
        },
        &alice_p,
    );
    let wf = Principal::System("workflow".into());
    run(
        r,
        C::QueueOutbound {
            queue: q("outbound"),
            at: t(28),
        },
        &wf,
    );
    run(
        r,
        C::StartReview {
            reviewer: agent("sam"),
            at: t(29),
        },
        &sup,
    );
    run(
        r,
        C::ReturnForRevision {
            reviewer: agent("sam"),
            note: "Add the tracking link.".into(),
            at: t(30),
        },
        &sup,
    );
    run(
        r,
        C::ReleaseReply {
            agent: alice(),
            at: t(31),
        },
        &alice_p,
    );
    run(
        r,
        C::QueueOutbound {
            queue: q("outbound"),
            at: t(32),
        },
        &wf,
    );
    run(
        r,
        C::StartReview {
            reviewer: agent("sam"),
            at: t(33),
        },
        &sup,
    );
    run(
        r,
        C::ApproveReply {
            reviewer: agent("sam"),
            at: t(34),
        },
        &sup,
    );
    let mailer = Principal::System("mailer".into());
    run(r, C::StartSending { at: t(35) }, &mailer);
    run(
        r,
        C::MarkSendFailed {
            error: "421 try again later".into(),
            retry_at: Some(t(95)),
            at: t(36),
        },
        &mailer,
    );
    run(r, C::StartSending { at: t(95) }, &mailer);
    run(
        r,
        C::MarkSent {
            message_id: "<r1@postroom.example>".into(),
            at: t(96),
        },
        &mailer,
    );
    run(
        a,
        C::RecordReply {
            agent: alice(),
            reply: r,
            at: t(27),
        },
        &alice_p,
    );
    run(
        a,
        C::MarkDone {
            disposition: Some("resolved".into()),
            by: Actor::Agent(alice()),
            at: t(97),
        },
        &alice_p,
    );

    let b = app.new_interaction("spam@example.net", "You have won");
    run(
        b,
        C::Stop {
            by: "user:sam".into(),
            reason: "spam".into(),
            at: t(40),
        },
        &sup,
    );
    let c = app.new_interaction("quick@example.org", "Opening hours?");
    run(
        c,
        C::MarkDone {
            disposition: None,
            by: Actor::System("auto-response".into()),
            at: t(41),
        },
        &Principal::System("auto-response".into()),
    );
    let d = InteractionId::from_uuid(uuid::Uuid::now_v7());
    run(
        d,
        C::Receive {
            channel: Channel::Email,
            from: EmailAddress::parse("mail@example.com").unwrap(),
            from_name: Some("Mail Customer".into()),
            subject: "By e-mail".into(),
            content: None,
            priority: 1,
            message: None,
            thread: None,
            at: t(42),
        },
        &Principal::Customer("mail@example.com".into()),
    );
    let tok = app.token_for("temp", "agent");
    assert!(tok.starts_with("prt_"));
    assert_eq!(
        app.delete("/api/v1/admin/users/temp", Some(&app.admin_token))
            .status,
        204
    );

    let store = app.engine.storage.store.clone();
    let events = postroom::events::EventStore::read_all(store.as_ref(), 1, 100_000).unwrap();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots/eventlog-v1.ndjson");
    assert!(
        !path.exists(),
        "a recorded log is never overwritten: {}",
        path.display()
    );
    let mut f = std::fs::File::create(&path).unwrap();
    export::write_lines(&mut f, &events).unwrap();
}
