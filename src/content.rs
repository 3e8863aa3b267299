//! Content kept outside the log, by SHA-256: bodies now; attachments and raw messages with the
//! contact store. Events carry the hash, so content can later be erased while the chain verifies.

use crate::domain::ContentRef;
use crate::events::{codec, StoreError};

#[derive(Clone)]
pub struct ContentStore {
    tree: sled::Tree,
}

impl ContentStore {
    pub fn open(db: &sled::Db) -> Result<Self, StoreError> {
        let tree = db.open_tree("content").map_err(|e| {
            StoreError::io(
                "opening the content store",
                std::io::Error::other(e.to_string()),
            )
        })?;
        Ok(ContentStore { tree })
    }

    /// Stores bytes (once per distinct content). Durable with the next log flush, which the append
    /// that references it always is: sled flushes every tree together.
    pub fn put(&self, bytes: &[u8]) -> Result<ContentRef, StoreError> {
        let hash = codec::sha256(bytes);
        if !self.tree.contains_key(hash).map_err(|e| {
            StoreError::io(
                "reading the content store",
                std::io::Error::other(e.to_string()),
            )
        })? {
            self.tree.insert(hash, bytes).map_err(|e| {
                StoreError::io(
                    "writing the content store",
                    std::io::Error::other(e.to_string()),
                )
            })?;
        }
        Ok(ContentRef(hash))
    }

    pub fn get(&self, r: &ContentRef) -> Result<Option<Vec<u8>>, StoreError> {
        self.tree
            .get(r.0)
            .map(|v| v.map(|b| b.to_vec()))
            .map_err(|e| {
                StoreError::io(
                    "reading the content store",
                    std::io::Error::other(e.to_string()),
                )
            })
    }
}
