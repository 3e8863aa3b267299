//! The server killed (SIGKILL) while web forms stream in: no acknowledged submission lost or doubled.
//!
//! Three rounds of start, eight clients streaming submissions, SIGKILL, on one data folder; then a
//! clean start (which queues what a kill left received) and a clean stop. The folder is then opened
//! with the library and held against what the clients were told: every interaction answered 202 is
//! in the log once, received once and queued once; positions have no gaps, no event id repeats and
//! the hash chain verifies.

use crate::cli::{add_user, agent, arg, postroom, ServerProcess};
use postroom::domain::InteractionId;
use postroom::events::export::{to_json, verify_store};
use postroom::events::{EventStore, RecordedEvent};
use postroom::settings::Settings;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ROUNDS: usize = 3;
const CLIENTS: usize = 8;
/// A round kills the server once it has streamed for `MIN_STREAM` (plus a little more each round,
/// so the kill lands at different moments) and acknowledged `ACKS_PER_ROUND` submissions, or after
/// `MAX_STREAM` whatever it did.
const ACKS_PER_ROUND: usize = 100;
const MIN_STREAM: Duration = Duration::from_millis(1000);
const MAX_STREAM: Duration = Duration::from_secs(8);

/// What one client saw in one round.
#[derive(Default)]
struct ClientReport {
    /// Interactions answered 202, with the subject that was sent.
    acked: Vec<(InteractionId, String)>,
    /// Answers other than 202: there must be none.
    refused: Vec<String>,
    /// Connection errors before the kill: there must be none.
    errors_before_kill: Vec<String>,
    /// Connection errors after the kill: expected.
    errors_after_kill: usize,
}

struct Flags {
    killing: AtomicBool,
    stop: AtomicBool,
    acked: AtomicUsize,
}

