//! Event store tests: conflicts, idempotency, ordering, subscriptions, model-based restarts.

use postroom::domain::user::{Role, UserAdded, UserEvent};
use postroom::domain::{AgentId, Millis, Principal};
use postroom::events::codec;
use postroom::events::export::{self, verify_file, verify_store, write_lines, ExportKind};
use postroom::events::sled_store::{decode_log_entry, encode_log_entry, open_db};
use postroom::events::{
    AppendRequest, AppendResult, DomainEvent, Durability, EventStore, ExpectedVersion, NewEvent,
    RecordedEvent, SledStore, StoreError, StoreOptions, Subscription,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use uuid::Uuid;

use ExpectedVersion::{Any, Exact, NoStream};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The key in `log_ids` that says up to which position both indexes are complete.
const MARKER: &[u8] = b"\xffindexed-upto";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A store in its own temp folder that can be closed and reopened like a restarted server.
/// Fields drop in order: the store (joining its committer), then sled, then the folder.
struct TestStore {
    store: Option<Arc<SledStore>>,
    db: Option<sled::Db>,
    options: StoreOptions,
    dir: tempfile::TempDir,
}

impl TestStore {
    fn new() -> Self {
        Self::with_options(StoreOptions::default())
    }

    fn with_options(options: StoreOptions) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut ts = TestStore {
            store: None,
            db: None,
            options,
            dir,
        };
        ts.open();
        ts
    }

    fn open(&mut self) {
        let db = open_db_after_close(self.dir.path()).expect("opening sled");
        let store =
            SledStore::open(&db, self.dir.path(), self.options.clone()).expect("opening the store");
        self.db = Some(db);
        self.store = Some(Arc::new(store));
    }

    fn store(&self) -> &SledStore {
        self.store.as_ref().expect("the store is open")
    }

    fn arc(&self) -> Arc<SledStore> {
        self.store.as_ref().expect("the store is open").clone()
    }

    fn dyn_store(&self) -> Arc<dyn EventStore> {
        self.arc()
    }

    fn db(&self) -> &sled::Db {
        self.db.as_ref().expect("sled is open")
    }

    /// Closes the store (its committer is joined) and sled, as a stopped server would.
    fn close(&mut self) {
        if let Some(store) = self.store.take() {
            store.close();
            assert_eq!(
                Arc::strong_count(&store),
                1,
                "a test still holds the store, so sled would stay locked"
            );
        }
        self.db = None;
    }

    fn restart(&mut self) {
        self.close();
        self.open();
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Opens sled on a folder whose previous `Db` was just dropped. sled's background I/O threads
/// may hold the old file (and its lock) a moment longer, so `Locked` is retried briefly.
fn open_db_after_close(path: &Path) -> Result<sled::Db, StoreError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match open_db(path, 64 << 20) {
            Err(StoreError::Locked { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

fn new_event(payload: &[u8]) -> NewEvent {
    NewEvent {
        id: Uuid::new_v4(),
        event_type: "TestEvent".into(),
        schema_version: 1,
        payload: payload.to_vec(),
        principal: Principal::System("test".into()),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
    }
}

/// `n` events with payloads `tag-0`, `tag-1`, ...
fn events(n: usize, tag: &str) -> Vec<NewEvent> {
    (0..n)
        .map(|i| new_event(format!("{tag}-{i}").as_bytes()))
        .collect()
}

fn request(stream: &str, expected: ExpectedVersion, events: &[NewEvent]) -> AppendRequest {
    AppendRequest {
        stream: stream.to_string(),
        expected,
        events: events.to_vec(),
    }
}

/// Appends and waits until the append is durable (for plain threads, not async code).
fn append<S: EventStore + ?Sized>(
    store: &S,
    stream: &str,
    expected: ExpectedVersion,
    events: &[NewEvent],
) -> Result<AppendResult, StoreError> {
    store.append(request(stream, expected, events)).wait()
}

fn result(first_position: u64, last_position: u64, stream_version: u64) -> AppendResult {
    AppendResult {
        first_position,
        last_position,
        stream_version,
    }
}

fn read_everything<S: EventStore + ?Sized>(store: &S) -> Vec<RecordedEvent> {
    store.read_all(0, usize::MAX).expect("read_all")
}

fn positions(events: &[RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.position).collect()
}

fn versions(events: &[RecordedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.version).collect()
}

fn ids(events: &[NewEvent]) -> Vec<Uuid> {
    events.iter().map(|e| e.id).collect()
}

#[track_caller]
fn assert_same_envelope(recorded: &RecordedEvent, sent: &NewEvent) {
    assert_eq!(recorded.id, sent.id, "id at position {}", recorded.position);
    assert_eq!(recorded.event_type, sent.event_type);
    assert_eq!(recorded.schema_version, sent.schema_version);
    assert_eq!(recorded.payload, sent.payload);
    assert_eq!(recorded.principal, sent.principal);
    assert_eq!(recorded.correlation_id, sent.correlation_id);
    assert_eq!(recorded.causation_id, sent.causation_id);
}

#[track_caller]
fn assert_wrong_version(
    outcome: Result<AppendResult, StoreError>,
    stream: &str,
    expected: ExpectedVersion,
    actual: u64,
) {
    match outcome {
        Err(StoreError::WrongExpectedVersion {
            stream: s,
            expected: e,
            actual: a,
        }) => {
            assert_eq!((s.as_str(), e, a), (stream, expected, actual));
        }
        other => panic!("expected WrongExpectedVersion {{ actual: {actual} }}, got {other:?}"),
    }
}

#[track_caller]
fn assert_idempotency_conflict(outcome: Result<AppendResult, StoreError>) {
    assert!(
        matches!(outcome, Err(StoreError::IdempotencyConflict { .. })),
        "expected IdempotencyConflict, got {outcome:?}"
    );
}

#[track_caller]
fn assert_invalid(outcome: Result<AppendResult, StoreError>) {
    assert!(
        matches!(outcome, Err(StoreError::InvalidRequest(_))),
        "expected InvalidRequest, got {outcome:?}"
    );
}

/// Checks the whole log's shape: positions 1..=head, every stream's versions 1..=n, every record
/// hashing to its own hash and linking to the one before. Returns the log.
#[track_caller]
fn assert_log_is_well_formed<S: EventStore + ?Sized>(store: &S) -> Vec<RecordedEvent> {
    let all = read_everything(store);
    let head = store.head();
    assert_eq!(
        positions(&all),
        (1..=head).collect::<Vec<_>>(),
        "positions have gaps"
    );
    let mut next_version: HashMap<&str, u64> = HashMap::new();
    let mut prev_hash = [0u8; 32];
    for e in &all {
        let v = next_version.entry(e.stream.as_str()).or_insert(1);
        assert_eq!(
            e.version, *v,
            "stream {} at position {}",
            e.stream, e.position
        );
        *v += 1;
        assert_eq!(
            e.prev_hash, prev_hash,
            "chain link at position {}",
            e.position
        );
        assert_eq!(
            codec::compute_hash(e),
            e.hash,
            "hash at position {}",
            e.position
        );
        prev_hash = e.hash;
    }
    for (stream, next) in next_version {
        assert_eq!(
            store.stream_version(stream).expect("stream_version"),
            next - 1
        );
        let read = store.read_stream(stream, 0).expect("read_stream");
        assert_eq!(versions(&read), (1..next).collect::<Vec<_>>());
    }
    all
}

// ---------------------------------------------------------------------------------------------
// 1. Appending to new streams
// ---------------------------------------------------------------------------------------------

#[test]
fn appends_to_new_streams_with_nostream_exact_zero_or_any_start_at_version_1_and_position_1(
) -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    assert_eq!(store.head(), 0);
    assert!(store.read_all(0, 10)?.is_empty());
    assert_eq!(store.stream_version("s-nostream")?, 0);

    let a = events(2, "a");
    let b = events(1, "b");
    let c = events(3, "c");
    assert_eq!(append(store, "s-nostream", NoStream, &a)?, result(1, 2, 2));
    assert_eq!(append(store, "s-exact0", Exact(0), &b)?, result(3, 3, 1));
    assert_eq!(append(store, "s-any", Any, &c)?, result(4, 6, 3));
    // Existing streams continue with Exact(current) and Any.
    let a2 = events(1, "a2");
    let b2 = events(2, "b2");
    assert_eq!(append(store, "s-nostream", Exact(2), &a2)?, result(7, 7, 3));
    assert_eq!(append(store, "s-exact0", Any, &b2)?, result(8, 9, 3));

    assert_eq!(store.head(), 9);
    let all = assert_log_is_well_formed(store);
    let sent: Vec<&NewEvent> = a.iter().chain(&b).chain(&c).chain(&a2).chain(&b2).collect();
    for (recorded, sent) in all.iter().zip(sent) {
        assert_same_envelope(recorded, sent);
    }
    assert_eq!(store.stream_version("s-nostream")?, 3);
    assert_eq!(store.stream_version("s-exact0")?, 3);
    assert_eq!(store.stream_version("s-any")?, 3);
    assert_eq!(positions(&store.read_stream("s-nostream", 1)?), [1, 2, 7]);
    assert_eq!(positions(&store.read_stream("s-exact0", 1)?), [3, 8, 9]);
    assert_eq!(positions(&store.read_stream("s-any", 1)?), [4, 5, 6]);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 2. Expected version conflicts
// ---------------------------------------------------------------------------------------------

#[test]
fn a_wrong_expected_version_is_refused_with_the_actual_version_and_writes_nothing() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    append(store, "s", NoStream, &events(2, "s"))?;
    append(store, "t", NoStream, &events(1, "t"))?;
    let before = read_everything(store);

    let refused = events(2, "refused");
    for (stream, expected, actual) in [
        ("s", NoStream, 2),
        ("s", Exact(0), 2),
        ("s", Exact(1), 2),
        ("s", Exact(3), 2),
        ("s", Exact(u64::MAX), 2),
        ("never-written", Exact(1), 0),
        ("never-written", Exact(5), 0),
    ] {
        assert_wrong_version(
            append(store, stream, expected, &refused),
            stream,
            expected,
            actual,
        );
        assert_eq!(store.head(), 3);
        assert_eq!(read_everything(store), before);
        assert_eq!(store.stream_version("s")?, 2);
        assert_eq!(store.stream_version("never-written")?, 0);
        assert!(store.read_stream("never-written", 0)?.is_empty());
    }

    // The refused ids were not recorded: sending them again is a new append, not a replay.
    assert_eq!(append(store, "s", Exact(2), &refused)?, result(4, 5, 4));
    assert_log_is_well_formed(store);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 3. Idempotency
// ---------------------------------------------------------------------------------------------

#[test]
fn resending_the_same_append_returns_the_stored_result_and_adds_nothing_even_after_a_restart(
) -> TestResult {
    let mut ts = TestStore::new();
    let first = events(3, "first");
    let second = events(1, "second");
    let stored_first = append(ts.store(), "s", NoStream, &first)?;
    let stored_second = append(ts.store(), "s", Exact(3), &second)?;
    append(ts.store(), "t", Any, &events(1, "t"))?;
    assert_eq!(stored_first, result(1, 3, 3));
    assert_eq!(stored_second, result(4, 4, 4));
    let before = read_everything(ts.store());

    for round in 0..2 {
        // Whatever the expected version says now (the stream has moved on), a resend of a
        // stored append answers what that append got.
        for expected in [NoStream, Exact(0), Exact(3), Exact(4), Exact(99), Any] {
            assert_eq!(
                append(ts.store(), "s", expected, &first)?,
                stored_first,
                "round {round}, {expected:?}"
            );
            assert_eq!(append(ts.store(), "s", expected, &second)?, stored_second);
        }
        assert_eq!(ts.store().head(), 5);
        assert_eq!(read_everything(ts.store()), before);
        ts.restart();
    }
    Ok(())
}

#[test]
fn the_same_append_sent_again_before_the_first_is_answered_is_stored_once() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let evs = events(2, "x");
    // Sent without waiting, so the committer usually stages them in one group commit.
    let pending: Vec<_> = [Any, NoStream, Exact(0), Exact(7)]
        .into_iter()
        .map(|expected| store.append(request("s", expected, &evs)))
        .collect();
    for p in pending {
        assert_eq!(p.wait()?, result(1, 2, 2));
    }
    assert_eq!(store.head(), 2);
    assert_log_is_well_formed(store);
    Ok(())
}

#[test]
fn a_request_mixing_stored_and_new_event_ids_is_an_idempotency_conflict_and_writes_nothing(
) -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let stored = events(2, "stored");
    append(store, "s", NoStream, &stored)?;
    let before = read_everything(store);

    let fresh = new_event(b"fresh");
    for mixed in [
        vec![stored[0].clone(), fresh.clone()],
        vec![fresh.clone(), stored[1].clone()],
        vec![stored[0].clone(), stored[1].clone(), fresh.clone()],
    ] {
        for expected in [Any, Exact(2), NoStream] {
            assert_idempotency_conflict(append(store, "s", expected, &mixed));
            assert_eq!(read_everything(store), before);
        }
    }
    // The fresh id was not recorded by the refused requests.
    assert_eq!(
        append(store, "s", Exact(2), std::slice::from_ref(&fresh))?,
        result(3, 3, 3)
    );
    Ok(())
}

#[test]
fn a_stored_event_id_sent_to_another_stream_is_an_idempotency_conflict() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let stored = events(2, "stored");
    append(store, "s", NoStream, &stored)?;

    assert_idempotency_conflict(append(store, "t", Any, &stored));
    assert_idempotency_conflict(append(store, "t", NoStream, &stored[..1]));
    assert_idempotency_conflict(append(
        store,
        "t",
        Any,
        &[stored[1].clone(), new_event(b"n")],
    ));
    assert_eq!(store.head(), 2);
    assert_eq!(store.stream_version("t")?, 0);
    assert!(store.read_stream("t", 0)?.is_empty());
    Ok(())
}

#[test]
fn duplicate_event_ids_inside_one_request_are_an_invalid_request() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let e = new_event(b"once");
    assert_invalid(append(store, "s", Any, &[e.clone(), e.clone()]));
    let other = new_event(b"other");
    assert_invalid(append(
        store,
        "s",
        NoStream,
        &[e.clone(), other.clone(), e.clone()],
    ));
    assert_eq!(store.head(), 0);

    // Also when the duplicated id is stored already: the request is malformed, not a replay.
    append(store, "s", NoStream, std::slice::from_ref(&e))?;
    assert_invalid(append(store, "s", Any, &[e.clone(), e.clone()]));
    assert_eq!(store.head(), 1);
    Ok(())
}

/// BUG (src/events/sled_store.rs, `Committer::stage`, the idempotency block): a request is
/// treated as a replay when every id is stored in the same stream, without checking that the ids
/// form one stored append. Here the ids of two separate appends are answered with a result
/// (positions 1..=2) that no append ever got.
#[test]
fn ids_of_two_different_stored_appends_sent_as_one_request_are_an_idempotency_conflict(
) -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let one = events(1, "one");
    let two = events(1, "two");
    append(store, "s", NoStream, &one)?;
    append(store, "s", Exact(1), &two)?;
    let combined = [one[0].clone(), two[0].clone()];
    assert_idempotency_conflict(append(store, "s", Any, &combined));
    Ok(())
}

