//! The business process in force: the workflow's steps (`domain::workflow`), the analyzer its
//! screening and categorisation steps use, and what its automatic answers say and how many one
//! contact may get: built together from the configuration and swapped together on reload, so
//! that a message is analysed, routed and answered by one version. The version (a digest of all
//! of it) is recorded with every run of the process and on the log's `process` stream when it
//! comes into force.

use super::analyze::Analyzer;
use crate::domain::loop_guard::Budget;
use crate::domain::workflow::Workflow;
use crate::settings::{AnswerTemplate, Settings};
use std::collections::VecDeque;
use std::sync::{Arc, RwLock};

/// One version of the business process.
#[derive(Debug)]
pub struct Process {
    pub workflow: Workflow,
    pub analyzer: Analyzer,
    /// The loop policy's budget for automatic answers.
    pub budget: Budget,
    pub acknowledgement: AnswerTemplate,
    /// The configuration it was built from, as recorded in the log (JSON).
    pub definition: String,
    /// The settings it was built from (a retraining builds the next version from them).
    pub settings: Settings,
    /// Which of people's category corrections its classifier was trained with
    /// (`Corrections::key`; that of none without a classifier).
    pub corrections_key: [u8; 32],
}

/// People's category corrections, as the projections keep them (the latest per interaction):
/// what a classifier is trained with besides the examples files. Reading them is cheap; their
/// texts come from the content store only when a classifier is to be trained with them.
#[derive(Debug, Clone, Default)]
pub struct Corrections {
    labels: Vec<(crate::domain::InteractionId, String)>,
    examples: Vec<crate::classify::Example>,
}

impl Corrections {
    /// Which interactions were corrected to what (no texts yet).
    pub fn read(projections: &crate::projections::ProjectionRunner) -> Corrections {
        Corrections {
            labels: projections.read(|p| {
                p.corrections
                    .iter()
                    .map(|(id, c)| (*id, c.clone()))
                    .collect()
            }),
            examples: Vec::new(),
        }
    }

    /// What identifies them: an interaction's text never changes, so its id stands for it.
    pub fn key(&self) -> [u8; 32] {
        let mut bytes = Vec::new();
        for (id, category) in &self.labels {
            bytes.extend(id.as_uuid().as_bytes());
            bytes.extend(category.as_bytes());
            bytes.push(0);
        }
        crate::events::codec::sha256(&bytes)
    }

    /// With each corrected message's subject and text read, as training examples.
    pub fn with_texts(
        mut self,
        projections: &crate::projections::ProjectionRunner,
        content: &dyn crate::storage::ContentStore,
    ) -> Corrections {
        let found: Vec<(String, Option<crate::domain::ContentRef>, String)> =
            projections.read(|p| {
                self.labels
                    .iter()
                    .filter_map(|(id, category)| {
                        let s = p.cache.get(id)?;
                        Some((s.subject.clone(), s.content.clone(), category.clone()))
                    })
                    .collect()
            });
        self.examples = found
            .into_iter()
            .map(|(subject, body, category)| {
                // A body the store no longer has still leaves its subject to learn from.
                let body = body
                    .and_then(|r| content.get(&r).ok().flatten())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                crate::classify::Example {
                    text: format!("{subject}\n{body}"),
                    category,
                }
            })
            .collect();
        self
    }

    /// What a process built from `settings` trains with: the corrections with their texts when
    /// examples files are configured (corrections refine a classifier, never start one), else
    /// none read.
    pub fn for_settings(
        settings: &Settings,
        projections: &crate::projections::ProjectionRunner,
        content: &dyn crate::storage::ContentStore,
    ) -> Corrections {
        if settings.workflow.categories.examples.is_empty() {
            Corrections::default()
        } else {
            Corrections::read(projections).with_texts(projections, content)
        }
    }
}

impl Process {
    /// Compiles the rules, trains the classifier and checks the steps the settings name; every
    /// problem names its key (and file). `sending`: whether a mail server is in force (from the
    /// start: `[smtp]` takes effect at the next start).
    /// `corrections`: people's categories of earlier messages (with their texts), added to
    /// the classifier's examples.
    pub fn from_settings(
        settings: &Settings,
        sending: bool,
        corrections: &Corrections,
    ) -> Result<Process, String> {
        let w = &settings.workflow;
        let queues = settings.queue_names();
        let analyzer = Analyzer::from_settings(w, &queues, &corrections.examples)?;
        let used = if analyzer.categorises() {
            corrections
        } else {
            &Corrections::default()
        };
        let definition = definition(settings, sending, used.examples.len());
        let digest = crate::events::codec::sha256(
            format!("{definition}\0{}", analyzer.version()).as_bytes(),
        );
        let mut workflow = Workflow::new(
            hex::encode(&digest[..6]),
            settings.inbound_queue(),
            &queues,
            &w.process,
        )
        .map_err(|e| e.to_string())?;
        // Only with a server to send through: without one, nothing is planned that could go
        // out unexpectedly once `[smtp]` is added later.
        workflow.sending = sending;
        workflow.acknowledge = w.acknowledge;
        workflow.service_levels = settings.service_levels().map_err(|e| e.to_string())?;
        Ok(Process {
            workflow,
            analyzer,
            budget: Budget {
                max: w.auto_answer_limit,
                period_secs: w.auto_answer_period_secs,
            },
            acknowledgement: w.acknowledgement.clone(),
            definition,
            settings: settings.clone(),
            corrections_key: used.key(),
        })
    }

