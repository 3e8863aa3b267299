//! Routing: the lock while a router looks for an agent, offers with deadlines, accepting, rejecting and expiring them.

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
        } => {
            inbound_only(cmd, state)?;
            match state.status {
                // Only routing offers, and only while it holds the lock.
                Status::Inbound(InboundStatus::Locked { .. }) => {
                    if deadline <= at {
                        return Err(Rejection::DeadlineInPast);
                    }
                    Ok(vec![InteractionOffered {
                        agent: agent.clone(),
                        deadline: *deadline,
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::AcceptOffer { agent, at } => {
            inbound_only(cmd, state)?;
            match &state.status {
                Status::Inbound(InboundStatus::Offered {
                    agent: offered,
                    deadline,
                }) => {
                    if offered != agent {
                        return Err(Rejection::NotYourOffer {
                            agent: agent.clone(),
                        });
                    }
                    if at > deadline {
                        return Err(Rejection::DeadlinePassed);
                    }
                    Ok(vec![OfferAccepted {
                        agent: agent.clone(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::RejectOffer { agent, at } => {
            inbound_only(cmd, state)?;
            match &state.status {
                Status::Inbound(InboundStatus::Offered { agent: offered, .. }) => {
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
                _ => Err(invalid(cmd, state)),
            }
        }
        C::ExpireOffer { at } => {
            inbound_only(cmd, state)?;
            match &state.status {
                Status::Inbound(InboundStatus::Offered { agent, deadline }) => {
                    if at < deadline {
                        return Err(Rejection::DeadlineNotReached);
                    }
                    Ok(vec![OfferExpired {
                        agent: agent.clone(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::WithdrawOffer { reason, at } => {
            inbound_only(cmd, state)?;
            match &state.status {
                Status::Inbound(InboundStatus::Offered { agent, .. }) => {
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
                _ => Err(invalid(cmd, state)),
            }
        }
        C::ExplainOffer { explained } => {
            inbound_only(cmd, state)?;
            match &state.status {
                // Right after the offer it explains.
                Status::Inbound(InboundStatus::Offered { agent, .. })
                    if *agent == explained.agent =>
                {
                    if explained.rank == 0 || explained.rank > explained.eligible {
                        return Err(Rejection::InvalidValue(
                            "the rank must be between 1 and the number eligible",
                        ));
                    }
                    Ok(vec![(**explained).clone().into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        // Not a command of this concern (the dispatcher sends none here).
        _ => Err(super::rules::invalid(cmd, state)),
    }
}
