//! Replies by author: which replies each agent has released (at least once), for the QA
//! policy's "first N replies of a new agent".

use crate::domain::interaction::{Interaction, ReplyStatus, Status};
use crate::domain::{AgentId, InteractionId};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Authors {
    released: HashMap<AgentId, BTreeSet<InteractionId>>,
}

/// An agent's reply (an automatic answer has no author) released at least once: past its draft,
/// or a draft returned by a reviewer.
fn released(state: &Interaction) -> bool {
    if !state.is_reply() || state.owner.is_none() {
        return false;
    }
    match &state.status {
        Status::Reply(ReplyStatus::Draft) => state.revisions > 0,
        Status::Reply(_) => true,
        _ => false,
    }
}

impl Authors {
    pub fn update(&mut self, id: InteractionId, after: &Interaction) {
        if !released(after) {
            return;
        }
        if let Some(author) = &after.owner {
            self.released.entry(author.clone()).or_default().insert(id);
        }
    }

    /// How many replies `author` released, `except` this one.
    pub fn released_before(&self, author: &AgentId, except: InteractionId) -> u32 {
        self.released
            .get(author)
            .map_or(0, |s| (s.len() - s.contains(&except) as usize) as u32)
    }
}
