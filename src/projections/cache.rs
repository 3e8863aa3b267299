//! The interaction cache: every interaction's current operational state, by id.

use crate::domain::interaction::Interaction;
use crate::domain::InteractionId;
use std::collections::HashMap;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct InteractionCache {
    map: HashMap<InteractionId, Interaction>,
}

impl InteractionCache {
    pub fn get(&self, id: &InteractionId) -> Option<&Interaction> {
        self.map.get(id)
    }
    pub fn insert(&mut self, id: InteractionId, state: Interaction) {
        self.map.insert(id, state);
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&InteractionId, &Interaction)> {
        self.map.iter()
    }
}
