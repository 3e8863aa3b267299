//! Liveness and readiness.

use super::auth::authenticate;
use super::problem::ApiError;
use super::views::{Health, NotReadyReason, Readiness, ReadinessDetails};
use crate::actors::Interactions;
use crate::events::EventStore;
use crate::mail::imap::{snapshot, Statuses};
use crate::projections::runner::StartKind;
use crate::projections::ProjectionRunner;
use actix_web::{get, http::header, web, HttpRequest, HttpResponse};

/// Whether the server sends mail: `None` when it does, else why not (for `/readyz`).
#[derive(Debug, Clone)]
pub struct Sending(pub Option<String>);

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Ready to take traffic: the log writer works, the projections are close to the log, and every
/// mailbox can do its work (none has a permanent error, such as a refused login, or cannot move
/// what it records). Without a token the answer is whether, and if not why in one word
/// (`log`, `projections`, `mailbox`); with a bearer token of any role it carries the details,
/// among them each mailbox's state and last error, whether mail goes out (`sending`: only with
/// `[smtp]`; `notes` says why not) and the outbox.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, body = Readiness),
        (status = 503, body = Readiness),
        (status = 401, content_type = "application/problem+json", body = super::problem::Problem,
            description = "A token was sent and is not valid"),
    ),
    security((), ("bearer" = []))
)]
#[get("/readyz")]
pub async fn readyz(
    req: HttpRequest,
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    interactions: web::Data<Interactions>,
    mailboxes: web::Data<Statuses>,
    sending: web::Data<Sending>,
) -> Result<HttpResponse, ApiError> {
    // A token that is sent must be valid; none is fine.
    let detailed = if req.headers().contains_key(header::AUTHORIZATION) {
        authenticate(&req)?;
        true
    } else {
        false
    };
    let head = log.head();
    let checkpoint = projections.checkpoint();
    let lag = head.saturating_sub(checkpoint);
    let mailboxes = snapshot(&mailboxes);
    let mut not_ready = Vec::new();
    let mut reason = None;
    if !log.writable() {
        not_ready.push("the log is not writable".to_string());
        reason = reason.or(Some(NotReadyReason::Log));
    }
    if lag >= 10_000 {
        not_ready.push(format!("the projections are {lag} events behind the log"));
        reason = reason.or(Some(NotReadyReason::Projections));
    }
    let mut names: Vec<&String> = mailboxes.keys().collect();
    names.sort();
    for name in names {
        if let Some(why) = mailboxes
            .get(name)
            .and_then(|m| m.not_ready_reason.as_ref())
        {
            not_ready.push(format!("mailbox {name}: {why}"));
            reason = reason.or(Some(NotReadyReason::Mailbox));
        }
    }
    let ready = reason.is_none();
    let notes: Vec<String> = sending.0.iter().cloned().collect();
    let details = detailed.then(|| ReadinessDetails {
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
        sending: sending.0.is_none(),
        notes,
        outbox: projections.read(|p| p.outgoing.summary()).into(),
    });
    let body = Readiness {
        ready,
        reason,
        details,
    };
    Ok(if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    })
}
