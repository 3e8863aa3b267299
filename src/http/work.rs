//! The agent's desktop, second part: working an assigned interaction. Transfer it to a colleague
//! or a queue with a note, consult a colleague (who contributes internally and ends it), return
//! it to the system with a reason, finish it with a disposition code. An agent acts on their own
//! work only (403 otherwise); a step the interaction's state does not allow is 409; each with a
//! problem body naming the reason.

use super::auth::Caller;
use super::desk::act;
use super::interactions::parse_id;
use super::json::JsonBody;
use super::problem::{ApiError, Problem};
use super::queues::ConfiguredQueues;
use super::views::InteractionView;
use crate::actors::Interactions;
use crate::domain::agent::Presence;
use crate::domain::interaction::{Actor, InteractionCommand, TransferTarget};
use crate::domain::{AgentId, Millis, QueueName};
use crate::projections::ProjectionRunner;
use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

/// What the desktop's actions need from the configuration.
#[derive(Debug, Clone)]
pub struct DeskPolicy {
    /// How long a colleague has to accept a transfer (`[routing] offer_secs`).
    pub offer_secs: f64,
    /// The disposition codes agents finish with (`[desktop] dispositions`).
    pub dispositions: Vec<String>,
}

/// 404 unless the interaction exists (checked before the body's rules, so an unknown
/// interaction is always 404).
pub(super) fn found(
    projections: &ProjectionRunner,
    id: crate::domain::InteractionId,
) -> Result<(), ApiError> {
    if projections.read(|p| p.cache.get(&id).is_some()) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no interaction {id}")))
    }
}

/// `name` as a queue of the process (422 naming the field otherwise).
pub(super) fn of_process(queues: &ConfiguredQueues, name: &str) -> Result<QueueName, ApiError> {
    let queue = QueueName::parse(name).map_err(|e| {
        ApiError::Unprocessable(format!("queue: {name:?} is not a queue name: {e}"))
    })?;
    if !queues.0.contains(&queue) {
        return Err(ApiError::Unprocessable(format!(
            "queue: {queue} is not a queue of the process"
        )));
    }
    Ok(queue)
}

/// `name` as an agent who can take work now: 422 if it is no agent, 409 if not ready.
fn colleague(projections: &ProjectionRunner, field: &str, name: &str) -> Result<AgentId, ApiError> {
    let (agent, presence) = agent_named(projections, field, name)?;
    match presence {
        Presence::Ready => Ok(agent),
        _ => Err(ApiError::Conflict(format!(
            "{agent} is not ready to take work"
        ))),
    }
}

/// `name` (in the body's `field`) as an agent, with their presence: 422 if it is no user name
/// or no agent.
pub(super) fn agent_named(
    projections: &ProjectionRunner,
    field: &str,
    name: &str,
) -> Result<(AgentId, Presence), ApiError> {
    let agent = AgentId::parse(name).map_err(|e| {
        ApiError::Unprocessable(format!("{field}: {name:?} is not a user name: {e}"))
    })?;
    let presence = projections.read(|p| {
        p.agents
            .get(&agent)
            .filter(|a| a.is_active())
            .map(|a| a.presence.clone())
    });
    match presence {
        Some(p) => Ok((agent, p)),
        None => Err(ApiError::Unprocessable(format!(
            "{field}: {agent} is not an agent"
        ))),
    }
}

/// Where a transfer sends the interaction: exactly one of `agent` and `queue`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    /// A ready colleague it is offered to (they accept within `[routing] offer_secs`) …
    pub agent: Option<String>,
    /// … or a queue of the process, where routing places it again.
    pub queue: Option<String>,
    /// What whoever takes it over should know (at most 2000 characters).
    pub note: Option<String>,
}

/// Transfer your interaction to a colleague or a queue, with a note.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = TransferBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your interaction", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not assigned, consultations open, or the colleague is not ready", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/transfer")]
pub async fn transfer(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    policy: web::Data<DeskPolicy>,
    queues: web::Data<ConfiguredQueues>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<TransferBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let body = body.0;
    let now = crate::app::now();
    let target = match (&body.agent, &body.queue) {
        (Some(agent), None) => TransferTarget::Agent {
            agent: colleague(&projections, "agent", agent)?,
            deadline: Millis(now.0 + (policy.offer_secs * 1000.0) as i64),
        },
        (None, Some(queue)) => TransferTarget::Queue {
            queue: of_process(&queues, queue)?,
        },
        _ => {
            return Err(ApiError::Unprocessable(
                "give exactly one of agent and queue".into(),
            ))
        }
    };
    let command = InteractionCommand::Transfer {
        agent: caller.name.clone(),
        target,
        note: body.note.unwrap_or_default(),
        at: now,
    };
    act(&interactions, &projections, id, command, &caller).await
}

