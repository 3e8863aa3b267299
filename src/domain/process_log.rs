//! The business process's own stream (`process`): which version was in force from when, with
//! the configuration that made it, recorded when the server starts with a version the log has
//! not seen in force and at every reload that changes it. Each interaction's `ProcessRan` names
//! the version it ran under; this stream says what that version was.

use super::aggregate::{Aggregate, Rejection, RejectionKind};
use super::Millis;
use serde::{Deserialize, Serialize};

/// The one instance: the process stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessStream;

impl std::fmt::Display for ProcessStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("process")
    }
}

/// A version of the business process came into force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessActivated {
    /// Its digest, as every `ProcessRan` under it records.
    pub version: String,
    /// The version it replaced (`None`: the first recorded).
    pub previous: Option<String>,
    /// Its configuration (JSON: the `[workflow]` keys that decide what happens, and whether mail
    /// can go out; the rules and examples count through the screening version).
    pub definition: String,
    /// The screening version inside it (rules and classifier).
    pub screening: String,
    /// The configuration file it was read from (`None`: the defaults).
    pub file: Option<String>,
    /// `start` or `reload`.
    pub reason: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProcessEvent {
    ProcessActivated(ProcessActivated),
}

impl ProcessEvent {
    /// Every type name this stream records.
    pub const TYPES: &'static [&'static str] = &["ProcessActivated"];

    pub fn event_type(&self) -> &'static str {
        match self {
            ProcessEvent::ProcessActivated(_) => "ProcessActivated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessCommand {
    /// Records `activated` unless its version is already the one in force.
    Activate(Box<ProcessActivated>),
}

/// Why an activation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessRejection {
    #[error("a process version must not be empty")]
    EmptyVersion,
}

impl Rejection for ProcessRejection {
    fn kind(&self) -> RejectionKind {
        RejectionKind::Invalid
    }
}

/// The versions recorded so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessLog {
    /// The version in force (the latest recorded).
    pub version: Option<String>,
    pub activations: u64,
}

impl Aggregate for ProcessLog {
    type Id = ProcessStream;
    type Command = ProcessCommand;
    type Event = ProcessEvent;
    type Rejection = ProcessRejection;
    const KIND: &'static str = "process";

    fn stream(_: &ProcessStream) -> String {
        "process".into()
    }

    fn decide(&self, command: &ProcessCommand) -> Result<Vec<ProcessEvent>, ProcessRejection> {
        let ProcessCommand::Activate(a) = command;
        if a.version.trim().is_empty() {
            return Err(ProcessRejection::EmptyVersion);
        }
        if self.version.as_deref() == Some(a.version.as_str()) {
            return Ok(Vec::new());
        }
        Ok(vec![ProcessEvent::ProcessActivated(ProcessActivated {
            previous: self.version.clone(),
            ..(**a).clone()
        })])
    }

    fn evolve(mut self, event: &ProcessEvent) -> Self {
        let ProcessEvent::ProcessActivated(a) = event;
        self.version = Some(a.version.clone());
        self.activations += 1;
        self
    }

    fn event_type(event: &ProcessEvent) -> &'static str {
        event.event_type()
    }

    fn exists(&self) -> bool {
        self.activations > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activate(version: &str) -> ProcessCommand {
        ProcessCommand::Activate(Box::new(ProcessActivated {
            version: version.into(),
            previous: None,
            definition: "{}".into(),
            screening: "s".into(),
            file: None,
            reason: "start".into(),
            at: Millis(1),
        }))
    }

    #[test]
    fn a_version_is_recorded_when_it_changes_with_the_one_it_replaced() {
        let log = ProcessLog::default();
        let events = log.decide(&activate("a")).unwrap();
        assert_eq!(events.len(), 1);
        let log = super::super::aggregate::fold(log, &events);
        assert!(log.decide(&activate("a")).unwrap().is_empty());
        let events = log.decide(&activate("b")).unwrap();
        let ProcessEvent::ProcessActivated(a) = &events[0];
        assert_eq!(a.previous.as_deref(), Some("a"));
        assert_eq!(
            log.decide(&activate(" ")),
            Err(ProcessRejection::EmptyVersion)
        );
    }
}
