//! One actor per live aggregate instance (an interaction, a user, ...), generic over the decider:
//! it holds the state, runs commands one at a time through `decide`, appends the events with the
//! expected version, and passivates when idle.

use crate::events::aggregate::{decide, CommandEnvelope, CommandError, Loaded, Stored};
use crate::events::{Content, EventStore, StoreError};
use crate::storage::{AggregateSnapshots, Snapshottable};
use actix::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// New events since the last snapshot that make passivation save a new one.
const SNAPSHOT_AFTER: u64 = 16;

/// Run one command against this instance; `content` (by hash) is written in the same flush as
/// its events.
#[derive(Message, Clone)]
#[rtype(result = "Result<Outcome<A::Id>, CommandError<A::Rejection>>")]
pub struct Execute<A: Stored> {
    pub command: CommandEnvelope<A::Command>,
    pub content: Content,
}

/// Read the current state (for tests and the registry's callers).
#[derive(Message)]
#[rtype(result = "Result<A, CommandError<A::Rejection>>")]
pub struct GetState<A: Stored>(pub std::marker::PhantomData<A>);

impl<A: Stored> Clone for GetState<A> {
    fn clone(&self) -> Self {
        GetState(std::marker::PhantomData)
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome<Id> {
    /// The instance the command ran on (named for the first aggregate, kept for the API).
    pub interaction_id: Id,
    /// The stream version after the command.
    pub version: u64,
    /// The log position of the last event recorded (None when the command changed nothing).
    pub last_position: Option<u64>,
    pub event_types: Vec<&'static str>,
}

pub struct AggregateActor<A: Stored> {
    id: A::Id,
    stream: String,
    store: Arc<dyn EventStore>,
    snapshots: AggregateSnapshots<A>,
    /// The loaded state; an error if loading failed (answered to every command).
    state: Result<Loaded<A>, CommandError<A::Rejection>>,
    snapshot_version: u64,
    idle: Duration,
    last_activity: Instant,
    /// Messages the registry has sent that this actor has not taken yet: it never passivates
    /// while one is on its way.
    in_flight: Arc<AtomicUsize>,
    /// A command's append is on its way to the log. actix abandons an actor's pending `wait`
    /// future once it stops, so stopping now would orphan an append that still lands: the caller
    /// would retry and the command could be recorded twice.
    busy: bool,
    on_stop: Option<Box<dyn FnOnce() + Send>>,
}

impl<A: Snapshottable> AggregateActor<A> {
    pub fn new(
        id: A::Id,
        store: Arc<dyn EventStore>,
        snapshots: AggregateSnapshots<A>,
        idle: Duration,
        in_flight: Arc<AtomicUsize>,
        on_stop: Box<dyn FnOnce() + Send>,
    ) -> Self {
        AggregateActor {
            stream: A::stream(&id),
            id,
            store,
            snapshots,
            state: Ok(Loaded::default()),
            snapshot_version: 0,
            idle,
            last_activity: Instant::now(),
            in_flight,
            busy: false,
            on_stop: Some(on_stop),
        }
    }

    fn may_passivate(&self) -> bool {
        !self.busy
            && self.in_flight.load(Ordering::SeqCst) == 0
            && self.last_activity.elapsed() >= self.idle
    }

    fn took_message(&mut self) {
        self.last_activity = Instant::now();
        let _ = self
            .in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    /// The latest snapshot plus the events after it.
    fn load(&mut self) {
        let start = self.snapshots.load(&self.stream).unwrap_or_default();
        self.snapshot_version = start.version;
        self.state = start
            .catch_up(self.store.as_ref(), &self.id)
            .map_err(CommandError::from);
    }
}

impl<A: Snapshottable> Actor for AggregateActor<A> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.load();
        let tick = (self.idle / 2).max(Duration::from_millis(1));
        ctx.run_interval(tick, |act, ctx| {
            if act.may_passivate() {
                ctx.stop();
            }
        });
    }

    fn stopping(&mut self, _ctx: &mut Self::Context) -> Running {
        // Also guards stops from elsewhere (an arbiter shutting down waits for the append).
        if self.busy {
            return Running::Continue;
        }
        Running::Stop
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        if let Ok(state) = &self.state {
            // Short streams replay faster than a snapshot decodes; snapshot long ones only.
            if state.version >= self.snapshot_version + SNAPSHOT_AFTER {
                self.snapshots.save(&self.stream, state);
            }
        }
        if let Some(f) = self.on_stop.take() {
            f();
        }
        tracing::debug!(aggregate = A::KIND, id = %self.id, "passivated");
    }
}

impl<A: Snapshottable> Handler<GetState<A>> for AggregateActor<A> {
    type Result = Result<A, CommandError<A::Rejection>>;
    fn handle(&mut self, _: GetState<A>, _: &mut Self::Context) -> Self::Result {
        self.took_message();
        self.state
            .as_ref()
            .map(|l| l.state.clone())
            .map_err(Clone::clone)
    }
}

type Answer<A> = Result<
    Outcome<<A as crate::domain::Aggregate>::Id>,
    CommandError<<A as crate::domain::Aggregate>::Rejection>,
>;

impl<A: Snapshottable> Handler<Execute<A>> for AggregateActor<A> {
    type Result = AtomicResponse<Self, Answer<A>>;

    fn handle(&mut self, msg: Execute<A>, _: &mut Self::Context) -> Self::Result {
        self.took_message();
        let ready = |r: Answer<A>| AtomicResponse::new(Box::pin(fut::ready(r)));
        let loaded = match &self.state {
            Ok(s) => s,
            Err(e) => return ready(Err(e.clone())),
        };
        let decision = match decide(loaded, &self.id, &msg.command) {
            Ok(d) => d,
            Err(r) => return ready(Err(CommandError::Rejected(r))),
        };
        let id = self.id.clone();
        let event_types: Vec<&'static str> = decision.events.iter().map(A::event_type).collect();
        let Some(append) = decision.append else {
            return ready(Ok(Outcome {
                interaction_id: id,
                version: loaded.version,
                last_position: None,
                event_types,
            }));
        };
        let after = decision.after;
        self.busy = true;
        let pending = self.store.append_with_content(append, msg.content);
        AtomicResponse::new(Box::pin(pending.into_actor(self).map(
            move |result, act, _ctx| {
                act.busy = false;
                act.last_activity = Instant::now();
                match result {
                    Ok(r) => {
                        act.state = Ok(after);
                        Ok(Outcome {
                            interaction_id: id,
                            version: r.stream_version,
                            last_position: Some(r.last_position),
                            event_types,
                        })
                    }
                    Err(StoreError::WrongExpectedVersion { .. }) => {
                        // Someone else wrote this stream (another process, a repair): reload.
                        act.load();
                        Err(CommandError::Conflict)
                    }
                    Err(e) => Err(CommandError::from(e)),
                }
            },
        )))
    }
}
