//! An agent's work on an interaction: transfer, consultation (with contributions), return to a
//! queue with a reason, the reply recorded, done with a disposition, categories.

use super::super::command::*;
use super::super::event::*;
use super::super::rejection::Rejection;
use super::super::state::*;
use super::rules::{inbound_only, invalid, require_owner};

/// At most this many characters in a transfer's or consultation's note.
const NOTE_CHARS: usize = 2000;
/// … in a reason for returning work.
const REASON_CHARS: usize = 500;
/// … in a consultant's contribution.
const CONTRIBUTION_CHARS: usize = 10_000;

fn text_within(text: &str, chars: usize, what: &'static str) -> Result<(), Rejection> {
    if text.chars().count() > chars {
        return Err(Rejection::InvalidValue(what));
    }
    Ok(())
}

pub(super) fn decide(
    state: &Interaction,
    command: &InteractionCommand,
) -> Result<Vec<InteractionEvent>, Rejection> {
    use InteractionCommand as C;
    let cmd = command;
    match command {
        C::Transfer {
            agent,
            target,
            note,
            at,
        } => {
            inbound_only(cmd, state)?;
            text_within(note, NOTE_CHARS, "the note must be at most 2000 characters")?;
            match state.status {
                Status::Inbound(InboundStatus::Assigned) => {
                    require_owner(state, agent)?;
                    if !state.consultants.is_empty() {
                        return Err(Rejection::ConsultationActive);
                    }
                    if let TransferTarget::Agent {
                        agent: to,
                        deadline,
                    } = target
                    {
                        if to == agent {
                            return Err(Rejection::CannotTransferToSelf);
                        }
                        if deadline <= at {
                            return Err(Rejection::DeadlineInPast);
                        }
                    }
                    Ok(vec![InteractionTransferred {
                        from_agent: agent.clone(),
                        target: target.clone(),
                        note: note.trim().to_string(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::StartConsultation {
            agent,
            consultant,
            note,
            at,
        } => {
            inbound_only(cmd, state)?;
            text_within(note, NOTE_CHARS, "the note must be at most 2000 characters")?;
            match state.status {
                Status::Inbound(InboundStatus::Assigned) => {
                    require_owner(state, agent)?;
                    if consultant == agent {
                        return Err(Rejection::CannotConsultSelf);
                    }
                    if state.consultants.contains(consultant) {
                        return Err(Rejection::AlreadyConsulting {
                            agent: consultant.clone(),
                        });
                    }
                    Ok(vec![ConsultationStarted {
                        owner: agent.clone(),
                        consultant: consultant.clone(),
                        note: note.trim().to_string(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::Contribute {
            consultant,
            text,
            at,
        } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Inbound(InboundStatus::Assigned) => {
                    if !state.consultants.contains(consultant) {
                        return Err(Rejection::NotConsulted {
                            agent: consultant.clone(),
                        });
                    }
                    if text.trim().is_empty() {
                        return Err(Rejection::InvalidValue(
                            "the contribution must not be empty",
                        ));
                    }
                    text_within(
                        text,
                        CONTRIBUTION_CHARS,
                        "the contribution must be at most 10000 characters",
                    )?;
                    Ok(vec![ConsultationContributed {
                        consultant: consultant.clone(),
                        text: text.trim().to_string(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::EndConsultation {
            agent,
            consultant,
            at,
        } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Inbound(InboundStatus::Assigned) => {
                    // The owner or the consultant themself may end it.
                    if state.owner.as_ref() != Some(agent) && agent != consultant {
                        return Err(Rejection::NotOwner {
                            agent: agent.clone(),
                        });
                    }
                    if !state.consultants.contains(consultant) {
                        return Err(Rejection::NotConsulting {
                            agent: consultant.clone(),
                        });
                    }
                    Ok(vec![ConsultationEnded {
                        consultant: consultant.clone(),
                        ended_by: agent.clone(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::ReturnToQueue {
            agent,
            queue,
            reason,
            at,
        } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Inbound(InboundStatus::Assigned) => {
                    require_owner(state, agent)?;
                    if reason.trim().is_empty() {
                        return Err(Rejection::ReasonRequired);
                    }
                    text_within(
                        reason,
                        REASON_CHARS,
                        "the reason must be at most 500 characters",
                    )?;
                    if !state.consultants.is_empty() {
                        return Err(Rejection::ConsultationActive);
                    }
                    let queue = queue
                        .clone()
                        .or_else(|| state.queue.clone())
                        .ok_or(Rejection::NoQueue)?;
                    Ok(vec![ReturnedToQueue {
                        agent: agent.clone(),
                        queue,
                        reason: reason.trim().to_string(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::RecordReply { agent, reply, at } => {
            inbound_only(cmd, state)?;
            match state.status {
                // A further reply after the first is allowed while the agent still owns it.
                Status::Inbound(InboundStatus::Assigned)
                | Status::Inbound(InboundStatus::Replied) => {
                    require_owner(state, agent)?;
                    if !state.consultants.is_empty() {
                        return Err(Rejection::ConsultationActive);
                    }
                    if state.replies.contains(reply) {
                        return Ok(vec![]);
                    }
                    Ok(vec![InteractionReplied {
                        agent: agent.clone(),
                        reply: *reply,
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::MarkDone {
            by,
            disposition,
            at,
        } => {
            inbound_only(cmd, state)?;
            match (&state.status, by) {
                (
                    Status::Inbound(InboundStatus::Assigned)
                    | Status::Inbound(InboundStatus::Replied),
                    Actor::Agent(agent),
                ) => {
                    require_owner(state, agent)?;
                    if !state.consultants.is_empty() {
                        return Err(Rejection::ConsultationActive);
                    }
                    if !disposition
                        .as_deref()
                        .is_some_and(crate::domain::text::is_code)
                    {
                        return Err(Rejection::InvalidValue(
                            "a disposition code is required (a-z, 0-9, _ - ., at most 64)",
                        ));
                    }
                }
                // Components finish what waits in the system (an automatic response answered it)
                // or what an agent has replied to.
                (
                    Status::Inbound(InboundStatus::Received)
                    | Status::Inbound(InboundStatus::Queued)
                    | Status::Inbound(InboundStatus::Replied),
                    Actor::System(_),
                ) => {}
                (
                    Status::Inbound(InboundStatus::Received)
                    | Status::Inbound(InboundStatus::Queued),
                    Actor::Agent(agent),
                ) => {
                    return Err(Rejection::NotOwner {
                        agent: agent.clone(),
                    })
                }
                _ => return Err(invalid(cmd, state)),
            }
            Ok(vec![InteractionDone {
                by: by.label(),
                disposition: match by {
                    Actor::Agent(_) => disposition.clone(),
                    Actor::System(_) => None,
                },
                at: *at,
            }
            .into()])
        }
        C::Categorise {
            category,
            confidence_permille,
            at,
        } => {
            inbound_only(cmd, state)?;
            if !state.exists() {
                return Err(Rejection::NotFound);
            }
            if state.status.is_terminal() {
                return Err(invalid(cmd, state));
            }
            if category.trim().is_empty() {
                return Err(Rejection::InvalidValue("the category must not be empty"));
            }
            if *confidence_permille > 1000 {
                return Err(Rejection::InvalidValue(
                    "the confidence must be between 0 and 1000 per mille",
                ));
            }
            Ok(vec![InteractionCategorised {
                category: category.clone(),
                confidence_permille: *confidence_permille,
                at: *at,
            }
            .into()])
        }
        // Not a command of this concern (the dispatcher sends none here).
        _ => Err(super::rules::invalid(cmd, state)),
    }
}
