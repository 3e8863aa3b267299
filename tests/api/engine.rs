//! The engine behind the API: actor passivation, projection rebuild and snapshots, crash resume.

use crate::helpers::*;
use postroom::domain::interaction::{
    Channel, Interaction, InteractionCommand as C, ReplyStatus, Status, TransferTarget,
};
use postroom::domain::{EmailAddress, InteractionId, Millis, Principal, QueueName};
use postroom::events::EventStore;
use postroom::projections::runner;
use std::time::Duration;

fn sup() -> Principal {
    Principal::User("sam".into())
}

fn ok(app: &TestApp, id: InteractionId, cmd: C) {
    if let Err(e) = app.execute(id, cmd.clone(), sup()) {
        panic!("{cmd:?} on {id}: {e}");
    }
}

fn wait_caught_up(app: &TestApp) {
    let head = app.engine.storage.store.head();
    assert!(block_on(
        app.engine
            .projections
            .wait_for(head, Duration::from_secs(10))
    ));
}

#[test]
fn an_idle_actor_passivates_and_behaves_as_before() {
    let app = spawn_app_with(|s| s.actors.idle_secs = 0.05);
    let id = app.new_interaction("pat@example.com", "passivate me");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(app.engine.registry.active(), 0, "the idle actor passivated");
    // A three-event stream replays faster than a snapshot decodes: none is kept.
    assert!(app
        .engine
        .storage
        .snapshots::<Interaction>()
        .load(&id.stream())
        .is_none());
    // A long one is snapshotted on the way out.
    for n in 0..20 {
        let cat = C::Categorise {
            category: format!("c{n}"),
            confidence_permille: 100,
            at: Millis(2),
        };
        app.execute(id, cat, sup()).unwrap();
    }
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(app.engine.registry.active(), 0);
    let snap = app
        .engine
        .storage
        .snapshots::<Interaction>()
        .load(&id.stream())
        .expect("a snapshot");
    assert_eq!(snap.version, 23);
    let before = app.engine.registry.activations();

    let out = app
        .execute(
            id,
            C::SupervisorReprioritise {
                supervisor: agent("sam"),
                priority: 3,
                at: Millis(5),
            },
            sup(),
        )
        .unwrap();
    assert_eq!(out.version, 24);
    assert_eq!(app.engine.registry.activations(), before + 1);
    // The re-activated actor knows what the passivated one knew: the rules still apply.
    let again = app.execute(
        id,
        C::Enqueue {
            queue: QueueName::parse("inbound").unwrap(),
            due: None,
            at: Millis(6),
        },
        sup(),
    );
    assert!(
        again.is_err(),
        "an enqueued interaction cannot be enqueued again"
    );
    let got = app.admin_get(&format!("/api/v1/interactions/{id}"));
    assert_eq!(got.body["priority"], 3);
    assert_eq!(got.body["version"], 24);
    assert_eq!(got.body["category"], "c19");
}

#[test]
fn no_command_is_lost_at_the_passivation_edge() {
    // With a 1 ms idle time actors passivate between almost every pair of messages.
    let app = spawn_app_with(|s| s.actors.idle_secs = 0.001);
    let id = app.new_interaction("edge@example.com", "race");
    let threads = 4;
    let per_thread = 40;
    let barrier = std::sync::Barrier::new(threads);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..threads {
            let app = &app;
            let barrier = &barrier;
            let failures = &failures;
            scope.spawn(move || {
                for i in 0..per_thread {
                    // Every other round all threads pause together for about the idle time, so
                    // the next commands arrive while the actor passivates.
                    barrier.wait();
                    if i % 2 == 0 {
                        std::thread::sleep(Duration::from_micros(1500 + (i as u64 % 5) * 500));
                    }
                    let out = app.execute(
                        id,
                        C::Categorise {
                            category: format!("c{t}-{i}"),
                            confidence_permille: 500,
                            at: Millis(10),
                        },
                        sup(),
                    );
                    // Not a panic here: the other threads would wait at the barrier forever.
                    if let Err(e) = out {
                        failures.lock().unwrap().push(format!("{t}-{i}: {e}"));
                    }
                }
            });
        }
    });
    assert_eq!(failures.into_inner().unwrap(), Vec::<String>::new());
    let events = app
        .engine
        .storage
        .store
        .read_stream(&id.stream(), 1)
        .unwrap();
    assert_eq!(
        events.len(),
        3 + threads * per_thread,
        "every command recorded exactly once"
    );
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    assert_eq!(versions, (1..=events.len() as u64).collect::<Vec<_>>());
    assert!(
        app.engine.registry.activations() > 3,
        "the actor passivated in between ({} activations)",
        app.engine.registry.activations()
    );
}

