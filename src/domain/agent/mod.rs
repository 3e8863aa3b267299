//! The agent aggregate (a stream `agent-NAME` per agent): who works interactions, with what
//! skills (levels 0 to 10), languages and capacity per media, whether they review others'
//! replies or are a trainee whose replies are reviewed, and their presence (logged out, ready,
//! not ready with a reason) with the time spent in each. An agent is a user who logs in (same
//! name); the shell checks the user exists before it creates the agent.

use crate::domain::aggregate::{Aggregate, Rejection, RejectionKind};
use crate::domain::{AgentId, Millis};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The media an agent has capacity for.
pub const MEDIA: &[&str] = &["email"];
/// The most interactions of one media an agent may hold at once.
pub const MAX_CAPACITY: u32 = 100;
/// The highest skill level.
pub const MAX_LEVEL: u8 = 10;
/// The most skills and languages one agent lists.
pub const MAX_SKILLS: usize = 100;
pub const MAX_LANGUAGES: usize = 20;
/// What a skill key is: letters, digits, `_`, `.`, `-`, 1 to 64 of them.
pub const SKILL_PATTERN: &str = "^[A-Za-z0-9_.-]{1,64}$";
/// A language: an ISO 639-1 or 639-3 code in lower case (`en`, `deu`).
pub const LANGUAGE_PATTERN: &str = "^[a-z]{2,3}$";
/// The longest not-ready reason, in characters.
pub const MAX_REASON: usize = 100;

/// Whether `s` is a skill key (`SKILL_PATTERN`).
pub fn skill_ok(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn language_ok(s: &str) -> bool {
    (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// What an admin says about an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub skills: BTreeMap<String, u8>,
    pub languages: Vec<String>,
    /// Interactions at once, per media.
    pub capacity: BTreeMap<String, u32>,
    pub reviewer: bool,
    pub trainee: bool,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            skills: BTreeMap::new(),
            languages: Vec::new(),
            capacity: [("email".to_string(), 5)].into_iter().collect(),
            reviewer: false,
            trainee: false,
        }
    }
}

/// Where an agent is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Presence {
    #[default]
    LoggedOut,
    Ready,
    NotReady {
        reason: String,
    },
}

