//! The workflow's sweep: an interaction left received (a crash between receipt and placement, or
//! a request that failed half-way) is placed by the workflow, at start-up and every few seconds.

use crate::actors::{CommandEnvelope, Interactions};
use crate::domain::workflow::Workflow;
use crate::projections::ProjectionRunner;
use std::sync::Arc;

/// Finds stranded interactions in the projections and runs the workflow's next command on each.
#[derive(Clone)]
pub struct Sweep {
    pub workflow: Workflow,
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
            let Some(command) = self.workflow.resume(&state, super::now()) else {
                continue;
            };
            let cmd = CommandEnvelope::new(command, Workflow::principal());
            match self.interactions.execute(id, cmd).await {
                Ok(_) => {
                    tracing::info!(interaction_id = %id, "queued an interaction left received")
                }
                Err(e) => tracing::warn!(interaction_id = %id, error = %e, "could not resume"),
            }
        }
    }
}