/// Posts web forms with distinct subjects until told to stop (bounded in count and time).
fn client(url: &str, round: usize, thread: usize, flags: &Flags) -> ClientReport {
    let agent = agent();
    let endpoint = format!("{url}/api/v1/webform");
    let deadline = Instant::now() + MAX_STREAM + Duration::from_secs(5);
    let mut report = ClientReport::default();
    for n in 0..100_000 {
        if flags.stop.load(SeqCst) || Instant::now() > deadline {
            break;
        }
        let subject = format!("crash-{round}-{thread}-{n}");
        let sent = agent.post(&endpoint).send_json(json!({
            "from": format!("client{thread}@example.com"),
            "subject": subject,
            "body": format!("the body of {subject}"),
        }));
        match sent {
            Ok(r) if r.status() == 202 => {
                // The whole answer is the acknowledgement: one cut off by the kill is not.
                let id = r
                    .into_json::<Value>()
                    .ok()
                    .and_then(|v| v["interaction_id"].as_str().and_then(|s| s.parse().ok()));
                if let Some(id) = id {
                    report.acked.push((id, subject));
                    flags.acked.fetch_add(1, SeqCst);
                }
            }
            Ok(r) => report.refused.push(format!("{subject}: {}", r.status())),
            Err(ureq::Error::Status(code, r)) => report.refused.push(format!(
                "{subject}: {code} {}",
                r.into_string().unwrap_or_default()
            )),
            Err(e) => {
                // `killing` is set before the signal: an error seen while it is unset came first.
                if flags.killing.load(SeqCst) {
                    report.errors_after_kill += 1;
                } else {
                    report.errors_before_kill.push(format!("{subject}: {e}"));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    report
}

/// Starts the server, streams submissions from `CLIENTS` threads, kills it mid-stream.
fn stream_and_kill(data: &Path, log: &Path, round: usize) -> Vec<(InteractionId, String)> {
    let mut server = ServerProcess::start(data, log);
    let flags = Flags {
        killing: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        acked: AtomicUsize::new(0),
    };
    let min_stream = MIN_STREAM + Duration::from_millis(150 * round as u64);
    let url = server.url.clone();
    let started = Instant::now();
    let reports: Vec<ClientReport> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|t| {
                let (url, flags) = (&url, &flags);
                s.spawn(move || client(url, round, t, flags))
            })
            .collect();
        while started.elapsed() < MAX_STREAM
            && (started.elapsed() < min_stream || flags.acked.load(SeqCst) < ACKS_PER_ROUND)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        flags.killing.store(true, SeqCst);
        server.kill();
        flags.stop.store(true, SeqCst);
        handles
            .into_iter()
            .map(|h| h.join().expect("a client thread"))
            .collect()
    });
    let refused: Vec<&String> = reports.iter().flat_map(|r| &r.refused).collect();
    assert!(refused.is_empty(), "round {round}: refused {refused:#?}");
    let early: Vec<&String> = reports.iter().flat_map(|r| &r.errors_before_kill).collect();
    assert!(
        early.is_empty(),
        "round {round}: connection errors before the kill {early:#?}; log:\n{}",
        server.log_text()
    );
    let acked: Vec<_> = reports.into_iter().flat_map(|r| r.acked).collect();
    eprintln!(
        "round {round}: {} acknowledged in {:?} before SIGKILL",
        acked.len(),
        started.elapsed()
    );
    assert!(!acked.is_empty(), "round {round} acknowledged nothing");
    acked
}

fn read_whole_log(
    store: &dyn EventStore,
) -> Result<Vec<RecordedEvent>, Box<dyn std::error::Error>> {
    let mut all = Vec::new();
    let mut next = 1;
    for _ in 0..10_000 {
        let batch = store.read_all(next, 4096)?;
        let Some(last) = batch.last().map(|e| e.position) else {
            break;
        };
        next = last + 1;
        all.extend(batch);
    }
    Ok(all)
}

/// What the log of a data folder holds about interactions.
#[derive(Debug)]
struct LogSummary {
    head: u64,
    interactions: usize,
    /// Received, not yet queued (a kill between the two steps).
    left_received: usize,
    /// Queued by a start that finished what a kill interrupted.
    resumed: usize,
}

/// Opens a data folder with the library and checks its log against the acknowledged submissions:
/// positions 1..=head without gaps, no event id twice, every interaction received exactly once
/// and queued at most once (exactly once if `all_queued`), every acknowledged one present under
/// the id it was answered with, no submission in two streams, the hash chain intact.
fn check_log(
    data: &Path,
    acked: &[(InteractionId, String)],
    all_queued: bool,
) -> Result<LogSummary, Box<dyn std::error::Error>> {
    let mut settings = Settings::load(None, Vec::new())?;
    settings.data_dir = data.to_path_buf();
    settings.log.cache_mib = 32;
    let storage = postroom::startup::open_storage(&settings)?;
    let store = storage.store.as_ref();
    let head = store.head();
    let all = read_whole_log(store)?;

    assert_eq!(all.len() as u64, head);
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.position, i as u64 + 1, "a gap or disorder at index {i}");
    }
    let mut event_ids = HashSet::new();
    for e in &all {
        assert!(event_ids.insert(e.id), "event id {} appears twice", e.id);
    }

    let mut streams: BTreeMap<&str, Vec<&RecordedEvent>> = BTreeMap::new();
    for e in &all {
        streams.entry(e.stream.as_str()).or_default().push(e);
    }
    let mut subject_of: HashMap<String, &str> = HashMap::new();
    let mut summary = LogSummary {
        head,
        interactions: 0,
        left_received: 0,
        resumed: 0,
    };
    for (stream, events) in &streams {
        if !stream.starts_with("interaction-") {
            continue;
        }
        summary.interactions += 1;
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        match types[..] {
            ["InteractionReceived", "ProcessRan", "InteractionQueued"] => {}
            ["InteractionReceived"] if !all_queued => summary.left_received += 1,
            _ => panic!("{stream} holds {types:?}"),
        }
        let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
        assert_eq!(versions, (1..=events.len() as u64).collect::<Vec<_>>());
        // The workflow queues under the submission's correlation id; a start that finishes what a
        // kill interrupted queues under a new one.
        if events.len() == 3 && events[2].correlation_id != events[0].correlation_id {
            summary.resumed += 1;
        }
        // The stream index agrees with the log.
        let indexed: Vec<u64> = store
            .read_stream(stream, 1)?
            .iter()
            .map(|e| e.position)
            .collect();
        let logged: Vec<u64> = events.iter().map(|e| e.position).collect();
        assert_eq!(indexed, logged, "{stream}");
        let subject = to_json(events[0])["data"]["subject"]
            .as_str()
            .ok_or("a subject")?
            .to_string();
        if let Some(other) = subject_of.insert(subject.clone(), stream) {
            panic!("the submission {subject:?} is in {other} and {stream}");
        }
    }

    let mut seen = HashSet::new();
    for (id, subject) in acked {
        assert!(seen.insert(*id), "the id {id} was answered twice");
        let stream = id.stream();
        assert!(
            streams.contains_key(stream.as_str()),
            "acknowledged {id} ({subject}) is not in the log"
        );
        assert_eq!(
            subject_of.get(subject).copied(),
            Some(stream.as_str()),
            "{subject}"
        );
    }

    let report = verify_store(store, |_| {})?;
    assert_eq!(report.events, head);
    Ok(summary)
}

