//! Screening and categorisation of a new message (the Content Analyzer role): the configured
//! rules (`domain::screening`), the detected language and the trained classifier (`classify`)
//! turn a message into an [`Analysis`] that the workflow records with the receipt. Built from the
//! configuration at start (and on reload): every problem names the key and the file.
//!
//! Analysis is CPU work on data the shell already holds, so ingest runs it on its parse threads
//! and the web form in its handler; nothing here waits on I/O.

use crate::classify::evaluate::read_jsonl;
use crate::classify::{language, Classifier, Training};
use crate::domain::interaction::ScreeningMatch;
use crate::domain::screening::{Input, RuleSet};
use crate::domain::workflow::Analysis;
use crate::domain::QueueName;
use crate::settings::WorkflowSettings;

/// The rules, the classifier and their settings, compiled and trained.
pub struct Analyzer {
    rules: RuleSet,
    classifier: Option<Classifier>,
    threshold: f64,
    languages: Vec<String>,
    /// A digest of the configuration that built it, recorded with each screening.
    version: String,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("rules", &self.rules.len())
            .field(
                "categories",
                &self.classifier.as_ref().map(|c| c.categories().len()),
            )
            .field("version", &self.version)
            .finish()
    }
}

fn read(key: &str, path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{key}: cannot read {}: {e}", path.display()))
}

impl Analyzer {
    /// Compiles the rules and trains the classifier the workflow settings name, with
    /// `corrections` (people's categories of earlier messages) added to its examples when there
    /// are examples at all. `queues` are the queues of the business process: a rule may only
    /// move interactions to one of them.
    pub fn from_settings(
        w: &WorkflowSettings,
        queues: &[QueueName],
        corrections: &[crate::classify::Example],
    ) -> Result<Analyzer, String> {
        let mut digest = Vec::new();
        let rules = match &w.rules {
            Some(path) => {
                let text = read("workflow.rules", path)?;
                digest.extend(text.as_bytes());
                RuleSet::from_toml(&text)
                    .map_err(|e| format!("workflow.rules: {}: {e}", path.display()))?
            }
            None => RuleSet::empty(),
        };
        for (rule, queue) in rules.queues() {
            let known = QueueName::parse(queue)
                .ok()
                .is_some_and(|q| queues.contains(&q));
            if !known {
                return Err(format!(
                    "workflow.rules: rule {rule:?} moves to queue {queue:?}, which is not one of \
                     workflow.queues"
                ));
            }
        }
        let c = &w.categories;
        if !(0.0..=1.0).contains(&c.threshold) {
            return Err("workflow.categories.threshold: must be between 0 and 1".into());
        }
        let mut examples = Vec::new();
        for (i, path) in c.examples.iter().enumerate() {
            let key = format!("workflow.categories.examples[{i}]");
            let text = read(&key, path)?;
            digest.extend(text.as_bytes());
            let labelled =
                read_jsonl(&text).map_err(|e| format!("{key}: {}: {e}", path.display()))?;
            examples.extend(labelled.iter().map(|l| l.example()));
        }
        if !examples.is_empty() {
            for c in corrections {
                digest.extend(format!("\0{}\0{}", c.category, c.text).as_bytes());
            }
            examples.extend(corrections.iter().cloned());
        }
        let classifier = if examples.is_empty() {
            None
        } else {
            Some(
                Classifier::train(&examples, Training::default())
                    .map_err(|e| format!("workflow.categories.examples: {e}"))?,
            )
        };
        for (i, l) in c.languages.iter().enumerate() {
            if whatlang::Lang::from_code(l).is_none() {
                return Err(format!(
                    "workflow.categories.languages[{i}]: {l:?} is not an ISO 639-3 code such as \"eng\" or \"deu\""
                ));
            }
        }
        digest.extend(format!("{}|{:?}", c.threshold, c.languages).as_bytes());
        let hash = crate::events::codec::sha256(&digest);
        Ok(Analyzer {
            rules,
            classifier,
            threshold: c.threshold,
            languages: c.languages.clone(),
            version: hex::encode(&hash[..6]),
        })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether a classifier categorises (examples are configured).
    pub fn categorises(&self) -> bool {
        self.classifier.is_some()
    }

    /// Whether anything is configured to screen with (rules or examples). Without, messages
    /// are not screened: no step is recorded, no language detected.
    pub fn is_configured(&self) -> bool {
        !self.rules.is_empty() || self.classifier.is_some()
    }

    /// What the rules and the classifier find in `input`; `None` when nothing is configured.
    pub fn screen(&self, input: Input) -> Option<Analysis> {
        self.is_configured().then(|| self.analyze(input))
    }

    /// What the rules and the classifier find in `input` (its language is detected here).
    pub fn analyze(&self, mut input: Input) -> Analysis {
        let text = format!("{}\n{}", input.subject, input.body);
        let allow: Vec<&str> = self.languages.iter().map(String::as_str).collect();
        input.language = language(&text, &allow).map(String::from);
        let outcome = self.rules.evaluate(&input);
        // A rule's category is certain; the classifier only runs when no rule set one (its
        // categories above the threshold, best first).
        let categories: Vec<(String, u16)> = if !outcome.categories.is_empty() {
            Vec::new()
        } else {
            self.classifier
                .as_ref()
                .map(|c| {
                    c.categories_above(&text, self.threshold)
                        .into_iter()
                        .map(|(name, p)| (name, (p * 1000.0).round().clamp(0.0, 1000.0) as u16))
                        .collect()
                })
                .unwrap_or_default()
        };
        Analysis {
            version: self.version.clone(),
            matched: outcome
                .matched
                .iter()
                .map(|m| ScreeningMatch {
                    rule: m.rule.clone(),
                    evidence: m
                        .evidence
                        .iter()
                        .map(|e| format!("{} {}: {}", e.field, e.test, e.found))
                        .collect(),
                    actions: m.actions.iter().map(|a| a.to_string()).collect(),
                })
                .collect(),
            stop: outcome.stop.clone(),
            rule_categories: outcome.categories.clone(),
            categories,
            priority: outcome.priority,
            attributes: outcome.attributes.clone(),
            // Checked against the configured queues when the rules were loaded.
            queue: outcome
                .queue
                .as_deref()
                .and_then(|q| QueueName::parse(q).ok()),
            language: input.language,
        }
    }
}
