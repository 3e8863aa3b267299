//! Supervisor intervention while an interaction waits: move, reprioritise, assign, stop.

use super::super::command::*;
use super::super::event::*;
use super::super::rejection::Rejection;
use super::super::state::*;
use super::rules::{inbound_only, invalid, supervisor_may_act};

pub(super) fn decide(
    state: &Interaction,
    command: &InteractionCommand,
) -> Result<Vec<InteractionEvent>, Rejection> {
    use InteractionCommand as C;
    let cmd = command;
    match command {
        C::SupervisorMove {
            supervisor,
            queue,
            at,
        } => {
            inbound_only(cmd, state)?;
            supervisor_may_act(state)?;
            if state.status == Status::Inbound(InboundStatus::Queued)
                && state.queue.as_ref() == Some(queue)
            {
                return Ok(vec![]);
            }
            Ok(vec![MovedBySupervisor {
                supervisor: supervisor.clone(),
                from_queue: state.queue.clone(),
                to_queue: queue.clone(),
                at: *at,
            }
            .into()])
        }
        C::SupervisorReprioritise {
            supervisor,
            priority,
            at,
        } => {
            inbound_only(cmd, state)?;
            supervisor_may_act(state)?;
            if state.priority == *priority {
                return Ok(vec![]);
            }
            Ok(vec![Reprioritised {
                supervisor: supervisor.clone(),
                priority: *priority,
                at: *at,
            }
            .into()])
        }
        C::SupervisorAssign {
            supervisor,
            agent,
            at,
        } => {
            inbound_only(cmd, state)?;
            supervisor_may_act(state)?;
            // Work handed to an agent must have a queue to fall back to (reject, expiry, return).
            if state.queue.is_none() {
                return Err(Rejection::NoQueue);
            }
            Ok(vec![AssignedBySupervisor {
                supervisor: supervisor.clone(),
                agent: agent.clone(),
                at: *at,
            }
            .into()])
        }
        C::Stop { by, reason, at } => {
            if reason.trim().is_empty() {
                return Err(Rejection::ReasonRequired);
            }
            if state.is_reply() {
                // A reply can be stopped until it is on its way out.
                match state.status {
                    Status::Reply(ReplyStatus::Draft)
                    | Status::Reply(ReplyStatus::Released)
                    | Status::Reply(ReplyStatus::OutboundQueued)
                    | Status::Reply(ReplyStatus::Approved)
                    | Status::Reply(ReplyStatus::Failed { .. }) => {}
                    _ => return Err(invalid(cmd, state)),
                }
            } else {
                supervisor_may_act(state)?;
            }
            Ok(vec![InteractionStopped {
                by: by.clone(),
                reason: reason.clone(),
                at: *at,
            }
            .into()])
        }
        // Not a command of this concern (the dispatcher sends none here).
        _ => Err(super::rules::invalid(cmd, state)),
    }
}
