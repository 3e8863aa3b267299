//! One mailbox's IMAP session loop: connect, resolve (and create) the processed folder, select,
//! list what is not done, fetch it in batches through the pipeline, hand what is durable to the
//! mover, then wait for new mail (IDLE where offered, else a poll) and start over. Failures
//! reconnect with backoff.

use super::connection::{connect, restore_timeouts, Conn, Session};
use super::error::{ImapError, ImapResult};
use super::folders;
use super::handles::IngestHandles;
use super::mover::Mover;
use super::pipeline::{self, Earlier, InFlight};
use super::status::{set_failed, set_ok, set_status};
use crate::mail::ingest_plan::{plan, uid_set, FolderMemory};
use crate::mail::Limits;
use crate::settings::MailboxSettings;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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

/// How long one IDLE lasts at most before it is ended for one check for mail whose announcement
/// was lost (then renewed): the longest such mail waits. IDLE itself reports new mail at once.
const CHECK_EVERY: Duration = Duration::from_secs(10);

/// How often a stop request is looked for while IDLE is open.
const STOP_CHECK: Duration = Duration::from_millis(100);

/// Why one IDLE ended.
enum Idled {
    /// The server announced new mail.
    Announced,
    /// Its time ran out (or the server said something else after it did).
    Elapsed,
    /// A stop was asked for: the connection was shut down to end the wait.
    Stopped,
}

/// One IDLE (RFC 2177), kept open until the server announces new mail, `deadline` passes or a
/// stop is asked for; then DONE. The crate's wait blocks in a read: a small watcher thread ends it
/// early on a stop by shutting the connection down (nothing else is left to say on it then).
fn idle_until(
    s: &mut Session,
    socket: &std::net::TcpStream,
    stop: &AtomicBool,
    deadline: Instant,
) -> ImapResult<Idled> {
    use imap::extensions::idle::WaitOutcome;
    use imap::types::UnsolicitedResponse;
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !finished.load(Ordering::SeqCst) {
                if stop.load(Ordering::SeqCst) {
                    let _ = socket.shutdown(std::net::Shutdown::Both);
                    return;
                }
                std::thread::sleep(STOP_CHECK);
            }
        });
        let mut announced = false;
        let outcome = {
            let mut handle = s.idle();
            // The read timeout ends a silent wait; the callback ends a chatty one (flag changes,
            // expunges) at the deadline.
            let left = deadline.saturating_duration_since(Instant::now());
            handle
                .timeout(left.max(Duration::from_millis(10)))
                .keepalive(false);
            let outcome = handle.wait_while(|r| {
                if matches!(
                    r,
                    UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
                ) {
                    announced = true;
                    return false;
                }
                Instant::now() < deadline
            });
            // The crate clears the read timeout after waiting; put it back before the handle's
            // DONE is answered, so a dead server cannot hold this thread.
            restore_timeouts(socket);
            outcome
            // The handle is dropped here: DONE, and its answer read.
        };
        finished.store(true, Ordering::SeqCst);
        if stop.load(Ordering::SeqCst) {
            return Ok(Idled::Stopped);
        }
        match outcome {
            Ok(WaitOutcome::MailboxChanged) if announced => Ok(Idled::Announced),
            Ok(_) => Ok(Idled::Elapsed),
            Err(e) => Err(ImapError::imap("IDLE", e)),
        }
    })
}

/// Waits with IDLE until new mail arrives, `poll` passes, or a stop is asked for. One IDLE stays
/// open for up to `CHECK_EVERY` (well under RFC 2177's 29 minutes); new mail the server
/// announces ends it at once, and a stop within `STOP_CHECK`.
///
/// What the server announces while an IDLE's DONE is answered, the crate drops. So when an IDLE
/// ends by time, one `UID SEARCH` from `unseen` (the first UID the last pass did not see; 0:
/// unknown) asks whether such mail came: an idle mailbox costs two commands every
/// `CHECK_EVERY` (IDLE and that search), and a lost announcement waits at most that long.
fn wait_for_mail(
    s: &mut Session,
    socket: &std::net::TcpStream,
    stop: &AtomicBool,
    poll: Duration,
    unseen: u32,
) -> ImapResult<()> {
    let until = Instant::now() + poll;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= until {
            break;
        }
        // Announced outside IDLE and kept by the session: do not wait for it again.
        if new_mail_noticed(s) {
            break;
        }
        let deadline = now + (until - now).min(CHECK_EVERY);
        match idle_until(s, socket, stop, deadline)? {
            Idled::Announced | Idled::Stopped => break,
            Idled::Elapsed => {}
        }
        // At the poll the next pass lists the folder anyway.
        if Instant::now() >= until {
            break;
        }
        // `n:*` also names the highest UID when it is below n: only UIDs from `unseen` count.
        if unseen > 0 {
            let found = s
                .uid_search(format!("UID {unseen}:*"))
                .map_err(|e| ImapError::imap("checking for new mail", e))?;
            if found.iter().any(|u| *u >= unseen) {
                break;
            }
        }
    }
    Ok(())
}

/// Sleeps in small steps so a stop request is noticed quickly.
pub(super) fn pause(stop: &AtomicBool, d: Duration) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
}

