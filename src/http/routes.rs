//! Who may call what: one table of every route and the roles it admits, checked for every request
//! before any handler runs (admins may do everything). A test checks that the table and the
//! OpenAPI document name the same routes, so no endpoint is served without a declared access.

use super::auth::authenticate;
use super::problem::ApiError;
use crate::domain::user::Role;
use actix_web::dev::ServiceRequest;
use actix_web::HttpMessage;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// A bearer token of one of these roles (or an admin's).
    Roles(&'static [Role]),
}

/// One route: its method, its path pattern as served, and who may call it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

const STAFF: Access = Access::Roles(&[Role::Agent, Role::Supervisor, Role::Auditor]);
const DESK: Access = Access::Roles(&[Role::Agent, Role::Supervisor]);
const OVERSIGHT: Access = Access::Roles(&[Role::Supervisor, Role::Auditor]);
const AUDIT: Access = Access::Roles(&[Role::Auditor]);
const ADMIN: Access = Access::Roles(&[Role::Admin]);
const SUPERVISION: Access = Access::Roles(&[Role::Supervisor]);
const AGENTS: Access = Access::Roles(&[Role::Agent, Role::Supervisor]);
const RESPONSES: Access = Access::Roles(&[Role::Agent, Role::Supervisor, Role::Admin]);
const ANYONE: Access = Access::Roles(&[Role::Agent, Role::Supervisor, Role::Auditor]);

const fn route(method: &'static str, path: &'static str, access: Access) -> Route {
    Route {
        method,
        path,
        access,
    }
}

/// Every route the server answers.
pub const ROUTES: &[Route] = &[
    route("GET", "/", Access::Public),
    route("GET", "/assets/{name}", Access::Public),
    route("GET", "/healthz", Access::Public),
    route("GET", "/readyz", Access::Public),
    route("GET", "/metrics", OVERSIGHT),
    route("GET", "/api/v1/openapi.json", Access::Public),
    route("POST", "/api/v1/webform", Access::Public),
    route("GET", "/api/v1/interactions/{id}", STAFF),
    route("GET", "/api/v1/interactions/{id}/thread", STAFF),
    route("GET", "/api/v1/interactions/{id}/history", OVERSIGHT),
    route("GET", "/api/v1/interactions/{id}/content", STAFF),
    route("GET", "/api/v1/interactions/{id}/attachments/{n}", STAFF),
    route("GET", "/api/v1/interactions/{id}/raw", STAFF),
    route("GET", "/api/v1/interactions/{id}/notes", STAFF),
    route("GET", "/api/v1/contacts", STAFF),
    route("GET", "/api/v1/contacts/{id}", STAFF),
    route("GET", "/api/v1/queues", DESK),
    route("GET", "/api/v1/queues/{name}", DESK),
    route("GET", "/api/v1/queues/{name}/service-level", DESK),
    route("GET", "/api/v1/queues/{name}/trend", DESK),
    route("GET", "/api/v1/audit/events", AUDIT),
    route("GET", "/api/v1/audit/verify", AUDIT),
    route("POST", "/api/v1/admin/users", ADMIN),
    route("DELETE", "/api/v1/admin/users/{name}", ADMIN),
    route("POST", "/api/v1/admin/config/reload", ADMIN),
    route("POST", "/api/v1/standard-responses", ADMIN),
    route("GET", "/api/v1/standard-responses", RESPONSES),
    route("GET", "/api/v1/standard-responses/{id}", RESPONSES),
    route("PUT", "/api/v1/standard-responses/{id}", ADMIN),
    route("DELETE", "/api/v1/standard-responses/{id}", ADMIN),
    route("GET", "/api/v1/interactions/{id}/suggested-responses", DESK),
    route("POST", "/api/v1/admin/agents", ADMIN),
    route("GET", "/api/v1/admin/agents/{user}", ADMIN),
    route("PATCH", "/api/v1/admin/agents/{user}", ADMIN),
    route("DELETE", "/api/v1/admin/agents/{user}", ADMIN),
    route("GET", "/api/v1/agents", SUPERVISION),
    route("GET", "/api/v1/agents/{user}", SUPERVISION),
    route("POST", "/api/v1/me/state", AGENTS),
    route("GET", "/api/v1/me/state", AGENTS),
    route("POST", "/api/v1/interactions/{id}/accept", AGENTS),
    route("POST", "/api/v1/interactions/{id}/reject", AGENTS),
    route("GET", "/api/v1/interactions/{id}/routing", STAFF),
    route("GET", "/api/v1/me/interactions", AGENTS),
    route("POST", "/api/v1/interactions/{id}/categorise", AGENTS),
    route("POST", "/api/v1/interactions/{id}/transfer", AGENTS),
    route("POST", "/api/v1/interactions/{id}/consult", AGENTS),
    route(
        "POST",
        "/api/v1/interactions/{id}/consult/contribution",
        AGENTS,
    ),
    route("POST", "/api/v1/interactions/{id}/consult/end", AGENTS),
    route("POST", "/api/v1/interactions/{id}/return", AGENTS),
    route("POST", "/api/v1/interactions/{id}/done", AGENTS),
    route("GET", "/api/v1/desktop", AGENTS),
    route("PUT", "/api/v1/interactions/{id}/reply", AGENTS),
    route("GET", "/api/v1/interactions/{id}/reply", AGENTS),
    route("POST", "/api/v1/interactions/{id}/release", AGENTS),
    route("GET", "/api/v1/me/events", AGENTS),
    route("POST", "/api/v1/interactions/{id}/move", SUPERVISION),
    route("POST", "/api/v1/interactions/{id}/priority", SUPERVISION),
    route("POST", "/api/v1/interactions/{id}/assign", SUPERVISION),
    route("POST", "/api/v1/interactions/{id}/stop", SUPERVISION),
    route("POST", "/api/v1/interactions/bulk", SUPERVISION),
    route("PATCH", "/api/v1/interactions/{id}/attributes", SUPERVISION),
    route("POST", "/api/v1/auth/signin", Access::Public),
    route("GET", "/api/v1/auth/session", ANYONE),
    route("POST", "/api/v1/auth/signout", ANYONE),
    route("POST", "/api/v1/auth/invitation", Access::Public),
    route("POST", "/api/v1/admin/users/{name}/password", ADMIN),
    route("POST", "/api/v1/admin/users/{name}/invitation", ADMIN),
    route("GET", "/api/v1/reviews", AGENTS),
    route("POST", "/api/v1/reviews/{id}/approve", AGENTS),
    route("POST", "/api/v1/reviews/{id}/return", AGENTS),
    route("POST", "/api/v1/reviews/{id}/edit", AGENTS),
    route("POST", "/api/v1/reviews/{id}/reassign", AGENTS),
];

