//! The sled database of a data folder, what an append promises (durability), and what the store
//! and its committer share: the trees, the durable head, a failure flag, the blob-file syncer and
//! the index repair run at open.

use super::super::envelope::*;
use super::super::store::{Content, StoreError};
use super::format::*;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use tokio::sync::{oneshot, watch};

/// What "acknowledged" promises. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    Fsync,
    Flush,
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub durability: Durability,
    /// The most events one group commit takes before flushing.
    pub max_batch_events: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durability: Durability::Fsync,
            max_batch_events: 8192,
        }
    }
}

/// Opens (or creates) the sled database of a data folder, with a clear error when another
/// process holds it.
/// The tree content is written to with the appends that carry it (read by `storage::content`).
pub const CONTENT_TREE: &str = "content";

pub fn open_db(dir: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    // sled's background threads may hold the lock a moment after the same process closed it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1500);
    loop {
        match try_open_db(dir, cache_bytes) {
            Err(StoreError::Locked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            other => return other,
        }
    }
}

fn try_open_db(dir: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::io(format!("creating {}", dir.display()), e))?;
    sled::Config::new()
        .path(dir)
        .cache_capacity(cache_bytes)
        .open()
        .map_err(|e| match e {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked {
                    path: dir.display().to_string(),
                }
            }
            sled::Error::Io(io) => StoreError::io(format!("opening {}", dir.display()), io),
            other => StoreError::io(
                format!("opening {}", dir.display()),
                std::io::Error::other(other.to_string()),
            ),
        })
}

pub(super) struct Inner {
    /// The content store's tree (see `crate::content`), written with appends that carry content.
    pub(super) content: sled::Tree,
    pub(super) log: sled::Tree,
    pub(super) streams: sled::Tree,
    pub(super) ids: sled::Tree,
    pub(super) durable: AtomicU64,
    pub(super) failed: AtomicBool,
    pub(super) head_rx: watch::Receiver<u64>,
}

pub(super) type Job = (
    AppendRequest,
    Content,
    oneshot::Sender<Result<AppendResult, StoreError>>,
);

/// Indexes the log entries after the marker (a crash may have left them unindexed).
pub(super) fn repair_indexes(
    log: &sled::Tree,
    streams: &sled::Tree,
    ids: &sled::Tree,
    last_pos: u64,
) -> Result<(), StoreError> {
    let upto = ids
        .get(MARKER)
        .map_err(|e| sled_err("reading the index marker", e))?
        .map(|v| be_u64(&v))
        .unwrap_or(0);
    if upto >= last_pos {
        return Ok(());
    }
    tracing::info!(from = upto + 1, to = last_pos, "re-indexing the log tail");
    let mut tail = Vec::new();
    visit_log(log, upto + 1, last_pos, |rec| {
        tail.push(rec);
        true
    })?;
    // The log does not record append boundaries: events of one append are consecutive, in one
    // stream, with one recorded time, which is how they are regrouped here.
    let mut i = 0;
    while i < tail.len() {
        let mut j = i + 1;
        while j < tail.len()
            && tail[j].stream == tail[i].stream
            && tail[j].recorded_at_micros == tail[i].recorded_at_micros
            && tail[j].position == tail[j - 1].position + 1
        {
            j += 1;
        }
        let (first, last) = (tail[i].position, tail[j - 1].position);
        streams
            .insert(
                stream_key(&tail[j - 1].stream, tail[j - 1].version),
                stream_value(first, last - first + 1),
            )
            .map_err(|e| sled_err("writing the stream index", e))?;
        for rec in &tail[i..j] {
            ids.insert(rec.id.as_bytes(), &id_value(rec.position, first, last))
                .map_err(|e| sled_err("writing the id index", e))?;
        }
        i = j;
    }
    ids.insert(MARKER, &last_pos.to_be_bytes())
        .map_err(|e| sled_err("writing the index marker", e))?;
    Ok(())
}

/// Syncs the blob files sled created since the last commit (content values above sled's blob
/// threshold), and their folder. Costs one `stat` per commit while the folder is unchanged.
pub(super) struct BlobSync {
    pub(super) dir: PathBuf,
    pub(super) seen_mtime: Option<std::time::SystemTime>,
    pub(super) synced: std::collections::HashSet<std::ffi::OsString>,
}

impl BlobSync {
    pub(super) fn new(dir: PathBuf) -> Self {
        BlobSync {
            dir,
            seen_mtime: None,
            synced: std::collections::HashSet::new(),
        }
    }

    pub(super) fn sync_new(&mut self) -> Result<(), StoreError> {
        let Ok(meta) = std::fs::metadata(&self.dir) else {
            return Ok(());
        };
        let mtime = meta.modified().ok();
        // Timestamps are coarse: a folder changed within the last second is scanned again.
        let recent = mtime
            .and_then(|m| m.elapsed().ok())
            .is_none_or(|age| age < std::time::Duration::from_secs(1));
        if mtime == self.seen_mtime && !recent {
            return Ok(());
        }
        let ctx = |e: std::io::Error| StoreError::io(format!("syncing {}", self.dir.display()), e);
        let mut changed = false;
        for entry in std::fs::read_dir(&self.dir).map_err(ctx)? {
            let entry = entry.map_err(ctx)?;
            if self.synced.contains(&entry.file_name()) {
                continue;
            }
            match File::open(entry.path()) {
                Ok(f) => f.sync_all().map_err(ctx)?,
                // sled removes blobs it no longer needs; a vanished one needs no sync.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(ctx(e)),
            }
            self.synced.insert(entry.file_name());
            changed = true;
        }
        if changed {
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(ctx)?;
        }
        self.seen_mtime = mtime;
        Ok(())
    }
}
