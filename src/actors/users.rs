//! Adding and revoking users: the user decider plus one append, for the CLI and the admin API.

use crate::domain::user::{decide, evolve, Role, User, UserCommand, UserEvent, UserRejection};
use crate::domain::{AgentId, Millis, Principal};
use crate::events::{codec, AppendRequest, DomainEvent, EventStore, ExpectedVersion, StoreError};
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    Rejected(#[from] UserRejection),
    #[error("event log: {0}")]
    Store(#[from] StoreError),
}

pub fn stream(name: &AgentId) -> String {
    format!("user-{name}")
}

/// A new random bearer token (`prt_` and 64 hex digits) and its digest.
pub fn new_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("prt_{}", hex::encode(bytes));
    let digest = codec::sha256(token.as_bytes());
    (token, digest)
}

pub fn token_digest(token: &str) -> [u8; 32] {
    codec::sha256(token.trim().as_bytes())
}

fn load(store: &dyn EventStore, name: &AgentId) -> Result<(User, u64), StoreError> {
    let mut state = User::Absent;
    let mut version = 0;
    for e in store.read_stream(&stream(name), 1)? {
        version = e.version;
        if let Ok(DomainEvent::User(ev)) = DomainEvent::from_recorded(&e) {
            state = evolve(state, &ev);
        }
    }
    Ok((state, version))
}

async fn run(
    store: &dyn EventStore,
    name: &AgentId,
    cmd: UserCommand,
    by: Principal,
) -> Result<u64, UserError> {
    let (state, version) = load(store, name)?;
    let events: Vec<UserEvent> = decide(&state, &cmd)?;
    let correlation = uuid::Uuid::now_v7();
    let req = AppendRequest {
        stream: stream(name),
        expected: ExpectedVersion::Exact(version),
        events: events
            .into_iter()
            .map(|ev| DomainEvent::User(ev).into_new_event(by.clone(), correlation, None))
            .collect(),
    };
    Ok(store.append(req).await?.last_position)
}

/// Adds a user; answers the token (shown once, never stored) and the log position.
pub async fn add(
    store: &dyn EventStore,
    name: &AgentId,
    role: Role,
    by: Principal,
    now: Millis,
) -> Result<(String, u64), UserError> {
    let (token, digest) = new_token();
    let cmd = UserCommand::Add {
        name: name.clone(),
        role,
        token_sha256: digest,
        at: now,
    };
    let position = run(store, name, cmd, by).await?;
    Ok((token, position))
}

pub async fn revoke(
    store: &dyn EventStore,
    name: &AgentId,
    by: Principal,
    now: Millis,
) -> Result<u64, UserError> {
    run(
        store,
        name,
        UserCommand::Revoke {
            name: name.clone(),
            at: now,
        },
        by,
    )
    .await
}
