//! The workflow's sweep: what waits in the process is carried on, at start-up and every few
//! seconds: an interaction left received (a crash between receipt and placement, or a request
//! that failed half-way) is queued where its process ended, one answered automatically is done,
//! and one whose automatic response the loop policy refused is queued for an agent.

use super::process::ProcessHandle;
use crate::actors::{CommandEnvelope, Interactions};
use crate::domain::workflow::Workflow;
use crate::projections::ProjectionRunner;
use std::sync::Arc;

/// Finds interactions waiting in the process and runs the workflow's next command on each.
#[derive(Clone)]
pub struct Sweep {
    pub process: ProcessHandle,
    pub projections: Arc<ProjectionRunner>,
    pub interactions: Interactions,
}

impl Sweep {
    /// One pass over every interaction awaiting the workflow.
    pub async fn run_once(&self) {
        let stranded: Vec<_> = self
            .projections
            .read(|p| p.awaiting_workflow.iter().copied().collect());
        for id in stranded {
            let Some(state) = self.projections.read(|p| p.cache.get(&id)) else {
                continue;
            };
            // Under the version it started with, where that is at hand.
            let process = self
                .process
                .version(state.process.as_ref().map(|p| p.version.as_str()));
            let Some(command) = process.workflow.resume(&state, super::now()) else {
                continue;
            };
            let name = command.name();
            let cmd = CommandEnvelope::new(command, Workflow::principal());
            match self.interactions.execute(id, cmd).await {
                Ok(_) => tracing::info!(interaction_id = %id, step = name, "carried on"),
                Err(e) => tracing::warn!(interaction_id = %id, error = %e, "could not resume"),
            }
        }
    }
}
