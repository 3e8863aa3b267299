//! Signing in with a name and password, for people in a browser (integrations keep their bearer
//! tokens). Passwords are hashed with Argon2id and kept in the credentials store, never in the
//! log; the log records that a password was set, an invitation issued, a session begun or ended,
//! and every refused attempt. Refusals are the same whatever was wrong (no such user, no password,
//! a wrong one), and attempts are limited per name and per client address.

use crate::actors::users;
use crate::domain::user::{
    InvitationIssued, PasswordSet, Role, SignInFailed, SignedIn, SignedOut, User, UserEvent,
};
use crate::domain::{AgentId, Millis, Principal};
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use crate::storage::Credentials;
use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Passwords are at least this long (characters).
pub const MIN_PASSWORD: usize = 12;
/// And at most this long.
pub const MAX_PASSWORD: usize = 1024;
/// Refused attempts allowed per name, and per client address, within `WINDOW` (by default).
const PER_NAME: usize = 5;
const PER_ADDRESS: usize = 20;
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// An invitation link is good this long.
pub const INVITATION_SECS: i64 = 72 * 3600;

/// Why signing in (or setting a password) did not work.
#[derive(Debug)]
pub enum SignInError {
    /// The name and password do not match an active user with a password (nothing more said).
    Refused,
    /// Too many refused attempts: try again after this long.
    TooMany(Duration),
    /// A password that breaks the rules, or an unknown or used invitation.
    Invalid(String),
    NotFound(String),
    /// The credentials or the log cannot be written now.
    Unavailable(String),
}

/// The sign-in handle. Cheap to clone.
#[derive(Clone)]
pub struct SignIn {
    pub log: Arc<dyn EventStore>,
    pub credentials: Credentials,
    pub projections: Arc<ProjectionRunner>,
    failures: Arc<Mutex<Failures>>,
}

struct Failures {
    limits: Limits,
    by_name: HashMap<String, VecDeque<Instant>>,
    by_address: HashMap<IpAddr, VecDeque<Instant>>,
}

impl Default for Failures {
    fn default() -> Self {
        Failures {
            limits: Limits {
                per_name: PER_NAME,
                per_address: PER_ADDRESS,
            },
            by_name: HashMap::new(),
            by_address: HashMap::new(),
        }
    }
}

fn recent(q: &mut VecDeque<Instant>, now: Instant) -> usize {
    while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
        q.pop_front();
    }
    q.len()
}

impl Failures {
    /// How long until another attempt may be made (none: now).
    fn wait(&mut self, name: &str, from: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let full = |q: &mut VecDeque<Instant>, max: usize| {
            (max > 0 && recent(q, now) >= max)
                .then(|| WINDOW.saturating_sub(now.duration_since(q[0])))
        };
        let Limits {
            per_name,
            per_address,
        } = self.limits;
        let by_name = self.by_name.get_mut(name).and_then(|q| full(q, per_name));
        let by_address = from
            .and_then(|a| self.by_address.get_mut(&a))
            .and_then(|q| full(q, per_address));
        by_name.max(by_address)
    }

    fn note(&mut self, name: &str, from: Option<IpAddr>, now: Instant) {
        // Bounded: a flood of names or addresses forgets the quiet ones first.
        if self.by_name.len() > 100_000 {
            self.by_name.retain(|_, q| recent(q, now) > 0);
        }
        if self.by_address.len() > 100_000 {
            self.by_address.retain(|_, q| recent(q, now) > 0);
        }
        self.by_name
            .entry(name.to_string())
            .or_default()
            .push_back(now);
        if let Some(a) = from {
            self.by_address.entry(a).or_default().push_back(now);
        }
    }

    fn clear(&mut self, name: &str) {
        self.by_name.remove(name);
    }
}

/// A password as the rules allow it.
pub fn check_password(name: &AgentId, password: &str) -> Result<(), SignInError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(SignInError::Invalid(format!(
            "password: at least {MIN_PASSWORD} characters"
        )));
    }
    if n > MAX_PASSWORD {
        return Err(SignInError::Invalid(format!(
            "password: at most {MAX_PASSWORD} characters"
        )));
    }
    if password.eq_ignore_ascii_case(name.as_str()) {
        return Err(SignInError::Invalid(
            "password: must not be the user name".into(),
        ));
    }
    Ok(())
}

