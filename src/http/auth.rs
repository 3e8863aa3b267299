//! Bearer-token authentication and roles. Tokens are compared by their SHA-256 digest, which is
//! all the log keeps.

use super::problem::ApiError;
use crate::actors::users::token_digest;
use crate::domain::user::Role;
use crate::domain::AgentId;
use crate::projections::ProjectionRunner;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: AgentId,
    pub role: Role,
}

impl Caller {
    /// Admits the listed roles (admins always).
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            return Ok(());
        }
        let wanted: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::Forbidden(format!(
            "this needs the role {}; {} is {}",
            wanted.join(" or "),
            self.name,
            self.role.as_str()
        )))
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Authorised by the route table before the handler runs (`routes::authorize`).
        ready(caller_of(req).map_or_else(|| authenticate(req), Ok))
    }
}

/// The caller a bearer token names.
pub fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or(ApiError::Unauthorized)?;
    // The scheme is case-insensitive (RFC 9110 §11.1): `Bearer`, `bearer`, `BEARER`.
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim_start())
        .ok_or(ApiError::Unauthorized)?;
    let projections = req
        .app_data::<web::Data<ProjectionRunner>>()
        .ok_or_else(|| ApiError::internal("request without projections", "missing app data"))?;
    let digest = token_digest(token);
    let (name, role) = projections
        .read(|p| p.users.by_token(&digest))
        .ok_or(ApiError::Unauthorized)?;
    tracing::Span::current().record("user", name.as_str());
    Ok(Caller { name, role })
}

/// The caller a request was authorised for (kept in the request by the route check).
fn caller_of(req: &HttpRequest) -> Option<Caller> {
    use actix_web::HttpMessage;
    req.extensions().get::<Caller>().cloned()
}
