//! The log's layout in sled: the limits of an append, the keys and values of the stream and id
//! indexes, and log entries (one append's records packed together), read and written.

use super::super::codec;
use super::super::envelope::*;
use super::super::store::StoreError;

pub(super) const MARKER: &[u8] = b"\xffindexed-upto";
/// The first byte of a log entry that holds several records: `PACK ++ (u32 LE length ++ record)*`.
/// An entry that starts with `codec::FORMAT_V1` is a single record, as every entry of a log
/// written before appends were packed is: both read the same.
pub(super) const PACK: u8 = 0x80;
/// Records of one append share a log entry up to this many bytes, which keeps every entry inside
/// sled's own log (a quarter segment, 128 KiB): one sled insert for a whole append instead of one
/// per event, the largest part of the committer's work.
pub(super) const PACK_BYTES: usize = 64 * 1024;
/// A single append may carry at most this many events and this many payload bytes per event.
/// Payloads stay far below sled's blob threshold (segment size / 4): content lives outside the log.
pub(super) const MAX_EVENTS_PER_APPEND: usize = 10_000;
pub const MAX_PAYLOAD: usize = 64 * 1024;

pub(super) fn sled_err(context: &str, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) => StoreError::io(context, io),
        other => StoreError::io(context, std::io::Error::other(other.to_string())),
    }
}

/// The stream index has one entry per append: keyed by the stream and the append's last version,
/// it holds the append's first position and, when the append has more than one event, its event
/// count (a value of 8 bytes is one event: the layout of logs written before appends were indexed
/// whole, which therefore still read).
pub(super) fn stream_key(stream: &str, version: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 9);
    k.extend_from_slice(stream.as_bytes());
    k.push(0);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

pub(super) fn stream_value(first_pos: u64, count: u64) -> Vec<u8> {
    let mut v = first_pos.to_be_bytes().to_vec();
    if count != 1 {
        v.extend_from_slice(&count.to_be_bytes());
    }
    v
}

/// A stream index entry's first position and event count.
pub(super) fn stream_entry(value: &[u8]) -> Result<(u64, u64), StoreError> {
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
pub(super) fn id_value(pos: u64, first: u64, last: u64) -> [u8; 24] {
    let mut v = [0u8; 24];
    v[..8].copy_from_slice(&pos.to_be_bytes());
    v[8..16].copy_from_slice(&first.to_be_bytes());
    v[16..].copy_from_slice(&last.to_be_bytes());
    v
}

/// What identifies an event's content for idempotency: its type and payload.
pub(super) fn content_digest(event_type: &str, payload: &[u8]) -> [u8; 32] {
    let mut bytes = Vec::with_capacity(event_type.len() + 1 + payload.len());
    bytes.extend_from_slice(event_type.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(payload);
    codec::sha256(&bytes)
}

/// The big-endian number in the last 8 bytes (a key's trailing version or position; fewer bytes
/// are zero-padded, so a short, damaged key never panics).
pub(super) fn be_u64(bytes: &[u8]) -> u64 {
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
pub(super) fn entry_slices(last: u64, value: &[u8]) -> Result<(u64, Vec<&[u8]>), StoreError> {
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
pub(super) fn decode_at(position: u64, bytes: &[u8]) -> Result<RecordedEvent, StoreError> {
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
pub(super) fn visit_log(
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
pub(super) fn log_get(
    log: &sled::Tree,
    position: u64,
) -> Result<Option<RecordedEvent>, StoreError> {
    let mut found = None;
    visit_log(log, position, position, |rec| {
        found = Some(rec);
        false
    })?;
    Ok(found)
}

pub(super) fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
