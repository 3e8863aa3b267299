//! The outbox: the one way out for everything postroom sends. Every outbound interaction with a
//! composed message waits here until the mail server accepts it. Each attempt is recorded before
//! it starts (`SendingStarted`), and its outcome the moment the server answers (`ReplySent` at
//! its final `250`; `SendFailed` with the error and the next try, or none when retrying cannot
//! help). Temporary failures are retried with a doubling wait, up to a number of attempts.
//!
//! Delivered once: the only window where a crash repeats a send is between the server's final
//! `250` and the durable append of `ReplySent`, one append long. A message found mid-attempt at
//! start-up (`Sending`) is sent again, the same bytes with the same Message-ID, so a receiving
//! system that got the first copy drops the second.

use crate::actors::{CommandEnvelope, Interactions};
use crate::domain::interaction::InteractionCommand;
use crate::domain::{InteractionId, Millis, Principal};
use crate::mail::smtp::Mailer;
use crate::projections::ProjectionRunner;
use crate::storage::ContentStore;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::{OUTBOX_FAILED_ATTEMPTS as FAILED, OUTBOX_SENT as SENT};

/// When to try again.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub initial: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Retry {
    /// The wait after failed attempt `attempt` (1-based): `initial`, doubling, at most `max`.
    pub fn wait(&self, attempt: u32) -> Duration {
        let factor = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        Duration::from_secs_f64((self.initial.as_secs_f64() * factor).min(self.max.as_secs_f64()))
    }
}

/// The outbox process. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    pub mailer: Mailer,
    pub retry: Retry,
    /// Messages sent at once (the mailer's pool size).
    pub concurrency: usize,
    pub projections: Arc<ProjectionRunner>,
    pub interactions: Interactions,
    pub content: Arc<dyn ContentStore>,
}

/// Who the outbox's records are made under.
pub fn principal() -> Principal {
    Principal::System("outbox".into())
}

impl Outbox {
    /// Sends every message that is due, a few at once; answers when each has its outcome
    /// recorded and the projections show it (so the next pass never sees a finished attempt as
    /// one in progress).
    pub async fn run_once(&self) {
        let now = super::now();
        let due: Vec<InteractionId> = self.projections.read(|p| p.outgoing.due(now));
        if due.is_empty() {
            return;
        }
        let last = futures_util::stream::iter(due)
            .map(|id| async move {
                match self.send(id).await {
                    Ok(position) => position,
                    Err(e) => {
                        tracing::warn!(interaction_id = %id, error = %e, "outbox");
                        None
                    }
                }
            })
            .buffer_unordered(self.concurrency.max(1))
            .fold(0u64, |acc, p| async move { acc.max(p.unwrap_or(0)) })
            .await;
        self.projections
            .wait_for(last, Duration::from_secs(10))
            .await;
    }

    async fn execute(&self, id: InteractionId, command: InteractionCommand) -> Result<u64, String> {
        self.interactions
            .execute(id, CommandEnvelope::new(command, principal()))
            .await
            .map(|o| o.last_position.unwrap_or(0))
            .map_err(|e| e.to_string())
    }

    /// One attempt at one message; answers the log position of its outcome.
    async fn send(&self, id: InteractionId) -> Result<Option<u64>, String> {
        let state = self
            .interactions
            .state(id)
            .await
            .map_err(|e| e.to_string())?;
        let now = super::now();
        if !state.send_due(now) {
            return Ok(None);
        }
        let Some(message) = &state.outbound else {
            return Ok(None);
        };
        let message_id = state.message_id.clone().unwrap_or_default();
        self.execute(id, InteractionCommand::StartSending { at: now })
            .await?;
        let attempt = state.attempts + 1;
        let bytes = match self.content.get(message) {
            Ok(Some(b)) => Ok(b),
            Ok(None) => Err(crate::mail::smtp::SendError {
                permanent: true,
                message: "the composed message is no longer in the content store".into(),
            }),
            Err(e) => Err(crate::mail::smtp::SendError {
                permanent: false,
                message: e.to_string(),
            }),
        };
        let outcome = match bytes {
            Ok(bytes) => self.mailer.send(&state.from, &bytes).await,
            Err(e) => Err(e),
        };
        let at = super::now().max(Millis(now.0 + 1));
        let command = match outcome {
            Ok(()) => {
                metrics::counter!(SENT).increment(1);
                InteractionCommand::MarkSent { message_id, at }
            }
            Err(e) => {
                let give_up = e.permanent || attempt >= self.retry.max_attempts;
                metrics::counter!(FAILED, "permanent" => if give_up { "true" } else { "false" })
                    .increment(1);
                let retry_at = (!give_up)
                    .then(|| Millis(at.0 + self.retry.wait(attempt).as_millis().max(1) as i64));
                tracing::warn!(interaction_id = %id, attempt, error = %e.message, give_up, "send failed");
                InteractionCommand::MarkSendFailed {
                    error: e.message,
                    retry_at,
                    at,
                }
            }
        };
        self.execute(id, command).await.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_the_maximum() {
        let r = Retry {
            initial: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            max_attempts: 10,
        };
        let waits: Vec<u64> = (1..=9).map(|a| r.wait(a).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(r.wait(1000).as_secs(), 3600);
    }
}
