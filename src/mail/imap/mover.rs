//! The mover: moves (or flags) recorded messages on a connection of its own, so that the mail
//! server's work of moving one batch overlaps the fetching and parsing of the next.

use super::connection::{connect, Conn};
use super::copy;
use super::error::{ImapError, ImapResult};
use super::status::{set_status, Statuses};
use crate::mail::ingest_plan::{uid_set, FolderMemory};
use crate::settings::MailboxSettings;

fn stopped() -> ImapError {
    ImapError::transient("moving", "the mover thread has stopped")
}

type MoveResult = (Vec<u32>, ImapResult<()>);

/// Moves (or flags) recorded messages on a connection of its own, so that the mail server's work
/// of moving one batch overlaps the fetching and parsing of the next. It is handed only UIDs whose
/// appends are durable; what it fails to move stays in the folder and is fetched again (and found
/// recorded, so moved, not duplicated).
pub(super) struct Mover {
    jobs: Option<std::sync::mpsc::Sender<(u32, Vec<u32>)>>,
    results: std::sync::mpsc::Receiver<MoveResult>,
    outstanding: usize,
    /// The mailbox's name, for its status.
    name: String,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mover {
    pub(super) fn start(settings: &MailboxSettings, password: &str) -> Mover {
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
    pub(super) fn hand_over(
        &mut self,
        uidvalidity: u32,
        uids: Vec<u32>,
        memory: &mut FolderMemory,
        statuses: &Statuses,
    ) -> ImapResult<()> {
        if uids.is_empty() {
            return Ok(());
        }
        self.settle(memory, statuses)?;
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|j| j.send((uidvalidity, uids.clone())).is_ok());
        if !sent {
            return Err(stopped());
        }
        // Done only once moved (`settle`): a move that never reports back (the session ended)
        // leaves the messages to be fetched again, found recorded, and moved then.
        self.outstanding += 1;
        Ok(())
    }

    /// Waits for what is outstanding: a batch moved is done; one not moved is fetched again.
    pub(super) fn settle(
        &mut self,
        memory: &mut FolderMemory,
        statuses: &Statuses,
    ) -> ImapResult<()> {
        let mut first_error = None;
        while self.outstanding > 0 {
            self.outstanding -= 1;
            let Ok((uids, result)) = self.results.recv() else {
                return Err(stopped());
            };
            match result {
                Ok(()) => {
                    metrics::counter!(crate::metrics::MESSAGES_INGESTED, "mailbox" => self.name.clone())
                        .increment(uids.len() as u64);
                    set_status(statuses, &self.name, |st| {
                        st.ingested += uids.len() as u64;
                        st.cannot_move = None;
                    });
                    memory.done.extend(uids);
                }
                Err(e) => {
                    // A refused move (not a dropped connection) needs a person: not ready.
                    if e.is_permanent() {
                        set_status(statuses, &self.name, |st| {
                            st.cannot_move = Some(e.to_string())
                        });
                    }
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
    let mut session: Option<Moving> = None;
    for (uidvalidity, uids) in jobs {
        let r = move_batch(settings, password, &mut session, uidvalidity, &uids);
        if r.is_err() {
            if let Some(mut m) = session.take() {
                let _ = m.conn.session.logout();
            }
        }
        if results.send((uids, r)).is_err() {
            break;
        }
    }
    if let Some(mut m) = session {
        let _ = m.conn.session.logout();
    }
}

/// The mover's connection, with the source folder selected.
struct Moving {
    conn: Conn,
    /// The UIDVALIDITY the folder was selected with.
    uidvalidity: u32,
    /// The folder lets us set keywords (for copying once without MOVE).
    keywords: bool,
}

fn move_batch(
    settings: &MailboxSettings,
    password: &str,
    session: &mut Option<Moving>,
    uidvalidity: u32,
    uids: &[u32],
) -> ImapResult<()> {
    // A job numbered under another UIDVALIDITY than the folder was selected with: select again
    // (and compare) rather than move by numbers that now name other messages.
    if session
        .as_ref()
        .is_some_and(|m| m.uidvalidity != uidvalidity)
    {
        if let Some(mut m) = session.take() {
            let _ = m.conn.session.logout();
        }
    }
    let moving = match session {
        // A selected session learns of messages that arrived after its SELECT only when it
        // syncs; a UID MOVE of a UID it does not know yet would silently move nothing.
        Some(m) => {
            m.conn
                .session
                .noop()
                .map_err(|e| ImapError::imap("keep-alive", e))?;
            m
        }
        None => {
            let mut c = connect(settings, password)?;
            let mailbox = c
                .session
                .select(&settings.folder)
                .map_err(|e| ImapError::imap(format!("selecting {}", settings.folder), e))?;
            // UIDs mean nothing under another UIDVALIDITY: then nothing is moved, and the
            // messages are fetched again under the new one (and found recorded).
            if mailbox.uid_validity.unwrap_or(0) != uidvalidity {
                return Err(ImapError::transient(
                    format!("moving from {}", settings.folder),
                    "its UIDVALIDITY changed; nothing moved",
                ));
            }
            let keywords = copy::keywords_allowed(&mailbox);
            session.insert(Moving {
                conn: c,
                uidvalidity,
                keywords,
            })
        }
    };
    let (conn, keywords) = (&mut moving.conn, moving.keywords);
    let set = uid_set(uids);
    let s = &mut conn.session;
    match &settings.processed_folder {
        Some(folder) if conn.moves => s
            .uid_mv(&set, folder)
            .map_err(|e| ImapError::imap(format!("moving to {folder}"), e))?,
        // A server without MOVE (RFC 6851): copy (once, even across a crash: `copy`), mark
        // deleted, expunge. With UIDPLUS only our UIDs are expunged; without it EXPUNGE also
        // removes what others marked \Deleted here.
        Some(folder) => {
            copy::copy_once(s, &settings.folder, folder, uidvalidity, uids, keywords)?;
            if conn.uidplus {
                s.uid_expunge(&set)
                    .map_err(|e| ImapError::imap("expunging", e))?;
            } else {
                s.expunge().map_err(|e| ImapError::imap("expunging", e))?;
            }
        }
        None => {
            s.uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                .map_err(|e| ImapError::imap("flagging \\Seen", e))?;
        }
    }
    s.take_all_unsolicited().for_each(drop);
    Ok(())
}