    pub fn version(&self) -> &str {
        &self.workflow.version
    }
}

/// The process's configuration as a person reads it: the `[workflow]` keys that decide what
/// happens, and whether mail can go out. The contents of the rules and example files count
/// through the analyzer's version.
fn definition(settings: &Settings, sending: bool, corrections: usize) -> String {
    #[derive(serde::Serialize)]
    struct Definition<'a> {
        sending: bool,
        inbound_queue: &'a str,
        queues: &'a [String],
        acknowledge: bool,
        auto_answer_limit: u32,
        auto_answer_period_secs: i64,
        acknowledgement: Template<'a>,
        process: &'a std::collections::BTreeMap<String, Vec<crate::domain::workflow::StepSpec>>,
        /// People's corrections the classifier learnt from.
        corrections: usize,
        /// Left out when empty: a process without targets keeps the version it had before
        /// service levels existed.
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        service_levels:
            &'a std::collections::BTreeMap<String, crate::settings::ServiceLevelSettings>,
    }
    #[derive(serde::Serialize)]
    struct Template<'a> {
        subject: &'a str,
        text: &'a str,
        html: Option<&'a str>,
    }
    let w = &settings.workflow;
    let d = Definition {
        sending,
        inbound_queue: &w.inbound_queue,
        queues: &w.queues,
        acknowledge: w.acknowledge,
        auto_answer_limit: w.auto_answer_limit,
        auto_answer_period_secs: w.auto_answer_period_secs,
        acknowledgement: Template {
            subject: &w.acknowledgement.subject,
            text: &w.acknowledgement.text,
            html: w.acknowledgement.html.as_deref(),
        },
        process: &w.process,
        corrections,
        service_levels: &settings.service_levels,
    };
    serde_json::to_string(&d).unwrap_or_default()
}

/// Records on the log's `process` stream that `process` is in force (nothing when it already
/// is); `reason` is `start`, `reload` or `retrain`. Answers an error a person reads.
pub async fn record(
    log: &dyn crate::events::EventStore,
    process: &Process,
    file: Option<&std::path::Path>,
    reason: &str,
) -> Result<(), String> {
    use crate::domain::process_log::{ProcessActivated, ProcessCommand, ProcessLog, ProcessStream};
    let cmd = crate::events::aggregate::CommandEnvelope::new(
        ProcessCommand::Activate(Box::new(ProcessActivated {
            version: process.version().to_string(),
            previous: None,
            definition: process.definition.clone(),
            screening: process.analyzer.version().to_string(),
            file: file.map(|f| f.display().to_string()),
            reason: reason.into(),
            at: super::now(),
        })),
        crate::domain::workflow::Workflow::principal(),
    );
    crate::events::aggregate::execute_once::<ProcessLog>(log, &ProcessStream, &cmd)
        .await
        .map(|_| ())
        .map_err(|e| format!("recording the process version in the log: {e}"))
}

/// How many replaced versions stay at hand for what started under them (an answer planned
/// before a reload is composed with the template it was planned with).
const RETIRED: usize = 16;

struct Versions {
    current: Arc<Process>,
    retired: VecDeque<Arc<Process>>,
}

/// The process in force, swapped whole on reload. Cheap to clone.
#[derive(Clone)]
pub struct ProcessHandle(Arc<RwLock<Versions>>);

impl ProcessHandle {
    pub fn new(p: Process) -> ProcessHandle {
        ProcessHandle(Arc::new(RwLock::new(Versions {
            current: Arc::new(p),
            retired: VecDeque::new(),
        })))
    }

    /// The process in force now.
    pub fn current(&self) -> Arc<Process> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .current
            .clone()
    }

    /// The version `version` if it is at hand (in force, or replaced since this start), else
    /// the one in force.
    pub fn version(&self, version: Option<&str>) -> Arc<Process> {
        let v = self.0.read().unwrap_or_else(|p| p.into_inner());
        version
            .and_then(|version| v.retired.iter().find(|p| p.version() == version))
            .unwrap_or(&v.current)
            .clone()
    }

    /// Records `p` on the log's `process` stream, then puts it in force (recorded first: no
    /// interaction names a version the log lacks); answers the version it replaces. The
    /// version in force already changes nothing.
    pub async fn activate(
        &self,
        log: &dyn crate::events::EventStore,
        p: Process,
        file: Option<&std::path::Path>,
        reason: &str,
    ) -> Result<Arc<Process>, String> {
        let current = self.current();
        if p.version() == current.version() {
            return Ok(current);
        }
        record(log, &p, file, reason).await?;
        Ok(self.replace(p))
    }

    /// Puts `p` in force; answers the one it replaces.
    fn replace(&self, p: Process) -> Arc<Process> {
        let mut v = self.0.write().unwrap_or_else(|p| p.into_inner());
        let previous = std::mem::replace(&mut v.current, Arc::new(p));
        v.retired.push_front(previous.clone());
        v.retired.truncate(RETIRED);
        previous
    }
}
