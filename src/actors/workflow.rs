//! The default workflow: what happens to a new inbound interaction. For now one step: place it in
//! the configured inbound queue. Strategies (screening, categorising, routing) come later.

use super::registry::{CommandEnvelope, EngineError, Registry};
use crate::domain::interaction::InteractionCommand;
use crate::domain::{InteractionId, Millis, Principal, QueueName};

#[derive(Clone)]
pub struct Workflow {
    pub inbound_queue: QueueName,
}

impl Workflow {
    /// Receives a new interaction and queues it. Answers once both are durable.
    pub async fn accept(
        &self,
        registry: &Registry,
        id: InteractionId,
        receive: CommandEnvelope,
        now: Millis,
    ) -> Result<u64, EngineError> {
        let correlation = receive.correlation_id;
        let received = registry.execute(id, receive).await?;
        let mut enqueue = CommandEnvelope::new(
            InteractionCommand::Enqueue {
                queue: self.inbound_queue.clone(),
                at: now,
            },
            Principal::System("workflow".into()),
        );
        enqueue.correlation_id = correlation;
        match registry.execute(id, enqueue).await {
            Ok(queued) => Ok(queued.last_position.or(received.last_position).unwrap_or(0)),
            // A supervisor moved or stopped it in between: it is no longer ours to queue.
            Err(EngineError::Rejected(r)) => {
                tracing::info!(interaction_id = %id, reason = %r, "not queued by the workflow");
                Ok(received.last_position.unwrap_or(0))
            }
            Err(e) => Err(e),
        }
    }
}

impl Workflow {
    /// Records a new inbound interaction and its first placement in a queue as one append, with
    /// the content its events refer to: the receipt under the sender's principal, the queueing
    /// under the workflow's. This is ingest's
    /// path (one durable flush per message instead of two, no actor to start); the stream must
    /// not exist yet, so the same message recorded twice is refused as `AlreadyExists`.
    ///
    /// This builds the append: hand it to the log (many at once, with `EventStore::append_all`,
    /// so that they share one group commit) and read its answer with [`Workflow::received`].
    pub fn receive_and_queue(
        &self,
        id: InteractionId,
        receive: CommandEnvelope,
        queue: Option<QueueName>,
        now: Millis,
    ) -> Result<crate::events::AppendRequest, EngineError> {
        use crate::domain::interaction::{decide, evolve, Interaction};
        use crate::events::{AppendRequest, DomainEvent, ExpectedVersion};
        let state = Interaction::default();
        let received = decide(&state, &receive.command).map_err(EngineError::Rejected)?;
        let after = received.iter().fold(state, evolve);
        let enqueue = InteractionCommand::Enqueue {
            queue: queue.unwrap_or_else(|| self.inbound_queue.clone()),
            at: now,
        };
        let queued = decide(&after, &enqueue).map_err(EngineError::Rejected)?;
        let workflow = Principal::System("workflow".into());
        let events = received
            .into_iter()
            .map(|e| (e, receive.principal.clone()))
            .chain(queued.into_iter().map(|e| (e, workflow.clone())))
            .map(|(e, principal)| {
                DomainEvent::Interaction(e).into_new_event(
                    principal,
                    receive.correlation_id,
                    receive.causation_id,
                )
            })
            .collect();
        Ok(AppendRequest {
            stream: id.stream(),
            expected: ExpectedVersion::NoStream,
            events,
        })
    }

    /// The answer to an append made by [`Workflow::receive_and_queue`]: its last position, or
    /// `AlreadyExists` when the interaction was recorded before.
    pub async fn received(pending: crate::events::PendingAppend) -> Result<u64, EngineError> {
        use crate::domain::interaction::Rejection;
        use crate::events::StoreError;
        match pending.await {
            Ok(r) => Ok(r.last_position),
            Err(StoreError::WrongExpectedVersion { .. }) => {
                Err(EngineError::Rejected(Rejection::AlreadyExists))
            }
            Err(e) => Err(EngineError::from(e)),
        }
    }
}
