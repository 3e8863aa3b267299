//! The event log: envelopes, their codec and hash chain, the store trait, the sled store with its
//! group-commit writer, live subscriptions, upcasting of old schema versions, and audit export.

pub mod aggregate;
pub mod codec;
pub mod envelope;
pub mod export;
pub mod query;
pub mod sled_store;
pub mod store;
pub mod subscription;
pub mod upcast;

pub use envelope::{AppendRequest, AppendResult, ExpectedVersion, NewEvent, RecordedEvent};
pub use sled_store::{Durability, SledStore, StoreOptions};
pub use store::{Content, EventStore, PendingAppend, StoreError};
pub use subscription::Subscription;
pub use upcast::DomainEvent;
