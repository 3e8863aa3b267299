//! Storage, owned in one place: opens the data folder's sled database and hands out what lives
//! in it: the event log, the content store, aggregate snapshots and ingest's folder marks. Each
//! is behind a trait (`EventStore`, `ContentStore`, `SnapshotStore`) where a second backend plugs
//! in; the log's own trees (entries and indexes) are the sled log's business.

pub mod content;
pub mod credentials;
pub mod snapshots;

pub use content::{ContentBatch, ContentStore, SledContent};
pub use credentials::Credentials;
pub use snapshots::{AggregateSnapshots, SnapshotStore, Snapshottable};

use crate::events::sled_store::{open_db, CONTENT_TREE};
use crate::events::{Durability, EventStore, SledStore, StoreError, StoreOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where things live in a data folder.
pub struct DataPaths {
    pub sled: PathBuf,
    pub projection_snapshot: PathBuf,
    pub server_info: PathBuf,
}

impl DataPaths {
    pub fn new(data_dir: &Path) -> Self {
        DataPaths {
            sled: data_dir.join("sled"),
            projection_snapshot: data_dir.join("projections.snap"),
            server_info: data_dir.join("server.json"),
        }
    }
}

/// The storage side of postroom. Needs no actor system, so the CLI opens it too.
pub struct Storage {
    pub db: sled::Db,
    /// The event log.
    pub store: Arc<SledStore>,
    pub content: Arc<dyn ContentStore>,
    /// Aggregate snapshots (a cache).
    pub snapshot_store: Arc<dyn SnapshotStore>,
    /// Ingest's per-folder marks (UIDVALIDITY and the UID up to which all is done).
    pub marks: sled::Tree,
    /// Password hashes and open invitations (kept out of the log).
    pub credentials: Credentials,
    pub paths: DataPaths,
}

fn tree(db: &sled::Db, name: &str) -> Result<sled::Tree, StoreError> {
    db.open_tree(name).map_err(|e| {
        StoreError::io(
            format!("opening the {name} tree"),
            std::io::Error::other(e.to_string()),
        )
    })
}

impl Storage {
    /// Opens (creating if needed) the data folder's database. Another process holding it is
    /// `StoreError::Locked`.
    pub fn open(
        data_dir: &Path,
        cache_bytes: u64,
        durability: Durability,
    ) -> Result<Storage, StoreError> {
        let paths = DataPaths::new(data_dir);
        let db = open_db(&paths.sled, cache_bytes)?;
        let store = Arc::new(SledStore::open(
            &db,
            &paths.sled,
            StoreOptions {
                durability,
                ..StoreOptions::default()
            },
        )?);
        Ok(Storage {
            content: Arc::new(SledContent::new(tree(&db, CONTENT_TREE)?)),
            snapshot_store: Arc::new(tree(&db, "aggregate_snapshots")?),
            marks: tree(&db, "ingest_marks")?,
            credentials: Credentials::new(tree(&db, "credentials")?),
            db,
            store,
            paths,
        })
    }

    pub fn log(&self) -> Arc<dyn EventStore> {
        self.store.clone()
    }

    /// The snapshots of one aggregate type.
    pub fn snapshots<A: Snapshottable>(&self) -> AggregateSnapshots<A> {
        AggregateSnapshots::new(self.snapshot_store.clone())
    }

    /// Stops the log writer and flushes what sled still holds.
    pub fn close(&self) {
        self.store.close();
        if let Err(e) = self.db.flush() {
            tracing::warn!(error = %e, "final flush failed");
        }
    }
}
