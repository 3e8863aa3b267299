//! An interaction's content: text, safe HTML, attachments and the raw message, read from the
//! content store through the hashes its events carry.

use super::interactions::parse_id;
use super::problem::{ApiError, Problem};
use crate::domain::interaction::{Interaction, InteractionEvent, MessageStored};
use crate::domain::{ContentRef, InteractionId};
use crate::events::aggregate::events_of;
use crate::events::EventStore;
use crate::storage::ContentStore;
use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    /// Its index, for `/attachments/{n}`.
    pub n: usize,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub inline: bool,
    pub content_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContentView {
    pub interaction_id: String,
    pub from: String,
    pub from_name: Option<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub text: Option<String>,
    /// Safe to display: no scripts, no event handlers, no remote images.
    pub html_sanitized: Option<String>,
    pub attachments: Vec<AttachmentView>,
    pub malformed: bool,
    pub problems: Vec<String>,
    pub automated: bool,
    /// The original message is available at `/raw`.
    pub has_raw: bool,
}

struct Found {
    from: String,
    from_name: Option<String>,
    subject: String,
    body: Option<ContentRef>,
    message: Option<MessageStored>,
}

fn find(store: &dyn EventStore, id: InteractionId) -> Result<Found, ApiError> {
    let mut found: Option<Found> = None;
    for e in events_of::<Interaction>(store, &id)? {
        match e {
            InteractionEvent::InteractionReceived(r) => {
                found = Some(Found {
                    from: r.from,
                    from_name: r.from_name,
                    subject: r.subject,
                    body: r.content,
                    message: None,
                })
            }
            InteractionEvent::MessageStored(m) => {
                if let Some(f) = found.as_mut() {
                    f.message = Some(m);
                }
                break;
            }
            InteractionEvent::ReplyDrafted(d) => {
                found = Some(Found {
                    from: d.to,
                    from_name: None,
                    subject: d.subject,
                    body: d.content,
                    message: None,
                })
            }
            InteractionEvent::DraftUpdated(d) => {
                if let Some(f) = found.as_mut() {
                    f.body = d.content;
                }
            }
            _ => {}
        }
    }
    found.ok_or_else(|| ApiError::NotFound(format!("no interaction {id}")))
}

fn text_of(content: &dyn ContentStore, r: &Option<ContentRef>) -> Result<Option<String>, ApiError> {
    match r {
        Some(r) => Ok(content
            .get(r)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())),
        None => Ok(None),
    }
}

/// The message's headers, text, safe HTML and attachment list.
#[utoipa::path(
    tag = "interactions",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = ContentView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/content")]
pub async fn get_content(
    log: web::Data<dyn EventStore>,
    content: web::Data<dyn ContentStore>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let f = find(log.as_ref(), id)?;
    let view = match &f.message {
        Some(m) => ContentView {
            interaction_id: id.to_string(),
            from: f.from.clone(),
            from_name: f.from_name.clone(),
            subject: f.subject.clone(),
            message_id: m.message_id.clone(),
            to: m.to.clone(),
            cc: m.cc.clone(),
            in_reply_to: m.in_reply_to.clone(),
            references: m.references.clone(),
            text: text_of(content.as_ref(), &m.text)?,
            html_sanitized: text_of(content.as_ref(), &m.html_sanitized)?,
            attachments: m
                .attachments
                .iter()
                .enumerate()
                .map(|(n, a)| AttachmentView {
                    n,
                    name: a.name.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                    inline: a.inline,
                    content_id: a.content_id.clone(),
                })
                .collect(),
            malformed: !m.problems.is_empty(),
            problems: m.problems.clone(),
            automated: m.automated,
            has_raw: m.raw.is_some(),
        },
        None => ContentView {
            interaction_id: id.to_string(),
            text: text_of(content.as_ref(), &f.body)?,
            from: f.from,
            from_name: f.from_name,
            subject: f.subject,
            message_id: None,
            to: vec![],
            cc: vec![],
            in_reply_to: vec![],
            references: vec![],
            html_sanitized: None,
            attachments: vec![],
            malformed: false,
            problems: vec![],
            automated: false,
            has_raw: false,
        },
    };
    Ok(HttpResponse::Ok().json(view))
}

