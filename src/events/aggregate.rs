//! The one way a stream becomes an aggregate's state: a starting point (nothing, or a snapshot)
//! plus the recorded events after it, decoded through the upcasters. Used by the aggregate actors,
//! the one-shot command path, replays for the API and the CLI, and ingest's look-ups.

use super::envelope::{AppendRequest, ExpectedVersion, NewEvent, RecordedEvent};
use super::store::{EventStore, StoreError};
use super::upcast::{DomainEvent, UpcastError};
use crate::domain::interaction::InteractionEvent;
use crate::domain::user::UserEvent;
use crate::domain::{Aggregate, Principal};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// An aggregate's event as it travels through the log's `DomainEvent` (into it by the `From`
/// impls beside `DomainEvent`).
pub trait StoredEvent: Sized + Into<DomainEvent> {
    /// The event, if the domain event is one of this aggregate's.
    fn from_domain(e: DomainEvent) -> Option<Self>;
}

impl StoredEvent for InteractionEvent {
    fn from_domain(e: DomainEvent) -> Option<Self> {
        match e {
            DomainEvent::Interaction(e) => Some(e),
            _ => None,
        }
    }
}

impl StoredEvent for UserEvent {
    fn from_domain(e: DomainEvent) -> Option<Self> {
        match e {
            DomainEvent::User(e) => Some(e),
            _ => None,
        }
    }
}

impl StoredEvent for crate::domain::standard_response::ResponseEvent {
    fn from_domain(e: DomainEvent) -> Option<Self> {
        match e {
            DomainEvent::Response(e) => Some(e),
            _ => None,
        }
    }
}

impl StoredEvent for crate::domain::agent::AgentEvent {
    fn from_domain(e: DomainEvent) -> Option<Self> {
        match e {
            DomainEvent::Agent(e) => Some(e),
            _ => None,
        }
    }
}

impl StoredEvent for crate::domain::process_log::ProcessEvent {
    fn from_domain(e: DomainEvent) -> Option<Self> {
        match e {
            DomainEvent::Process(e) => Some(e),
            _ => None,
        }
    }
}

/// An aggregate with events the log can carry.
pub trait Stored: Aggregate<Event: StoredEvent> {}
impl<A: Aggregate<Event: StoredEvent>> Stored for A {}

/// A state and the stream version it reflects (0: nothing recorded).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loaded<A> {
    pub state: A,
    pub version: u64,
}

impl<A: Stored> Loaded<A> {
    /// The state after one more recorded event of the stream. Events of other aggregates (none
    /// are expected in a stream) are skipped; one that does not decode is an error.
    pub fn apply(&mut self, e: &RecordedEvent) -> Result<(), UpcastError> {
        if let Some(ev) = A::Event::from_domain(DomainEvent::from_recorded(e)?) {
            self.state = std::mem::take(&mut self.state).evolve(&ev);
        }
        self.version = e.version;
        Ok(())
    }

    /// The state after these recorded events, in order.
    pub fn fold<'a>(
        mut self,
        events: impl IntoIterator<Item = &'a RecordedEvent>,
    ) -> Result<Self, StoreError> {
        for e in events {
            self.apply(e).map_err(|err| StoreError::Corrupt {
                position: e.position,
                why: err.to_string(),
            })?;
        }
        Ok(self)
    }

    /// This state brought up to date with the stream's events after its version.
    pub fn catch_up(self, store: &dyn EventStore, id: &A::Id) -> Result<Self, StoreError> {
        let tail = store.read_stream(&A::stream(id), self.version + 1)?;
        self.fold(&tail)
    }

    /// The instance's current state, from its whole stream.
    pub fn load(store: &dyn EventStore, id: &A::Id) -> Result<Self, StoreError> {
        Loaded::default().catch_up(store, id)
    }

    /// The expected version an append after this state carries.
    pub fn expected(&self) -> ExpectedVersion {
        if self.version == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(self.version)
        }
    }
}