/// BUG (same place): part of a stored append is answered as if it were the stored append, with
/// a result describing only that part (here `{2, 2, 2}` while the append got `{1, 3, 3}`).
#[test]
fn resending_part_of_a_stored_append_is_an_idempotency_conflict() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let stored = events(3, "stored");
    assert_eq!(append(store, "s", NoStream, &stored)?, result(1, 3, 3));
    assert_idempotency_conflict(append(store, "s", Any, &stored[1..2]));
    Ok(())
}

/// BUG (same place): the result is built from the ids in request order, so a reordered resend
/// gets `first_position` 3 and `last_position` 2, and the version of a middle event.
#[test]
fn a_resend_with_its_events_in_another_order_is_an_idempotency_conflict() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let stored = events(3, "stored");
    assert_eq!(append(store, "s", NoStream, &stored)?, result(1, 3, 3));
    let reordered = [stored[2].clone(), stored[0].clone(), stored[1].clone()];
    let outcome = append(store, "s", Any, &reordered);
    if let Ok(r) = &outcome {
        assert!(
            r.first_position <= r.last_position,
            "an answer with first_position > last_position: {r:?}"
        );
    }
    assert_idempotency_conflict(outcome);
    Ok(())
}

/// BUG (same place): the conflict always names `req.events[0].id`; its message says that event
/// "was appended before", which is false when the stored id is elsewhere in the request.
#[test]
fn an_idempotency_conflict_names_an_event_id_that_was_stored_before() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let stored = new_event(b"stored");
    append(store, "s", NoStream, std::slice::from_ref(&stored))?;
    match append(store, "s", Any, &[new_event(b"fresh"), stored.clone()]) {
        Err(StoreError::IdempotencyConflict { event_id, .. }) => assert_eq!(event_id, stored.id),
        other => panic!("expected IdempotencyConflict, got {other:?}"),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 4. Invalid requests
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_requests_are_refused_and_write_nothing() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let one = events(1, "one");
    let mut no_type = new_event(b"x");
    no_type.event_type = String::new();
    let mut long_type = new_event(b"x");
    long_type.event_type = "T".repeat(101);

    let cases: Vec<(String, Vec<NewEvent>)> = vec![
        ("s".into(), vec![]),
        (String::new(), one.clone()),
        ("x".repeat(201), one.clone()),
        ("ü".repeat(101), one.clone()), // 202 bytes
        ("line\nbreak".into(), one.clone()),
        ("nul\0inside".into(), one.clone()),
        ("tab\there".into(), one.clone()),
        ("del\u{7f}".into(), one.clone()),
        ("\u{85}next-line".into(), one.clone()),
        ("s".into(), vec![no_type]),
        ("s".into(), vec![long_type]),
    ];
    for (stream, evs) in &cases {
        for expected in [Any, NoStream, Exact(0)] {
            let outcome = store.append(request(stream, expected, evs)).wait();
            assert!(
                matches!(outcome, Err(StoreError::InvalidRequest(_))),
                "stream {stream:?}, {} events: {outcome:?}",
                evs.len()
            );
        }
        assert_eq!(store.head(), 0);
        assert!(store.read_all(0, 10)?.is_empty());
    }

    // The boundaries themselves are accepted, and the refused event id was never recorded.
    assert_eq!(
        append(store, &"x".repeat(200), NoStream, &one)?,
        result(1, 1, 1)
    );
    let mut type_100 = new_event(b"x");
    type_100.event_type = "T".repeat(100);
    assert_eq!(
        append(
            store,
            "a stream with spaces, ü and 🙂",
            NoStream,
            &[type_100]
        )?,
        result(2, 2, 1)
    );
    assert_log_is_well_formed(store);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 5. Ordering and reads
// ---------------------------------------------------------------------------------------------

#[test]
fn read_stream_and_read_all_return_events_in_order_with_their_envelopes() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    let corr_a = Uuid::new_v4();
    let corr_b = Uuid::new_v4();
    let mk = |principal: Principal, corr: Uuid, cause: Option<Uuid>, ty: &str, sv: u16, payload| {
        NewEvent {
            id: Uuid::new_v4(),
            event_type: ty.into(),
            schema_version: sv,
            payload,
            principal,
            correlation_id: corr,
            causation_id: cause,
        }
    };
    let e1 = mk(
        Principal::Customer("a@b.c".into()),
        corr_a,
        None,
        "Alpha",
        1,
        vec![],
    );
    let e2 = mk(
        Principal::User("alice".into()),
        corr_a,
        Some(e1.id),
        "Beta",
        7,
        (0..=255).collect(),
    );
    let e3 = mk(
        Principal::System("router".into()),
        corr_b,
        Some(e2.id),
        "Gamma",
        u16::MAX,
        vec![0; 1000],
    );
    let e4 = mk(
        Principal::System("".into()),
        corr_b,
        None,
        "Δelta",
        0,
        b"\0\xff".to_vec(),
    );
    let e5 = mk(
        Principal::Customer("x@y.z".into()),
        corr_a,
        Some(e4.id),
        "Alpha",
        2,
        b"five".to_vec(),
    );

    let t0 = now_micros();
    // Interleaved: "order-1" and "order-10" (one name a prefix of the other).
    append(store, "order-1", NoStream, std::slice::from_ref(&e1))?;
    append(store, "order-10", NoStream, &[e2.clone(), e3.clone()])?;
    append(store, "order-1", Exact(1), std::slice::from_ref(&e4))?;
    append(store, "order-10", Exact(2), std::slice::from_ref(&e5))?;
    let t1 = now_micros();

    let all = assert_log_is_well_formed(store);
    let expected = [
        (&e1, "order-1", 1),
        (&e2, "order-10", 1),
        (&e3, "order-10", 2),
        (&e4, "order-1", 2),
        (&e5, "order-10", 3),
    ];
    assert_eq!(all.len(), expected.len());
    for (i, (recorded, (sent, stream, version))) in all.iter().zip(expected).enumerate() {
        assert_eq!(recorded.position, i as u64 + 1);
        assert_eq!(recorded.stream, stream);
        assert_eq!(recorded.version, version);
        assert_same_envelope(recorded, sent);
        assert!(
            (t0..=t1).contains(&recorded.recorded_at_micros),
            "recorded_at {} outside [{t0}, {t1}]",
            recorded.recorded_at_micros
        );
    }
    let one = store.read_stream("order-1", 0)?;
    assert_eq!(one, [all[0].clone(), all[3].clone()]);
    let ten = store.read_stream("order-10", 1)?;
    assert_eq!(ten, [all[1].clone(), all[2].clone(), all[4].clone()]);
    assert!(store.read_stream("order", 0)?.is_empty());
    assert!(store.read_stream("order-", 0)?.is_empty());
    assert!(store.read_stream("order-100", 0)?.is_empty());
    Ok(())
}