impl Presence {
    /// `logged_out`, `ready` or `not_ready`.
    pub fn name(&self) -> &'static str {
        match self {
            Presence::LoggedOut => "logged_out",
            Presence::Ready => "ready",
            Presence::NotReady { .. } => "not_ready",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCreated {
    pub profile: Profile,
    pub by: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentUpdated {
    pub profile: Profile,
    pub by: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDeleted {
    pub by: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPresenceChanged {
    pub presence: Presence,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AgentEvent {
    AgentCreated(AgentCreated),
    AgentUpdated(AgentUpdated),
    AgentDeleted(AgentDeleted),
    AgentPresenceChanged(AgentPresenceChanged),
}

impl AgentEvent {
    pub const TYPES: &'static [&'static str] = &[
        "AgentCreated",
        "AgentUpdated",
        "AgentDeleted",
        "AgentPresenceChanged",
    ];

    pub fn event_type(&self) -> &'static str {
        match self {
            AgentEvent::AgentCreated(_) => "AgentCreated",
            AgentEvent::AgentUpdated(_) => "AgentUpdated",
            AgentEvent::AgentDeleted(_) => "AgentDeleted",
            AgentEvent::AgentPresenceChanged(_) => "AgentPresenceChanged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentCommand {
    Create {
        profile: Profile,
        by: String,
        at: Millis,
    },
    Update {
        profile: Profile,
        by: String,
        at: Millis,
    },
    Delete {
        by: String,
        at: Millis,
    },
    SetPresence {
        presence: Presence,
        at: Millis,
    },
}

/// Why a command is refused. Nothing is recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentRejection {
    #[error("the agent exists already")]
    Exists,
    #[error("no such agent")]
    NotFound,
    #[error("{field}: {why}")]
    Invalid { field: String, why: String },
}

impl Rejection for AgentRejection {
    fn kind(&self) -> RejectionKind {
        match self {
            AgentRejection::Exists => RejectionKind::Conflict,
            AgentRejection::NotFound => RejectionKind::NotFound,
            AgentRejection::Invalid { .. } => RejectionKind::Invalid,
        }
    }
}

fn invalid(field: impl Into<String>, why: impl Into<String>) -> AgentRejection {
    AgentRejection::Invalid {
        field: field.into(),
        why: why.into(),
    }
}

/// Every rule of a profile, the field named.
pub fn validate(p: &Profile) -> Result<(), AgentRejection> {
    if p.skills.len() > MAX_SKILLS {
        return Err(invalid("skills", format!("at most {MAX_SKILLS}")));
    }
    for (k, level) in &p.skills {
        if !skill_ok(k) {
            return Err(invalid(
                "skills",
                format!("{k:?} is not a skill key (letters, digits, _ . -, at most 64)"),
            ));
        }
        if *level > MAX_LEVEL {
            return Err(invalid(
                format!("skills.{k}"),
                format!("the level must be 0 to {MAX_LEVEL}"),
            ));
        }
    }
    if p.languages.len() > MAX_LANGUAGES {
        return Err(invalid("languages", format!("at most {MAX_LANGUAGES}")));
    }
    for (i, l) in p.languages.iter().enumerate() {
        if !language_ok(l) {
            return Err(invalid(
                format!("languages[{i}]"),
                format!("{l:?} is not an ISO 639 code such as \"en\" or \"deu\""),
            ));
        }
        if p.languages[..i].contains(l) {
            return Err(invalid(
                format!("languages[{i}]"),
                format!("{l:?} is listed twice"),
            ));
        }
    }
    for (media, n) in &p.capacity {
        if !MEDIA.contains(&media.as_str()) {
            return Err(invalid(
                "capacity",
                format!("{media:?} is not a media ({})", MEDIA.join(", ")),
            ));
        }
        if *n > MAX_CAPACITY {
            return Err(invalid(
                format!("capacity.{media}"),
                format!("must be 0 to {MAX_CAPACITY}"),
            ));
        }
    }
    Ok(())
}

/// An agent as rebuilt from its events.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Agent {
    /// `None` before it is created.
    pub profile: Option<Profile>,
    pub deleted: bool,
    pub presence: Presence,
    /// Since when it is in its presence.
    pub since: Millis,
    /// Milliseconds spent in each presence before the current one (`logged_out`, `ready`,
    /// `not_ready`).
    pub time_in: BTreeMap<String, i64>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Events applied: the stream version.
    pub version: u64,
}

impl Agent {
    /// Created and not deleted.
    pub fn is_active(&self) -> bool {
        self.profile.is_some() && !self.deleted
    }

    /// Milliseconds spent in each presence up to `now`, the current one included.
    pub fn time_in_at(&self, now: Millis) -> BTreeMap<String, i64> {
        let mut t = self.time_in.clone();
        *t.entry(self.presence.name().to_string()).or_default() += (now.0 - self.since.0).max(0);
        t
    }
}

/// Decides what a command records, or why it is refused.
pub fn decide(state: &Agent, command: &AgentCommand) -> Result<Vec<AgentEvent>, AgentRejection> {
    match command {
        AgentCommand::Create { profile, by, at } => {
            if state.is_active() {
                return Err(AgentRejection::Exists);
            }
            validate(profile)?;
            Ok(vec![AgentEvent::AgentCreated(AgentCreated {
                profile: profile.clone(),
                by: by.clone(),
                at: *at,
            })])
        }
        AgentCommand::Update { profile, by, at } => {
            if !state.is_active() {
                return Err(AgentRejection::NotFound);
            }
            validate(profile)?;
            if state.profile.as_ref() == Some(profile) {
                return Ok(Vec::new());
            }
            Ok(vec![AgentEvent::AgentUpdated(AgentUpdated {
                profile: profile.clone(),
                by: by.clone(),
                at: *at,
            })])
        }
        AgentCommand::Delete { by, at } => {
            if !state.is_active() {
                return Err(AgentRejection::NotFound);
            }
            Ok(vec![AgentEvent::AgentDeleted(AgentDeleted {
                by: by.clone(),
                at: *at,
            })])
        }
        AgentCommand::SetPresence { presence, at } => {
            if !state.is_active() {
                return Err(AgentRejection::NotFound);
            }
            if let Presence::NotReady { reason } = presence {
                // One line of display text (the single-line rule), not blank.
                let ok = !reason.trim().is_empty()
                    && reason.chars().count() <= MAX_REASON
                    && !reason.chars().any(crate::domain::header::refused);
                if !ok {
                    return Err(invalid(
                        "reason",
                        format!("one line of at most {MAX_REASON} characters, not blank"),
                    ));
                }
            }
            if state.presence == *presence {
                return Ok(Vec::new());
            }
            Ok(vec![AgentEvent::AgentPresenceChanged(
                AgentPresenceChanged {
                    presence: presence.clone(),
                    at: *at,
                },
            )])
        }
    }
}

/// Applies one event.
pub fn evolve(mut s: Agent, event: &AgentEvent) -> Agent {
    s.version += 1;
    match event {
        AgentEvent::AgentCreated(e) => {
            s.profile = Some(e.profile.clone());
            s.deleted = false;
            s.presence = Presence::LoggedOut;
            s.since = e.at;
            s.time_in.clear();
            s.created_at = e.at;
            s.updated_at = e.at;
        }
        AgentEvent::AgentUpdated(e) => {
            s.profile = Some(e.profile.clone());
            s.updated_at = e.at;
        }
        AgentEvent::AgentDeleted(e) => {
            change_presence(&mut s, Presence::LoggedOut, e.at);
            s.deleted = true;
            s.updated_at = e.at;
        }
        AgentEvent::AgentPresenceChanged(e) => change_presence(&mut s, e.presence.clone(), e.at),
    }
    s
}

fn change_presence(s: &mut Agent, presence: Presence, at: Millis) {
    *s.time_in.entry(s.presence.name().to_string()).or_default() += (at.0 - s.since.0).max(0);
    s.presence = presence;
    s.since = at;
}

impl Aggregate for Agent {
    type Id = AgentId;
    type Command = AgentCommand;
    type Event = AgentEvent;
    type Rejection = AgentRejection;
    const KIND: &'static str = "agent";

    fn stream(id: &AgentId) -> String {
        format!("agent-{id}")
    }
    fn decide(&self, command: &AgentCommand) -> Result<Vec<AgentEvent>, AgentRejection> {
        decide(self, command)
    }
    fn evolve(self, event: &AgentEvent) -> Self {
        evolve(self, event)
    }
    fn event_type(event: &AgentEvent) -> &'static str {
        event.event_type()
    }
    fn exists(&self) -> bool {
        self.profile.is_some()
    }
}

#[cfg(test)]
mod tests;
