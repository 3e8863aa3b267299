//! `GET /metrics`: the Prometheus text format (see `crate::metrics`).

use super::queues::ConfiguredQueues;
use crate::events::EventStore;
use crate::metrics::{ANSWERS_TO_DECIDE, LOG_HEAD, OUTBOX, PROJECTION_LAG, QUEUE_DEPTH};
use crate::projections::ProjectionRunner;
use actix_web::{get, web, HttpResponse};
use metrics_exporter_prometheus::PrometheusHandle;

/// Metrics in the Prometheus text format: events appended and the log's write latency, messages
/// ingested per mailbox, web forms, the log head, projection lag, queue depths; the outbox
/// (pending, retrying, failed; sent and failed attempts) and automatic answers (composed,
/// suppressed by reason, waiting for the loop policy).
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "Prometheus text exposition format",
        content_type = "text/plain", body = String)),
    security(("bearer" = []))
)]
#[get("/metrics")]
pub async fn scrape(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    configured: web::Data<ConfiguredQueues>,
    handle: web::Data<PrometheusHandle>,
) -> HttpResponse {
    // State, as it is now.
    let head = log.head();
    metrics::gauge!(LOG_HEAD).set(head as f64);
    metrics::gauge!(PROJECTION_LAG).set(head.saturating_sub(projections.checkpoint()) as f64);
    for q in super::queues::summaries(&projections, &configured.0) {
        metrics::gauge!(QUEUE_DEPTH, "queue" => q.name).set(q.depth as f64);
    }
    let o = projections.read(|p| p.outgoing.summary());
    for (state, n) in [
        ("pending", o.pending - o.retrying),
        ("retrying", o.retrying),
        ("failed", o.failed),
    ] {
        metrics::gauge!(OUTBOX, "state" => state).set(n as f64);
    }
    metrics::gauge!(ANSWERS_TO_DECIDE).set(o.answers_to_decide as f64);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render())
}
