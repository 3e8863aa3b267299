//! Reading interactions: the cached operational data and the replayed history.

use super::problem::{ApiError, Problem};
use super::views::{InteractionView, ThreadView};
use crate::domain::interaction::Interaction;
use crate::domain::InteractionId;
use crate::events::aggregate::Loaded;
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use actix_web::{get, web, HttpResponse};

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

/// An interaction's state folded from its stream (where no projections run, as in the CLI).
pub fn state_from_log(store: &dyn EventStore, id: InteractionId) -> Option<Interaction> {
    let state = Loaded::<Interaction>::load(store, &id).ok()?.state;
    state.exists().then_some(state)
}
