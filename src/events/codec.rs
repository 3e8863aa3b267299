//! The one place that knows the byte layouts: bincode 2.0.1 (pinned; bincode is not
//! self-describing, so layouts change only by new versions, see `upcast`).
//!
//! A stored record is `FORMAT_V1 ++ canonical ++ sha256(canonical)`, where `canonical` is the
//! bincode encoding of every envelope field including the previous record's hash. The hash chain
//! therefore covers every byte an auditor sees, and re-hashing the middle of a record checks it.

use super::envelope::RecordedEvent;
use crate::domain::Principal;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The record format byte. A new envelope layout gets a new byte and a decoder beside this one.
pub const FORMAT_V1: u8 = 1;
/// Bincode refuses any length prefix that would allocate more than this (corrupt input).
const LIMIT: usize = 64 * 1024 * 1024;

fn config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<LIMIT>,
> {
    bincode::config::standard().with_limit::<LIMIT>()
}

/// Encodes a value with the project's bincode configuration.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // The input limit guards decoding only; encoding has none (a large snapshot is fine). Encoding
    // into a Vec then fails only for sequences of unknown length, which none of our types have.
    bincode::serde::encode_to_vec(value, bincode::config::standard()).unwrap_or_default()
}

/// Decodes a value; trailing bytes are an error (a layout mismatch, not a shorter record).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, used) =
        bincode::serde::decode_from_slice(bytes, config()).map_err(|e| e.to_string())?;
    if used != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - used));
    }
    Ok(value)
}

/// Decodes bytes whose integrity was already checked (e.g. a checksummed snapshot), which may be
/// larger than the limit that guards against corrupt length prefixes.
pub fn decode_verified<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map_err(|e| e.to_string())?;
    if used != bytes.len() {
        return Err(format!("{} trailing bytes", bytes.len() - used));
    }
    Ok(value)
}

#[derive(Deserialize)]
struct CanonicalV1 {
    position: u64,
    stream: String,
    version: u64,
    id: [u8; 16],
    recorded_at_micros: i64,
    principal: Principal,
    correlation_id: [u8; 16],
    causation_id: Option<[u8; 16]>,
    event_type: String,
    schema_version: u16,
    payload: Vec<u8>,
    prev_hash: [u8; 32],
}

/// The same layout as `CanonicalV1`, borrowed: what encoding uses, so no field is copied.
#[derive(Serialize)]
struct CanonicalV1Ref<'a> {
    position: u64,
    stream: &'a str,
    version: u64,
    id: [u8; 16],
    recorded_at_micros: i64,
    principal: &'a Principal,
    correlation_id: [u8; 16],
    causation_id: Option<[u8; 16]>,
    event_type: &'a str,
    schema_version: u16,
    payload: &'a [u8],
    prev_hash: [u8; 32],
}

/// The canonical bytes of a record: what its hash covers.
pub fn canonical_bytes(e: &RecordedEvent) -> Vec<u8> {
    encode(&CanonicalV1Ref {
        position: e.position,
        stream: &e.stream,
        version: e.version,
        id: *e.id.as_bytes(),
        recorded_at_micros: e.recorded_at_micros,
        principal: &e.principal,
        correlation_id: *e.correlation_id.as_bytes(),
        causation_id: e.causation_id.map(|c| *c.as_bytes()),
        event_type: &e.event_type,
        schema_version: e.schema_version,
        payload: &e.payload,
        prev_hash: e.prev_hash,
    })
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The hash a record must carry, computed from its fields.
pub fn compute_hash(e: &RecordedEvent) -> [u8; 32] {
    sha256(&canonical_bytes(e))
}

fn frame(canonical: &[u8], hash: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + canonical.len() + 32);
    out.push(FORMAT_V1);
    out.extend_from_slice(canonical);
    out.extend_from_slice(hash);
    out
}

/// Encodes a record for the log, setting nothing: `e.hash` must already be `compute_hash(e)`.
pub fn encode_record(e: &RecordedEvent) -> Vec<u8> {
    frame(&canonical_bytes(e), &e.hash)
}

/// Computes the record's hash, sets it, and answers the stored bytes (one encoding for both).
pub fn seal_record(e: &mut RecordedEvent) -> Vec<u8> {
    let canonical = canonical_bytes(e);
    e.hash = sha256(&canonical);
    frame(&canonical, &e.hash)
}

/// Decodes a stored record and checks that its bytes still match its own hash.
pub fn decode_record(bytes: &[u8]) -> Result<RecordedEvent, String> {
    if bytes.len() < 1 + 32 {
        return Err("record too short".into());
    }
    if bytes[0] != FORMAT_V1 {
        return Err(format!("unknown record format {}", bytes[0]));
    }
    let (canonical, hash) = bytes[1..].split_at(bytes.len() - 1 - 32);
    let c: CanonicalV1 = decode(canonical)?;
    let mut stored = [0u8; 32];
    stored.copy_from_slice(hash);
    if sha256(canonical) != stored {
        return Err("record bytes do not match their hash".into());
    }
    Ok(RecordedEvent {
        position: c.position,
        stream: c.stream,
        version: c.version,
        id: uuid::Uuid::from_bytes(c.id),
        recorded_at_micros: c.recorded_at_micros,
        principal: c.principal,
        correlation_id: uuid::Uuid::from_bytes(c.correlation_id),
        causation_id: c.causation_id.map(uuid::Uuid::from_bytes),
        event_type: c.event_type,
        schema_version: c.schema_version,
        payload: c.payload,
        prev_hash: c.prev_hash,
        hash: stored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RecordedEvent {
        let mut e = RecordedEvent {
            position: 7,
            stream: "interaction-x".into(),
            version: 2,
            id: uuid::Uuid::from_u128(1),
            recorded_at_micros: 1_700_000_000_000_000,
            principal: Principal::System("test".into()),
            correlation_id: uuid::Uuid::from_u128(2),
            causation_id: Some(uuid::Uuid::from_u128(3)),
            event_type: "InteractionQueued".into(),
            schema_version: 1,
            payload: vec![1, 2, 3],
            prev_hash: [9; 32],
            hash: [0; 32],
        };
        e.hash = compute_hash(&e);
        e
    }

    #[test]
    fn a_record_round_trips() {
        let e = sample();
        assert_eq!(decode_record(&encode_record(&e)), Ok(e));
    }

    #[test]
    fn any_flipped_byte_is_detected() {
        let bytes = encode_record(&sample());
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            assert!(
                decode_record(&b).is_err(),
                "flip at byte {i} went unnoticed"
            );
        }
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut b = encode(&5u32);
        b.push(0);
        assert!(decode::<u32>(&b).is_err());
    }
}
