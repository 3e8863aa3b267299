//! Standard responses, as the API lists and searches them: every response by id, rebuilt from
//! its events (the projection snapshot keeps them).

use crate::domain::standard_response::{evolve, ResponseEvent, ResponseId, StandardResponse};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone)]
pub struct Responses {
    by_id: BTreeMap<ResponseId, StandardResponse>,
    /// Changes with every event applied, unique in the process (the search index compares it
    /// with the one it was built at).
    generation: u64,
}

/// Equal when they hold the same responses (however they got there).
impl PartialEq for Responses {
    fn eq(&self, other: &Self) -> bool {
        self.by_id == other.by_id
    }
}

/// The source of generations: a projection rebuilt from scratch never repeats one.
static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Responses {
    pub fn apply(&mut self, id: ResponseId, event: &ResponseEvent) {
        let before = self.by_id.remove(&id).unwrap_or_default();
        self.by_id.insert(id, evolve(before, event));
        self.generation = next_generation();
    }

    /// What the responses are now: another value after any change.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn get(&self, id: &ResponseId) -> Option<&StandardResponse> {
        self.by_id.get(id)
    }

    /// Every response not deleted, by id.
    pub fn live(&self) -> impl Iterator<Item = (ResponseId, &StandardResponse)> {
        self.by_id
            .iter()
            .filter(|(_, r)| !r.deleted && r.fields.is_some())
            .map(|(id, r)| (*id, r))
    }

    /// For the projection snapshot.
    pub fn for_snapshot(&self) -> Vec<(ResponseId, StandardResponse)> {
        self.by_id.iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    pub fn from_snapshot(items: Vec<(ResponseId, StandardResponse)>) -> Responses {
        Responses {
            by_id: items.into_iter().collect(),
            generation: next_generation(),
        }
    }
}
