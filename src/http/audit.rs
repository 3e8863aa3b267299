//! The audit log API: the events, filtered and paginated, for auditors.

use super::auth::Caller;
use super::problem::{ApiError, Problem};
use super::views::AuditPage;
use crate::domain::user::Role;
use crate::domain::Principal;
use crate::events::export;
use crate::events::query::{page, AuditFilter};
use crate::startup::Engine;
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

/// Parses an RFC 3339 time into microseconds since the epoch.
pub fn parse_time(field: &str, s: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1000) as i64)
        .map_err(|_| format!("{field}: {s:?} is not an RFC 3339 time such as 2026-11-24T09:00:00Z"))
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, ApiError> {
        let bad = ApiError::BadRequest;
        let stream = match (&self.stream, &self.interaction) {
            (Some(_), Some(_)) => return Err(bad("give stream or interaction, not both".into())),
            (Some(s), None) => Some(s.clone()),
            (None, Some(i)) => Some(super::interactions::parse_id(i)?.stream()),
            (None, None) => None,
        };
        let principal = match &self.principal {
            Some(p) => Some(Principal::from_label(p).ok_or_else(|| {
                bad(format!(
                    "principal: {p:?} is not customer:<address>, user:<name> or system:<component>"
                ))
            })?),
            None => None,
        };
        let from_micros = self
            .from
            .as_deref()
            .map(|s| parse_time("from", s))
            .transpose()
            .map_err(bad)?;
        let to_micros = self
            .to
            .as_deref()
            .map(|s| parse_time("to", s))
            .transpose()
            .map_err(bad)?;
        Ok(AuditFilter {
            stream,
            principal,
            event_type: self.event_type.clone(),
            from_micros,
            to_micros,
        })
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
    engine: web::Data<Engine>,
    caller: Caller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Auditor])?;
    let filter = query.filter()?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let store = engine.storage.store.clone();
    let after = query.after.unwrap_or(0);
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
