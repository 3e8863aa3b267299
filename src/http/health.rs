//! Liveness and readiness.

use super::views::{Health, Readiness};
use crate::actors::Interactions;
use crate::events::EventStore;
use crate::mail::imap::{snapshot, Statuses};
use crate::projections::runner::StartKind;
use crate::projections::ProjectionRunner;
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
pub async fn readyz(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    interactions: web::Data<Interactions>,
    mailboxes: web::Data<Statuses>,
) -> HttpResponse {
    let head = log.head();
    let checkpoint = projections.checkpoint();
    let lag = head.saturating_sub(checkpoint);
    let ready = log.writable() && lag < 10_000;
    let body = Readiness {
        ready,
        log_head: head,
        projections_checkpoint: checkpoint,
        projections_lag: lag,
        projections_start: match projections.start_kind {
            StartKind::FromSnapshot { .. } => "snapshot",
            StartKind::Rebuilt => "rebuilt",
        },
        active_actors: interactions.active(),
        interactions: projections.read(|p| p.cache.len()),
        mailboxes: snapshot(&mailboxes),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
