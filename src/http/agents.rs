//! Agents: admins create, change and delete them (each is a user who logs in, by the same name);
//! supervisors see each agent's state, time in state and load against capacity; an agent sets
//! their own presence (`/me/state`).

use super::auth::Caller;
use super::command::run_once;
use super::json::JsonBody;
use super::problem::{ApiError, Problem};
use super::views::rfc3339_millis;
use crate::domain::agent::{Agent, AgentCommand, Presence, Profile};
use crate::domain::user::User;
use crate::domain::{AgentId, Principal};
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A whole number as JSON may write it (`4` or `4.0`: JSON Schema's integers are both); the
/// range is checked with the rest of the profile.
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(value_type = i64)]
pub struct Whole(pub i64);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        if let Some(i) = n.as_i64() {
            return Ok(Whole(i));
        }
        match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(Whole(f as i64)),
            _ => Err(serde::de::Error::custom(format!(
                "{n} is not a whole number"
            ))),
        }
    }
}

/// Interactions at once, per media.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityBody {
    /// E-mail and web-form interactions at once (default 5).
    pub email: Option<Whole>,
}

/// A new agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    /// The user who works as this agent (made by `POST /api/v1/admin/users`).
    pub user: String,
    /// Skill levels, 0 to 10, by skill.
    pub skills: Option<BTreeMap<String, Whole>>,
    /// ISO 639 codes (`en`, `deu`).
    pub languages: Option<Vec<String>>,
    pub capacity: Option<CapacityBody>,
    /// Reviews others' replies (QA).
    pub reviewer: Option<bool>,
    /// A trainee: their replies are reviewed.
    pub trainee: Option<bool>,
}

/// A change to an agent: the fields given replace the agent's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    pub skills: Option<BTreeMap<String, Whole>>,
    pub languages: Option<Vec<String>>,
    pub capacity: Option<CapacityBody>,
    pub reviewer: Option<bool>,
    pub trainee: Option<bool>,
}

/// An agent, with their presence and work.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub user: String,
    pub skills: BTreeMap<String, u8>,
    pub languages: Vec<String>,
    pub capacity: BTreeMap<String, u32>,
    pub reviewer: bool,
    pub trainee: bool,
    /// `logged_out`, `ready` or `not_ready`.
    pub state: &'static str,
    /// Why not ready.
    pub reason: Option<String>,
    /// Since when in this state (RFC 3339).
    pub since: String,
    /// Seconds spent in each state since the agent was created, the current one up to now.
    pub seconds_in: BTreeMap<String, f64>,
    /// Interactions held per media (offered and assigned), to compare with `capacity`.
    pub load: BTreeMap<String, u32>,
    pub offered: Vec<String>,
    pub assigned: Vec<String>,
    pub consulting: Vec<String>,
    /// Changes recorded on the agent's stream.
    pub version: u64,
}

