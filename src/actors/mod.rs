//! Actors: thin shells that run commands through the deciders and append what they decide.

pub mod imap_conn;
pub mod ingest;
pub mod interaction;
pub mod registry;
pub mod users;
pub mod workflow;

pub use interaction::{Execute, InteractionActor, Outcome};
pub use registry::{CommandEnvelope, EngineError, Registry, RegistryOptions};
