//! The replay of a whole thread for supervisors and auditors: every event of every interaction
//! in it (the customer's mails and answers, our replies and automatic answers, reviews,
//! consultations, sends), in log order, each with its envelope (principal included) and the state
//! of its interaction after it. `?version=N` stops at the asked interaction's version N, `?at=T`
//! at the last event recorded at or before T (both: whichever comes first); the two agree on the
//! version in force at T.

use super::interactions::{parse_id, state_from_log};
use super::problem::{ApiError, Problem};
use super::views::{History, HistoryEntry, InteractionView};
use crate::domain::interaction::{AutoAnswer, Interaction, InteractionEvent};
use crate::domain::InteractionId;
use crate::events::aggregate::Loaded;
use crate::events::query::parse_time;
use crate::events::{export, DomainEvent, EventStore, RecordedEvent};
use crate::projections::ProjectionRunner;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Stop at this version of the interaction (1 = after its first event).
    pub version: Option<u64>,
    /// Stop at this RFC 3339 time: the events recorded at or before it.
    pub at: Option<String>,
}

/// Where a replay stops: at a version of the asked interaction, at a time, or at whichever of
/// the two comes first (neither: the latest).
#[derive(Debug, Clone, Copy, Default)]
pub struct Until {
    pub version: Option<u64>,
    /// Recorded at or before, microseconds since the epoch.
    pub at: Option<i64>,
}

impl HistoryQuery {
    pub fn until(&self) -> Result<Until, ApiError> {
        if self.version == Some(0) {
            return Err(ApiError::BadRequest("version starts at 1".into()));
        }
        let at = match &self.at {
            Some(t) => Some(parse_time("at", t).map_err(ApiError::BadRequest)?),
            None => None,
        };
        Ok(Until {
            version: self.version,
            at,
        })
    }
}

/// The replay of the interaction's whole thread: every event with its envelope and the state
/// of its interaction after it, up to `?version=` or `?at=`.
#[utoipa::path(
    tag = "interactions",
    params(("id" = String, Path, description = "Interaction id (UUID)"), HistoryQuery),
    responses(
        (status = 200, body = History),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "No such interaction, version, or none yet at that time", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/history")]
pub async fn get_history(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let until = query.until()?;
    let (thread, members) = projections
        .read(|p| {
            let state = p.cache.get(&id)?;
            let thread = p.thread_of(id, &state);
            Some((thread, p.threads.members(thread)))
        })
        .ok_or_else(|| ApiError::NotFound(format!("no interaction {id}")))?;
    let store = log.into_inner();
    let history = web::block(move || replay(store.as_ref(), id, until, thread, &members))
        .await
        .map_err(|e| ApiError::internal("history", e))??;
    Ok(HttpResponse::Ok().json(history))
}

/// Replays `id`'s thread (`thread` its first interaction, `members` every interaction in it)
/// up to `until`.
pub fn replay(
    store: &dyn EventStore,
    id: InteractionId,
    until: Until,
    thread: InteractionId,
    members: &[InteractionId],
) -> Result<History, ApiError> {
    let own = store.read_stream(&id.stream(), 1)?;
    if own.is_empty() {
        return Err(ApiError::NotFound(format!("no interaction {id}")));
    }
    let latest = own.len() as u64;
    let mut upto = match until.version {
        Some(v) if v > latest => {
            return Err(ApiError::NotFound(format!(
                "interaction {id} has {latest} versions; there is no version {v}"
            )))
        }
        Some(v) => v,
        None => latest,
    };
    if let Some(t) = until.at {
        // The version in force at the time (events appended together share their time).
        let then = own.iter().filter(|e| e.recorded_at_micros <= t).count() as u64;
        if then == 0 {
            return Err(ApiError::NotFound(format!(
                "interaction {id} was not yet recorded at that time"
            )));
        }
        upto = upto.min(then);
    }
    // The thread's events up to the asked version's position and recorded by the time.
    let last = own[upto as usize - 1].position;
    let keep = |e: &RecordedEvent| {
        (until.version.is_none() || e.position <= last)
            && until.at.is_none_or(|t| e.recorded_at_micros <= t)
    };
    let mut events: Vec<RecordedEvent> = own.into_iter().take(upto as usize).collect();
    let others: BTreeSet<InteractionId> = members.iter().copied().filter(|m| *m != id).collect();
    for m in others {
        events.extend(store.read_stream(&m.stream(), 1)?.into_iter().filter(keep));
    }
    events.sort_by_key(|e| e.position);
    let mut states: BTreeMap<String, Loaded<Interaction>> = BTreeMap::new();
    let mut entries = Vec::with_capacity(events.len());
    for e in &events {
        let state = states.entry(e.stream.clone()).or_default();
        state
            .apply(e)
            .map_err(|err| ApiError::internal("undecodable event in history", err))?;
        let of = InteractionId::from_stream(&e.stream).unwrap_or(id);
        entries.push(HistoryEntry {
            interaction_id: of.to_string(),
            event: export::to_json(e),
            state: InteractionView::new(of, &state.state, thread),
        });
    }
    let state = states
        .get(&id.stream())
        .map(|s| s.state.clone())
        .unwrap_or_default();
    Ok(History {
        interaction_id: id.to_string(),
        thread_id: thread.to_string(),
        version: upto,
        state: InteractionView::new(id, &state, thread),
        events: entries,
    })
}

/// `id`'s thread read from the log alone (where no projections run, as in the CLI): its first
/// interaction and every member, found by one pass over the log.
pub fn thread_from_log(
    store: &dyn EventStore,
    id: InteractionId,
) -> Result<(InteractionId, Vec<InteractionId>), ApiError> {
    let state = state_from_log(store, id)
        .ok_or_else(|| ApiError::NotFound(format!("no interaction {id}")))?;
    let thread = state.thread_with(id, |p| state_from_log(store, p));
    let mut inbound: BTreeSet<InteractionId> = [thread, id].into();
    let mut next = 1;
    loop {
        let batch = store.read_all(next, 4096)?;
        let Some(last) = batch.last().map(|e| e.position) else {
            break;
        };
        for e in batch.iter().filter(|e| e.event_type == "ThreadLinked") {
            if let Ok(DomainEvent::Interaction(InteractionEvent::ThreadLinked(l))) =
                DomainEvent::from_recorded(e)
            {
                if l.thread == thread {
                    inbound.extend(InteractionId::from_stream(&e.stream));
                }
            }
        }
        next = last + 1;
    }
    let mut members: BTreeSet<InteractionId> = inbound.clone();
    for m in inbound {
        if let Some(s) = state_from_log(store, m) {
            members.extend(s.replies.iter().copied());
            if let Some(AutoAnswer::Answered { reply, .. }) = s.auto_answer {
                members.insert(reply);
            }
        }
    }
    Ok((thread, members.into_iter().collect()))
}
