//! Reloading the business process (`POST /api/v1/admin/config/reload`, SIGHUP): the
//! configuration file is read again and validated whole; the process (its steps, the screening
//! rules, the classifier, the acknowledgement and the answer budget) is rebuilt and swapped in at
//! once. A message being analysed finishes with the version it started with (it holds it), and
//! an answer planned under a replaced version is composed with that version's text; every run
//! records the version that ran. A file with any error is refused with the reason, and the
//! version in force stays.
//!
//! Other settings (listen address, data folder, mailboxes, `[smtp]`, the set of queues) take
//! effect at the next start.

use super::process::{Corrections, Process, ProcessHandle};
use crate::settings::Settings;
use std::path::PathBuf;

/// What a reload put in force.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Reloaded {
    /// The process version now in force (recorded with every run).
    pub version: String,
    /// The version it replaced.
    pub previous: String,
    /// The file read (none: the defaults).
    pub file: Option<String>,
}

/// Reloads from the file the server started with. Cheap to clone.
#[derive(Clone)]
pub struct Reloader {
    pub source: Option<PathBuf>,
    pub process: ProcessHandle,
    /// The queues in force (from the start: a new queue needs a restart, so the process may
    /// only use these).
    pub queues: Vec<crate::domain::QueueName>,
    /// Whether a mail server is in force (from the start).
    pub sending: bool,
    /// Where the version put in force is recorded.
    pub log: std::sync::Arc<dyn crate::events::EventStore>,
    /// Where people's category corrections are read (the classifier keeps learning from them).
    pub projections: std::sync::Arc<crate::projections::ProjectionRunner>,
    pub content: std::sync::Arc<dyn crate::storage::ContentStore>,
    /// One reload at a time (an HTTP reload and a SIGHUP never interleave).
    pub running: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Reloader {
    /// Reads, checks, records and swaps; on any error nothing changes.
    pub async fn reload(&self) -> Result<Reloaded, String> {
        let _one = self.running.lock().await;
        // Training a classifier is CPU work: off the server's threads.
        let this = self.clone();
        let process = tokio::task::spawn_blocking(move || this.build())
            .await
            .map_err(|e| format!("the reload did not finish: {e}"))??;
        let version = process.version().to_string();
        let previous = self
            .process
            .activate(self.log.as_ref(), process, self.source.as_deref(), "reload")
            .await?
            .version()
            .to_string();
        tracing::info!(%version, %previous, "configuration reloaded");
        Ok(Reloaded {
            version,
            previous,
            file: self.source.as_ref().map(|p| p.display().to_string()),
        })
    }

    /// The process the configuration file now describes, checked whole.
    fn build(&self) -> Result<Process, String> {
        let settings =
            Settings::load(self.source.as_deref(), std::env::vars()).map_err(|e| e.to_string())?;
        if let Some(q) = settings
            .queue_names()
            .into_iter()
            .find(|q| !self.queues.contains(q))
        {
            return Err(format!(
                "workflow: the queue {q:?} is new; a new queue needs a restart (the queues in \
                 force are {})",
                self.queues
                    .iter()
                    .map(|q| q.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let corrections =
            Corrections::for_settings(&settings, &self.projections, self.content.as_ref());
        Process::from_settings(&settings, self.sending, &corrections)
    }
}
