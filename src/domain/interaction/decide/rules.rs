//! Rules several commands share: which kind an interaction must be, who must own it, when a
//! supervisor may act, and the rejection for a command the state does not allow.

use super::super::command::InteractionCommand;
use super::super::rejection::Rejection;
use super::super::state::{Interaction, ReplyStatus, Status};
use crate::domain::interaction::InboundStatus;
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

/// A reply command's state machine: the reply's own status (`None` before the reply exists or
/// once stopped), or `WrongKind` for an inbound interaction.
pub(super) fn reply_status<'a>(
    cmd: &InteractionCommand,
    state: &'a Interaction,
) -> Result<Option<&'a ReplyStatus>, Rejection> {
    match &state.status {
        Status::Reply(status) => Ok(Some(status)),
        _ if state.exists() && !state.is_reply() => Err(Rejection::WrongKind {
            command: cmd.name(),
            expected: "reply",
        }),
        _ => Ok(None),
    }
}

/// A reply's author never reviews it (nor is it offered to them for review).
pub(super) fn not_author(state: &Interaction, agent: &AgentId) -> Result<(), Rejection> {
    if state.owner.as_ref() == Some(agent) {
        return Err(Rejection::SelfReview);
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
        Status::Inbound(InboundStatus::Received) | Status::Inbound(InboundStatus::Queued) => Ok(()),
        Status::New => Err(Rejection::NotFound),
        s if s.is_locked_by_routing() => Err(Rejection::LockedByRouting { status }),
        s if s.is_terminal() => Err(Rejection::Finished { status }),
        _ => Err(Rejection::BeingWorked { status }),
    }
}
