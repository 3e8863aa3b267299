//! `[workflow]`: the business process, screening, categorisation and automatic answers.

use super::common::{invalid, SettingsError};
use crate::domain::workflow::{StepSpec, Workflow};
use crate::domain::QueueName;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowSettings {
    /// Where new inbound interactions enter the business process (unless their channel names
    /// a queue, such as a mailbox's queue for malformed mail).
    pub inbound_queue: String,
    /// Every queue of the business process (the inbound queue is added if missing).
    pub queues: Vec<String>,
    /// Acknowledge every customer message the loop policy allows (only with `[smtp]`).
    pub acknowledge: bool,
    /// The loop policy's budget: at most this many automatic answers to one contact…
    pub auto_answer_limit: u32,
    /// …within this many seconds.
    pub auto_answer_period_secs: i64,
    /// The acknowledgement's subject and bodies, with field codes (`{{ contact_name }}`).
    pub acknowledgement: AnswerTemplate,
    /// Screening rules (a TOML file of `[[rules]]`; see `examples/screening-rules.toml`).
    pub rules: Option<PathBuf>,
    /// Categorisation: the classifier's training examples and threshold.
    pub categories: CategorySettings,
    /// The business process: each queue's ordered steps (`[workflow.process] inbound = [{ step
    /// = "screen" }, …]`). The inbound queue without one follows the default strategy (screen,
    /// categorise, auto_respond, acknowledge, route); any other queue without one routes.
    pub process: BTreeMap<String, Vec<StepSpec>>,
}

/// `[workflow.categories]`: the Content Analyzer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategorySettings {
    /// Labelled examples (JSON lines: `{"id", "lang", "category", "subject", "body"}`) the
    /// classifier is trained from at start; none: no categorisation.
    pub examples: Vec<PathBuf>,
    /// Categories below this confidence (0 to 1) are not recorded.
    pub threshold: f64,
    /// The languages detection chooses among (ISO 639-3, such as "eng", "deu"); empty: any.
    pub languages: Vec<String>,
    /// How often (seconds) the classifier is retrained when people corrected categories since
    /// (0: never; it is also retrained at start and on reload).
    pub retrain_secs: f64,
}

impl Default for CategorySettings {
    fn default() -> Self {
        CategorySettings {
            examples: Vec::new(),
            threshold: 0.5,
            languages: Vec::new(),
            retrain_secs: 300.0,
        }
    }
}

/// An automatic answer's text: templates over the field codes (`domain::response_template`),
/// checked at load. The subject gets the thread token added if it does not show it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnswerTemplate {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

impl Default for AnswerTemplate {
    fn default() -> Self {
        AnswerTemplate {
            subject: "Re: {{ subject }}".into(),
            text: "Dear {{ contact_name }},\n\n\
                   thank you for your message. We have received it and will answer as soon as \
                   we can.\n\n\
                   If you write to us about the same matter, please keep {{ thread_token }} in \
                   the subject, or simply answer this message.\n\n\
                   Kind regards,\n\
                   Customer Support\n"
                .into(),
            html: None,
        }
    }
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        WorkflowSettings {
            inbound_queue: "inbound".into(),
            queues: vec!["inbound".into()],
            acknowledge: true,
            auto_answer_limit: 3,
            auto_answer_period_secs: 24 * 3600,
            acknowledgement: AnswerTemplate::default(),
            rules: None,
            categories: CategorySettings::default(),
            process: BTreeMap::new(),
        }
    }
}

impl WorkflowSettings {
    /// Checks the section; every queue a strategy names becomes a queue of the process.
    pub(super) fn validate(&mut self) -> Result<(), SettingsError> {
        {
            use crate::domain::response_template::{check, Kind};
            let t = &self.acknowledgement;
            let key = "workflow.acknowledgement";
            check(&t.subject, Kind::Text)
                .map_err(|e| invalid(&format!("{key}.subject"), e.to_string()))?;
            check(&t.text, Kind::Text)
                .map_err(|e| invalid(&format!("{key}.text"), e.to_string()))?;
            if let Some(html) = &t.html {
                check(html, Kind::Html)
                    .map_err(|e| invalid(&format!("{key}.html"), e.to_string()))?;
            }
        }
        let r = self.categories.retrain_secs;
        if !(r == 0.0 || (1.0..=7.0 * 86_400.0).contains(&r)) {
            return Err(invalid(
                "workflow.categories.retrain_secs",
                "must be 0 (never) or 1 to 604800 seconds",
            ));
        }
        let entry = QueueName::parse(&self.inbound_queue)
            .map_err(|e| invalid("workflow.inbound_queue", e.to_string()))?;
        let queues: Vec<QueueName> = self
            .queues
            .iter()
            .filter_map(|q| QueueName::parse(q).ok())
            .collect();
        Workflow::new(String::new(), entry, &queues, &self.process)
            .map_err(|e| invalid(&e.key, e.message))?;
        for q in self.process.keys() {
            if !self.queues.contains(q) {
                self.queues.push(q.clone());
            }
        }
        Ok(())
    }
}
