//! The audit log API: the events, filtered and paginated, for auditors.

use super::problem::{ApiError, Problem};
use super::views::AuditPage;
use crate::events::export;
use crate::events::query::{page, AuditFilter, FilterText};
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

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
        })
        .map_err(ApiError::BadRequest)
    }
}

/// The append-only log, filtered by stream/interaction, principal, type and time, by position.
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
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
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
