//! Per-instance state snapshots of aggregates, so activating an actor does not replay a long
//! stream. A snapshot is a cache: one that does not decode (an older layout) is ignored.

use crate::events::aggregate::{Loaded, Stored};
use crate::events::codec;
use crate::projections::snapshot::layout_fingerprint;
use serde::{de::DeserializeOwned, Serialize};
use std::marker::PhantomData;
use std::sync::Arc;

/// An aggregate whose state can be kept in a snapshot.
pub trait Snapshottable: Stored + Serialize + DeserializeOwned + Unpin {}
impl<A: Stored + Serialize + DeserializeOwned + Unpin> Snapshottable for A {}

/// Per-instance state snapshots in a sled tree (keyed by stream), so activation does not replay
/// long streams. A snapshot is a cache: one that does not decode (an older layout) is ignored.
pub struct AggregateSnapshots<A> {
    store: Arc<dyn SnapshotStore>,
    _aggregate: PhantomData<fn() -> A>,
}

/// Where snapshots are kept: bytes by key (the stream's name). A cache: losing one costs a
/// replay, never data. A second backend implements this.
pub trait SnapshotStore: Send + Sync + 'static {
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), String>;
}

impl SnapshotStore for sled::Tree {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        sled::Tree::get(self, key)
            .ok()
            .flatten()
            .map(|v| v.to_vec())
    }
    fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), String> {
        self.insert(key, bytes).map(drop).map_err(|e| e.to_string())
    }
}

impl<A> Clone for AggregateSnapshots<A> {
    fn clone(&self) -> Self {
        AggregateSnapshots {
            store: self.store.clone(),
            _aggregate: PhantomData,
        }
    }
}

impl<A: Snapshottable> AggregateSnapshots<A> {
    /// Snapshots kept in `store` (one store serves every aggregate: streams are distinct).
    pub fn new(store: Arc<dyn SnapshotStore>) -> Self {
        AggregateSnapshots {
            store,
            _aggregate: PhantomData,
        }
    }

    /// What a snapshot starts with: the layout of the state types and the aggregate's name, so
    /// a snapshot written by another build or of another aggregate never decodes as this one.
    fn fingerprint() -> [u8; 32] {
        let mut bytes = layout_fingerprint().to_vec();
        bytes.extend_from_slice(b"Loaded:");
        bytes.extend_from_slice(A::KIND.as_bytes());
        codec::sha256(&bytes)
    }

    pub fn load(&self, stream: &str) -> Option<Loaded<A>> {
        let bytes = self.store.get(stream)?;
        if bytes.len() < 32 || bytes[..32] != Self::fingerprint() {
            return None;
        }
        codec::decode(&bytes[32..]).ok()
    }

    pub fn save(&self, stream: &str, state: &Loaded<A>) {
        let mut bytes = Self::fingerprint().to_vec();
        bytes.extend_from_slice(&codec::encode(state));
        if let Err(e) = self.store.put(stream, bytes) {
            tracing::warn!(stream, error = %e, "could not save an aggregate snapshot");
        }
    }
}