#[test]
fn read_stream_from_a_version_and_read_all_from_a_position_respect_their_bounds() -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    for i in 0..5 {
        append(store, "a", Exact(i), &events(1, "a"))?;
        append(store, "b", Any, &events(1, "b"))?;
    }
    // a: versions 1..=5 at positions 1, 3, 5, 7, 9; b: the even positions.
    assert_eq!(store.read_stream("a", 0)?, store.read_stream("a", 1)?);
    assert_eq!(positions(&store.read_stream("a", 1)?), [1, 3, 5, 7, 9]);
    assert_eq!(versions(&store.read_stream("a", 3)?), [3, 4, 5]);
    assert_eq!(positions(&store.read_stream("a", 3)?), [5, 7, 9]);
    assert_eq!(positions(&store.read_stream("b", 5)?), [10]);
    assert!(store.read_stream("a", 6)?.is_empty());
    assert!(store.read_stream("a", u64::MAX)?.is_empty());

    for from in 0..=12u64 {
        for limit in 0..=12usize {
            let got = positions(&store.read_all(from, limit)?);
            let start = from.max(1);
            let expected: Vec<u64> = (start..=10).take(limit).collect();
            assert_eq!(got, expected, "read_all({from}, {limit})");
        }
    }
    assert!(store.read_all(u64::MAX, usize::MAX)?.is_empty());
    Ok(())
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// 6 and 7. Concurrency
// ---------------------------------------------------------------------------------------------

#[test]
fn concurrent_writers_get_gapless_positions_contiguous_versions_and_a_valid_chain() -> TestResult {
    const THREADS: usize = 8;
    const APPENDS: u64 = 200;
    let ts = TestStore::new();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = ts.arc();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                // (stream, result, ids) of every append this thread made.
                let mut done = Vec::new();
                let own = format!("own-{t}");
                let mut version = 0;
                for i in 0..APPENDS {
                    let n = if i % 3 == 0 { 2 } else { 1 };
                    let evs = events(n, &format!("{t}-{i}"));
                    let r = append(&*store, &own, Exact(version), &evs).expect("own append");
                    version += n as u64;
                    assert_eq!(r.stream_version, version);
                    done.push((own.clone(), r, ids(&evs)));
                    if i % 5 == 0 {
                        let evs = events(1, &format!("shared-{t}-{i}"));
                        let r = append(&*store, "shared", Any, &evs).expect("shared append");
                        done.push(("shared".to_string(), r, ids(&evs)));
                    }
                }
                done
            })
        })
        .collect();
    let mut done = Vec::new();
    for h in handles {
        done.extend(h.join().expect("a writer thread panicked"));
    }

    let store = ts.store();
    let all = assert_log_is_well_formed(store);
    let total: usize = done.iter().map(|(_, _, ids)| ids.len()).sum();
    assert_eq!(all.len(), total);
    assert_eq!(store.head(), total as u64);
    let distinct: HashSet<Uuid> = all.iter().map(|e| e.id).collect();
    assert_eq!(distinct.len(), total, "an event was stored twice");
    for (stream, r, ids) in &done {
        let stored = &all[(r.first_position - 1) as usize..r.last_position as usize];
        assert_eq!(stored.iter().map(|e| e.id).collect::<Vec<_>>(), *ids);
        assert!(stored.iter().all(|e| &e.stream == stream));
        assert_eq!(stored.last().map(|e| e.version), Some(r.stream_version));
    }
    // Each thread's own stream holds its appends in the order it made them.
    for t in 0..THREADS {
        let own = store.read_stream(&format!("own-{t}"), 0)?;
        let payloads: Vec<String> = own
            .iter()
            .map(|e| String::from_utf8_lossy(&e.payload).into_owned())
            .collect();
        let expected: Vec<String> = (0..APPENDS)
            .flat_map(|i| {
                let n = if i % 3 == 0 { 2 } else { 1 };
                (0..n).map(move |j| format!("{t}-{i}-{j}"))
            })
            .collect();
        assert_eq!(payloads, expected);
    }
    let report = verify_store(store, |_| {})?;
    assert_eq!(report.events, total as u64);
    assert_eq!(report.links, total as u64 - 1);
    assert_eq!(report.gaps, 0);
    Ok(())
}

#[test]
fn concurrent_exact_version_writers_on_one_stream_have_exactly_one_winner_per_version() -> TestResult
{
    const THREADS: usize = 4;
    const TARGET: u64 = 60;
    let ts = TestStore::new();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let store = ts.arc();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut wins = Vec::new();
                loop {
                    let v = store.stream_version("contested").expect("stream_version");
                    if v >= TARGET {
                        break;
                    }
                    let e = new_event(b"try");
                    match append(&*store, "contested", Exact(v), std::slice::from_ref(&e)) {
                        Ok(r) => {
                            assert_eq!(r.stream_version, v + 1);
                            wins.push((v + 1, e.id));
                        }
                        Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                            assert!(actual > v, "refused Exact({v}) with actual {actual}");
                        }
                        Err(other) => panic!("unexpected error {other}"),
                    }
                }
                wins
            })
        })
        .collect();
    let mut wins = BTreeMap::new();
    for h in handles {
        let w = h.join().expect("a writer thread panicked");
        for (version, id) in w {
            assert!(
                wins.insert(version, id).is_none(),
                "version {version} won twice"
            );
        }
    }
    assert_eq!(
        wins.keys().copied().collect::<Vec<_>>(),
        (1..=TARGET).collect::<Vec<_>>()
    );
    let stream = ts.store().read_stream("contested", 0)?;
    assert_eq!(stream.len() as u64, TARGET);
    for e in &stream {
        assert_eq!(wins.get(&e.version), Some(&e.id), "version {}", e.version);
    }
    assert_eq!(ts.store().head(), TARGET);
    assert_log_is_well_formed(ts.store());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 8. Subscriptions
