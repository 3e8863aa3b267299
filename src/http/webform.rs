//! The public web form: a customer's message becomes an inbound interaction.

use super::problem::{ApiError, Problem};
use super::views::Accepted;
use crate::actors::CommandEnvelope;
use crate::domain::interaction::{Channel, InteractionCommand};
use crate::domain::{EmailAddress, InteractionId, Principal};
use crate::startup::{now, Engine};
use actix_web::{post, web, HttpResponse};
use serde::Deserialize;
use std::time::Duration;
use tracing::Instrument;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebformRequest {
    /// The customer's e-mail address.
    pub from: String,
    /// The customer's name, if given.
    pub name: Option<String>,
    pub subject: String,
    pub body: String,
}

/// A web-form submission, checked: what the engine may trust.
struct Submission {
    from: EmailAddress,
    name: Option<String>,
    subject: String,
    body: String,
}

fn one_line(field: &str, value: &str, max_chars: usize) -> Result<(), ApiError> {
    if value.contains(['\r', '\n']) {
        return Err(ApiError::Unprocessable(format!(
            "{field} must be a single line (no CR or LF)"
        )));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ApiError::Unprocessable(format!(
            "{field} contains control characters"
        )));
    }
    if value.chars().count() > max_chars {
        return Err(ApiError::Unprocessable(format!(
            "{field} is longer than {max_chars} characters"
        )));
    }
    Ok(())
}

impl Submission {
    fn parse(req: WebformRequest, engine: &Engine) -> Result<Submission, ApiError> {
        let limits = &engine.settings.webform;
        let from = EmailAddress::parse(&req.from)
            .map_err(|e| ApiError::Unprocessable(format!("from: {e}")))?;
        let name = req
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if let Some(n) = &name {
            one_line("name", n, 200)?;
        }
        let subject = req.subject.trim().to_string();
        one_line("subject", &subject, limits.max_subject_chars)?;
        if req.body.len() > limits.max_body_bytes {
            return Err(ApiError::PayloadTooLarge(format!(
                "body is larger than {} bytes",
                limits.max_body_bytes
            )));
        }
        if req.body.trim().is_empty() {
            return Err(ApiError::Unprocessable("body must not be empty".into()));
        }
        if req.body.contains('\0') {
            return Err(ApiError::Unprocessable(
                "body contains a NUL character".into(),
            ));
        }
        Ok(Submission {
            from,
            name,
            subject,
            body: req.body,
        })
    }
}

/// Submit a web form. Answers 202 once the interaction is durably recorded and queued.
#[utoipa::path(
    tag = "webform",
    request_body = WebformRequest,
    responses(
        (status = 202, description = "Recorded durably", body = Accepted),
        (status = 400, description = "Not JSON", body = Problem),
        (status = 413, description = "Too large", body = Problem),
        (status = 415, description = "Not application/json", body = Problem),
        (status = 422, description = "Invalid field", body = Problem),
        (status = 503, description = "The log cannot write now", body = Problem),
    )
)]
#[post("/webform")]
pub async fn submit(
    engine: web::Data<Engine>,
    body: super::JsonBody<WebformRequest>,
) -> Result<HttpResponse, ApiError> {
    let s = Submission::parse(body.0, &engine)?;
    let id = InteractionId::from_uuid(uuid::Uuid::now_v7());
    let span = tracing::info_span!("webform", interaction_id = %id);
    // The body goes to the content store; the event carries its hash. Both reach the disk in the
    // append's flush.
    let content = engine.storage.content.put(s.body.as_bytes())?;
    let at = now();
    // The thread-token rule of e-mail: a token in the subject joins that thread, if the thread is
    // this contact's. (A form that matches nothing starts its own thread: no link is recorded.)
    let thread = engine
        .projections
        .read(|p| p.find_thread(id, &[], &s.subject, &s.from.normalised()))
        .into_matched();
    let receive = CommandEnvelope::new(
        InteractionCommand::Receive {
            channel: Channel::WebForm,
            from: s.from.clone(),
            from_name: s.name,
            subject: s.subject,
            content: Some(content),
            priority: 0,
            message: None,
            thread,
            at,
        },
        Principal::Customer(s.from.as_str().to_string()),
    );
    // On a task of its own: a client that hangs up must not stop the workflow between receiving
    // and queuing (the periodic sweep in startup catches whatever still ends up received).
    let flow = {
        let engine = engine.clone();
        async move {
            let position = engine
                .workflow
                .accept(&engine.registry, id, receive, at)
                .await?;
            // Read-your-writes: a GET right after this answer finds the interaction.
            engine
                .projections
                .wait_for(position, Duration::from_secs(2))
                .await;
            tracing::info!("web form accepted");
            Ok::<_, crate::actors::EngineError>(())
        }
        .instrument(span)
    };
    actix_web::rt::spawn(flow)
        .await
        .map_err(|e| ApiError::internal("web form task", e))??;
    Ok(HttpResponse::Accepted().json(Accepted {
        interaction_id: id.to_string(),
    }))
}
