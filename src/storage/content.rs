//! Content kept outside the log, by SHA-256: bodies, attachments and raw messages (the contact
//! store). Events carry the hash, so content can later be erased while the chain verifies.
//!
//! Content is written only with the append that refers to it (`EventStore::append_with_content`,
//! gathered in a [`ContentBatch`]); this side only reads.

use crate::domain::ContentRef;
use crate::events::{codec, StoreError};

/// Reads content by reference. A second backend (object storage, another database) implements
/// this and the log's `append_with_content`.
pub trait ContentStore: Send + Sync + 'static {
    /// The bytes, or `None` when nothing is stored under this reference (erased, or never).
    fn get(&self, r: &ContentRef) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Content in the sled tree the log's committer writes it to.
#[derive(Clone)]
pub struct SledContent {
    tree: sled::Tree,
}

impl SledContent {
    pub fn new(tree: sled::Tree) -> Self {
        SledContent { tree }
    }
}

impl ContentStore for SledContent {
    fn get(&self, r: &ContentRef) -> Result<Option<Vec<u8>>, StoreError> {
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

/// Content gathered for one append: the log's committer writes it in the same flush as the
/// events that refer to it (`EventStore::append_with_content`), so content is only ever written
/// together with its append, whoever receives the message.
#[derive(Default)]
pub struct ContentBatch(std::cell::RefCell<crate::events::Content>);

impl ContentBatch {
    /// The reference the events carry; the bytes are kept once per distinct content.
    pub fn put(&self, bytes: &[u8]) -> ContentRef {
        let hash = codec::sha256(bytes);
        let mut items = self.0.borrow_mut();
        if !items.iter().any(|(h, _)| *h == hash) {
            items.push((hash, bytes.to_vec()));
        }
        ContentRef(hash)
    }

    pub fn into_inner(self) -> crate::events::Content {
        self.0.into_inner()
    }
}