// ---------------------------------------------------------------------------------------------

/// Reads a subscription with `wait_batch` until it has handed out `target`, checking that
/// every position comes exactly once and in order.
#[track_caller]
fn follow_blocking(sub: &mut Subscription, target: u64, max: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut expected = sub.position() + 1;
    while sub.position() < target {
        assert!(
            Instant::now() < deadline,
            "stuck at {} of {target}",
            sub.position()
        );
        let batch = sub
            .wait_batch(max, Duration::from_millis(50))
            .expect("wait_batch");
        assert!(batch.len() <= max);
        for e in batch {
            assert_eq!(e.position, expected, "skipped or repeated a position");
            expected += 1;
        }
        assert_eq!(sub.position(), expected - 1);
    }
    assert_eq!(sub.position(), target);
}

/// Appends `appends` appends of 1 to 3 events to a few streams; returns the number of events.
fn write_some(store: &SledStore, seed: u64, appends: usize) -> u64 {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut total = 0;
    for i in 0..appends {
        let n = rng.gen_range(1..=3);
        let stream = format!("live-{}", rng.gen_range(0..4));
        append(store, &stream, Any, &events(n, &format!("{seed}-{i}"))).expect("append");
        total += n as u64;
    }
    total
}

#[test]
fn a_subscription_catches_up_from_the_start_and_from_the_middle_then_follows_live_appends(
) -> TestResult {
    let ts = TestStore::new();
    let store = ts.store();
    for i in 0..10 {
        append(store, &format!("s{}", i % 3), Any, &events(3, "catch-up"))?;
    }
    let mut from_start = Subscription::new(ts.dyn_store(), 0);
    let mut from_middle = Subscription::new(ts.dyn_store(), 17);
    let mut from_head = Subscription::new(ts.dyn_store(), 30);
    assert_eq!(from_middle.position(), 17);

    let mut seen = Vec::new();
    loop {
        let batch = from_start.poll_batch(7)?;
        if batch.is_empty() {
            break;
        }
        assert!(batch.len() <= 7);
        seen.extend(batch);
    }
    assert_eq!(seen, read_everything(store));
    assert_eq!(from_start.position(), 30);
    assert_eq!(
        positions(&from_middle.poll_batch(100)?),
        (18..=30).collect::<Vec<_>>()
    );
    assert!(from_head.poll_batch(100)?.is_empty());
    assert!(from_head
        .wait_batch(100, Duration::from_millis(20))?
        .is_empty());

    // Live: one append of 5 events, seen by all three.
    append(store, "s0", Any, &events(5, "live"))?;
    for sub in [&mut from_start, &mut from_middle, &mut from_head] {
        follow_blocking(sub, 35, 100);
    }
    // And one more, read from a thread that is already waiting.
    let mut waiting = Subscription::new(ts.dyn_store(), 35);
    let reader = std::thread::spawn(move || {
        follow_blocking(&mut waiting, 37, 1);
        waiting.position()
    });
    std::thread::sleep(Duration::from_millis(20));
    append(store, "s1", Any, &events(2, "late"))?;
    assert_eq!(reader.join().expect("the reader panicked"), 37);
    Ok(())
}

#[test]
fn a_subscription_started_while_appends_race_sees_every_position_once_in_order() -> TestResult {
    let ts = TestStore::with_options(StoreOptions {
        durability: Durability::Flush,
        ..StoreOptions::default()
    });
    for round in 0..5u64 {
        let start_head = ts.store().head();
        let barrier = Arc::new(Barrier::new(3));
        let writers: Vec<_> = (0..2u64)
            .map(|w| {
                let store = ts.arc();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    write_some(&store, round * 10 + w, 40)
                })
            })
            .collect();
        barrier.wait();
        // Subscribe somewhere behind the moving head, after a varying head start.
        std::thread::sleep(Duration::from_micros(round * 700));
        let after = ts.store().head().saturating_sub(round * 5).max(start_head);
        let mut sub = Subscription::new(ts.dyn_store(), after);
        let mut written = 0;
        // Read while writing; the writers' total is only known once they are done.
        let mut expected = after + 1;
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut handles = writers.into_iter().peekable();
        loop {
            let batch = sub.wait_batch(13, Duration::from_millis(10))?;
            for e in &batch {
                assert_eq!(e.position, expected, "round {round}: skipped or repeated");
                expected += 1;
            }
            if handles.peek().is_some_and(|h| h.is_finished()) {
                written += handles
                    .next()
                    .map_or(0, |h| h.join().expect("writer panicked"));
            }
            if handles.peek().is_none() && sub.position() == start_head + written {
                break;
            }
            assert!(Instant::now() < deadline, "round {round}: stuck");
        }
        assert_eq!(ts.store().head(), start_head + written);
        assert!(sub.poll_batch(10)?.is_empty());
    }
    assert_log_is_well_formed(ts.store());
    Ok(())
}

#[tokio::test]
async fn a_subscription_reading_with_next_batch_receives_live_appends_once_in_order() -> TestResult
{
    let ts = TestStore::with_options(StoreOptions {
        durability: Durability::Flush,
        ..StoreOptions::default()
    });
    for round in 0..3u64 {
        let start_head = ts.store().head();
        let store = ts.arc();
        let writer = std::thread::spawn(move || write_some(&store, 100 + round, 40));
        let after = ts.store().head().saturating_sub(round * 3).max(start_head);
        let mut sub = Subscription::new(ts.dyn_store(), after);
        let mut expected = after + 1;
        let mut target = None;
        let deadline = Instant::now() + Duration::from_secs(15);
        while target != Some(sub.position()) {
            assert!(
                Instant::now() < deadline,
                "round {round}: stuck at {}",
                sub.position()
            );
            let next = tokio::time::timeout(Duration::from_millis(200), sub.next_batch(16)).await;
            if let Ok(batch) = next {
                for e in batch? {
                    assert_eq!(e.position, expected, "round {round}: skipped or repeated");
                    expected += 1;
                }
            }
            if target.is_none() && writer.is_finished() {
                target = Some(ts.store().head());
            }
        }
        let written = writer.join().expect("the writer panicked");
        assert_eq!(sub.position(), start_head + written);
    }
    Ok(())
}

#[tokio::test]
async fn a_caught_up_subscription_ends_with_unavailable_once_the_store_is_closed() -> TestResult {
    let ts = TestStore::new();
    ts.store()
        .append(request("s", NoStream, &events(1, "x")))
        .await?;
    let mut sub = Subscription::new(ts.dyn_store(), 0);
    assert_eq!(positions(&sub.next_batch(10).await?), [1]);
    ts.store().close();
    let after_close = tokio::time::timeout(Duration::from_secs(5), sub.next_batch(10)).await?;
    assert!(
        matches!(after_close, Err(StoreError::Unavailable)),
        "{after_close:?}"
    );
    let append_after_close = ts.store().append(request("s", Any, &events(1, "y"))).await;
    assert!(
        matches!(append_after_close, Err(StoreError::Unavailable)),
        "{append_after_close:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 9. Hash chain, export and verification
// ---------------------------------------------------------------------------------------------

fn user_added(name: &str) -> NewEvent {
    let event = DomainEvent::User(UserEvent::UserAdded(UserAdded {
        name: AgentId::parse(name).expect("a valid user name"),
        role: Role::Agent,
        token_sha256: [7; 32],
        at: Millis(1_700_000_000_000),
    }));
    NewEvent {
        event_type: event.event_type().into(),
        schema_version: event.event_version(),
        payload: event.encode_payload(),
        principal: Principal::User("admin".into()),
        causation_id: Some(Uuid::new_v4()),
        ..new_event(b"")
    }
}

/// A small log mixing decodable domain events (non-null `data`) and opaque test events.
fn populate_for_export(store: &SledStore) -> TestResult {
    for i in 0..8u64 {
        append(store, "user-a", Any, &[user_added(&format!("agent{i}"))])?;
        append(store, &format!("s{}", i % 3), Any, &events(2, "opaque"))?;
    }
    Ok(())
}

fn export_all(store: &SledStore) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let all = read_everything(store);
    assert_eq!(write_lines(&mut out, &all)?, all.len() as u64);
    Ok(out)
}

#[test]
fn verify_store_accepts_a_populated_log() -> TestResult {
    let ts = TestStore::new();
    assert_eq!(verify_store(ts.store(), |_| {})?.events, 0);
    populate_for_export(ts.store())?;
    let mut progress = Vec::new();
    let report = verify_store(ts.store(), |p| progress.push(p))?;
    let all = read_everything(ts.store());
    let last = all.last().expect("a populated log");
    assert_eq!(report.events, 24);
    assert_eq!(report.links, 23);
    assert_eq!(report.gaps, 0);
    assert_eq!(report.first_position, Some(1));
    assert_eq!(report.last_position, Some(24));
    assert_eq!(report.last_hash, Some(hex::encode(last.hash)));
    assert_eq!(progress.last(), Some(&24));
    Ok(())
}

#[test]
fn an_export_verifies_and_any_flipped_byte_in_it_is_detected() -> TestResult {
    let ts = TestStore::new();
    populate_for_export(ts.store())?;
    let text = export_all(ts.store())?;
    let report = verify_file(&text[..], ExportKind::Complete)?;
    assert_eq!((report.events, report.links, report.gaps), (24, 23, 0));
    let as_str = std::str::from_utf8(&text)?;
    assert!(
        as_str.contains("\"data\":{"),
        "no decoded data in the export"
    );
    assert!(
        as_str.contains("\"data\":null"),
        "no opaque event in the export"
    );

    // About 150 positions spread evenly, plus bytes inside chosen fields of several lines.
    let mut sample: Vec<usize> = (0..150).map(|i| i * text.len() / 150).collect();
    sample.push(text.len() - 1); // the final newline
    for key in [
        "\"data\":{",
        "\"data\":null",
        "\"recorded_at\":\"",
        "\"recorded_at_micros\":",
        "\"hash\":\"",
        "\"prev_hash\":\"",
        "\"payload_hex\":\"",
        "\"principal\":\"",
    ] {
        let hits: Vec<usize> = as_str.match_indices(key).map(|(i, _)| i).collect();
        assert!(!hits.is_empty(), "{key} not in the export");
        for hit in [hits[0], hits[hits.len() / 2], hits[hits.len() - 1]] {
            let start = hit + key.len();
            sample.extend([start.saturating_sub(2), start, start + 3, start + 11]);
        }
    }
    sample.sort_unstable();
    sample.dedup();
    assert!(
        sample.len() >= 200,
        "only {} positions sampled",
        sample.len()
    );

    for &at in &sample {
        for mask in [0x01u8, 0x20, 0x80] {
            let mut tampered = text.clone();
            tampered[at] ^= mask;
            assert!(
                verify_file(&tampered[..], ExportKind::Complete).is_err(),
                "flipping byte {at} ({:?}) with {mask:#04x} went unnoticed; its line: {}",
                text[at] as char,
                line_around(as_str, at)
            );
        }
    }
    Ok(())
}

fn line_around(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    &text[start..end]
}

fn export_lines(store: &SledStore) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(String::from_utf8(export_all(store)?)?
        .lines()
        .map(str::to_string)
        .collect())
}

