//! IMAP ingest: one thread per configured mailbox (the `imap` crate is blocking), so a slow or
//! dead mail server never stalls the rest of the server.
//!
//! Each pass selects the folder, lists every UID, and fetches those not yet done, in batches,
//! with `BODY.PEEK[]` (fetching sets no flag). Each message is parsed, its content stored by hash,
//! and recorded as `InteractionReceived` + `MessageStored` in one durable append, in the
//! interaction whose id derives from the message's identity and sender. Only then is it moved to
//! the processed folder or flagged `\Seen`. A crash in between makes the next pass fetch it
//! again, and its interaction's decider answers `AlreadyExists`: it is moved, not duplicated.

use super::registry::{CommandEnvelope, EngineError};
use super::workflow::Workflow;
use crate::domain::interaction::{
    Channel, DeliveryReported, InteractionCommand, MailSource, MessageStored, Rejection,
    StoredAttachment, ThreadLink, ThreadMatch,
};
use crate::domain::{EmailAddress, InteractionId, Principal, QueueName};
use crate::events::EventStore as _;
use crate::mail::ingest_plan::{interaction_id_for, plan, uid_set, FolderMemory};
use crate::mail::threading::{normalise_message_id, referenced_ids};
use crate::mail::{parse, Limits, ParsedMessage};
use crate::settings::MailboxSettings;
use crate::startup::{now, Engine};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// What `/readyz` shows of a mailbox.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MailboxStatus {
    /// connecting, ok, error.
    pub state: &'static str,
    pub last_error: Option<String>,
    /// Seconds since the last pass that completed.
    pub last_pass_ago_secs: Option<u64>,
    pub ingested: u64,
    pub reconnects: u64,
    #[serde(skip)]
    last_pass: Option<Instant>,
}

/// The statuses of all mailboxes, shared with the HTTP layer.
pub type Statuses = Arc<Mutex<HashMap<String, MailboxStatus>>>;

