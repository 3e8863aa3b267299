//! The rules: which command is allowed in which state, by whom, and what it records, a file per
//! concern. This file only sends each command to its concern. The inbound lifecycle
//! (`InboundStatus`) is decided by `receive`, `routing`, `work` and `supervisor`; the reply's
//! (`ReplyStatus`) by `reply`, its own decider, and its QA review (offers to reviewers included)
//! by `review`; a command for the other kind is `WrongKind`.
//! `answer` decides automatic answers: the plan and decision on the inbound interaction, and the
//! composed outbound interaction that starts in the outbox.

mod answer;
mod receive;
mod reply;
mod review;
mod routing;
mod rules;
mod service_level;
mod supervisor;
mod work;

use super::command::InteractionCommand;
use super::event::InteractionEvent;
use super::rejection::Rejection;
use super::state::Interaction;

/// Decides what a command records, or why it is refused.
pub fn decide(
    state: &Interaction,
    command: &InteractionCommand,
) -> Result<Vec<InteractionEvent>, Rejection> {
    use InteractionCommand as C;
    match command {
        C::Receive { .. } | C::Enqueue { .. } | C::Screen { .. } | C::RunProcess { .. } => {
            receive::decide(state, command)
        }
        // A reply waiting for review is offered to reviewers as inbound work is to agents.
        C::LockForRouting { .. }
        | C::UnlockRouting { .. }
        | C::Offer { .. }
        | C::AcceptOffer { .. }
        | C::RejectOffer { .. }
        | C::ExpireOffer { .. }
        | C::WithdrawOffer { .. } => routing::decide(state, command),
        C::StartReview { .. }
        | C::ApproveReply { .. }
        | C::ReturnForRevision { .. }
        | C::EditAndApprove { .. }
        | C::ReassignReview { .. } => review::decide(state, command),
        C::Transfer { .. }
        | C::StartConsultation { .. }
        | C::Contribute { .. }
        | C::EndConsultation { .. }
        | C::ReturnToQueue { .. }
        | C::RecordReply { .. }
        | C::MarkDone { .. }
        | C::Categorise { .. } => work::decide(state, command),
        C::SupervisorMove { .. }
        | C::SupervisorReprioritise { .. }
        | C::SupervisorAssign { .. }
        | C::EditAttributes { .. }
        | C::Stop { .. } => supervisor::decide(state, command),
        C::DraftReply { .. }
        | C::UpdateDraft { .. }
        | C::ReleaseReply { .. }
        | C::SendReply { .. }
        | C::QueueOutbound { .. }
        | C::StartSending { .. }
        | C::MarkSent { .. }
        | C::MarkSendFailed { .. }
        | C::RecordDeliveryReport { .. } => reply::decide(state, command),
        C::RecordBreach { .. } => service_level::decide(state, command),
        C::PlanAutoAnswer { .. }
        | C::SuppressAutoAnswer { .. }
        | C::RecordAutoAnswer { .. }
        | C::ComposeAnswer { .. } => answer::decide(state, command),
    }
}
