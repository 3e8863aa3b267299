//! The committer thread: takes every append that is waiting, checks each (expected version,
//! idempotency), assigns positions and hashes, writes them as one batch per tree, flushes once
//! (and syncs, in fsync mode), and only then answers every writer.

use super::super::codec;
use super::super::envelope::*;
use super::super::store::StoreError;
use super::db::*;
use super::format::*;
use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::watch;

/// Where an event id was stored, and what it carried.
#[derive(Clone)]
pub(super) struct Stored {
    pub(super) position: u64,
    pub(super) append_first: u64,
    pub(super) append_last: u64,
    pub(super) stream: String,
    pub(super) version: u64,
    pub(super) digest: [u8; 32],
}

pub(super) struct Committer {
    pub(super) inner: Arc<Inner>,
    pub(super) db: sled::Db,
    pub(super) sync_file: Option<File>,
    pub(super) data_file: PathBuf,
    pub(super) head_tx: watch::Sender<u64>,
    /// sled writes values larger than a quarter segment to files of their own under `blobs/`
    /// and never syncs them; in Fsync mode the committer does.
    pub(super) blobs: BlobSync,
    pub(super) next_pos: u64,
    pub(super) head_hash: [u8; 32],
    /// Last version of recently written streams (bounded; the index answers the rest).
    pub(super) heads: HashMap<String, u64>,
    pub(super) max_batch: usize,
    /// The recorded time of the last event, in microseconds.
    pub(super) last_recorded: i64,
}

/// What staging a batch has added but not yet written.
#[derive(Default)]
pub(super) struct Staged {
    pub(super) content: sled::Batch,
    pub(super) log: sled::Batch,
    pub(super) streams: sled::Batch,
    pub(super) ids: sled::Batch,
    /// Event ids staged in this batch.
    pub(super) new_ids: HashMap<uuid::Uuid, Stored>,
    pub(super) count: usize,
}

impl Committer {
    pub(super) fn run(&mut self, rx: mpsc::Receiver<Vec<Job>>) {
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
        let written = staged.count;
        let started = std::time::Instant::now();
        let outcome = if written > 0 {
            self.write(staged)
        } else {
            Ok(())
        };
        if written > 0 && outcome.is_ok() {
            metrics::histogram!(crate::metrics::LOG_WRITE_SECONDS)
                .record(started.elapsed().as_secs_f64());
            metrics::counter!(crate::metrics::EVENTS_APPENDED).increment(written as u64);
            let answered = results.iter().filter(|r| r.is_ok()).count();
            metrics::counter!(crate::metrics::APPENDS).increment(answered as u64);
        }
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
