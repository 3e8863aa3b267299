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
    /// The append is handed to the log before this returns: await the answer when convenient,
    /// so that many messages share one group commit.
    pub fn receive_and_queue(
        &self,
        store: &dyn crate::events::EventStore,
        id: InteractionId,
        receive: CommandEnvelope,
        queue: Option<QueueName>,
        content: crate::events::Content,
        now: Millis,
    ) -> Result<impl std::future::Future<Output = Result<u64, EngineError>>, EngineError> {
        use crate::domain::interaction::{decide, evolve, Interaction, Rejection};
        use crate::events::{AppendRequest, DomainEvent, ExpectedVersion, StoreError};
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
        let pending = store.append_with_content(
            AppendRequest {
                stream: id.stream(),
                expected: ExpectedVersion::NoStream,
                events,
            },
            content,
        );
        Ok(async move {
            match pending.await {
                Ok(r) => Ok(r.last_position),
                Err(StoreError::WrongExpectedVersion { .. }) => {
                    Err(EngineError::Rejected(Rejection::AlreadyExists))
                }
                Err(e) => Err(EngineError::from(e)),
            }
        })
    }
}
