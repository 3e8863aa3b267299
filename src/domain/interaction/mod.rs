//! The interaction aggregate: one inbound message or one reply, as a decider.
//!
//! `decide(&state, &command)` holds every business rule of the lifecycle and answers the events to
//! record or a [`Rejection`]; `evolve(state, &event)` only applies what an event says.

mod command;
mod decide;
mod event;
mod evolve;
mod rejection;
mod state;
#[cfg(test)]
mod tests;

pub use command::*;
pub use decide::decide;
pub use event::*;
pub use evolve::evolve;
pub use rejection::Rejection;
pub use state::*;

use crate::domain::aggregate::{Aggregate, RejectionKind};
use crate::domain::InteractionId;

impl crate::domain::aggregate::Rejection for Rejection {
    fn kind(&self) -> RejectionKind {
        use Rejection as R;
        match self {
            R::NotFound => RejectionKind::NotFound,
            R::NotOwner { .. }
            | R::NotYourOffer { .. }
            | R::NotReviewer { .. }
            | R::NotConsulted { .. }
            | R::SelfReview => RejectionKind::Forbidden,
            R::DeadlineInPast
            | R::CannotConsultSelf
            | R::CannotTransferToSelf
            | R::ReasonRequired
            | R::InvalidValue(_) => RejectionKind::Invalid,
            R::AlreadyExists
            | R::WrongKind { .. }
            | R::InvalidState { .. }
            | R::LockedByRouting { .. }
            | R::BeingWorked { .. }
            | R::Finished { .. }
            | R::DeadlinePassed
            | R::DeadlineNotReached
            | R::ConsultationActive
            | R::AlreadyConsulting { .. }
            | R::NotConsulting { .. }
            | R::NoQueue
            | R::AlreadySent => RejectionKind::Conflict,
        }
    }
}

impl Aggregate for Interaction {
    type Id = InteractionId;
    type Command = InteractionCommand;
    type Event = InteractionEvent;
    type Rejection = Rejection;
    const KIND: &'static str = "interaction";

    fn stream(id: &InteractionId) -> String {
        id.stream()
    }
    fn decide(&self, command: &InteractionCommand) -> Result<Vec<InteractionEvent>, Rejection> {
        decide(self, command)
    }
    fn evolve(self, event: &InteractionEvent) -> Self {
        evolve(self, event)
    }
    fn event_type(event: &InteractionEvent) -> &'static str {
        event.event_type()
    }
    fn exists(&self) -> bool {
        Interaction::exists(self)
    }
}
