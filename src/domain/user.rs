//! The user aggregate: people who log in (agents, supervisors, auditors, admins) and their tokens.
//!
//! Tokens themselves never reach the log: only their SHA-256 digest, so an export can be shared
//! with auditors without leaking a credential.

use crate::domain::aggregate::{Aggregate, RejectionKind};
use crate::domain::{AgentId, Millis};
use serde::{Deserialize, Serialize};

/// What a user may do. Each role is a set of endpoints; admins may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Agent,
    Supervisor,
    Auditor,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s.trim().to_ascii_lowercase().as_str() {
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "auditor" => Some(Role::Auditor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAdded {
    pub name: AgentId,
    pub role: Role,
    pub token_sha256: [u8; 32],
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRevoked {
    pub name: AgentId,
    pub at: Millis,
}

/// A password was set for signing in through a browser (the hash is kept out of the log, in the
/// credentials store: an export shared with auditors holds nothing to crack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordSet {
    pub name: AgentId,
    /// `admin` (an admin set it), `invitation` (the user, through an invitation link).
    pub how: String,
    pub at: Millis,
}

/// A one-time invitation link was issued: whoever opens it before `expires` sets the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationIssued {
    pub name: AgentId,
    /// The link's token is shown once; the log keeps its digest.
    pub token_sha256: [u8; 32],
    pub expires: Millis,
    pub at: Millis,
}

/// The user signed in with their password (a browser session began).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    pub name: AgentId,
    pub at: Millis,
}

/// A sign-in under this name was refused (a wrong password, no such user, no password set,
/// too many attempts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInFailed {
    pub name: AgentId,
    pub reason: String,
    pub at: Millis,
}

/// A browser session ended: signed out, or expired (idle or too old).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOut {
    pub name: AgentId,
    pub reason: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserEvent {
    UserAdded(UserAdded),
    UserRevoked(UserRevoked),
    PasswordSet(PasswordSet),
    InvitationIssued(InvitationIssued),
    SignedIn(SignedIn),
    SignInFailed(SignInFailed),
    SignedOut(SignedOut),
}

impl UserEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            UserEvent::UserAdded(_) => "UserAdded",
            UserEvent::UserRevoked(_) => "UserRevoked",
            UserEvent::PasswordSet(_) => "PasswordSet",
            UserEvent::InvitationIssued(_) => "InvitationIssued",
            UserEvent::SignedIn(_) => "SignedIn",
            UserEvent::SignInFailed(_) => "SignInFailed",
            UserEvent::SignedOut(_) => "SignedOut",
        }
    }

    /// The user the event is about.
    pub fn name(&self) -> &AgentId {
        match self {
            UserEvent::UserAdded(e) => &e.name,
            UserEvent::UserRevoked(e) => &e.name,
            UserEvent::PasswordSet(e) => &e.name,
            UserEvent::InvitationIssued(e) => &e.name,
            UserEvent::SignedIn(e) => &e.name,
            UserEvent::SignInFailed(e) => &e.name,
            UserEvent::SignedOut(e) => &e.name,
        }
    }
    pub fn event_version(&self) -> u16 {
        1
    }
    pub const TYPES: &'static [&'static str] = &[
        "UserAdded",
        "UserRevoked",
        "PasswordSet",
        "InvitationIssued",
        "SignedIn",
        "SignInFailed",
        "SignedOut",
    ];
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCommand {
    Add {
        name: AgentId,
        role: Role,
        token_sha256: [u8; 32],
        at: Millis,
    },
    Revoke {
        name: AgentId,
        at: Millis,
    },
    /// What happened with browser sign-in, recorded as it is: an active user's password set,
    /// invitation issued, session begun or ended; a failure under any name.
    Record(UserEvent),
}

/// A user's state: absent, active with a role, or revoked.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum User {
    #[default]
    Absent,
    Active {
        role: Role,
        token_sha256: [u8; 32],
    },
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRejection {
    #[error("a user named {0} already exists")]
    Exists(AgentId),
    #[error("no active user named {0}")]
    NotActive(AgentId),
}

/// A name once revoked may be added again (with a new token): people come back.
pub fn decide(state: &User, cmd: &UserCommand) -> Result<Vec<UserEvent>, UserRejection> {
    match (state, cmd) {
        (
            User::Absent | User::Revoked,
            UserCommand::Add {
                name,
                role,
                token_sha256,
                at,
            },
        ) => Ok(vec![UserEvent::UserAdded(UserAdded {
            name: name.clone(),
            role: *role,
            token_sha256: *token_sha256,
            at: *at,
        })]),
        (User::Active { .. }, UserCommand::Add { name, .. }) => {
            Err(UserRejection::Exists(name.clone()))
        }
        (User::Active { .. }, UserCommand::Revoke { name, at }) => {
            Ok(vec![UserEvent::UserRevoked(UserRevoked {
                name: name.clone(),
                at: *at,
            })])
        }
        (_, UserCommand::Revoke { name, .. }) => Err(UserRejection::NotActive(name.clone())),
        // A failure is recorded whoever the name is (an unknown name, a revoked user).
        (_, UserCommand::Record(e @ UserEvent::SignInFailed(_))) => Ok(vec![e.clone()]),
        (
            User::Active { .. },
            UserCommand::Record(
                e @ (UserEvent::PasswordSet(_)
                | UserEvent::InvitationIssued(_)
                | UserEvent::SignedIn(_)
                | UserEvent::SignedOut(_)),
            ),
        ) => Ok(vec![e.clone()]),
        (_, UserCommand::Record(e @ (UserEvent::UserAdded(_) | UserEvent::UserRevoked(_)))) => {
            // Adding and revoking have their own commands, with their own rules.
            Err(UserRejection::NotActive(e.name().clone()))
        }
        (_, UserCommand::Record(e)) => Err(UserRejection::NotActive(e.name().clone())),
    }
}

