//! Receiving, screening and the first placement in a queue.

use super::super::command::*;
use super::super::event::*;
use super::super::rejection::Rejection;
use super::super::state::*;
use super::rules::{inbound_only, invalid};

pub(super) fn decide(
    state: &Interaction,
    command: &InteractionCommand,
) -> Result<Vec<InteractionEvent>, Rejection> {
    use InteractionCommand as C;
    let cmd = command;
    match command {
        C::Receive {
            channel,
            from,
            from_name,
            subject,
            content,
            priority,
            message,
            thread,
            at,
        } => {
            if state.exists() {
                return Err(Rejection::AlreadyExists);
            }
            let mut events: Vec<InteractionEvent> = vec![InteractionReceived {
                channel: *channel,
                from: from.as_str().to_string(),
                from_name: from_name.clone(),
                subject: subject.clone(),
                content: content.clone(),
                priority: *priority,
                at: *at,
            }
            .into()];
            if let Some(m) = message {
                events.push(
                    MessageStored {
                        at: *at,
                        ..(**m).clone()
                    }
                    .into(),
                );
            }
            if let Some(t) = thread {
                events.push(
                    ThreadLinked {
                        thread: t.thread,
                        matched_by: t.matched_by,
                        reference: t.reference.clone(),
                        answers: t.answers,
                        at: *at,
                    }
                    .into(),
                );
            }
            Ok(events)
        }
        C::Enqueue { queue, at } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Inbound(InboundStatus::Received) => Ok(vec![InteractionQueued {
                    queue: queue.clone(),
                    at: *at,
                }
                .into()]),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::Screen { screened } => {
            inbound_only(cmd, state)?;
            match state.status {
                // The first step: once, before the interaction is placed.
                Status::Inbound(InboundStatus::Received) if state.screened.is_none() => {
                    if screened.version.trim().is_empty() {
                        return Err(Rejection::InvalidValue(
                            "the screening version must not be empty",
                        ));
                    }
                    Ok(vec![(**screened).clone().into()])
                }
                Status::Inbound(InboundStatus::Received) => Err(Rejection::AlreadyExists),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::RunProcess { ran } => {
            inbound_only(cmd, state)?;
            match state.status {
                // Once, with the receipt, before the interaction is placed.
                Status::Inbound(InboundStatus::Received) if state.process.is_none() => {
                    if ran.version.trim().is_empty() {
                        return Err(Rejection::InvalidValue(
                            "the process version must not be empty",
                        ));
                    }
                    Ok(vec![(**ran).clone().into()])
                }
                Status::Inbound(InboundStatus::Received) => Err(Rejection::AlreadyExists),
                _ => Err(invalid(cmd, state)),
            }
        }
        // Not a command of this concern (the dispatcher sends none here).
        _ => Err(super::rules::invalid(cmd, state)),
    }
}