/// Copies a folder of a dead server (its files are all there is of it).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[test]
fn a_server_killed_while_web_forms_stream_in_loses_and_doubles_no_acknowledged_one() -> TestResult {
    let root = tempfile::tempdir()?;
    let data = root.path().join("data");
    let started = Instant::now();

    // A token to read readiness's details with at the end.
    let token = add_user(&data, "olga", "auditor");

    let mut acked = Vec::new();
    for round in 0..ROUNDS {
        let log = root.path().join(format!("round-{round}.log"));
        acked.extend(stream_and_kill(&data, &log, round));
    }
    assert!(
        acked.len() >= ACKS_PER_ROUND,
        "only {} acknowledged in {ROUNDS} rounds",
        acked.len()
    );

    // The folder as the last kill left it (checked on a copy, so the next start finds it as is):
    // some interactions may be received and not yet queued.
    let crashed = root.path().join("crashed");
    copy_dir(&data, &crashed)?;
    let as_killed = check_log(&crashed, &acked, false)?;

    // One more start queues what the kill left received; then a clean stop.
    let mut server = ServerProcess::start(&data, &root.path().join("final.log"));
    let ready = server.wait_ready(Some(&token));
    assert_eq!(ready["ready"], true, "{ready}");
    let ready = &ready["details"];
    let status = server.terminate();
    assert!(status.success(), "{status}; log:\n{}", server.log_text());

    let out = postroom(&["audit", "verify", "--data", arg(&data)]);
    assert!(out.assert_success().stdout.starts_with("ok: "), "{out:#?}");

    let fin = check_log(&data, &acked, true)?;
    assert_eq!(fin.head, as_killed.head + as_killed.left_received as u64);
    assert_eq!(fin.interactions, as_killed.interactions);
    assert_eq!(
        ready["interactions"], fin.interactions,
        "the projections after the kills agree with the log"
    );
    eprintln!(
        "{} acknowledged; {} interactions in the log ({} never answered); the last kill left {} \
         received, restarts queued {} in all; {} events; {:?}",
        acked.len(),
        fin.interactions,
        fin.interactions - acked.len(),
        as_killed.left_received,
        fin.resumed,
        fin.head,
        started.elapsed()
    );
    Ok(())
}

/// The server killed (SIGKILL) again and again while it ingests a few thousand messages from a
/// real Dovecot: afterwards every message is in the log exactly once and Dovecot shows every one
/// processed.
#[test]
fn a_server_killed_while_ingesting_mail_records_every_message_exactly_once() {
    use crate::mailservers::Dovecot;
    const USER: &str = "support@example.test";
    const N: usize = 2000;
    let dovecot = Dovecot::start(&[USER]);
    let messages: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            format!(
                "From: c{}@example.com\r\nTo: {USER}\r\nSubject: crash {i}\r\nMessage-ID: <crash-{i}@example.com>\r\n\r\nbody {i}\r\n",
                i % 97
            )
            .into_bytes()
        })
        .collect();
    dovecot.append(USER, "INBOX", &messages);

    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let config = root.path().join("postroom.toml");
    std::fs::write(
        &config,
        format!(
            "[[mailboxes]]\nname = \"support\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             username = \"{USER}\"\npassword = \"secret\"\nprocessed_folder = \"Processed\"\n\
             poll_interval_secs = 0.05\nbatch = 50\n",
            dovecot.port
        ),
    )
    .unwrap();
    let count = |folder: &str| {
        let mut s = dovecot.session(USER);
        let n = s.select(folder).map(|m| m.exists).unwrap_or(0);
        let _ = s.logout();
        n as usize
    };
    let log = root.path().join("server.log");
    // How much was left in the inbox at each kill.
    let mut left_at_kill = Vec::new();
    for round in 0..4 {
        let mut server = ServerProcess::start_with(&data, &log, &["--config", arg(&config)]);
        std::thread::sleep(Duration::from_millis(150 + round * 75));
        server.kill();
        let left = count("INBOX");
        left_at_kill.push(left);
        if left == 0 {
            break;
        }
    }
    eprintln!("messages left in the inbox at each kill: {left_at_kill:?}");
    assert!(
        left_at_kill.iter().any(|&l| l > 0 && l < N),
        "no kill landed mid-ingest: {left_at_kill:?}"
    );
    // One last run to finish, then a clean stop.
    let mut server = ServerProcess::start_with(&data, &log, &["--config", arg(&config)]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count("INBOX") > 0 {
        assert!(
            Instant::now() < deadline,
            "ingest did not finish; log:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(server.terminate().success());
    assert_eq!(
        count("Processed"),
        N,
        "Dovecot shows every message processed"
    );

    let mut settings = postroom::settings::Settings::load(None, Vec::new()).unwrap();
    settings.data_dir = data.clone();
    let storage = postroom::startup::open_storage(&settings).unwrap();
    let store = storage.store.clone();
    let events = postroom::events::EventStore::read_all(store.as_ref(), 1, 1_000_000).unwrap();
    let mut received = std::collections::HashMap::new();
    let mut identities = std::collections::HashSet::new();
    for e in &events {
        match e.event_type.as_str() {
            "InteractionReceived" => *received.entry(e.stream.clone()).or_insert(0) += 1,
            "MessageStored" => {
                let d = postroom::events::DomainEvent::from_recorded(e).unwrap();
                if let postroom::events::DomainEvent::Interaction(
                    postroom::domain::interaction::InteractionEvent::MessageStored(m),
                ) = d
                {
                    assert!(
                        identities.insert(m.identity.clone()),
                        "{} stored twice",
                        m.identity
                    );
                }
            }
            _ => {}
        }
    }
    assert_eq!(received.len(), N, "one interaction per message");
    assert!(
        received.values().all(|n| *n == 1),
        "no interaction received twice"
    );
    assert_eq!(identities.len(), N);
    postroom::events::export::verify_store(store.as_ref(), |_| {}).unwrap();
}