/// The scenario below writes offers and assignments by command, to people who are not agents
/// and with deadlines long past: the routing process would rightly withdraw or expire them, so
/// the apps that run it have automatic routing off.
fn no_routing(s: &mut postroom::settings::Settings) {
    s.routing.every_ms = 0;
}

/// Drives interactions through most of the lifecycle, inbound and reply.
fn busy_day(app: &TestApp) -> Vec<InteractionId> {
    let q = |n: &str| QueueName::parse(n).unwrap();
    let mut ids = Vec::new();
    for n in 0..12 {
        let id = app.new_interaction(&format!("c{n}@example.com"), &format!("case {n}"));
        ids.push(id);
        let t = Millis(1_000 + n);
        let deadline = Millis(1_000_000);
        match n % 6 {
            0 => {}
            1 => {
                ok(
                    app,
                    id,
                    C::LockForRouting {
                        router: "router".into(),
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::Offer {
                        agent: agent("alice"),
                        deadline,
                        at: t,
                        explained: None,
                    },
                );
            }
            2 => {
                ok(
                    app,
                    id,
                    C::LockForRouting {
                        router: "router".into(),
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::Offer {
                        agent: agent("bob"),
                        deadline,
                        at: t,
                        explained: None,
                    },
                );
                ok(
                    app,
                    id,
                    C::AcceptOffer {
                        agent: agent("bob"),
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::StartConsultation {
                        note: String::new(),
                        agent: agent("bob"),
                        consultant: agent("carol"),
                        at: t,
                    },
                );
            }
            3 => {
                ok(
                    app,
                    id,
                    C::SupervisorMove {
                        supervisor: agent("sam"),
                        queue: q("vip"),
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::SupervisorReprioritise {
                        supervisor: agent("sam"),
                        priority: 7,
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::SupervisorAssign {
                        supervisor: agent("sam"),
                        agent: agent("dan"),
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::Transfer {
                        note: String::new(),
                        agent: agent("dan"),
                        target: TransferTarget::Agent {
                            agent: agent("erin"),
                            deadline,
                        },
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::RejectOffer {
                        agent: agent("erin"),
                        at: t,
                    },
                );
            }
            4 => {
                ok(
                    app,
                    id,
                    C::Stop {
                        by: "user:sam".into(),
                        reason: "spam".into(),
                        at: t,
                    },
                );
            }
            _ => {
                // Answered: the agent writes a reply that goes through QA and out.
                ok(
                    app,
                    id,
                    C::LockForRouting {
                        router: "router".into(),
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::Offer {
                        agent: agent("alice"),
                        deadline,
                        at: t,
                        explained: None,
                    },
                );
                ok(
                    app,
                    id,
                    C::AcceptOffer {
                        agent: agent("alice"),
                        at: t,
                    },
                );
                let reply = InteractionId::from_uuid(uuid::Uuid::now_v7());
                ok(
                    app,
                    reply,
                    C::DraftReply {
                        html: None,
                        parent: id,
                        agent: agent("alice"),
                        to: EmailAddress::parse(&format!("c{n}@example.com")).unwrap(),
                        subject: "Re: case".into(),
                        content: None,
                        at: t,
                    },
                );
                ok(
                    app,
                    reply,
                    C::ReleaseReply {
                        agent: agent("alice"),
                        at: t,
                    },
                );
                ok(
                    app,
                    reply,
                    C::QueueOutbound {
                        queue: q("outbound"),
                        at: t,
                    },
                );
                ok(
                    app,
                    reply,
                    C::StartReview {
                        reviewer: agent("sam"),
                        at: t,
                    },
                );
                ok(
                    app,
                    reply,
                    C::ApproveReply {
                        reviewer: agent("sam"),
                        at: t,
                    },
                );
                ok(app, reply, C::StartSending { at: t });
                ok(
                    app,
                    reply,
                    C::MarkSendFailed {
                        error: "421".into(),
                        retry_at: Some(Millis(9_999_999)),
                        at: t,
                    },
                );
                ok(app, reply, C::StartSending { at: t });
                ok(
                    app,
                    reply,
                    C::MarkSent {
                        message_id: format!("<r{n}@postroom>"),
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::RecordReply {
                        agent: agent("alice"),
                        reply,
                        at: t,
                    },
                );
                ok(
                    app,
                    id,
                    C::MarkDone {
                        disposition: Some("resolved".into()),
                        by: postroom::domain::interaction::Actor::Agent(agent("alice")),
                        at: t,
                    },
                );
                ids.push(reply);
            }
        }
    }
    ids
}

#[test]
fn projection_rebuild_equals_the_live_state() {
    let app = spawn_app_with(no_routing);
    let ids = busy_day(&app);
    wait_caught_up(&app);
    let live = app.engine.projections.read(|p| p.clone());
    let rebuilt = runner::rebuild(app.engine.storage.store.as_ref(), |_| {}).unwrap();
    assert_eq!(live, rebuilt);
    assert_eq!(live.cache.len(), ids.len());
    assert_eq!(live.undecodable, 0);

    // The projections say what the scenario did.
    let inbound = QueueName::parse("inbound").unwrap();
    let queued: Vec<_> = live.queues.contents(&inbound).unwrap().collect();
    assert_eq!(queued.len(), 2, "cases 0 and 6 wait in inbound");
    let vip = QueueName::parse("vip").unwrap();
    let vip: Vec<_> = live.queues.contents(&vip).unwrap().collect();
    assert_eq!(
        vip.len(),
        2,
        "cases 3 and 9 were moved to vip and came back there after a reject"
    );
    assert_eq!(vip[0].priority, std::cmp::Reverse(7));
    let alice = live.workloads.get(&agent("alice")).unwrap();
    assert_eq!(alice.offered.len(), 2, "cases 1 and 7 are offered to alice");
    let bob = live.workloads.get(&agent("bob")).unwrap();
    assert_eq!(bob.assigned.len(), 2);
    assert_eq!(
        live.workloads
            .get(&agent("carol"))
            .unwrap()
            .consulting
            .len(),
        2
    );
    let stopped = live
        .cache
        .iter()
        .filter(|(_, s)| matches!(s.status, Status::Stopped { .. }))
        .count();
    assert_eq!(stopped, 2);
    let sent = live
        .cache
        .iter()
        .filter(|(_, s)| matches!(s.status, Status::Reply(ReplyStatus::Sent { .. })))
        .count();
    assert_eq!(sent, 2);
    let channel_ok = live
        .cache
        .iter()
        .filter(|(_, s)| !s.is_reply())
        .all(|(_, s)| s.channel == Some(Channel::WebForm));
    assert!(channel_ok);
}

#[test]
fn a_restart_starts_from_the_snapshot_or_rebuilds_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let before = {
        let app = start(path.clone(), no_routing);
        busy_day(&app);
        wait_caught_up(&app);
        app.engine.projections.read(|p| p.clone())
    };
    assert!(
        path.join("projections.snap").exists(),
        "a snapshot at shutdown"
    );

    {
        let app = start(path.clone(), no_routing);
        let r = app.admin_get("/readyz");
        assert_eq!(r.body["details"]["projections_start"], "snapshot");
        wait_caught_up(&app);
        let now = app.engine.projections.read(|p| p.clone());
        // The restart added one UserAdded (the test's admin, again); all else is as it was.
        assert_eq!(now.cache, before.cache);
        assert_eq!(now.queues, before.queues);
        assert_eq!(now.workloads, before.workloads);
        // The queues' depth over time is not in the cache: the snapshot keeps it.
        assert!(before
            .trend
            .knows(&postroom::domain::QueueName::parse("inbound").unwrap()));
        assert_eq!(now.trend, before.trend);
        app.new_interaction("after@example.com", "after restart");
    }

    // A damaged snapshot is ignored and the projections are rebuilt from the log.
    let snap = path.join("projections.snap");
    let mut bytes = std::fs::read(&snap).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&snap, bytes).unwrap();
    let app = start(path.clone(), no_routing);
    assert_eq!(
        app.admin_get("/readyz").body["details"]["projections_start"],
        "rebuilt"
    );
    wait_caught_up(&app);
    let live = app.engine.projections.read(|p| p.clone());
    let rebuilt = runner::rebuild(app.engine.storage.store.as_ref(), |_| {}).unwrap();
    assert_eq!(live, rebuilt);
    assert_eq!(live.cache.len(), before.cache.len() + 1);
}

#[test]
fn an_interaction_received_but_not_queued_is_queued_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = InteractionId::from_uuid(uuid::Uuid::now_v7());
    {
        let app = start(dir.path().to_path_buf(), |_| {});
        // As if the process died between the two steps of the workflow.
        ok(
            &app,
            id,
            C::Receive {
                channel: Channel::WebForm,
                from: EmailAddress::parse("late@example.com").unwrap(),
                from_name: None,
                subject: "interrupted".into(),
                content: None,
                priority: 0,
                message: None,
                thread: None,
                at: Millis(1),
            },
        );
        assert_eq!(
            app.admin_get(&format!("/api/v1/interactions/{id}")).body["status"],
            "received"
        );
    }
    let app = start(dir.path().to_path_buf(), |_| {});
    let got = app.admin_get(&format!("/api/v1/interactions/{id}"));
    assert_eq!(got.body["status"], "queued");
    assert_eq!(got.body["queue"], "inbound");
}
