//! Browser sessions: a cookie (`postroom_session`, `HttpOnly`, `SameSite=Strict`, `Secure` over
//! TLS) names a session kept in memory with its user, role and CSRF token. A session ends after
//! `idle` without a request, after `max` in any case, at sign-out, or when its user is revoked
//! or changes role. A request authenticated by a session that changes anything must carry the
//! session's token in `X-CSRF-Token` (the synchronizer-token pattern); bearer tokens need none.
//! A restart forgets every session (people sign in again).

use crate::actors::users::new_token;
use crate::domain::user::Role;
use crate::domain::AgentId;
use actix_web::HttpRequest;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "postroom_session";
/// The header a session's state-changing request carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// One signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub name: AgentId,
    pub role: Role,
    pub csrf: String,
    pub began: Instant,
    pub seen: Instant,
}

/// The sessions, with their limits. One store for every worker.
pub struct Sessions {
    by_digest: Mutex<HashMap<[u8; 32], Session>>,
    pub idle: Duration,
    pub max: Duration,
}

/// How looking a session up went.
pub enum Found {
    Live(Session),
    /// It was there and has expired (now removed).
    Expired(Session),
    Unknown,
}

fn digest(cookie: &str) -> [u8; 32] {
    crate::events::codec::sha256(cookie.as_bytes())
}

impl Sessions {
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            by_digest: Mutex::new(HashMap::new()),
            idle,
            max,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        self.by_digest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session: the cookie's value (shown once; only its digest is kept) and the session.
    pub fn begin(&self, name: AgentId, role: Role) -> (String, Session) {
        let (cookie, d) = new_token();
        let (csrf, _) = new_token();
        let now = Instant::now();
        let session = Session {
            name,
            role,
            csrf,
            began: now,
            seen: now,
        };
        let mut all = self.lock();
        // Expired sessions go as new ones come (bounded by what is live).
        if all.len() > 1_000 {
            all.retain(|_, s| !self.expired(s, now));
        }
        all.insert(d, session.clone());
        (cookie, session)
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.seen) > self.idle || now.duration_since(s.began) > self.max
    }

    /// The session a cookie names, its idle time restarted.
    pub fn find(&self, cookie: &str) -> Found {
        let d = digest(cookie);
        let now = Instant::now();
        let mut all = self.lock();
        match all.get_mut(&d) {
            None => Found::Unknown,
            Some(s) if self.expired(s, now) => {
                let s = s.clone();
                all.remove(&d);
                Found::Expired(s)
            }
            Some(s) => {
                s.seen = now;
                Found::Live(s.clone())
            }
        }
    }

    /// Ends the session a cookie names.
    pub fn end(&self, cookie: &str) -> Option<Session> {
        self.lock().remove(&digest(cookie))
    }

    /// How many sessions are open now.
    pub fn open(&self) -> usize {
        let now = Instant::now();
        self.lock()
            .values()
            .filter(|s| !self.expired(s, now))
            .count()
    }
}

/// The session cookie a request carries, if any.
pub fn cookie_of(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether the request came over TLS (directly or through a proxy that says so).
fn secure(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// The `Set-Cookie` value that opens a session.
pub fn set_cookie(req: &HttpRequest, value: &str, max: Duration) -> String {
    let secure = if secure(req) { "; Secure" } else { "" };
    format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max.as_secs()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(req: &HttpRequest) -> String {
    let secure = if secure(req) { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// Whether a method changes anything (and so needs the CSRF token from a session).
pub fn changes(method: &actix_web::http::Method) -> bool {
    !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_expires_when_idle_or_old() {
        let s = Sessions::new(Duration::from_millis(50), Duration::from_secs(60));
        let (cookie, _) = s.begin(AgentId::parse("alice").unwrap(), Role::Agent);
        assert!(matches!(s.find(&cookie), Found::Live(_)));
        std::thread::sleep(Duration::from_millis(80));
        assert!(matches!(s.find(&cookie), Found::Expired(_)));
        assert!(matches!(s.find(&cookie), Found::Unknown), "removed");
        let s = Sessions::new(Duration::from_secs(60), Duration::from_millis(50));
        let (cookie, _) = s.begin(AgentId::parse("alice").unwrap(), Role::Agent);
        std::thread::sleep(Duration::from_millis(80));
        assert!(matches!(s.find(&cookie), Found::Expired(_)), "too old");
        let (cookie, _) = s.begin(AgentId::parse("bob").unwrap(), Role::Agent);
        assert!(s.end(&cookie).is_some());
        assert!(matches!(s.find(&cookie), Found::Unknown));
    }
}
