//! The default workflow as a process: which commands follow from an interaction's events. Pure:
//! the shells (the receive path, the sweep that finishes what a crash interrupted, and later the
//! routing and outbox processes) run what [`Workflow::react`] answers.
//!
//! A new inbound interaction is placed in a queue (the channel's queue when it names one, such
//! as a mailbox's queue for malformed mail or bounces; else the configured inbound queue) and,
//! when the workflow acknowledges (only with a mail server to send through), its acknowledgement
//! is planned: the answering process (`app::answer`) asks the loop policy and composes it.

use crate::domain::interaction::InboundStatus;
use crate::domain::interaction::{
    AnswerUsage, Interaction, InteractionCommand, InteractionEvent, Status,
};
use crate::domain::{Millis, Principal, QueueName};

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
    /// `requested` is the queue its channel asked for, if any.
    pub fn react(
        &self,
        events: &[InteractionEvent],
        after: &Interaction,
        requested: Option<&QueueName>,
        at: Millis,
    ) -> Vec<InteractionCommand> {
        let received = events
            .iter()
            .any(|e| matches!(e, InteractionEvent::InteractionReceived(_)));
        if received {
            let mut commands: Vec<_> = self.place(after, requested, at).into_iter().collect();
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
