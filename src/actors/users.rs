//! Adding and revoking users: the user decider plus one append, for the CLI and the admin API.

use crate::domain::user::{Role, User, UserCommand, UserRejection};
use crate::domain::{AgentId, Millis, Principal};
use crate::events::aggregate::{execute_once, CommandEnvelope, CommandError};
use crate::events::{codec, EventStore};
use rand::RngCore;

/// What can go wrong adding or revoking a user.
pub type UserError = CommandError<UserRejection>;

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

/// Through the generic aggregate path: load the user's stream, decide, append.
async fn run(
    store: &dyn EventStore,
    name: &AgentId,
    cmd: UserCommand,
    by: Principal,
) -> Result<u64, UserError> {
    let cmd = CommandEnvelope::new(cmd, by);
    Ok(execute_once::<User>(store, name, &cmd).await?.unwrap_or(0))
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

/// Records what happened with browser sign-in on the user's stream (a failure under any name).
pub async fn record(
    store: &dyn EventStore,
    event: crate::domain::user::UserEvent,
    by: Principal,
) -> Result<u64, UserError> {
    let name = event.name().clone();
    // Sign-ins under one name may race (a browser, a script guessing): each is recorded.
    let mut tries = 0;
    loop {
        match run(store, &name, UserCommand::Record(event.clone()), by.clone()).await {
            Err(CommandError::Conflict) if tries < 5 => tries += 1,
            other => return other,
        }
    }
}