/// Who may call `method` on the route `pattern` (None: no such route).
pub fn access(method: &str, pattern: &str) -> Option<Access> {
    ROUTES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == pattern)
        .map(|r| r.access)
}

/// The routes whose pattern matches the concrete `path` most literally (a literal segment beats
/// a `{parameter}`: `/interactions/bulk` is that route, not `/interactions/{id}`).
fn matching(path: &str) -> Vec<&'static Route> {
    let segments: Vec<&str> = path.split('/').collect();
    let scored: Vec<(usize, &'static Route)> = ROUTES
        .iter()
        .filter_map(|r| {
            let pattern: Vec<&str> = r.path.split('/').collect();
            let matches = pattern.len() == segments.len()
                && pattern.iter().zip(&segments).all(|(p, s)| {
                    p == s || (p.starts_with('{') && p.ends_with('}') && !s.is_empty())
                });
            matches.then(|| (pattern.iter().filter(|p| !p.starts_with('{')).count(), r))
        })
        .collect();
    let best = scored.iter().map(|(l, _)| *l).max().unwrap_or(0);
    scored
        .into_iter()
        .filter(|(l, _)| *l == best)
        .map(|(_, r)| r)
        .collect()
}

/// The methods the routes matching `path` answer (none: no route has this path).
pub fn methods_for(path: &str) -> Vec<&'static str> {
    matching(path).into_iter().map(|r| r.method).collect()
}

/// The table's entry for `method` on the concrete `path`.
pub fn route_for(method: &str, path: &str) -> Option<&'static Route> {
    matching(path)
        .into_iter()
        .find(|r| r.method.eq_ignore_ascii_case(method))
}

/// 405 with `Allow` when `path` is a route of the table but not for `method` (none: it is, or
/// the path is no route at all).
pub fn not_allowed(method: &str, path: &str) -> Option<ApiError> {
    let allowed = methods_for(path);
    if allowed.is_empty() || allowed.iter().any(|m| m.eq_ignore_ascii_case(method)) {
        return None;
    }
    let mut allow = allowed.join(", ");
    if allowed.contains(&"GET") {
        allow.push_str(", HEAD");
    }
    Some(ApiError::MethodNotAllowed {
        detail: format!("{path} does not answer {method}; it answers {allow}"),
        allow,
    })
}

/// Checks a request against the table; the authenticated caller is kept in the request for
/// handlers that need their name (`Caller` extracts it).
pub fn authorize(req: &ServiceRequest) -> Result<(), ApiError> {
    let Some(pattern) = req.match_pattern() else {
        // No route matches: the default service answers 404.
        return Ok(());
    };
    // Actix names the first pattern that matches the path, whatever its methods
    // (`/interactions/{id}` for `POST /interactions/bulk`): the table's own entry for this
    // method and path decides then, the most literal first.
    // A method the table does not list for this path (`GET /interactions/bulk`, which actix
    // would hand to `/interactions/{id}`): 405, as for any path.
    if let Some(e) = not_allowed(req.method().as_str(), req.path()) {
        return Err(e);
    }
    let found = access(req.method().as_str(), &pattern)
        .or_else(|| route_for(req.method().as_str(), req.path()).map(|r| r.access));
    let roles = match found {
        Some(Access::Roles(roles)) => roles,
        Some(Access::Public) => return Ok(()),
        // A method the route does not serve: no handler runs, the router answers it.
        None => return Ok(()),
    };
    let caller = authenticate(req.request())?;
    caller.require(roles)?;
    req.extensions_mut().insert(caller);
    Ok(())
}
