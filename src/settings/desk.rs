//! `[routing]`, `[desktop]` and `[[agents]]`: how work is offered to agents, what their desktop
//! offers, and the agents a small site lists in its file.

use super::common::{invalid, SettingsError};
use crate::domain::QueueName;
use serde::Deserialize;

/// How routing offers work to agents (`[routing]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingSettings {
    /// Seconds an agent has to accept an offer; then it goes to the next best agent.
    pub offer_secs: f64,
    /// One step of priority for every this many seconds an interaction waits (0: none).
    pub ageing_secs: u32,
    /// How often routing looks for work to offer, in milliseconds (0: no automatic routing;
    /// work waits in its queue until a supervisor assigns it).
    pub every_ms: u64,
    /// A customer's answer waits this long for the agent who handled its thread when they are
    /// ready but full (0: offered to them only if they are free at once).
    pub preferred_wait_secs: f64,
    /// Expiring steps: after waiting `after_secs` in `queue`, an interaction needs only `skills`
    /// (fewer or none: more agents qualify). The latest step reached applies.
    pub widen: Vec<WidenStep>,
    /// Skills an interaction needs because of its category (its latest: the classifier's best
    /// or a person's correction), besides those its queue's `route` step asks for.
    pub category_skills: std::collections::BTreeMap<String, Vec<String>>,
}

/// One expiring step of `[routing] widen`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WidenStep {
    pub queue: String,
    pub after_secs: f64,
    #[serde(default)]
    pub skills: Vec<String>,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            offer_secs: 30.0,
            ageing_secs: 60,
            every_ms: 200,
            preferred_wait_secs: 60.0,
            widen: Vec::new(),
            category_skills: Default::default(),
        }
    }
}

/// One agent of `[[agents]]`: the user (made with `postroom users add`) and their profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    pub user: String,
    #[serde(default)]
    pub skills: std::collections::BTreeMap<String, u8>,
    #[serde(default)]
    pub languages: Vec<String>,
    /// Interactions at once per media (default `{ email = 5 }`).
    pub capacity: Option<std::collections::BTreeMap<String, u32>>,
    #[serde(default)]
    pub reviewer: bool,
    #[serde(default)]
    pub trainee: bool,
}

/// The configured agents, checked as the API checks them.
pub fn agent_profiles(
    agents: &[AgentSettings],
) -> Result<Vec<(crate::domain::AgentId, crate::domain::agent::Profile)>, SettingsError> {
    use crate::domain::agent::{validate, AgentRejection, Profile};
    let mut out = Vec::new();
    for (i, a) in agents.iter().enumerate() {
        let name = crate::domain::AgentId::parse(&a.user)
            .map_err(|e| invalid(&format!("agents[{i}].user"), e.to_string()))?;
        if out.iter().any(|(n, _)| n == &name) {
            return Err(invalid(
                &format!("agents[{i}].user"),
                format!("{name} is listed twice"),
            ));
        }
        let profile = Profile {
            skills: a.skills.clone(),
            languages: a.languages.clone(),
            capacity: a
                .capacity
                .clone()
                .unwrap_or_else(|| Profile::default().capacity),
            reviewer: a.reviewer,
            trainee: a.trainee,
        };
        validate(&profile).map_err(|e| match e {
            AgentRejection::Invalid { field, why } => invalid(&format!("agents[{i}].{field}"), why),
            other => invalid(&format!("agents[{i}]"), other.to_string()),
        })?;
        out.push((name, profile));
    }
    Ok(out)
}

/// What agents' desktops offer (`[desktop]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DesktopSettings {
    /// The disposition codes an agent may finish an interaction with (`POST …/done`).
    pub dispositions: Vec<String>,
}

impl Default for DesktopSettings {
    fn default() -> Self {
        DesktopSettings {
            dispositions: [
                "resolved",
                "information_given",
                "no_reply_needed",
                "duplicate",
                "escalated",
            ]
            .map(String::from)
            .to_vec(),
        }
    }
}

/// Checks `[routing]`, `[desktop]` and `[[agents]]`.
pub(super) fn check(
    routing: &RoutingSettings,
    desktop: &DesktopSettings,
    agents: &[AgentSettings],
) -> Result<(), SettingsError> {
    if !(1.0..=3600.0).contains(&routing.offer_secs) {
        return Err(invalid(
            "routing.offer_secs",
            "must be between 1 and 3600 seconds",
        ));
    }
    if routing.every_ms != 0 && !(10..=60_000).contains(&routing.every_ms) {
        return Err(invalid(
            "routing.every_ms",
            "must be 0 (off) or between 10 and 60000",
        ));
    }
    if !(0.0..=86_400.0).contains(&routing.preferred_wait_secs) {
        return Err(invalid(
            "routing.preferred_wait_secs",
            "must be between 0 and 86400 seconds",
        ));
    }
    for (i, step) in routing.widen.iter().enumerate() {
        let key = |f: &str| format!("routing.widen[{i}].{f}");
        if QueueName::parse(&step.queue).is_err() {
            return Err(invalid(&key("queue"), "not a queue name"));
        }
        if !(1.0..=604_800.0).contains(&step.after_secs) {
            return Err(invalid(
                &key("after_secs"),
                "must be between 1 and 604800 seconds",
            ));
        }
        if let Some(bad) = step
            .skills
            .iter()
            .find(|s| !crate::domain::agent::skill_ok(s))
        {
            return Err(invalid(
                &key("skills"),
                format!("{bad:?} is not a skill key (letters, digits, _ - ., at most 64)"),
            ));
        }
    }
    for (category, skills) in &routing.category_skills {
        if let Some(bad) = skills.iter().find(|s| !crate::domain::agent::skill_ok(s)) {
            return Err(invalid(
                &format!("routing.category_skills.{category}"),
                format!("{bad:?} is not a skill key (letters, digits, _ - ., at most 64)"),
            ));
        }
    }
    agent_profiles(agents)?;
    if desktop.dispositions.is_empty() {
        return Err(invalid(
            "desktop.dispositions",
            "must list at least one code",
        ));
    }
    for (i, code) in desktop.dispositions.iter().enumerate() {
        if !crate::domain::text::is_code(code) {
            return Err(invalid(
                &format!("desktop.dispositions[{i}]"),
                "a code is 1 to 64 of a-z, 0-9, _ - .",
            ));
        }
    }
    Ok(())
}
