//! Audit export as NDJSON and verification of the hash chain, from the store or from a file.
//!
//! An export line is rendered deterministically from the record (compact JSON, fixed key order),
//! so `verify_file` re-renders every line from its own fields and compares byte for byte: an
//! altered byte anywhere in a line, not only in the hashed fields, is found.

use super::codec;
use super::envelope::RecordedEvent;
use super::store::{EventStore, StoreError};
use super::upcast::DomainEvent;
use crate::domain::Principal;
use serde_json::{json, Value};
use std::io::{BufRead, Write};

/// Formats microseconds since the epoch as RFC 3339 UTC.
pub fn format_micros(micros: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(micros as i128 * 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| micros.to_string())
}

/// The JSON form of a recorded event, with its decoded payload under `data` (null when this build
/// cannot decode it).
pub fn to_json(e: &RecordedEvent) -> Value {
    // The event's own fields: the aggregate and type wrappers repeat what `type` says. An
    // earlier layout shows as recorded, so the line is the same under every later version.
    if let Some(data) = super::upcast::earlier_json(&e.event_type, e.schema_version, &e.payload) {
        return line_json(e, data);
    }
    let data = DomainEvent::from_recorded(e)
        .ok()
        .and_then(|d| match d {
            DomainEvent::Interaction(ev) => serde_json::to_value(ev).ok(),
            DomainEvent::User(ev) => serde_json::to_value(ev).ok(),
            DomainEvent::Response(ev) => serde_json::to_value(ev).ok(),
            DomainEvent::Process(ev) => serde_json::to_value(ev).ok(),
            DomainEvent::Agent(ev) => serde_json::to_value(ev).ok(),
        })
        .map(|v| match v {
            Value::Object(mut m) if m.len() == 1 => {
                m.remove(e.event_type.as_str()).unwrap_or(Value::Object(m))
            }
            other => other,
        })
        .unwrap_or(Value::Null);
    line_json(e, data)
}

/// The export's object for `e`, its event's fields shown as `data`.
fn line_json(e: &RecordedEvent, data: Value) -> Value {
    json!({
        "position": e.position,
        "stream": e.stream,
        "version": e.version,
        "id": e.id,
        "recorded_at": format_micros(e.recorded_at_micros),
        "recorded_at_micros": e.recorded_at_micros,
        "principal": e.principal.to_label(),
        "correlation_id": e.correlation_id,
        "causation_id": e.causation_id,
        "type": e.event_type,
        "schema_version": e.schema_version,
        "payload_hex": hex::encode(&e.payload),
        "data": data,
        "prev_hash": hex::encode(e.prev_hash),
        "hash": hex::encode(e.hash),
    })
}

/// One export line (without the newline): compact JSON with every object's keys sorted, so the
/// bytes do not depend on how a JSON map happens to order its keys (serde_json's
/// `preserve_order` feature, for one).
pub fn to_line(e: &RecordedEvent) -> String {
    let mut out = String::with_capacity(1024);
    write_canonical(&to_json(e), &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn field<'a>(v: &'a Value, k: &str) -> Result<&'a Value, String> {
    v.get(k).ok_or_else(|| format!("missing field {k}"))
}
fn uuid_field(v: &Value, k: &str) -> Result<uuid::Uuid, String> {
    field(v, k)?
        .as_str()
        .and_then(|s| uuid::Uuid::parse_str(s).ok())
        .ok_or_else(|| format!("{k} is not a UUID"))
}
fn hash_field(v: &Value, k: &str) -> Result<[u8; 32], String> {
    let bytes = field(v, k)?
        .as_str()
        .and_then(|s| hex::decode(s).ok())
        .ok_or_else(|| format!("{k} is not hex"))?;
    bytes.try_into().map_err(|_| format!("{k} is not 32 bytes"))
}
fn u64_field(v: &Value, k: &str) -> Result<u64, String> {
    field(v, k)?
        .as_u64()
        .ok_or_else(|| format!("{k} is not a number"))
}

/// Rebuilds a record from an export line.
pub fn from_json(v: &Value) -> Result<RecordedEvent, String> {
    let principal = field(v, "principal")?
        .as_str()
        .and_then(Principal::from_label)
        .ok_or("principal is not customer:/user:/system:")?;
    let causation_id = match field(v, "causation_id")? {
        Value::Null => None,
        _ => Some(uuid_field(v, "causation_id")?),
    };
    Ok(RecordedEvent {
        position: u64_field(v, "position")?,
        stream: field(v, "stream")?
            .as_str()
            .ok_or("stream is not text")?
            .to_string(),
        version: u64_field(v, "version")?,
        id: uuid_field(v, "id")?,
        recorded_at_micros: field(v, "recorded_at_micros")?
            .as_i64()
            .ok_or("recorded_at_micros is not a number")?,
        principal,
        correlation_id: uuid_field(v, "correlation_id")?,
        causation_id,
        event_type: field(v, "type")?
            .as_str()
            .ok_or("type is not text")?
            .to_string(),
        schema_version: u16::try_from(u64_field(v, "schema_version")?)
            .map_err(|_| "schema_version is too large")?,
        payload: field(v, "payload_hex")?
            .as_str()
            .and_then(|s| hex::decode(s).ok())
            .ok_or("payload_hex is not hex")?,
        prev_hash: hash_field(v, "prev_hash")?,
        hash: hash_field(v, "hash")?,
    })
}

