//! Standard responses: admins write them (every template checked when saved), agents and
//! supervisors read and search them.

use super::auth::Caller;
use super::command::run_once;
use super::json::JsonBody;
use super::problem::{ApiError, Problem};
use super::views::rfc3339_millis;
use crate::domain::standard_response::{
    ResponseCommand, ResponseFields, ResponseId, StandardResponse, Usage,
};
use crate::domain::{Millis, Principal};
use crate::events::EventStore;
use crate::projections::response_search::ResponseSearch;
use crate::projections::ProjectionRunner;
use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A standard response as an admin writes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseBody {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The categories it serves (none: every category).
    #[serde(default)]
    pub categories: Vec<String>,
    /// `acknowledgement`, `automatic_response` or `suggestion`.
    pub usage: UsageName,
    #[serde(default)]
    pub approved: bool,
    /// RFC 3339; usable from then.
    pub valid_from: Option<String>,
    /// RFC 3339; usable until then (exclusive).
    pub valid_until: Option<String>,
    /// A template over the field codes, one line.
    pub subject: String,
    /// The text body's template.
    #[schema(min_length = 1)]
    pub text: String,
    /// The HTML body's template (values are HTML-escaped).
    pub html: Option<String>,
}

/// What a response is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageName {
    Acknowledgement,
    AutomaticResponse,
    Suggestion,
}

impl From<UsageName> for Usage {
    fn from(u: UsageName) -> Usage {
        match u {
            UsageName::Acknowledgement => Usage::Acknowledgement,
            UsageName::AutomaticResponse => Usage::AutomaticResponse,
            UsageName::Suggestion => Usage::Suggestion,
        }
    }
}

/// A standard response as served.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResponseView {
    pub id: String,
    pub name: String,
    pub categories: Vec<String>,
    pub usage: &'static str,
    pub approved: bool,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// Approved and inside its validity now.
    pub usable: bool,
    pub created_at: String,
    pub updated_at: String,
    pub updated_by: String,
    pub version: u64,
}

fn view(id: ResponseId, r: &StandardResponse, now: Millis) -> Option<ResponseView> {
    let f = r.fields.as_ref()?;
    Some(ResponseView {
        id: id.to_string(),
        name: f.name.clone(),
        categories: f.categories.clone(),
        usage: f.usage.name(),
        approved: f.approved,
        valid_from: f.valid_from.map(rfc3339_millis),
        valid_until: f.valid_until.map(rfc3339_millis),
        subject: f.subject.clone(),
        text: f.text.clone(),
        html: f.html.clone(),
        usable: r.usable_at(now),
        created_at: rfc3339_millis(r.created_at),
        updated_at: rfc3339_millis(r.updated_at),
        updated_by: r.updated_by.clone(),
        version: r.version,
    })
}

fn time(field: &str, s: &Option<String>) -> Result<Option<Millis>, ApiError> {
    let Some(s) = s else { return Ok(None) };
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|_| ApiError::Unprocessable(format!("{field}: {s:?} is not an RFC 3339 time")))?;
    Ok(Some(Millis((t.unix_timestamp_nanos() / 1_000_000) as i64)))
}

fn fields(b: ResponseBody) -> Result<ResponseFields, ApiError> {
    let usage = b.usage.into();
    Ok(ResponseFields {
        valid_from: time("valid_from", &b.valid_from)?,
        valid_until: time("valid_until", &b.valid_until)?,
        name: b.name,
        categories: b.categories,
        usage,
        approved: b.approved,
        subject: b.subject,
        text: b.text,
        html: b.html,
    })
}

fn id_of(path: &str) -> Result<ResponseId, ApiError> {
    ResponseId::parse(path)
        .ok_or_else(|| ApiError::NotFound(format!("no standard response {path:?}")))
}

fn current(projections: &ProjectionRunner, id: ResponseId) -> Result<ResponseView, ApiError> {
    let now = crate::app::now();
    projections
        .read(|p| {
            p.responses
                .get(&id)
                .filter(|r| !r.deleted)
                .and_then(|r| view(id, r, now))
        })
        .ok_or_else(|| ApiError::NotFound(format!("no standard response {id}")))
}

