//! Service levels: a target missed is recorded once, after its due time, while it is still unmet
//! (no reply yet for the first response; not done for the resolution). A late first response
//! raises the priority by the queue's escalation.

use super::super::command::*;
use super::super::event::*;
use super::super::rejection::Rejection;
use super::super::state::*;
use super::rules::{inbound_only, invalid};

pub(super) fn decide(
    state: &Interaction,
    command: &InteractionCommand,
) -> Result<Vec<InteractionEvent>, Rejection> {
    let cmd = command;
    let InteractionCommand::RecordBreach { target, at } = command else {
        return Err(invalid(cmd, state));
    };
    inbound_only(cmd, state)?;
    if state.status.is_terminal() || state.status == Status::New {
        return Err(invalid(cmd, state));
    }
    let Some(sla) = &state.service_level else {
        return Err(Rejection::InvalidValue(
            "the interaction has no service level",
        ));
    };
    let (due, met, breached) = match target {
        SlaTarget::FirstResponse => (
            sla.first_response_due,
            sla.first_response_at.is_some(),
            sla.first_response_breached,
        ),
        SlaTarget::Resolution => (sla.resolution_due, false, sla.resolution_breached),
    };
    if breached {
        return Err(Rejection::AlreadyExists);
    }
    if met {
        return Err(Rejection::InvalidValue("the first response was made"));
    }
    if *at <= due {
        return Err(Rejection::DeadlineNotReached);
    }
    let priority = (*target == SlaTarget::FirstResponse && sla.escalate_priority != 0)
        .then(|| (state.priority.saturating_add(sla.escalate_priority)).clamp(-1000, 1000));
    Ok(vec![ServiceLevelBreached {
        target: target.name().into(),
        due,
        priority,
        at: *at,
    }
    .into()])
}
