//! The interaction aggregate: one inbound message or one reply, as a decider.
//!
//! `decide(&state, &command)` holds every business rule of the lifecycle and answers the events to
//! record or a [`Rejection`]; `evolve(state, &event)` only applies what an event says.

mod command;
mod decide;
mod event;
mod state;
#[cfg(test)]
mod tests;

pub use command::*;
pub use decide::{decide, evolve, Rejection};
pub use event::*;
pub use state::*;
