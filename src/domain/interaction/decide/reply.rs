//! The reply's lifecycle: draft, release (with the QA policy's decision), outbound queue,
//! sending, delivery reports. The review itself is `review.rs`.

use super::super::command::*;
use super::super::event::*;
use super::super::rejection::Rejection;
use super::super::state::*;
use super::rules::{invalid, reply_status, require_owner};

pub(super) fn decide(
    state: &Interaction,
    command: &InteractionCommand,
) -> Result<Vec<InteractionEvent>, Rejection> {
    use InteractionCommand as C;
    let cmd = command;
    match command {
        C::DraftReply {
            parent,
            agent,
            to,
            subject,
            content,
            html,
            at,
        } => {
            if state.exists() {
                return Err(Rejection::AlreadyExists);
            }
            Ok(vec![ReplyDrafted {
                parent: *parent,
                agent: agent.clone(),
                to: to.as_str().to_string(),
                subject: subject.clone(),
                content: content.clone(),
                html: html.clone(),
                at: *at,
            }
            .into()])
        }
        C::UpdateDraft {
            agent,
            content,
            html,
            at,
        } => {
            let status = reply_status(cmd, state)?;
            match status {
                Some(ReplyStatus::Draft) => {
                    require_owner(state, agent)?;
                    Ok(vec![DraftUpdated {
                        agent: agent.clone(),
                        content: content.clone(),
                        html: html.clone(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::ReleaseReply { agent, at } => {
            let status = reply_status(cmd, state)?;
            match status {
                Some(ReplyStatus::Draft) => {
                    require_owner(state, agent)?;
                    Ok(vec![ReplyReleased {
                        agent: agent.clone(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::SendReply {
            agent,
            queue,
            message,
            message_id,
            review,
            at,
        } => {
            let status = reply_status(cmd, state)?;
            match status {
                Some(ReplyStatus::Draft) => {
                    require_owner(state, agent)?;
                    if review.required && review.queue.is_none() {
                        return Err(Rejection::InvalidValue(
                            "a reply that needs review needs a queue to wait in",
                        ));
                    }
                    if state.content.is_none() {
                        return Err(Rejection::InvalidValue("the draft has no text"));
                    }
                    if message_id.trim().is_empty() {
                        return Err(Rejection::InvalidValue("the message id must not be empty"));
                    }
                    Ok(vec![
                        ReplyReleased {
                            agent: agent.clone(),
                            at: *at,
                        }
                        .into(),
                        ReplyComposed {
                            message: message.clone(),
                            message_id: message_id.clone(),
                            at: *at,
                        }
                        .into(),
                        OutboundQueued {
                            queue: queue.clone(),
                            at: *at,
                        }
                        .into(),
                        ReviewDecided {
                            at: *at,
                            ..(**review).clone()
                        }
                        .into(),
                    ])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::QueueOutbound { queue, at } => {
            let status = reply_status(cmd, state)?;
            match status {
                Some(ReplyStatus::Released) => Ok(vec![OutboundQueued {
                    queue: queue.clone(),
                    at: *at,
                }
                .into()]),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::StartSending { at } => {
            let status = reply_status(cmd, state)?;
            match status {
                // Straight from the outbound queue when no review is required, after approval,
                // again after a failed attempt, or again after an attempt whose outcome was never
                // recorded (the mailer stopped mid-send: the same message, same Message-ID).
                Some(ReplyStatus::OutboundQueued)
                | Some(ReplyStatus::Approved)
                | Some(ReplyStatus::Sending { .. })
                | Some(ReplyStatus::Failed { .. }) => Ok(vec![SendingStarted {
                    attempt: state.attempts + 1,
                    at: *at,
                }
                .into()]),
                Some(ReplyStatus::Sent { .. }) => Err(Rejection::AlreadySent),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::MarkSent { message_id, at } => {
            let status = reply_status(cmd, state)?;
            match status {
                Some(ReplyStatus::Sending { .. }) => {
                    if message_id.trim().is_empty() {
                        return Err(Rejection::InvalidValue("the message id must not be empty"));
                    }
                    Ok(vec![ReplySent {
                        message_id: message_id.clone(),
                        at: *at,
                    }
                    .into()])
                }
                Some(ReplyStatus::Sent { .. }) => Err(Rejection::AlreadySent),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::MarkSendFailed {
            error,
            retry_at,
            at,
        } => {
            let status = reply_status(cmd, state)?;
            match status {
                Some(ReplyStatus::Sending { attempt }) => {
                    if retry_at.is_some_and(|r| r <= *at) {
                        return Err(Rejection::DeadlineInPast);
                    }
                    Ok(vec![SendFailed {
                        attempt: *attempt,
                        error: error.clone(),
                        retry_at: *retry_at,
                        at: *at,
                    }
                    .into()])
                }
                Some(ReplyStatus::Sent { .. }) => Err(Rejection::AlreadySent),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::RecordDeliveryReport { report } => {
            let status = reply_status(cmd, state)?;
            // Only a reply handed to the mailer can be reported on.
            match status {
                Some(ReplyStatus::Sending { .. })
                | Some(ReplyStatus::Sent { .. })
                | Some(ReplyStatus::Failed { .. }) => {}
                _ => return Err(invalid(cmd, state)),
            }
            // The same report fetched again (a crash before its move) is recorded once.
            if state.delivery.iter().any(|d| d.identity == report.identity) {
                return Err(Rejection::AlreadyExists);
            }
            Ok(vec![(**report).clone().into()])
        }
        // Not a command of this concern (the dispatcher sends none here).
        _ => Err(super::rules::invalid(cmd, state)),
    }
}
