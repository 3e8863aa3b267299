//! The event log on sled, written by one committer thread (group commit).
//!
//! Writers hand their append to the committer and wait. The committer takes every request that is
//! waiting, checks each (idempotency, expected version), assigns positions and hashes, writes them
//! as one `Batch` per tree, flushes once, and only then answers every writer. Many writers share one
//! flush: durable *and* fast.
//!
//! Trees: `log` (the position of an entry's last record → the records of one append, up to
//! `PACK_BYTES` of them per entry; see [`decode_log_entry`]), `log_streams` (stream NUL the last version of an append → its
//! first position and event count: one entry per append) and `log_ids`
//! (event id → its position and the first and last position of the append that wrote it, so a
//! resend is recognised only as exactly that append). The two indexes are derivable from the log, so they are written as plain
//! batches rather than a multi-tree transaction (half the throughput, see the notes): a marker in
//! `log_ids` says up to which position they are complete, and `open` re-indexes any tail a crash
//! left between the log batch and the index batches. sled recovers a prefix of its writes, and the
//! log batch is always written first.
//!
//! Durability: `Durability::Fsync` (the default) answers after `Db::flush` *and* an `fdatasync` of
//! sled's data file, so an acknowledged append survives a process kill and a power cut on a disk
//! that honours flushes. `Durability::Flush` skips the `fdatasync`: sled's flush ends in
//! `sync_file_range`, which survives a process kill but not necessarily a power cut.

use super::codec;
use super::envelope::*;
use super::store::{EventStore, PendingAppend, PendingInner, StoreError};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use tokio::sync::{oneshot, watch};

const MARKER: &[u8] = b"\xffindexed-upto";
/// The first byte of a log entry that holds several records: `PACK ++ (u32 LE length ++ record)*`.
/// An entry that starts with `codec::FORMAT_V1` is a single record, as every entry of a log
/// written before appends were packed is: both read the same.
const PACK: u8 = 0x80;
/// Records of one append share a log entry up to this many bytes, which keeps every entry inside
/// sled's own log (a quarter segment, 128 KiB): one sled insert for a whole append instead of one
/// per event, the largest part of the committer's work.
const PACK_BYTES: usize = 64 * 1024;
/// A single append may carry at most this many events and this many payload bytes per event.
/// Payloads stay far below sled's blob threshold (segment size / 4): content lives outside the log.
const MAX_EVENTS_PER_APPEND: usize = 10_000;
pub const MAX_PAYLOAD: usize = 64 * 1024;

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

fn sled_err(context: &str, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) => StoreError::io(context, io),
        other => StoreError::io(context, std::io::Error::other(other.to_string())),
    }
}

struct Inner {
    /// The content store's tree (see `crate::content`), written with appends that carry content.
    content: sled::Tree,
    log: sled::Tree,
    streams: sled::Tree,
    ids: sled::Tree,
    durable: AtomicU64,
    failed: AtomicBool,
    head_rx: watch::Receiver<u64>,
}

use super::store::Content;

type Job = (
    AppendRequest,
    Content,
    oneshot::Sender<Result<AppendResult, StoreError>>,
);

/// The sled-backed [`EventStore`].
pub struct SledStore {
    inner: Arc<Inner>,
    /// Appends handed over together travel together.
    tx: Mutex<Option<mpsc::Sender<Vec<Job>>>>,
    committer: Mutex<Option<JoinHandle<()>>>,
}

/// The stream index has one entry per append: keyed by the stream and the append's last version,
/// it holds the append's first position and, when the append has more than one event, its event
/// count (a value of 8 bytes is one event: the layout of logs written before appends were indexed
/// whole, which therefore still read).
fn stream_key(stream: &str, version: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 9);
    k.extend_from_slice(stream.as_bytes());
    k.push(0);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

fn stream_value(first_pos: u64, count: u64) -> Vec<u8> {
    let mut v = first_pos.to_be_bytes().to_vec();
    if count != 1 {
        v.extend_from_slice(&count.to_be_bytes());
    }
    v
}

/// A stream index entry's first position and event count.
fn stream_entry(value: &[u8]) -> Result<(u64, u64), StoreError> {
    match value.len() {
        8 => Ok((be_u64(value), 1)),
        // At least one event, and positions that fit.
        16 if be_u64(&value[8..]) >= 1
            && be_u64(&value[..8])
                .checked_add(be_u64(&value[8..]))
                .is_some() =>
        {
            Ok((be_u64(&value[..8]), be_u64(&value[8..])))
        }
        n => Err(StoreError::Corrupt {
            position: 0,
            why: format!("a stream index entry of {n} bytes (8 or 16 expected)"),
        }),
    }
}

