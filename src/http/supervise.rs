//! Supervisors' ad hoc management of waiting work: move an interaction to another queue, change
//! its priority, assign it to a named agent (no offer), stop it with a reason, one at a time or
//! in bulk (an answer per id). Allowed only while it waits in a queue and neither routing nor an
//! agent holds it: otherwise 409 naming the reason and who holds it. Each action is an event with
//! the supervisor as principal.

use super::auth::Caller;
use super::desk::act;
use super::interactions::parse_id;
use super::json::JsonBody;
use super::problem::{ApiError, Problem};
use super::queues::ConfiguredQueues;
use super::views::InteractionView;
use super::work::{agent_named, found, of_process};
use crate::actors::Interactions;
use crate::domain::interaction::{InboundStatus, InteractionCommand, Status};
use crate::domain::InteractionId;
use crate::projections::ProjectionRunner;
use actix_web::{patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The highest and lowest priority a supervisor may set.
pub const MAX_PRIORITY: i32 = 1000;

/// Who holds `id` now, for a 409's detail.
fn holder(projections: &ProjectionRunner, id: InteractionId) -> Option<String> {
    let s = projections.read(|p| p.cache.get(&id))?;
    if let Status::Inbound(InboundStatus::Locked { router }) = &s.status {
        return Some(format!("routing ({router})"));
    }
    // An offer of work or of a review, a reviewer, else whoever works it.
    if let Some((agent, _)) = s.status.offer() {
        return Some(format!("an offer to {agent}"));
    }
    if let Some(reviewer) = s.status.reviewer() {
        return Some(format!("{reviewer}, reviewing"));
    }
    s.owner.map(|o| format!("{o}"))
}

/// Runs a supervisor's command; a refusal because someone holds it names who.
async fn intervene(
    interactions: &Interactions,
    projections: &ProjectionRunner,
    id: InteractionId,
    command: InteractionCommand,
    caller: &Caller,
) -> Result<HttpResponse, ApiError> {
    act(interactions, projections, id, command, caller)
        .await
        .map_err(|e| match e {
            ApiError::Conflict(detail) => match holder(projections, id) {
                Some(h) => ApiError::Conflict(format!("{detail} (held by {h})")),
                None => ApiError::Conflict(detail),
            },
            other => other,
        })
}

fn priority_within(priority: i64) -> Result<i32, ApiError> {
    if priority.unsigned_abs() > MAX_PRIORITY as u64 {
        return Err(ApiError::Unprocessable(format!(
            "priority: between -{MAX_PRIORITY} and {MAX_PRIORITY}"
        )));
    }
    Ok(priority as i32)
}

fn reason_of(reason: &str) -> Result<String, ApiError> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 500 || r.chars().any(char::is_control) {
        return Err(ApiError::Unprocessable(
            "reason: one line of at most 500 characters, not blank".into(),
        ));
    }
    Ok(r.to_string())
}

/// Where to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// A queue of the process.
    pub queue: String,
}

/// Move a waiting interaction to another queue.
#[utoipa::path(
    tag = "supervision",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = MoveBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Routing or an agent holds it, or it is finished (who holds it is named)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/move")]
pub async fn move_to(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    queues: web::Data<ConfiguredQueues>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<MoveBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let command = InteractionCommand::SupervisorMove {
        supervisor: caller.name.clone(),
        queue: of_process(&queues, &body.0.queue)?,
        at: crate::app::now(),
    };
    intervene(&interactions, &projections, id, command, &caller).await
}

/// The new priority.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityBody {
    /// Between -1000 and 1000; higher is routed first.
    pub priority: super::agents::Whole,
}

/// Change a waiting interaction's priority.
#[utoipa::path(
    tag = "supervision",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = PriorityBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Routing or an agent holds it, or it is finished (who holds it is named)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/priority")]
pub async fn reprioritise(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<PriorityBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let command = InteractionCommand::SupervisorReprioritise {
        supervisor: caller.name.clone(),
        priority: priority_within(body.0.priority.0)?,
        at: crate::app::now(),
    };
    intervene(&interactions, &projections, id, command, &caller).await
}

/// To whom.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// An agent: the interaction is theirs at once, without an offer.
    pub agent: String,
}

/// Assign a waiting interaction to a named agent, bypassing the offer.
#[utoipa::path(
    tag = "supervision",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = AssignBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Routing or an agent holds it, or it is finished (who holds it is named)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/assign")]
pub async fn assign(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AssignBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let command = InteractionCommand::SupervisorAssign {
        supervisor: caller.name.clone(),
        agent: agent_named(&projections, "agent", &body.0.agent)?.0,
        at: crate::app::now(),
    };
    intervene(&interactions, &projections, id, command, &caller).await
}

/// Why it stops.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StopBody {
    /// One line, at most 500 characters, not blank.
    pub reason: String,
}

/// Stop a waiting interaction (or a reply not yet on its way out) with a reason.
#[utoipa::path(
    tag = "supervision",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = StopBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Routing or an agent holds it, or it is finished (who holds it is named)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/stop")]
pub async fn stop(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<StopBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let command = InteractionCommand::Stop {
        by: format!("user:{}", caller.name),
        reason: reason_of(&body.0.reason)?,
        at: crate::app::now(),
    };
    intervene(&interactions, &projections, id, command, &caller).await
}

/// Attributes to set (a string) or remove (`null`), as a JSON merge patch: 1 to 50 keys of
/// letters, digits, `_`, `-`, `.`; values one line of at most 200 characters.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AttributesBody(pub std::collections::BTreeMap<String, Option<String>>);

