//! The shape every aggregate shares: a decider over a state, commands, events and rejections.
//!
//! The generic shells (`events::aggregate` loads a stream into state; `actors::aggregate` runs
//! commands one at a time and appends what they decide) work for any type implementing
//! [`Aggregate`], so a new aggregate is a decider and nothing else.

use std::fmt::Display;

/// What a refused command means to a caller, whatever the aggregate: the one place HTTP (or any
/// other shell) maps a rejection to an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionKind {
    /// The thing the command is about does not exist.
    NotFound,
    /// The caller is not the one allowed to do this (not the owner, not the reviewer).
    Forbidden,
    /// The command does not fit the current state (or the state changed).
    Conflict,
    /// A value in the command is not acceptable, whatever the state.
    Invalid,
}

/// A broken rule, classified.
pub trait Rejection: std::error::Error + Clone + Send + Sync + Unpin + 'static {
    fn kind(&self) -> RejectionKind;
}

/// A decider: `decide` holds every rule, `evolve` only applies what an event says.
pub trait Aggregate: Clone + Default + Send + 'static {
    /// What names one instance (its stream is derived from it).
    type Id: Clone + Display + Eq + std::hash::Hash + Send + Sync + Unpin + 'static;
    type Command: Clone + Send + 'static;
    type Event: Clone + Send + 'static;
    type Rejection: Rejection;

    /// A short name for logs ("interaction", "user").
    const KIND: &'static str;

    /// The name of the instance's stream in the log.
    fn stream(id: &Self::Id) -> String;

    /// The events a command records in this state, or the rule it breaks.
    fn decide(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Rejection>;

    /// The state after one event.
    fn evolve(self, event: &Self::Event) -> Self;

    /// The event's type name, as recorded in the log.
    fn event_type(event: &Self::Event) -> &'static str;

    /// Whether the instance exists (has recorded anything).
    fn exists(&self) -> bool;
}

/// Applies events in order.
pub fn fold<A: Aggregate>(state: A, events: &[A::Event]) -> A {
    events.iter().fold(state, |s, e| s.evolve(e))
}
