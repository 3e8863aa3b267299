//! The registry of aggregate actors (virtual actors), one per aggregate type: activates an
//! instance's actor on demand from its latest snapshot plus the events after it, and lets idle
//! ones passivate.
//!
//! No message is lost at the passivation edge: an actor stops only between messages, and a
//! message that reaches a stopping actor's closed mailbox was not applied, so the registry
//! activates a fresh actor and sends it again.

use super::aggregate::{AggregateActor, Execute, GetState, Outcome};
use crate::domain::Aggregate;
use crate::events::aggregate::{CommandEnvelope, CommandError};
use crate::events::{Content, EventStore};
use crate::storage::{AggregateSnapshots, Snapshottable};
use actix::prelude::*;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
struct Active<A: Snapshottable> {
    generation: u64,
    addr: Addr<AggregateActor<A>>,
    in_flight: Arc<AtomicUsize>,
}

impl<A: Snapshottable> Clone for Active<A> {
    fn clone(&self) -> Self {
        Active {
            generation: self.generation,
            addr: self.addr.clone(),
            in_flight: self.in_flight.clone(),
        }
    }
}

/// A message meets a stopping actor only in the instant between its last check and its stop;
/// each retry goes to a fresh actor, which cannot stop while the message is on its way.
const ATTEMPTS: usize = 16;

type ActorMap<A> = Arc<Mutex<HashMap<<A as Aggregate>::Id, Active<A>>>>;

/// Finds or activates the actor of an aggregate instance. Cheap to clone.
pub struct Registry<A: Snapshottable> {
    actors: ActorMap<A>,
    store: Arc<dyn EventStore>,
    snapshots: AggregateSnapshots<A>,
    options: RegistryOptions,
    arbiter: ArbiterHandle,
    /// The arbiter's thread, joined at stop so no actor outlives the engine.
    thread: Arc<Mutex<Option<Arbiter>>>,
    generation: Arc<AtomicU64>,
    activations: Arc<AtomicU64>,
}

impl<A: Snapshottable> Clone for Registry<A> {
    fn clone(&self) -> Self {
        Registry {
            actors: self.actors.clone(),
            store: self.store.clone(),
            snapshots: self.snapshots.clone(),
            options: self.options.clone(),
            arbiter: self.arbiter.clone(),
            thread: self.thread.clone(),
            generation: self.generation.clone(),
            activations: self.activations.clone(),
        }
    }
}

type Answer<A, R> = Result<R, CommandError<<A as Aggregate>::Rejection>>;

impl<A: Snapshottable> Registry<A> {
    /// Must be called inside a running actix system: actors run on an arbiter of their own.
    pub fn new(
        store: Arc<dyn EventStore>,
        snapshots: AggregateSnapshots<A>,
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

    /// The instance's actor, activated if needed, with one more message counted on its way.
    fn addr(&self, id: &A::Id) -> Answer<A, Active<A>> {
        let mut map = self.actors.lock().map_err(|_| CommandError::Unavailable)?;
        if let Some(a) = map.get(id) {
            if a.addr.connected() {
                a.in_flight.fetch_add(1, Ordering::SeqCst);
                return Ok(a.clone());
            }
        }
        let generation = self.generation.fetch_add(1, Ordering::SeqCst);
        let actors = self.actors.clone();
        let stopped = id.clone();
        let on_stop = Box::new(move || {
            if let Ok(mut m) = actors.lock() {
                if m.get(&stopped).map(|a| a.generation) == Some(generation) {
                    m.remove(&stopped);
                }
            }
        });
        let in_flight = Arc::new(AtomicUsize::new(1));
        let actor = AggregateActor::new(
            id.clone(),
            self.store.clone(),
            self.snapshots.clone(),
            self.options.idle,
            in_flight.clone(),
            on_stop,
        );
        let addr = AggregateActor::start_in_arbiter(&self.arbiter, move |_| actor);
        self.activations.fetch_add(1, Ordering::Relaxed);
        let active = Active {
            generation,
            addr,
            in_flight,
        };
        map.insert(id.clone(), active.clone());
        Ok(active)
    }

    fn forget(&self, id: &A::Id, generation: u64) {
        if let Ok(mut m) = self.actors.lock() {
            if m.get(id).map(|a| a.generation) == Some(generation) {
                m.remove(id);
            }
        }
    }

    /// Sends a message to the instance's actor, activating it if needed.
    async fn ask<M, R>(&self, id: &A::Id, msg: M) -> Answer<A, R>
    where
        M: Message<Result = Answer<A, R>> + Clone + Send + 'static,
        R: Send + 'static,
        AggregateActor<A>: Handler<M> + Actor<Context = Context<AggregateActor<A>>>,
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
                Err(MailboxError::Timeout) => return Err(CommandError::Unavailable),
            }
        }
        Err(CommandError::Unavailable)
    }

    /// Runs a command on an instance and answers once its events are durable.
    pub async fn execute(
        &self,
        id: A::Id,
        command: CommandEnvelope<A::Command>,
    ) -> Answer<A, Outcome<A::Id>> {
        self.execute_with_content(id, command, Vec::new()).await
    }

    /// As `execute`, writing `content` (by hash) in the same flush as the command's events.
    pub async fn execute_with_content(
        &self,
        id: A::Id,
        command: CommandEnvelope<A::Command>,
        content: Content,
    ) -> Answer<A, Outcome<A::Id>> {
        self.ask(&id, Execute::<A> { command, content }).await
    }

    /// The actor's current state (activating it if needed).
    pub async fn state(&self, id: A::Id) -> Answer<A, A> {
        self.ask(&id, GetState::<A>(PhantomData)).await
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