fn join_lines(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}

#[test]
fn deleting_lines_from_an_export_fails_a_complete_check_and_shows_as_gaps_in_a_filtered_one(
) -> TestResult {
    let ts = TestStore::new();
    populate_for_export(ts.store())?;
    let lines = export_lines(ts.store())?;
    for gone in [0, 10, lines.len() / 2] {
        let mut cut = lines.clone();
        cut.remove(gone);
        assert!(
            verify_file(&join_lines(&cut)[..], ExportKind::Complete).is_err(),
            "a complete export missing line {gone} must fail"
        );
    }

    let mut middle_gone = lines.clone();
    middle_gone.remove(10);
    let report = verify_file(&join_lines(&middle_gone)[..], ExportKind::Filtered)?;
    assert_eq!((report.events, report.gaps, report.links), (23, 1, 21));

    let mut two_apart_gone = lines.clone();
    two_apart_gone.remove(15);
    two_apart_gone.remove(5);
    assert_eq!(
        verify_file(&join_lines(&two_apart_gone)[..], ExportKind::Filtered)?.gaps,
        2
    );

    let mut head_gone = lines.clone();
    head_gone.remove(0);
    let report = verify_file(&join_lines(&head_gone)[..], ExportKind::Filtered)?;
    assert_eq!((report.gaps, report.first_position), (0, Some(2)));
    Ok(())
}

#[test]
fn a_tampered_prev_hash_or_reordered_lines_fail_verification() -> TestResult {
    let ts = TestStore::new();
    populate_for_export(ts.store())?;
    let lines = export_lines(ts.store())?;
    let mut record = export::from_json(&serde_json::from_str(&lines[10])?)?;
    assert_eq!(record.position, 11);

    // prev_hash changed alone: the record no longer matches its own hash.
    record.prev_hash = [0xab; 32];
    let mut tampered = lines.clone();
    tampered[10] = export::to_line(&record);
    let err = verify_file(&join_lines(&tampered)[..], ExportKind::Complete)
        .expect_err("a changed prev_hash");
    assert!(err.where_.contains("position 11"), "{err}");

    // Re-hashed after the change: the record is self-consistent, but the link to 10 breaks.
    record.hash = codec::compute_hash(&record);
    tampered[10] = export::to_line(&record);
    let err =
        verify_file(&join_lines(&tampered)[..], ExportKind::Complete).expect_err("a forged link");
    assert!(err.where_.contains("position 11"), "{err}");
    assert!(err.why.contains("prev_hash"), "{err}");

    // The first event must link to the zero hash.
    let mut first = export::from_json(&serde_json::from_str(&lines[0])?)?;
    first.prev_hash = [1; 32];
    first.hash = codec::compute_hash(&first);
    let mut tampered = lines.clone();
    tampered[0] = export::to_line(&first);
    assert!(verify_file(&join_lines(&tampered)[..], ExportKind::Complete).is_err());

    let mut swapped = lines.clone();
    swapped.swap(4, 5);
    assert!(verify_file(&join_lines(&swapped)[..], ExportKind::Complete).is_err());
    let mut doubled = lines.clone();
    doubled.insert(7, lines[7].clone());
    assert!(verify_file(&join_lines(&doubled)[..], ExportKind::Complete).is_err());
    Ok(())
}

/// Replaces the stored bytes of the record at `position` (inside whichever log entry holds it).
fn rewrite_log_record(
    path: &Path,
    position: u64,
    change: impl FnOnce(Vec<u8>) -> Result<Vec<u8>, Box<dyn std::error::Error>>,
) -> TestResult {
    let db = open_db_after_close(path)?;
    let log = db.open_tree("log")?;
    let (key, value) = log
        .range(position.to_be_bytes()..)
        .next()
        .transpose()?
        .ok_or("no log entry holds the position")?;
    let mut records: Vec<Vec<u8>> = decode_log_entry(&key, &value)?
        .iter()
        .map(codec::encode_record)
        .collect();
    let first = u64::from_be_bytes(key.as_ref().try_into()?) + 1 - records.len() as u64;
    let i = usize::try_from(position - first)?;
    records[i] = change(std::mem::take(&mut records[i]))?;
    log.insert(key, encode_log_entry(&records))?;
    db.flush()?;
    Ok(())
}

/// Rewrites the log as logs were written before appends were packed: one entry per event.
fn unpack_log(path: &Path) -> TestResult {
    let db = open_db_after_close(path)?;
    let log = db.open_tree("log")?;
    let mut all = Vec::new();
    for item in log.iter() {
        let (k, v) = item?;
        all.extend(decode_log_entry(&k, &v)?);
    }
    log.clear()?;
    for rec in &all {
        log.insert(rec.position.to_be_bytes(), codec::encode_record(rec))?;
    }
    assert_eq!(log.len(), all.len());
    db.flush()?;
    Ok(())
}

#[test]
fn an_append_of_several_events_is_one_log_entry() -> TestResult {
    let mut ts = TestStore::new();
    let fixture = populate_for_repair(ts.store())?;
    ts.close();
    // Appends end at 3, 5, 7 and 8.
    assert_eq!(log_keys(ts.path())?, [3, 5, 7, 8]);
    ts.open();
    assert_repaired(&ts, &fixture)?;
    assert_eq!(verify_store(ts.store(), |_| {})?.events, 9);
    Ok(())
}

fn log_keys(path: &Path) -> Result<Vec<u64>, Box<dyn std::error::Error>> {
    let db = open_db_after_close(path)?;
    let log = db.open_tree("log")?;
    log.iter()
        .keys()
        .map(|k| Ok(u64::from_be_bytes(k?.as_ref().try_into()?)))
        .collect()
}

#[test]
fn a_log_entry_missing_or_overlapping_is_damage_not_a_shorter_read() -> TestResult {
    let mut ts = TestStore::new();
    populate_for_repair(ts.store())?;
    ts.close();
    // b's append (positions 4 and 5) is gone: reads across it fail at 4.
    {
        let db = open_db_after_close(ts.path())?;
        db.open_tree("log")?.remove(5u64.to_be_bytes())?;
        db.flush()?;
    }
    ts.open();
    let gap = |r: Result<Vec<RecordedEvent>, StoreError>| {
        assert!(
            matches!(r, Err(StoreError::Corrupt { position: 4, .. })),
            "{r:?}"
        )
    };
    gap(ts.store().read_all(1, 100));
    gap(ts.store().read_all(4, 100));
    gap(ts.store().read_stream("b", 0));
    assert_eq!(positions(&ts.store().read_all(6, 100)?), [6, 7, 8]);
    assert!(verify_store(ts.store(), |_| {}).is_err());
    ts.close();
    // Position 6 alone again beside the entry of 6 and 7: an overlap.
    {
        let db = open_db_after_close(ts.path())?;
        let log = db.open_tree("log")?;
        let (k, v) = log
            .get_gt(5u64.to_be_bytes())?
            .ok_or("the entry of 6 and 7")?;
        let six = decode_log_entry(&k, &v)?.remove(0);
        log.insert(6u64.to_be_bytes(), codec::encode_record(&six))?;
        db.flush()?;
    }
    ts.open();
    let r = ts.store().read_all(6, 100);
    assert!(
        matches!(r, Err(StoreError::Corrupt { position: 7, .. })),
        "{r:?}"
    );
    Ok(())
}

