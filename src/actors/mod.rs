//! Actors: thin shells that run commands through the deciders and append what they decide.

pub mod aggregate;
pub mod registry;
pub mod users;

pub use aggregate::{AggregateActor, Execute};
pub use registry::{Registry, RegistryOptions};

use crate::domain::interaction::{Interaction, InteractionCommand, Rejection};
use crate::domain::InteractionId;

/// A command for an interaction, with its envelope.
pub type CommandEnvelope = crate::events::aggregate::CommandEnvelope<InteractionCommand>;
/// What can go wrong running an interaction's command.
pub type EngineError = crate::events::aggregate::CommandError<Rejection>;
/// What an interaction's command did.
pub type Outcome = aggregate::Outcome<InteractionId>;
/// The registry of interaction actors.
pub type Interactions = Registry<Interaction>;
