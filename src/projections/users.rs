//! Users and their token digests: what authentication checks a bearer token against.

use crate::domain::user::{evolve, Role, User, UserEvent};
use crate::domain::AgentId;
use std::collections::HashMap;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Users {
    by_name: HashMap<AgentId, User>,
    by_token: HashMap<[u8; 32], AgentId>,
}

impl Users {
    pub fn apply(&mut self, e: &UserEvent) {
        let name = match e {
            UserEvent::UserAdded(x) => &x.name,
            UserEvent::UserRevoked(x) => &x.name,
            // Sign-in's record changes no user (and names nobody known, for a failure).
            _ => return,
        };
        let before = self.by_name.get(name).cloned().unwrap_or_default();
        if let User::Active { token_sha256, .. } = &before {
            self.by_token.remove(token_sha256);
        }
        let after = evolve(before, e);
        if let User::Active { token_sha256, .. } = &after {
            self.by_token.insert(*token_sha256, name.clone());
        }
        self.by_name.insert(name.clone(), after);
    }

    /// How many users hold the admin role now.
    pub fn active_admins(&self) -> usize {
        self.by_name
            .values()
            .filter(|u| {
                matches!(
                    u,
                    User::Active {
                        role: Role::Admin,
                        ..
                    }
                )
            })
            .count()
    }

    /// The active user a name as written names: the recorded name itself, or the one equal to it
    /// without ASCII case (names recorded before user names became case-insensitive keep their
    /// spelling, and must stay reachable to be revoked).
    pub fn find_active(&self, written: &str) -> Option<AgentId> {
        let active = |u: &User| matches!(u, User::Active { .. });
        self.by_name
            .iter()
            .filter(|(_, u)| active(u))
            .map(|(n, _)| n)
            .find(|n| n.as_str() == written)
            .or_else(|| {
                self.by_name
                    .iter()
                    .filter(|(n, u)| active(u) && n.as_str().eq_ignore_ascii_case(written))
                    .map(|(n, _)| n)
                    .min()
            })
            .cloned()
    }

    pub fn get(&self, name: &AgentId) -> User {
        self.by_name.get(name).cloned().unwrap_or_default()
    }

    /// The active user holding a token with this digest.
    pub fn by_token(&self, digest: &[u8; 32]) -> Option<(AgentId, Role)> {
        let name = self.by_token.get(digest)?;
        match self.by_name.get(name)? {
            User::Active { role, .. } => Some((name.clone(), *role)),
            _ => None,
        }
    }

    pub fn events_for_snapshot(&self) -> Vec<(AgentId, User)> {
        self.by_name
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn from_snapshot(entries: Vec<(AgentId, User)>) -> Users {
        let mut u = Users::default();
        for (name, user) in entries {
            if let User::Active { token_sha256, .. } = &user {
                u.by_token.insert(*token_sha256, name.clone());
            }
            u.by_name.insert(name, user);
        }
        u
    }
}