/// What a verification found.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub events: u64,
    /// Links checked between consecutive positions.
    pub links: u64,
    /// Places where positions jump (a filtered export): each record is still checked on its own.
    pub gaps: u64,
    pub first_position: Option<u64>,
    pub last_position: Option<u64>,
    pub last_hash: Option<String>,
}

/// The first thing that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("verification failed at {where_}: {why}")]
pub struct VerifyError {
    /// "position N" or "line N".
    pub where_: String,
    pub why: String,
}

/// Follows the chain across records in order.
#[derive(Default)]
struct ChainCheck {
    report: VerifyReport,
    prev: Option<(u64, [u8; 32])>,
}

impl ChainCheck {
    fn check(&mut self, e: &RecordedEvent, contiguous_required: bool) -> Result<(), String> {
        if codec::compute_hash(e) != e.hash {
            return Err("the event's hash does not match its contents".into());
        }
        match self.prev {
            None if e.position == 1 && e.prev_hash != [0; 32] => {
                return Err("the first event must link to the zero hash".into())
            }
            Some((p, _)) if e.position <= p => {
                return Err(format!("position {} does not follow {p}", e.position))
            }
            Some((p, h)) if e.position == p + 1 => {
                if e.prev_hash != h {
                    return Err(format!("prev_hash does not match the hash of position {p}"));
                }
                self.report.links += 1;
            }
            Some((p, _)) => {
                if contiguous_required {
                    return Err(format!(
                        "position {} follows {p}: events are missing",
                        e.position
                    ));
                }
                self.report.gaps += 1;
            }
            None if contiguous_required && e.position != 1 => {
                return Err("the log does not start at position 1".into())
            }
            None => {}
        }
        self.report.events += 1;
        self.report.first_position.get_or_insert(e.position);
        self.report.last_position = Some(e.position);
        self.report.last_hash = Some(hex::encode(e.hash));
        self.prev = Some((e.position, e.hash));
        Ok(())
    }
}

/// Verifies the whole log in a store: every record against its hash, every link, no gap.
pub fn verify_store(
    store: &dyn EventStore,
    mut progress: impl FnMut(u64),
) -> Result<VerifyReport, VerifyError> {
    let mut check = ChainCheck::default();
    let mut next = 1;
    loop {
        let batch = store.read_all(next, 4096).map_err(|e| match e {
            StoreError::Corrupt { position, why } => VerifyError {
                where_: format!("position {position}"),
                why,
            },
            other => VerifyError {
                where_: format!("position {next}"),
                why: other.to_string(),
            },
        })?;
        let Some(last) = batch.last().map(|e| e.position) else {
            break;
        };
        for e in &batch {
            check.check(e, true).map_err(|why| VerifyError {
                where_: format!("position {}", e.position),
                why,
            })?;
        }
        progress(last);
        next = last + 1;
    }
    Ok(check.report)
}

/// What an export is expected to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The whole log from position 1: a missing line is an error.
    Complete,
    /// A filtered export: positions may jump; every record and every adjacent link still verify.
    Filtered,
}

/// Verifies an NDJSON export: each line must be exactly what this record renders to, and its
/// hash and links must hold.
pub fn verify_file(reader: impl BufRead, kind: ExportKind) -> Result<VerifyReport, VerifyError> {
    let contiguous = kind == ExportKind::Complete;
    let mut check = ChainCheck::default();
    for (i, line) in reader.split(b'\n').enumerate() {
        let at_line = |why: String| VerifyError {
            where_: format!("line {}", i + 1),
            why,
        };
        let line = line.map_err(|e| at_line(e.to_string()))?;
        if line.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(&line).map_err(|_| at_line("not UTF-8".into()))?;
        let value: Value =
            serde_json::from_str(text).map_err(|e| at_line(format!("not JSON: {e}")))?;
        let e = from_json(&value).map_err(at_line)?;
        let at_pos = |why: String| VerifyError {
            where_: format!("position {} (line {})", e.position, i + 1),
            why,
        };
        check.check(&e, contiguous).map_err(at_pos)?;
        if to_line(&e) != text {
            return Err(at_pos(
                "the line differs from the record its hashed fields describe".into(),
            ));
        }
    }
    Ok(check.report)
}

/// Writes events as NDJSON lines.
pub fn write_lines<'a>(
    out: &mut impl Write,
    events: impl IntoIterator<Item = &'a RecordedEvent>,
) -> std::io::Result<u64> {
    let mut n = 0;
    for e in events {
        out.write_all(to_line(e).as_bytes())?;
        out.write_all(b"\n")?;
        n += 1;
    }
    Ok(n)
}
