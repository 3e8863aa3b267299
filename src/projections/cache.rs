//! The interaction cache: every interaction's current operational state, by id.
//!
//! Each state is kept as its compact bincode encoding (one exact-size allocation of roughly 150
//! bytes for a typical interaction, against a 296-byte struct plus a heap string per text field),
//! and decoded when read: the cache holds every interaction in memory, reads touch a few.
//! `postroom bench` measures about 300 resident bytes per cached interaction with its queue entry.

use crate::domain::interaction::Interaction;
use crate::domain::InteractionId;
use crate::events::codec;
use std::collections::HashMap;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct InteractionCache {
    map: HashMap<InteractionId, Box<[u8]>>,
}

fn decode(id: &InteractionId, bytes: &[u8]) -> Option<Interaction> {
    match codec::decode(bytes) {
        Ok(s) => Some(s),
        // Only bytes this build encoded (or a fingerprint-checked snapshot) are ever stored.
        Err(e) => {
            tracing::error!(interaction_id = %id, error = %e, "undecodable cache entry");
            None
        }
    }
}

impl InteractionCache {
    pub fn get(&self, id: &InteractionId) -> Option<Interaction> {
        self.map.get(id).and_then(|b| decode(id, b))
    }

    pub fn contains(&self, id: &InteractionId) -> bool {
        self.map.contains_key(id)
    }

    pub fn insert(&mut self, id: InteractionId, state: &Interaction) {
        // Copied into an exact-size allocation: shrinking the encoder's grown buffer in place
        // would leave a fragment behind every entry.
        let encoded = codec::encode(state);
        self.map.insert(id, Box::from(&encoded[..]));
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every interaction, decoded.
    pub fn iter(&self) -> impl Iterator<Item = (InteractionId, Interaction)> + '_ {
        self.map
            .iter()
            .filter_map(|(id, b)| decode(id, b).map(|s| (*id, s)))
    }

    /// The encoded entries, for snapshots.
    pub(crate) fn raw(&self) -> impl Iterator<Item = (&InteractionId, &[u8])> {
        self.map.iter().map(|(id, b)| (id, &**b))
    }

    pub(crate) fn insert_raw(&mut self, id: InteractionId, bytes: Vec<u8>) {
        self.map.insert(id, bytes.into_boxed_slice());
    }
}
