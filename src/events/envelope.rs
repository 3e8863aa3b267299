//! The envelope every event travels in, and the shapes of an append.

use crate::domain::Principal;
use serde::Serialize;

/// An event to append: everything but what the log assigns (position, version, time, hashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Unique id: appending the same id again returns the stored result instead of a copy.
    pub id: uuid::Uuid,
    pub event_type: String,
    pub schema_version: u16,
    pub payload: Vec<u8>,
    pub principal: Principal,
    pub correlation_id: uuid::Uuid,
    pub causation_id: Option<uuid::Uuid>,
}

/// What the writer expects the stream's version to be before this append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last version must be exactly this (0 means "does not exist").
    Exact(u64),
}

/// Events for one stream, appended atomically or not at all.
#[derive(Debug, Clone)]
pub struct AppendRequest {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AppendResult {
    pub first_position: u64,
    pub last_position: u64,
    /// The stream's version after the append (the version of its last event).
    pub stream_version: u64,
}

/// An event as stored: its envelope (ARCHITECTURE.md), with its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Global position, from 1, without gaps.
    pub position: u64,
    pub stream: String,
    /// Version within the stream, from 1, without gaps.
    pub version: u64,
    pub id: uuid::Uuid,
    /// When the log recorded it, in microseconds since the Unix epoch.
    pub recorded_at_micros: i64,
    pub principal: Principal,
    pub correlation_id: uuid::Uuid,
    pub causation_id: Option<uuid::Uuid>,
    pub event_type: String,
    pub schema_version: u16,
    pub payload: Vec<u8>,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// Checks a stream name: 1 to 200 characters, printable, no NUL (the index uses NUL as separator).
pub fn validate_stream(stream: &str) -> Result<(), String> {
    if stream.is_empty() || stream.len() > 200 {
        return Err("a stream name must be 1 to 200 bytes".into());
    }
    if stream.chars().any(|c| c.is_control()) {
        return Err("a stream name must not contain control characters".into());
    }
    Ok(())
}
