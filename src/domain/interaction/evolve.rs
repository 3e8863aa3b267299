//! Applying events to an interaction's state. No rule is checked here: the event already happened.

use super::event::*;
use super::state::{
    AutoAnswer, DeliveryNote, Interaction, Kind, ProcessState, ServiceLevel, Status,
};
use crate::domain::interaction::{InboundStatus, ReplyStatus};

/// Applies one event. No rule is checked here: the event already happened.
pub fn evolve(mut s: Interaction, event: &InteractionEvent) -> Interaction {
    use InteractionEvent as E;
    s.version += 1;
    s.updated_at = event.at();
    match event {
        E::InteractionReceived(e) => {
            s.kind = Kind::Inbound;
            s.status = Status::Inbound(InboundStatus::Received);
            s.channel = Some(e.channel);
            s.from = e.from.clone();
            s.from_name = e.from_name.clone();
            s.subject = e.subject.clone();
            s.content = e.content.clone();
            s.priority = e.priority;
            s.created_at = e.at;
        }
        E::InteractionQueued(e) => {
            s.status = Status::Inbound(InboundStatus::Queued);
            s.queue = Some(e.queue.clone());
        }
        E::RoutingLocked(e) => {
            s.status = Status::Inbound(InboundStatus::Locked {
                router: e.router.clone(),
            })
        }
        E::RoutingUnlocked(_) => s.status = Status::Inbound(InboundStatus::Queued),
        // A reply is offered to a reviewer; an inbound interaction to an agent who works it.
        E::InteractionOffered(e) if s.is_reply() => {
            s.status = Status::Reply(ReplyStatus::ReviewOffered {
                reviewer: e.agent.clone(),
                deadline: e.deadline,
            });
            if !s.offered_to.contains(&e.agent) {
                s.offered_to.push(e.agent.clone());
            }
        }
        E::InteractionOffered(e) => {
            s.status = Status::Inbound(InboundStatus::Offered {
                agent: e.agent.clone(),
                deadline: e.deadline,
            });
            if !s.offered_to.contains(&e.agent) {
                s.offered_to.push(e.agent.clone());
            }
        }
        // Routing's reasons: read from the history.
        E::OfferExplained(_) => {}
        // The author stays the reply's owner; the reviewer reads it.
        E::OfferAccepted(e) if s.is_reply() => {
            s.status = Status::Reply(ReplyStatus::InReview {
                reviewer: e.agent.clone(),
            })
        }
        E::OfferRejected(_) | E::OfferExpired(_) | E::OfferWithdrawn(_) if s.is_reply() => {
            s.status = Status::Reply(ReplyStatus::AwaitingReview)
        }
        E::OfferAccepted(e) => {
            s.status = Status::Inbound(InboundStatus::Assigned);
            s.owner = Some(e.agent.clone());
        }
        E::OfferRejected(_) | E::OfferExpired(_) | E::OfferWithdrawn(_) => {
            s.status = Status::Inbound(InboundStatus::Queued);
            s.owner = None;
        }
        E::InteractionTransferred(e) => {
            s.owner = None;
            s.consultants.clear();
            match &e.target {
                TransferTarget::Agent { agent, deadline } => {
                    s.status = Status::Inbound(InboundStatus::Offered {
                        agent: agent.clone(),
                        deadline: *deadline,
                    })
                }
                TransferTarget::Queue { queue } => {
                    s.status = Status::Inbound(InboundStatus::Queued);
                    s.queue = Some(queue.clone());
                }
            }
        }
        E::ConsultationStarted(e) => s.consultants.push(e.consultant.clone()),
        E::ConsultationEnded(e) => s.consultants.retain(|c| c != &e.consultant),
        E::ConsultationContributed(_) => {}
        E::ReturnedToQueue(e) => {
            s.status = Status::Inbound(InboundStatus::Queued);
            s.queue = Some(e.queue.clone());
            s.owner = None;
        }
        E::InteractionReplied(e) => {
            s.status = Status::Inbound(InboundStatus::Replied);
            s.replies.push(e.reply);
            if let Some(sla) = s.service_level.as_mut() {
                sla.first_response_at.get_or_insert(e.at);
            }
        }
        E::InteractionDone(e) => {
            s.status = Status::Inbound(InboundStatus::Done);
            if let Some(sla) = s.service_level.as_mut() {
                sla.resolved_at.get_or_insert(e.at);
            }
        }
        E::ServiceLevelSet(e) => {
            s.service_level = Some(ServiceLevel {
                queue: e.queue.clone(),
                first_response_due: e.first_response_due,
                first_response_at_risk: e.first_response_at_risk,
                resolution_due: e.resolution_due,
                resolution_at_risk: e.resolution_at_risk,
                escalate_priority: e.escalate_priority,
                first_response_at: None,
                resolved_at: None,
                first_response_breached: false,
                resolution_breached: false,
            })
        }
        E::ServiceLevelBreached(e) => {
            if let Some(sla) = s.service_level.as_mut() {
                match e.target.as_str() {
                    "first_response" => sla.first_response_breached = true,
                    _ => sla.resolution_breached = true,
                }
            }
            if let Some(p) = e.priority {
                s.priority = p;
            }
        }
        E::MovedBySupervisor(e) => {
            s.status = Status::Inbound(InboundStatus::Queued);
            s.queue = Some(e.to_queue.clone());
        }
        E::Reprioritised(e) => s.priority = e.priority,
        E::AttributesEdited(e) => {
            for k in &e.removed {
                s.attributes.remove(k);
            }
            s.attributes
                .extend(e.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        E::AssignedBySupervisor(e) => {
            s.status = Status::Inbound(InboundStatus::Assigned);
            s.owner = Some(e.agent.clone());
        }
        E::InteractionStopped(e) => {
            s.status = Status::Stopped {
                reason: e.reason.clone(),
            }
        }
        E::InteractionCategorised(e) => {
            s.category = Some(e.category.clone());
            s.categories.retain(|(c, _)| c != &e.category);
            s.categories
                .push((e.category.clone(), e.confidence_permille));
        }
        E::InteractionScreened(e) => {
            s.screened = Some(e.version.clone());
            s.language = e.language.clone();
            if let Some(p) = e.priority {
                s.priority = p;
            }
            s.attributes
                .extend(e.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        E::ProcessRan(e) => {
            s.process = Some(ProcessState {
                version: e.version.clone(),
                queue: e.queue.clone(),
                skills: e.skills.clone(),
                response: e.response,
            });
            if let Some(p) = e.priority {
                s.priority = p;
            }
            s.attributes
                .extend(e.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        E::MessageStored(e) => {
            s.malformed = !e.problems.is_empty();
            s.message_id = e.message_id.clone();
            s.raw = e.raw.clone();
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
            s.status = Status::Reply(ReplyStatus::Draft);
            s.owner = Some(e.agent.clone());
            s.from = e.to.clone();
            s.subject = e.subject.clone();
            s.content = e.content.clone();
            s.created_at = e.at;
        }
        E::DraftUpdated(e) => s.content = e.content.clone(),
        E::ReplyReleased(_) => s.status = Status::Reply(ReplyStatus::Released),
        E::ReplyComposed(e) => {
            s.outbound = Some(e.message.clone());
            s.message_id = Some(e.message_id.clone());
        }
        E::OutboundQueued(e) => {
            s.status = Status::Reply(ReplyStatus::OutboundQueued);
            s.queue = Some(e.queue.clone());
        }
        E::ReviewStarted(e) => {
            s.status = Status::Reply(ReplyStatus::InReview {
                reviewer: e.reviewer.clone(),
            })
        }
        E::ReplyApproved(_) => s.status = Status::Reply(ReplyStatus::Approved),
        E::ReturnedForRevision(_) => {
            s.status = Status::Reply(ReplyStatus::Draft);
            s.revisions += 1;
            // The next review round may go to any reviewer again.
            s.offered_to.clear();
        }
        E::ReviewDecided(e) => {
            if e.required {
                s.status = Status::Reply(ReplyStatus::AwaitingReview);
                if let Some(q) = &e.queue {
                    s.queue = Some(q.clone());
                }
            }
        }
        E::ReviewEdited(e) => {
            s.content = e.content.clone();
            s.outbound = Some(e.message.clone());
        }
        E::ReviewReassigned(e) => {
            s.status = Status::Reply(ReplyStatus::InReview {
                reviewer: e.to.clone(),
            })
        }
        E::SendingStarted(e) => {
            s.status = Status::Reply(ReplyStatus::Sending { attempt: e.attempt });
            s.attempts = e.attempt;
        }
        E::ReplySent(e) => {
            s.status = Status::Reply(ReplyStatus::Sent {
                message_id: e.message_id.clone(),
            })
        }
        E::AutoAnswerPlanned(e) => s.auto_answer = Some(AutoAnswer::Planned { usage: e.usage }),
        E::AutoAnswerSuppressed(e) => {
            s.auto_answer = Some(AutoAnswer::Suppressed {
                code: e.code.clone(),
            })
        }
        E::AutoAnswered(e) => {
            s.auto_answer = Some(AutoAnswer::Answered {
                usage: e.usage,
                reply: e.reply,
                at: e.at,
            })
        }
        E::AnswerComposed(e) => {
            s.kind = Kind::Reply { parent: e.parent };
            s.status = Status::Reply(ReplyStatus::OutboundQueued);
            s.from = e.to.clone();
            s.subject = e.subject.clone();
            s.outbound = Some(e.message.clone());
            s.message_id = Some(e.message_id.clone());
            s.created_at = e.at;
        }
        E::SendFailed(e) => {
            s.last_error = Some(e.error.clone());
            s.status = Status::Reply(ReplyStatus::Failed {
                attempt: e.attempt,
                retry_at: e.retry_at,
            })
        }
    }
    s
}
