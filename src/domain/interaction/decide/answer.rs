//! Automatic answers: on the inbound interaction, the workflow's plan and the loop policy's
//! decision (suppressed with a reason, or answered by an outbound interaction); and that
//! outbound interaction, which starts composed and waiting in the outbox.

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
        C::PlanAutoAnswer { usage, at } => {
            inbound_only(cmd, state)?;
            if !state.exists() {
                return Err(Rejection::NotFound);
            }
            if state.auto_answer.is_some() {
                return Err(Rejection::AlreadyExists);
            }
            Ok(vec![AutoAnswerPlanned {
                usage: *usage,
                at: *at,
            }
            .into()])
        }
        C::SuppressAutoAnswer { code, reason, at } => {
            inbound_only(cmd, state)?;
            planned(cmd, state)?;
            if code.trim().is_empty() || reason.trim().is_empty() {
                return Err(Rejection::ReasonRequired);
            }
            Ok(vec![AutoAnswerSuppressed {
                code: code.clone(),
                reason: reason.clone(),
                at: *at,
            }
            .into()])
        }
        C::RecordAutoAnswer { reply, usage, at } => {
            inbound_only(cmd, state)?;
            planned(cmd, state)?;
            Ok(vec![AutoAnswered {
                reply: *reply,
                usage: *usage,
                at: *at,
            }
            .into()])
        }
        C::ComposeAnswer {
            parent,
            usage,
            to,
            subject,
            message,
            message_id,
            at,
        } => {
            if state.exists() {
                return Err(Rejection::AlreadyExists);
            }
            if message_id.trim().is_empty() {
                return Err(Rejection::InvalidValue("the message id must not be empty"));
            }
            Ok(vec![AnswerComposed {
                parent: *parent,
                usage: *usage,
                to: to.as_str().to_string(),
                subject: subject.clone(),
                message: message.clone(),
                message_id: message_id.clone(),
                at: *at,
            }
            .into()])
        }
        _ => Err(invalid(cmd, state)),
    }
}

/// The answer was planned and not yet decided. (A stopped interaction may still be decided: the
/// decision records what the policy said, and a stop does not unsend.)
fn planned(cmd: &InteractionCommand, state: &Interaction) -> Result<(), Rejection> {
    match &state.auto_answer {
        Some(AutoAnswer::Planned { .. }) => Ok(()),
        Some(_) => Err(Rejection::AlreadyExists),
        None if !state.exists() => Err(Rejection::NotFound),
        None => Err(invalid(cmd, state)),
    }
}
