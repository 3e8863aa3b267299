//! Filtered reads of the log for auditors: by stream, principal, event type and time range,
//! paginated by position. Shared by the audit API and `postroom audit export`.

use super::envelope::RecordedEvent;
use super::store::{EventStore, StoreError};
use crate::domain::address::contact_key;
use crate::domain::Principal;

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub stream: Option<String>,
    pub principal: Option<Principal>,
    pub event_type: Option<String>,
    /// Inclusive, microseconds since the epoch.
    pub from_micros: Option<i64>,
    /// Exclusive, microseconds since the epoch.
    pub to_micros: Option<i64>,
    /// The filters contradict each other (a stream and an interaction of another stream).
    pub contradictory: bool,
    /// A kind of action: its event types, and whether only people's count.
    pub kind: Option<Kind>,
    /// Messages sent to this address (normalised): `ReplySent` on these streams, which the
    /// caller finds (`streams`) from the address.
    pub recipient: Option<String>,
    /// The streams of the replies and answers to `recipient`, once found.
    pub streams: Option<std::collections::BTreeSet<String>>,
}

/// The auditor's kinds of action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// What supervisors did to interactions: moves, priorities, assignments, stops, attribute
    /// edits, reviews passed on. People's only (a breach's escalation by the system is not one).
    Intervention,
    /// QA review: each decision, offer taken, approval, return, edit and reassignment.
    Review,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind, String> {
        match s {
            "intervention" => Ok(Kind::Intervention),
            "review" => Ok(Kind::Review),
            other => Err(format!(
                "kind: {other:?} is not one of intervention, review"
            )),
        }
    }

    pub fn types(&self) -> &'static [&'static str] {
        match self {
            Kind::Intervention => &[
                "MovedBySupervisor",
                "Reprioritised",
                "AssignedBySupervisor",
                "AttributesEdited",
                "InteractionStopped",
                "ReviewReassigned",
            ],
            Kind::Review => &[
                "ReviewDecided",
                "ReviewStarted",
                "ReplyApproved",
                "ReturnedForRevision",
                "ReviewEdited",
                "ReviewReassigned",
            ],
        }
    }

    fn matches(&self, e: &RecordedEvent) -> bool {
        self.types().contains(&e.event_type.as_str())
            && (*self != Kind::Intervention || matches!(e.principal, Principal::User(_)))
    }
}

/// A filter as people write it (query string or command line), before it is parsed.
#[derive(Debug, Clone, Default)]
pub struct FilterText {
    pub stream: Option<String>,
    pub interaction: Option<String>,
    pub principal: Option<String>,
    pub event_type: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub kind: Option<String>,
    pub recipient: Option<String>,
}

/// Parses an RFC 3339 time into microseconds since the epoch; errors name the field.
pub fn parse_time(field: &str, s: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1000) as i64)
        .map_err(|_| format!("{field}: {s:?} is not an RFC 3339 time such as 2026-11-24T09:00:00Z"))
}

impl AuditFilter {
    /// Parses a written filter; each error names the field at fault.
    pub fn parse(t: &FilterText) -> Result<AuditFilter, String> {
        let interaction = match &t.interaction {
            Some(i) => Some(
                i.parse::<crate::domain::InteractionId>()
                    .map_err(|e| format!("interaction: {e}"))?
                    .stream(),
            ),
            None => None,
        };
        // Filters hold together: a stream and an interaction that name different streams match
        // nothing.
        let (stream, contradictory) = match (&t.stream, interaction) {
            (Some(s), Some(i)) => (Some(i.clone()), *s != i),
            (Some(s), None) => (Some(s.clone()), false),
            (None, i) => (i, false),
        };
        let principal = match &t.principal {
            Some(p) => Some(Principal::from_label(p).ok_or_else(|| {
                format!(
                    "principal: {p:?} is not customer:<address>, user:<name> or system:<component>"
                )
            })?),
            None => None,
        };
        Ok(AuditFilter {
            stream,
            principal,
            event_type: t.event_type.clone(),
            from_micros: t
                .from
                .as_deref()
                .map(|s| parse_time("from", s))
                .transpose()?,
            to_micros: t.to.as_deref().map(|s| parse_time("to", s)).transpose()?,
            contradictory,
            kind: t.kind.as_deref().map(Kind::parse).transpose()?,
            recipient: match &t.recipient {
                Some(r) => Some(
                    crate::domain::EmailAddress::parse(r)
                        .map(|a| contact_key(a.as_str()))
                        .map_err(|e| format!("recipient: {e}"))?,
                ),
                None => None,
            },
            streams: None,
        })
    }

    pub fn matches(&self, e: &RecordedEvent) -> bool {
        !self.contradictory
            && self.stream.as_ref().is_none_or(|s| &e.stream == s)
            && self.principal.as_ref().is_none_or(|p| &e.principal == p)
            && self.event_type.as_ref().is_none_or(|t| &e.event_type == t)
            && self.from_micros.is_none_or(|f| e.recorded_at_micros >= f)
            && self.to_micros.is_none_or(|t| e.recorded_at_micros < t)
            && self.kind.is_none_or(|k| k.matches(e))
            && (self.recipient.is_none()
                || (e.event_type == "ReplySent"
                    && self.streams.as_ref().is_some_and(|s| s.contains(&e.stream))))
    }
}

