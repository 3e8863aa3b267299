//! Contacts and their interaction history.

use super::problem::{ApiError, Problem};
use super::views::rfc3339_millis;
use crate::projections::ProjectionRunner;
use crate::projections::{Contact, Projections};
use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactInteraction {
    pub interaction_id: String,
    pub subject: String,
    pub status: &'static str,
    pub channel: Option<&'static str>,
    pub created_at: String,
    /// The thread it belongs to (its first interaction).
    pub thread: String,
    /// How it joined its thread: `header`, `token` or `none`.
    pub thread_match: Option<&'static str>,
    /// Its replies, oldest first.
    pub replies: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    /// The sender could not be read: the address is an anonymous one of the reserved domain
    /// `invalid`, never written to.
    pub unknown: bool,
    pub first_seen: String,
    pub last_seen: String,
    /// Oldest first.
    pub interactions: Vec<ContactInteraction>,
}

fn view(p: &Projections, c: &Contact) -> ContactView {
    ContactView {
        id: c.id.to_string(),
        email: c.email.clone(),
        display_name: c.display_name.clone(),
        unknown: crate::mail::sender::is_unknown(&c.email),
        first_seen: rfc3339_millis(c.first_seen),
        last_seen: rfc3339_millis(c.last_seen),
        interactions: c
            .interactions
            .iter()
            .filter_map(|(_, id)| {
                let s = p.cache.get(id)?;
                Some(ContactInteraction {
                    interaction_id: id.to_string(),
                    subject: s.subject.clone(),
                    status: s.status.name(),
                    channel: s.channel.map(|c| c.name()),
                    created_at: rfc3339_millis(s.created_at),
                    thread: p.thread_of(*id, &s).to_string(),
                    thread_match: super::views::thread_match(&s),
                    replies: s.replies.iter().map(|r| r.to_string()).collect(),
                })
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    /// The contact's e-mail address (any case).
    pub email: String,
}

/// Find a contact by e-mail address, with their history.
#[utoipa::path(
    tag = "contacts",
    params(ContactQuery),
    responses(
        (status = 200, body = ContactView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/contacts")]
pub async fn find_contact(
    projections: web::Data<ProjectionRunner>,
    query: web::Query<ContactQuery>,
) -> Result<HttpResponse, ApiError> {
    let email = query.email.trim();
    if email.is_empty() {
        return Err(ApiError::BadRequest("email must not be empty".into()));
    }
    projections
        .read(|p| p.contacts.by_email(email).map(|c| view(p, c)))
        .map(|v| HttpResponse::Ok().json(v))
        .ok_or_else(|| ApiError::NotFound(format!("no contact with the address {email}")))
}

/// A contact by id, with their history.
#[utoipa::path(
    tag = "contacts",
    params(("id" = String, Path, description = "Contact id (UUID)")),
    responses(
        (status = 200, body = ContactView),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/contacts/{id}")]
pub async fn get_contact(
    projections: web::Data<ProjectionRunner>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid::Uuid::parse_str(path.trim())
        .map_err(|_| ApiError::BadRequest("the contact id is not a UUID".into()))?;
    projections
        .read(|p| p.contacts.by_id(&id).map(|c| view(p, c)))
        .map(|v| HttpResponse::Ok().json(v))
        .ok_or_else(|| ApiError::NotFound(format!("no contact {id}")))
}
