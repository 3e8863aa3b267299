//! The registry of interaction actors (virtual actors): activates an actor on demand from its
//! latest snapshot plus the events after it, and lets idle ones passivate.
//!
//! No message is lost at the passivation edge: an actor stops only between messages, and a
//! message that reaches a stopping actor's closed mailbox was not applied, so the registry
//! activates a fresh actor and sends it again.

use super::interaction::{Execute, GetState, InteractionActor, Outcome};
use crate::domain::interaction::{Interaction, InteractionCommand, Rejection};
use crate::domain::{InteractionId, Principal};
use crate::events::{codec, EventStore, StoreError};
use crate::projections::snapshot::layout_fingerprint;
use actix::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What can go wrong running a command.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Rejected(Rejection),
    #[error("the interaction was changed concurrently; try again")]
    Conflict,
    #[error("event log: {0}")]
    Store(Arc<StoreError>),
    #[error("the interaction's actor did not answer")]
    Unavailable,
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        EngineError::Store(Arc::new(e))
    }
}

/// A command with the envelope data its events will carry.
#[derive(Debug, Clone)]
pub struct CommandEnvelope {
    pub command: InteractionCommand,
    pub principal: Principal,
    pub correlation_id: uuid::Uuid,
    pub causation_id: Option<uuid::Uuid>,
}

impl CommandEnvelope {
    pub fn new(command: InteractionCommand, principal: Principal) -> Self {
        CommandEnvelope {
            command,
            principal,
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
        }
    }
}

/// Per-interaction state snapshots in a sled tree, so activation does not replay long streams.
/// A snapshot is a cache: one that does not decode (an older layout) is ignored.
#[derive(Clone)]
pub struct AggregateSnapshots {
    tree: sled::Tree,
}

impl AggregateSnapshots {
    pub fn open(db: &sled::Db) -> Result<Self, StoreError> {
        let tree = db.open_tree("aggregate_snapshots").map_err(|e| {
            StoreError::io("opening snapshots", std::io::Error::other(e.to_string()))
        })?;
        Ok(AggregateSnapshots { tree })
    }

    pub fn load(&self, stream: &str) -> Option<Interaction> {
        let bytes = self.tree.get(stream).ok()??;
        if bytes.len() < 32 || bytes[..32] != layout_fingerprint() {
            return None;
        }
        codec::decode(&bytes[32..]).ok()
    }

    pub fn save(&self, stream: &str, state: &Interaction) {
        let mut bytes = layout_fingerprint().to_vec();
        bytes.extend_from_slice(&codec::encode(state));
        if let Err(e) = self.tree.insert(stream, bytes) {
            tracing::warn!(stream, error = %e, "could not save an aggregate snapshot");
        }
    }
}

#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// How long an actor stays active without a message.
    pub idle: Duration,
    /// How long a caller waits for an actor's answer.
    pub timeout: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            idle: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// An active actor: its generation, address and count of messages on their way to it.
#[derive(Clone)]
struct Active {
    generation: u64,
    addr: Addr<InteractionActor>,
    in_flight: Arc<AtomicUsize>,
}

/// A message meets a stopping actor only in the instant between its last check and its stop;
/// each retry goes to a fresh actor, which cannot stop while the message is on its way.
const ATTEMPTS: usize = 16;

type ActorMap = Arc<Mutex<HashMap<InteractionId, Active>>>;

/// Finds or activates the actor of an interaction. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    actors: ActorMap,
    store: Arc<dyn EventStore>,
    snapshots: AggregateSnapshots,
    options: RegistryOptions,
    arbiter: ArbiterHandle,
    /// The arbiter's thread, joined at stop so no actor outlives the engine.
    thread: Arc<Mutex<Option<Arbiter>>>,
    generation: Arc<AtomicU64>,
    activations: Arc<AtomicU64>,
}

impl Registry {
    /// Must be called inside a running actix system: actors run on an arbiter of their own.
    pub fn new(
        store: Arc<dyn EventStore>,
        snapshots: AggregateSnapshots,
        options: RegistryOptions,
    ) -> Self {
        let thread = Arbiter::new();
        let arbiter = thread.handle();
        Registry {
            thread: Arc::new(Mutex::new(Some(thread))),
            actors: Arc::new(Mutex::new(HashMap::new())),
            store,
            snapshots,
            options,
            arbiter,
            generation: Arc::new(AtomicU64::new(0)),
            activations: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The interaction's actor, activated if needed, with one more message counted on its way.
    fn addr(&self, id: InteractionId) -> Result<Active, EngineError> {
        let mut map = self.actors.lock().map_err(|_| EngineError::Unavailable)?;
        if let Some(a) = map.get(&id) {
            if a.addr.connected() {
                a.in_flight.fetch_add(1, Ordering::SeqCst);
                return Ok(a.clone());
            }
        }
        let generation = self.generation.fetch_add(1, Ordering::SeqCst);
        let actors = self.actors.clone();
        let on_stop = Box::new(move || {
            if let Ok(mut m) = actors.lock() {
                if m.get(&id).map(|a| a.generation) == Some(generation) {
                    m.remove(&id);
                }
            }
        });
        let in_flight = Arc::new(AtomicUsize::new(1));
        let actor = InteractionActor::new(
            id,
            self.store.clone(),
            self.snapshots.clone(),
            self.options.idle,
            in_flight.clone(),
            on_stop,
        );
        let addr = InteractionActor::start_in_arbiter(&self.arbiter, move |_| actor);
        self.activations.fetch_add(1, Ordering::Relaxed);
        let active = Active {
            generation,
            addr,
            in_flight,
        };
        map.insert(id, active.clone());
        Ok(active)
    }

    fn forget(&self, id: InteractionId, generation: u64) {
        if let Ok(mut m) = self.actors.lock() {
            if m.get(&id).map(|a| a.generation) == Some(generation) {
                m.remove(&id);
            }
        }
    }

    /// Sends a message to the interaction's actor, activating it if needed.
    async fn ask<M, R>(&self, id: InteractionId, msg: M) -> Result<R, EngineError>
    where
        M: Message<Result = Result<R, EngineError>> + Clone + Send + 'static,
        R: Send + 'static,
        InteractionActor: Handler<M>,
    {
        for _ in 0..ATTEMPTS {
            let active = self.addr(id)?;
            match active
                .addr
                .send(msg.clone())
                .timeout(self.options.timeout)
                .await
            {
                Ok(result) => return result,
                // The actor stopped before it took the message: it was not applied.
                Err(MailboxError::Closed) => self.forget(id, active.generation),
                Err(MailboxError::Timeout) => return Err(EngineError::Unavailable),
            }
        }
        Err(EngineError::Unavailable)
    }

    /// Runs a command on an interaction and answers once its events are durable.
    pub async fn execute(
        &self,
        id: InteractionId,
        command: CommandEnvelope,
    ) -> Result<Outcome, EngineError> {
        self.ask(id, Execute(command)).await
    }

    /// The actor's current state (activating it if needed).
    pub async fn state(&self, id: InteractionId) -> Result<Interaction, EngineError> {
        self.ask(id, GetState).await
    }

    /// Stops every actor (each saves its snapshot) and the arbiter they run on.
    pub fn stop(&self) {
        self.arbiter.stop();
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }

    /// How many actors are active now.
    pub fn active(&self) -> usize {
        self.actors.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// How many activations happened since start (each passivation makes the next one count).
    pub fn activations(&self) -> u64 {
        self.activations.load(Ordering::Relaxed)
    }
}
