//! Standard responses (issue 11, item 4): texts agents and the workflow answer with, kept as an
//! event-sourced aggregate (a stream per response). The decider holds every rule: a response's
//! templates are checked when it is saved (syntax, every field code known, a trial rendering), so
//! an unknown field code or a template error is refused then, never found while a customer waits.
//!
//! What is usable at a moment (`StandardResponse::usable_at`): approved, not deleted, inside its
//! validity. The workflow's automatic answers take the `acknowledgement` and
//! `automatic_response` usages; an interaction's suggested responses are the `suggestion`s of its
//! categories (`suggested`).

use super::header::HeaderText;
use super::response_template::{check, Kind};
use super::Millis;
use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// A response's identity: a UUID, named in its stream `response-<uuid>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResponseId(pub uuid::Uuid);

impl std::fmt::Display for ResponseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseId {
    pub fn parse(s: &str) -> Option<ResponseId> {
        uuid::Uuid::try_parse(s).ok().map(ResponseId)
    }
    pub fn stream(&self) -> String {
        format!("response-{}", self.0)
    }
}

/// What a response is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Usage {
    /// "We have your message": sent automatically to new customer mail.
    Acknowledgement,
    /// An answer that settles the matter without an agent.
    AutomaticResponse,
    /// Offered to the agent working an interaction of its categories.
    Suggestion,
}

impl Usage {
    /// The stable name used in the API.
    pub fn name(&self) -> &'static str {
        match self {
            Usage::Acknowledgement => "acknowledgement",
            Usage::AutomaticResponse => "automatic_response",
            Usage::Suggestion => "suggestion",
        }
    }

    pub fn parse(s: &str) -> Option<Usage> {
        match s {
            "acknowledgement" => Some(Usage::Acknowledgement),
            "automatic_response" => Some(Usage::AutomaticResponse),
            "suggestion" => Some(Usage::Suggestion),
            _ => None,
        }
    }
}

/// Everything an admin writes about a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseFields {
    pub name: String,
    pub categories: Vec<String>,
    pub usage: Usage,
    pub approved: bool,
    pub valid_from: Option<Millis>,
    pub valid_until: Option<Millis>,
    /// A template (field codes) for the subject, one line.
    pub subject: String,
    /// The text body's template.
    pub text: String,
    /// The HTML body's template (values are escaped), if any.
    pub html: Option<String>,
}

/// The most categories one response lists.
pub const MAX_CATEGORIES: usize = 50;
/// The longest name, in characters.
pub const MAX_NAME: usize = 200;
/// The longest subject template, in characters.
pub const MAX_SUBJECT: usize = 998;
/// The longest body template, in characters.
pub const MAX_BODY: usize = 16 * 1024;

/// What a category key is: letters, digits, `_`, `.`, `-`, 1 to 100 of them.
pub const CATEGORY_PATTERN: &str = "^[A-Za-z0-9_.-]{1,100}$";

