//! The agent's desktop, first part: accepting and rejecting offers, and how routing placed an
//! interaction. An agent acts on their own offers only: another's is 403, one no longer offered
//! is 409, each with a problem body naming the reason.

use super::auth::Caller;
use super::interactions::{parse_id, view_of};
use super::problem::{ApiError, Problem};
use super::views::InteractionView;
use crate::actors::{CommandEnvelope, Interactions};
use crate::domain::interaction::InteractionCommand;
use crate::domain::{InteractionId, Principal};
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use actix_web::{get, post, web, HttpResponse};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;

/// Runs the caller's command on an interaction; answers its view once reads show the change.
pub(super) async fn act(
    interactions: &Interactions,
    projections: &ProjectionRunner,
    id: InteractionId,
    command: InteractionCommand,
    caller: &Caller,
) -> Result<HttpResponse, ApiError> {
    let exists = projections.read(|p| p.cache.get(&id).is_some());
    if !exists {
        return Err(ApiError::NotFound(format!("no interaction {id}")));
    }
    let cmd = CommandEnvelope::new(command, Principal::User(caller.name.to_string()));
    let out = interactions.execute(id, cmd).await?;
    if let Some(position) = out.last_position {
        projections.wait_for(position, Duration::from_secs(2)).await;
    }
    Ok(HttpResponse::Ok().json(view_of(projections, id)?))
}

/// Accept an offer made to you: the interaction is yours.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Offered to someone else", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not offered (any more), or its deadline passed", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/accept")]
pub async fn accept(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let command = InteractionCommand::AcceptOffer {
        agent: caller.name.clone(),
        at: crate::app::now(),
    };
    act(&interactions, &projections, id, command, &caller).await
}

/// Reject an offer made to you: it goes to the next best agent, never back to you.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Offered to someone else", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not offered (any more)", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/reject")]
pub async fn reject(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let command = InteractionCommand::RejectOffer {
        agent: caller.name.clone(),
        at: crate::app::now(),
    };
    act(&interactions, &projections, id, command, &caller).await
}

/// A category an agent sets.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoriseBody {
    /// A category key (letters, digits, `_`, `.`, `-`, at most 100).
    pub category: String,
}

/// Correct an interaction's category (yours, or any for a supervisor). Recorded as certain, under
/// your name: the classifier learns from it at its next retraining.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = CategoriseBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your interaction", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Finished or stopped", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/categorise")]
pub async fn categorise(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: super::json::JsonBody<CategoriseBody>,
) -> Result<HttpResponse, ApiError> {
    use crate::domain::user::Role;
    let id = parse_id(&path)?;
    let category = body.0.category;
    let key_ok = (1..=100).contains(&category.len())
        && category
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !key_ok {
        return Err(ApiError::Unprocessable(format!(
            "category: {category:?} is not a category key (letters, digits, _ . -, at most 100)"
        )));
    }
    if caller.role == Role::Agent {
        let owner = projections.read(|p| p.cache.get(&id).map(|s| s.owner));
        match owner {
            None => return Err(ApiError::NotFound(format!("no interaction {id}"))),
            Some(o) if o.as_ref() != Some(&caller.name) => {
                return Err(ApiError::Forbidden(format!(
                    "interaction {id} is not yours to categorise"
                )))
            }
            Some(_) => {}
        }
    }
    let command = InteractionCommand::Categorise {
        category,
        confidence_permille: 1000,
        at: crate::app::now(),
    };
    act(&interactions, &projections, id, command, &caller).await
}

/// Your work: what is offered to you (with its deadline), assigned to you, and what you are
/// consulted on.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyWork {
    pub offered: Vec<InteractionView>,
    pub assigned: Vec<InteractionView>,
    pub consulting: Vec<InteractionView>,
}

/// Your interactions.
#[utoipa::path(
    tag = "desktop",
    responses(
        (status = 200, body = MyWork),
        (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/me/interactions")]
pub async fn my_interactions(
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
) -> HttpResponse {
    let work = projections.read(|p| {
        let views =
            |ids: Option<&std::collections::BTreeSet<InteractionId>>| -> Vec<InteractionView> {
                ids.into_iter()
                    .flatten()
                    .filter_map(|id| {
                        p.cache
                            .get(id)
                            .map(|s| InteractionView::new(*id, &s, p.thread_of(*id, &s)))
                    })
                    .collect()
            };
        let w = p.workloads.get(&caller.name);
        MyWork {
            offered: views(w.map(|w| &w.offered)),
            assigned: views(w.map(|w| &w.assigned)),
            consulting: views(w.map(|w| &w.consulting)),
        }
    });
    HttpResponse::Ok().json(work)
}

/// How routing placed an interaction: its status, every agent it was offered to, and each
/// routing event in order (locks, offers with their explanation, accepts, rejects, expiries).
#[derive(Debug, Serialize, ToSchema)]
pub struct RoutingView {
    pub interaction_id: String,
    pub status: &'static str,
    pub offered_to: Vec<String>,
    /// Each as the audit export shows it (`type`, `recorded_at`, `principal`, `data`).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
}

const ROUTING_EVENTS: &[&str] = &[
    "InteractionQueued",
    "RoutingLocked",
    "RoutingUnlocked",
    "InteractionOffered",
    "OfferExplained",
    "OfferAccepted",
    "OfferRejected",
    "OfferExpired",
    "OfferWithdrawn",
];

/// Why an interaction went to whom.
#[utoipa::path(
    tag = "interactions",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = RoutingView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/routing")]
pub async fn routing(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let state = projections
        .read(|p| p.cache.get(&id))
        .ok_or_else(|| ApiError::NotFound(format!("no interaction {id}")))?;
    let events = log
        .read_stream(&id.stream(), 1)?
        .iter()
        .filter(|e| ROUTING_EVENTS.contains(&e.event_type.as_str()))
        .map(crate::events::export::to_json)
        .collect();
    Ok(HttpResponse::Ok().json(RoutingView {
        interaction_id: id.to_string(),
        status: state.status.name(),
        offered_to: state.offered_to.iter().map(|a| a.to_string()).collect(),
        events,
    }))
}
