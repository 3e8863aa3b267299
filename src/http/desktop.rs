//! The web desktop: the page and its assets (built by Vite from `web/` into `web/dist/`, committed,
//! and embedded in the binary), served from the same origin as the API, with no CDN and nothing
//! remote. The page itself is public; everything it shows comes from the API, behind a session.
//! Every answer forbids scripts, styles and frames from anywhere else (Content-Security-Policy).

use super::problem::{ApiError, Problem};
use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

#[derive(rust_embed::Embed)]
#[folder = "web/dist/"]
struct Assets;

/// What the desktop's pages may load: only this origin's scripts, styles and API; images of
/// this origin or inline data; frames only of this origin (the sandboxed reading pane); no
/// plugins, no base changes, never framed by another site.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn serve(name: &str, cache: &str) -> Option<HttpResponse> {
    let file = Assets::get(name)?;
    Some(
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, content_type(name)))
            .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"))
            .insert_header((header::CACHE_CONTROL, cache))
            .body(file.data.into_owned()),
    )
}

/// The web desktop (sign in, then the desktop of your role).
#[utoipa::path(
    tag = "web",
    responses((status = 200, description = "The web desktop's page", content_type = "text/html")),
)]
#[get("/")]
pub async fn index() -> Result<HttpResponse, ApiError> {
    serve("index.html", "no-cache")
        .ok_or_else(|| ApiError::NotFound("the web desktop is not built into this binary".into()))
}

/// One of the web desktop's files (their names carry their content's hash: cached for a year).
#[utoipa::path(
    tag = "web",
    params(("name" = String, Path, description = "File name")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = Problem),
    ),
)]
#[get("/assets/{name}")]
pub async fn asset(path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = format!("assets/{}", path.as_str());
    serve(&name, "public, max-age=31536000, immutable")
        .ok_or_else(|| ApiError::NotFound(format!("no file {name}")))
}