/// Create a standard response. Its templates are checked now: an unknown field code or a
/// template error is refused (422, naming the field), never found while a customer waits.
#[utoipa::path(
    tag = "standard-responses",
    request_body = ResponseBody,
    responses(
        (status = 201, body = ResponseView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/standard-responses")]
pub async fn create_response(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    body: JsonBody<ResponseBody>,
) -> Result<HttpResponse, ApiError> {
    let id = ResponseId(uuid::Uuid::now_v7());
    let command = ResponseCommand::Create {
        fields: fields(body.0)?,
        by: format!("user:{}", caller.name),
        at: crate::app::now(),
    };
    run_once::<StandardResponse>(
        log.as_ref(),
        &projections,
        &id,
        command,
        Principal::User(caller.name.to_string()),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/standard-responses/{id}")))
        .json(current(&projections, id)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ResponseQuery {
    /// Words to look for in the name, subject and text (full text: case and accents do not
    /// matter; quotes make a phrase); the best matches first. Read up to 1000 characters.
    pub q: Option<String>,
    /// Only responses that serve this category.
    pub category: Option<String>,
    /// Only this usage: acknowledgement, automatic_response or suggestion.
    pub usage: Option<UsageName>,
}

/// Standard responses, filtered by category and usage and, with `q`, found by full-text search
/// (accents and case folded) and ranked by relevance, a word in the name counting most, then
/// the subject, then the text; without `q`, by name.
#[utoipa::path(
    tag = "standard-responses",
    params(ResponseQuery),
    responses(
        (status = 200, body = Vec<ResponseView>),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/standard-responses")]
pub async fn list_responses(
    projections: web::Data<ProjectionRunner>,
    search: web::Data<ResponseSearch>,
    query: web::Query<ResponseQuery>,
) -> Result<HttpResponse, ApiError> {
    let usage: Option<Usage> = query.usage.map(Into::into);
    // Bounded: a search is words, not a document.
    let q: String = query
        .q
        .as_deref()
        .unwrap_or_default()
        .chars()
        .take(1000)
        .collect();
    let now = crate::app::now();
    let found = projections.read(|p| -> Result<Vec<ResponseView>, String> {
        let wanted = |f: &ResponseFields| {
            usage.is_none_or(|u| u == f.usage)
                && query
                    .category
                    .as_ref()
                    .is_none_or(|c| f.categories.is_empty() || f.categories.contains(c))
        };
        let keep = |id: ResponseId| {
            let r = p.responses.get(&id)?;
            wanted(r.fields.as_ref()?)
                .then(|| view(id, r, now))
                .flatten()
        };
        if q.trim().is_empty() {
            let mut all: Vec<ResponseView> =
                p.responses.live().filter_map(|(id, _)| keep(id)).collect();
            all.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            return Ok(all);
        }
        let hits = search.search(&p.responses, &q, p.responses.live().count())?;
        Ok(hits.into_iter().filter_map(|(id, _)| keep(id)).collect())
    });
    let found = found.map_err(|e| ApiError::internal("the search failed", e))?;
    Ok(HttpResponse::Ok().json(found))
}

/// One standard response.
#[utoipa::path(
    tag = "standard-responses",
    params(("id" = String, Path, description = "The response's id")),
    responses(
        (status = 200, body = ResponseView),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/standard-responses/{id}")]
pub async fn get_response(
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(current(&projections, id_of(&path)?)?))
}

/// Replace a standard response (every field; templates checked as on creation).
#[utoipa::path(
    tag = "standard-responses",
    params(("id" = String, Path, description = "The response's id")),
    request_body = ResponseBody,
    responses(
        (status = 200, body = ResponseView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/standard-responses/{id}")]
pub async fn update_response(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
    body: JsonBody<ResponseBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path)?;
    let command = ResponseCommand::Update {
        fields: fields(body.0)?,
        by: format!("user:{}", caller.name),
        at: crate::app::now(),
    };
    run_once::<StandardResponse>(
        log.as_ref(),
        &projections,
        &id,
        command,
        Principal::User(caller.name.to_string()),
    )
    .await?;
    Ok(HttpResponse::Ok().json(current(&projections, id)?))
}

/// Delete a standard response (its history stays in the log).
#[utoipa::path(
    tag = "standard-responses",
    params(("id" = String, Path, description = "The response's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/standard-responses/{id}")]
pub async fn delete_response(
    log: web::Data<dyn EventStore>,
    projections: web::Data<ProjectionRunner>,
    caller: Caller,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&path)?;
    let command = ResponseCommand::Delete {
        by: format!("user:{}", caller.name),
        at: crate::app::now(),
    };
    run_once::<StandardResponse>(
        log.as_ref(),
        &projections,
        &id,
        command,
        Principal::User(caller.name.to_string()),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The suggested responses of an interaction: the usable `suggestion` responses that list one of
/// its categories, those naming more of them first, then by name.
#[utoipa::path(
    tag = "standard-responses",
    params(("id" = String, Path, description = "Interaction id (UUID)")),
    responses(
        (status = 200, body = Vec<ResponseView>),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/interactions/{id}/suggested-responses")]
pub async fn suggested_responses(
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = super::interactions::parse_id(&path)?;
    let now = crate::app::now();
    let views = projections.read(|p| {
        let state = p.cache.get(&id)?;
        let categories: Vec<String> = state.categories.iter().map(|(c, _)| c.clone()).collect();
        let ids = crate::domain::standard_response::suggested(p.responses.live(), &categories, now);
        Some(
            ids.into_iter()
                .filter_map(|rid| view(rid, p.responses.get(&rid)?, now))
                .collect::<Vec<_>>(),
        )
    });
    match views {
        Some(v) => Ok(HttpResponse::Ok().json(v)),
        None => Err(ApiError::NotFound(format!("no interaction {id}"))),
    }
}
