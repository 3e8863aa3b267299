//! Reading interactions: the cached operational data and the replayed history.

use super::auth::Caller;
use super::problem::{ApiError, Problem};
use super::views::{History, HistoryEntry, InteractionView, ThreadView};
use crate::domain::interaction::{evolve, Interaction};
use crate::domain::user::Role;
use crate::domain::InteractionId;
use crate::events::{export, DomainEvent, EventStore};
use crate::startup::Engine;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

pub fn parse_id(raw: &str) -> Result<InteractionId, ApiError> {
    raw.parse()
        .map_err(|e: crate::domain::ParseError| ApiError::BadRequest(e.to_string()))
}

/// An interaction's operational data (state, queue, owner, priority, category, lock, times).
#[utoipa::path(
    tag = "interactions",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}")]
pub async fn get_interaction(
    engine: web::Data<Engine>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Agent, Role::Supervisor, Role::Auditor])?;
    let id = parse_id(&path)?;
    let view = engine
        .projections
        .read(|p| {
            p.cache
                .get(&id)
                .map(|s| InteractionView::new(id, &s, p.thread_of(id, &s)))
        })
        .ok_or_else(|| ApiError::NotFound(format!("no interaction {id}")))?;
    Ok(HttpResponse::Ok().json(view))
}

/// The thread an interaction belongs to: every inbound message and reply in it, oldest first,
/// each with how it joined (`thread_match`).
#[utoipa::path(
    tag = "interactions",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = ThreadView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/thread")]
pub async fn get_thread(
    engine: web::Data<Engine>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Agent, Role::Supervisor, Role::Auditor])?;
    let id = parse_id(&path)?;
    let view = engine
        .projections
        .read(|p| {
            let state = p.cache.get(&id)?;
            let thread = p.thread_of(id, &state);
            let mut members = p.threads.members(thread);
            if !members.contains(&id) {
                members.push(id);
            }
            Some(ThreadView {
                thread: thread.to_string(),
                thread_token: crate::mail::threading::thread_token(thread),
                interactions: members
                    .into_iter()
                    .filter_map(|m| p.cache.get(&m).map(|s| InteractionView::new(m, &s, thread)))
                    .collect(),
            })
        })
        .ok_or_else(|| ApiError::NotFound(format!("no interaction {id}")))?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Give the state as of this version (1 = after the first event).
    pub version: Option<u64>,
}

/// The replay: every event with its envelope and the interaction's state after it.
#[utoipa::path(
    tag = "interactions",
    params(("id" = String, Path, description = "Interaction id (UUID)"), HistoryQuery),
    responses(
        (status = 200, body = History),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/history")]
pub async fn get_history(
    engine: web::Data<Engine>,
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Supervisor, Role::Auditor])?;
    let id = parse_id(&path)?;
    let history = replay(engine.storage.store.as_ref(), id, query.version, |parent| {
        engine.projections.read(|p| p.cache.get(&parent))
    })?;
    Ok(HttpResponse::Ok().json(history))
}

/// Replays an interaction's stream, up to `version` if given. `parent` answers the state of a
/// reply's parent (whose thread is the reply's).
pub fn replay(
    store: &dyn EventStore,
    id: InteractionId,
    version: Option<u64>,
    parent: impl Fn(InteractionId) -> Option<Interaction>,
) -> Result<History, ApiError> {
    let events = store.read_stream(&id.stream(), 1)?;
    if events.is_empty() {
        return Err(ApiError::NotFound(format!("no interaction {id}")));
    }
    let latest = events.len() as u64;
    let upto = match version {
        Some(0) => return Err(ApiError::BadRequest("version starts at 1".into())),
        Some(v) if v > latest => {
            return Err(ApiError::NotFound(format!(
                "interaction {id} has {latest} versions; there is no version {v}"
            )))
        }
        Some(v) => v,
        None => latest,
    };
    let mut state = Interaction::default();
    let mut entries = Vec::new();
    // A reply's parent never changes: looked up once.
    let mut parent_state: Option<Option<Interaction>> = None;
    let mut thread_of = |s: &Interaction| {
        s.thread_with(id, |p| {
            parent_state.get_or_insert_with(|| parent(p)).clone()
        })
    };
    for e in events.iter().take(upto as usize) {
        match DomainEvent::from_recorded(e) {
            Ok(DomainEvent::Interaction(ev)) => state = evolve(state, &ev),
            Ok(_) => {}
            Err(err) => return Err(ApiError::internal("undecodable event in history", err)),
        }
        entries.push(HistoryEntry {
            event: export::to_json(e),
            state: InteractionView::new(id, &state, thread_of(&state)),
        });
    }
    Ok(History {
        interaction_id: id.to_string(),
        version: upto,
        state: InteractionView::new(id, &state, thread_of(&state)),
        events: entries,
    })
}

/// An interaction's state folded from its stream (where no projections run, as in the CLI).
pub fn state_from_log(store: &dyn EventStore, id: InteractionId) -> Option<Interaction> {
    let events = store.read_stream(&id.stream(), 1).ok()?;
    let state = events
        .iter()
        .filter_map(|e| match DomainEvent::from_recorded(e) {
            Ok(DomainEvent::Interaction(ev)) => Some(ev),
            _ => None,
        })
        .fold(Interaction::default(), |s, ev| evolve(s, &ev));
    state.exists().then_some(state)
}
