//! The service-level process: every pass, each open target past its due time is recorded as
//! breached (`ServiceLevelBreached`), and a late first response raises the priority by the
//! queue's escalation, so routing offers it sooner.

use crate::actors::{CommandEnvelope, Interactions};
use crate::domain::interaction::{InteractionCommand, SlaTarget};
use crate::domain::Principal;
use crate::projections::ProjectionRunner;
use std::sync::Arc;

/// At most this many breaches recorded per pass (the next pass takes the rest).
const PER_PASS: usize = 1_000;

/// The breach process. Cheap to clone.
#[derive(Clone)]
pub struct Deadlines {
    pub projections: Arc<ProjectionRunner>,
    pub interactions: Interactions,
}

/// Who breaches are recorded under.
pub fn principal() -> Principal {
    Principal::System("service-level".into())
}

impl Deadlines {
    /// One pass: every overdue target recorded.
    pub async fn run_once(&self) {
        let now = super::now();
        let overdue = self
            .projections
            .read(|p| p.service_levels.overdue(now, PER_PASS));
        for (id, which) in overdue {
            let target = if which == 0 {
                SlaTarget::FirstResponse
            } else {
                SlaTarget::Resolution
            };
            let cmd = InteractionCommand::RecordBreach { target, at: now };
            if let Err(e) = self
                .interactions
                .execute(id, CommandEnvelope::new(cmd, principal()))
                .await
            {
                tracing::debug!(interaction_id = %id, error = %e, "breach not recorded");
            }
        }
    }
}
