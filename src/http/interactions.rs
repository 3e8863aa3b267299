//! Reading interactions: the cached operational data and the replayed history.

use super::problem::{ApiError, Problem};
use super::views::{History, HistoryEntry, InteractionView, ThreadView};
use crate::domain::interaction::Interaction;
use crate::domain::InteractionId;
use crate::events::aggregate::Loaded;
use crate::events::{export, EventStore};
use crate::projections::ProjectionRunner;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

pub fn parse_id(raw: &str) -> Result<InteractionId, ApiError> {
    raw.parse()
        .map_err(|e: crate::domain::ParseError| ApiError::BadRequest(e.to_string()))
}

/// The interaction's view as the projections hold it now.
pub fn view_of(
    projections: &ProjectionRunner,
    id: InteractionId,
) -> Result<InteractionView, ApiError> {
    projections
        .read(|p| {
            p.cache
                .get(&id)
                .map(|s| InteractionView::new(id, &s, p.thread_of(id, &s)))
        })
        .ok_or_else(|| ApiError::NotFound(format!("no interaction {id}")))
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
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    Ok(HttpResponse::Ok().json(view_of(&projections, id)?))
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
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let view = projections
        .read(|p| {
            let state = p.cache.get(&id)?;
            let thread = p.thread_of(id, &state);
            let mut members = p.threads.members(thread);
            if !members.contains(&id) {
                members.push(id);
            }
            Some(ThreadView {
                thread: thread.to_string(),
                thread_token: crate::domain::threading::thread_token(thread),
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
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let history = replay(log.as_ref(), id, query.version, |parent| {
        projections.read(|p| p.cache.get(&parent))
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
    let mut state = Loaded::<Interaction>::default();
    let mut entries = Vec::new();
    // A reply's parent never changes: looked up once.
    let mut parent_state: Option<Option<Interaction>> = None;
    let mut thread_of = |s: &Interaction| {
        s.thread_with(id, |p| {
            parent_state.get_or_insert_with(|| parent(p)).clone()
        })
    };
    for e in events.iter().take(upto as usize) {
        state
            .apply(e)
            .map_err(|err| ApiError::internal("undecodable event in history", err))?;
        entries.push(HistoryEntry {
            event: export::to_json(e),
            state: InteractionView::new(id, &state.state, thread_of(&state.state)),
        });
    }
    Ok(History {
        interaction_id: id.to_string(),
        version: upto,
        state: InteractionView::new(id, &state.state, thread_of(&state.state)),
        events: entries,
    })
}

/// An interaction's state folded from its stream (where no projections run, as in the CLI).
pub fn state_from_log(store: &dyn EventStore, id: InteractionId) -> Option<Interaction> {
    let state = Loaded::<Interaction>::load(store, &id).ok()?.state;
    state.exists().then_some(state)
}
