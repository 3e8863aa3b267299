//! Rules several commands share: which kind an interaction must be, who must own it, when a
//! supervisor may act, and the rejection for a command the state does not allow.

use super::super::command::InteractionCommand;
use super::super::rejection::Rejection;
use super::super::state::{Interaction, Status};
use crate::domain::AgentId;

pub(super) fn invalid(cmd: &InteractionCommand, state: &Interaction) -> Rejection {
    if state.status == Status::New {
        return Rejection::NotFound;
    }
    if state.status.is_terminal() {
        return Rejection::Finished {
            status: state.status.name(),
        };
    }
    Rejection::InvalidState {
        command: cmd.name(),
        status: state.status.name(),
    }
}

pub(super) fn inbound_only(cmd: &InteractionCommand, state: &Interaction) -> Result<(), Rejection> {
    if state.exists() && state.is_reply() {
        return Err(Rejection::WrongKind {
            command: cmd.name(),
            expected: "inbound",
        });
    }
    Ok(())
}

pub(super) fn reply_only(cmd: &InteractionCommand, state: &Interaction) -> Result<(), Rejection> {
    if state.exists() && !state.is_reply() {
        return Err(Rejection::WrongKind {
            command: cmd.name(),
            expected: "reply",
        });
    }
    Ok(())
}

pub(super) fn require_owner(state: &Interaction, agent: &AgentId) -> Result<(), Rejection> {
    if state.owner.as_ref() != Some(agent) {
        return Err(Rejection::NotOwner {
            agent: agent.clone(),
        });
    }
    Ok(())
}

/// Supervisors may intervene only while the interaction waits in the system: received or queued,
/// neither locked by routing nor being worked by an agent (the seed's rule for ad hoc management).
pub(super) fn supervisor_may_act(state: &Interaction) -> Result<(), Rejection> {
    let status = state.status.name();
    match &state.status {
        Status::Received | Status::Queued => Ok(()),
        Status::New => Err(Rejection::NotFound),
        s if s.is_locked_by_routing() => Err(Rejection::LockedByRouting { status }),
        s if s.is_terminal() => Err(Rejection::Finished { status }),
        _ => Err(Rejection::BeingWorked { status }),
    }
}
