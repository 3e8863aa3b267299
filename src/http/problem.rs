//! One error type for the API, answered as an RFC 9457 problem body. Unexpected errors are logged
//! with their cause and never shown to the caller.

use crate::domain::aggregate::Rejection;
use crate::domain::RejectionKind;
use crate::events::aggregate::CommandError;
use crate::events::StoreError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// RFC 9457 problem details.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, detail: String) -> Problem {
        Problem {
            kind: format!("https://postroom.dev/problems/{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
        }
    }
}

/// A problem body as JSON text, for answers written below actix-web (the connection layer).
pub fn problem_json(status: u16, slug: &str, detail: &str) -> String {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    serde_json::to_string(&Problem::new(status, slug, detail.to_string()))
        .unwrap_or_else(|_| "{}".to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("a valid bearer token is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("{detail}")]
    MethodNotAllowed { detail: String, allow: String },
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u64,
    },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Unprocessable(_) => "invalid-input",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::RequestTimeout(_) => "request-timeout",
            ApiError::MethodNotAllowed { .. } => "method-not-allowed",
            ApiError::TooManyRequests { .. } => "too-many-requests",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Logs an unexpected error with its cause and answers a bare 500.
    pub fn internal(context: &str, e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "{context}");
        ApiError::Internal(context.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let detail = match self {
            ApiError::Internal(_) => "an unexpected error occurred; it has been logged".to_string(),
            other => other.to_string(),
        };
        let body = Problem::new(status, self.slug(), detail);
        let mut resp = HttpResponse::build(status);
        resp.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if matches!(self, ApiError::Unauthorized) {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if let ApiError::MethodNotAllowed { allow, .. } = self {
            resp.insert_header((header::ALLOW, allow.as_str()));
        }
        if matches!(self, ApiError::Unavailable(_)) {
            resp.insert_header((header::RETRY_AFTER, "5"));
        }
        if let ApiError::TooManyRequests {
            retry_after_secs, ..
        } = self
        {
            resp.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        resp.json(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable => ApiError::Unavailable(e.to_string()),
            StoreError::WrongExpectedVersion { .. } | StoreError::IdempotencyConflict { .. } => {
                ApiError::Conflict(e.to_string())
            }
            other => ApiError::internal("event log failure", other),
        }
    }
}

/// The one place a refused command becomes an answer, by what the rejection means.
impl<R: Rejection> From<CommandError<R>> for ApiError {
    fn from(e: CommandError<R>) -> Self {
        match e {
            CommandError::Rejected(r) => {
                let detail = r.to_string();
                match r.kind() {
                    RejectionKind::NotFound => ApiError::NotFound(detail),
                    RejectionKind::Forbidden => ApiError::Forbidden(detail),
                    RejectionKind::Conflict => ApiError::Conflict(detail),
                    RejectionKind::Invalid => ApiError::Unprocessable(detail),
                }
            }
            CommandError::Conflict => ApiError::Conflict(e.to_string()),
            CommandError::Unavailable => ApiError::Unavailable(e.to_string()),
            CommandError::Store(s) => match s.as_ref() {
                StoreError::Unavailable => ApiError::Unavailable(s.to_string()),
                other => ApiError::internal("event log failure", other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interaction::Rejection as R;
    use crate::domain::user::UserRejection;
    use crate::domain::AgentId;

    fn status(e: impl Into<ApiError>) -> u16 {
        e.into().status_code().as_u16()
    }

    #[test]
    fn a_rejection_answers_by_what_it_means() {
        let alice = AgentId::parse("alice").expect("a name");
        let rejected = |r: R| CommandError::Rejected(r);
        assert_eq!(status(rejected(R::NotFound)), 404);
        assert_eq!(
            status(rejected(R::NotOwner {
                agent: alice.clone()
            })),
            403
        );
        assert_eq!(
            status(rejected(R::NotYourOffer {
                agent: alice.clone()
            })),
            403
        );
        assert_eq!(status(rejected(R::SelfReview)), 403);
        assert_eq!(status(rejected(R::DeadlineInPast)), 422);
        assert_eq!(status(rejected(R::ReasonRequired)), 422);
        assert_eq!(
            status(rejected(R::InvalidState {
                command: "x",
                status: "queued"
            })),
            409
        );
        assert_eq!(status(rejected(R::AlreadyExists)), 409);
        assert_eq!(status(CommandError::<R>::Conflict), 409);
        assert_eq!(status(CommandError::<R>::Unavailable), 503);
        // The user aggregate goes through the same mapping.
        let users = |r: UserRejection| CommandError::Rejected(r);
        assert_eq!(status(users(UserRejection::Exists(alice.clone()))), 409);
        assert_eq!(status(users(UserRejection::NotActive(alice))), 404);
    }
}
