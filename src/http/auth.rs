//! Authentication and roles: bearer tokens (integrations; compared by their SHA-256 digest, which
//! is all the log keeps) and browser sessions (`session.rs`).

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

/// The caller a request names: by its bearer token, or else by its session cookie (a browser
/// signed in; a request that changes anything must then carry the session's CSRF token).
pub fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    if !req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION)
    {
        if let Some(cookie) = super::session::cookie_of(req) {
            return by_session(req, &cookie);
        }
    }
    bearer(req)
}

/// Two strings equal, compared in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The caller a session cookie names.
fn by_session(req: &HttpRequest, cookie: &str) -> Result<Caller, ApiError> {
    use super::session::{changes, Found, Sessions, CSRF_HEADER};
    let sessions = req
        .app_data::<web::Data<Sessions>>()
        .ok_or_else(|| ApiError::internal("request without sessions", "missing app data"))?;
    let session = match sessions.find(cookie) {
        Found::Live(s) => s,
        Found::Expired(s) => {
            // Recorded for the auditors, off the request's path.
            if let Some(signin) = req.app_data::<web::Data<crate::app::signin::SignIn>>() {
                let signin = signin.clone();
                actix_web::rt::spawn(async move {
                    let _ = signin.signed_out(&s.name, "expired").await;
                });
            }
            return Err(ApiError::Unauthorized);
        }
        Found::Unknown => return Err(ApiError::Unauthorized),
    };
    let projections = req
        .app_data::<web::Data<ProjectionRunner>>()
        .ok_or_else(|| ApiError::internal("request without projections", "missing app data"))?;
    // Revoked, or another role since: the session is over.
    let still = projections.read(|p| p.users.get(&session.name));
    if !matches!(still, crate::domain::user::User::Active { role, .. } if role == session.role) {
        sessions.end(cookie);
        return Err(ApiError::Unauthorized);
    }
    if changes(req.method()) {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !same(sent, &session.csrf) {
            return Err(ApiError::Forbidden(
                "a browser session's request that changes anything needs its X-CSRF-Token \
                 header (the token from signing in, or from GET /api/v1/auth/session)"
                    .into(),
            ));
        }
    }
    tracing::Span::current().record("user", session.name.as_str());
    Ok(Caller {
        name: session.name,
        role: session.role,
    })
}

/// The caller a bearer token names.
fn bearer(req: &HttpRequest) -> Result<Caller, ApiError> {
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
