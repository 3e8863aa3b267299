//! `postroom-bench`: measures the log, the projections and start-up, and prints a report.
//!
//! Every figure that depends on the machine is also given as a ratio against a baseline measured
//! in the same run (these machines are shared and noisy): durable appends against one flush per
//! append, start-up with a snapshot against start-up without.

use postroom::domain::interaction::{
    Channel, InteractionEvent, InteractionQueued, InteractionReceived,
};
use postroom::domain::{InteractionId, Millis, Principal, QueueName};
use postroom::events::sled_store::open_db;
use postroom::events::{
    AppendRequest, DomainEvent, Durability, EventStore, ExpectedVersion, NewEvent, RecordedEvent,
    SledStore, StoreOptions,
};
use postroom::projections::{runner, snapshot, Projections};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Events in the log for the rebuild and start-up figures.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Seconds per append round.
    #[arg(long, default_value_t = 3.0, value_parser = positive_seconds)]
    pub seconds: f64,
    /// Interactions for the memory figure.
    #[arg(long, default_value_t = 200_000)]
    pub interactions: u64,
    /// Where to put the benchmark's data (a fresh folder inside it; removed at the end).
    #[arg(long, default_value = "target/bench-data")]
    pub dir: PathBuf,
    /// Small sizes, for a smoke test of the benchmark itself.
    #[arg(long)]
    pub quick: bool,
    /// Run one section only: memory, appends, webform, categories, log, ingest, outbox, routing, offers or qa.
    #[arg(long)]
    pub only: Option<String>,
    /// The IMAP server for the ingest section (`host:port`, plain IMAP); without it the section
    /// is skipped. `scripts/bench-ingest.sh` starts a private Dovecot and passes it.
    #[arg(long)]
    pub imap: Option<String>,
    #[arg(long, default_value = "support@example.test")]
    pub imap_user: String,
    #[arg(long, default_value = "secret")]
    pub imap_password: String,
    /// Messages to put in the folder for the ingest section (cycled from the corpus).
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// The .eml corpus the messages are cycled from.
    #[arg(long, default_value = "tests/fixtures/eml")]
    pub corpus: PathBuf,
    /// Ingest flags messages `\Seen` instead of moving them (no `processed_folder`).
    #[arg(long)]
    pub seen: bool,
    /// Messages per FETCH for ingest (the mailbox's `batch`).
    #[arg(long, default_value_t = 200)]
    pub ingest_batch: usize,
    /// The web form section's server (its base URL); without it the section starts
    /// `postroom serve` from beside this binary.
    #[arg(long)]
    pub webform_url: Option<String>,
    /// The labelled corpus of the categorisation section (JSON lines).
    #[arg(long, default_value = "tests/fixtures/categories")]
    pub categories: PathBuf,
    /// Concurrent clients of the web form section (each on a keep-alive connection).
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// The SMTP server for the outbox section (`host:port`, plain SMTP); without it the section
    /// is skipped. `scripts/bench-outbox.sh` starts aiosmtpd and passes it.
    #[arg(long)]
    pub smtp: Option<String>,
    /// Acknowledgements the outbox section sends.
    #[arg(long, default_value_t = 2000)]
    pub answers: usize,
    /// Agents of the routing section.
    #[arg(long, default_value_t = 10_000)]
    pub agents: usize,
    /// Queued interactions of the routing section.
    #[arg(long, default_value_t = 100_000)]
    pub queued: usize,
    /// Ready agents of the offers section.
    #[arg(long, default_value_t = 20)]
    pub desk_agents: usize,
    /// Forms per second of the offers section.
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a number of seconds between 0 and 3600"
        )),
    }
}

fn rss_bytes() -> u64 {
    // /proc/self/statm: size resident shared ... in pages.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|r| r.parse::<u64>().ok())
        })
        .map(|pages| pages * page)
        .unwrap_or(0)
}

fn event(e: InteractionEvent, principal: Principal) -> NewEvent {
    DomainEvent::Interaction(e).into_new_event(principal, uuid::Uuid::now_v7(), None)
}

