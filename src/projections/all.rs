//! All projections together, fed from one subscription: what each event changes in the cache,
//! the queues, the workloads, the users, the contacts and the threads.

use super::cache::InteractionCache;
use super::contacts::Contacts;
use super::outgoing::Outgoing;
use super::queues::Queues;
use super::threads;
use super::users::Users;
use super::workloads::Workloads;
use crate::domain::interaction::{evolve, Interaction, InteractionEvent};
use crate::domain::InteractionId;
use crate::events::{DomainEvent, RecordedEvent};

/// All projections, fed together from one subscription.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Projections {
    pub cache: InteractionCache,
    pub queues: Queues,
    pub workloads: Workloads,
    /// Replies released, by author (the QA policy's first replies of a new agent).
    pub authors: super::authors::Authors,
    /// Service-level targets open and first responses made.
    pub service_levels: super::service_levels::ServiceLevels,
    /// Each queue's depth over the last week.
    pub trend: super::trend::QueueTrend,
    pub users: Users,
    pub contacts: Contacts,
    pub threads: threads::Threads,
    /// Standard responses.
    pub responses: super::responses::Responses,
    /// Agents: profiles and presence.
    pub agents: super::agents::Agents,
    /// Interactions received but not yet placed by the workflow (a crash can leave some).
    pub awaiting_workflow: std::collections::BTreeSet<InteractionId>,
    /// Automatic answers to decide and outbound mail to send.
    pub outgoing: Outgoing,
    /// Categories people set on interactions (an agent's or supervisor's correction of the
    /// classifier), the latest per interaction: what the classifier is retrained with.
    pub corrections: std::collections::BTreeMap<InteractionId, String>,
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
                if let (
                    InteractionEvent::InteractionCategorised(c),
                    crate::domain::Principal::User(_),
                ) = (&ev, &e.principal)
                {
                    self.corrections.insert(id, c.category.clone());
                }
                let at = crate::domain::Millis(e.recorded_at_micros.div_euclid(1000));
                for queue in self.apply_interaction(id, &ev) {
                    let depth = self.queues.depth(&queue).unwrap_or(0);
                    self.trend.record(&queue, depth, at);
                }
            }
            DomainEvent::User(ev) => self.users.apply(&ev),
            DomainEvent::Response(ev) => {
                let id = e
                    .stream
                    .strip_prefix("response-")
                    .and_then(crate::domain::standard_response::ResponseId::parse);
                if let Some(id) = id {
                    self.responses.apply(id, &ev);
                }
            }
            // The process's versions: read from the log where needed (the audit, the CLI).
            DomainEvent::Process(_) => {}
            DomainEvent::Agent(ev) => {
                if let Some(name) = e
                    .stream
                    .strip_prefix("agent-")
                    .and_then(|n| crate::domain::AgentId::parse(n).ok())
                {
                    self.agents.apply(name, &ev);
                }
            }
        }
    }

    /// Applies one event to an interaction; answers the queues whose depth it changed.
    pub(super) fn apply_interaction(
        &mut self,
        id: InteractionId,
        ev: &InteractionEvent,
    ) -> Vec<crate::domain::QueueName> {
        let before = self.cache.get(&id).unwrap_or_default();
        let after = evolve(before.clone(), ev);
        let changed = self.index(id, Some(&before), &after);
        self.cache.insert(id, &after);
        changed
    }

    /// Keeps queues and workloads in step with one interaction's change of state; answers the
    /// queues whose depth changed.
    fn index(
        &mut self,
        id: InteractionId,
        before: Option<&Interaction>,
        after: &Interaction,
    ) -> Vec<crate::domain::QueueName> {
        let changed = self.queues.update(id, before, after);
        self.workloads.update(id, before, after);
        self.authors.update(id, after);
        self.service_levels.update(id, before, after);
        self.contacts.update(id, before, after);
        self.outgoing.update(id, before, after);
        let cache = &self.cache;
        self.threads
            .update(id, before, after, |parent| cache.get(&parent));
        if after.status
            == crate::domain::interaction::Status::Inbound(
                crate::domain::interaction::InboundStatus::Received,
            )
        {
            self.awaiting_workflow.insert(id);
        } else {
            self.awaiting_workflow.remove(&id);
        }
        changed
    }

    /// The thread a new inbound interaction `id` joins: by one of our Message-IDs among
    /// `referenced` (newest first), then by a token in its subject from the thread's own contact,
    /// else a thread of its own.
    pub fn find_thread(
        &self,
        id: InteractionId,
        referenced: &[String],
        subject: &str,
        contact: &str,
    ) -> crate::domain::interaction::ThreadLink {
        use crate::domain::interaction::{ThreadLink, ThreadMatch};
        // Never itself (a message listing its own Message-ID, or fetched again after a crash).
        let state_of = |i: InteractionId| (i != id).then(|| self.cache.get(&i)).flatten();
        let tokens = crate::domain::threading::tokens_in_subject(subject);
        let found = self
            .threads
            .by_header(referenced, state_of)
            .or_else(|| self.threads.by_token(&tokens, contact, state_of));
        match found {
            Some(f) => ThreadLink {
                thread: f.thread,
                matched_by: f.matched_by,
                reference: Some(f.reference),
                answers: Some(f.answers),
            },
            None => ThreadLink {
                thread: id,
                matched_by: ThreadMatch::None,
                reference: None,
                answers: None,
            },
        }
    }

    /// The thread an interaction belongs to: an inbound one's own link, a reply's parent's.
    pub fn thread_of(&self, id: InteractionId, state: &Interaction) -> InteractionId {
        state.thread_with(id, |parent| self.cache.get(&parent))
    }

    /// The reply a delivery report is about, from the Message-ID it quotes.
    pub fn reply_for_report(&self, original_message_id: &str) -> Option<InteractionId> {
        let id = self.threads.reply_by_message_id(original_message_id)?;
        self.cache.get(&id).filter(|s| s.is_reply()).map(|_| id)
    }

    /// Builds the derived indexes (queues, workloads) from the cache: used after loading a snapshot.
    pub fn reindex(&mut self) {
        self.queues = Queues::default();
        self.workloads = Workloads::default();
        self.authors = Default::default();
        self.service_levels = Default::default();
        self.awaiting_workflow.clear();
        self.contacts = Contacts::default();
        self.outgoing = Outgoing::default();
        self.threads = threads::Threads::default();
        // Three independent walks over the cache, on threads of their own: start-up with a
        // snapshot is mostly this, and each index depends only on the cache.
        let Projections {
            cache,
            queues,
            workloads,
            authors,
            service_levels,
            contacts,
            threads,
            awaiting_workflow,
            outgoing,
            ..
        } = self;
        let cache = &*cache;
        // (The scope joins both walks, and panics if one did.)
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for (id, state) in cache.iter() {
                    contacts.update(id, None, &state);
                }
            });
            scope.spawn(|| {
                for (id, state) in cache.iter() {
                    threads.update(id, None, &state, |parent| cache.get(&parent));
                }
            });
            for (id, state) in cache.iter() {
                let _ = queues.update(id, None, &state);
                workloads.update(id, None, &state);
                authors.update(id, &state);
                service_levels.update(id, None, &state);
                outgoing.update(id, None, &state);
                if state.status
                    == crate::domain::interaction::Status::Inbound(
                        crate::domain::interaction::InboundStatus::Received,
                    )
                {
                    awaiting_workflow.insert(id);
                }
            }
        });
    }
}
