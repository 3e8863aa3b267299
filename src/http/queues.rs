//! Queue depths and ordered contents.

use super::problem::{ApiError, Problem};
use super::views::{rfc3339_millis, QueueItem, QueueSummary, QueueView};
use crate::domain::QueueName;
use crate::projections::ProjectionRunner;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;

/// The queues the configuration names (shown even when empty).
pub struct ConfiguredQueues(pub Vec<QueueName>);

/// Every queue with its depth.
#[utoipa::path(
    tag = "queues",
    responses((status = 200, body = Vec<QueueSummary>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[get("/queues")]
pub async fn list_queues(
    projections: web::Data<ProjectionRunner>,
    configured: web::Data<ConfiguredQueues>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(summaries(&projections, &configured.0)))
}

/// Every queue with its depth: those the projections hold and every configured one (empty or
/// not), by name.
pub fn summaries(projections: &ProjectionRunner, configured: &[QueueName]) -> Vec<QueueSummary> {
    let mut out: Vec<QueueSummary> = projections.read(|p| {
        p.queues
            .depths()
            .into_iter()
            .map(|(q, depth)| QueueSummary {
                configured: configured.contains(&q),
                name: q.to_string(),
                depth,
            })
            .collect()
    });
    for q in configured {
        if !out.iter().any(|s| s.name == q.as_str()) {
            out.push(QueueSummary {
                name: q.to_string(),
                depth: 0,
                configured: true,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// How many items to list (1 to 1000, default 100); `depth` always counts all.
    pub limit: Option<usize>,
}

/// One queue's contents in routing order.
#[utoipa::path(
    tag = "queues",
    params(("name" = String, Path, description = "Queue name"), QueueQuery),
    responses(
        (status = 200, body = QueueView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/queues/{name}")]
pub async fn get_queue(
    projections: web::Data<ProjectionRunner>,
    configured: web::Data<ConfiguredQueues>,
    path: web::Path<String>,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    // A name that cannot be a queue's names no queue.
    let name = QueueName::parse(&path)
        .map_err(|_| ApiError::NotFound(format!("no queue named {:?}", path.as_str())))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let configured = configured.0.contains(&name);
    let view = projections.read(|p| {
        let depth = p.queues.depth(&name)?;
        let mut items = Vec::new();
        for (i, entry) in p.queues.contents(&name)?.take(limit).enumerate() {
            if let Some(s) = p.cache.get(&entry.id) {
                items.push(QueueItem {
                    rank: i + 1,
                    interaction_id: entry.id.to_string(),
                    priority: s.priority,
                    waiting_since: rfc3339_millis(entry.since),
                    status: s.status.name(),
                    locked: s.status.is_locked_by_routing(),
                    from: s.from.clone(),
                    subject: s.subject.clone(),
                });
            }
        }
        Some(QueueView {
            name: name.to_string(),
            depth,
            items,
        })
    });
    match view {
        Some(v) => Ok(HttpResponse::Ok().json(v)),
        None if configured => Ok(HttpResponse::Ok().json(QueueView {
            name: name.to_string(),
            depth: 0,
            items: vec![],
        })),
        None => Err(ApiError::NotFound(format!("no queue named {name}"))),
    }
}
