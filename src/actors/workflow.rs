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
