//! Liveness and readiness.

use super::views::{Health, Readiness};
use crate::events::EventStore;
use crate::projections::runner::StartKind;
use crate::startup::Engine;
use actix_web::{get, web, HttpResponse};

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Ready to take traffic: the log writer works and the projections are close to the log.
#[utoipa::path(
    tag = "health",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness))
)]
#[get("/readyz")]
pub async fn readyz(engine: web::Data<Engine>) -> HttpResponse {
    let head = engine.storage.store.head();
    let checkpoint = engine.projections.checkpoint();
    let lag = head.saturating_sub(checkpoint);
    let ready = !engine.storage.store.writer_failed() && lag < 10_000;
    let body = Readiness {
        ready,
        log_head: head,
        projections_checkpoint: checkpoint,
        projections_lag: lag,
        projections_start: match engine.projections.start_kind {
            StartKind::FromSnapshot { .. } => "snapshot",
            StartKind::Rebuilt => "rebuilt",
        },
        active_actors: engine.registry.active(),
        interactions: engine.projections.read(|p| p.cache.len()),
        mailboxes: crate::actors::ingest::snapshot(&engine.mail_status),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