fn view(name: &AgentId, a: &Agent, p: &crate::projections::Projections) -> Option<AgentView> {
    let profile = a.profile.as_ref().filter(|_| !a.deleted)?;
    let now = crate::app::now();
    let work = p.workloads.get(name);
    let ids = |set: Option<&std::collections::BTreeSet<crate::domain::InteractionId>>| {
        set.map(|s| s.iter().map(|i| i.to_string()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let offered = ids(work.map(|w| &w.offered));
    let assigned = ids(work.map(|w| &w.assigned));
    Some(AgentView {
        user: name.to_string(),
        skills: profile.skills.clone(),
        languages: profile.languages.clone(),
        capacity: profile.capacity.clone(),
        reviewer: profile.reviewer,
        trainee: profile.trainee,
        state: a.presence.name(),
        reason: match &a.presence {
            Presence::NotReady { reason } => Some(reason.clone()),
            _ => None,
        },
        since: rfc3339_millis(a.since),
        seconds_in: a
            .time_in_at(now)
            .into_iter()
            .map(|(k, ms)| (k, ms as f64 / 1000.0))
            .collect(),
        load: [("email".to_string(), (offered.len() + assigned.len()) as u32)]
            .into_iter()
            .collect(),
        offered,
        assigned,
        consulting: ids(work.map(|w| &w.consulting)),
        version: a.version,
    })
}

fn name_of(path: &str) -> Result<AgentId, ApiError> {
    AgentId::parse(path).map_err(|_| ApiError::NotFound(format!("no agent named {path:?}")))
}

fn current(projections: &ProjectionRunner, name: &AgentId) -> Result<AgentView, ApiError> {
    projections
        .read(|p| p.agents.get(name).and_then(|a| view(name, a, p)))
        .ok_or_else(|| ApiError::NotFound(format!("no agent named {name}")))
}

/// The profile with the fields given replaced, checked whole (422 naming the field).
fn apply(
    mut p: Profile,
    skills: Option<BTreeMap<String, Whole>>,
    languages: Option<Vec<String>>,
    capacity: Option<CapacityBody>,
    reviewer: Option<bool>,
    trainee: Option<bool>,
) -> Result<Profile, ApiError> {
    use crate::domain::agent::{MAX_CAPACITY, MAX_LEVEL};
    if let Some(s) = skills {
        let mut levels = BTreeMap::new();
        for (k, Whole(n)) in s {
            let level = u8::try_from(n)
                .ok()
                .filter(|l| *l <= MAX_LEVEL)
                .ok_or_else(|| {
                    ApiError::Unprocessable(format!(
                        "skills.{k}: the level must be 0 to {MAX_LEVEL}"
                    ))
                })?;
            levels.insert(k, level);
        }
        p.skills = levels;
    }
    if let Some(l) = languages {
        p.languages = l;
    }
    if let Some(Whole(n)) = capacity.and_then(|c| c.email) {
        let n = u32::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_CAPACITY)
            .ok_or_else(|| {
                ApiError::Unprocessable(format!("capacity.email: must be 0 to {MAX_CAPACITY}"))
            })?;
        p.capacity.insert("email".into(), n);
    }
    if let Some(r) = reviewer {
        p.reviewer = r;
    }
    if let Some(t) = trainee {
        p.trainee = t;
    }
    crate::domain::agent::validate(&p).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    Ok(p)
}

/// Make a user an agent.
#[utoipa::path(
    tag = "agents",
    request_body = AgentBody,
    responses(
        (status = 201, body = AgentView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "No active user of that name", body = Problem),
        (status = 409, description = "The user is an agent already", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/admin/agents")]
pub async fn create_agent(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    body: JsonBody<AgentBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let profile = apply(
        Profile::default(),
        b.skills,
        b.languages,
        b.capacity,
        b.reviewer,
        b.trainee,
    )?; // Every field first: a body that breaks a rule is 422 whoever it names.
    let name =
        AgentId::parse(&b.user).map_err(|e| ApiError::Unprocessable(format!("user: {e}")))?;
    let active = projections.read(|p| matches!(p.users.get(&name), User::Active { .. }));
    if !active {
        return Err(ApiError::NotFound(format!("no active user named {name}")));
    }
    let command = AgentCommand::Create {
        profile,
        by: format!("user:{}", caller.name),
        at: crate::app::now(),
    };
    run_once::<Agent>(
        log.as_ref(),
        &projections,
        &name,
        command,
        Principal::User(caller.name.to_string()),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/admin/agents/{name}")))
        .json(current(&projections, &name)?))
}

/// One agent.
#[utoipa::path(
    tag = "agents",
    params(("user" = String, Path, description = "The agent's user name")),
    responses(
        (status = 200, body = AgentView),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/admin/agents/{user}")]
pub async fn get_agent(
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name_of(&path)?;
    Ok(HttpResponse::Ok().json(current(&projections, &name)?))
}

/// Change an agent: the fields given replace theirs.
#[utoipa::path(
    tag = "agents",
    params(("user" = String, Path, description = "The agent's user name")),
    request_body = AgentPatch,
    responses(
        (status = 200, body = AgentView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/admin/agents/{user}")]
pub async fn update_agent(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<AgentPatch>,
) -> Result<HttpResponse, ApiError> {
    let name = name_of(&path)?;
    let b = body.0;
    let before = projections
        .read(|p| {
            p.agents
                .get(&name)
                .filter(|a| a.is_active())
                .and_then(|a| a.profile.clone())
        })
        .unwrap_or_default();
    let profile = apply(
        before,
        b.skills,
        b.languages,
        b.capacity,
        b.reviewer,
        b.trainee,
    )?;
    let command = AgentCommand::Update {
        profile,
        by: format!("user:{}", caller.name),
        at: crate::app::now(),
    };
    run_once::<Agent>(
        log.as_ref(),
        &projections,
        &name,
        command,
        Principal::User(caller.name.to_string()),
    )
    .await?;
    Ok(HttpResponse::Ok().json(current(&projections, &name)?))
}

/// Stop someone being an agent (their history stays; the user keeps logging in).
#[utoipa::path(
    tag = "agents",
    params(("user" = String, Path, description = "The agent's user name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/admin/agents/{user}")]
pub async fn delete_agent(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name_of(&path)?;
    let command = AgentCommand::Delete {
        by: format!("user:{}", caller.name),
        at: crate::app::now(),
    };
    run_once::<Agent>(
        log.as_ref(),
        &projections,
        &name,
        command,
        Principal::User(caller.name.to_string()),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every agent with their state and load (for supervisors), by name.
#[utoipa::path(
    tag = "agents",
    responses(
        (status = 200, body = Vec<AgentView>),
        (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/agents")]
pub async fn list_agents(projections: web::Data<ProjectionRunner>) -> HttpResponse {
    let all: Vec<AgentView> = projections.read(|p| {
        p.agents
            .active()
            .filter_map(|(name, a)| view(name, a, p))
            .collect()
    });
    HttpResponse::Ok().json(all)
}

/// One agent's state and load (for supervisors).
#[utoipa::path(
    tag = "agents",
    params(("user" = String, Path, description = "The agent's user name")),
    responses(
        (status = 200, body = AgentView),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/agents/{user}")]
pub async fn agent_workload(
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = name_of(&path)?;
    Ok(HttpResponse::Ok().json(current(&projections, &name)?))
}

/// An agent's presence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum StateBody {
    /// Ready for work: routing may offer interactions.
    Ready,
    /// Not ready, with a reason (a break, training, …).
    NotReady { reason: String },
    /// Logged out.
    LoggedOut,
}

/// Set your own presence (you must be an agent).
#[utoipa::path(
    tag = "desktop",
    request_body = StateBody,
    responses(
        (status = 200, body = AgentView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "You are not an agent", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/me/state")]
pub async fn set_state(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    body: JsonBody<StateBody>,
) -> Result<HttpResponse, ApiError> {
    let presence = match body.0 {
        StateBody::Ready => Presence::Ready,
        StateBody::NotReady { reason } => Presence::NotReady { reason },
        StateBody::LoggedOut => Presence::LoggedOut,
    };
    let command = AgentCommand::SetPresence {
        presence,
        at: crate::app::now(),
    };
    let name = caller.name.clone();
    run_once::<Agent>(
        log.as_ref(),
        &projections,
        &name,
        command,
        Principal::User(name.to_string()),
    )
    .await
    .map_err(|e| match e {
        ApiError::NotFound(_) => ApiError::NotFound(format!("{name} is not an agent")),
        other => other,
    })?;
    Ok(HttpResponse::Ok().json(current(&projections, &name)?))
}

/// Your own state as an agent: presence and since when, time in each state, load and work.
#[utoipa::path(
    tag = "desktop",
    responses(
        (status = 200, body = AgentView),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "You are not an agent", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/me/state")]
pub async fn my_state(
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let name = caller.name.clone();
    let view = current(&projections, &name).map_err(|e| match e {
        ApiError::NotFound(_) => ApiError::NotFound(format!("{name} is not an agent")),
        other => other,
    })?;
    Ok(HttpResponse::Ok().json(view))
}
