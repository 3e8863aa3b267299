//! Online retraining of the classifier from people's corrections: every category an agent or a
//! supervisor sets on an interaction (`InteractionCategorised` under a user's principal, kept by
//! the projections) becomes a labelled example, the message's subject and text. When the
//! corrections differ from those the process in force was trained with, the next version of the
//! process is built from the same settings plus them, recorded on the `process` stream
//! (`retrain`) and swapped in, as a reload would. Only with examples configured: corrections
//! refine a classifier, they never start one.

use super::process::{Corrections, Process, ProcessHandle};
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use crate::storage::ContentStore;
use std::sync::Arc;

/// The retraining process. Cheap to clone.
#[derive(Clone)]
pub struct Retrainer {
    pub process: ProcessHandle,
    pub projections: Arc<ProjectionRunner>,
    pub content: Arc<dyn ContentStore>,
    pub log: Arc<dyn EventStore>,
    /// Shared with reloads: one new version at a time.
    pub running: Arc<tokio::sync::Mutex<()>>,
}

impl Retrainer {
    /// Retrains when the corrections changed; answers the new version, if any.
    pub async fn run_once(&self) -> Result<Option<String>, String> {
        let _one = self.running.lock().await;
        let current = self.process.current();
        if !current.analyzer.categorises() {
            return Ok(None);
        }
        // The corrections it was trained with (a cheap look: no texts read): nothing to do.
        let corrections = Corrections::read(&self.projections);
        if corrections.key() == current.corrections_key {
            return Ok(None);
        }
        let corrections = corrections.with_texts(&self.projections, self.content.as_ref());
        let settings = current.settings.clone();
        let sending = current.workflow.sending;
        let next = tokio::task::spawn_blocking(move || {
            Process::from_settings(&settings, sending, &corrections)
        })
        .await
        .map_err(|e| format!("retraining did not finish: {e}"))??;
        let version = next.version().to_string();
        let previous = self
            .process
            .activate(
                self.log.as_ref(),
                next,
                current.settings.source.as_deref(),
                "retrain",
            )
            .await?;
        if previous.version() == version {
            return Ok(None);
        }
        tracing::info!(%version, "classifier retrained from corrections");
        Ok(Some(version))
    }
}
