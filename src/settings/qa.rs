//! `[qa]`: which released replies a reviewer reads before they go out (`domain::qa`).

use super::common::{invalid, SettingsError};
use crate::domain::qa::Policy;
use crate::domain::screening::{RuleSet, RuleSpec};
use crate::domain::QueueName;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The QA policy as configured. Without `[qa]`: the replies of agents flagged trainee only.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QaSettings {
    /// The queue replies wait in for a reviewer.
    pub queue: String,
    /// Review every reply of an agent flagged trainee.
    pub trainees: bool,
    /// Review each agent's first this many replies.
    pub first_replies: u32,
    /// Review replies to interactions in these categories.
    pub sensitive_categories: Vec<String>,
    /// Review this percentage of the other replies, drawn at random (0 to 100, two decimals).
    pub sample_percent: f64,
    /// Review replies these conditions match (the screening rule language; fields `subject`,
    /// `body`, `text`, `to`).
    pub patterns: Vec<QaPattern>,
}

/// One pattern: a name (what the decision records) and a condition.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QaPattern {
    pub name: String,
    pub when: String,
}

impl Default for QaSettings {
    fn default() -> Self {
        QaSettings {
            queue: "review".into(),
            trainees: true,
            first_replies: 0,
            sensitive_categories: Vec::new(),
            sample_percent: 0.0,
            patterns: Vec::new(),
        }
    }
}

impl QaSettings {
    /// The policy, or the key that is wrong.
    pub fn policy(&self) -> Result<Policy, SettingsError> {
        let queue =
            QueueName::parse(&self.queue).map_err(|e| invalid("qa.queue", e.to_string()))?;
        if !(0.0..=100.0).contains(&self.sample_percent) {
            return Err(invalid("qa.sample_percent", "must be between 0 and 100"));
        }
        for (i, c) in self.sensitive_categories.iter().enumerate() {
            if c.trim().is_empty() {
                return Err(invalid(
                    &format!("qa.sensitive_categories[{i}]"),
                    "must not be blank",
                ));
            }
        }
        let specs: Vec<RuleSpec> = self
            .patterns
            .iter()
            .map(|p| RuleSpec {
                name: p.name.clone(),
                when: p.when.clone(),
                stop: None,
                category: None,
                priority: None,
                attributes: [("qa".to_string(), "review".to_string())].into(),
                queue: None,
            })
            .collect();
        let patterns = RuleSet::compile(&specs).map_err(|e| {
            let i = self.patterns.iter().position(|p| p.name == e.rule);
            let key = i.map_or("qa.patterns".to_string(), |i| format!("qa.patterns[{i}]"));
            invalid(&key, e.message)
        })?;
        let digest = Sha256::digest(format!("{self:?}").as_bytes());
        Ok(Policy {
            queue,
            trainees: self.trainees,
            first_replies: self.first_replies,
            sensitive: self.sensitive_categories.iter().cloned().collect(),
            sample_basis_points: (self.sample_percent * 100.0).round() as u32,
            patterns,
            digest: format!("qa-{}", hex::encode(&digest[..6])),
        })
    }
}
