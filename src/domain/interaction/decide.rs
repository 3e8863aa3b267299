//! The rules: which command is allowed in which state, by whom, and what it records.

use super::command::{Actor, InteractionCommand};
use super::event::*;
use super::state::{DeliveryNote, Interaction, Kind, Status};
use crate::domain::AgentId;

/// A command that breaks a rule. Nothing is recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the interaction already exists")]
    AlreadyExists,
    #[error("no such interaction")]
    NotFound,
    #[error("{command} applies to {expected} interactions only")]
    WrongKind {
        command: &'static str,
        expected: &'static str,
    },
    #[error("{command} is not allowed while the interaction is {status}")]
    InvalidState {
        command: &'static str,
        status: &'static str,
    },
    #[error("routing holds this interaction (it is {status}); supervisors can act once it is back in a queue")]
    LockedByRouting { status: &'static str },
    #[error("an agent is working this interaction (it is {status}); supervisors can act only while it waits in a queue")]
    BeingWorked { status: &'static str },
    #[error("the interaction is finished ({status})")]
    Finished { status: &'static str },
    #[error("{agent} does not own this interaction")]
    NotOwner { agent: AgentId },
    #[error("the interaction is not offered to {agent}")]
    NotYourOffer { agent: AgentId },
    #[error("the offer's deadline has passed")]
    DeadlinePassed,
    #[error("the offer's deadline has not been reached yet")]
    DeadlineNotReached,
    #[error("the deadline must be later than the command's time")]
    DeadlineInPast,
    #[error("consultations are still open: end them first")]
    ConsultationActive,
    #[error("{agent} is already consulted")]
    AlreadyConsulting { agent: AgentId },
    #[error("{agent} is not consulted on this interaction")]
    NotConsulting { agent: AgentId },
    #[error("an agent cannot consult themselves")]
    CannotConsultSelf,
    #[error("an agent cannot transfer to themselves")]
    CannotTransferToSelf,
    #[error("the author of a reply cannot review it")]
    SelfReview,
    #[error("{agent} is not the reviewer of this reply")]
    NotReviewer { agent: AgentId },
    #[error("no queue given and the interaction has none to return to")]
    NoQueue,
    #[error("a reason must be given")]
    ReasonRequired,
    #[error("the reply was already sent")]
    AlreadySent,
    #[error("{0}")]
    InvalidValue(&'static str),
}

fn invalid(cmd: &InteractionCommand, state: &Interaction) -> Rejection {
    if state.status == Status::New {
        return Rejection::NotFound;
    }
    if state.status.is_terminal() {
        return Rejection::Finished {
            status: state.status.name(),
        };
    }
    Rejection::InvalidState {
        command: cmd.name(),
        status: state.status.name(),
    }
}

fn inbound_only(cmd: &InteractionCommand, state: &Interaction) -> Result<(), Rejection> {
    if state.exists() && state.is_reply() {
        return Err(Rejection::WrongKind {
            command: cmd.name(),
            expected: "inbound",
        });
    }
    Ok(())
}

fn reply_only(cmd: &InteractionCommand, state: &Interaction) -> Result<(), Rejection> {
    if state.exists() && !state.is_reply() {
        return Err(Rejection::WrongKind {
            command: cmd.name(),
            expected: "reply",
        });
    }
    Ok(())
}

fn require_owner(state: &Interaction, agent: &AgentId) -> Result<(), Rejection> {
    if state.owner.as_ref() != Some(agent) {
        return Err(Rejection::NotOwner {
            agent: agent.clone(),
        });
    }
    Ok(())
}

/// Supervisors may intervene only while the interaction waits in the system: received or queued,
/// neither locked by routing nor being worked by an agent (the seed's rule for ad hoc management).
fn supervisor_may_act(state: &Interaction) -> Result<(), Rejection> {
    let status = state.status.name();
    match &state.status {
        Status::Received | Status::Queued => Ok(()),
        Status::New => Err(Rejection::NotFound),
        s if s.is_locked_by_routing() => Err(Rejection::LockedByRouting { status }),
        s if s.is_terminal() => Err(Rejection::Finished { status }),
        _ => Err(Rejection::BeingWorked { status }),
    }
}

/// Decides what a command records, or why it is refused.
pub fn decide(
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
                Status::Received => Ok(vec![InteractionQueued {
                    queue: queue.clone(),
                    at: *at,
                }
                .into()]),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::LockForRouting { router, at } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Queued => Ok(vec![RoutingLocked {
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
                Status::Locked { .. } => Ok(vec![RoutingUnlocked { at: *at }.into()]),
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
                Status::Locked { .. } => {
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
                Status::Offered {
                    agent: offered,
                    deadline,
                } => {
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
                Status::Offered { agent: offered, .. } => {
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
                Status::Offered { agent, deadline } => {
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
        C::Transfer { agent, target, at } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Assigned => {
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
            at,
        } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Assigned => {
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
                Status::Assigned => {
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
        C::ReturnToQueue { agent, queue, at } => {
            inbound_only(cmd, state)?;
            match state.status {
                Status::Assigned => {
                    require_owner(state, agent)?;
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
                Status::Assigned | Status::Replied => {
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
        C::MarkDone { by, at } => {
            inbound_only(cmd, state)?;
            match (&state.status, by) {
                (Status::Assigned | Status::Replied, Actor::Agent(agent)) => {
                    require_owner(state, agent)?;
                    if !state.consultants.is_empty() {
                        return Err(Rejection::ConsultationActive);
                    }
                }
                // Components finish what waits in the system (an automatic response answered it)
                // or what an agent has replied to.
                (Status::Received | Status::Queued | Status::Replied, Actor::System(_)) => {}
                (Status::Received | Status::Queued, Actor::Agent(agent)) => {
                    return Err(Rejection::NotOwner {
                        agent: agent.clone(),
                    })
                }
                _ => return Err(invalid(cmd, state)),
            }
            Ok(vec![InteractionDone {
                by: by.label(),
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
        C::SupervisorMove {
            supervisor,
            queue,
            at,
        } => {
            inbound_only(cmd, state)?;
            supervisor_may_act(state)?;
            if state.status == Status::Queued && state.queue.as_ref() == Some(queue) {
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
        C::Stop { by, reason, at } => {
            if reason.trim().is_empty() {
                return Err(Rejection::ReasonRequired);
            }
            if state.is_reply() {
                // A reply can be stopped until it is on its way out.
                match state.status {
                    Status::Draft
                    | Status::Released
                    | Status::OutboundQueued
                    | Status::Approved
                    | Status::Failed { .. } => {}
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
        C::DraftReply {
            parent,
            agent,
            to,
            subject,
            content,
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
                at: *at,
            }
            .into()])
        }
        C::UpdateDraft { agent, content, at } => {
            reply_only(cmd, state)?;
            match state.status {
                Status::Draft => {
                    require_owner(state, agent)?;
                    Ok(vec![DraftUpdated {
                        agent: agent.clone(),
                        content: content.clone(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::ReleaseReply { agent, at } => {
            reply_only(cmd, state)?;
            match state.status {
                Status::Draft => {
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
        C::QueueOutbound { queue, at } => {
            reply_only(cmd, state)?;
            match state.status {
                Status::Released => Ok(vec![OutboundQueued {
                    queue: queue.clone(),
                    at: *at,
                }
                .into()]),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::StartReview { reviewer, at } => {
            reply_only(cmd, state)?;
            match state.status {
                Status::OutboundQueued => {
                    if state.owner.as_ref() == Some(reviewer) {
                        return Err(Rejection::SelfReview);
                    }
                    Ok(vec![ReviewStarted {
                        reviewer: reviewer.clone(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::ApproveReply { reviewer, at } => {
            reply_only(cmd, state)?;
            match &state.status {
                Status::InReview { reviewer: r } => {
                    if r != reviewer {
                        return Err(Rejection::NotReviewer {
                            agent: reviewer.clone(),
                        });
                    }
                    Ok(vec![ReplyApproved {
                        reviewer: reviewer.clone(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::ReturnForRevision { reviewer, note, at } => {
            reply_only(cmd, state)?;
            match &state.status {
                Status::InReview { reviewer: r } => {
                    if r != reviewer {
                        return Err(Rejection::NotReviewer {
                            agent: reviewer.clone(),
                        });
                    }
                    if note.trim().is_empty() {
                        return Err(Rejection::ReasonRequired);
                    }
                    Ok(vec![ReturnedForRevision {
                        reviewer: reviewer.clone(),
                        note: note.clone(),
                        at: *at,
                    }
                    .into()])
                }
                _ => Err(invalid(cmd, state)),
            }
        }
        C::StartSending { at } => {
            reply_only(cmd, state)?;
            match state.status {
                // Straight from the outbound queue when no review is required, after approval,
                // or again after a failed attempt.
                Status::OutboundQueued | Status::Approved | Status::Failed { .. } => {
                    Ok(vec![SendingStarted {
                        attempt: state.attempts + 1,
                        at: *at,
                    }
                    .into()])
                }
                Status::Sent { .. } => Err(Rejection::AlreadySent),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::MarkSent { message_id, at } => {
            reply_only(cmd, state)?;
            match state.status {
                Status::Sending { .. } => {
                    if message_id.trim().is_empty() {
                        return Err(Rejection::InvalidValue("the message id must not be empty"));
                    }
                    Ok(vec![ReplySent {
                        message_id: message_id.clone(),
                        at: *at,
                    }
                    .into()])
                }
                Status::Sent { .. } => Err(Rejection::AlreadySent),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::MarkSendFailed {
            error,
            retry_at,
            at,
        } => {
            reply_only(cmd, state)?;
            match state.status {
                Status::Sending { attempt } => {
                    if retry_at.is_some_and(|r| r <= *at) {
                        return Err(Rejection::DeadlineInPast);
                    }
                    Ok(vec![SendFailed {
                        attempt,
                        error: error.clone(),
                        retry_at: *retry_at,
                        at: *at,
                    }
                    .into()])
                }
                Status::Sent { .. } => Err(Rejection::AlreadySent),
                _ => Err(invalid(cmd, state)),
            }
        }
        C::RecordDeliveryReport { report } => {
            reply_only(cmd, state)?;
            // Only a reply handed to the mailer can be reported on.
            match state.status {
                Status::Sending { .. } | Status::Sent { .. } | Status::Failed { .. } => {}
                _ => return Err(invalid(cmd, state)),
            }
            // The same report fetched again (a crash before its move) is recorded once.
            if state.delivery.iter().any(|d| d.identity == report.identity) {
                return Err(Rejection::AlreadyExists);
            }
            Ok(vec![(**report).clone().into()])
        }
    }
}

/// Applies one event. No rule is checked here: the event already happened.
pub fn evolve(mut s: Interaction, event: &InteractionEvent) -> Interaction {
    use InteractionEvent as E;
    s.version += 1;
    s.updated_at = event.at();
    match event {
        E::InteractionReceived(e) => {
            s.kind = Kind::Inbound;
            s.status = Status::Received;
            s.channel = Some(e.channel);
            s.from = e.from.clone();
            s.from_name = e.from_name.clone();
            s.subject = e.subject.clone();
            s.content = e.content.clone();
            s.priority = e.priority;
            s.created_at = e.at;
        }
        E::InteractionQueued(e) => {
            s.status = Status::Queued;
            s.queue = Some(e.queue.clone());
        }
        E::RoutingLocked(e) => {
            s.status = Status::Locked {
                router: e.router.clone(),
            }
        }
        E::RoutingUnlocked(_) => s.status = Status::Queued,
        E::InteractionOffered(e) => {
            s.status = Status::Offered {
                agent: e.agent.clone(),
                deadline: e.deadline,
            }
        }
        E::OfferAccepted(e) => {
            s.status = Status::Assigned;
            s.owner = Some(e.agent.clone());
        }
        E::OfferRejected(_) | E::OfferExpired(_) => {
            s.status = Status::Queued;
            s.owner = None;
        }
        E::InteractionTransferred(e) => {
            s.owner = None;
            s.consultants.clear();
            match &e.target {
                TransferTarget::Agent { agent, deadline } => {
                    s.status = Status::Offered {
                        agent: agent.clone(),
                        deadline: *deadline,
                    }
                }
                TransferTarget::Queue { queue } => {
                    s.status = Status::Queued;
                    s.queue = Some(queue.clone());
                }
            }
        }
        E::ConsultationStarted(e) => s.consultants.push(e.consultant.clone()),
        E::ConsultationEnded(e) => s.consultants.retain(|c| c != &e.consultant),
        E::ReturnedToQueue(e) => {
            s.status = Status::Queued;
            s.queue = Some(e.queue.clone());
            s.owner = None;
        }
        E::InteractionReplied(e) => {
            s.status = Status::Replied;
            s.replies.push(e.reply);
        }
        E::InteractionDone(_) => s.status = Status::Done,
        E::MovedBySupervisor(e) => {
            s.status = Status::Queued;
            s.queue = Some(e.to_queue.clone());
        }
        E::Reprioritised(e) => s.priority = e.priority,
        E::AssignedBySupervisor(e) => {
            s.status = Status::Assigned;
            s.owner = Some(e.agent.clone());
        }
        E::InteractionStopped(e) => {
            s.status = Status::Stopped {
                reason: e.reason.clone(),
            }
        }
        E::InteractionCategorised(e) => s.category = Some(e.category.clone()),
        E::MessageStored(e) => {
            s.malformed = !e.problems.is_empty();
            s.message_id = e.message_id.clone();
        }
        E::ThreadLinked(e) => {
            s.thread = Some(e.thread);
            s.thread_match = Some(e.matched_by);
        }
        E::DeliveryReported(e) => s.delivery.push(DeliveryNote {
            identity: e.identity.clone(),
            action: e.action.clone(),
            status: e.status.clone(),
            recipient: e.recipient.clone(),
            at: e.at,
        }),
        E::ReplyDrafted(e) => {
            s.kind = Kind::Reply { parent: e.parent };
            s.status = Status::Draft;
            s.owner = Some(e.agent.clone());
            s.from = e.to.clone();
            s.subject = e.subject.clone();
            s.content = e.content.clone();
            s.created_at = e.at;
        }
        E::DraftUpdated(e) => s.content = e.content.clone(),
        E::ReplyReleased(_) => s.status = Status::Released,
        E::OutboundQueued(e) => {
            s.status = Status::OutboundQueued;
            s.queue = Some(e.queue.clone());
        }
        E::ReviewStarted(e) => {
            s.status = Status::InReview {
                reviewer: e.reviewer.clone(),
            }
        }
        E::ReplyApproved(_) => s.status = Status::Approved,
        E::ReturnedForRevision(_) => {
            s.status = Status::Draft;
            s.revisions += 1;
        }
        E::SendingStarted(e) => {
            s.status = Status::Sending { attempt: e.attempt };
            s.attempts = e.attempt;
        }
        E::ReplySent(e) => {
            s.status = Status::Sent {
                message_id: e.message_id.clone(),
            }
        }
        E::SendFailed(e) => {
            s.status = Status::Failed {
                attempt: e.attempt,
                retry_at: e.retry_at,
            }
        }
    }
    s
}