impl crate::domain::aggregate::Rejection for UserRejection {
    fn kind(&self) -> RejectionKind {
        match self {
            UserRejection::Exists(_) => RejectionKind::Conflict,
            UserRejection::NotActive(_) => RejectionKind::NotFound,
        }
    }
}

/// A user's stream: `user-NAME`.
pub fn stream(name: &AgentId) -> String {
    format!("user-{name}")
}

impl Aggregate for User {
    type Id = AgentId;
    type Command = UserCommand;
    type Event = UserEvent;
    type Rejection = UserRejection;
    const KIND: &'static str = "user";

    fn stream(id: &AgentId) -> String {
        stream(id)
    }
    fn decide(&self, command: &UserCommand) -> Result<Vec<UserEvent>, UserRejection> {
        decide(self, command)
    }
    fn evolve(self, event: &UserEvent) -> Self {
        evolve(self, event)
    }
    fn event_type(event: &UserEvent) -> &'static str {
        event.event_type()
    }
    fn exists(&self) -> bool {
        *self != User::Absent
    }
}

pub fn evolve(state: User, event: &UserEvent) -> User {
    match event {
        UserEvent::UserAdded(e) => User::Active {
            role: e.role,
            token_sha256: e.token_sha256,
        },
        UserEvent::UserRevoked(_) => User::Revoked,
        // Sign-in's record: who may sign in is the credentials store's and the sessions'.
        UserEvent::PasswordSet(_)
        | UserEvent::InvitationIssued(_)
        | UserEvent::SignedIn(_)
        | UserEvent::SignInFailed(_)
        | UserEvent::SignedOut(_) => state,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> AgentId {
        AgentId::parse("alice").unwrap()
    }
    fn add() -> UserCommand {
        UserCommand::Add {
            name: name(),
            role: Role::Agent,
            token_sha256: [1; 32],
            at: Millis(1),
        }
    }

    #[test]
    fn a_new_user_is_added() {
        let events = decide(&User::Absent, &add()).unwrap();
        let state = events.iter().fold(User::Absent, evolve);
        assert!(matches!(
            state,
            User::Active {
                role: Role::Agent,
                ..
            }
        ));
    }

    #[test]
    fn an_active_user_cannot_be_added_twice() {
        let state = User::Active {
            role: Role::Agent,
            token_sha256: [0; 32],
        };
        assert_eq!(decide(&state, &add()), Err(UserRejection::Exists(name())));
    }

    #[test]
    fn only_an_active_user_can_be_revoked() {
        let revoke = UserCommand::Revoke {
            name: name(),
            at: Millis(2),
        };
        assert_eq!(
            decide(&User::Absent, &revoke),
            Err(UserRejection::NotActive(name()))
        );
        assert_eq!(
            decide(&User::Revoked, &revoke),
            Err(UserRejection::NotActive(name()))
        );
    }

    #[test]
    fn sign_in_is_recorded_for_active_users_and_failures_under_any_name() {
        let active = User::Active {
            role: Role::Agent,
            token_sha256: [0; 32],
        };
        let signed_in = UserEvent::SignedIn(SignedIn {
            name: name(),
            at: Millis(3),
        });
        let failed = UserEvent::SignInFailed(SignInFailed {
            name: name(),
            reason: "wrong password".into(),
            at: Millis(3),
        });
        assert_eq!(
            decide(&active, &UserCommand::Record(signed_in.clone())),
            Ok(vec![signed_in.clone()])
        );
        assert!(decide(&User::Revoked, &UserCommand::Record(signed_in.clone())).is_err());
        for state in [User::Absent, User::Revoked, active.clone()] {
            let events = decide(&state, &UserCommand::Record(failed.clone())).unwrap();
            assert_eq!(
                events.iter().fold(state.clone(), evolve),
                state,
                "no change"
            );
        }
        let added = UserEvent::UserRevoked(UserRevoked {
            name: name(),
            at: Millis(4),
        });
        assert!(decide(&active, &UserCommand::Record(added)).is_err());
    }

    #[test]
    fn a_revoked_user_can_come_back_with_a_new_token() {
        assert!(decide(&User::Revoked, &add()).is_ok());
    }
}
