//! An interaction's internal notes, in the order they were written: what an owner asked a
//! consulted colleague, the colleague's contributions and the consultation's end, the note a
//! transfer carried, the reason work was handed back to a queue. Never sent to the customer; the
//! desktop shows them beside the thread.

use super::interactions::parse_id;
use super::problem::{ApiError, Problem};
use super::views::rfc3339_millis;
use crate::domain::interaction::{Interaction, InteractionEvent as E, TransferTarget};
use crate::events::aggregate::events_of;
use crate::events::EventStore;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Note {
    /// `question` (a consultation asked), `contribution`, `consultation_ended`, `transfer`,
    /// `returned` (handed back to a queue).
    pub kind: &'static str,
    /// Who wrote it (or ended the consultation).
    pub by: String,
    /// To whom: the consultant asked, the colleague or queue transferred to (else absent).
    pub to: Option<String>,
    /// The text (empty when none was given).
    pub text: String,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotesView {
    pub interaction_id: String,
    pub notes: Vec<Note>,
}

fn note(
    kind: &'static str,
    by: &str,
    to: Option<String>,
    text: &str,
    at: crate::domain::Millis,
) -> Note {
    Note {
        kind,
        by: by.to_string(),
        to,
        text: text.to_string(),
        at: rfc3339_millis(at),
    }
}

/// The interaction's internal notes, oldest first.
#[utoipa::path(
    tag = "interactions",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = NotesView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/notes")]
pub async fn get_notes(
    log: web::Data<dyn EventStore>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let events = events_of::<Interaction>(log.as_ref(), &id)?;
    if events.is_empty() {
        return Err(ApiError::NotFound(format!("no interaction {id}")));
    }
    let notes = events
        .iter()
        .filter_map(|e| match e {
            E::ConsultationStarted(c) => Some(note(
                "question",
                c.owner.as_str(),
                Some(c.consultant.to_string()),
                &c.note,
                c.at,
            )),
            E::ConsultationContributed(c) => Some(note(
                "contribution",
                c.consultant.as_str(),
                None,
                &c.text,
                c.at,
            )),
            E::ConsultationEnded(c) => Some(note(
                "consultation_ended",
                c.ended_by.as_str(),
                Some(c.consultant.to_string()),
                "",
                c.at,
            )),
            E::InteractionTransferred(t) => Some(note(
                "transfer",
                t.from_agent.as_str(),
                Some(match &t.target {
                    TransferTarget::Agent { agent, .. } => agent.to_string(),
                    TransferTarget::Queue { queue } => queue.to_string(),
                }),
                &t.note,
                t.at,
            )),
            E::ReturnedToQueue(r) => Some(note(
                "returned",
                r.agent.as_str(),
                Some(r.queue.to_string()),
                &r.reason,
                r.at,
            )),
            _ => None,
        })
        .collect();
    Ok(HttpResponse::Ok().json(NotesView {
        interaction_id: id.to_string(),
        notes,
    }))
}
