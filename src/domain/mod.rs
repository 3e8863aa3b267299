//! Pure domain logic: deciders, value types and business rules, with no I/O, clock or framework.
//!
//! Everything here is plain data and plain functions. Time and identifiers arrive inside commands,
//! so every rule can be tested without actors, servers or disks.

pub mod aggregate;
pub mod header;
pub mod ids;
pub mod interaction;
pub mod threading;
pub mod user;
pub mod workflow;

pub use aggregate::{Aggregate, RejectionKind};
pub use ids::{
    AgentId, ContentRef, EmailAddress, InteractionId, Millis, ParseError, Principal, QueueName,
};
