//! One actor per live interaction: it holds the state, runs commands one at a time through the
//! decider, appends the events with the expected version, and passivates when idle.

use super::registry::{AggregateSnapshots, CommandEnvelope, EngineError};
use crate::domain::interaction::{decide, evolve, Interaction};
use crate::domain::InteractionId;
use crate::events::{
    AppendRequest, DomainEvent, EventStore, ExpectedVersion, NewEvent, StoreError,
};
use actix::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// New events since the last snapshot that make passivation save a new one.
const SNAPSHOT_AFTER: u64 = 16;

/// Run one command against this interaction.
#[derive(Message, Clone)]
#[rtype(result = "Result<Outcome, EngineError>")]
pub struct Execute(pub CommandEnvelope);

/// Read the current state (for tests and the registry's callers).
#[derive(Message, Clone)]
#[rtype(result = "Result<Interaction, EngineError>")]
pub struct GetState;

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    pub interaction_id: InteractionId,
    /// The stream version after the command.
    pub version: u64,
    /// The log position of the last event recorded (None when the command changed nothing).
    pub last_position: Option<u64>,
    pub event_types: Vec<&'static str>,
}

pub struct InteractionActor {
    id: InteractionId,
    stream: String,
    store: Arc<dyn EventStore>,
    snapshots: AggregateSnapshots,
    /// None until loaded; an error if loading failed (answered to every command).
    state: Result<Interaction, EngineError>,
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

impl InteractionActor {
    pub fn new(
        id: InteractionId,
        store: Arc<dyn EventStore>,
        snapshots: AggregateSnapshots,
        idle: Duration,
        in_flight: Arc<AtomicUsize>,
        on_stop: Box<dyn FnOnce() + Send>,
    ) -> Self {
        InteractionActor {
            id,
            stream: id.stream(),
            store,
            snapshots,
            state: Ok(Interaction::default()),
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
        let loaded = (|| {
            let mut state = self.snapshots.load(&self.stream).unwrap_or_default();
            self.snapshot_version = state.version;
            for e in self
                .store
                .read_stream(&self.stream, state.version + 1)
                .map_err(EngineError::from)?
            {
                match DomainEvent::from_recorded(&e) {
                    Ok(DomainEvent::Interaction(ev)) => state = evolve(state, &ev),
                    Ok(_) => {}
                    Err(err) => {
                        return Err(EngineError::from(StoreError::Corrupt {
                            position: e.position,
                            why: err.to_string(),
                        }))
                    }
                }
            }
            Ok(state)
        })();
        self.state = loaded;
    }
}

impl Actor for InteractionActor {
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
        tracing::debug!(interaction_id = %self.id, "passivated");
    }
}

impl Handler<GetState> for InteractionActor {
    type Result = Result<Interaction, EngineError>;
    fn handle(&mut self, _: GetState, _: &mut Self::Context) -> Self::Result {
        self.took_message();
        self.state.clone()
    }
}

impl Handler<Execute> for InteractionActor {
    type Result = AtomicResponse<Self, Result<Outcome, EngineError>>;

    fn handle(&mut self, msg: Execute, _: &mut Self::Context) -> Self::Result {
        self.took_message();
        let cmd = msg.0;
        let state = match &self.state {
            Ok(s) => s.clone(),
            Err(e) => return AtomicResponse::new(Box::pin(fut::ready(Err(e.clone())))),
        };
        let events = match decide(&state, &cmd.command) {
            Ok(ev) => ev,
            Err(r) => {
                return AtomicResponse::new(Box::pin(fut::ready(Err(EngineError::Rejected(r)))))
            }
        };
        let id = self.id;
        if events.is_empty() {
            let outcome = Outcome {
                interaction_id: id,
                version: state.version,
                last_position: None,
                event_types: vec![],
            };
            return AtomicResponse::new(Box::pin(fut::ready(Ok(outcome))));
        }
        let new_events: Vec<NewEvent> = events
            .iter()
            .map(|ev| {
                DomainEvent::Interaction(ev.clone()).into_new_event(
                    cmd.principal.clone(),
                    cmd.correlation_id,
                    cmd.causation_id,
                )
            })
            .collect();
        self.busy = true;
        let pending = self.store.append(AppendRequest {
            stream: self.stream.clone(),
            expected: if state.version == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exact(state.version)
            },
            events: new_events,
        });
        AtomicResponse::new(Box::pin(pending.into_actor(self).map(
            move |result, act, _ctx| {
                act.busy = false;
                act.last_activity = Instant::now();
                match result {
                    Ok(r) => {
                        let mut s = state;
                        for ev in &events {
                            s = evolve(s, ev);
                        }
                        act.state = Ok(s);
                        act.last_activity = Instant::now();
                        Ok(Outcome {
                            interaction_id: id,
                            version: r.stream_version,
                            last_position: Some(r.last_position),
                            event_types: events.iter().map(|e| e.event_type()).collect(),
                        })
                    }
                    Err(StoreError::WrongExpectedVersion { .. }) => {
                        // Someone else wrote this stream (another process, a repair): reload.
                        act.load();
                        Err(EngineError::Conflict)
                    }
                    Err(e) => Err(EngineError::from(e)),
                }
            },
        )))
    }
}
