//! QA review of a released reply, once routing offered it to a reviewer (`routing.rs`: never to
//! its author): approved, returned for revision with a comment, edited and approved, or passed to
//! another reviewer. A reviewer may act on a review offered to them: acting accepts it.

use super::super::command::*;
use super::super::event::*;
use super::super::rejection::Rejection;
use super::super::state::*;
use super::rules::{invalid, not_author, reply_status};
use crate::domain::{AgentId, Millis};

pub(super) fn decide(
    state: &Interaction,
    command: &InteractionCommand,
) -> Result<Vec<InteractionEvent>, Rejection> {
    use InteractionCommand as C;
    let cmd = command;
    let status = reply_status(cmd, state)?;
    match command {
        C::StartReview { reviewer, at } => match status {
            Some(ReplyStatus::OutboundQueued) | Some(ReplyStatus::AwaitingReview) => {
                not_author(state, reviewer)?;
                Ok(vec![ReviewStarted {
                    reviewer: reviewer.clone(),
                    at: *at,
                }
                .into()])
            }
            _ => Err(invalid(cmd, state)),
        },
        C::ApproveReply { reviewer, at } => {
            let mut events = reviewing(cmd, state, reviewer, *at)?;
            events.push(
                ReplyApproved {
                    reviewer: reviewer.clone(),
                    at: *at,
                }
                .into(),
            );
            Ok(events)
        }
        C::ReturnForRevision { reviewer, note, at } => {
            let mut events = reviewing(cmd, state, reviewer, *at)?;
            if note.trim().is_empty() {
                return Err(Rejection::ReasonRequired);
            }
            events.push(
                ReturnedForRevision {
                    reviewer: reviewer.clone(),
                    note: note.clone(),
                    at: *at,
                }
                .into(),
            );
            Ok(events)
        }
        C::EditAndApprove {
            reviewer,
            content,
            html,
            message,
            diff,
            at,
        } => {
            let mut events = reviewing(cmd, state, reviewer, *at)?;
            if content.is_none() {
                return Err(Rejection::InvalidValue("the edited reply has no text"));
            }
            events.push(
                ReviewEdited {
                    reviewer: reviewer.clone(),
                    content: content.clone(),
                    html: html.clone(),
                    message: message.clone(),
                    diff: diff.clone(),
                    at: *at,
                }
                .into(),
            );
            events.push(
                ReplyApproved {
                    reviewer: reviewer.clone(),
                    at: *at,
                }
                .into(),
            );
            Ok(events)
        }
        C::ReassignReview { to, by, at } => match status {
            Some(ReplyStatus::AwaitingReview)
            | Some(ReplyStatus::ReviewOffered { .. })
            | Some(ReplyStatus::InReview { .. }) => {
                let current = state.status.reviewer();
                if let Some(by) = by {
                    if current != Some(by) {
                        return Err(Rejection::NotReviewer { agent: by.clone() });
                    }
                }
                not_author(state, to)?;
                if current == Some(to) && matches!(status, Some(ReplyStatus::InReview { .. })) {
                    return Err(Rejection::InvalidValue("that agent reviews it already"));
                }
                Ok(vec![ReviewReassigned {
                    from: current.cloned(),
                    to: to.clone(),
                    at: *at,
                }
                .into()])
            }
            _ => Err(invalid(cmd, state)),
        },
        // Not a command of this concern (the dispatcher sends none here).
        _ => Err(invalid(cmd, state)),
    }
}

fn accepted(agent: &AgentId, at: Millis) -> InteractionEvent {
    OfferAccepted {
        agent: agent.clone(),
        at,
    }
    .into()
}

/// `reviewer` reviews the reply now: in review by them, or offered to them (acting on the offer
/// accepts it: the events to record first).
fn reviewing(
    cmd: &InteractionCommand,
    state: &Interaction,
    reviewer: &AgentId,
    at: Millis,
) -> Result<Vec<InteractionEvent>, Rejection> {
    match &state.status {
        Status::Reply(ReplyStatus::InReview { reviewer: r }) if r == reviewer => Ok(Vec::new()),
        Status::Reply(ReplyStatus::ReviewOffered { reviewer: r, .. }) if r == reviewer => {
            Ok(vec![accepted(reviewer, at)])
        }
        Status::Reply(ReplyStatus::InReview { .. })
        | Status::Reply(ReplyStatus::ReviewOffered { .. }) => Err(Rejection::NotReviewer {
            agent: reviewer.clone(),
        }),
        _ => Err(invalid(cmd, state)),
    }
}
