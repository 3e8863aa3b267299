//! Signing in for people in a browser: `POST /auth/signin` (name and password → a session
//! cookie and its CSRF token), `GET /auth/session`, `POST /auth/signout`, and passwords:
//! set by an admin (`POST /admin/users/{name}/password`) or by the user through a one-time
//! invitation (`POST /admin/users/{name}/invitation`, then `POST /auth/invitation`).

use super::auth::Caller;
use super::json::JsonBody;
use super::problem::{ApiError, Problem};
use super::session::{clear_cookie, cookie_of, set_cookie, Sessions};
use super::views::rfc3339_millis;
use crate::app::signin::{SignIn, SignInError};
use crate::domain::{AgentId, Principal};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::Refused => ApiError::Unauthorized,
            SignInError::TooMany(wait) => ApiError::TooManyRequests {
                detail: "too many refused sign-ins: wait, then try again".into(),
                retry_after_secs: wait.as_secs().max(1),
            },
            SignInError::Invalid(m) => ApiError::Unprocessable(m),
            SignInError::NotFound(m) => ApiError::NotFound(m),
            SignInError::Unavailable(m) => ApiError::Unavailable(m),
        }
    }
}

/// A name and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    pub name: String,
    pub password: String,
}

/// Who is signed in, and the token their requests that change anything carry.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub name: String,
    pub role: &'static str,
    /// Send as `X-CSRF-Token` with every POST, PUT, PATCH and DELETE of this session (none for
    /// a bearer token, which needs none).
    pub csrf_token: Option<String>,
    /// The session ends after this long without a request.
    pub idle_secs: Option<u64>,
}

/// Sign in with a name and password: the answer sets the session cookie (`HttpOnly`,
/// `SameSite=Strict`, `Secure` over TLS) and holds the CSRF token. A wrong name or password is
/// 401 whichever it was; too many refusals (per name, per client) are 429.
#[utoipa::path(
    tag = "auth",
    request_body = SignInBody,
    responses(
        (status = 200, body = SessionView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem),
    )
)]
#[post("/auth/signin")]
pub async fn sign_in(
    req: HttpRequest,
    signin: web::Data<SignIn>,
    sessions: web::Data<Sessions>,
    body: JsonBody<SignInBody>,
) -> Result<HttpResponse, ApiError> {
    let SignInBody { name, password } = body.0;
    let from = req.peer_addr().map(|a| a.ip());
    let (name, role) = signin.sign_in(&name, password, from).await?;
    let (cookie, begun) = sessions.begin(name, role);
    Ok(HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::SET_COOKIE,
            set_cookie(&req, &cookie, sessions.max),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(SessionView {
            name: begun.name.to_string(),
            role: begun.role.as_str(),
            csrf_token: Some(begun.csrf),
            idle_secs: Some(sessions.idle.as_secs()),
        }))
}

/// Who you are: your session and its CSRF token (a bearer token's caller has none).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, body = SessionView),
        (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/auth/session")]
pub async fn session(
    req: HttpRequest,
    sessions: web::Data<Sessions>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let csrf = match cookie_of(&req).map(|c| sessions.find(&c)) {
        Some(super::session::Found::Live(s)) if s.name == caller.name => Some(s.csrf),
        _ => None,
    };
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(SessionView {
            name: caller.name.to_string(),
            role: caller.role.as_str(),
            idle_secs: csrf.as_ref().map(|_| sessions.idle.as_secs()),
            csrf_token: csrf,
        }))
}

/// Sign out: the session ends on the server and its cookie is removed.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Signed out (nothing to end for a bearer token)"),
        (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/auth/signout")]
pub async fn sign_out(
    req: HttpRequest,
    signin: web::Data<SignIn>,
    sessions: web::Data<Sessions>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    if let Some(ended) = cookie_of(&req).and_then(|c| sessions.end(&c)) {
        signin.signed_out(&ended.name, "signed out").await?;
    }
    tracing::info!(user = %caller.name, "signed out");
    Ok(HttpResponse::NoContent()
        .insert_header((actix_web::http::header::SET_COOKIE, clear_cookie(&req)))
        .finish())
}

/// A new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// 12 to 1024 characters, not the user name.
    pub password: String,
}

/// The user a path names, active (404 otherwise).
fn user_named(
    projections: &crate::projections::ProjectionRunner,
    raw: &str,
) -> Result<AgentId, ApiError> {
    projections
        .read(|p| p.users.find_active(raw))
        .ok_or_else(|| ApiError::NotFound(format!("no active user named {raw:?}")))
}

/// Set a user's password (they sign in with it in a browser; their bearer token is unchanged).
#[utoipa::path(
    tag = "admin",
    params(("name" = String, Path, description = "User name")),
    request_body = PasswordBody,
    responses(
        (status = 204, description = "Set"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/admin/users/{name}/password")]
pub async fn set_password(
    signin: web::Data<SignIn>,
    projections: web::Data<crate::projections::ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let name = user_named(&projections, &path)?;
    let by = Principal::User(caller.name.to_string());
    signin
        .set_password(&name, body.0.password, "admin", by)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A one-time invitation: its token, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub name: String,
    pub token: String,
    /// The web desktop's page that opens it.
    pub link: String,
    pub expires_at: String,
}

/// Invite a user to set their own password: a one-time link, good for 72 hours.
#[utoipa::path(
    tag = "admin",
    params(("name" = String, Path, description = "User name")),
    responses(
        (status = 201, body = InvitationView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/admin/users/{name}/invitation")]
pub async fn invite(
    signin: web::Data<SignIn>,
    projections: web::Data<crate::projections::ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = user_named(&projections, &path)?;
    let by = Principal::User(caller.name.to_string());
    let (token, expires) = signin.invite(&name, by).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(InvitationView {
            name: name.to_string(),
            link: format!("/#invitation={token}"),
            token,
            expires_at: rfc3339_millis(expires),
        }))
}

/// An invitation's token and the password it sets.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    pub token: String,
    /// 12 to 1024 characters, not the user name.
    pub password: String,
}

/// Open an invitation: its password becomes the user's (once; then sign in).
#[utoipa::path(
    tag = "auth",
    request_body = AcceptBody,
    responses(
        (status = 200, body = SessionView),
        (status = 400, body = Problem),
        (status = 404, description = "Not an open invitation (unknown, used or expired)", body = Problem),
        (status = 422, description = "A password the rules refuse", body = Problem),
    )
)]
#[post("/auth/invitation")]
pub async fn accept_invitation(
    signin: web::Data<SignIn>,
    projections: web::Data<crate::projections::ProjectionRunner>,
    body: JsonBody<AcceptBody>,
) -> Result<HttpResponse, ApiError> {
    let AcceptBody { token, password } = body.0;
    let name = signin.accept(&token, password).await?;
    let role = match projections.read(|p| p.users.get(&name)) {
        crate::domain::user::User::Active { role, .. } => role,
        _ => return Err(ApiError::NotFound(format!("no active user named {name}"))),
    };
    Ok(HttpResponse::Ok().json(SessionView {
        name: name.to_string(),
        role: role.as_str(),
        csrf_token: None,
        idle_secs: None,
    }))
}