/// An instance's events, decoded through the upcasters, in order (for reads that want events
/// rather than the state they fold into: content, replays).
pub fn events_of<A: Stored>(
    store: &dyn EventStore,
    id: &A::Id,
) -> Result<Vec<A::Event>, StoreError> {
    let mut out = Vec::new();
    for e in store.read_stream(&A::stream(id), 1)? {
        let decoded = DomainEvent::from_recorded(&e).map_err(|err| StoreError::Corrupt {
            position: e.position,
            why: err.to_string(),
        })?;
        out.extend(A::Event::from_domain(decoded));
    }
    Ok(out)
}

/// A command with the envelope data its events will carry.
#[derive(Debug, Clone)]
pub struct CommandEnvelope<C> {
    pub command: C,
    pub principal: Principal,
    pub correlation_id: uuid::Uuid,
    pub causation_id: Option<uuid::Uuid>,
}

impl<C> CommandEnvelope<C> {
    pub fn new(command: C, principal: Principal) -> Self {
        CommandEnvelope {
            command,
            principal,
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
        }
    }

    /// Another command that follows from this one (a process's reaction), under `principal`,
    /// in the same correlation.
    pub fn follow<D>(&self, command: D, principal: Principal) -> CommandEnvelope<D> {
        CommandEnvelope {
            command,
            principal,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
        }
    }

    /// The events ready to append, each under this envelope's principal and ids.
    pub fn new_events<E: StoredEvent>(&self, events: impl IntoIterator<Item = E>) -> Vec<NewEvent> {
        events
            .into_iter()
            .map(|e| {
                Into::<DomainEvent>::into(e).into_new_event(
                    self.principal.clone(),
                    self.correlation_id,
                    self.causation_id,
                )
            })
            .collect()
    }
}

/// What a command decided against a loaded state: the events, the state after them, and the
/// append that records them (`None`: the command changed nothing).
pub struct Decision<A: Aggregate> {
    pub events: Vec<A::Event>,
    pub after: Loaded<A>,
    pub append: Option<AppendRequest>,
}

/// Runs the decider: the one place a command becomes an append, for every aggregate.
pub fn decide<A: Stored>(
    loaded: &Loaded<A>,
    id: &A::Id,
    cmd: &CommandEnvelope<A::Command>,
) -> Result<Decision<A>, A::Rejection> {
    let events = loaded.state.decide(&cmd.command)?;
    if events.is_empty() {
        return Ok(Decision {
            events,
            after: loaded.clone(),
            append: None,
        });
    }
    let after = Loaded {
        state: crate::domain::aggregate::fold(loaded.state.clone(), &events),
        version: loaded.version + events.len() as u64,
    };
    let append = AppendRequest {
        stream: A::stream(id),
        expected: loaded.expected(),
        events: cmd.new_events(events.iter().cloned()),
    };
    Ok(Decision {
        events,
        after,
        append: Some(append),
    })
}

/// What can go wrong running a command on an aggregate whose rules reject with `R`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CommandError<R> {
    #[error("{0}")]
    Rejected(R),
    #[error("it was changed concurrently; try again")]
    Conflict,
    #[error("event log: {0}")]
    Store(Arc<StoreError>),
    #[error("its actor did not answer")]
    Unavailable,
}

impl<R> From<StoreError> for CommandError<R> {
    fn from(e: StoreError) -> Self {
        CommandError::Store(Arc::new(e))
    }
}

/// Runs one command without an actor: load the whole stream, decide, append with the expected
/// version. For rare commands (users) and for shells without an actor system (the CLI); answers
/// the append's last position (`None`: the command changed nothing).
pub async fn execute_once<A: Stored>(
    store: &dyn EventStore,
    id: &A::Id,
    cmd: &CommandEnvelope<A::Command>,
) -> Result<Option<u64>, CommandError<A::Rejection>> {
    let loaded = Loaded::<A>::load(store, id)?;
    let decision = decide(&loaded, id, cmd).map_err(CommandError::Rejected)?;
    let Some(append) = decision.append else {
        return Ok(None);
    };
    match store.append(append).await {
        Ok(r) => Ok(Some(r.last_position)),
        Err(StoreError::WrongExpectedVersion { .. }) => Err(CommandError::Conflict),
        Err(e) => Err(e.into()),
    }
}
