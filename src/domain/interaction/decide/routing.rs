//! Routing: the lock while a router looks for an agent, offers with deadlines, accepting, rejecting
//! and expiring them. Offers are one rule for both kinds: inbound work offered to agents, a reply
//! waiting for QA review offered to reviewers (`review.rs` decides the review itself).

use super::super::command::*;
use super::super::event::*;
use super::super::rejection::Rejection;
use super::super::state::*;
use super::rules::{inbound_only, invalid, not_author};

pub(super) fn decide(
    state: &Interaction,
    command: &InteractionCommand,
) -> Result<Vec<InteractionEvent>, Rejection> {
    use InteractionCommand as C;
    let cmd = command;
    match command {
        C::LockForRouting { router, at } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Inbound(InboundStatus::Queued) => Ok(vec![RoutingLocked {
                    router: router.clone(),
                    at: *at,
                }
                .into()]),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::UnlockRouting { at } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Inbound(InboundStatus::Locked { .. }) => {
                    Ok(vec![RoutingUnlocked { at: *at }.into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::Offer {
            agent,
            deadline,
            at,
            explained,
        } => {
            match state.status {
                // Only routing offers inbound work, and only while it holds the lock.
                Status::Inbound(InboundStatus::Locked { .. }) => {}
                // A reply waiting for review goes to a reviewer, never to its author.
                Status::Reply(ReplyStatus::AwaitingReview) => not_author(state, agent)?,
                _ => {
                    inbound_only(cmd, state)?;
                    return Err(invalid(cmd, state));
                }
            }
            if deadline <= at {
                return Err(Rejection::DeadlineInPast);
            }
            let mut events: Vec<InteractionEvent> = vec![InteractionOffered {
                agent: agent.clone(),
                deadline: *deadline,
                at: *at,
            }
            .into()];
            if let Some(why) = explained {
                // The reasons are of this offer: its agent, a rank among those eligible.
                if why.agent != *agent {
                    return Err(Rejection::InvalidValue(
                        "the explanation must name the agent offered",
                    ));
                }
                if why.rank == 0 || why.rank > why.eligible {
                    return Err(Rejection::InvalidValue(
                        "the rank must be between 1 and the number eligible",
                    ));
                }
                events.push((**why).clone().into());
            }
            Ok(events)
        }
        C::AcceptOffer { agent, at } => {
            let (offered, deadline) = offer(cmd, state)?;
            if offered != agent {
                return Err(Rejection::NotYourOffer {
                    agent: agent.clone(),
                });
            }
            if *at > deadline {
                return Err(Rejection::DeadlinePassed);
            }
            Ok(vec![OfferAccepted {
                agent: agent.clone(),
                at: *at,
            }
            .into()])
        }
        C::RejectOffer { agent, at } => {
            let (offered, _) = offer(cmd, state)?;
            if offered != agent {
                return Err(Rejection::NotYourOffer {
                    agent: agent.clone(),
                });
            }
            Ok(vec![OfferRejected {
                agent: agent.clone(),
                at: *at,
            }
            .into()])
        }
        C::ExpireOffer { at } => {
            let (agent, deadline) = offer(cmd, state)?;
            if *at < deadline {
                return Err(Rejection::DeadlineNotReached);
            }
            Ok(vec![OfferExpired {
                agent: agent.clone(),
                at: *at,
            }
            .into()])
        }
        C::WithdrawOffer { reason, at } => {
            let (agent, _) = offer(cmd, state)?;
            if reason.trim().is_empty() {
                return Err(Rejection::ReasonRequired);
            }
            Ok(vec![OfferWithdrawn {
                agent: agent.clone(),
                reason: reason.clone(),
                at: *at,
            }
            .into()])
        }
        // Not a command of this concern (the dispatcher sends none here).
        _ => Err(super::rules::invalid(cmd, state)),
    }
}

/// The standing offer: inbound work offered to an agent, or a reply offered to a reviewer (a
/// reply in another state is refused as the state does not allow it; inbound work, likewise).
fn offer<'a>(
    cmd: &InteractionCommand,
    state: &'a Interaction,
) -> Result<(&'a crate::domain::AgentId, crate::domain::Millis), Rejection> {
    state.status.offer().ok_or_else(|| invalid(cmd, state))
}
