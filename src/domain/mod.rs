//! Pure domain logic: deciders, value types and business rules, with no I/O, clock or framework.
//!
//! Everything here is plain data and plain functions. Time and identifiers arrive inside commands,
//! so every rule can be tested without actors, servers or disks.

pub mod address;
pub mod agent;
pub mod aggregate;
pub mod chars;
pub mod diff;
pub mod header;
pub mod ids;
pub mod interaction;
pub mod loop_guard;
pub mod process_log;
pub mod qa;
pub mod response_template;
pub mod routing;
pub mod screening;
pub mod service_level;
pub mod standard_response;
pub mod text;
pub mod threading;
pub mod user;
pub mod workflow;

pub use address::EmailAddress;
pub use aggregate::{Aggregate, RejectionKind};
pub use ids::{AgentId, ContentRef, InteractionId, Millis, ParseError, Principal, QueueName};
