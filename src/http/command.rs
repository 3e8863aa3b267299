//! The one way an HTTP handler runs a command on an aggregate without an actor (standard
//! responses, agents): load the stream, decide, append, and wait until reads show the change.

use super::problem::ApiError;
use crate::domain::Principal;
use crate::events::aggregate::{execute_once, CommandEnvelope, Stored};
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use std::time::Duration;

/// Runs `command` on the aggregate `id` under `principal`; answers once the projections show it.
pub async fn run_once<A: Stored>(
    log: &dyn EventStore,
    projections: &ProjectionRunner,
    id: &A::Id,
    command: A::Command,
    principal: Principal,
) -> Result<(), ApiError> {
    let cmd = CommandEnvelope::new(command, principal);
    if let Some(position) = execute_once::<A>(log, id, &cmd).await? {
        projections.wait_for(position, Duration::from_secs(2)).await;
    }
    Ok(())
}