fn category_ok(c: &str) -> bool {
    (1..=100).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Why a command is refused. Nothing is recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseRejection {
    #[error("the standard response exists")]
    AlreadyExists,
    #[error("no such standard response")]
    NotFound,
    #[error("the standard response was deleted")]
    Deleted,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl super::aggregate::Rejection for ResponseRejection {
    fn kind(&self) -> super::aggregate::RejectionKind {
        use super::aggregate::RejectionKind as K;
        match self {
            ResponseRejection::AlreadyExists | ResponseRejection::Deleted => K::Conflict,
            ResponseRejection::NotFound => K::NotFound,
            ResponseRejection::Invalid { .. } => K::Invalid,
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ResponseRejection {
    ResponseRejection::Invalid {
        field,
        message: message.into(),
    }
}

/// Checks what an admin wrote: every rule a saved response must keep.
pub fn validate(f: &ResponseFields) -> Result<(), ResponseRejection> {
    if f.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if f.name.chars().count() > MAX_NAME {
        return Err(invalid("name", format!("at most {MAX_NAME} characters")));
    }
    HeaderText::parse(&f.name).map_err(|_| invalid("name", "must be one line of visible text"))?;
    if f.categories.len() > MAX_CATEGORIES {
        return Err(invalid(
            "categories",
            format!("at most {MAX_CATEGORIES} categories"),
        ));
    }
    for (i, c) in f.categories.iter().enumerate() {
        if !category_ok(c) {
            return Err(invalid(
                "categories",
                format!("category {i} must be 1 to 100 letters, digits, '_', '.' or '-'"),
            ));
        }
        if f.categories[..i].contains(c) {
            return Err(invalid("categories", format!("{c:?} is listed twice")));
        }
    }
    // (A validity window that ends before it starts is kept: the response is never usable.)
    // The subject is a header: one line, whatever the template.
    HeaderText::parse(&f.subject).map_err(|_| {
        invalid(
            "subject",
            "must be one line (no line breaks or control characters)",
        )
    })?;
    if f.subject.chars().count() > MAX_SUBJECT {
        return Err(invalid(
            "subject",
            format!("at most {MAX_SUBJECT} characters"),
        ));
    }
    check(&f.subject, Kind::Text).map_err(|e| invalid("subject", e.to_string()))?;
    if f.text.trim().is_empty() {
        return Err(invalid("text", "must not be empty"));
    }
    if f.text.contains('\0') {
        return Err(invalid("text", "must not hold a NUL character"));
    }
    if f.text.chars().count() > MAX_BODY {
        return Err(invalid("text", format!("at most {MAX_BODY} characters")));
    }
    check(&f.text, Kind::Text).map_err(|e| invalid("text", e.to_string()))?;
    if let Some(html) = &f.html {
        if html.chars().count() > MAX_BODY {
            return Err(invalid("html", format!("at most {MAX_BODY} characters")));
        }
        check(html, Kind::Html).map_err(|e| invalid("html", e.to_string()))?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseCreated {
    pub fields: ResponseFields,
    pub by: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseUpdated {
    pub fields: ResponseFields,
    pub by: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseDeleted {
    pub by: String,
    pub at: Millis,
}

/// Everything that can happen to a standard response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseEvent {
    ResponseCreated(ResponseCreated),
    ResponseUpdated(ResponseUpdated),
    ResponseDeleted(ResponseDeleted),
}

impl ResponseEvent {
    /// Every type name this aggregate records.
    pub const TYPES: &'static [&'static str] =
        &["ResponseCreated", "ResponseUpdated", "ResponseDeleted"];

    pub fn event_type(&self) -> &'static str {
        match self {
            ResponseEvent::ResponseCreated(_) => "ResponseCreated",
            ResponseEvent::ResponseUpdated(_) => "ResponseUpdated",
            ResponseEvent::ResponseDeleted(_) => "ResponseDeleted",
        }
    }
}

/// What an admin asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseCommand {
    Create {
        fields: ResponseFields,
        by: String,
        at: Millis,
    },
    Update {
        fields: ResponseFields,
        by: String,
        at: Millis,
    },
    Delete {
        by: String,
        at: Millis,
    },
}

/// A standard response as rebuilt from its events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StandardResponse {
    /// `None` before it is created.
    pub fields: Option<ResponseFields>,
    pub deleted: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Who saved it last.
    pub updated_by: String,
    /// Events applied: the stream version (for `If-Match`).
    pub version: u64,
}

impl StandardResponse {
    /// Approved, not deleted and inside its validity at `at`.
    pub fn usable_at(&self, at: Millis) -> bool {
        let Some(f) = &self.fields else { return false };
        !self.deleted
            && f.approved
            && f.valid_from.is_none_or(|t| t <= at)
            && f.valid_until.is_none_or(|t| at < t)
    }

    /// Whether it answers `usage` for an interaction in `categories` at `at` (a response without
    /// categories serves every category).
    pub fn serves(&self, usage: Usage, categories: &[String], at: Millis) -> bool {
        let Some(f) = &self.fields else { return false };
        self.usable_at(at)
            && f.usage == usage
            && (f.categories.is_empty() || f.categories.iter().any(|c| categories.contains(c)))
    }
}

/// Decides what a command records, or why it is refused.
pub fn decide(
    state: &StandardResponse,
    command: &ResponseCommand,
) -> Result<Vec<ResponseEvent>, ResponseRejection> {
    match command {
        ResponseCommand::Create { fields, by, at } => {
            if state.fields.is_some() {
                return Err(ResponseRejection::AlreadyExists);
            }
            validate(fields)?;
            Ok(vec![ResponseEvent::ResponseCreated(ResponseCreated {
                fields: fields.clone(),
                by: by.clone(),
                at: *at,
            })])
        }
        ResponseCommand::Update { fields, by, at } => {
            existing(state)?;
            validate(fields)?;
            if state.fields.as_ref() == Some(fields) {
                // Saved unchanged: nothing to record.
                return Ok(Vec::new());
            }
            Ok(vec![ResponseEvent::ResponseUpdated(ResponseUpdated {
                fields: fields.clone(),
                by: by.clone(),
                at: *at,
            })])
        }
        ResponseCommand::Delete { by, at } => {
            existing(state)?;
            Ok(vec![ResponseEvent::ResponseDeleted(ResponseDeleted {
                by: by.clone(),
                at: *at,
            })])
        }
    }
}

fn existing(state: &StandardResponse) -> Result<(), ResponseRejection> {
    match (&state.fields, state.deleted) {
        (None, _) => Err(ResponseRejection::NotFound),
        (Some(_), true) => Err(ResponseRejection::Deleted),
        (Some(_), false) => Ok(()),
    }
}

/// Applies one event.
pub fn evolve(mut s: StandardResponse, event: &ResponseEvent) -> StandardResponse {
    s.version += 1;
    match event {
        ResponseEvent::ResponseCreated(e) => {
            s.fields = Some(e.fields.clone());
            s.created_at = e.at;
            s.updated_at = e.at;
            s.updated_by = e.by.clone();
        }
        ResponseEvent::ResponseUpdated(e) => {
            s.fields = Some(e.fields.clone());
            s.updated_at = e.at;
            s.updated_by = e.by.clone();
        }
        ResponseEvent::ResponseDeleted(e) => {
            s.deleted = true;
            s.updated_at = e.at;
            s.updated_by = e.by.clone();
        }
    }
    s
}

impl super::aggregate::Aggregate for StandardResponse {
    type Id = ResponseId;
    type Command = ResponseCommand;
    type Event = ResponseEvent;
    type Rejection = ResponseRejection;
    const KIND: &'static str = "standard_response";

    fn stream(id: &ResponseId) -> String {
        id.stream()
    }
    fn decide(&self, command: &ResponseCommand) -> Result<Vec<ResponseEvent>, ResponseRejection> {
        decide(self, command)
    }
    fn evolve(self, event: &ResponseEvent) -> Self {
        evolve(self, event)
    }
    fn event_type(event: &ResponseEvent) -> &'static str {
        event.event_type()
    }
    fn exists(&self) -> bool {
        self.fields.is_some()
    }
}

/// The suggested responses for an interaction in `categories` at `at`: the usable `suggestion`s
/// that list one of its categories, those naming more of them first, then by name.
pub fn suggested<'a>(
    responses: impl IntoIterator<Item = (ResponseId, &'a StandardResponse)>,
    categories: &[String],
    at: Millis,
) -> Vec<ResponseId> {
    let mut found: Vec<(usize, String, ResponseId)> = responses
        .into_iter()
        .filter(|(_, r)| r.serves(Usage::Suggestion, categories, at))
        .filter_map(|(id, r)| {
            let f = r.fields.as_ref()?;
            let overlap = f
                .categories
                .iter()
                .filter(|c| categories.contains(c))
                .count();
            (overlap > 0).then(|| (overlap, f.name.to_lowercase(), id))
        })
        .collect();
    found.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    found.into_iter().map(|(_, _, id)| id).collect()
}

/// The automatic response that answers an interaction in `categories` (best first) at `at`: a
/// usable `automatic_response` that names one of them (one without categories answers nothing
/// automatically), the best category's first, then by name.
pub fn automatic<'a>(
    responses: impl IntoIterator<Item = (ResponseId, &'a StandardResponse)>,
    categories: &[String],
    at: Millis,
) -> Option<(ResponseId, &'a StandardResponse)> {
    responses
        .into_iter()
        .filter(|(_, r)| r.serves(Usage::AutomaticResponse, categories, at))
        .filter_map(|(id, r)| {
            let f = r.fields.as_ref()?;
            let rank = categories.iter().position(|c| f.categories.contains(c))?;
            Some((rank, f.name.to_lowercase(), id, r))
        })
        .min_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)))
        .map(|(_, _, id, r)| (id, r))
}