#[test]
fn a_large_append_spans_several_log_entries_and_reads_whole() -> TestResult {
    // Three records of 20 kB share an entry (64 KiB at most); the next two share another.
    let mut ts = TestStore::new();
    let big: Vec<NewEvent> = (0..5u8).map(|i| new_event(&vec![i; 20_000])).collect();
    assert_eq!(append(ts.store(), "big", NoStream, &big)?, result(1, 5, 5));
    append(ts.store(), "small", NoStream, &events(2, "small"))?;
    ts.close();
    assert_eq!(log_keys(ts.path())?, [3, 5, 7]);
    ts.open();
    let store = ts.store();
    let read = store.read_stream("big", 0)?;
    assert_eq!(positions(&read), [1, 2, 3, 4, 5]);
    for (i, rec) in read.iter().enumerate() {
        assert_eq!(rec.payload, vec![i as u8; 20_000]);
    }
    assert_eq!(positions(&store.read_stream("big", 3)?), [3, 4, 5]);
    assert_eq!(positions(&store.read_all(2, 3)?), [2, 3, 4]);
    assert_eq!(positions(&store.read_all(4, 100)?), [4, 5, 6, 7]);
    // The resend is recognised through the id index, which points inside the entries.
    assert_eq!(append(store, "big", Any, &big)?, result(1, 5, 5));
    assert_idempotency_conflict(append(store, "big", Any, &big[3..]));
    assert_eq!(verify_store(store, |_| {})?.events, 7);
    assert_log_is_well_formed(store);
    Ok(())
}

#[test]
fn a_log_written_an_entry_per_event_still_reads() -> TestResult {
    // Logs written before appends were packed hold one record per entry; they read, verify,
    // re-index and take new appends without a migration.
    let mut ts = TestStore::new();
    let fixture = populate_for_repair(ts.store())?;
    ts.close();
    unpack_log(ts.path())?;
    drop_index_tail(ts.path(), 3, Some(3))?;
    ts.open();
    assert_repaired(&ts, &fixture)?;
    assert_eq!(verify_store(ts.store(), |_| {})?.events, 9);
    append_after_repair(ts.store())?;
    assert_eq!(read_everything(ts.store()).len(), 11);
    ts.restart();
    assert_eq!(read_everything(ts.store()).len(), 11);
    assert_eq!(verify_store(ts.store(), |_| {})?.events, 11);
    Ok(())
}

