//! Contacts: the people who write to us, identified by their normalised address, created on first
//! contact, each with their interaction history.

use crate::domain::address::contact_key;
use crate::domain::interaction::{Interaction, Kind};
use crate::domain::{InteractionId, Millis};
use sha2::{Digest, Sha256};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// A contact's id: derived from the normalised address, so it is the same on every rebuild.
pub fn contact_id(normalised_email: &str) -> uuid::Uuid {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(b"postroom-contact\0")
        .chain_update(normalised_email.as_bytes())
        .finalize()
        .into();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(b).into_uuid()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: uuid::Uuid,
    /// Lower case.
    pub email: String,
    /// The latest display name they wrote with.
    pub display_name: Option<String>,
    pub first_seen: Millis,
    pub last_seen: Millis,
    /// Their inbound interactions with their arrival times, oldest first (ties by id), so the
    /// order is the same however the projection was built.
    pub interactions: Vec<(Millis, InteractionId)>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Contacts {
    by_email: HashMap<String, Contact>,
    by_id: HashMap<uuid::Uuid, String>,
}

impl Contacts {
    /// Records an inbound interaction the first time it appears.
    pub fn update(&mut self, id: InteractionId, before: Option<&Interaction>, after: &Interaction) {
        let is_new_inbound = before.is_none_or(|b| !b.exists())
            && after.exists()
            && after.kind == Kind::Inbound
            && !after.from.is_empty();
        if !is_new_inbound {
            return;
        }
        // One contact per address as the identity policy keys it.
        let contact = match self.by_email.entry(contact_key(&after.from)) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                let email = new.key().clone();
                let id = contact_id(&email);
                self.by_id.insert(id, email.clone());
                new.insert(Contact {
                    id,
                    email,
                    display_name: None,
                    first_seen: after.created_at,
                    last_seen: after.created_at,
                    interactions: Vec::new(),
                })
            }
        };
        if after.from_name.is_some() {
            contact.display_name = after.from_name.clone();
        }
        contact.first_seen = contact.first_seen.min(after.created_at);
        contact.last_seen = contact.last_seen.max(after.created_at);
        let entry = (after.created_at, id);
        if let Err(at) = contact.interactions.binary_search(&entry) {
            contact.interactions.insert(at, entry);
        }
        // An unknown sender's address is one message's own; one shared by several (a log from
        // before, or a Message-ID reused) may be several people: no name is borrowed.
        if contact.interactions.len() > 1 && crate::mail::sender::is_unknown(&contact.email) {
            contact.display_name = None;
        }
    }

    pub fn by_email(&self, email: &str) -> Option<&Contact> {
        self.by_email.get(&contact_key(email))
    }

    pub fn by_id(&self, id: &uuid::Uuid) -> Option<&Contact> {
        self.by_id.get(id).and_then(|e| self.by_email.get(e))
    }

    pub fn len(&self) -> usize {
        self.by_email.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_email.is_empty()
    }
}
