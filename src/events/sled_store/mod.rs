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

mod committer;
mod db;
mod format;
mod store;

pub use db::{open_db, Durability, StoreOptions, CONTENT_TREE};
pub use format::{decode_log_entry, encode_log_entry, MAX_PAYLOAD};
pub use store::SledStore;