#[test]
fn verify_store_detects_a_record_rewritten_or_damaged_in_the_log() -> TestResult {
    // A rewritten record with a consistent hash of its own breaks the next link.
    let mut ts = TestStore::new();
    populate_for_export(ts.store())?;
    ts.close();
    // (Positions 2 and 3 are one append, which the log keeps in one entry.)
    rewrite_log_record(ts.path(), 3, |record| {
        let mut record = codec::decode_record(&record)?;
        record.payload = b"rewritten".to_vec();
        record.hash = codec::compute_hash(&record);
        Ok(codec::encode_record(&record))
    })?;
    ts.open();
    let err = verify_store(ts.store(), |_| {}).expect_err("a rewritten record");
    assert_eq!(err.where_, "position 4", "{err}");

    // A damaged byte makes a record unreadable: reported at that (earlier) position.
    ts.close();
    rewrite_log_record(ts.path(), 2, |mut bytes| {
        bytes[20] ^= 0x01;
        Ok(bytes)
    })?;
    ts.open();
    let err = verify_store(ts.store(), |_| {}).expect_err("a damaged record");
    assert_eq!(err.where_, "position 2", "{err}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 10. Model-based test: random appends, resends, reads and restarts against an in-memory model
// ---------------------------------------------------------------------------------------------

/// What an append came to, comparable between the store and the model.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Appended(AppendResult),
    WrongVersion(u64),
    Conflict,
    Invalid,
}

fn outcome(r: Result<AppendResult, StoreError>) -> Outcome {
    match r {
        Ok(r) => Outcome::Appended(r),
        Err(StoreError::WrongExpectedVersion { actual, .. }) => Outcome::WrongVersion(actual),
        Err(StoreError::IdempotencyConflict { .. }) => Outcome::Conflict,
        Err(StoreError::InvalidRequest(_)) => Outcome::Invalid,
        Err(other) => panic!("unexpected store error: {other}"),
    }
}

struct ModelEvent {
    stream: String,
    version: u64,
    id: Uuid,
    payload: Vec<u8>,
}

/// The log as a list, with the rules of the store contract written as plainly as possible.
#[derive(Default)]
struct Model {
    log: Vec<ModelEvent>,
    versions: HashMap<String, u64>,
    /// Event id → index in `log`.
    ids: HashMap<Uuid, usize>,
}

impl Model {
    fn version(&self, stream: &str) -> u64 {
        self.versions.get(stream).copied().unwrap_or(0)
    }

    fn apply(&mut self, req: &AppendRequest) -> Outcome {
        let distinct: HashSet<Uuid> = req.events.iter().map(|e| e.id).collect();
        if req.events.is_empty()
            || distinct.len() != req.events.len()
            || postroom::events::envelope::validate_stream(&req.stream).is_err()
        {
            return Outcome::Invalid;
        }
        let found: Vec<usize> = req
            .events
            .iter()
            .filter_map(|e| self.ids.get(&e.id).copied())
            .collect();
        if let (Some(&first), Some(&last)) = (found.first(), found.last()) {
            // The test only resends whole earlier requests, so "all ids stored in this stream"
            // means "this exact append".
            let replay = found.len() == req.events.len()
                && found.iter().all(|&i| self.log[i].stream == req.stream);
            return if replay {
                Outcome::Appended(result(
                    first as u64 + 1,
                    last as u64 + 1,
                    self.log[last].version,
                ))
            } else {
                Outcome::Conflict
            };
        }
        let current = self.version(&req.stream);
        let ok = match req.expected {
            Any => true,
            NoStream => current == 0,
            Exact(v) => v == current,
        };
        if !ok {
            return Outcome::WrongVersion(current);
        }
        let first_position = self.log.len() as u64 + 1;
        let mut version = current;
        for e in &req.events {
            version += 1;
            self.ids.insert(e.id, self.log.len());
            self.log.push(ModelEvent {
                stream: req.stream.clone(),
                version,
                id: e.id,
                payload: e.payload.clone(),
            });
        }
        self.versions.insert(req.stream.clone(), version);
        Outcome::Appended(result(first_position, self.log.len() as u64, version))
    }

    fn assert_matches(&self, got: &[RecordedEvent], from_index: usize, what: &str) {
        for (i, e) in got.iter().enumerate() {
            let m = &self.log[from_index + i];
            let want = (
                from_index as u64 + i as u64 + 1,
                &*m.stream,
                m.version,
                m.id,
            );
            assert_eq!(
                (e.position, e.stream.as_str(), e.version, e.id),
                want,
                "{what}"
            );
            assert_eq!(e.payload, m.payload, "{what}: payload at {}", e.position);
        }
    }

    /// The whole store against the model, including the hash chain.
    fn assert_store_agrees(&self, store: &SledStore, what: &str) {
        assert_eq!(store.head(), self.log.len() as u64, "{what}: head");
        let all = read_everything(store);
        assert_eq!(all.len(), self.log.len(), "{what}: log length");
        self.assert_matches(&all, 0, what);
        let mut prev = [0u8; 32];
        for e in &all {
            assert_eq!(e.prev_hash, prev, "{what}: chain at {}", e.position);
            prev = e.hash;
        }
        for (stream, v) in &self.versions {
            assert_eq!(
                store.stream_version(stream).ok(),
                Some(*v),
                "{what}: {stream}"
            );
        }
    }
}

const MODEL_STREAMS: [&str; 6] = ["alpha", "beta", "gamma", "delta", "eps", "zeta-1"];

fn random_request(rng: &mut StdRng, model: &Model) -> AppendRequest {
    let stream = MODEL_STREAMS[rng.gen_range(0..MODEL_STREAMS.len())];
    let current = model.version(stream);
    let expected = match rng.gen_range(0..4) {
        0 => Any,
        1 => NoStream,
        2 => Exact(current),
        _ => match rng.gen_range(0..3) {
            0 if current > 0 => Exact(current - 1),
            1 => Exact(current + rng.gen_range(1..3)),
            _ => Exact(current + 1),
        },
    };
    let n = rng.gen_range(1..=3);
    let events = (0..n)
        .map(|_| {
            let len = rng.gen_range(0..24);
            NewEvent {
                id: Uuid::from_u128(rng.gen()),
                payload: (0..len).map(|_| rng.gen()).collect(),
                ..new_event(b"")
            }
        })
        .collect();
    AppendRequest {
        stream: stream.to_string(),
        expected,
        events,
    }
}

/// A request that the model and the store both must refuse or answer from the stored log.
fn resend(rng: &mut StdRng, history: &[AppendRequest]) -> Option<AppendRequest> {
    if history.is_empty() {
        return None;
    }
    let mut req = history[rng.gen_range(0..history.len())].clone();
    match rng.gen_range(0..6) {
        0 => req.expected = Any,
        1 => req.expected = Exact(rng.gen_range(0..5)),
        2 => req.events.push(NewEvent {
            id: Uuid::from_u128(rng.gen()),
            ..new_event(b"mixed-in")
        }), // stored + new ids
        3 => req.stream = MODEL_STREAMS[rng.gen_range(0..MODEL_STREAMS.len())].to_string(),
        _ => {} // the exact same request
    }
    Some(req)
}

fn run_model(seed: u64, ops: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ts = TestStore::with_options(StoreOptions {
        // The fdatasync only adds time here; both modes share every other line of code.
        durability: Durability::Flush,
        // Small group commits now and then, so batches split inside a burst of requests.
        max_batch_events: rng.gen_range(1..6),
    });
    let mut model = Model::default();
    let mut history: Vec<AppendRequest> = Vec::new();
    let mut trace: Vec<String> = Vec::new();

    for op in 0..ops {
        let what = format!("seed {seed}, op {op}");
        let roll = rng.gen_range(0..100);
        match roll {
            // One append, new or resent.
            0..=64 => {
                let req = if roll < 50 {
                    random_request(&mut rng, &model)
                } else {
                    resend(&mut rng, &history).unwrap_or_else(|| random_request(&mut rng, &model))
                };
                let want = model.apply(&req);
                let got = outcome(ts.store().append(req.clone()).wait());
                trace.push(format!(
                    "append {} {:?} x{} -> {got:?}",
                    req.stream,
                    req.expected,
                    req.events.len()
                ));
                assert_eq!(got, want, "{what}: {req:?}\ntrace: {trace:#?}");
                history.push(req);
            }
            // A burst of requests handed over before any is answered (one or more group commits).
            65..=74 => {
                let mut reqs = Vec::new();
                for _ in 0..rng.gen_range(2..=5) {
                    let req = if rng.gen_bool(0.3) {
                        resend(&mut rng, &history)
                    } else {
                        None
                    };
                    reqs.push(req.unwrap_or_else(|| random_request(&mut rng, &model)));
                }
                let pending: Vec<_> = reqs.iter().map(|r| ts.store().append(r.clone())).collect();
                for (req, p) in reqs.into_iter().zip(pending) {
                    let want = model.apply(&req);
                    let got = outcome(p.wait());
                    trace.push(format!(
                        "burst append {} {:?} x{} -> {got:?}",
                        req.stream,
                        req.expected,
                        req.events.len()
                    ));
                    assert_eq!(got, want, "{what}: {req:?}\ntrace: {trace:#?}");
                    history.push(req);
                }
            }
            75..=77 => {
                trace.push("restart".into());
                ts.restart();
                model.assert_store_agrees(ts.store(), &format!("{what}, after a restart"));
            }
            78..=89 => {
                let stream = MODEL_STREAMS[rng.gen_range(0..MODEL_STREAMS.len())];
                let from = rng.gen_range(0..=model.version(stream) + 2);
                trace.push(format!("read_stream {stream} {from}"));
                let got = ts.store().read_stream(stream, from).expect("read_stream");
                let want: Vec<&ModelEvent> = model
                    .log
                    .iter()
                    .filter(|e| e.stream == stream && e.version >= from)
                    .collect();
                assert_eq!(got.len(), want.len(), "{what}: read_stream {stream} {from}");
                for (g, w) in got.iter().zip(want) {
                    assert_eq!((g.version, g.id), (w.version, w.id), "{what}");
                    assert_eq!(model.log[g.position as usize - 1].id, g.id, "{what}");
                }
            }
            90..=97 => {
                let from = rng.gen_range(0..=model.log.len() as u64 + 2);
                let limit = rng.gen_range(0..20);
                trace.push(format!("read_all {from} {limit}"));
                let got = ts.store().read_all(from, limit).expect("read_all");
                let start = from.max(1) as usize - 1;
                let expected_len = model.log.len().saturating_sub(start).min(limit);
                assert_eq!(got.len(), expected_len, "{what}: read_all {from} {limit}");
                model.assert_matches(&got, start, &what);
            }
            _ => {
                let mut req = random_request(&mut rng, &model);
                if rng.gen_bool(0.5) {
                    req.events.clear();
                } else {
                    req.stream = "bad\nname".into();
                }
                trace.push("invalid append".into());
                assert_eq!(outcome(ts.store().append(req).wait()), Outcome::Invalid);
            }
        }
        assert_eq!(ts.store().head(), model.log.len() as u64, "{what}: head");
        for stream in MODEL_STREAMS {
            assert_eq!(
                ts.store().stream_version(stream).expect("stream_version"),
                model.version(stream),
                "{what}: version of {stream}\ntrace: {trace:#?}"
            );
        }
    }
    model.assert_store_agrees(ts.store(), &format!("seed {seed}, at the end"));
    ts.restart();
    model.assert_store_agrees(ts.store(), &format!("seed {seed}, after the last restart"));
}

#[test]
fn model_based_random_appends_resends_reads_and_restarts_agree_with_an_in_memory_model() {
    for seed in 0..20 {
        run_model(seed, 300);
    }
}

// ---------------------------------------------------------------------------------------------
// 11. Index repair on open
// ---------------------------------------------------------------------------------------------

/// Removes the index entries of positions after `keep` and sets the marker to `marker` (None:
/// removes it), as a crash between the log batch and the index batches would leave them.
fn drop_index_tail(path: &Path, keep: u64, marker: Option<u64>) -> TestResult {
    let db = open_db_after_close(path)?;
    for name in ["log_streams", "log_ids"] {
        let tree = db.open_tree(name)?;
        for item in tree.iter() {
            let (k, v) = item?;
            if &*k == MARKER {
                continue;
            }
            // Both indexes start their value with the position (the id index adds its append's range).
            let pos = u64::from_be_bytes(v[..8].try_into()?);
            if pos > keep {
                tree.remove(k)?;
            }
        }
    }
    let ids = db.open_tree("log_ids")?;
    match marker {
        Some(m) => ids.insert(MARKER, &m.to_be_bytes())?,
        None => ids.remove(MARKER)?,
    };
    db.flush()?;
    Ok(())
}

struct RepairFixture {
    a_tail: Vec<NewEvent>,
    c_tail: Vec<NewEvent>,
}

/// a: 3 events (1..=3), b: 2 (4..=5), a: 2 more (6..=7), c: 1 (8).
fn populate_for_repair(store: &SledStore) -> Result<RepairFixture, StoreError> {
    append(store, "a", NoStream, &events(3, "a"))?;
    append(store, "b", NoStream, &events(2, "b"))?;
    let a_tail = events(2, "a-tail");
    assert_eq!(append(store, "a", Exact(3), &a_tail)?, result(6, 7, 5));
    let c_tail = events(1, "c-tail");
    assert_eq!(append(store, "c", NoStream, &c_tail)?, result(8, 8, 1));
    Ok(RepairFixture { a_tail, c_tail })
}

#[track_caller]
fn assert_repaired(ts: &TestStore, fixture: &RepairFixture) -> TestResult {
    let store = ts.store();
    assert_eq!(store.head(), 8);
    assert_eq!(positions(&store.read_stream("a", 0)?), [1, 2, 3, 6, 7]);
    assert_eq!(positions(&store.read_stream("a", 2)?), [2, 3, 6, 7]);
    assert_eq!(positions(&store.read_stream("a", 4)?), [6, 7]);
    assert_eq!(positions(&store.read_stream("a", 5)?), [7]);
    assert!(store.read_stream("a", 6)?.is_empty());
    assert_eq!(positions(&store.read_stream("c", 1)?), [8]);
    assert_eq!(store.stream_version("a")?, 5);
    assert_eq!(store.stream_version("c")?, 1);
    let marker = ts.db().open_tree("log_ids")?.get(MARKER)?;
    assert_eq!(marker.as_deref(), Some(&8u64.to_be_bytes()[..]));

    // Idempotency knows the tail events again...
    assert_eq!(append(store, "a", Any, &fixture.a_tail)?, result(6, 7, 5));
    assert_eq!(
        append(store, "c", NoStream, &fixture.c_tail)?,
        result(8, 8, 1)
    );
    assert_idempotency_conflict(append(store, "b", Any, &fixture.c_tail));
    // ...and so does the expected-version check.
    assert_wrong_version(
        append(store, "c", NoStream, &events(1, "c")),
        "c",
        NoStream,
        1,
    );
    assert_wrong_version(
        append(store, "a", Exact(3), &events(1, "a")),
        "a",
        Exact(3),
        5,
    );
    assert_eq!(store.head(), 8);
    assert_eq!(
        append(store, "a", Exact(5), &events(1, "a-next"))?,
        result(9, 9, 6)
    );
    assert_log_is_well_formed(store);
    Ok(())
}

#[test]
fn an_index_tail_lost_in_a_crash_is_rebuilt_on_open() -> TestResult {
    let mut ts = TestStore::new();
    let fixture = populate_for_repair(ts.store())?;
    ts.close();
    // A crash leaves the indexes complete up to an append's end (the marker is written with
    // each commit): here after a's first append.
    drop_index_tail(ts.path(), 3, Some(3))?;
    {
        // The damage is real: without repair, the tail would be unindexed (one stream entry
        // per append).
        let db = open_db_after_close(ts.path())?;
        assert_eq!(db.open_tree("log_streams")?.len(), 1);
        assert_eq!(db.open_tree("log_ids")?.len(), 4);
    }
    ts.open();
    assert_repaired(&ts, &fixture)
}

#[test]
fn a_stream_index_written_an_entry_per_event_still_reads() -> TestResult {
    // Logs written before appends were indexed whole have one stream index entry per event
    // (stream NUL version -> position, 8 bytes). They must read without a migration.
    let mut ts = TestStore::new();
    let fixture = populate_for_repair(ts.store())?;
    ts.close();
    {
        let db = open_db_after_close(ts.path())?;
        let streams = db.open_tree("log_streams")?;
        streams.clear()?;
        let log = db.open_tree("log")?;
        let mut all = Vec::new();
        for item in log.iter() {
            let (k, v) = item?;
            all.extend(decode_log_entry(&k, &v)?);
        }
        for rec in all {
            let mut key = rec.stream.as_bytes().to_vec();
            key.push(0);
            key.extend_from_slice(&rec.version.to_be_bytes());
            streams.insert(key, &rec.position.to_be_bytes())?;
        }
        assert_eq!(streams.len(), 8);
        db.flush()?;
    }
    ts.open();
    assert_repaired(&ts, &fixture)?;
    // New appends add entries of the new layout beside the old ones.
    append_after_repair(ts.store())
}

/// After `assert_repaired`: stream a takes two more events, read with the old ones.
fn append_after_repair(store: &SledStore) -> TestResult {
    assert_eq!(
        append(store, "a", Exact(6), &events(2, "a-more"))?,
        result(10, 11, 8)
    );
    assert_eq!(
        positions(&store.read_stream("a", 0)?),
        [1, 2, 3, 6, 7, 9, 10, 11]
    );
    assert_eq!(positions(&store.read_stream("a", 7)?), [10, 11]);
    assert_eq!(store.stream_version("a")?, 8);
    Ok(())
}

#[test]
fn an_index_lost_entirely_without_its_marker_is_rebuilt_on_open() -> TestResult {
    let mut ts = TestStore::new();
    let fixture = populate_for_repair(ts.store())?;
    ts.close();
    drop_index_tail(ts.path(), 0, None)?;
    ts.open();
    assert_repaired(&ts, &fixture)
}

#[test]
fn an_index_with_only_the_stream_index_tail_written_is_completed_on_open() -> TestResult {
    // The stream index batch landed, the id index batch (with the marker) did not.
    let mut ts = TestStore::new();
    let fixture = populate_for_repair(ts.store())?;
    ts.close();
    {
        let db = open_db_after_close(ts.path())?;
        let ids = db.open_tree("log_ids")?;
        for id in ids_of(&fixture.a_tail).chain(ids_of(&fixture.c_tail)) {
            ids.remove(id.as_bytes())?;
        }
        ids.insert(MARKER, &5u64.to_be_bytes())?;
        db.flush()?;
    }
    ts.open();
    assert_repaired(&ts, &fixture)
}

fn ids_of(events: &[NewEvent]) -> impl Iterator<Item = Uuid> + '_ {
    events.iter().map(|e| e.id)
}

