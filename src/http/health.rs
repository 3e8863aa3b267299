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

/// Ready to take traffic: the log writer works, the projections are close to the log, and every
/// mailbox can do its work (none has a permanent error or cannot move what it records).
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
    let mailboxes = snapshot(&mailboxes);
    let mut not_ready = Vec::new();
    if !log.writable() {
        not_ready.push("the log is not writable".to_string());
    }
    if lag >= 10_000 {
        not_ready.push(format!("the projections are {lag} events behind the log"));
    }
    let mut names: Vec<&String> = mailboxes.keys().collect();
    names.sort();
    for name in names {
        if let Some(why) = mailboxes
            .get(name)
            .and_then(|m| m.not_ready_reason.as_ref())
        {
            not_ready.push(format!("mailbox {name}: {why}"));
        }
    }
    let ready = not_ready.is_empty();
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
        mailboxes,
        not_ready,
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
