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
        C::Enqueue { queue, due, at } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Inbound(InboundStatus::Received) => {
                    let mut events = vec![InteractionQueued {
                        queue: queue.clone(),
                        at: *at,
                    }
                    .into()];
                    // Due times are set once, when first queued.
                    if let Some(d) = due.as_ref().filter(|_| state.service_level.is_none()) {
                        events.push((**d).clone().into());
                    }
                    Ok(events)
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::Screen { screened } => once_before_placement(
            cmd,
            state,
            state.screened.is_some(),
            &screened.version,
            "the screening version must not be empty",
            (**screened).clone().into(),
        ),
        C::RunProcess { ran } => once_before_placement(
            cmd,
            state,
            state.process.is_some(),
            &ran.version,
            "the process version must not be empty",
            (**ran).clone().into(),
        ),
        // Not a command of this concern (the dispatcher sends none here).
        _ => Err(super::rules::invalid(cmd, state)),
    }
}

/// A workflow step's record (screening, the process's run): once, with the receipt, before the
/// interaction is placed, naming the version that made it.
fn once_before_placement(
    cmd: &InteractionCommand,
    state: &Interaction,
    done: bool,
    version: &str,
    empty: &'static str,
    event: InteractionEvent,
) -> Result<Vec<InteractionEvent>, Rejection> {
    inbound_only(cmd, state)?;
    match state.status {
        Status::Inbound(InboundStatus::Received) if done => Err(Rejection::AlreadyExists),
        Status::Inbound(InboundStatus::Received) if version.trim().is_empty() => {
            Err(Rejection::InvalidValue(empty))
        }
        Status::Inbound(InboundStatus::Received) => Ok(vec![event]),
        _ => Err(invalid(cmd, state)),
    }
}
