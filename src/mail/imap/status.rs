//! What each mailbox's ingest is doing, for readiness: its state, its last error (and whether
//! that error needs a person), whether it can move what it records, its last pass and its counts.
//! A mailbox whose last error is permanent, or that cannot move, is not ready.

use super::error::{ImapError, Persistence};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What `/readyz` shows of a mailbox.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MailboxStatus {
    /// connecting, ok, error.
    pub state: &'static str,
    pub last_error: Option<String>,
    /// Whether the last error is transient (retried) or permanent (needs a person).
    pub last_error_kind: Option<Persistence>,
    /// Seconds since the last pass that completed.
    pub last_pass_ago_secs: Option<u64>,
    pub ingested: u64,
    pub reconnects: u64,
    /// The processed folder as the server names it (resolved through its namespace).
    pub processed_folder: Option<String>,
    /// Why recorded messages cannot be moved (the processed folder cannot be created, or a move
    /// was refused); cleared by the next batch moved.
    pub cannot_move: Option<String>,
    /// False when the last error is permanent or the mailbox cannot move (computed by
    /// `snapshot`).
    pub ready: bool,
    /// Why the mailbox is not ready.
    pub not_ready_reason: Option<String>,
    #[serde(skip)]
    last_pass: Option<Instant>,
}

/// The statuses of all mailboxes, shared with the HTTP layer.
pub type Statuses = Arc<Mutex<HashMap<String, MailboxStatus>>>;

impl MailboxStatus {
    /// Why this mailbox is not ready: it cannot move, or its last error needs a person.
    fn not_ready(&self) -> Option<String> {
        if let Some(why) = &self.cannot_move {
            return Some(format!("cannot move recorded messages: {why}"));
        }
        if self.last_error_kind == Some(Persistence::Permanent) {
            let error = self.last_error.as_deref().unwrap_or("unknown");
            return Some(format!("permanent error: {error}"));
        }
        None
    }
}

/// The statuses with their ages and readiness computed now.
pub fn snapshot(statuses: &Statuses) -> HashMap<String, MailboxStatus> {
    let mut out = statuses.lock().map(|s| s.clone()).unwrap_or_default();
    for s in out.values_mut() {
        s.last_pass_ago_secs = s.last_pass.map(|t| t.elapsed().as_secs());
        s.not_ready_reason = s.not_ready();
        s.ready = s.not_ready_reason.is_none();
    }
    out
}

pub fn set_status(statuses: &Statuses, name: &str, f: impl FnOnce(&mut MailboxStatus)) {
    if let Ok(mut map) = statuses.lock() {
        f(map.entry(name.to_string()).or_default());
    }
}

/// Records a failed session: the error and whether it needs a person.
pub fn set_failed(statuses: &Statuses, name: &str, e: &ImapError) {
    set_status(statuses, name, |s| {
        s.state = "error";
        s.last_error = Some(e.to_string());
        s.last_error_kind = Some(e.persistence);
        s.reconnects += 1;
    });
}

/// Records a completed pass.
pub fn set_ok(statuses: &Statuses, name: &str) {
    set_status(statuses, name, |s| {
        s.state = "ok";
        s.last_error = None;
        s.last_error_kind = None;
        s.last_pass = Some(Instant::now());
    });
}
