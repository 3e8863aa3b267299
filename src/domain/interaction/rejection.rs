//! Why a command on an interaction is refused. Nothing is recorded.

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
    #[error("{agent} is not consulted on this interaction, so cannot contribute to it")]
    NotConsulted { agent: AgentId },
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