/// The id index value: the event's position and its append's first and last positions.
fn id_value(pos: u64, first: u64, last: u64) -> [u8; 24] {
    let mut v = [0u8; 24];
    v[..8].copy_from_slice(&pos.to_be_bytes());
    v[8..16].copy_from_slice(&first.to_be_bytes());
    v[16..].copy_from_slice(&last.to_be_bytes());
    v
}

/// What identifies an event's content for idempotency: its type and payload.
fn content_digest(event_type: &str, payload: &[u8]) -> [u8; 32] {
    let mut bytes = Vec::with_capacity(event_type.len() + 1 + payload.len());
    bytes.extend_from_slice(event_type.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(payload);
    codec::sha256(&bytes)
}

/// The big-endian number in the last 8 bytes (a key's trailing version or position; fewer bytes
/// are zero-padded, so a short, damaged key never panics).
fn be_u64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = bytes.len().min(8);
    b[8 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
    u64::from_be_bytes(b)
}

/// The records of a log entry (keyed by its last record's position), in order, each checked
/// against its own hash and against the position the entry gives it.
pub fn decode_log_entry(key: &[u8], value: &[u8]) -> Result<Vec<RecordedEvent>, StoreError> {
    let (first, slices) = entry_slices(be_u64(key), value)?;
    slices
        .iter()
        .enumerate()
        .map(|(i, bytes)| decode_at(first + i as u64, bytes))
        .collect()
}

/// One log entry holding `records` (consecutive, in order): a single record as it is, several
/// packed. The key is the last record's position.
pub fn encode_log_entry(records: &[Vec<u8>]) -> Vec<u8> {
    if let [one] = records {
        return one.clone();
    }
    let mut out = Vec::with_capacity(1 + records.iter().map(|r| 4 + r.len()).sum::<usize>());
    out.push(PACK);
    for r in records {
        out.extend_from_slice(&(r.len() as u32).to_le_bytes());
        out.extend_from_slice(r);
    }
    out
}

/// The first position and the record bytes of an entry whose last record is at `last`.
fn entry_slices(last: u64, value: &[u8]) -> Result<(u64, Vec<&[u8]>), StoreError> {
    let corrupt = |why: String| StoreError::Corrupt {
        position: last,
        why,
    };
    match value.first() {
        Some(&PACK) => {
            let mut out = Vec::new();
            let mut rest = &value[1..];
            while !rest.is_empty() {
                if rest.len() < 4 {
                    return Err(corrupt("a log entry ends inside a length".into()));
                }
                let (len, tail) = rest.split_at(4);
                let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
                if len > tail.len() {
                    return Err(corrupt(format!(
                        "a packed record of {len} bytes where {} remain",
                        tail.len()
                    )));
                }
                let (record, tail) = tail.split_at(len);
                out.push(record);
                rest = tail;
            }
            if out.is_empty() || out.len() as u64 > last {
                return Err(corrupt(format!(
                    "a log entry of {} records at position {last}",
                    out.len()
                )));
            }
            Ok((last - (out.len() as u64 - 1), out))
        }
        _ => Ok((last, vec![value])),
    }
}

/// Decodes a record that the log holds at `position`.
fn decode_at(position: u64, bytes: &[u8]) -> Result<RecordedEvent, StoreError> {
    let rec = codec::decode_record(bytes).map_err(|why| StoreError::Corrupt { position, why })?;
    if rec.position != position {
        return Err(StoreError::Corrupt {
            position,
            why: format!("the record there says position {}", rec.position),
        });
    }
    Ok(rec)
}

/// Visits the records at positions `from..=to`, in order, until `visit` answers false.
fn visit_log(
    log: &sled::Tree,
    from: u64,
    to: u64,
    mut visit: impl FnMut(RecordedEvent) -> bool,
) -> Result<(), StoreError> {
    if from > to {
        return Ok(());
    }
    // The entry holding `from` is the first whose last position is at least `from`; each next
    // entry must begin right after the one before (a gap or an overlap is damage).
    let mut next = from;
    for item in log.range(from.to_be_bytes()..) {
        let (k, v) = item.map_err(|e| sled_err("reading the log", e))?;
        let last = be_u64(&k);
        let (first, slices) = entry_slices(last, &v)?;
        if first > next || (next > from && first != next) {
            return Err(StoreError::Corrupt {
                position: next,
                why: format!("the log entry after it begins at position {first}"),
            });
        }
        for (i, bytes) in slices.iter().enumerate() {
            let pos = first + i as u64;
            if pos < from {
                continue;
            }
            if pos > to || !visit(decode_at(pos, bytes)?) {
                return Ok(());
            }
        }
        if last >= to {
            return Ok(());
        }
        next = last + 1;
    }
    Ok(())
}

/// The record at `position`, if the log holds it.
fn log_get(log: &sled::Tree, position: u64) -> Result<Option<RecordedEvent>, StoreError> {
    let mut found = None;
    visit_log(log, position, position, |rec| {
        found = Some(rec);
        false
    })?;
    Ok(found)
}

fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
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
        let content = tree("content")?;
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

/// Indexes the log entries after the marker (a crash may have left them unindexed).
fn repair_indexes(
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
struct BlobSync {
    dir: PathBuf,
    seen_mtime: Option<std::time::SystemTime>,
    synced: std::collections::HashSet<std::ffi::OsString>,
}

impl BlobSync {
    fn new(dir: PathBuf) -> Self {
        BlobSync {
            dir,
            seen_mtime: None,
            synced: std::collections::HashSet::new(),
        }
    }

    fn sync_new(&mut self) -> Result<(), StoreError> {
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

/// Where an event id was stored, and what it carried.
#[derive(Clone)]
struct Stored {
    position: u64,
    append_first: u64,
    append_last: u64,
    stream: String,
    version: u64,
    digest: [u8; 32],
}

struct Committer {
    inner: Arc<Inner>,
    db: sled::Db,
    sync_file: Option<File>,
    data_file: PathBuf,
    head_tx: watch::Sender<u64>,
    /// sled writes values larger than a quarter segment to files of their own under `blobs/`
    /// and never syncs them; in Fsync mode the committer does.
    blobs: BlobSync,
    next_pos: u64,
    head_hash: [u8; 32],
    /// Last version of recently written streams (bounded; the index answers the rest).
    heads: HashMap<String, u64>,
    max_batch: usize,
    /// The recorded time of the last event, in microseconds.
    last_recorded: i64,
}

/// What staging a batch has added but not yet written.
#[derive(Default)]
struct Staged {
    content: sled::Batch,
    log: sled::Batch,
    streams: sled::Batch,
    ids: sled::Batch,
    /// Event ids staged in this batch.
    new_ids: HashMap<uuid::Uuid, Stored>,
    count: usize,
}

impl Committer {
    fn run(&mut self, rx: mpsc::Receiver<Vec<Job>>) {
        let count = |jobs: &[Job]| jobs.iter().map(|j| j.0.events.len()).sum::<usize>();
        while let Ok(mut jobs) = rx.recv() {
            let mut events = count(&jobs);
            while events < self.max_batch {
                match rx.try_recv() {
                    Ok(more) => {
                        events += count(&more);
                        jobs.extend(more);
                    }
                    Err(_) => break,
                }
            }
            self.commit(jobs);
        }
    }

    fn commit(&mut self, jobs: Vec<Job>) {
        if self.inner.failed.load(Ordering::SeqCst) {
            for (_, _, tx) in jobs {
                let _ = tx.send(Err(StoreError::Unavailable));
            }
            return;
        }
        let mut staged = Staged::default();
        let mut replies = Vec::with_capacity(jobs.len());
        let mut results = Vec::with_capacity(jobs.len());
        for (req, content, reply) in jobs {
            let result = self.stage(req, &mut staged);
            // Only the content of appends that will be written (a refused one's is not needed);
            // what the store holds already is not written again.
            if result.is_ok() {
                for (hash, bytes) in content {
                    if !self.inner.content.contains_key(hash).unwrap_or(false) {
                        staged.content.insert(&hash, bytes);
                    }
                }
            }
            results.push(result);
            replies.push(reply);
        }
        let outcome = if staged.count > 0 {
            self.write(staged)
        } else {
            Ok(())
        };
        match outcome {
            Ok(()) => {
                let head = self.next_pos - 1;
                self.inner.durable.store(head, Ordering::SeqCst);
                self.head_tx.send_replace(head);
                for (tx, r) in replies.into_iter().zip(results) {
                    let _ = tx.send(r);
                }
            }
            Err(e) => {
                // Positions and hashes were handed out in memory: the only safe state now is a
                // stopped writer; a restart recovers whatever reached the disk.
                tracing::error!(error = %e, "log write failed; the log writer stops");
                self.inner.failed.store(true, Ordering::SeqCst);
                for tx in replies {
                    let _ = tx.send(Err(StoreError::Unavailable));
                }
            }
        }
    }

    fn write(&mut self, staged: Staged) -> Result<(), StoreError> {
        let last = self.next_pos - 1;
        let mut ids = staged.ids;
        ids.insert(MARKER, &last.to_be_bytes());
        // Content first: sled recovers a prefix of what it was given, so an event that survives
        // a crash finds its content.
        self.inner
            .content
            .apply_batch(staged.content)
            .map_err(|e| sled_err("writing content", e))?;
        self.inner
            .log
            .apply_batch(staged.log)
            .map_err(|e| sled_err("writing the log", e))?;
        self.inner
            .streams
            .apply_batch(staged.streams)
            .map_err(|e| sled_err("writing the stream index", e))?;
        self.inner
            .ids
            .apply_batch(ids)
            .map_err(|e| sled_err("writing the id index", e))?;
        self.db
            .flush()
            .map_err(|e| sled_err("flushing the log", e))?;
        if let Some(f) = &self.sync_file {
            f.sync_data().map_err(|e| {
                StoreError::io(format!("fdatasync of {}", self.data_file.display()), e)
            })?;
            self.blobs.sync_new()?;
        }
        if self.heads.len() > 100_000 {
            self.heads.clear();
        }
        Ok(())
    }

    fn lookup_id(&self, id: &uuid::Uuid, staged: &Staged) -> Result<Option<Stored>, StoreError> {
        if let Some(found) = staged.new_ids.get(id) {
            return Ok(Some(found.clone()));
        }
        let Some(value) = self
            .inner
            .ids
            .get(id.as_bytes())
            .map_err(|e| sled_err("reading the id index", e))?
        else {
            return Ok(None);
        };
        if value.len() != 24 {
            return Err(StoreError::Corrupt {
                position: 0,
                why: format!("an id index entry of {} bytes (24 expected)", value.len()),
            });
        }
        let (pos, append_first, append_last) = (
            be_u64(&value[..8]),
            be_u64(&value[8..16]),
            be_u64(&value[16..]),
        );
        let rec = log_get(&self.inner.log, pos)?.ok_or(StoreError::Corrupt {
            position: pos,
            why: "the id index points to a missing event".into(),
        })?;
        Ok(Some(Stored {
            position: pos,
            append_first,
            append_last,
            digest: content_digest(&rec.event_type, &rec.payload),
            stream: rec.stream,
            version: rec.version,
        }))
    }

    fn stream_version(&mut self, stream: &str) -> Result<u64, StoreError> {
        if let Some(v) = self.heads.get(stream) {
            return Ok(*v);
        }
        let mut prefix = stream.as_bytes().to_vec();
        prefix.push(0);
        let v = match self.inner.streams.scan_prefix(&prefix).next_back() {
            Some(item) => be_u64(&item.map_err(|e| sled_err("reading the stream index", e))?.0),
            None => 0,
        };
        Ok(v)
    }

    fn stage(
        &mut self,
        req: AppendRequest,
        staged: &mut Staged,
    ) -> Result<AppendResult, StoreError> {
        validate_stream(&req.stream).map_err(StoreError::InvalidRequest)?;
        if req.events.is_empty() {
            return Err(StoreError::InvalidRequest(
                "an append needs at least one event".into(),
            ));
        }
        if req.events.len() > MAX_EVENTS_PER_APPEND {
            return Err(StoreError::InvalidRequest(format!(
                "at most {MAX_EVENTS_PER_APPEND} events per append"
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for e in &req.events {
            if !seen.insert(e.id) {
                return Err(StoreError::InvalidRequest(format!(
                    "event id {} appears twice",
                    e.id
                )));
            }
            if e.payload.len() > MAX_PAYLOAD || e.event_type.is_empty() || e.event_type.len() > 100
            {
                return Err(StoreError::InvalidRequest(format!(
                    "event {}: the type must be 1 to 100 bytes and the payload at most {MAX_PAYLOAD} bytes",
                    e.id
                )));
            }
        }

        // Idempotency: a request that is exactly an earlier append (same ids, same order, same
        // stream, same content) answers where that append landed. Anything else that reuses a
        // stored id is a conflict: it cannot be applied, and it is not the same request.
        let mut found = Vec::new();
        for e in &req.events {
            if let Some(hit) = self.lookup_id(&e.id, staged)? {
                found.push((e, hit));
            }
        }
        if let Some((first_event, first)) = found.first() {
            let conflict = |why: &str| StoreError::IdempotencyConflict {
                event_id: first_event.id,
                why: why.to_string(),
            };
            if found.len() != req.events.len() {
                return Err(conflict(
                    "it was stored before, but the other events of this append were not",
                ));
            }
            let whole = first.append_last.checked_sub(first.append_first)
                == Some(found.len() as u64 - 1)
                && found.iter().enumerate().all(|(i, (_, h))| {
                    h.append_first == first.append_first
                        && h.position == first.append_first + i as u64
                });
            if !whole {
                return Err(conflict("these ids were stored, but not as exactly this append (same events, same order)"));
            }
            if found.iter().any(|(_, h)| h.stream != req.stream) {
                return Err(conflict("it was stored in another stream"));
            }
            if found
                .iter()
                .any(|(e, h)| content_digest(&e.event_type, &e.payload) != h.digest)
            {
                return Err(conflict("it was stored with another type or payload"));
            }
            let last = &found[found.len() - 1].1;
            return Ok(AppendResult {
                first_position: first.position,
                last_position: last.position,
                stream_version: last.version,
            });
        }

        let current = self.stream_version(&req.stream)?;
        let ok = match req.expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(v) => current == v,
        };
        if !ok {
            return Err(StoreError::WrongExpectedVersion {
                stream: req.stream.clone(),
                expected: req.expected,
                actual: current,
            });
        }

        // Strictly increasing: auditors get a monotonic clock, and the index repair can tell two
        // appends to one stream apart by their time.
        let recorded_at_micros = now_micros().max(self.last_recorded + 1);
        self.last_recorded = recorded_at_micros;
        let first_position = self.next_pos;
        let last_position = first_position + req.events.len() as u64 - 1;
        let mut version = current;
        // The append's records, packed into as few log entries as fit (see `PACK_BYTES`).
        let mut entry: Vec<Vec<u8>> = Vec::new();
        let mut entry_bytes = 0;
        for e in req.events {
            version += 1;
            let mut rec = RecordedEvent {
                position: self.next_pos,
                stream: req.stream.clone(),
                version,
                id: e.id,
                recorded_at_micros,
                principal: e.principal,
                correlation_id: e.correlation_id,
                causation_id: e.causation_id,
                event_type: e.event_type,
                schema_version: e.schema_version,
                payload: e.payload,
                prev_hash: self.head_hash,
                hash: [0; 32],
            };
            let bytes = codec::seal_record(&mut rec);
            if !entry.is_empty() && entry_bytes + 4 + bytes.len() > PACK_BYTES {
                let last = self.next_pos - 1;
                staged
                    .log
                    .insert(&last.to_be_bytes(), encode_log_entry(&entry));
                entry.clear();
                entry_bytes = 0;
            }
            entry_bytes += 4 + bytes.len();
            entry.push(bytes);
            staged.ids.insert(
                e.id.as_bytes(),
                &id_value(self.next_pos, first_position, last_position),
            );
            staged.new_ids.insert(
                e.id,
                Stored {
                    position: self.next_pos,
                    append_first: first_position,
                    append_last: last_position,
                    stream: req.stream.clone(),
                    version,
                    digest: content_digest(&rec.event_type, &rec.payload),
                },
            );
            staged.count += 1;
            self.head_hash = rec.hash;
            self.next_pos += 1;
        }
        staged
            .log
            .insert(&(self.next_pos - 1).to_be_bytes(), encode_log_entry(&entry));
        staged.streams.insert(
            stream_key(&req.stream, version),
            stream_value(first_position, last_position - first_position + 1),
        );
        self.heads.insert(req.stream.clone(), version);
        Ok(AppendResult {
            first_position,
            last_position: self.next_pos - 1,
            stream_version: version,
        })
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
}
