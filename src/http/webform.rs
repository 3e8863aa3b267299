//! The public web form: a customer's message becomes an inbound interaction.

use super::problem::{ApiError, Problem};
use super::rate_limit::RateLimiter;
use super::views::Accepted;
use crate::actors::CommandEnvelope;
use crate::app::now;
use crate::app::receive::{Inbound, Receiver};
use crate::domain::header::HeaderText;
use crate::domain::interaction::{Channel, InteractionCommand, MessageStored, StoredAttachment};
use crate::domain::screening::Input;
use crate::domain::workflow::Analysis;
use crate::domain::{EmailAddress, InteractionId, Principal};
use crate::projections::ProjectionRunner;
use crate::settings::WebformSettings;
use crate::storage::ContentBatch;
use actix_web::{post, web, FromRequest, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::time::Duration;
use tracing::Instrument;
use utoipa::ToSchema;

/// The form's limits and its per-client rate limiter.
pub struct WebformPolicy {
    pub limits: WebformSettings,
    pub limiter: RateLimiter,
}

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

/// The longest name a form may give.
pub const MAX_NAME_CHARS: usize = 200;

/// A web-form submission, checked: what the engine may trust.
struct Submission {
    from: EmailAddress,
    name: Option<String>,
    subject: String,
    body: String,
}

/// The single-line rule every header-derived field follows (`domain::header`), and a length.
fn one_line(field: &str, value: &str, max_chars: usize) -> Result<(), ApiError> {
    HeaderText::parse(value).map_err(|e| ApiError::Unprocessable(format!("{field} {e}")))?;
    if value.chars().count() > max_chars {
        return Err(ApiError::Unprocessable(format!(
            "{field} is longer than {max_chars} characters"
        )));
    }
    Ok(())
}

impl Submission {
    fn parse(req: WebformRequest, limits: &WebformSettings) -> Result<Submission, ApiError> {
        let from = EmailAddress::parse(&req.from)
            .map_err(|e| ApiError::Unprocessable(format!("from: {e}")))?;
        // The rules hold for the text as sent (as the OpenAPI document states them); surrounding
        // white space is then dropped.
        if let Some(n) = &req.name {
            one_line("name", n, MAX_NAME_CHARS)?;
        }
        let name = req
            .name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        one_line("subject", &req.subject, limits.max_subject_chars)?;
        let subject = req.subject.trim().to_string();
        // A form asks what the message is about: an empty (or blank) subject is refused, where an
        // e-mail without one is kept (mail cannot be sent back for a subject).
        if subject.is_empty() {
            return Err(ApiError::Unprocessable("subject must not be empty".into()));
        }
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

/// The same form as multipart/form-data, with files (documentation only).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct WebformUpload {
    pub from: String,
    pub name: Option<String>,
    pub subject: String,
    pub body: String,
    /// Files, each a part named `attachment` with a filename, within the configured count and
    /// size limits.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub attachment: Vec<Vec<u8>>,
}

/// A file sent with the form.
struct Upload {
    name: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// Submit a web form, as JSON or as multipart/form-data with files. Answers 202 once the
/// interaction is durably recorded and queued.
#[utoipa::path(
    tag = "webform",
    request_body(content(
        (WebformRequest = "application/json"),
        (WebformUpload = "multipart/form-data"),
    )),
    responses(
        (status = 202, description = "Recorded durably", body = Accepted),
        (status = 400, description = "Not JSON, or a broken multipart body", body = Problem),
        (status = 413, description = "Too large", body = Problem),
        (status = 415, description = "Neither application/json nor multipart/form-data", body = Problem),
        (status = 422, description = "Invalid field", body = Problem),
        (status = 429, description = "Too many submissions from this client; see Retry-After", body = Problem),
        (status = 503, description = "The log cannot write now", body = Problem),
    )
)]
#[post("/webform")]
pub async fn submit(
    policy: web::Data<WebformPolicy>,
    receiver: web::Data<Receiver>,
    projections: web::Data<ProjectionRunner>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    rate_limit(&policy.limiter, &req)?;
    let (form, uploads) = if is_multipart(&req) {
        read_multipart(&policy.limits, &req, payload).await?
    } else {
        let mut payload = payload.into_inner();
        let body =
            super::json::JsonBody::<WebformRequest>::from_request(&req, &mut payload).await?;
        (body.0, Vec::new())
    };
    let s = Submission::parse(form, &policy.limits)?;
    // Screening and categorisation: CPU work of well under a millisecond (BENCHMARKS.md, 2,658
    // messages/s with 1,000 rules), in the handler.
    let process = receiver.process();
    let analysis = process.analyzer.screen(Input {
        from: match &s.name {
            Some(n) => format!("{n} <{}>", s.from.as_str()),
            None => s.from.as_str().to_string(),
        },
        subject: s.subject.clone(),
        body: s.body.clone(),
        attachments: uploads.iter().map(|u| u.name.clone()).collect(),
        ..Input::default()
    });
    Ok(accept(
        receiver.into_inner(),
        projections.into_inner(),
        s,
        uploads,
        analysis,
        process,
    )
    .await?)
}

/// Counts the submission against its client's budget.
fn rate_limit(limiter: &RateLimiter, req: &HttpRequest) -> Result<(), ApiError> {
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let Some(client) = limiter.client(req.peer_addr().map(|a| a.ip()), &forwarded) else {
        return Ok(());
    };
    limiter
        .check(client, std::time::Instant::now())
        .map_err(|wait| {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::TooManyRequests {
                detail: format!(
                    "too many web-form submissions from this client; try again in {secs} s"
                ),
                retry_after_secs: secs.max(1),
            }
        })
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Reads one part, refusing it once it passes `max` bytes (nothing more is read).
async fn read_part(
    field: &mut actix_multipart::Field,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, ApiError> {
    use futures_util::StreamExt;
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("multipart body: {e}")))?;
        if bytes.len() + chunk.len() > max {
            return Err(ApiError::PayloadTooLarge(format!(
                "{what} is larger than {max} bytes"
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The form's fields and files from a multipart/form-data body, with every limit checked while
/// it streams in.
async fn read_multipart(
    limits: &WebformSettings,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(WebformRequest, Vec<Upload>), ApiError> {
    use futures_util::StreamExt;
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut text: std::collections::HashMap<String, String> = Default::default();
    let mut uploads: Vec<Upload> = Vec::new();
    let mut total = 0usize;
    // Every part counts, empty ones too: a form has its four fields and its files.
    let max_parts = limits.max_attachments + 8;
    let mut seen = 0usize;
    while let Some(field) = parts.next().await {
        seen += 1;
        if seen > max_parts {
            return Err(ApiError::Unprocessable(format!(
                "more than {max_parts} parts in one form"
            )));
        }
        let mut field = field.map_err(|e| ApiError::BadRequest(format!("multipart body: {e}")))?;
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            "from" | "name" | "subject" | "body" => {
                let max = if name == "body" {
                    limits.max_body_bytes
                } else {
                    16 * 1024
                };
                let bytes = read_part(&mut field, max, &name).await?;
                let value = String::from_utf8(bytes)
                    .map_err(|_| ApiError::Unprocessable(format!("{name} is not UTF-8 text")))?;
                if text.insert(name.clone(), value).is_some() {
                    return Err(ApiError::Unprocessable(format!("{name} is given twice")));
                }
            }
            "attachment" => {
                let file_name = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .map(str::to_string);
                let content_type = field
                    .content_type()
                    .map(|m| m.essence_str().chars().take(100).collect::<String>())
                    .unwrap_or_else(|| "application/octet-stream".into());
                let room = limits
                    .max_attachment_bytes
                    .min(limits.max_total_attachment_bytes - total);
                let what = if room < limits.max_attachment_bytes {
                    format!(
                        "the attachments together are larger than {} bytes; this one",
                        limits.max_total_attachment_bytes
                    )
                } else {
                    "an attachment".to_string()
                };
                // A file part carries a file name (empty for a file input left empty, as browsers
                // send it); a part without one is a text field under a file's name.
                let Some(file_name) = file_name else {
                    return Err(ApiError::Unprocessable(format!(
                        "{name} must be a file part (with a filename in its Content-Disposition)"
                    )));
                };
                let bytes = read_part(&mut field, room, &what).await?;
                if bytes.is_empty() && file_name.is_empty() {
                    continue;
                }
                if uploads.len() == limits.max_attachments {
                    return Err(ApiError::Unprocessable(format!(
                        "at most {} attachments are accepted",
                        limits.max_attachments
                    )));
                }
                total += bytes.len();
                let n = uploads.len();
                uploads.push(Upload {
                    name: crate::mail::mime::safe_file_name(Some(&file_name), n, &content_type),
                    content_type,
                    bytes,
                });
            }
            other => {
                let shown: String = other.chars().take(60).collect();
                return Err(ApiError::Unprocessable(format!(
                    "unknown field {shown:?} (expected from, name, subject, body, attachment)"
                )));
            }
        }
    }
    let mut take = |k: &str| text.remove(k);
    let required = |v: Option<String>, k: &str| {
        v.ok_or_else(|| ApiError::Unprocessable(format!("missing field `{k}`")))
    };
    let form = WebformRequest {
        from: required(take("from"), "from")?,
        name: take("name"),
        subject: required(take("subject"), "subject")?,
        body: required(take("body"), "body")?,
    };
    Ok((form, uploads))
}

async fn accept(
    receiver: std::sync::Arc<Receiver>,
    projections: std::sync::Arc<ProjectionRunner>,
    s: Submission,
    uploads: Vec<Upload>,
    analysis: Option<Analysis>,
    process: std::sync::Arc<crate::app::process::Process>,
) -> Result<HttpResponse, ApiError> {
    let id = InteractionId::from_uuid(uuid::Uuid::now_v7());
    let span = tracing::info_span!("webform", interaction_id = %id);
    // The body and files go with the append (the events carry their hashes): one flush for all.
    let batch = ContentBatch::default();
    let content = batch.put(s.body.as_bytes());
    let at = now();
    let message = if uploads.is_empty() {
        None
    } else {
        let mut attachments = Vec::new();
        let mut size = s.body.len() as u64;
        for u in &uploads {
            size += u.bytes.len() as u64;
            attachments.push(StoredAttachment {
                name: u.name.clone(),
                content_type: u.content_type.clone(),
                content_id: None,
                inline: false,
                size: u.bytes.len() as u64,
                content: batch.put(&u.bytes),
            });
        }
        Some(Box::new(MessageStored {
            identity: format!("webform:{id}"),
            message_id: None,
            in_reply_to: Vec::new(),
            references: Vec::new(),
            to: Vec::new(),
            cc: Vec::new(),
            raw: None,
            text: Some(content.clone()),
            html: None,
            html_sanitized: None,
            attachments,
            size,
            problems: Vec::new(),
            automated: false,
            source: None,
            at,
        }))
    };
    // The thread-token rule of e-mail: a token in the subject joins that thread, if the thread is
    // this contact's. (A form that matches nothing starts its own thread: no link is recorded.)
    let thread = projections
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
            message,
            thread,
            at,
        },
        Principal::Customer(s.from.as_str().to_string()),
    );
    let inbound = Inbound {
        id,
        receive,
        queue: None,
        analysis,
        process,
        content: batch.into_inner(),
        at,
    };
    // On a task of its own: a client that hangs up must not abandon the append half-way.
    let flow = {
        async move {
            let position = receiver.receive(inbound).await?;
            // Read-your-writes: a GET right after this answer finds the interaction.
            projections.wait_for(position, Duration::from_secs(2)).await;
            tracing::info!("web form accepted");
            Ok::<_, crate::actors::EngineError>(())
        }
        .instrument(span)
    };
    actix_web::rt::spawn(flow)
        .await
        .map_err(|e| ApiError::internal("web form task", e))??;
    metrics::counter!(crate::metrics::WEBFORMS).increment(1);
    Ok(HttpResponse::Accepted().json(Accepted {
        interaction_id: id.to_string(),
    }))
}
