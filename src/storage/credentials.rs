//! Credentials kept out of the log: people's password hashes (Argon2id PHC strings) and the
//! digests of invitation links still open. The log records that a password was set or an
//! invitation issued (the user stream); an export shared with auditors holds nothing to crack.

use crate::domain::{AgentId, Millis};

/// The credentials tree. Cheap to clone.
#[derive(Clone)]
pub struct Credentials {
    tree: sled::Tree,
}

fn password_key(name: &AgentId) -> Vec<u8> {
    format!("password/{name}").into_bytes()
}

fn invitation_key(digest: &[u8; 32]) -> Vec<u8> {
    [b"invitation/".as_slice(), digest.as_slice()].concat()
}

impl Credentials {
    pub fn new(tree: sled::Tree) -> Credentials {
        Credentials { tree }
    }

    fn durable(&self) -> Result<(), String> {
        self.tree
            .flush()
            .map(|_| ())
            .map_err(|e| format!("the credentials cannot be written: {e}"))
    }

    /// Stores `name`'s password hash (replacing any), durably.
    pub fn set_password(&self, name: &AgentId, phc: &str) -> Result<(), String> {
        self.tree
            .insert(password_key(name), phc.as_bytes())
            .map_err(|e| format!("the credentials cannot be written: {e}"))?;
        self.durable()
    }

    /// `name`'s password hash, if one is set.
    pub fn password(&self, name: &AgentId) -> Result<Option<String>, String> {
        let v = self
            .tree
            .get(password_key(name))
            .map_err(|e| format!("the credentials cannot be read: {e}"))?;
        Ok(v.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Removes `name`'s password (the user was revoked).
    pub fn forget(&self, name: &AgentId) -> Result<(), String> {
        self.tree
            .remove(password_key(name))
            .map_err(|e| format!("the credentials cannot be written: {e}"))?;
        self.durable()
    }

    /// Keeps an invitation's digest for `name` until `expires`.
    pub fn invite(&self, digest: &[u8; 32], name: &AgentId, expires: Millis) -> Result<(), String> {
        let value = format!("{}\n{name}", expires.0);
        self.tree
            .insert(invitation_key(digest), value.as_bytes())
            .map_err(|e| format!("the credentials cannot be written: {e}"))?;
        self.durable()
    }

    /// Takes the invitation with this digest (once: a second take finds nothing), with whom it
    /// is for and until when.
    pub fn take_invitation(&self, digest: &[u8; 32]) -> Result<Option<(AgentId, Millis)>, String> {
        let v = self
            .tree
            .remove(invitation_key(digest))
            .map_err(|e| format!("the credentials cannot be written: {e}"))?;
        self.durable()?;
        Ok(v.and_then(|b| {
            let text = String::from_utf8_lossy(&b).into_owned();
            let (expires, name) = text.split_once('\n')?;
            Some((AgentId::parse(name).ok()?, Millis(expires.parse().ok()?)))
        }))
    }
}
