//! Subscriptions: catch up from any position, then follow the live log.
//!
//! There is no separate "live" channel to switch to: a subscriber always reads the log itself from
//! its next position and only waits on the durable head when it has read everything. So the switch
//! from catch-up to live can neither skip nor repeat an event.

use super::envelope::RecordedEvent;
use super::store::{EventStore, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub struct Subscription {
    store: Arc<dyn EventStore>,
    next: u64,
    head: watch::Receiver<u64>,
}

impl Subscription {
    /// Starts after `after_position` (0 for the whole log).
    pub fn new(store: Arc<dyn EventStore>, after_position: u64) -> Self {
        let head = store.watch_head();
        Subscription {
            store,
            next: after_position + 1,
            head,
        }
    }

    /// The position of the last event handed out.
    pub fn position(&self) -> u64 {
        self.next - 1
    }

    /// Whatever is durable now, up to `max` events; empty when caught up.
    pub fn poll_batch(&mut self, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let batch = self.store.read_all(self.next, max)?;
        if let Some(last) = batch.last() {
            self.next = last.position + 1;
        }
        Ok(batch)
    }

    /// The next events, waiting for new ones when caught up. Errors once the store has closed.
    pub async fn next_batch(&mut self, max: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        loop {
            // Mark the current head seen before reading, so an append after the read wakes us.
            let head = *self.head.borrow_and_update();
            if head >= self.next {
                let batch = self.poll_batch(max)?;
                if !batch.is_empty() {
                    return Ok(batch);
                }
            }
            if self.head.changed().await.is_err() {
                return Err(StoreError::Unavailable);
            }
        }
    }

    /// Blocking variant for plain threads: waits up to `timeout` for new events.
    pub fn wait_batch(
        &mut self,
        max: usize,
        timeout: Duration,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let batch = self.poll_batch(max)?;
            if !batch.is_empty() || std::time::Instant::now() >= deadline {
                return Ok(batch);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}