/// The Argon2id hash of a password, as a PHC string.
pub fn hash(password: &str) -> Result<String, SignInError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SignInError::Unavailable(format!("hashing the password: {e}")))
}

/// Whether `password` matches the PHC string.
fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash nobody's password matches, verified against when there is no user or no password, so
/// a refusal takes as long whatever was wrong.
fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        hash("postroom decoy password, never anyone's").unwrap_or_else(|_| String::new())
    })
}

/// Hashing runs off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Sets `name`'s password (the caller knows the user is active): checked, hashed, kept, recorded.
/// The one way a password is set (the API and the command line).
pub async fn set_password(
    log: &dyn EventStore,
    credentials: &Credentials,
    name: &AgentId,
    password: String,
    how: &str,
    by: Principal,
) -> Result<(), SignInError> {
    check_password(name, &password)?;
    let phc = blocking(move || hash(&password)).await?;
    credentials
        .set_password(name, &phc)
        .map_err(SignInError::Unavailable)?;
    let event = UserEvent::PasswordSet(PasswordSet {
        name: name.clone(),
        how: how.into(),
        at: super::now(),
    });
    users::record(log, event, by)
        .await
        .map(|_| ())
        .map_err(|e| SignInError::Unavailable(e.to_string()))
}

/// How many refused sign-ins are allowed within 15 minutes, per name and per client address
/// (0: no limit).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_name: usize,
    pub per_address: usize,
}

impl SignIn {
    pub fn new(
        log: Arc<dyn EventStore>,
        credentials: Credentials,
        projections: Arc<ProjectionRunner>,
        limits: Limits,
    ) -> SignIn {
        SignIn {
            log,
            credentials,
            projections,
            failures: Arc::new(Mutex::new(Failures {
                limits,
                ..Failures::default()
            })),
        }
    }

    fn active(&self, name: &AgentId) -> Option<Role> {
        match self.projections.read(|p| p.users.get(name)) {
            User::Active { role, .. } => Some(role),
            _ => None,
        }
    }

    async fn record(&self, event: UserEvent, by: Principal) -> Result<(), SignInError> {
        users::record(self.log.as_ref(), event, by)
            .await
            .map(|_| ())
            .map_err(|e| SignInError::Unavailable(e.to_string()))
    }

    /// Sets an active user's password (`how`: `admin` or `invitation`), hashed, recorded.
    pub async fn set_password(
        &self,
        name: &AgentId,
        password: String,
        how: &str,
        by: Principal,
    ) -> Result<(), SignInError> {
        if self.active(name).is_none() {
            return Err(SignInError::NotFound(format!(
                "no active user named {name}"
            )));
        }
        set_password(
            self.log.as_ref(),
            &self.credentials,
            name,
            password,
            how,
            by,
        )
        .await
    }

    /// A one-time invitation link's token for an active user: shown once, its digest kept.
    pub async fn invite(
        &self,
        name: &AgentId,
        by: Principal,
    ) -> Result<(String, Millis), SignInError> {
        if self.active(name).is_none() {
            return Err(SignInError::NotFound(format!(
                "no active user named {name}"
            )));
        }
        let (token, digest) = users::new_token();
        let at = super::now();
        let expires = at.plus_secs(INVITATION_SECS);
        self.credentials
            .invite(&digest, name, expires)
            .map_err(SignInError::Unavailable)?;
        let event = UserEvent::InvitationIssued(InvitationIssued {
            name: name.clone(),
            token_sha256: digest,
            expires,
            at,
        });
        self.record(event, by).await?;
        Ok((token, expires))
    }

    /// Opens an invitation: the password it sets is the user's (once; an expired, used or
    /// unknown link is refused).
    pub async fn accept(&self, token: &str, password: String) -> Result<AgentId, SignInError> {
        let digest = users::token_digest(token);
        let taken = self
            .credentials
            .take_invitation(&digest)
            .map_err(SignInError::Unavailable)?;
        let gone = |why: &str| SignInError::NotFound(format!("token: {why}"));
        let (name, expires) =
            taken.ok_or_else(|| gone("not an open invitation (unknown, or used already)"))?;
        if expires < super::now() {
            return Err(gone("the invitation has expired"));
        }
        if let Err(e) = check_password(&name, &password) {
            // The link stays usable for a better password.
            self.credentials
                .invite(&digest, &name, expires)
                .map_err(SignInError::Unavailable)?;
            return Err(e);
        }
        let by = Principal::User(name.to_string());
        self.set_password(&name, password, "invitation", by).await?;
        Ok(name)
    }

