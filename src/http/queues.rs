//! Queue depths and ordered contents.

use super::problem::{ApiError, Problem};
use super::views::{
    rfc3339_millis, OldestWaiting, QueueItem, QueueServiceLevel, QueueSummary, QueueView,
    ServiceLevelView, TargetsView,
};
use crate::domain::service_level::{standings, Standing};
use crate::domain::{InteractionId, Millis, QueueName};
use crate::projections::ProjectionRunner;
use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The queue a path names: 404 when no queue could be named so.
fn queue_named(path: &str) -> Result<QueueName, ApiError> {
    QueueName::parse(path).map_err(|_| ApiError::NotFound(format!("no queue named {path:?}")))
}

/// `part` of `whole` in percent, to two decimals; none of nothing.
fn percent(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 10_000.0 / whole as f64).round() / 100.0)
}

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
    let name = queue_named(&path)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let configured = configured.0.contains(&name);
    let now = crate::app::now();
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
                    service_level: s
                        .service_level
                        .as_ref()
                        .map(|sla| ServiceLevelView::of(sla, now)),
                });
            }
        }
        let w = waiting(p, &name, now);
        Some(QueueView {
            name: name.to_string(),
            depth,
            at_risk: w.at_risk,
            breached: w.breached,
            items,
        })
    });
    match view {
        Some(v) => Ok(HttpResponse::Ok().json(v)),
        None if configured => Ok(HttpResponse::Ok().json(QueueView {
            name: name.to_string(),
            depth: 0,
            at_risk: 0,
            breached: 0,
            items: vec![],
        })),
        None => Err(ApiError::NotFound(format!("no queue named {name}"))),
    }
}

/// What waits in a queue now, by where its service level stands.
struct Waiting {
    waiting: usize,
    at_risk: usize,
    breached: usize,
    oldest: Option<(Millis, InteractionId)>,
}

/// Counts a queue's waiting interactions at risk of missing a target, or past one (the worse of
/// an interaction's two targets counts), and finds the oldest.
fn waiting(p: &crate::projections::Projections, queue: &QueueName, now: Millis) -> Waiting {
    let mut w = Waiting {
        waiting: 0,
        at_risk: 0,
        breached: 0,
        oldest: None,
    };
    for entry in p.queues.contents(queue).into_iter().flatten() {
        w.waiting += 1;
        if w.oldest.is_none_or(|(since, _)| entry.since < since) {
            w.oldest = Some((entry.since, entry.id));
        }
        let standing = p
            .cache
            .get(&entry.id)
            .and_then(|s| s.service_level.map(|sla| standings(&sla, now).2));
        match standing {
            Some(Standing::AtRisk) => w.at_risk += 1,
            Some(Standing::Breached) => w.breached += 1,
            _ => {}
        }
    }
    w
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    /// The window answers are counted over, ending now, in seconds (60 to 31622400, default
    /// 86400: the last day).
    pub window_secs: Option<u64>,
}

