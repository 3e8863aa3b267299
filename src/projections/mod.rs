//! Read models derived from the log: the interaction cache, queues, agent workloads and users.
//!
//! Every projection is a pure function of the events it has seen, so each can be rebuilt from
//! position 0 (`rebuild`) and must then equal the live one. A snapshot on disk lets start-up skip
//! the replay; it names the position and hash it was taken at, so a snapshot that does not belong
//! to this log is discarded.

pub mod agents;
pub mod all;
pub mod authors;
pub mod cache;
pub mod contacts;
pub mod outgoing;
pub mod queues;
pub mod response_search;
pub mod responses;
pub mod runner;
pub mod service_levels;
pub mod snapshot;
pub mod threads;
pub mod trend;
pub mod users;
pub mod workloads;

pub use all::Projections;
pub use cache::InteractionCache;
pub use contacts::{Contact, Contacts};
pub use queues::{QueueEntry, Queues};
pub use runner::ProjectionRunner;
pub use users::Users;
pub use workloads::{AgentWorkload, Workloads};

#[cfg(test)]
mod tests;