/// One mailbox's thread: sessions, reconnected with backoff, until a stop.
pub(super) fn run(
    handles: &IngestHandles,
    settings: MailboxSettings,
    password: String,
    stop: &AtomicBool,
) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let statuses = &handles.statuses;
    let mut memory = load_memory(&handles.marks, &settings).unwrap_or_default();
    let first_backoff = Duration::from_millis(500);
    let mut backoff = first_backoff;
    set_status(statuses, &settings.name, |s| s.state = "connecting");
    while !stop.load(Ordering::SeqCst) {
        match session(handles, &rt, &settings, &password, &mut memory, stop) {
            Ok(()) => backoff = first_backoff,
            Err(e) => {
                tracing::warn!(mailbox = %settings.name, error = %e, permanent = e.is_permanent(), retry_in_ms = backoff.as_millis() as u64, "IMAP ingest failed; reconnecting");
                set_failed(statuses, &settings.name, &e);
                pause(stop, backoff);
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

/// Each folder's memory (UIDVALIDITY and mark) is kept beside the log, by mailbox and folder. It
/// is a cursor, not a record: losing its last update only means listing a little more.
fn mark_key(settings: &MailboxSettings) -> Vec<u8> {
    format!("{}\0{}", settings.name, settings.folder).into_bytes()
}

fn load_memory(marks: &sled::Tree, settings: &MailboxSettings) -> Option<FolderMemory> {
    let bytes = marks.get(mark_key(settings)).ok()??;
    FolderMemory::decode(&bytes)
}

fn save_memory(marks: &sled::Tree, settings: &MailboxSettings, memory: &FolderMemory) {
    let saved = marks.insert(mark_key(settings), &memory.encode()[..]);
    if saved.is_err() {
        tracing::warn!(mailbox = %settings.name, "could not save the folder's mark; it is listed whole after a restart");
    }
}

/// One connection: passes until an error or a stop.
fn session(
    handles: &IngestHandles,
    rt: &tokio::runtime::Runtime,
    settings: &MailboxSettings,
    password: &str,
    memory: &mut FolderMemory,
    stop: &AtomicBool,
) -> ImapResult<()> {
    let statuses = &handles.statuses;
    let Conn {
        session: mut s,
        socket,
        idle,
        namespace,
        ..
    } = connect(settings, password)?;
    // The mover works with the processed folder as the server names it.
    let mut moving = settings.clone();
    if let Some(configured) = &settings.processed_folder {
        match folders::prepare_processed(&mut s, namespace, configured) {
            Ok(name) => {
                set_status(statuses, &settings.name, |st| {
                    st.processed_folder = Some(name.clone());
                    st.cannot_move = None;
                });
                moving.processed_folder = Some(name);
            }
            Err(e) => {
                // Nothing could be moved: not ready, with the reason, until it can be created.
                set_status(statuses, &settings.name, |st| {
                    st.cannot_move = Some(e.to_string())
                });
                let _ = s.logout();
                return Err(e);
            }
        }
    }
    let limits = Limits {
        max_message_bytes: settings.max_message_bytes,
    };
    let mut mover = Mover::start(&moving, password);
    while !stop.load(Ordering::SeqCst) {
        let mailbox = s
            .select(&settings.folder)
            .map_err(|e| ImapError::imap(format!("selecting {}", settings.folder), e))?;
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        if memory.uidvalidity != Some(uidvalidity) {
            // Renumbered (or first seen): every message is listed again; identities keep the
            // ones recorded before from becoming second interactions.
            *memory = FolderMemory {
                uidvalidity: Some(uidvalidity),
                ..FolderMemory::default()
            };
            save_memory(&handles.marks, settings, memory);
        }
        let uids: Vec<u32> = s
            .uid_search(memory.search())
            .map_err(|e| ImapError::imap(format!("listing {}", settings.folder), e))?
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
                .map_err(|e| ImapError::imap("fetching", e))?;
            let items: Vec<(u32, &[u8])> = fetched
                .iter()
                .filter_map(|f| Some((f.uid?, f.body()?)))
                .collect();
            // One process version analyses and runs on the whole batch.
            let process = handles.receiver.process();
            let prepared = pipeline::prepare_all(
                settings,
                &limits,
                &items,
                uidvalidity,
                &memory.failures,
                &process.analyzer,
            );
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
            let next = pipeline::submit(handles, settings, prepared, before, &process);
            if let Some(previous) = in_flight.take() {
                let stored =
                    pipeline::finish(previous, handles, rt, settings, &mut memory.failures);
                mover.hand_over(uidvalidity, stored, memory, statuses)?;
            }
            in_flight = Some(next);
        }
        if let Some(last) = in_flight.take() {
            let stored = pipeline::finish(last, handles, rt, settings, &mut memory.failures);
            mover.hand_over(uidvalidity, stored, memory, statuses)?;
        }
        mover.settle(memory, statuses)?;
        if !stop.load(Ordering::SeqCst) && memory.advance(&uids) {
            save_memory(&handles.marks, settings, memory);
        }
        set_ok(statuses, &settings.name);
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
            s.noop().map_err(|e| ImapError::imap("keep-alive", e))?;
        }
    }
    let _ = s.logout();
    Ok(())
}
