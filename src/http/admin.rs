//! Administration: users and their tokens.

use super::auth::Caller;
use super::problem::{ApiError, Problem};
use super::views::CreatedUser;
use crate::actors::users;
use crate::app::now;
use crate::domain::user::{Role, User};
use crate::domain::{AgentId, Principal};
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use actix_web::{delete, post, web, HttpResponse};
use serde::Deserialize;
use std::time::Duration;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub name: String,
    /// agent, supervisor, auditor or admin.
    pub role: String,
}

/// Create a user; the answer holds their bearer token, shown this once.
#[utoipa::path(
    tag = "admin",
    request_body = CreateUser,
    responses(
        (status = 201, body = CreatedUser),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/admin/users")]
pub async fn create_user(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    body: super::json::JsonBody<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let name =
        AgentId::parse(&body.0.name).map_err(|e| ApiError::Unprocessable(format!("name: {e}")))?;
    let role = Role::parse(&body.0.role).ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "role: {:?} is not one of agent, supervisor, auditor, admin",
            body.0.role
        ))
    })?;
    // A name recorded before names lost their case, in another case, is the same person's.
    if let Some(existing) = projections.read(|p| p.users.find_active(name.as_str())) {
        return Err(ApiError::Conflict(format!(
            "the user {existing} exists (user names do not differ by case)"
        )));
    }
    let by = Principal::User(caller.name.to_string());
    let (token, position) = users::add(log.as_ref(), &name, role, by, now()).await?;
    projections.wait_for(position, Duration::from_secs(2)).await;
    tracing::info!(user = %name, role = role.as_str(), by = %caller.name, "user created");
    Ok(HttpResponse::Created().json(CreatedUser {
        name: name.to_string(),
        role: role.as_str(),
        token,
    }))
}

/// Reload the workflow's configuration from the file the server started with (also on SIGHUP):
/// the screening rules and the classifier are rebuilt and swapped in whole. A file with any
/// error is refused (422, the key and the reason) and the running configuration stays.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, body = crate::app::reload::Reloaded),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, description = "The file has an error; nothing changed", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/admin/config/reload")]
pub async fn reload_config(
    reloader: web::Data<crate::app::reload::Reloader>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    match reloader.reload().await {
        Ok(reloaded) => {
            tracing::info!(by = %caller.name, version = %reloaded.version, "configuration reloaded");
            Ok(HttpResponse::Ok().json(reloaded))
        }
        Err(reason) => Err(ApiError::Unprocessable(format!(
            "the configuration was not reloaded: {reason}"
        ))),
    }
}

/// Revoke a user's token.
#[utoipa::path(
    tag = "admin",
    params(("name" = String, Path, description = "User name")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "The last admin cannot be revoked", body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/admin/users/{name}")]
pub async fn revoke_user(
    log: web::Data<dyn EventStore>,
    signin: web::Data<crate::app::signin::SignIn>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // An active user by their recorded name (any ASCII case), else the name under today's rule.
    let name = match projections.read(|p| p.users.find_active(&path)) {
        Some(recorded) => recorded,
        None => AgentId::parse(&path).map_err(|e| ApiError::BadRequest(format!("name: {e}")))?,
    };
    // Nobody could administer the server any more (the CLI on the data folder still can).
    let last_admin = projections.read(|p| {
        matches!(
            p.users.get(&name),
            User::Active {
                role: Role::Admin,
                ..
            }
        ) && p.users.active_admins() == 1
    });
    if last_admin {
        return Err(ApiError::Conflict(format!(
            "{name} is the last admin: add another admin before revoking this one"
        )));
    }
    let by = Principal::User(caller.name.to_string());
    let position = users::revoke(log.as_ref(), &name, by, now()).await?;
    // Revoked, they sign in no more (their sessions end at their next request).
    signin
        .credentials
        .forget(&name)
        .map_err(ApiError::Unavailable)?;
    projections.wait_for(position, Duration::from_secs(2)).await;
    tracing::info!(user = %name, by = %caller.name, "user revoked");
    Ok(HttpResponse::NoContent().finish())
}