/// Whom to consult.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultBody {
    /// A colleague (an agent) who sees it on their desktop until the consultation ends.
    pub agent: String,
    /// What you ask them (at most 2000 characters).
    pub note: Option<String>,
}

/// Invite a colleague to consult on your interaction.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = ConsultBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your interaction", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not assigned, or already consulted", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/consult")]
pub async fn consult(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ConsultBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let body = body.0;
    let (consultant, _) = agent_named(&projections, "agent", &body.agent)?;
    let command = InteractionCommand::StartConsultation {
        agent: caller.name.clone(),
        consultant,
        note: body.note.unwrap_or_default(),
        at: crate::app::now(),
    };
    act(&interactions, &projections, id, command, &caller).await
}

/// A consultant's internal contribution (never sent to the customer).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContributionBody {
    /// At most 10000 characters, not blank.
    pub text: String,
}

/// Add your contribution to an interaction you are consulted on.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = ContributionBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "You are not consulted on it", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not being worked", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/consult/contribution")]
pub async fn contribute(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ContributionBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let command = InteractionCommand::Contribute {
        consultant: caller.name.clone(),
        text: body.0.text,
        at: crate::app::now(),
    };
    act(&interactions, &projections, id, command, &caller).await
}

/// Which consultation ends.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndConsultBody {
    /// The consultant whose consultation ends (the owner names one; a consultant leaves it out
    /// to end their own).
    pub agent: Option<String>,
}

/// End a consultation: the owner ends any of theirs, a consultant their own.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = EndConsultBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Neither the owner nor that consultant", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "No such consultation", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/consult/end")]
pub async fn end_consult(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<EndConsultBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let consultant = match &body.0.agent {
        Some(name) => AgentId::parse(name).map_err(|e| {
            ApiError::Unprocessable(format!("agent: {name:?} is not a user name: {e}"))
        })?,
        None => caller.name.clone(),
    };
    let command = InteractionCommand::EndConsultation {
        agent: caller.name.clone(),
        consultant,
        at: crate::app::now(),
    };
    act(&interactions, &projections, id, command, &caller).await
}

/// Why you hand it back, and where to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnBody {
    /// Why (at most 500 characters, not blank): the next agent and the supervisors see it.
    pub reason: String,
    /// A queue of the process (default: the one it came from).
    pub queue: Option<String>,
}

/// Return your interaction to the system: it waits in a queue for routing again.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = ReturnBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your interaction", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not assigned, or consultations open", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/return")]
pub async fn give_back(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    queues: web::Data<ConfiguredQueues>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ReturnBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let body = body.0;
    let queue = match &body.queue {
        Some(q) => Some(of_process(&queues, q)?),
        None => None,
    };
    let command = InteractionCommand::ReturnToQueue {
        agent: caller.name.clone(),
        queue,
        reason: body.reason,
        at: crate::app::now(),
    };
    act(&interactions, &projections, id, command, &caller).await
}

/// How it ended.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoneBody {
    /// One of the configured disposition codes (`[desktop] dispositions`).
    pub disposition: String,
}

/// Finish your interaction with a disposition code.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = DoneBody,
    responses(
        (status = 200, body = InteractionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your interaction", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not assigned or replied, or consultations open", body = Problem),
        (status = 422, description = "Not a configured disposition code", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/done")]
pub async fn done(
    interactions: web::Data<Interactions>,
    projections: web::Data<ProjectionRunner>,
    policy: web::Data<DeskPolicy>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<DoneBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    found(&projections, id)?;
    let disposition = body.0.disposition;
    if !policy.dispositions.contains(&disposition) {
        return Err(ApiError::Unprocessable(format!(
            "disposition: {disposition:?} is not one of {}",
            policy.dispositions.join(", ")
        )));
    }
    let command = InteractionCommand::MarkDone {
        by: Actor::Agent(caller.name.clone()),
        disposition: Some(disposition),
        at: crate::app::now(),
    };
    act(&interactions, &projections, id, command, &caller).await
}

/// What an agent's desktop offers (from the configuration).
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct DesktopView {
    /// The codes an interaction is finished with (`POST …/done`).
    pub dispositions: Vec<String>,
    /// How long an agent has to accept an offer, in seconds.
    pub offer_secs: f64,
}

/// The desktop's settings: disposition codes and the offer's time.
#[utoipa::path(
    tag = "desktop",
    responses(
        (status = 200, body = DesktopView),
        (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/desktop")]
pub async fn desktop(policy: web::Data<DeskPolicy>) -> HttpResponse {
    HttpResponse::Ok().json(DesktopView {
        dispositions: policy.dispositions.clone(),
        offer_secs: policy.offer_secs,
    })
}
