//! `SledStore`: the `EventStore` on sled. Reads go straight to the trees; appends go to the
//! committer thread.

use super::super::envelope::*;
use super::super::store::{Content, EventStore, PendingAppend, PendingInner, StoreError};
use super::committer::*;
use super::db::*;
use super::format::*;
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{oneshot, watch};

/// The sled-backed [`EventStore`].
pub struct SledStore {
    pub(super) inner: Arc<Inner>,
    /// Appends handed over together travel together.
    pub(super) tx: Mutex<Option<mpsc::Sender<Vec<Job>>>>,
    pub(super) committer: Mutex<Option<JoinHandle<()>>>,
}

impl SledStore {
    /// Opens the log in `db`, which sled opened at `dir` (its `db` file and `blobs/` folder are
    /// synced after each flush in `Durability::Fsync` mode).
    pub fn open(db: &sled::Db, dir: &Path, options: StoreOptions) -> Result<SledStore, StoreError> {
        let tree = |name: &str| {
            db.open_tree(name)
                .map_err(|e| sled_err("opening a log tree", e))
        };
        let log = tree("log")?;
        let streams = tree("log_streams")?;
        let ids = tree("log_ids")?;
        let content = tree(CONTENT_TREE)?;
        let (last_pos, last_hash, last_recorded) =
            match log.last().map_err(|e| sled_err("reading the log", e))? {
                Some((k, v)) => {
                    let pos = be_u64(&k);
                    let rec = decode_log_entry(&k, &v)?.pop().ok_or(StoreError::Corrupt {
                        position: pos,
                        why: "an empty log entry".into(),
                    })?;
                    (pos, rec.hash, rec.recorded_at_micros)
                }
                None => (0, [0u8; 32], 0),
            };
        repair_indexes(&log, &streams, &ids, last_pos)?;
        db.flush()
            .map_err(|e| sled_err("flushing the repaired indexes", e))?;

        let (head_tx, head_rx) = watch::channel(last_pos);
        let inner = Arc::new(Inner {
            content,
            log,
            streams,
            ids,
            durable: AtomicU64::new(last_pos),
            failed: AtomicBool::new(false),
            head_rx,
        });
        let data_file = dir.join("db");
        let sync_file = match options.durability {
            Durability::Fsync => Some(
                File::open(&data_file)
                    .map_err(|e| StoreError::io(format!("opening {}", data_file.display()), e))?,
            ),
            Durability::Flush => None,
        };
        let (tx, rx) = mpsc::channel::<Vec<Job>>();
        let mut committer = Committer {
            inner: inner.clone(),
            db: db.clone(),
            sync_file,
            blobs: BlobSync::new(dir.join("blobs")),
            data_file,
            head_tx,
            next_pos: last_pos + 1,
            head_hash: last_hash,
            heads: HashMap::new(),
            max_batch: options.max_batch_events.max(1),
            last_recorded,
        };
        let handle = std::thread::Builder::new()
            .name("log-committer".into())
            .spawn(move || committer.run(rx))
            .map_err(|e| StoreError::io("starting the log committer", e))?;
        Ok(SledStore {
            inner,
            tx: Mutex::new(Some(tx)),
            committer: Mutex::new(Some(handle)),
        })
    }

    /// Stops the committer after it has answered every append already handed to it.
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Ok(mut h) = self.committer.lock() {
            if let Some(h) = h.take() {
                let _ = h.join();
            }
        }
    }

    /// True once a write failed: the writer refuses further appends until a restart.
    pub fn writer_failed(&self) -> bool {
        self.inner.failed.load(Ordering::SeqCst)
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl EventStore for SledStore {
    fn append(&self, request: AppendRequest) -> PendingAppend {
        self.append_with_content(request, Vec::new())
    }

    fn append_with_content(&self, request: AppendRequest, content: Content) -> PendingAppend {
        self.append_all(vec![(request, content)])
            .pop()
            .unwrap_or_else(|| PendingAppend::ready(Err(StoreError::Unavailable)))
    }

    fn append_all(&self, appends: Vec<(AppendRequest, Content)>) -> Vec<PendingAppend> {
        if appends.is_empty() {
            return Vec::new();
        }
        let mut jobs = Vec::with_capacity(appends.len());
        let mut pending = Vec::with_capacity(appends.len());
        for (request, content) in appends {
            let (tx, rx) = oneshot::channel();
            jobs.push((request, content, tx));
            pending.push(PendingAppend(PendingInner::Waiting(rx)));
        }
        let sent = match self.tx.lock() {
            Ok(guard) => guard
                .as_ref()
                .map(|s| s.send(jobs).is_ok())
                .unwrap_or(false),
            Err(_) => false,
        };
        if !sent {
            // The jobs (and their senders) are gone: every receiver answers Unavailable.
            return pending
                .into_iter()
                .map(|_| PendingAppend::ready(Err(StoreError::Unavailable)))
                .collect();
        }
        pending
    }

    fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let durable = self.head();
        let from_version = from_version.max(1);
        // The first append whose last version is at least `from_version` holds it.
        let start = stream_key(stream, from_version);
        let end = stream_key(stream, u64::MAX);
        let mut out = Vec::new();
        for item in self.inner.streams.range(start..=end) {
            let (key, value) = item.map_err(|e| sled_err("reading the stream index", e))?;
            let (first_pos, count) = stream_entry(&value)?;
            if key.len() < 9 {
                return Err(StoreError::Corrupt {
                    position: first_pos,
                    why: format!("a stream index key of {} bytes", key.len()),
                });
            }
            let last_version = be_u64(&key);
            let first_version = (last_version + 1).saturating_sub(count);
            let last_pos = first_pos + count - 1;
            if last_pos > durable {
                break;
            }
            let skip = from_version.saturating_sub(first_version);
            let from_pos = first_pos + skip;
            let before = out.len();
            let mut wrong = None;
            visit_log(&self.inner.log, from_pos, last_pos, |rec| {
                if rec.stream != stream {
                    wrong = Some(rec.position);
                    return false;
                }
                out.push(rec);
                true
            })?;
            let expected = (last_pos + 1 - from_pos) as usize;
            if wrong.is_some() || out.len() - before != expected {
                return Err(StoreError::Corrupt {
                    position: wrong.unwrap_or(from_pos + (out.len() - before) as u64),
                    why: "the stream index points to a missing event".into(),
                });
            }
        }
        Ok(out)
    }

    fn read_all(&self, from_position: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let durable = self.head();
        let from = from_position.max(1);
        if from > durable || limit == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(limit.min(4096));
        visit_log(&self.inner.log, from, durable, |rec| {
            out.push(rec);
            out.len() < limit
        })?;
        Ok(out)
    }

    fn head(&self) -> u64 {
        self.inner.durable.load(Ordering::SeqCst)
    }

    fn stream_version(&self, stream: &str) -> Result<u64, StoreError> {
        let durable = self.head();
        let mut prefix = stream.as_bytes().to_vec();
        prefix.push(0);
        for item in self.inner.streams.scan_prefix(&prefix).rev() {
            let (k, value) = item.map_err(|e| sled_err("reading the stream index", e))?;
            let (first_pos, count) = stream_entry(&value)?;
            if first_pos + count - 1 <= durable {
                return Ok(be_u64(&k));
            }
        }
        Ok(0)
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.inner.head_rx.clone()
    }
    fn writable(&self) -> bool {
        !self.writer_failed()
    }
}
