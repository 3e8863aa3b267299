//! Reloading the workflow's configuration (`POST /api/v1/admin/config/reload`, SIGHUP): the
//! configuration file is read again and validated whole; the screening rules and the classifier
//! are rebuilt and swapped in at once. A message being analysed finishes with the version it
//! started with (it holds it); every screening records the version that ran. A file with any
//! error is refused with the reason, and the version in force stays.
//!
//! Other settings (listen address, data folder, mailboxes, `[smtp]`) take effect at the next
//! start.

use super::analyze::{Analyzer, AnalyzerHandle};
use crate::settings::Settings;
use std::path::PathBuf;

/// What a reload put in force.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Reloaded {
    /// The screening version now in force (recorded with every screening).
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
    pub analyzer: AnalyzerHandle,
    /// The queues in force (from the start: a new queue needs a restart, so a rule may only
    /// move interactions to one of these).
    pub queues: Vec<crate::domain::QueueName>,
    /// One reload at a time (an HTTP reload and a SIGHUP never interleave).
    pub running: std::sync::Arc<std::sync::Mutex<()>>,
}

impl Reloader {
    /// Reads, checks and swaps; on any error nothing changes.
    pub fn reload(&self) -> Result<Reloaded, String> {
        let _one = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let settings =
            Settings::load(self.source.as_deref(), std::env::vars()).map_err(|e| e.to_string())?;
        let analyzer = Analyzer::from_settings(&settings.workflow, &self.queues)?;
        let version = analyzer.version().to_string();
        let previous = self.analyzer.replace(analyzer).version().to_string();
        tracing::info!(%version, %previous, "configuration reloaded");
        Ok(Reloaded {
            version,
            previous,
            file: self.source.as_ref().map(|p| p.display().to_string()),
        })
    }
}
