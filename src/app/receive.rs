//! Receiving: a new inbound interaction (from a web form or a mailbox) becomes one append that
//! holds its receipt (under the sender's principal), the workflow's first placement (under the
//! workflow's), and the content both refer to, written in the same durable flush.
//!
//! Ingest prepares many at once and hands them to the log together (one group commit for a
//! batch); the web form receives one and waits for it.

use super::process::{Process, ProcessHandle};
use crate::domain::interaction::{Interaction, InteractionCommand, Rejection};
use crate::domain::standard_response::automatic;
use crate::domain::workflow::{AutomaticResponse, Facts, Workflow};
use crate::domain::{InteractionId, Millis, QueueName};
use crate::events::aggregate::{decide, CommandEnvelope, CommandError, Loaded};
use crate::events::{AppendRequest, Content, EventStore, PendingAppend, StoreError};
use crate::projections::ProjectionRunner;
use std::sync::Arc;

/// A new inbound interaction, ready to record.
pub struct Inbound {
    pub id: InteractionId,
    /// `InteractionCommand::Receive`, under the sender's principal.
    pub receive: CommandEnvelope<InteractionCommand>,
    /// The queue the channel asks for (a mailbox's queue for malformed mail); else the
    /// workflow's choice.
    pub queue: Option<QueueName>,
    /// What screening and categorisation found (`app::analyze`); `None`: not screened.
    pub analysis: Option<crate::domain::workflow::Analysis>,
    /// The process version that analysed it, and runs on it.
    pub process: Arc<Process>,
    /// The bytes the receipt refers to.
    pub content: Content,
    pub at: Millis,
}

/// Records new inbound interactions. Cheap to clone.
#[derive(Clone)]
pub struct Receiver {
    log: Arc<dyn EventStore>,
    process: ProcessHandle,
    /// Where the standard responses in force are read (an `auto_respond` step's choice).
    projections: Arc<ProjectionRunner>,
}

/// What can go wrong receiving.
pub type ReceiveError = CommandError<Rejection>;

impl Receiver {
    pub fn new(
        log: Arc<dyn EventStore>,
        process: ProcessHandle,
        projections: Arc<ProjectionRunner>,
    ) -> Receiver {
        Receiver {
            log,
            process,
            projections,
        }
    }

    /// The process in force: what analyses a new message and runs on it.
    pub fn process(&self) -> Arc<Process> {
        self.process.current()
    }

    /// The append that records `inbound`: the stream must not exist yet, so the same message
    /// recorded twice is refused as `AlreadyExists` (see [`Receiver::answer`]).
    pub fn prepare(&self, inbound: Inbound) -> Result<(AppendRequest, Content), ReceiveError> {
        let id = &inbound.id;
        let received = decide(&Loaded::<Interaction>::default(), id, &inbound.receive)
            .map_err(CommandError::Rejected)?;
        // The receipt and what the workflow does in answer share one append (the receipt's:
        // expected `NoStream`), each event under its own principal.
        let Some(mut append) = received.append else {
            return Err(CommandError::Rejected(Rejection::InvalidValue(
                "a receipt must record the interaction",
            )));
        };
        let mut after = received.after;
        let at = inbound.at;
        let automatic = |categories: &[String]| {
            self.projections.read(|p| {
                automatic(p.responses.live(), categories, at).map(|(id, r)| AutomaticResponse {
                    id: id.0,
                    name: r
                        .fields
                        .as_ref()
                        .map(|f| f.name.clone())
                        .unwrap_or_default(),
                })
            })
        };
        let facts = Facts {
            requested: inbound.queue.as_ref(),
            analysis: inbound.analysis.as_ref(),
            automatic: &automatic,
            at,
        };
        for command in inbound
            .process
            .workflow
            .react(&received.events, &after.state, &facts)
        {
            let cmd = inbound.receive.follow(command, Workflow::principal());
            let next = decide(&after, id, &cmd).map_err(CommandError::Rejected)?;
            append
                .events
                .extend(next.append.into_iter().flat_map(|a| a.events));
            after = next.after;
        }
        Ok((append, inbound.content))
    }

    /// Hands prepared appends to the log together: they share one group commit.
    pub fn append_all(&self, prepared: Vec<(AppendRequest, Content)>) -> Vec<PendingAppend> {
        self.log.append_all(prepared)
    }

    /// The answer to a prepared append: its last position, or `AlreadyExists` when the
    /// interaction was recorded before.
    pub async fn answer(pending: PendingAppend) -> Result<u64, ReceiveError> {
        match pending.await {
            Ok(r) => Ok(r.last_position),
            Err(StoreError::WrongExpectedVersion { .. }) => {
                Err(CommandError::Rejected(Rejection::AlreadyExists))
            }
            Err(e) => Err(CommandError::from(e)),
        }
    }

    /// Records one inbound interaction; answers its last position once durable.
    pub async fn receive(&self, inbound: Inbound) -> Result<u64, ReceiveError> {
        let (append, content) = self.prepare(inbound)?;
        Self::answer(self.log.append_with_content(append, content)).await
    }
}