/// Set or remove a waiting interaction's attributes.
#[utoipa::path(
    tag = "supervision",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = AttributesBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Routing or an agent holds it, or it is finished (who holds it is named)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/interactions/{id}/attributes")]
pub async fn attributes(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AttributesBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let command = InteractionCommand::EditAttributes {
        supervisor: caller.name.clone(),
        changes: body.0 .0,
        at: crate::app::now(),
    };
    intervene(&interactions, &projections, id, command, &caller).await
}

/// One action on many interactions.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// `move` (with `queue`), `priority` (with `priority`), `assign` (with `agent`) or `stop`
    /// (with `reason`).
    pub action: String,
    /// 1 to 500 interaction ids.
    pub ids: Vec<String>,
    pub queue: Option<String>,
    pub priority: Option<super::agents::Whole>,
    pub agent: Option<String>,
    pub reason: Option<String>,
}

/// A bulk action's queue or agent that does not exist is not found (the ids are answered one
/// by one; what they all share is the request's).
fn not_found(e: ApiError) -> ApiError {
    match e {
        ApiError::Unprocessable(m) => ApiError::NotFound(m),
        other => other,
    }
}

/// What happened to one id of a bulk action.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkItem {
    pub id: String,
    /// The status the single action would have answered (200, 404, 409, …).
    pub status: u16,
    /// Why it was refused (none when done).
    pub detail: Option<String>,
}

/// The answer of a bulk action: an item per id, in the order given.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub results: Vec<BulkItem>,
}

/// Move, reprioritise, assign or stop many waiting interactions: each id is tried on its own and
/// answered on its own (an unknown id is 404, a held one 409), never all or nothing.
#[utoipa::path(
    tag = "supervision",
    request_body = BulkBody,
    responses(
        (status = 200, body = BulkResult),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "The queue or agent named does not exist", body = Problem),
        (status = 422, description = "An unknown action, or its argument missing or invalid", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/bulk")]
pub async fn bulk(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    queues: web::Data<ConfiguredQueues>,
    caller: Caller,
    body: JsonBody<BulkBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    if b.ids.is_empty() || b.ids.len() > 500 {
        return Err(ApiError::Unprocessable("ids: 1 to 500 ids".into()));
    }
    let missing =
        |field: &str| ApiError::Unprocessable(format!("{}: required for {}", field, b.action));
    // Only the action's own argument may be given.
    let given = [
        ("queue", b.queue.is_some()),
        ("priority", b.priority.is_some()),
        ("agent", b.agent.is_some()),
        ("reason", b.reason.is_some()),
    ];
    let own = match b.action.as_str() {
        "move" => "queue",
        "priority" => "priority",
        "assign" => "agent",
        "stop" => "reason",
        _ => "",
    };
    if let Some((field, _)) = given.iter().find(|(f, g)| *g && *f != own) {
        return Err(ApiError::Unprocessable(format!(
            "{field}: not an argument of {:?}",
            b.action
        )));
    }
    // Every id well formed (an unknown one is answered on its own, 404).
    let mut ids = Vec::with_capacity(b.ids.len());
    for (i, raw) in b.ids.iter().enumerate() {
        ids.push(parse_id(raw).map_err(|_| {
            ApiError::Unprocessable(format!("ids[{i}]: {raw:?} is not an interaction id"))
        })?);
    }
    // The action's argument, checked once for every id.
    let make: Box<dyn Fn() -> InteractionCommand> = match b.action.as_str() {
        "move" => {
            let queue = of_process(&queues, b.queue.as_deref().ok_or_else(|| missing("queue"))?)
                .map_err(not_found)?;
            let who = caller.name.clone();
            Box::new(move || InteractionCommand::SupervisorMove {
                supervisor: who.clone(),
                queue: queue.clone(),
                at: crate::app::now(),
            })
        }
        "priority" => {
            let priority = priority_within(b.priority.ok_or_else(|| missing("priority"))?.0)?;
            let who = caller.name.clone();
            Box::new(move || InteractionCommand::SupervisorReprioritise {
                supervisor: who.clone(),
                priority,
                at: crate::app::now(),
            })
        }
        "assign" => {
            let name = b.agent.as_deref().ok_or_else(|| missing("agent"))?;
            let agent = agent_named(&projections, "agent", name)
                .map_err(not_found)?
                .0;
            let who = caller.name.clone();
            Box::new(move || InteractionCommand::SupervisorAssign {
                supervisor: who.clone(),
                agent: agent.clone(),
                at: crate::app::now(),
            })
        }
        "stop" => {
            let reason = reason_of(b.reason.as_deref().ok_or_else(|| missing("reason"))?)?;
            let by = format!("user:{}", caller.name);
            Box::new(move || InteractionCommand::Stop {
                by: by.clone(),
                reason: reason.clone(),
                at: crate::app::now(),
            })
        }
        other => {
            return Err(ApiError::Unprocessable(format!(
                "action: {other:?} is not one of move, priority, assign, stop"
            )))
        }
    };
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        let outcome = match found(&projections, id) {
            Err(e) => Err(e),
            Ok(()) => intervene(&interactions, &projections, id, make(), &caller).await,
        };
        results.push(match outcome {
            Ok(_) => BulkItem {
                id: id.to_string(),
                status: 200,
                detail: None,
            },
            Err(e) => {
                use actix_web::ResponseError;
                BulkItem {
                    id: id.to_string(),
                    status: e.status_code().as_u16(),
                    detail: Some(e.to_string()),
                }
            }
        });
    }
    Ok(HttpResponse::Ok().json(BulkResult { results }))
}
