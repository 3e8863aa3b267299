//! Supervisor intervention while an interaction waits: move, reprioritise, assign, edit its
//! attributes, stop.

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
        C::EditAttributes {
            supervisor,
            changes,
            at,
        } => {
            inbound_only(cmd, state)?;
            supervisor_may_act(state)?;
            if changes.is_empty() || changes.len() > 50 {
                return Err(Rejection::InvalidValue("give 1 to 50 attributes"));
            }
            let mut set = std::collections::BTreeMap::new();
            let mut removed = Vec::new();
            for (key, value) in changes {
                if !crate::domain::text::is_key(key) {
                    return Err(Rejection::InvalidValue(
                        "an attribute key is 1 to 64 of letters, digits, _ - .",
                    ));
                }
                match value {
                    Some(v) => {
                        if !crate::domain::text::is_line(v, 200) {
                            return Err(Rejection::InvalidValue(
                                "an attribute's value is one line of at most 200 characters, not blank",
                            ));
                        }
                        if state.attributes.get(key) != Some(v) {
                            set.insert(key.clone(), v.clone());
                        }
                    }
                    None => {
                        if state.attributes.contains_key(key) {
                            removed.push(key.clone());
                        }
                    }
                }
            }
            if set.is_empty() && removed.is_empty() {
                return Ok(vec![]);
            }
            Ok(vec![AttributesEdited {
                supervisor: supervisor.clone(),
                set,
                removed,
                at: *at,
            }
            .into()])
        }
        C::Stop { by, reason, at } => {
            if reason.trim().is_empty() {
                return Err(Rejection::ReasonRequired);
            }
            if state.is_reply() {
                // A reply can be stopped until it is on its way out, while nobody holds it
                // (waiting for a reviewer, not once one is offered it or reads it).
                match state.status {
                    Status::Reply(ReplyStatus::Draft)
                    | Status::Reply(ReplyStatus::Released)
                    | Status::Reply(ReplyStatus::OutboundQueued)
                    | Status::Reply(ReplyStatus::AwaitingReview)
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
