//! The agent's reply to their interaction: `PUT …/reply` saves a draft (text and HTML, or a
//! standard response rendered for this customer), `GET …/reply` reads it back, `POST …/release`
//! sends it (through the outbox, threaded to the customer's message).

use super::auth::Caller;
use super::interactions::parse_id;
use super::json::JsonBody;
use super::problem::{ApiError, Problem};
use crate::app::reply::{Draft, Replies, ReplyError, Source};
use crate::domain::standard_response::ResponseId;
use actix_web::{get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

impl From<ReplyError> for ApiError {
    fn from(e: ReplyError) -> Self {
        match e {
            ReplyError::NotFound(m) => ApiError::NotFound(m),
            ReplyError::Forbidden(m) => ApiError::Forbidden(m),
            ReplyError::Conflict(m) => ApiError::Conflict(m),
            ReplyError::Invalid(m) => ApiError::Unprocessable(m),
            ReplyError::Unavailable(m) => ApiError::Unavailable(m),
            ReplyError::Command(e) => e.into(),
        }
    }
}

/// A reply: written (`text`, optionally `html`), or a standard response by id.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// The text (not blank, at most 100000 characters).
    pub text: Option<String>,
    /// An HTML alternative (at most 500000 characters); sent as written beside the text.
    pub html: Option<String>,
    /// A standard response, rendered with this customer's field codes (instead of text).
    #[schema(value_type = Option<String>)]
    pub standard_response_id: Option<uuid::Uuid>,
}

/// A reply as saved or released.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyView {
    /// The reply's own id (an outbound interaction in the customer's thread).
    pub reply_id: String,
    /// The customer's interaction it answers.
    pub interaction_id: String,
    /// `draft`, then `outbound_queued` (or `awaiting_review`, `review_offered`, `in_review`,
    /// `approved`), `sending`, `sent` (or `failed`).
    pub status: &'static str,
    pub to: String,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    /// Fixed when released.
    pub message_id: Option<String>,
    /// Times a reviewer returned it for revision.
    pub revisions: u32,
    /// The reviewer's comment when it was last returned (revise, then release again).
    pub comment: Option<String>,
    /// The QA policy's decision at the latest release (none before the first).
    pub review: Option<ReviewDecisionView>,
}

/// Whether a released reply is reviewed before it goes out, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDecisionView {
    pub required: bool,
    pub reasons: Vec<ReviewReasonView>,
    /// The QA policy in force (a digest of its settings).
    pub policy: String,
}

/// One rule of the QA policy that asked for review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewReasonView {
    /// `revision`, `trainee`, `new_agent`, `sensitive_category`, `pattern` or `sample`.
    pub rule: String,
    pub detail: String,
}

impl ReviewDecisionView {
    pub(super) fn of(d: &crate::domain::interaction::ReviewDecided) -> ReviewDecisionView {
        ReviewDecisionView {
            required: d.required,
            reasons: d
                .reasons
                .iter()
                .map(|r| ReviewReasonView {
                    rule: r.rule.clone(),
                    detail: r.detail.clone(),
                })
                .collect(),
            policy: d.policy.clone(),
        }
    }
}

impl ReplyView {
    fn of(d: Draft) -> ReplyView {
        ReplyView {
            reply_id: d.id.to_string(),
            interaction_id: d.parent.to_string(),
            status: d.state.status.name(),
            to: d.state.from.clone(),
            subject: d.state.subject.clone(),
            message_id: d.state.message_id.clone(),
            revisions: d.state.revisions,
            review: d.record.review.as_ref().map(ReviewDecisionView::of),
            comment: d.record.comment,
            text: d.record.text,
            html: d.record.html,
        }
    }
}

/// Save your draft reply (made on the first save, replaced after).
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    request_body = ReplyBody,
    responses(
        (status = 200, body = ReplyView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your interaction", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not assigned to you, or the customer cannot receive mail", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/interactions/{id}/reply")]
pub async fn save_reply(
    replies: web::Data<Replies>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ReplyBody>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let body = body.0;
    let source = match (body.text, body.html, body.standard_response_id) {
        (Some(text), html, None) => Source::Written { text, html },
        (None, None, Some(r)) => Source::Standard(ResponseId(r)),
        _ => {
            return Err(ApiError::Unprocessable(
                "give text (and html if you like), or standard_response_id alone".into(),
            ))
        }
    };
    let draft = replies.save(&caller.name, id, source).await?;
    Ok(HttpResponse::Ok().json(ReplyView::of(draft)))
}

/// Your draft reply, as last saved.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = ReplyView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your interaction", body = Problem),
        (status = 404, description = "No such interaction, or no draft", body = Problem),
        (status = 409, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/reply")]
pub async fn get_reply(
    replies: web::Data<Replies>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let draft = replies.draft(&caller.name, id).await?;
    Ok(HttpResponse::Ok().json(ReplyView::of(draft)))
}

/// Release your draft: the reply is composed, threaded to the customer's message, and sent
/// through the outbox. Releasing again answers the reply already released.
#[utoipa::path(
    tag = "desktop",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = ReplyView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your interaction", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "No draft, not assigned to you, consultations open, or no mail server configured", body = Problem),
        (status = 503, description = "The content store cannot be read now", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/interactions/{id}/release")]
pub async fn release(
    replies: web::Data<Replies>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let released = replies.release(&caller.name, id).await?;
    Ok(HttpResponse::Ok().json(ReplyView::of(released)))
}
