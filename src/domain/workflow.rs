//! The default workflow as a process: which commands follow from an interaction's events. Pure:
//! the shells (the receive path, the sweep that finishes what a crash interrupted, and later the
//! routing and outbox processes) run what [`Workflow::react`] answers.
//!
//! A new inbound interaction is screened (what the rules and the classifier found, computed by
//! the shell and handed in as an [`Analysis`]: the step is recorded, a stop ends the workflow,
//! categories are recorded), placed in a queue (a rule's queue, else the channel's queue when it
//! names one, such as a mailbox's queue for malformed mail or bounces, else the configured
//! inbound queue) and, when the workflow acknowledges (only with a mail server to send through),
//! its acknowledgement is planned: the answering process (`app::answer`) asks the loop policy and
//! composes it. All of it is one append with the receipt.

use crate::domain::interaction::InboundStatus;
use crate::domain::interaction::{
    AnswerUsage, Interaction, InteractionCommand, InteractionEvent, InteractionScreened,
    ScreeningMatch, Status,
};
use crate::domain::{Millis, Principal, QueueName};

/// What screening and categorisation found in a new message: the rules that matched and what
/// they ask, the detected language, and the categories with their confidence (thousandths),
/// best first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The screening configuration that produced it (a digest).
    pub version: String,
    pub matched: Vec<ScreeningMatch>,
    pub stop: Option<String>,
    pub categories: Vec<(String, u16)>,
    pub priority: Option<i32>,
    pub attributes: std::collections::BTreeMap<String, String>,
    /// The queue a rule moves it to.
    pub queue: Option<QueueName>,
    pub language: Option<String>,
}

/// Who screening's stops are recorded by.
pub const SCREENING: &str = "system:screening";

/// The workflow's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    /// Where new inbound interactions go unless their channel says otherwise.
    pub inbound_queue: QueueName,
    /// Plan an acknowledgement for every new customer message (the loop policy decides later
    /// whether it goes out).
    pub acknowledge: bool,
}

impl Workflow {
    /// Who the workflow's commands are recorded under.
    pub fn principal() -> Principal {
        Principal::System("workflow".into())
    }

    /// The commands that follow from `events`, recorded on an interaction now in state `after`.
    /// `requested` is the queue its channel asked for, if any; `analysis` what screening and
    /// categorisation found in it.
    pub fn react(
        &self,
        events: &[InteractionEvent],
        after: &Interaction,
        requested: Option<&QueueName>,
        analysis: Option<&Analysis>,
        at: Millis,
    ) -> Vec<InteractionCommand> {
        let received = events
            .iter()
            .any(|e| matches!(e, InteractionEvent::InteractionReceived(_)));
        if received {
            let mut commands = Vec::new();
            if let Some(a) = analysis.filter(|_| !after.is_reply()) {
                commands.push(InteractionCommand::Screen {
                    screened: Box::new(InteractionScreened {
                        version: a.version.clone(),
                        matched: a.matched.clone(),
                        language: a.language.clone(),
                        priority: a.priority,
                        attributes: a.attributes.clone(),
                        at,
                    }),
                });
                // Recorded lowest confidence first: the state's category is the latest, the best.
                for (category, confidence) in a.categories.iter().rev() {
                    commands.push(InteractionCommand::Categorise {
                        category: category.clone(),
                        confidence_permille: *confidence,
                        at,
                    });
                }
                if let Some(reason) = &a.stop {
                    // Stopped (spam, out of office): neither queued nor answered.
                    commands.push(InteractionCommand::Stop {
                        by: SCREENING.into(),
                        reason: reason.clone(),
                        at,
                    });
                    return commands;
                }
            }
            let requested = analysis.and_then(|a| a.queue.as_ref()).or(requested);
            commands.extend(self.place(after, requested, at));
            if self.acknowledge && !after.is_reply() && after.auto_answer.is_none() {
                commands.push(InteractionCommand::PlanAutoAnswer {
                    usage: AnswerUsage::Acknowledgement,
                    at,
                });
            }
            commands
        } else {
            Vec::new()
        }
    }

