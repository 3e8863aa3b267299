//! Standard responses, as the API lists and searches them: every response by id, rebuilt from
//! its events (the projection snapshot keeps them).

use crate::domain::standard_response::{evolve, ResponseEvent, ResponseId, StandardResponse};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Responses {
    by_id: BTreeMap<ResponseId, StandardResponse>,
}

impl Responses {
    pub fn apply(&mut self, id: ResponseId, event: &ResponseEvent) {
        let before = self.by_id.remove(&id).unwrap_or_default();
        self.by_id.insert(id, evolve(before, event));
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
        }
    }
}
