//! `GET /api/v1/me/events`: an agent's desktop events as Server-Sent Events. Each is
//! `id: <log position>`, `event: <kind>`, `data: {"interaction_id", "kind", "event"}`; a desktop
//! that reconnects with `Last-Event-ID` gets everything after that position first.

use super::auth::Caller;
use super::problem::{ApiError, Problem};
use crate::app::notify::{Connection, Notice, Notifier};
use crate::projections::ProjectionRunner;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{get, web, HttpRequest, HttpResponse};
use std::time::Duration;

/// A comment line sent when nothing else was for this long, so proxies keep the stream open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn frame(n: &Notice) -> Bytes {
    let data = serde_json::json!({
        "interaction_id": n.interaction_id.to_string(),
        "kind": n.kind,
        "event": n.event,
    });
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {}\n\n",
        n.position, n.kind, data
    ))
}

/// Your desktop's events as they happen: offers (with their deadline), offers withdrawn,
/// expired or refused, assignments, consultation invitations and ends, contributions to your
/// work, and replies returned for revision. Reconnect with `Last-Event-ID` to miss nothing.
#[utoipa::path(
    tag = "desktop",
    params(("Last-Event-ID" = Option<u64>, Header, description = "The id of the last event received: everything after it is sent first")),
    responses(
        (status = 200, description = "A stream of Server-Sent Events", content_type = "text/event-stream", body = String),
        (status = 400, description = "Last-Event-ID is not a position", body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "You are not an agent", body = Problem),
        (status = 503, description = "The server is stopping", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/me/events")]
pub async fn my_events(
    notifier: web::Data<Notifier>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let is_agent = projections.read(|p| p.agents.get(&caller.name).is_some_and(|a| a.is_active()));
    if !is_agent {
        return Err(ApiError::NotFound(format!(
            "{} is not an agent",
            caller.name
        )));
    }
    let last_seen = match req.headers().get("Last-Event-ID") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::BadRequest("Last-Event-ID: must be an event id (a number)".into())
                })?,
        ),
    };
    let Connection {
        catch_up,
        live,
        after,
    } = notifier.connect(&caller.name, last_seen)?;
    // `retry` tells the browser to reconnect quickly; the comment flushes the headers at once.
    let start = futures_util::stream::iter([Ok::<_, actix_web::Error>(Bytes::from_static(
        b"retry: 1000\n: connected\n\n",
    ))]);
    let past = futures_util::stream::iter(catch_up.into_iter().map(|n| Ok(frame(&n))));
    let live = futures_util::stream::unfold((live, after), |(mut live, after)| async move {
        loop {
            match tokio::time::timeout(KEEP_ALIVE, live.recv()).await {
                Ok(Some(n)) if n.position <= after => continue,
                Ok(Some(n)) => return Some((Ok(frame(&n)), (live, after))),
                Ok(None) => return None,
                Err(_) => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (live, after)))
                }
            }
        }
    });
    use futures_util::StreamExt;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(start.chain(past).chain(live)))
}
