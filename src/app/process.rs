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
    /// How many of people's category corrections its classifier was trained with…
    pub corrections: usize,
    /// …and which (`corrections_key`).
    pub corrections_key: [u8; 32],
}

/// What identifies a set of corrections (their order included).
pub fn corrections_key(corrections: &[crate::classify::Example]) -> [u8; 32] {
    let mut bytes = Vec::new();
    for c in corrections {
        bytes.extend(c.category.as_bytes());
        bytes.push(0);
        bytes.extend(c.text.as_bytes());
        bytes.push(0);
    }
    crate::events::codec::sha256(&bytes)
}

impl Process {
    /// Compiles the rules, trains the classifier and checks the steps the settings name; every
    /// problem names its key (and file). `sending`: whether a mail server is in force (from the
    /// start: `[smtp]` takes effect at the next start).
    /// `corrections`: people's categories of earlier messages, added to the classifier's
    /// examples.
    pub fn from_settings(
        settings: &Settings,
        sending: bool,
        corrections: &[crate::classify::Example],
    ) -> Result<Process, String> {
        let w = &settings.workflow;
        let queues = settings.queue_names();
        let analyzer = Analyzer::from_settings(w, &queues, corrections)?;
        let used = if analyzer.categorises() {
            corrections.len()
        } else {
            0
        };
        let definition = definition(settings, sending, used);
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
            corrections: used,
            corrections_key: corrections_key(&corrections[..used]),
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
    };
    serde_json::to_string(&d).unwrap_or_default()
}

/// Records on the log's `process` stream that `process` is in force (nothing when it already
/// is); `reason` is `start` or `reload`. Answers an error a person reads.
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

    /// Puts `p` in force; answers the one it replaces.
    pub fn replace(&self, p: Process) -> Arc<Process> {
        let mut v = self.0.write().unwrap_or_else(|p| p.into_inner());
        let previous = std::mem::replace(&mut v.current, Arc::new(p));
        v.retired.push_front(previous.clone());
        v.retired.truncate(RETIRED);
        previous
    }
}
