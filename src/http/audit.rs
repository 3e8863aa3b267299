//! The audit log API: the events, filtered and paginated, for auditors.

use super::problem::{ApiError, Problem};
use super::views::AuditPage;
use crate::domain::interaction::AutoAnswer;
use crate::events::export;
use crate::events::query::{page, AuditFilter, FilterText};
use crate::projections::ProjectionRunner;
use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// A stream name, e.g. `interaction-<uuid>` or `user-<name>`.
    pub stream: Option<String>,
    /// An interaction id (shorthand for its stream).
    pub interaction: Option<String>,
    /// `customer:<address>`, `user:<name>` or `system:<component>`.
    pub principal: Option<String>,
    /// An event type name, e.g. `InteractionReceived`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Recorded at or after this RFC 3339 time.
    pub from: Option<String>,
    /// Recorded before this RFC 3339 time.
    pub to: Option<String>,
    /// A kind of action: `intervention` (supervisors' moves, priorities, assignments, stops,
    /// attribute edits, reassigned reviews) or `review` (QA decisions and outcomes).
    pub kind: Option<String>,
    /// Messages sent to this address (`ReplySent` of every reply and answer to it).
    pub recipient: Option<String>,
    /// Only events after this position (pagination cursor; default 0).
    pub after: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<usize>,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, ApiError> {
        AuditFilter::parse(&FilterText {
            stream: self.stream.clone(),
            interaction: self.interaction.clone(),
            principal: self.principal.clone(),
            event_type: self.event_type.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            kind: self.kind.clone(),
            recipient: self.recipient.clone(),
        })
        .map_err(ApiError::BadRequest)
    }
}

/// The streams of the replies and automatic answers to `recipient` (normalised), from the
/// projections: the contact's interactions and what answered each.
fn streams_to(projections: &ProjectionRunner, recipient: &str) -> BTreeSet<String> {
    projections.read(|p| {
        let Some(contact) = p.contacts.by_email(recipient) else {
            return BTreeSet::new();
        };
        let mut out = BTreeSet::new();
        for (_, id) in &contact.interactions {
            let Some(s) = p.cache.get(id) else { continue };
            out.extend(s.replies.iter().map(|r| r.stream()));
            if let Some(AutoAnswer::Answered { reply, .. }) = s.auto_answer {
                out.insert(reply.stream());
            }
        }
        out
    })
}

/// The append-only log, filtered by stream/interaction, principal, type, kind, recipient and
/// time, by position.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/audit/events")]
pub async fn list_events(
    log: web::Data<dyn crate::events::EventStore>,
    projections: web::Data<ProjectionRunner>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut filter = query.filter()?;
    if let Some(r) = &filter.recipient {
        filter.streams = Some(streams_to(&projections, r));
    }
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let store = log.into_inner();
    let after = query.after.unwrap_or(0);
    if after > i64::MAX as u64 {
        return Err(ApiError::BadRequest(format!(
            "after must be at most {}",
            i64::MAX
        )));
    }
    let head = crate::events::EventStore::head(store.as_ref());
    // Scanning reads from disk: keep it off the async workers.
    let result = web::block(move || page(store.as_ref(), &filter, after, limit, 200_000))
        .await
        .map_err(|e| ApiError::internal("audit scan", e))??;
    Ok(HttpResponse::Ok().json(AuditPage {
        events: result.events.iter().map(export::to_json).collect(),
        next_after: result.next_after,
        head,
    }))
}

/// The whole chain verified: every event's hash and every link to the one before.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyView {
    /// Every hash and link holds.
    pub ok: bool,
    pub events: u64,
    pub links: u64,
    pub first_position: Option<u64>,
    pub last_position: Option<u64>,
    pub last_hash: Option<String>,
    /// The first place that does not verify (`position N`), and why.
    pub failure: Option<String>,
}

/// Verifies the whole log's hash chain now (the answer is 200 either way; `ok` says which).
#[utoipa::path(
    tag = "audit",
    responses(
        (status = 200, body = VerifyView),
        (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/audit/verify")]
pub async fn verify(
    log: web::Data<dyn crate::events::EventStore>,
) -> Result<HttpResponse, ApiError> {
    let store = log.into_inner();
    let report = web::block(move || export::verify_store(store.as_ref(), |_| {}))
        .await
        .map_err(|e| ApiError::internal("audit verify", e))?;
    let view = match report {
        Ok(r) => VerifyView {
            ok: true,
            events: r.events,
            links: r.links,
            first_position: r.first_position,
            last_position: r.last_position,
            last_hash: r.last_hash,
            failure: None,
        },
        Err(e) => VerifyView {
            ok: false,
            events: 0,
            links: 0,
            first_position: None,
            last_position: None,
            last_hash: None,
            failure: Some(e.to_string()),
        },
    };
    Ok(HttpResponse::Ok().json(view))
}