    /// What an interaction left received (by a crash, or a request that failed half way) needs:
    /// the same placement a new one gets.
    pub fn resume(&self, state: &Interaction, at: Millis) -> Option<InteractionCommand> {
        self.place(state, None, at)
    }

    fn place(
        &self,
        state: &Interaction,
        requested: Option<&QueueName>,
        at: Millis,
    ) -> Option<InteractionCommand> {
        (state.status == Status::Inbound(InboundStatus::Received) && !state.is_reply()).then(|| {
            InteractionCommand::Enqueue {
                queue: requested.unwrap_or(&self.inbound_queue).clone(),
                at,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interaction::{decide, evolve, Channel, Interaction};
    use crate::domain::EmailAddress;

    fn received() -> (Vec<InteractionEvent>, Interaction) {
        let cmd = InteractionCommand::Receive {
            channel: Channel::WebForm,
            from: EmailAddress::parse("ann@example.com").unwrap(),
            from_name: None,
            subject: "Invoice charged twice".into(),
            content: None,
            priority: 0,
            message: None,
            thread: None,
            at: Millis(1),
        };
        let events = decide(&Interaction::default(), &cmd).unwrap();
        let state = events.iter().fold(Interaction::default(), evolve);
        (events, state)
    }

    fn workflow(acknowledge: bool) -> Workflow {
        Workflow {
            inbound_queue: QueueName::parse("inbound").unwrap(),
            acknowledge,
        }
    }

    fn names(commands: &[InteractionCommand]) -> Vec<&'static str> {
        commands.iter().map(|c| c.name()).collect()
    }

    /// Runs the commands as the receive path does: each decided on the state the previous left.
    fn run(state: Interaction, commands: &[InteractionCommand]) -> Interaction {
        commands.iter().fold(state, |s, c| {
            decide(&s, c)
                .unwrap_or_else(|r| panic!("{} refused: {r:?}", c.name()))
                .iter()
                .fold(s, evolve)
        })
    }

    #[test]
    fn without_analysis_a_message_is_queued_and_its_acknowledgement_planned() {
        let (events, state) = received();
        let c = workflow(true).react(&events, &state, None, None, Millis(2));
        assert_eq!(names(&c), ["enqueue", "plan_auto_answer"]);
        let c = workflow(false).react(&events, &state, None, None, Millis(2));
        assert_eq!(names(&c), ["enqueue"]);
    }

    #[test]
    fn screening_is_recorded_categories_best_last_and_a_rule_may_choose_the_queue() {
        let (events, state) = received();
        let analysis = Analysis {
            version: "v".into(),
            categories: vec![("billing".into(), 800), ("complaint".into(), 550)],
            queue: QueueName::parse("billing").ok(),
            priority: Some(5),
            language: Some("eng".into()),
            ..Analysis::default()
        };
        let requested = QueueName::parse("malformed").unwrap();
        let c = workflow(true).react(
            &events,
            &state,
            Some(&requested),
            Some(&analysis),
            Millis(2),
        );
        assert_eq!(
            names(&c),
            [
                "screen",
                "categorise",
                "categorise",
                "enqueue",
                "plan_auto_answer"
            ]
        );
        let after = run(state, &c);
        assert_eq!(after.category.as_deref(), Some("billing"));
        assert_eq!(
            after.categories,
            [("complaint".to_string(), 550), ("billing".to_string(), 800)]
        );
        assert_eq!(after.queue.as_ref().map(|q| q.as_str()), Some("billing"));
        assert_eq!(after.priority, 5);
        assert_eq!(after.language.as_deref(), Some("eng"));
    }

    #[test]
    fn a_stop_ends_the_workflow_neither_queued_nor_answered() {
        let (events, state) = received();
        let analysis = Analysis {
            version: "v".into(),
            stop: Some("spam".into()),
            ..Analysis::default()
        };
        let c = workflow(true).react(&events, &state, None, Some(&analysis), Millis(2));
        assert_eq!(names(&c), ["screen", "stop"]);
        let after = run(state, &c);
        assert_eq!(
            after.status,
            Status::Stopped {
                reason: "spam".into()
            }
        );
    }
}