// ---------------------------------------------------------------------------------------------
// 12. Durability modes, locking, and a writer killed mid-append
// ---------------------------------------------------------------------------------------------

fn durability_smoke(durability: Durability) -> TestResult {
    let mut ts = TestStore::with_options(StoreOptions {
        durability,
        ..StoreOptions::default()
    });
    let evs = events(3, "durable");
    assert_eq!(append(ts.store(), "s", NoStream, &evs)?, result(1, 3, 3));
    let before = read_everything(ts.store());
    ts.restart();
    assert_eq!(read_everything(ts.store()), before);
    assert_eq!(
        append(ts.store(), "s", Exact(3), &events(1, "more"))?,
        result(4, 4, 4)
    );
    assert_log_is_well_formed(ts.store());
    Ok(())
}

#[test]
fn durability_fsync_appends_survive_a_restart() -> TestResult {
    assert_eq!(StoreOptions::default().durability, Durability::Fsync);
    durability_smoke(Durability::Fsync)
}

#[test]
fn durability_flush_appends_survive_a_restart() -> TestResult {
    durability_smoke(Durability::Flush)
}

/// sled 0.34 writes any value larger than segment_size / 4 (128 KiB by default) to a file of its
/// own under `blobs/`, which sled never syncs (`pagecache/blob_io.rs::write_blob`). Event payloads
/// are therefore capped well below that (content lives outside the log), and in Fsync mode the
/// committer syncs new blob files (content values) itself.
#[test]
fn payloads_are_capped_below_sleds_blob_threshold() -> TestResult {
    let ts = TestStore::new();
    let max = postroom::events::sled_store::MAX_PAYLOAD;
    assert!(max < 128 * 1024);
    assert!(matches!(
        append(
            ts.store(),
            "big",
            NoStream,
            &[new_event(&vec![7u8; max + 1])]
        ),
        Err(StoreError::InvalidRequest(_))
    ));
    assert_eq!(ts.store().head(), 0);
    append(ts.store(), "big", NoStream, &[new_event(&vec![7u8; max])])?;
    let blobs = match std::fs::read_dir(ts.path().join("blobs")) {
        Ok(dir) => dir.count(),
        Err(_) => 0,
    };
    assert_eq!(blobs, 0, "a payload at the cap stays inside sled's own log");
    Ok(())
}

#[test]
fn closing_the_store_answers_every_append_already_handed_over() -> TestResult {
    let ts = TestStore::new();
    let pending: Vec<_> = (0..50)
        .map(|i| {
            (
                i,
                ts.store()
                    .append(request("s", Exact(i), &events(1, "queued"))),
            )
        })
        .collect();
    ts.store().close();
    for (i, p) in pending {
        assert_eq!(p.wait()?, result(i + 1, i + 1, i + 1));
    }
    assert!(matches!(
        append(ts.store(), "s", Any, &events(1, "late")),
        Err(StoreError::Unavailable)
    ));
    assert_eq!(ts.store().head(), 50);
    assert_log_is_well_formed(ts.store());
    Ok(())
}

#[test]
fn a_data_folder_already_open_is_refused_as_locked() -> TestResult {
    let ts = TestStore::new();
    match open_db(ts.path(), 64 << 20) {
        Err(StoreError::Locked { path }) => assert_eq!(Path::new(&path), ts.path()),
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("a second sled on the same folder was allowed"),
    }
    Ok(())
}

const CRASH_DIR_ENV: &str = "POSTROOM_TEST_CRASH_CHILD_DIR";

/// The child process of `a_writer_killed_mid_append_loses_no_acknowledged_event`: appends from
/// four threads and prints every acknowledged append until it is killed.
#[test]
#[ignore = "not a test on its own: the child process of a_writer_killed_mid_append_..."]
fn crash_child_appends_until_killed() {
    let Some(dir) = std::env::var_os(CRASH_DIR_ENV) else {
        return;
    };
    let dir = Path::new(&dir);
    let db = open_db(dir, 64 << 20).expect("opening sled");
    let store = Arc::new(SledStore::open(&db, dir, StoreOptions::default()).expect("opening"));
    let started = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                // Bounded, in case the parent died without killing us.
                for i in 0.. {
                    if started.elapsed() > Duration::from_secs(30) {
                        break;
                    }
                    let stream = format!("w{t}");
                    let evs = events(1 + i % 3, &format!("{t}-{i}"));
                    let r = append(&*store, &stream, Any, &evs).expect("append");
                    let ids: Vec<String> = evs.iter().map(|e| e.id.to_string()).collect();
                    let mut out = std::io::stdout().lock();
                    let line = format!(
                        "ack {} {} {} {stream} {}\n",
                        r.first_position,
                        r.last_position,
                        r.stream_version,
                        ids.join(",")
                    );
                    // A closed pipe means the parent is gone: stop.
                    if out
                        .write_all(line.as_bytes())
                        .and_then(|_| out.flush())
                        .is_err()
                    {
                        break;
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn a_writer_killed_mid_append_loses_no_acknowledged_event() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args([
            "store::crash_child_appends_until_killed",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_DIR_ENV, dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    let mut acks = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        let Some(rest) = line.strip_prefix("ack ") else {
            continue;
        };
        let f: Vec<&str> = rest.split(' ').collect();
        let ids: Vec<Uuid> = f[4]
            .split(',')
            .map(Uuid::parse_str)
            .collect::<Result<_, _>>()?;
        acks.push((
            f[0].parse::<u64>()?,
            f[1].parse::<u64>()?,
            f[2].parse::<u64>()?,
            f[3].to_string(),
            ids,
        ));
        if acks.len() >= 300 {
            break;
        }
    }
    child.kill()?; // SIGKILL, wherever the committer is
    child.wait()?;
    assert!(
        acks.len() >= 300,
        "the child stopped after {} acks",
        acks.len()
    );

    let db = open_db_after_close(dir.path())?;
    let store = SledStore::open(&db, dir.path(), StoreOptions::default())?;
    let all = assert_log_is_well_formed(&store);
    for (first, last, version, stream, ids) in &acks {
        let stored = &all[(*first - 1) as usize..*last as usize];
        assert_eq!(&stored.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
        assert!(stored.iter().all(|e| &e.stream == stream));
        assert_eq!(stored.last().map(|e| e.version), Some(*version));
    }
    verify_store(&store, |_| {})?;
    // The log goes on where it stopped.
    let head = store.head();
    let r = append(&store, "after-crash", NoStream, &events(1, "after"))?;
    assert_eq!(r, result(head + 1, head + 1, 1));
    Ok(())
}