/// Running ingest threads; dropping it stops them.
pub struct Ingest {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Ingest {
    /// Starts one thread per mailbox. The threads hold the engine weakly: they end with it.
    pub fn start(engine: &Arc<Engine>, mailboxes: Vec<(MailboxSettings, String)>) -> Ingest {
        let stop = Arc::new(AtomicBool::new(false));
        let statuses = engine.mail_status.clone();
        let threads = mailboxes
            .into_iter()
            .filter_map(|(settings, password)| {
                let (engine, stop, statuses) =
                    (Arc::downgrade(engine), stop.clone(), statuses.clone());
                std::thread::Builder::new()
                    .name(format!("imap-{}", settings.name))
                    .spawn(move || run(engine, settings, password, stop, statuses))
                    .ok()
            })
            .collect();
        Ingest { stop, threads }
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The statuses with their ages computed now.
pub fn snapshot(statuses: &Statuses) -> HashMap<String, MailboxStatus> {
    let mut out = statuses.lock().map(|s| s.clone()).unwrap_or_default();
    for s in out.values_mut() {
        s.last_pass_ago_secs = s.last_pass.map(|t| t.elapsed().as_secs());
    }
    out
}

fn set_status(statuses: &Statuses, name: &str, f: impl FnOnce(&mut MailboxStatus)) {
    if let Ok(mut map) = statuses.lock() {
        f(map.entry(name.to_string()).or_default());
    }
}

/// Whether the server announced new mail among the responses it sent unasked (which are all
/// let go here: the mover's expunges show up among them too).
fn new_mail_noticed(s: &mut Session) -> bool {
    use imap::types::UnsolicitedResponse;
    // All are taken (and let go) whatever `any` stops at.
    let mut all = s.take_all_unsolicited();
    all.any(|r| {
        matches!(
            r,
            UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
        )
    })
}

/// Waits with IDLE until new mail arrives, `poll` passes, or a stop is asked for. IDLE is
/// renewed every second, so a stop is noticed as quickly as when polling.
///
/// What the server announces while an IDLE's DONE is answered, the crate drops. So after each
/// renewal a `UID SEARCH` from `unseen` (the first UID the last pass did not see; 0: unknown)
/// asks whether such mail came: one small command a second instead of waiting for the poll.
fn wait_for_mail(
    s: &mut Session,
    socket: &std::net::TcpStream,
    stop: &AtomicBool,
    poll: Duration,
    unseen: u32,
) -> Result<(), String> {
    use imap::extensions::idle::WaitOutcome;
    use imap::types::UnsolicitedResponse;
    let until = Instant::now() + poll;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= until {
            break;
        }
        let slice = (until - now).clamp(Duration::from_millis(10), Duration::from_secs(1));
        // Announced outside IDLE and kept by the session: do not wait for it again.
        if new_mail_noticed(s) {
            break;
        }
        let mut handle = s.idle();
        handle.timeout(slice).keepalive(false);
        let outcome = handle.wait_while(|r| {
            !matches!(
                r,
                UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
            )
        });
        // The crate clears the read timeout after waiting; put it back before the handle's
        // DONE is answered, so a dead server cannot hold this thread.
        restore_timeouts(socket);
        drop(handle);
        match outcome {
            Ok(WaitOutcome::MailboxChanged) => break,
            Ok(WaitOutcome::TimedOut) => {}
            Err(e) => return Err(format!("IDLE: {e}")),
        }
        // `n:*` also names the highest UID when it is below n: only UIDs from `unseen` count.
        if unseen > 0 {
            let found = s
                .uid_search(format!("UID {unseen}:*"))
                .map_err(|e| format!("checking for new mail: {e}"))?;
            if found.iter().any(|u| *u >= unseen) {
                break;
            }
        }
    }
    Ok(())
}

/// Sleeps in small steps so a stop request is noticed quickly.
fn pause(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
}

fn run(
    engine: Weak<Engine>,
    settings: MailboxSettings,
    password: String,
    stop: Arc<AtomicBool>,
    statuses: Statuses,
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let mut memory = engine
        .upgrade()
        .and_then(|e| load_memory(&e, &settings))
        .unwrap_or_default();
    let first_backoff = Duration::from_millis(500);
    let mut backoff = first_backoff;
    set_status(&statuses, &settings.name, |s| s.state = "connecting");
    while !stop.load(Ordering::SeqCst) {
        let Some(engine) = engine.upgrade() else {
            return;
        };
        match session(
            &engine,
            &rt,
            &settings,
            &password,
            &mut memory,
            &stop,
            &statuses,
        ) {
            Ok(()) => backoff = first_backoff,
            Err(e) => {
                tracing::warn!(mailbox = %settings.name, error = %e, retry_in_ms = backoff.as_millis() as u64, "IMAP ingest failed; reconnecting");
                set_status(&statuses, &settings.name, |s| {
                    s.state = "error";
                    s.last_error = Some(e.clone());
                    s.reconnects += 1;
                });
                drop(engine);
                pause(&stop, backoff);
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

use super::imap_conn::{connect, restore_timeouts, Conn, Session};

/// Where each folder's memory (UIDVALIDITY and mark) is kept: beside the log, by mailbox and
/// folder. It is a cursor, not a record: losing its last update only means listing a little more.
fn marks(engine: &Engine) -> Option<sled::Tree> {
    engine.storage.db.open_tree("ingest_marks").ok()
}

fn mark_key(settings: &MailboxSettings) -> Vec<u8> {
    format!("{}\0{}", settings.name, settings.folder).into_bytes()
}

fn load_memory(engine: &Engine, settings: &MailboxSettings) -> Option<FolderMemory> {
    let bytes = marks(engine)?.get(mark_key(settings)).ok()??;
    FolderMemory::decode(&bytes)
}

fn save_memory(engine: &Engine, settings: &MailboxSettings, memory: &FolderMemory) {
    let saved = marks(engine).map(|t| t.insert(mark_key(settings), &memory.encode()[..]));
    if !matches!(saved, Some(Ok(_))) {
        tracing::warn!(mailbox = %settings.name, "could not save the folder's mark; it is listed whole after a restart");
    }
}

/// One connection: passes until an error or a stop.
fn session(
    engine: &Engine,
    rt: &tokio::runtime::Runtime,
    settings: &MailboxSettings,
    password: &str,
    memory: &mut FolderMemory,
    stop: &AtomicBool,
    statuses: &Statuses,
) -> Result<(), String> {
    let Conn {
        session: mut s,
        socket,
        idle,
        ..
    } = connect(settings, password)?;
    if let Some(p) = &settings.processed_folder {
        // Already existing is fine; a real failure shows at the first move.
        let _ = s.create(p);
    }
    let limits = Limits {
        max_message_bytes: settings.max_message_bytes,
    };
    let mut mover = Mover::start(settings, password);
    while !stop.load(Ordering::SeqCst) {
        let mailbox = s
            .select(&settings.folder)
            .map_err(|e| format!("selecting {}: {e}", settings.folder))?;
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        if memory.uidvalidity != Some(uidvalidity) {
            // Renumbered (or first seen): every message is listed again; identities keep the
            // ones recorded before from becoming second interactions.
            *memory = FolderMemory {
                uidvalidity: Some(uidvalidity),
                ..FolderMemory::default()
            };
            save_memory(engine, settings, memory);
        }
        let uids: Vec<u32> = s
            .uid_search(memory.search())
            .map_err(|e| format!("listing {}: {e}", settings.folder))?
            .into_iter()
            .filter(|u| *u > memory.mark)
            .collect();
        // The listing covers whatever was announced before it.
        s.take_all_unsolicited().for_each(drop);
        let p = plan(memory, uidvalidity, &uids, settings.batch);
        // Forget UIDs that left the folder (moved): the memory stays as small as the folder.
        let present: std::collections::HashSet<u32> = uids.iter().copied().collect();
        memory.done.retain(|u| present.contains(u));
        memory.failures.retain(|u, _| present.contains(u));
        // A pipeline: while one batch's appends are on their way to disk, the next batch is
        // fetched, parsed and its content stored; then the first is awaited and handed to the
        // mover, whose own connection moves it while this one fetches the next.
        let mut in_flight: Option<InFlight<'_>> = None;
        // New mail announced while the pass runs (with the fetches' answers): the next pass
        // starts at once instead of after the poll interval (IDLE would not announce it again).
        let mut mail_arrived = false;
        for batch in p.batches {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let fetched = s
                .uid_fetch(uid_set(&batch), "(UID BODY.PEEK[])")
                .map_err(|e| format!("fetching: {e}"))?;
            let items: Vec<(u32, &[u8])> = fetched
                .iter()
                .filter_map(|f| Some((f.uid?, f.body()?)))
                .collect();
            let prepared = prepare_all(settings, &limits, &items, uidvalidity, &memory.failures);
            drop(items);
            drop(fetched);
            // The mover's expunges show here as notices: nothing to do with them but let go.
            mail_arrived |= new_mail_noticed(&mut s);
            // Handed to the log before the previous batch is awaited, so that the log's
            // committer always has the next batch waiting. The previous batch's messages are
            // passed along: an answer fetched right after the message it answers finds its thread
            // although that one may not be projected yet.
            let no_earlier = Earlier::new();
            let before = in_flight.as_ref().map_or(&no_earlier, |f| &f.messages);
            let next = submit(engine, settings, prepared, before);
            if let Some(previous) = in_flight.take() {
                let stored = finish(
                    previous,
                    engine,
                    rt,
                    settings,
                    &mut memory.failures,
                    statuses,
                );
                mover.hand_over(uidvalidity, stored, memory, statuses)?;
            }
            in_flight = Some(next);
        }
        if let Some(last) = in_flight.take() {
            let stored = finish(last, engine, rt, settings, &mut memory.failures, statuses);
            mover.hand_over(uidvalidity, stored, memory, statuses)?;
        }
        mover.settle(memory, statuses)?;
        if !stop.load(Ordering::SeqCst) && memory.advance(&uids) {
            save_memory(engine, settings, memory);
        }
        set_status(statuses, &settings.name, |st| {
            st.state = "ok";
            st.last_error = None;
            st.last_pass = Some(Instant::now());
        });
        let poll = Duration::from_secs_f64(settings.poll_interval_secs);
        // Only after a pass that had work: a server that announces EXISTS with every answer
        // must not turn this into passes without pause.
        if (mail_arrived || new_mail_noticed(&mut s)) && !uids.is_empty() {
            continue;
        }
        if settings.idle && idle {
            // The first UID this pass did not see: mail at or after it is new.
            let unseen = mailbox
                .uid_next
                .unwrap_or(0)
                .max(uids.iter().max().map_or(0, |u| u.saturating_add(1)));
            wait_for_mail(&mut s, &socket, stop, poll, unseen)?;
        } else {
            pause(stop, poll);
            s.noop().map_err(|e| format!("keep-alive: {e}"))?;
        }
    }
    let _ = s.logout();
    Ok(())
}

/// After this many failed attempts a message is recorded raw and flagged instead.
const FALLBACK_AFTER: u32 = 3;

/// A fetched message, parsed, with its content stored: ready to record.
struct Prepared {
    /// Its identity and sender: what its interaction id derives from.
    key: String,
    from: EmailAddress,
    from_name: Option<String>,
    subject: String,
    message: MessageStored,
    /// The raw message, bodies and attachments, by hash, to write with the append.
    content: crate::events::Content,
    report: Option<crate::mail::DeliveryReport>,
    malformed: bool,
}

type Recording<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<u64>, String>> + 'a>>;

/// How a message is recorded: already under way (a delivery report, through its reply's actor),
/// or an append for the batch to hand to the log with the others, and what reads its answer.
enum Record<'a> {
    Ready(Recording<'a>),
    Append {
        request: crate::events::AppendRequest,
        content: crate::events::Content,
        answer: Box<dyn FnOnce(crate::events::PendingAppend) -> Recording<'a> + 'a>,
    },
}

/// A batch whose appends are on their way to disk.
struct InFlight<'a> {
    recordings: Vec<(u32, Recording<'a>)>,
    failed: Vec<(u32, String)>,
    /// Its messages by Message-ID, for threading the next batch's before these are projected.
    messages: Earlier,
}

/// Parses the batch on a few threads (pure CPU: the content is written later, by the log's
/// committer, with the appends).
fn prepare_all(
    settings: &MailboxSettings,
    limits: &Limits,
    items: &[(u32, &[u8])],
    uidvalidity: u32,
    failures: &HashMap<u32, u32>,
) -> Vec<(u32, Result<Prepared, String>)> {
    let one = |(uid, raw): &(u32, &[u8])| {
        let source = MailSource {
            mailbox: settings.name.clone(),
            folder: settings.folder.clone(),
            uidvalidity,
            uid: *uid,
        };
        let attempt = failures.get(uid).copied().unwrap_or(0);
        (*uid, prepare(limits, raw, source, attempt))
    };
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    if workers == 1 || items.len() < 16 {
        return items.iter().map(one).collect();
    }
    let chunk = items.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .filter_map(|part| {
                std::thread::Builder::new()
                    .name(format!("imap-parse-{}", settings.name))
                    .spawn_scoped(scope, move || part.iter().map(one).collect::<Vec<_>>())
                    .ok()
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                // A worker that died leaves its messages in the folder for the next pass.
                h.join().unwrap_or_else(|_| {
                    tracing::error!("an ingest worker failed; its messages are fetched again");
                    Vec::new()
                })
            })
            .collect()
    })
}

/// Parses one message and collects its raw bytes, bodies and attachments by hash.
fn prepare(
    limits: &Limits,
    raw: &[u8],
    source: MailSource,
    attempt: u32,
) -> Result<Prepared, String> {
    // A parser panic on some input must cost one message its parse, not the mailbox its thread.
    let mut parsed = std::panic::catch_unwind(|| parse(raw, limits)).unwrap_or_else(|_| {
        crate::mail::mime::unreadable(raw, "the parser failed on this message")
    });
    if attempt >= FALLBACK_AFTER {
        // Tried and failed before: keep it as raw bytes and a flag, which always fits.
        parsed = crate::mail::mime::unreadable(
            raw,
            &format!("recording failed {attempt} times; stored raw only"),
        );
    }
    let collected = Collected::default();
    let message = store_content(&collected, raw, &parsed);
    let mut message = MessageStored {
        source: Some(source),
        ..message
    };
    // A sender we cannot read is still a message: kept, flagged, answered by nobody, and its own
    // unknown contact (crate::mail::sender).
    let sender = crate::mail::sender::sender_of(&parsed);
    message.problems.extend(sender.problem);
    let from = sender.address;
    fit(&mut message);
    Ok(Prepared {
        key: format!("{}\0{}", parsed.identity, from.normalised()),
        from_name: sender.name,
        subject: parsed.subject.chars().take(998).collect(),
        malformed: !message.problems.is_empty(),
        report: parsed.delivery_report.take(),
        from,
        message,
        content: collected.into_inner(),
    })
}

/// What the projections say about a prepared message: its id, the reply it reports on, its
/// thread.
struct Lookup {
    id: InteractionId,
    reply: Option<InteractionId>,
    thread: crate::domain::interaction::ThreadLink,
}

/// Hands each prepared message's append to the log (without waiting for it). The projections are
/// read once for the whole batch. `before` is the previous batch's messages, which may not be in
/// the projections yet (its appends may still be on their way to disk).
fn submit<'a>(
    engine: &'a Engine,
    settings: &'a MailboxSettings,
    prepared: Vec<(u32, Result<Prepared, String>)>,
    before: &Earlier,
) -> InFlight<'a> {
    type Looked = (u32, Result<(Prepared, Lookup), String>);
    let mut earlier = before.clone();
    let mut own: Earlier = HashMap::new();
    let looked: Vec<Looked> = engine.projections.read(|proj| {
        // The messages of this batch and the one before are not in the projections yet: an
        // answer to one of them (a customer's own follow-up) is matched against them.
        prepared
            .into_iter()
            .map(|(uid, p)| {
                let looked = p.map(|p| {
                    let l = look_up(engine, proj, &p, &earlier);
                    // A report is recorded on its reply, not as an interaction of its own.
                    if let Some(m) = p.message.message_id.as_ref().filter(|_| l.reply.is_none()) {
                        let entry = (l.id, l.thread.thread);
                        let m = normalise_message_id(m);
                        own.entry(m.clone()).or_insert(entry);
                        earlier.entry(m).or_insert(entry);
                    }
                    (p, l)
                });
                (uid, looked)
            })
            .collect()
    });
    let mut in_flight = InFlight {
        recordings: Vec::new(),
        failed: Vec::new(),
        messages: own,
    };
    // The batch's appends go to the log together: one group commit, not a first few that start
    // a flush of their own while the rest are still being built.
    let mut appends = Vec::new();
    let mut answers = Vec::new();
    for (uid, looked) in looked {
        match looked.and_then(|(p, l)| record(engine, settings, p, l)) {
            Ok(Record::Ready(r)) => in_flight.recordings.push((uid, r)),
            Ok(Record::Append {
                request,
                content,
                answer,
            }) => {
                appends.push((request, content));
                answers.push((uid, answer));
            }
            Err(e) => in_flight.failed.push((uid, e)),
        }
    }
    let mut pending = engine.storage.store.append_all(appends).into_iter();
    for (uid, answer) in answers {
        // A store answers each append; one it did not is tried again with the next pass.
        match pending.next() {
            Some(p) => in_flight.recordings.push((uid, answer(p))),
            None => in_flight
                .failed
                .push((uid, "the log did not answer this append".into())),
        }
    }
    in_flight
}

/// The batch's earlier messages by Message-ID: their interaction and thread.
type Earlier = HashMap<String, (InteractionId, InteractionId)>;

fn look_up(
    engine: &Engine,
    proj: &crate::projections::Projections,
    p: &Prepared,
    earlier: &Earlier,
) -> Lookup {
    let mut id: InteractionId = interaction_id_for(&p.key);
    // The same Message-ID and sender with other content (a fixed Message-ID, a resent draft) is
    // another message: it gets an interaction of its own, not silence. (Only an id the
    // projections know can hold something; the append's no-stream check covers the rest.)
    if proj.cache.contains(&id) {
        if let Some(stored) = stored_content(engine, id) {
            let ours = content_key(&p.message, |r| {
                p.content
                    .iter()
                    .find(|(h, _)| *h == r.0)
                    .map(|(_, b)| b.clone())
            });
            if stored != ours {
                id = interaction_id_for(&format!("{}\0{}", p.key, ours.digest()));
            }
        }
    }
    // A delivery report about one of our replies belongs to that reply.
    let reply = p
        .report
        .as_ref()
        .and_then(|r| r.original_message_id.as_deref())
        .and_then(|m| proj.reply_for_report(m));
    let referenced = referenced_ids(&p.message.in_reply_to, &p.message.references);
    let mut thread = proj.find_thread(id, &referenced, &p.subject, &p.from.normalised());
    if thread.matched_by == ThreadMatch::None && reply.is_none() {
        let in_batch = referenced
            .iter()
            .find_map(|m| earlier.get(m).map(|v| (m, *v)))
            .filter(|(_, (answers, _))| *answers != id);
        if let Some((m, (answers, root))) = in_batch {
            thread = ThreadLink {
                thread: root,
                matched_by: ThreadMatch::Header,
                reference: Some(m.clone()),
                answers: Some(answers),
            };
        }
    }
    Lookup { id, reply, thread }
}

/// Waits for a batch's appends and answers the UIDs now durable (to move or flag).
fn finish(
    batch: InFlight<'_>,
    engine: &Engine,
    rt: &tokio::runtime::Runtime,
    settings: &MailboxSettings,
    failures: &mut HashMap<u32, u32>,
    statuses: &Statuses,
) -> Vec<u32> {
    let (uids, recordings): (Vec<u32>, Vec<Recording<'_>>) = batch.recordings.into_iter().unzip();
    let results = rt.block_on(futures_util::future::join_all(recordings));
    let mut stored = Vec::new();
    let mut last_position = None;
    let failed = uids
        .into_iter()
        .zip(results)
        .filter_map(|(uid, r)| match r {
            Ok(position) => {
                last_position = last_position.max(position);
                stored.push(uid);
                None
            }
            Err(e) => Some((uid, e)),
        })
        .chain(batch.failed);
    // One message that cannot be recorded must not hold up the others: only the ones recorded
    // are moved; a failing one is tried again, and after a few tries recorded raw and flagged.
    for (uid, e) in failed {
        let n = failures.entry(uid).or_insert(0);
        *n += 1;
        tracing::warn!(mailbox = %settings.name, uid, attempt = *n, error = %e, "a message could not be recorded");
        set_status(statuses, &settings.name, |st| {
            st.last_error = Some(e.clone())
        });
    }
    for uid in &stored {
        failures.remove(uid);
    }
    if let Some(p) = last_position {
        rt.block_on(engine.projections.wait_for(p, Duration::from_secs(2)));
    }
    stored
}

type MoveResult = (Vec<u32>, Result<(), String>);

/// Moves (or flags) recorded messages on a connection of its own, so that the mail server's work
/// of moving one batch overlaps the fetching and parsing of the next. It is handed only UIDs whose
/// appends are durable; what it fails to move stays in the folder and is fetched again (and found
/// recorded, so moved, not duplicated).
struct Mover {
    jobs: Option<std::sync::mpsc::Sender<(u32, Vec<u32>)>>,
    results: std::sync::mpsc::Receiver<MoveResult>,
    outstanding: usize,
    /// The mailbox's name, for its status.
    name: String,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mover {
    fn start(settings: &MailboxSettings, password: &str) -> Mover {
        let (jobs, job_rx) = std::sync::mpsc::channel();
        let (result_tx, results) = std::sync::mpsc::channel();
        let (moved_settings, password) = (settings.clone(), password.to_string());
        let thread = std::thread::Builder::new()
            .name(format!("imap-move-{}", settings.name))
            .spawn(move || move_loop(&moved_settings, &password, job_rx, result_tx))
            .ok();
        Mover {
            jobs: Some(jobs),
            results,
            outstanding: 0,
            name: settings.name.clone(),
            thread,
        }
    }

    /// Hands over a batch (after the previous one is done: at most one is outstanding).
    fn hand_over(
        &mut self,
        uidvalidity: u32,
        uids: Vec<u32>,
        memory: &mut FolderMemory,
        statuses: &Statuses,
    ) -> Result<(), String> {
        if uids.is_empty() {
            return Ok(());
        }
        self.settle(memory, statuses)?;
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|j| j.send((uidvalidity, uids.clone())).is_ok());
        if !sent {
            return Err("the mover thread has stopped".into());
        }
        // Done only once moved (`settle`): a move that never reports back (the session ended)
        // leaves the messages to be fetched again, found recorded, and moved then.
        self.outstanding += 1;
        Ok(())
    }

    /// Waits for what is outstanding: a batch moved is done; one not moved is fetched again.
    fn settle(&mut self, memory: &mut FolderMemory, statuses: &Statuses) -> Result<(), String> {
        let mut first_error = None;
        while self.outstanding > 0 {
            self.outstanding -= 1;
            let Ok((uids, result)) = self.results.recv() else {
                return Err("the mover thread has stopped".into());
            };
            match result {
                Ok(()) => {
                    set_status(statuses, &self.name, |st| st.ingested += uids.len() as u64);
                    memory.done.extend(uids);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Mover {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn move_loop(
    settings: &MailboxSettings,
    password: &str,
    jobs: std::sync::mpsc::Receiver<(u32, Vec<u32>)>,
    results: std::sync::mpsc::Sender<MoveResult>,
) {
    let mut session: Option<(Conn, u32)> = None;
    for (uidvalidity, uids) in jobs {
        let r = move_batch(settings, password, &mut session, uidvalidity, &uids);
        if r.is_err() {
            if let Some((mut c, _)) = session.take() {
                let _ = c.session.logout();
            }
        }
        if results.send((uids, r)).is_err() {
            break;
        }
    }
    if let Some((mut c, _)) = session {
        let _ = c.session.logout();
    }
}

fn move_batch(
    settings: &MailboxSettings,
    password: &str,
    session: &mut Option<(Conn, u32)>,
    uidvalidity: u32,
    uids: &[u32],
) -> Result<(), String> {
    // A job numbered under another UIDVALIDITY than the folder was selected with: select again
    // (and compare) rather than move by numbers that now name other messages.
    if session.as_ref().is_some_and(|(_, v)| *v != uidvalidity) {
        if let Some((mut c, _)) = session.take() {
            let _ = c.session.logout();
        }
    }
    let conn = match session {
        // A selected session learns of messages that arrived after its SELECT only when it
        // syncs; a UID MOVE of a UID it does not know yet would silently move nothing.
        Some((c, _)) => {
            c.session.noop().map_err(|e| format!("keep-alive: {e}"))?;
            c
        }
        None => {
            let mut c = connect(settings, password)?;
            let mailbox = c
                .session
                .select(&settings.folder)
                .map_err(|e| format!("selecting {}: {e}", settings.folder))?;
            // UIDs mean nothing under another UIDVALIDITY: then nothing is moved, and the
            // messages are fetched again under the new one (and found recorded).
            if mailbox.uid_validity.unwrap_or(0) != uidvalidity {
                return Err(format!(
                    "{} changed its UIDVALIDITY; nothing moved",
                    settings.folder
                ));
            }
            &mut session.insert((c, uidvalidity)).0
        }
    };
    let set = uid_set(uids);
    let s = &mut conn.session;
    match &settings.processed_folder {
        Some(folder) if conn.moves => s
            .uid_mv(&set, folder)
            .map_err(|e| format!("moving to {folder}: {e}"))?,
        // A server without MOVE (RFC 6851): copy, mark deleted, expunge. With UIDPLUS only our
        // UIDs are expunged; without it EXPUNGE also removes what others marked \Deleted here.
        // A crash between the copy and the expunge leaves a second copy in the processed folder
        // (never a second interaction).
        Some(folder) => {
            s.uid_copy(&set, folder)
                .map_err(|e| format!("copying to {folder}: {e}"))?;
            s.uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                .map_err(|e| format!("flagging \\Deleted: {e}"))?;
            if conn.uidplus {
                s.uid_expunge(&set).map_err(|e| format!("expunging: {e}"))?;
            } else {
                s.expunge().map_err(|e| format!("expunging: {e}"))?;
            }
        }
        None => {
            s.uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                .map_err(|e| format!("flagging \\Seen: {e}"))?;
        }
    }
    s.take_all_unsolicited().for_each(drop);
    Ok(())
}

/// Starts recording one message: a delivery report about one of our replies on that reply;
/// anything else as a new interaction, received and queued in one append. The answer is
/// `Ok` also when the message was recorded before.
fn record<'a>(
    engine: &'a Engine,
    settings: &'a MailboxSettings,
    p: Prepared,
    lookup: Lookup,
) -> Result<Record<'a>, String> {
    let Prepared {
        key: _,
        from,
        from_name,
        subject,
        message,
        content,
        report,
        malformed,
    } = p;
    let Lookup { id, reply, thread } = lookup;
    let at = now();
    // A delivery report about one of our replies belongs to that reply, not in a queue as
    // customer mail. One about a message we do not know is kept as an interaction (flagged
    // automated) for a person to look at.
    if let (Some(reply), Some(report)) = (reply, report.clone()) {
        let command = InteractionCommand::RecordDeliveryReport {
            report: Box::new(DeliveryReported {
                identity: message.identity.clone(),
                action: report
                    .action
                    .map(|a| a.chars().take(40).collect())
                    .unwrap_or_else(|| "unknown".into()),
                status: report.status.map(|s| s.chars().take(40).collect()),
                recipient: report
                    .final_recipient
                    .map(|r| r.chars().take(300).collect()),
                raw: message.raw.clone(),
                source: message.source.clone(),
                at,
            }),
        };
        let envelope = CommandEnvelope::new(command, Principal::System("mail-ingest".into()));
        // The reply's actor appends without content: store the report's first (rare path).
        for (_, bytes) in &content {
            engine
                .storage
                .content
                .put(bytes)
                .map_err(|e| format!("storing content: {e}"))?;
        }
        return Ok(Record::Ready(Box::pin(async move {
            match engine.registry.execute(reply, envelope).await {
                Ok(o) => Ok(o.last_position),
                // Recorded before (fetched again after a crash before its move).
                Err(EngineError::Rejected(Rejection::AlreadyExists)) => Ok(None),
                Err(e) => Err(format!("recording a delivery report on reply {reply}: {e}")),
            }
        })));
    }
    // A report about a message we did not send (or backscatter) is not customer mail either.
    let queue = if report.is_some() {
        settings
            .bounce_queue
            .as_ref()
            .or(settings.malformed_queue.as_ref())
    } else if malformed {
        settings.malformed_queue.as_ref()
    } else {
        None
    }
    .and_then(|q| QueueName::parse(q).ok());
    let key = content_key(&message, |r| {
        content
            .iter()
            .find(|(h, _)| *h == r.0)
            .map(|(_, b)| b.clone())
    });
    let receive = CommandEnvelope::new(
        InteractionCommand::Receive {
            channel: Channel::Email,
            from: from.clone(),
            from_name,
            subject,
            content: message.text.clone(),
            priority: 0,
            message: Some(Box::new(message)),
            thread: Some(thread),
            at,
        },
        Principal::Customer(from.as_str().to_string()),
    );
    let request = engine
        .workflow
        .receive_and_queue(id, receive, queue, at)
        .map_err(|e| format!("recording interaction {id}: {e}"))?;
    let answer = move |pending: crate::events::PendingAppend| -> Recording<'a> {
        Box::pin(async move {
            match Workflow::received(pending).await {
                Ok(position) => Ok(Some(position)),
                // Recorded by an earlier pass (a crash before the move) or through another of our
                // mailboxes: exactly once. Unless what holds this id is other content that came in
                // the same batch: that one is tried again, and gets an id of its own.
                Err(EngineError::Rejected(Rejection::AlreadyExists)) => {
                    match stored_content(engine, id) {
                        Some(stored) if stored != key => Err(format!(
                            "interaction {id} holds another message with this Message-ID \
                             and sender; trying again"
                        )),
                        _ => Ok(None),
                    }
                }
                Err(e) => Err(format!("recording interaction {id}: {e}")),
            }
        })
    };
    Ok(Record::Append {
        request,
        content,
        answer: Box::new(answer),
    })
}

/// What makes two copies of a message the same message: its bodies and files, or, when nothing
/// could be read from it, its raw body. Never the raw bytes as a whole: the copies that reach two
/// of our mailboxes differ in their Delivered-To and Received lines.
#[derive(Debug, PartialEq, Eq)]
enum ContentKey {
    Parts {
        text: Option<crate::domain::ContentRef>,
        html: Option<crate::domain::ContentRef>,
        files: Vec<crate::domain::ContentRef>,
    },
    /// The SHA-256 of everything after the header section.
    Body([u8; 32]),
}

impl ContentKey {
    /// A short stable text of the key, for the id of a message that reuses another's Message-ID.
    fn digest(&self) -> String {
        let mut bytes = Vec::new();
        match self {
            ContentKey::Parts { text, html, files } => {
                for r in text.iter().chain(html.iter()).chain(files.iter()) {
                    bytes.extend_from_slice(&r.0);
                }
            }
            ContentKey::Body(h) => bytes.extend_from_slice(h),
        }
        crate::events::codec::sha256(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The message's body: what follows the first blank line (LF or CRLF).
fn body_of(raw: &[u8]) -> &[u8] {
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => &raw[a.min(b)..],
        (Some(a), None) | (None, Some(a)) => &raw[a..],
        (None, None) => &[],
    }
}

fn content_key(
    m: &MessageStored,
    raw_of: impl Fn(&crate::domain::ContentRef) -> Option<Vec<u8>>,
) -> ContentKey {
    if m.text.is_none() && m.html.is_none() && m.attachments.is_empty() {
        let raw = m.raw.as_ref().and_then(raw_of).unwrap_or_default();
        return ContentKey::Body(crate::events::codec::sha256(body_of(&raw)));
    }
    ContentKey::Parts {
        text: m.text.clone(),
        html: m.html.clone(),
        files: m.attachments.iter().map(|a| a.content.clone()).collect(),
    }
}

/// The content key an interaction was recorded with, if it exists.
fn stored_content(engine: &Engine, id: InteractionId) -> Option<ContentKey> {
    use crate::domain::interaction::InteractionEvent;
    use crate::events::{DomainEvent, EventStore};
    let events = engine.storage.store.read_stream(&id.stream(), 1).ok()?;
    events
        .iter()
        .find_map(|e| match DomainEvent::from_recorded(e) {
            Ok(DomainEvent::Interaction(InteractionEvent::MessageStored(m))) => {
                Some(content_key(&m, |r| {
                    engine.storage.content.get(r).ok().flatten()
                }))
            }
            _ => None,
        })
}

/// Cuts lists until the event's encoding fits well inside the log's payload limit, noting each
/// cut (everything cut is still in the raw message).
fn fit(m: &mut MessageStored) {
    let budget = crate::events::sled_store::MAX_PAYLOAD - 8 * 1024;
    let size = |m: &MessageStored| crate::events::codec::encode(m).len();
    let mut cuts = Vec::new();
    while size(m) > budget {
        if !m.cc.is_empty() {
            m.cc.clear();
            cuts.push("Cc addresses");
        } else if m.to.len() > 1 {
            m.to.truncate(1);
            cuts.push("To addresses");
        } else if m.references.len() > 1 {
            let last = m.references.pop();
            m.references = last.into_iter().collect();
            cuts.push("references");
        } else if !m.attachments.is_empty() {
            let keep = m.attachments.len() / 2;
            m.attachments.truncate(keep);
            cuts.push("attachment entries");
        } else if m.problems.len() > 1 {
            m.problems.truncate(1);
        } else {
            // Only single fields are left, each capped far below the budget.
            break;
        }
    }
    cuts.dedup();
    for c in cuts {
        m.problems.push(format!(
            "{c} cut to fit the log (all are in the raw message)"
        ));
    }
}

/// Bounds on what one `MessageStored` lists, so that no message, however it is built, can exceed
/// the log's payload limit (which would fail its batch on every pass). What is cut stays in the
/// raw message, and the cut is noted among the problems.
const MAX_ADDRESSES: usize = 200;
const MAX_REFERENCES: usize = 100;
const MAX_ATTACHMENTS: usize = 200;
const MAX_PROBLEMS: usize = 20;
const MAX_ID_CHARS: usize = 300;

fn bounded(
    items: &[String],
    max: usize,
    keep_last: bool,
    what: &str,
    problems: &mut Vec<String>,
) -> Vec<String> {
    let cut: Vec<String> = items
        .iter()
        .map(|s| s.chars().take(MAX_ID_CHARS).collect())
        .collect();
    if cut.len() <= max {
        return cut;
    }
    problems.push(format!(
        "{} {what} listed; only {max} kept (all are in the raw message)",
        cut.len()
    ));
    if keep_last {
        cut[cut.len() - max..].to_vec()
    } else {
        cut[..max].to_vec()
    }
}

/// Puts the raw message, its bodies and its attachments in the content store.
fn store_content(content: &Collected, raw: &[u8], p: &ParsedMessage) -> MessageStored {
    let put_text = |t: &str| -> Option<crate::domain::ContentRef> {
        (!t.is_empty()).then(|| content.put(t.as_bytes()))
    };
    let mut problems: Vec<String> = p.problems.iter().take(MAX_PROBLEMS).cloned().collect();
    // The newest references matter for threading: keep the end of the chain.
    let references = bounded(
        &p.references,
        MAX_REFERENCES,
        true,
        "references",
        &mut problems,
    );
    let in_reply_to = bounded(
        &p.in_reply_to,
        MAX_REFERENCES,
        true,
        "in-reply-to ids",
        &mut problems,
    );
    let addresses =
        |list: &[crate::mail::Mailbox]| list.iter().map(|m| m.address.clone()).collect::<Vec<_>>();
    let to = bounded(
        &addresses(&p.to),
        MAX_ADDRESSES,
        false,
        "To addresses",
        &mut problems,
    );
    let cc = bounded(
        &addresses(&p.cc),
        MAX_ADDRESSES,
        false,
        "Cc addresses",
        &mut problems,
    );
    if p.attachments.len() > MAX_ATTACHMENTS {
        problems.push(format!(
            "{} attachments; only {MAX_ATTACHMENTS} listed (all are in the raw message)",
            p.attachments.len()
        ));
    }
    let mut attachments = Vec::new();
    for a in p.attachments.iter().take(MAX_ATTACHMENTS) {
        attachments.push(StoredAttachment {
            name: a.name.clone(),
            content_type: a.content_type.chars().take(100).collect(),
            content_id: a
                .content_id
                .as_ref()
                .map(|c| c.chars().take(MAX_ID_CHARS).collect()),
            inline: a.inline,
            size: a.bytes.len() as u64,
            content: content.put(&a.bytes),
        });
    }
    MessageStored {
        identity: p.identity.chars().take(MAX_ID_CHARS).collect(),
        message_id: p
            .message_id
            .as_ref()
            .map(|m| m.chars().take(MAX_ID_CHARS).collect()),
        in_reply_to,
        references,
        to,
        cc,
        raw: Some(content.put(raw)),
        text: put_text(&p.text),
        html: p.html.as_deref().and_then(put_text),
        html_sanitized: p.html_sanitized.as_deref().and_then(put_text),
        attachments,
        size: p.size as u64,
        problems,
        automated: p.automated,
        source: None,
        at: now(),
    }
}

/// Content collected for one message's append: the log's committer writes it in the same flush
/// as the events that refer to it.
#[derive(Default)]
struct Collected(std::cell::RefCell<crate::events::Content>);

impl Collected {
    fn put(&self, bytes: &[u8]) -> crate::domain::ContentRef {
        let hash = crate::events::codec::sha256(bytes);
        let mut items = self.0.borrow_mut();
        if !items.iter().any(|(h, _)| *h == hash) {
            items.push((hash, bytes.to_vec()));
        }
        crate::domain::ContentRef(hash)
    }

    fn into_inner(self) -> crate::events::Content {
        self.0.into_inner()
    }
}