/// The two events of a typical new interaction (about 200 bytes of payload together).
fn new_interaction_events(n: u64) -> Vec<InteractionEvent> {
    let at = Millis(1_795_000_000_000 + n as i64);
    vec![
        InteractionReceived {
            channel: Channel::Email,
            from: format!("customer{n}@example.com"),
            from_name: Some(format!("Customer Number {n}")),
            subject: format!("Order {n} has not arrived yet, please help"),
            content: Some(postroom::domain::ContentRef([n as u8; 32])),
            priority: (n % 5) as i32,
            at,
        }
        .into(),
        InteractionQueued {
            queue: QueueName::parse(["inbound", "billing", "vip"][(n % 3) as usize])
                .unwrap_or_else(|_| unreachable!("valid literal queue names")),
            at,
        }
        .into(),
    ]
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open_store(
    dir: &Path,
    durability: Durability,
    max_batch: usize,
) -> Result<(sled::Db, Arc<SledStore>), String> {
    let db = open_db(dir, 256 << 20).map_err(|e| e.to_string())?;
    let store = SledStore::open(
        &db,
        dir,
        StoreOptions {
            durability,
            max_batch_events: max_batch,
        },
    )
    .map_err(|e| e.to_string())?;
    Ok((db, Arc::new(store)))
}

fn one_event_request(stream: String, n: u64) -> AppendRequest {
    let mut evs = new_interaction_events(n);
    evs.truncate(1);
    AppendRequest {
        stream,
        expected: ExpectedVersion::NoStream,
        events: evs
            .into_iter()
            .map(|e| event(e, Principal::System("bench".into())))
            .collect(),
    }
}

/// How the concurrent writers run.
#[derive(Clone, Copy, PartialEq)]
enum Writers {
    /// Async tasks on one runtime thread, as the server's actors and handlers are.
    Tasks,
    /// One OS thread each, blocking on its append.
    Threads,
}

/// Appends one ~200-byte event per append from `writers` concurrent writers for `secs`;
/// answers events per second.
fn append_rate(store: &Arc<SledStore>, kind: Writers, writers: usize, secs: f64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    match kind {
        Writers::Threads => {
            let handles: Vec<_> = (0..writers)
                .map(|w| {
                    let (store, stop, done) = (store.clone(), stop.clone(), done.clone());
                    std::thread::spawn(move || {
                        let mut n = 0u64;
                        while !stop.load(Ordering::Relaxed) {
                            let req = one_event_request(format!("bench-t{w}-{n}"), n);
                            if store.append(req).wait().is_ok() {
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                            n += 1;
                        }
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_secs_f64(secs));
            stop.store(true, Ordering::Relaxed);
            for h in handles {
                let _ = h.join();
            }
        }
        Writers::Tasks => {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
            else {
                return 0.0;
            };
            let local = tokio::task::LocalSet::new();
            local.block_on(&rt, async {
                let tasks: Vec<_> = (0..writers)
                    .map(|w| {
                        let (store, stop, done) = (store.clone(), stop.clone(), done.clone());
                        tokio::task::spawn_local(async move {
                            let mut n = 0u64;
                            while !stop.load(Ordering::Relaxed) {
                                let req = one_event_request(format!("bench-a{w}-{n}"), n);
                                if store.append(req).await.is_ok() {
                                    done.fetch_add(1, Ordering::Relaxed);
                                }
                                n += 1;
                            }
                        })
                    })
                    .collect();
                tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                stop.store(true, Ordering::Relaxed);
                for t in tasks {
                    let _ = t.await;
                }
            });
        }
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// The disk itself: 256-byte records appended to a plain file, `fdatasync` after each.
fn raw_fdatasync_rate(path: &Path, secs: f64) -> f64 {
    use std::io::Write;
    let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    else {
        return 0.0;
    };
    let record = [7u8; 256];
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed().as_secs_f64() < secs {
        if f.write_all(&record).and_then(|_| f.sync_data()).is_err() {
            break;
        }
        n += 1;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn run(args: BenchArgs) -> Result<(), String> {
    let (events, secs, interactions) = if args.quick {
        (20_000, 0.5, 20_000)
    } else {
        (args.events, args.seconds, args.interactions)
    };
    let root = TempDir(args.dir.join(format!("run-{}", std::process::id())));
    std::fs::create_dir_all(&root.0).map_err(|e| format!("{}: {e}", root.0.display()))?;
    let say = |line: String| println!("{line}");
    say(format!(
        "postroom bench: {} cores, payload ~200 bytes per event, {secs}s per round",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    ));

    let section = |name: &str| args.only.as_deref().is_none_or(|o| o == name);
    if let Some(o) = args.only.as_deref() {
        if ![
            "memory",
            "appends",
            "webform",
            "categories",
            "log",
            "ingest",
            "outbox",
            "routing",
            "offers",
            "qa",
        ]
        .contains(&o)
        {
            return Err(format!(
                "--only: {o:?} is not one of memory, appends, webform, categories, log, ingest, outbox, routing, offers, qa"
            ));
        }
    }

    // 1. Memory first, while the heap is fresh: resident bytes per cached interaction.
    if section("memory") {
        let mut p = Projections::default();
        let base = rss_bytes();
        let mut position = 0;
        for n in 0..interactions {
            let id = InteractionId::from_uuid(uuid::Uuid::from_u128(n as u128 + 1));
            for e in new_interaction_events(n) {
                position += 1;
                let d = DomainEvent::Interaction(e);
                p.apply(&RecordedEvent {
                    position,
                    stream: id.stream(),
                    version: 1,
                    id: uuid::Uuid::nil(),
                    recorded_at_micros: 0,
                    principal: Principal::System("bench".into()),
                    correlation_id: uuid::Uuid::nil(),
                    causation_id: None,
                    event_type: d.event_type().into(),
                    schema_version: 1,
                    payload: d.encode_payload(),
                    prev_hash: [0; 32],
                    hash: [0; 32],
                });
            }
        }
        let grown = rss_bytes().saturating_sub(base);
        say(String::new());
        say("## Memory".into());
        say(format!(
            "resident memory per cached interaction (cache + queue index, {interactions} queued interactions): {:.0} bytes (size_of Interaction = {} bytes)",
            grown as f64 / interactions as f64,
            std::mem::size_of::<postroom::domain::interaction::Interaction>()
        ));
        drop(p);
    }

    // 2. Durable appends: group commit against one flush per append, same durability, same run.
    if section("appends") {
        say(String::new());
        say("## Durable appends (events/s, median of 3 rounds)".into());
        say("| mode | writers | events/s | × flush-per-append |".into());
        say("|---|---|---|---|".into());
        let raw = median(
            (0..3)
                .map(|i| raw_fdatasync_rate(&root.0.join(format!("raw-{i}")), secs))
                .collect(),
        );
        say(format!(
            "| the disk: raw file, fdatasync per 256-byte record | 1 | {raw:.0} | – |"
        ));
        for durability in [Durability::Fsync, Durability::Flush] {
            let name = match durability {
                Durability::Fsync => "fsync",
                Durability::Flush => "flush",
            };
            let dir = root.0.join(format!("appends-{name}"));
            let baseline = {
                let (_db, store) = open_store(&dir.join("baseline"), durability, 1)?;
                median(
                    (0..3)
                        .map(|_| append_rate(&store, Writers::Tasks, 1, secs))
                        .collect(),
                )
            };
            say(format!(
                "| {name}, flush per append (baseline) | 1 | {baseline:.0} | 1.0 |"
            ));
            let (_db, store) = open_store(&dir.join("group"), durability, 8192)?;
            for (kind, writers) in [
                (Writers::Tasks, 1),
                (Writers::Tasks, 8),
                (Writers::Tasks, 64),
                (Writers::Tasks, 256),
                (Writers::Threads, 64),
            ] {
                let rate = median(
                    (0..3)
                        .map(|_| append_rate(&store, kind, writers, secs))
                        .collect(),
                );
                let how = match kind {
                    Writers::Tasks => "async tasks",
                    Writers::Threads => "OS threads",
                };
                say(format!(
                    "| {name}, group commit, {how} | {writers} | {rate:.0} | {:.1} |",
                    rate / baseline.max(1e-9)
                ));
            }
        }
    }

    // 3. The web form over HTTP against a server process.
    if section("webform") {
        crate::webform::run(&args, &root.0, secs.max(1.0) * 2.0)?;
    }

    // 3a. Categorisation and screening over the labelled corpus.
    if section("categories") {
        crate::classify::run(&args.categories, args.quick)?;
    }

    // 3a'. Routing decisions at scale: the matcher against a scan of every agent.
    if section("routing") {
        crate::routing::run(args.agents, args.queued, args.quick)?;
    }

    // 3a''. From a web form to the offer on the agent's event stream.
    if section("offers") {
        let (rate, secs) = if args.quick {
            (10.0, 2.0)
        } else {
            (args.rate, 10.0)
        };
        crate::offers::run(&root.0, args.desk_agents, rate, secs)?;
    }

    // 3a4. The QA decision and the service-level computation against the same paths without.
    if section("qa") {
        crate::qa::run(args.quick)?;
    }

    // 3b. IMAP ingest against a real server (only with --imap).
    if section("ingest") {
        match &args.imap {
            Some(addr) => crate::ingest::run(&args, addr, &root.0, args.quick)?,
            None => {
                say("\n(ingest section skipped: no --imap; see scripts/bench-ingest.sh)".into())
            }
        }
    }

    // 3c. Acknowledgements through the outbox against bare lettre (only with --smtp).
    if section("outbox") {
        match &args.smtp {
            Some(addr) => crate::outbox::run(&args, addr, &root.0, args.quick)?,
            None => {
                say("\n(outbox section skipped: no --smtp; see scripts/bench-outbox.sh)".into())
            }
        }
    }

    // 4. A log of `events` events: rebuild speed and start-up with and without a snapshot.
    if !section("log") {
        return Ok(());
    }
    say(String::new());
    say(format!(
        "## A log of {events} events ({} interactions)",
        events / 2
    ));
    let dir = root.0.join("big");
    let populate = Instant::now();
    {
        let (_db, store) = open_store(&dir, Durability::Flush, 8192)?;
        let next = Arc::new(AtomicU64::new(0));
        let pairs = events / 2;
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let store = store.clone();
                let next = next.clone();
                std::thread::spawn(move || loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= pairs {
                        return;
                    }
                    let id = InteractionId::from_uuid(uuid::Uuid::from_u128(n as u128 + 1));
                    let req = AppendRequest {
                        stream: id.stream(),
                        expected: ExpectedVersion::NoStream,
                        events: new_interaction_events(n)
                            .into_iter()
                            .map(|e| {
                                event(e, Principal::Customer(format!("customer{n}@example.com")))
                            })
                            .collect(),
                    };
                    let _ = store.append(req).wait();
                })
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
        store.close();
    }
    say(format!(
        "populated through group commit (64 writers, 2 events per append, durability flush) in {:.1}s",
        populate.elapsed().as_secs_f64()
    ));
    let snap_path = dir.join("projections.snap");
    let (rebuild_secs, cached) = {
        let (_db, store) = open_store(&dir, Durability::Flush, 8192)?;
        let t = Instant::now();
        let p = runner::rebuild(store.as_ref(), |_| {}).map_err(|e| e.to_string())?;
        let secs = t.elapsed().as_secs_f64();
        snapshot::write(&snap_path, &snapshot::encode(&p)).map_err(|e| e.to_string())?;
        store.close();
        (secs, p.cache.len())
    };
    say(format!(
        "full rebuild: {:.0} events/s ({events} events, {cached} interactions, {rebuild_secs:.2}s)",
        events as f64 / rebuild_secs
    ));
    let snapshot_size = std::fs::metadata(&snap_path).map(|m| m.len()).unwrap_or(0);
    let start = |with_snapshot: bool| -> Result<f64, String> {
        let t = Instant::now();
        let (_db, store) = open_store(&dir, Durability::Flush, 8192)?;
        let (p, kind) = runner::load(store.as_ref(), with_snapshot.then_some(snap_path.as_path()))
            .map_err(|e| e.to_string())?;
        let secs = t.elapsed().as_secs_f64();
        if p.cache.len() != cached {
            return Err(format!(
                "start-up found {} interactions, expected {cached}",
                p.cache.len()
            ));
        }
        if with_snapshot != matches!(kind, runner::StartKind::FromSnapshot { .. }) {
            return Err(format!("start-up kind {kind:?}"));
        }
        store.close();
        Ok(secs)
    };
    let without = median(
        (0..3)
            .map(|_| start(false))
            .collect::<Result<Vec<_>, _>>()?,
    );
    let with = median((0..3).map(|_| start(true)).collect::<Result<Vec<_>, _>>()?);
    say(format!(
        "start-up (open the log + load projections): without snapshot {without:.2}s, with snapshot {with:.2}s ({:.1}× faster; snapshot {:.1} MB)",
        without / with.max(1e-9),
        snapshot_size as f64 / 1e6
    ));
    Ok(())
}