    /// Checks a name and password from `from`; on success records `SignedIn` and answers who.
    pub async fn sign_in(
        &self,
        written: &str,
        password: String,
        from: Option<IpAddr>,
    ) -> Result<(AgentId, Role), SignInError> {
        let key = written.trim().to_ascii_lowercase();
        let now = Instant::now();
        if let Some(wait) = self.lock().wait(&key, from, now) {
            return Err(SignInError::TooMany(wait));
        }
        let name = AgentId::parse(written).ok();
        let role = name.as_ref().and_then(|n| self.active(n));
        let phc = match (&name, role) {
            (Some(n), Some(_)) => self
                .credentials
                .password(n)
                .map_err(SignInError::Unavailable)?,
            _ => None,
        };
        let known = phc.is_some();
        // Off the async workers, the decoy too (its hash is made there the first time).
        let matches = blocking(move || match &phc {
            Some(phc) => verify(phc, &password),
            None => verify(decoy(), &password),
        })
        .await;
        match (name, role) {
            (Some(name), Some(role)) if known && matches => {
                self.lock().clear(&key);
                let event = UserEvent::SignedIn(SignedIn {
                    name: name.clone(),
                    at: super::now(),
                });
                self.record(event, Principal::User(name.to_string()))
                    .await?;
                Ok((name, role))
            }
            (name, role) => {
                self.lock().note(&key, from, now);
                let reason = match (&role, known) {
                    (None, _) => "no active user of that name",
                    (Some(_), false) => "no password is set",
                    (Some(_), true) => "wrong password",
                };
                // A name that cannot be one is refused without a record (no stream to hold it).
                if let Some(name) = name {
                    let from = from.map(|a| format!(" from {a}")).unwrap_or_default();
                    let event = UserEvent::SignInFailed(SignInFailed {
                        name,
                        reason: format!("{reason}{from}"),
                        at: super::now(),
                    });
                    self.record(event, Principal::System("signin".into()))
                        .await?;
                }
                Err(SignInError::Refused)
            }
        }
    }

    /// Records the end of a session (`reason`: `signed out`, `expired`).
    pub async fn signed_out(&self, name: &AgentId, reason: &str) -> Result<(), SignInError> {
        let event = UserEvent::SignedOut(SignedOut {
            name: name.clone(),
            reason: reason.into(),
            at: super::now(),
        });
        self.record(event, Principal::User(name.to_string())).await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Failures> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify(&phc, "correct horse battery"));
        assert!(!verify(&phc, "correct horse batterY"));
        assert!(!verify(decoy(), "correct horse battery"));
        assert!(!verify("not a hash", "x"));
    }

    #[test]
    fn passwords_follow_the_rules() {
        let alice = AgentId::parse("alice").unwrap();
        assert!(check_password(&alice, "short").is_err());
        assert!(check_password(&alice, "ALICE").is_err());
        assert!(check_password(&alice, &"x".repeat(MAX_PASSWORD + 1)).is_err());
        assert!(check_password(&alice, "a long enough passphrase").is_ok());
    }

    #[test]
    fn refused_attempts_are_limited_per_name_and_per_address() {
        let mut f = Failures::default();
        let now = Instant::now();
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..PER_NAME {
            assert_eq!(f.wait("alice", Some(a), now), None);
            f.note("alice", Some(a), now);
        }
        assert!(f.wait("alice", None, now).is_some(), "the name is held");
        assert_eq!(f.wait("bob", None, now), None, "others are not");
        assert_eq!(
            f.wait("alice", None, now + WINDOW + Duration::from_secs(1)),
            None
        );
        for i in 0..PER_ADDRESS {
            f.note(&format!("user{i}"), Some(a), now);
        }
        assert!(
            f.wait("carol", Some(a), now).is_some(),
            "the address is held"
        );
        f.clear("alice");
        assert_eq!(f.wait("alice", None, now), None);
    }
}