/// A queue's service level: its targets, what waits now (at risk, breached, the oldest), and
/// the share of first responses made in time over a window.
#[utoipa::path(
    tag = "queues",
    params(("name" = String, Path, description = "Queue name"), WindowQuery),
    responses(
        (status = 200, body = QueueServiceLevel),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/queues/{name}/service-level")]
pub async fn service_level(
    projections: web::Data<ProjectionRunner>,
    configured: web::Data<ConfiguredQueues>,
    reloader: web::Data<crate::app::reload::Reloader>,
    path: web::Path<String>,
    query: web::Query<WindowQuery>,
) -> Result<HttpResponse, ApiError> {
    let name = queue_named(&path)?;
    let window = query.window_secs.unwrap_or(86_400);
    if !(60..=31_622_400).contains(&window) {
        return Err(ApiError::BadRequest(
            "window_secs must be between 60 and 31622400".into(),
        ));
    }
    let process = reloader.process.current();
    let targets = process.workflow.service_levels.by_queue.get(&name);
    let known = configured.0.contains(&name) || targets.is_some();
    let now = crate::app::now();
    let view = projections.read(|p| {
        if !known && p.queues.depth(&name).is_none() {
            return None;
        }
        let Waiting {
            waiting,
            at_risk,
            breached,
            oldest,
        } = waiting(p, &name, now);
        let from = Millis(now.0 - window as i64 * 1000);
        let (answered, within) = p.service_levels.answered(&name, from, now);
        Some(QueueServiceLevel {
            queue: name.to_string(),
            targets: targets.map(|t| TargetsView {
                first_response_secs: t.first_response_secs,
                resolution_secs: t.resolution_secs,
                at_risk_percent: t.at_risk_percent,
                escalate_priority: t.escalate_priority,
            }),
            waiting,
            at_risk,
            breached,
            oldest_waiting: oldest.map(|(since, id)| OldestWaiting {
                interaction_id: id.to_string(),
                waiting_since: rfc3339_millis(since),
                waited_secs: ((now.0 - since.0).max(0) / 1000) as u64,
            }),
            window_secs: window,
            answered,
            answered_within_target: within,
            percent_within_target: percent(within, answered),
        })
    });
    view.map(|v| HttpResponse::Ok().json(v))
        .ok_or_else(|| ApiError::NotFound(format!("no queue named {name}")))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TrendQuery {
    /// How far back, in hours (1 to 168, default 8).
    pub hours: Option<u32>,
    /// The length of one step, in seconds: whole minutes, 60 to 3600 (default 300). The last
    /// step ends with the current minute.
    pub step_secs: Option<u32>,
}

/// One step of a queue's trend.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendPoint {
    /// The step's start.
    pub at: String,
    /// How many waited at the step's end.
    pub depth: u32,
    /// The most that waited during the step.
    pub max_depth: u32,
    /// First responses made during the step, and how many in time.
    pub answered: usize,
    pub answered_within_target: usize,
    /// Of those answered, the share in time (absent when none were).
    pub percent_within_target: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueTrendView {
    pub queue: String,
    pub hours: u32,
    pub step_secs: u32,
    /// Oldest first; the last step ends now.
    pub points: Vec<TrendPoint>,
}

/// A queue's depth and service level over the last hours, step by step: what a wall screen's
/// charts draw.
#[utoipa::path(
    tag = "queues",
    params(("name" = String, Path, description = "Queue name"), TrendQuery),
    responses(
        (status = 200, body = QueueTrendView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/queues/{name}/trend")]
pub async fn trend(
    projections: web::Data<ProjectionRunner>,
    configured: web::Data<ConfiguredQueues>,
    path: web::Path<String>,
    query: web::Query<TrendQuery>,
) -> Result<HttpResponse, ApiError> {
    let name = queue_named(&path)?;
    let hours = query.hours.unwrap_or(8);
    let step_secs = query.step_secs.unwrap_or(300);
    if !(1..=168).contains(&hours) {
        return Err(ApiError::BadRequest(
            "hours must be between 1 and 168".into(),
        ));
    }
    if !(60..=3600).contains(&step_secs) || !step_secs.is_multiple_of(60) {
        return Err(ApiError::BadRequest(
            "step_secs must be whole minutes between 60 and 3600".into(),
        ));
    }
    let step_ms = i64::from(step_secs) * 1000;
    let count = (i64::from(hours) * 3_600_000).div_euclid(step_ms).max(1) as usize;
    // Steps of whole minutes (the series' grain), the last ending with the current minute.
    let end = (crate::app::now().0.div_euclid(60_000) + 1) * 60_000;
    let from = Millis(end - step_ms * count as i64);
    let view = projections.read(|p| {
        let known =
            configured.0.contains(&name) || p.queues.depth(&name).is_some() || p.trend.knows(&name);
        known.then(|| QueueTrendView {
            queue: name.to_string(),
            hours,
            step_secs,
            points: p
                .trend
                .series(&name, from, step_ms, count)
                .into_iter()
                .map(|s| {
                    let end = Millis(s.start.0 + step_ms - 1);
                    let (answered, within) = p.service_levels.answered(&name, s.start, end);
                    TrendPoint {
                        at: rfc3339_millis(s.start),
                        depth: s.depth,
                        max_depth: s.max_depth,
                        answered,
                        answered_within_target: within,
                        percent_within_target: percent(within, answered),
                    }
                })
                .collect(),
        })
    });
    view.map(|v| HttpResponse::Ok().json(v))
        .ok_or_else(|| ApiError::NotFound(format!("no queue named {name}")))
}
