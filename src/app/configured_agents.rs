//! Agents listed in the configuration (`[[agents]]`, for small sites): at start, each is created,
//! or updated when its profile there differs from the one recorded, under `system:config`.
//! Agents made through the API are left as they are; one removed from the file stays an agent
//! until an admin deletes it.

use crate::domain::agent::{Agent, AgentCommand, Profile};
use crate::domain::user::User;
use crate::domain::{AgentId, Principal};
use crate::events::aggregate::execute_once;
use crate::events::aggregate::CommandEnvelope;
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use std::time::Duration;

/// Puts the configured agents in place; an error names the entry (`agents[i]…`) and what is
/// wrong.
pub async fn apply(
    log: &dyn EventStore,
    projections: &ProjectionRunner,
    agents: &[(AgentId, Profile)],
) -> Result<(), String> {
    for (i, (name, profile)) in agents.iter().enumerate() {
        let (active, recorded) = projections.read(|p| {
            (
                matches!(p.users.get(name), User::Active { .. }),
                p.agents
                    .get(name)
                    .filter(|a| a.is_active())
                    .map(|a| a.profile.clone()),
            )
        });
        if !active {
            return Err(format!(
                "agents[{i}].user: no active user {name} (add one: postroom users add {name} --role agent)"
            ));
        }
        let at = super::now();
        let command = match recorded {
            None => AgentCommand::Create {
                profile: profile.clone(),
                by: "system:config".into(),
                at,
            },
            Some(Some(p)) if &p == profile => continue,
            Some(_) => AgentCommand::Update {
                profile: profile.clone(),
                by: "system:config".into(),
                at,
            },
        };
        let cmd = CommandEnvelope::new(command, Principal::System("config".into()));
        let position = execute_once::<Agent>(log, name, &cmd)
            .await
            .map_err(|e| format!("agents[{i}]: {e}"))?;
        if let Some(p) = position {
            projections.wait_for(p, Duration::from_secs(5)).await;
        }
    }
    Ok(())
}
