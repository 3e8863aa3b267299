//! Threads: which interactions belong together, and the indexes threading looks up (our
//! Message-IDs, and thread tokens by contact).

use crate::domain::interaction::ReplyStatus;
use crate::domain::interaction::{Interaction, Kind, Status, ThreadMatch};
use crate::domain::threading::{
    normalise_message_id, reply_of_message_id, thread_token, token_joins,
};
use crate::domain::{InteractionId, Millis};
use std::collections::HashMap;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Threads {
    /// Message-IDs we know (inbound messages received, replies sent) and their interaction.
    by_message_id: HashMap<String, InteractionId>,
    /// Thread token to the threads (first interactions) that carry it.
    by_token: HashMap<String, Vec<InteractionId>>,
    /// A thread's first interaction to all its interactions (inbound and replies) with their
    /// creation times, oldest first (ties by id), so every build has the same order.
    members: HashMap<InteractionId, Vec<(Millis, InteractionId)>>,
}

/// What a lookup found: the thread and the interaction the match points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub thread: InteractionId,
    pub answers: InteractionId,
    pub matched_by: ThreadMatch,
    pub reference: String,
}

impl Threads {
    /// Keeps the indexes in step with one interaction's change. `parent` gives the state of a
    /// reply's parent.
    pub fn update(
        &mut self,
        id: InteractionId,
        before: Option<&Interaction>,
        after: &Interaction,
        parent: impl Fn(InteractionId) -> Option<Interaction>,
    ) {
        let existed = before.is_some_and(|b| b.exists());
        let (thread_before, mid_before, sent_before) = match before {
            Some(b) if b.exists() => (
                Some(b.thread_with(id, &parent)),
                b.message_id.clone(),
                sent_id(b),
            ),
            _ => (None, None, None),
        };
        if !after.exists() {
            return;
        }
        let thread = after.thread_with(id, &parent);
        if thread_before != Some(thread) {
            if let Some(old) = thread_before {
                if let Some(m) = self.members.get_mut(&old) {
                    m.retain(|(_, x)| *x != id);
                    if m.is_empty() {
                        self.members.remove(&old);
                    }
                }
            }
            let m = self.members.entry(thread).or_default();
            let entry = (after.created_at, id);
            if let Err(at) = m.binary_search(&entry) {
                m.insert(at, entry);
            }
        }
        if after.kind == Kind::Inbound && thread == id && !existed {
            let roots = self.by_token.entry(thread_token(id)).or_default();
            if let Err(at) = roots.binary_search(&id) {
                roots.insert(at, id);
            }
        }
        if after.kind == Kind::Inbound && thread != id && thread_before == Some(id) {
            // Linked to an earlier thread after its receipt (same append): not a thread's first.
            let token = thread_token(id);
            if let Some(v) = self.by_token.get_mut(&token) {
                v.retain(|x| *x != id);
                if v.is_empty() {
                    self.by_token.remove(&token);
                }
            }
        }
        if mid_before.is_none() {
            if let Some(m) = &after.message_id {
                self.by_message_id
                    .entry(normalise_message_id(m))
                    .or_insert(id);
            }
        }
        if sent_before.is_none() {
            if let Some(m) = sent_id(after) {
                self.by_message_id.insert(normalise_message_id(&m), id);
            }
        }
    }

    /// The interactions of a thread, in order of arrival (empty if unknown).
    pub fn members(&self, thread: InteractionId) -> Vec<InteractionId> {
        self.members
            .get(&thread)
            .map(|m| m.iter().map(|(_, id)| *id).collect())
            .unwrap_or_default()
    }

    /// The first of `ids` (newest first) that is ours. `exists` confirms a reply id read from a
    /// Message-ID of our own form (it may be sent but not yet recorded as sent).
    pub fn by_header(
        &self,
        ids: &[String],
        state_of: impl Fn(InteractionId) -> Option<Interaction>,
    ) -> Option<Found> {
        for m in ids {
            let hit = self
                .by_message_id
                .get(m)
                .copied()
                .or_else(|| reply_of_message_id(m));
            let Some(answers) = hit else { continue };
            let Some(state) = state_of(answers).filter(Interaction::exists) else {
                continue;
            };
            let thread = state.thread_with(answers, &state_of);
            return Some(Found {
                thread,
                answers,
                matched_by: ThreadMatch::Header,
                reference: m.clone(),
            });
        }
        None
    }

    /// The thread one of `tokens` names among the threads of `contact` (a normalised address).
    pub fn by_token(
        &self,
        tokens: &[String],
        contact: &str,
        state_of: impl Fn(InteractionId) -> Option<Interaction>,
    ) -> Option<Found> {
        for t in tokens {
            for root in self.by_token.get(t).into_iter().flatten() {
                let Some(state) = state_of(*root) else {
                    continue;
                };
                if token_joins(&state.from, contact) {
                    // The newest interaction of the thread is what the customer answers.
                    let answers = self.members(*root).last().copied().unwrap_or(*root);
                    return Some(Found {
                        thread: *root,
                        answers,
                        matched_by: ThreadMatch::Token,
                        reference: t.clone(),
                    });
                }
            }
        }
        None
    }

    /// The reply a delivery report is about, from the original Message-ID it quotes.
    pub fn reply_by_message_id(&self, message_id: &str) -> Option<InteractionId> {
        let m = normalise_message_id(message_id);
        self.by_message_id
            .get(&m)
            .copied()
            .or_else(|| reply_of_message_id(&m))
    }
}

fn sent_id(s: &Interaction) -> Option<String> {
    match &s.status {
        Status::Reply(ReplyStatus::Sent { message_id }) => Some(message_id.clone()),
        _ => None,
    }
}