/// Bytes from the content store; 404 when they were erased (the events still name their hash).
fn stored_bytes(
    content: &dyn ContentStore,
    r: &ContentRef,
    what: &str,
) -> Result<Vec<u8>, ApiError> {
    content
        .get(r)?
        .ok_or_else(|| ApiError::NotFound(format!("{what} was erased")))
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded`, safe for any name.
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%')) || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The content type a download is served with: the message's own when it is a plain
/// `type/subtype` that cannot run in a browser, else `application/octet-stream`.
/// Types served as declared: inert ones a browser shows or hands to an application without running
/// anything. Everything else (scripts, styles, HTML, SVG, XML, XSL, WebAssembly, Flash, unknown
/// types) is served as `application/octet-stream`: a download, never a page.
const INERT_TYPES: &[&str] = &[
    "text/plain",
    "text/csv",
    "text/calendar",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "image/heic",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
    "video/mp4",
    "video/webm",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/rtf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "message/rfc822",
];

/// The type an attachment is served with: its declared type (parameters dropped) when that is on
/// the inert list, else `application/octet-stream`.
fn served_type(declared: &str) -> String {
    let essence = declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if INERT_TYPES.contains(&essence.as_str()) {
        essence
    } else {
        "application/octet-stream".into()
    }
}

fn bytes_response(
    content_type: &str,
    disposition_name: Option<&str>,
    bytes: Vec<u8>,
) -> HttpResponse {
    let mut r = HttpResponse::Ok();
    r.insert_header((header::CONTENT_TYPE, served_type(content_type)))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ));
    if let Some(name) = disposition_name {
        r.insert_header((header::CONTENT_DISPOSITION, disposition(name)));
    }
    r.body(bytes)
}

/// One attachment's bytes, with its content type and a safe download name.
#[utoipa::path(
    tag = "interactions",
    params(("id" = String, Path, description = "Interaction id (UUID)"), ("n" = usize, Path, description = "Attachment index")),
    responses(
        (status = 200, description = "The attachment's bytes"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/attachments/{n}")]
pub async fn get_attachment(
    log: web::Data<dyn EventStore>,
    content: web::Data<dyn ContentStore>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (raw_id, raw_n) = path.into_inner();
    let id = parse_id(&raw_id)?;
    let n: usize = raw_n
        .parse()
        .map_err(|_| ApiError::BadRequest("the attachment index is not a number".into()))?;
    let f = find(log.as_ref(), id)?;
    let a = f
        .message
        .as_ref()
        .and_then(|m| m.attachments.get(n))
        .ok_or_else(|| ApiError::NotFound(format!("interaction {id} has no attachment {n}")))?;
    let bytes = stored_bytes(content.as_ref(), &a.content, "the attachment's content")?;
    Ok(bytes_response(&a.content_type, Some(&a.name), bytes))
}

/// The original message exactly as received.
#[utoipa::path(
    tag = "interactions",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, description = "message/rfc822"),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/raw")]
pub async fn get_raw(
    log: web::Data<dyn EventStore>,
    content: web::Data<dyn ContentStore>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_id(&path)?;
    let f = find(log.as_ref(), id)?;
    let raw = f
        .message
        .and_then(|m| m.raw)
        .ok_or_else(|| ApiError::NotFound(format!("interaction {id} has no original message")))?;
    let bytes = stored_bytes(content.as_ref(), &raw, "the original message")?;
    Ok(bytes_response(
        "message/rfc822",
        Some(&format!("{id}.eml")),
        bytes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_inert_content_types_are_served_as_declared() {
        assert_eq!(served_type("application/PDF"), "application/pdf");
        assert_eq!(served_type("image/png"), "image/png");
        for active in [
            "text/html",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/javascript",
        ] {
            assert_eq!(served_type(active), "application/octet-stream", "{active}");
        }
        for broken in ["", "text", "text/plain\r\nX-Evil: 1", "a b/c", "/x"] {
            assert_eq!(
                served_type(broken),
                "application/octet-stream",
                "{broken:?}"
            );
        }
    }

    #[test]
    fn download_names_cannot_break_the_header() {
        let d = disposition("a\"b%41\r\nc é.pdf");
        assert!(
            d.starts_with("attachment; filename=\"a_b_41__c _.pdf\""),
            "{d}"
        );
        assert!(
            d.contains("filename*=UTF-8''a%22b%2541%0D%0Ac%20%C3%A9.pdf"),
            "{d}"
        );
    }
}