/// The streams of every reply and automatic answer composed to `recipient` (normalised), found
/// in the log (where no projections run, as in the CLI).
pub fn streams_to(
    store: &dyn EventStore,
    recipient: &str,
) -> Result<std::collections::BTreeSet<String>, StoreError> {
    use crate::domain::interaction::InteractionEvent as E;
    let mut out = std::collections::BTreeSet::new();
    let mut next = 1;
    loop {
        let batch = store.read_all(next, 4096)?;
        let Some(last) = batch.last().map(|e| e.position) else {
            return Ok(out);
        };
        for e in &batch {
            if e.event_type != "ReplyDrafted" && e.event_type != "AnswerComposed" {
                continue;
            }
            let to = match crate::events::DomainEvent::from_recorded(e) {
                Ok(crate::events::DomainEvent::Interaction(E::ReplyDrafted(d))) => d.to,
                Ok(crate::events::DomainEvent::Interaction(E::AnswerComposed(a))) => a.to,
                _ => continue,
            };
            if contact_key(&to) == recipient {
                out.insert(e.stream.clone());
            }
        }
        next = last + 1;
    }
}

/// One page of matching events after `after`.
pub struct Page {
    pub events: Vec<RecordedEvent>,
    /// Where the next page starts (`after` for the next call); None once the head is reached.
    pub next_after: Option<u64>,
}

/// Reads matching events with position > `after`, at most `limit`, looking at no more than
/// `max_scan` events (so one request cannot scan the whole log; the page then ends early and
/// `next_after` says where to go on).
pub fn page(
    store: &dyn EventStore,
    filter: &AuditFilter,
    after: u64,
    limit: usize,
    max_scan: usize,
) -> Result<Page, StoreError> {
    let head = store.head();
    let mut events = Vec::new();
    if let Some(streams) = &filter.streams {
        // The recipient's replies: their streams, merged in log order.
        let mut all: Vec<RecordedEvent> = Vec::new();
        for stream in streams {
            all.extend(
                store
                    .read_stream(stream, 1)?
                    .into_iter()
                    .filter(|e| e.position > after && filter.matches(e)),
            );
        }
        all.sort_by_key(|e| e.position);
        let more = all.len() > limit;
        all.truncate(limit);
        let next_after = more.then(|| all.last().map(|e| e.position)).flatten();
        return Ok(Page {
            events: all,
            next_after,
        });
    }
    if let Some(stream) = &filter.stream {
        // The stream index answers directly.
        for e in store.read_stream(stream, 1)? {
            if e.position > after && filter.matches(&e) {
                if events.len() == limit {
                    let next = events.last().map(|x: &RecordedEvent| x.position);
                    return Ok(Page {
                        events,
                        next_after: next,
                    });
                }
                events.push(e);
            }
        }
        return Ok(Page {
            events,
            next_after: None,
        });
    }
    // `after` comes from the caller: u64::MAX must mean "nothing after", not wrap to 0.
    let Some(mut next) = after.checked_add(1) else {
        return Ok(Page {
            events,
            next_after: None,
        });
    };
    let mut scanned = 0;
    while next <= head && scanned < max_scan {
        let batch = store.read_all(next, 1024.min(max_scan - scanned))?;
        let Some(last) = batch.last().map(|e| e.position) else {
            break;
        };
        for e in batch {
            scanned += 1;
            let pos = e.position;
            if filter.matches(&e) {
                events.push(e);
                if events.len() == limit {
                    let more = pos < head;
                    return Ok(Page {
                        events,
                        next_after: more.then_some(pos),
                    });
                }
            }
        }
        next = last + 1;
    }
    Ok(Page {
        events,
        next_after: (next <= head).then_some(next - 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(stream: &str) -> RecordedEvent {
        RecordedEvent {
            position: 1,
            stream: stream.into(),
            version: 1,
            id: uuid::Uuid::nil(),
            recorded_at_micros: 0,
            principal: Principal::System("test".into()),
            correlation_id: uuid::Uuid::nil(),
            causation_id: None,
            event_type: "InteractionReceived".into(),
            schema_version: 1,
            payload: Vec::new(),
            prev_hash: [0; 32],
            hash: [0; 32],
        }
    }

    #[test]
    fn a_stream_and_an_interaction_filter_together() {
        let id = "0190f5b2-6c1e-7c3a-9d2e-5b7a1c9e0f11";
        let own = format!("interaction-{id}");
        let filter = |stream: &str| {
            AuditFilter::parse(&FilterText {
                stream: Some(stream.into()),
                interaction: Some(id.into()),
                ..FilterText::default()
            })
            .expect("a filter")
        };
        // The same stream: its events.
        assert!(filter(&own).matches(&event(&own)));
        // Two different streams: nothing, not an error.
        let other = filter("user-rita");
        assert!(!other.matches(&event(&own)));
        assert!(!other.matches(&event("user-rita")));
    }
}
