//! Queues: what waits where, ordered by priority (highest first), then age (oldest first).

use crate::domain::interaction::{InboundStatus, ReplyStatus};
use crate::domain::interaction::{Interaction, Status};
use crate::domain::{InteractionId, Millis, QueueName};
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

/// One place in a queue: the order is the routing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueueEntry {
    pub priority: Reverse<i32>,
    pub since: Millis,
    pub id: InteractionId,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Queues {
    queues: HashMap<QueueName, BTreeSet<QueueEntry>>,
}

/// Where an interaction stands in the queues, if it waits in one: queued (locked by routing
/// or not) inbound work, and replies in an outbound queue or waiting for a reviewer.
fn place(state: &Interaction) -> Option<(&QueueName, QueueEntry)> {
    let waiting = matches!(
        state.status,
        Status::Inbound(InboundStatus::Queued)
            | Status::Inbound(InboundStatus::Locked { .. })
            | Status::Reply(ReplyStatus::OutboundQueued)
            | Status::Reply(ReplyStatus::AwaitingReview)
    );
    if !waiting {
        return None;
    }
    // Age counts from arrival: a returned or moved interaction keeps its place by age.
    let q = state.queue.as_ref()?;
    Some((
        q,
        QueueEntry {
            priority: Reverse(state.priority),
            since: state.created_at,
            id: InteractionId::from_uuid(uuid::Uuid::nil()),
        },
    ))
}

impl Queues {
    /// Moves `id` from where `before` waited to where `after` waits; answers the queues whose
    /// depth changed (none, one, or the two it moved between).
    pub fn update(
        &mut self,
        id: InteractionId,
        before: Option<&Interaction>,
        after: &Interaction,
    ) -> Vec<QueueName> {
        let old = before
            .and_then(place)
            .map(|(q, e)| (q.clone(), QueueEntry { id, ..e }));
        let new = place(after).map(|(q, e)| (q.clone(), QueueEntry { id, ..e }));
        if old == new {
            return Vec::new();
        }
        // Only a change of place (not of priority within the same queue) changes a depth.
        let changed: Vec<QueueName> = match (&old, &new) {
            (Some((a, _)), Some((b, _))) if a == b => Vec::new(),
            _ => old.iter().chain(&new).map(|(q, _)| q.clone()).collect(),
        };
        if let Some((q, e)) = old {
            if let Some(set) = self.queues.get_mut(&q) {
                set.remove(&e);
                // An empty queue leaves no trace, exactly as in a rebuild from a snapshot.
                if set.is_empty() {
                    self.queues.remove(&q);
                }
            }
        }
        if let Some((q, e)) = new {
            self.queues.entry(q).or_default().insert(e);
        }
        changed
    }

    /// Every queue that holds something now, with its depth.
    pub fn depths(&self) -> Vec<(QueueName, usize)> {
        let mut v: Vec<_> = self
            .queues
            .iter()
            .map(|(q, s)| (q.clone(), s.len()))
            .collect();
        v.sort();
        v
    }

    /// How many wait in a queue (None: nothing waits there now).
    pub fn depth(&self, queue: &QueueName) -> Option<usize> {
        self.queues.get(queue).map(|s| s.len())
    }

    /// A queue's contents in routing order.
    pub fn contents(&self, queue: &QueueName) -> Option<impl Iterator<Item = &QueueEntry>> {
        self.queues.get(queue).map(|s| s.iter())
    }
}
