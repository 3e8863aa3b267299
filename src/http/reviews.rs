//! QA review over HTTP: `GET /reviews` (your pending reviews; supervisors see every one) and a
//! reviewer's answers, `POST /reviews/{id}/approve | return | edit | reassign`. Only the reviewer
//! a review is offered to or assigned to answers it (403 otherwise; a supervisor may reassign
//! any); a reply not in review is 409.

use super::auth::Caller;
use super::interactions::parse_id;
use super::json::JsonBody;
use super::problem::{ApiError, Problem};
use super::reply::ReviewDecisionView;
use super::views::rfc3339_millis;
use super::work::{agent_named, found};
use crate::app::reply::Replies;
use crate::app::review::{Review, Verdict};
use crate::domain::user::Role;
use crate::projections::ProjectionRunner;
use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A reply in review, beside the customer's message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    /// The reply's id (the review's id).
    pub reply_id: String,
    /// The customer's interaction it answers.
    pub interaction_id: String,
    /// `awaiting_review`, `review_offered`, `in_review`; after an answer `approved`, `draft`
    /// (returned), `sending`, `sent`.
    pub status: &'static str,
    pub author: Option<String>,
    /// Who it is offered to or who reviews it.
    pub reviewer: Option<String>,
    /// Until when the offer stands.
    pub offer_deadline: Option<String>,
    pub to: String,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    /// Times it was returned for revision.
    pub revisions: u32,
    /// The comment it was last returned with.
    pub comment: Option<String>,
    /// Why it is reviewed.
    pub review: Option<ReviewDecisionView>,
    pub customer: Option<CustomerMessage>,
}

/// The customer's message the reply answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerMessage {
    pub from: String,
    pub subject: String,
    pub text: Option<String>,
    pub category: Option<String>,
}

/// Reviews, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewList {
    pub reviews: Vec<ReviewView>,
}

impl ReviewView {
    fn of(r: Review) -> ReviewView {
        let s = &r.state;
        ReviewView {
            reply_id: r.id.to_string(),
            interaction_id: r.parent.to_string(),
            status: s.status.name(),
            author: s.owner.as_ref().map(|o| o.to_string()),
            reviewer: s.status.reviewer().map(|a| a.to_string()),
            offer_deadline: s.status.offer().map(|(_, d)| rfc3339_millis(d)),
            to: s.from.clone(),
            subject: s.subject.clone(),
            revisions: s.revisions,
            review: r.record.review.as_ref().map(ReviewDecisionView::of),
            comment: r.record.comment,
            text: r.record.text,
            html: r.record.html,
            customer: r.customer.map(|(p, text)| CustomerMessage {
                from: p.from,
                subject: p.subject,
                category: p.category,
                text,
            }),
        }
    }
}

/// Your pending reviews: offered to you or in your review. Supervisors see every reply waiting
/// for review, offered or in review.
#[utoipa::path(
    tag = "review",
    responses(
        (status = 200, body = ReviewList),
        (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/reviews")]
pub async fn list_reviews(
    replies: web::Data<Replies>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let all = matches!(caller.role, Role::Supervisor | Role::Admin);
    let reviews = replies.reviews(&caller.name, all).await?;
    Ok(HttpResponse::Ok().json(ReviewList {
        reviews: reviews.into_iter().map(ReviewView::of).collect(),
    }))
}

async fn answer(
    replies: &Replies,
    projections: &ProjectionRunner,
    caller: &Caller,
    path: &str,
    verdict: impl FnOnce() -> Result<Verdict, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(path)?;
    found(projections, id)?;
    let review = replies.judge(&caller.name, id, verdict()?).await?;
    Ok(HttpResponse::Ok().json(ReviewView::of(review)))
}

/// Approve the reply: the outbox sends it.
#[utoipa::path(
    tag = "review",
    params(("id" = String, Path, description = "Reply id (UUID)")),
    responses(
        (status = 200, body = ReviewView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your review", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not in review", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/reviews/{id}/approve")]
pub async fn approve(
    replies: web::Data<Replies>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    answer(&replies, &projections, &caller, &path, || {
        Ok(Verdict::Approve)
    })
    .await
}

/// Why the reply goes back to its author.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevisionBody {
    /// What to change (not blank, at most 10000 characters).
    pub comment: String,
}

/// Return the reply to its author for revision, with a comment: it appears on their desktop
/// and event stream, and comes back into review when released again.
#[utoipa::path(
    tag = "review",
    params(("id" = String, Path, description = "Reply id (UUID)")),
    request_body = RevisionBody,
    responses(
        (status = 200, body = ReviewView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your review", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not in review", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/reviews/{id}/return")]
pub async fn give_back(
    replies: web::Data<Replies>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<RevisionBody>,
) -> Result<HttpResponse, ApiError> {
    let comment = body.0.comment;
    answer(&replies, &projections, &caller, &path, || {
        Ok(Verdict::Return { comment })
    })
    .await
}

/// The reply as the reviewer corrects it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    /// The corrected text (not blank, at most 100000 characters).
    pub text: String,
    /// An HTML alternative (at most 500000 characters).
    pub html: Option<String>,
}

/// Edit the reply and approve it: the edited text is sent, and the history shows the change as
/// a line diff.
#[utoipa::path(
    tag = "review",
    params(("id" = String, Path, description = "Reply id (UUID)")),
    request_body = EditBody,
    responses(
        (status = 200, body = ReviewView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your review", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not in review, or no mail server configured", body = Problem),
        (status = 422, body = Problem),
        (status = 503, description = "The content store cannot be read now", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/reviews/{id}/edit")]
pub async fn edit(
    replies: web::Data<Replies>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<EditBody>,
) -> Result<HttpResponse, ApiError> {
    let EditBody { text, html } = body.0;
    answer(&replies, &projections, &caller, &path, || {
        Ok(Verdict::Edit { text, html })
    })
    .await
}

/// Who reviews it instead.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignBody {
    /// An agent flagged reviewer, not the reply's author.
    pub reviewer: String,
}

/// Pass the review to another reviewer (its reviewer, or a supervisor for any review).
#[utoipa::path(
    tag = "review",
    params(("id" = String, Path, description = "Reply id (UUID)")),
    request_body = ReassignBody,
    responses(
        (status = 200, body = ReviewView),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, description = "Not your review, or the author", body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "Not in review", body = Problem),
        (status = 422, description = "Not an agent flagged reviewer", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/reviews/{id}/reassign")]
pub async fn reassign(
    replies: web::Data<Replies>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ReassignBody>,
) -> Result<HttpResponse, ApiError> {
    let name = body.0.reviewer;
    let supervising = matches!(caller.role, Role::Supervisor | Role::Admin);
    answer(&replies, &projections, &caller, &path, || {
        let (to, _) = agent_named(&projections, "reviewer", &name)?;
        let flagged = projections.read(|p| {
            p.agents
                .get(&to)
                .and_then(|a| a.profile.as_ref())
                .is_some_and(|pr| pr.reviewer)
        });
        if !flagged {
            return Err(ApiError::Unprocessable(format!(
                "reviewer: {to} is not flagged reviewer"
            )));
        }
        Ok(Verdict::Reassign { to, supervising })
    })
    .await
}
