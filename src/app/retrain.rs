//! Online retraining of the classifier from people's corrections: every category an agent or a
//! supervisor sets on an interaction (`InteractionCategorised` under a user's principal, kept by
//! the projections) becomes a labelled example, the message's subject and text. When the
//! corrections differ from those the process in force was trained with, the next version of the
//! process is built from the same settings plus them, recorded on the `process` stream
//! (`retrain`) and swapped in, as a reload would. Only with examples configured: corrections
//! refine a classifier, they never start one.

use super::process::{Process, ProcessHandle};
use crate::classify::Example;
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use crate::storage::ContentStore;
use std::sync::Arc;

/// People's corrections as training examples, oldest interaction first.
pub fn corrections(projections: &ProjectionRunner, content: &dyn ContentStore) -> Vec<Example> {
    let found: Vec<(String, Option<crate::domain::ContentRef>, String)> = projections.read(|p| {
        p.corrections
            .iter()
            .filter_map(|(id, category)| {
                let s = p.cache.get(id)?;
                Some((s.subject.clone(), s.content.clone(), category.clone()))
            })
            .collect()
    });
    found
        .into_iter()
        .map(|(subject, body, category)| {
            // A body the store no longer has still leaves its subject to learn from.
            let body = body
                .and_then(|r| content.get(&r).ok().flatten())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            Example {
                text: format!("{subject}\n{body}"),
                category,
            }
        })
        .collect()
}

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
        let examples = corrections(&self.projections, self.content.as_ref());
        // The corrections it was trained with: nothing to do.
        if super::process::corrections_key(&examples) == current.corrections_key {
            return Ok(None);
        }
        let settings = current.settings.clone();
        let sending = current.workflow.sending;
        let probe = examples.clone();
        let next =
            tokio::task::spawn_blocking(move || Process::from_settings(&settings, sending, &probe))
                .await
                .map_err(|e| format!("retraining did not finish: {e}"))??;
        if next.version() == current.version() {
            return Ok(None);
        }
        super::process::record(
            self.log.as_ref(),
            &next,
            current.settings.source.as_deref(),
            "retrain",
        )
        .await?;
        let version = next.version().to_string();
        tracing::info!(%version, corrections = examples.len(), "classifier retrained from corrections");
        self.process.replace(next);
        Ok(Some(version))
    }
}
