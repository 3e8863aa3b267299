//! Read models derived from the log: the interaction cache, queues, agent workloads and users.
//!
//! Every projection is a pure function of the events it has seen, so each can be rebuilt from
//! position 0 (`rebuild`) and must then equal the live one. A snapshot on disk lets start-up skip
//! the replay; it names the position and hash it was taken at, so a snapshot that does not belong
//! to this log is discarded.

pub mod cache;
pub mod contacts;
pub mod queues;
pub mod runner;
pub mod snapshot;
pub mod users;
pub mod workloads;

use crate::domain::interaction::{evolve, Interaction};
use crate::domain::InteractionId;
use crate::events::{DomainEvent, RecordedEvent};

pub use cache::InteractionCache;
pub use contacts::{Contact, Contacts};
pub use queues::{QueueEntry, Queues};
pub use runner::ProjectionRunner;
pub use users::Users;
pub use workloads::{AgentWorkload, Workloads};

/// All projections, fed together from one subscription.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Projections {
    pub cache: InteractionCache,
    pub queues: Queues,
    pub workloads: Workloads,
    pub users: Users,
    pub contacts: Contacts,
    /// Interactions received but not yet placed by the workflow (a crash can leave some).
    pub awaiting_workflow: std::collections::BTreeSet<InteractionId>,
    /// The position of the last event applied.
    pub checkpoint: u64,
    /// The hash of that event (the snapshot's proof of which log it belongs to).
    pub checkpoint_hash: [u8; 32],
    /// Events this build could not decode (newer schema or unknown types), counted, not fatal.
    pub undecodable: u64,
}

impl Projections {
    /// Applies one recorded event. Events at or before the checkpoint are ignored (idempotent).
    pub fn apply(&mut self, e: &RecordedEvent) {
        if e.position <= self.checkpoint {
            return;
        }
        self.checkpoint = e.position;
        self.checkpoint_hash = e.hash;
        let event = match DomainEvent::from_recorded(e) {
            Ok(ev) => ev,
            Err(err) => {
                self.undecodable += 1;
                tracing::warn!(position = e.position, error = %err, "projection skipped an event");
                return;
            }
        };
        match event {
            DomainEvent::Interaction(ev) => {
                let Some(id) = InteractionId::from_stream(&e.stream) else {
                    return;
                };
                let before = self.cache.get(&id).unwrap_or_default();
                let after = evolve(before.clone(), &ev);
                self.index(id, Some(&before), &after);
                self.cache.insert(id, &after);
            }
            DomainEvent::User(ev) => self.users.apply(&ev),
        }
    }

    /// Keeps queues and workloads in step with one interaction's change of state.
    fn index(&mut self, id: InteractionId, before: Option<&Interaction>, after: &Interaction) {
        self.queues.update(id, before, after);
        self.workloads.update(id, before, after);
        self.contacts.update(id, before, after);
        if after.status == crate::domain::interaction::Status::Received {
            self.awaiting_workflow.insert(id);
        } else {
            self.awaiting_workflow.remove(&id);
        }
    }

    /// Builds the derived indexes (queues, workloads) from the cache: used after loading a snapshot.
    pub fn reindex(&mut self) {
        self.queues = Queues::default();
        self.workloads = Workloads::default();
        self.awaiting_workflow.clear();
        self.contacts = Contacts::default();
        let entries: Vec<(InteractionId, Interaction)> = self.cache.iter().collect();
        for (id, state) in &entries {
            self.index(*id, None, state);
        }
    }
}
