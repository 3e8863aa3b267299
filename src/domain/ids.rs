//! Value types of the domain: parsed once at the edge, trusted everywhere after ("parse, don't validate").

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Why a value could not be parsed into a domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is longer than {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} contains a character that is not allowed: {found:?}")]
    BadChar { what: &'static str, found: char },
    #[error("{what} is not valid: {why}")]
    Invalid {
        what: &'static str,
        why: &'static str,
    },
}

/// Milliseconds since the Unix epoch (UTC). The domain never reads a clock: times arrive in commands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub struct Millis(pub i64);

impl Millis {
    pub fn plus_secs(self, secs: i64) -> Millis {
        Millis(self.0.saturating_add(secs.saturating_mul(1000)))
    }
}

/// The identity of one interaction (inbound message or reply): a UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct InteractionId(uuid::Uuid);

impl InteractionId {
    pub fn from_uuid(u: uuid::Uuid) -> Self {
        InteractionId(u)
    }
    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
    /// The event-log stream that holds this interaction's events.
    pub fn stream(&self) -> String {
        format!("interaction-{}", self.0)
    }
    /// Parses a stream name written by [`InteractionId::stream`].
    pub fn from_stream(stream: &str) -> Option<Self> {
        stream
            .strip_prefix("interaction-")
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .map(InteractionId)
    }
}

impl FromStr for InteractionId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s.trim())
            .map(InteractionId)
            .map_err(|_| ParseError::Invalid {
                what: "interaction id",
                why: "expected a UUID such as 0190f5b2-6c1e-7c3a-9d2e-5b7a1c9e0f11",
            })
    }
}

impl fmt::Display for InteractionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A queue name: letters, digits, `-`, `_`, `.` and `@` (configuration, not an identity).
fn queue_name(s: &str, what: &'static str, max: usize) -> Result<String, ParseError> {
    if s.is_empty() {
        return Err(ParseError::Empty { what });
    }
    if s.chars().count() > max {
        return Err(ParseError::TooLong { what, max });
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')))
    {
        return Err(ParseError::BadChar { what, found: c });
    }
    Ok(s.to_string())
}

/// A user name, an identity: 1 to 64 of `a-z`, `0-9`, `.`, `_`, `-`, `@`, beginning with a letter or
/// a digit, without case (`UAdmin` is `uadmin`). ASCII only, so no look-alike (`u\u{430}dmin`,
/// a Cyrillic `а`) or invisible character can make a second name that reads as the first, and
/// never `.` or `..`, which clients cannot put in a URL path. Names recorded before this rule
/// load as they were.
fn user_name(s: &str, what: &'static str, max: usize) -> Result<String, ParseError> {
    if s.is_empty() {
        return Err(ParseError::Empty { what });
    }
    if s.len() > max {
        return Err(ParseError::TooLong { what, max });
    }
    let folded = s.to_ascii_lowercase();
    if let Some(c) = folded.chars().find(|c| {
        !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.' | '@'))
    }) {
        return Err(ParseError::BadChar { what, found: c });
    }
    if !folded.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(ParseError::Invalid {
            what,
            why: "it must begin with a letter or a digit",
        });
    }
    Ok(folded)
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                Ok($name(Arc::from($check(s, $what, $max)?)))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A user name of an agent, supervisor or other person working in postroom.
    AgentId,
    "user name",
    64,
    user_name
);
name_type!(
    /// The name of a queue in the workflow.
    QueueName,
    "queue name",
    64,
    queue_name
);

/// A reference to content kept outside the log: the SHA-256 of the bytes.
///
/// Binary formats (the log) carry the 32 bytes exactly as a derived `[u8; 32]` would; JSON shows
/// them as hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentRef(pub [u8; 32]);

impl Serialize for ContentRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_hex())
        } else {
            self.0.serialize(s)
        }
    }
}

impl<'de> Deserialize<'de> for ContentRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            ContentRef::from_hex(&s)
                .ok_or_else(|| serde::de::Error::custom("a content reference is 64 hex digits"))
        } else {
            <[u8; 32]>::deserialize(d).map(ContentRef)
        }
    }
}

impl ContentRef {
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(s: &str) -> Option<ContentRef> {
        let s = s.as_bytes();
        if s.len() != 64 {
            return None;
        }
        let digit = |c: u8| (c as char).to_digit(16);
        let mut out = [0u8; 32];
        for (i, pair) in s.chunks(2).enumerate() {
            out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
        }
        Some(ContentRef(out))
    }
}

/// Who caused an event: recorded in every envelope so auditors can ask "who did what".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Principal {
    /// A customer, by the address they wrote from.
    Customer(String),
    /// A person logged in to postroom, by user name.
    User(String),
    /// A component of postroom itself (ingest, workflow, router, mailer, cli…).
    System(String),
}

impl Principal {
    /// `customer:addr`, `user:name` or `system:component`: the form used in filters and exports.
    pub fn to_label(&self) -> String {
        match self {
            Principal::Customer(a) => format!("customer:{a}"),
            Principal::User(n) => format!("user:{n}"),
            Principal::System(c) => format!("system:{c}"),
        }
    }
    pub fn from_label(s: &str) -> Option<Principal> {
        let (kind, name) = s.split_once(':')?;
        match kind {
            "customer" => Some(Principal::Customer(name.to_string())),
            "user" => Some(Principal::User(name.to_string())),
            "system" => Some(Principal::System(name.to_string())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_spaces_and_empty() {
        assert!(QueueName::parse("inbound").is_ok());
        assert!(QueueName::parse("").is_err());
        assert!(AgentId::parse("bob smith").is_err());
        assert!(AgentId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn user_names_are_a_restricted_set_without_case() {
        assert_eq!(AgentId::parse("UAdmin").unwrap().as_str(), "uadmin");
        assert_eq!(AgentId::parse("rita.m-2_b").unwrap().as_str(), "rita.m-2_b");
        assert_eq!(
            AgentId::parse("Ann@Corp.example").unwrap().as_str(),
            "ann@corp.example"
        );
        for bad in [
            "u\u{430}dmin",
            "..",
            ".",
            ".x",
            "-x",
            "_x",
            "a\u{200b}b",
            "ü",
            "a b",
            "a/b",
            "@a",
        ] {
            assert!(AgentId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn principal_labels_round_trip() {
        for p in [
            Principal::Customer("a@b.c".into()),
            Principal::User("alice".into()),
            Principal::System("webform".into()),
        ] {
            assert_eq!(Principal::from_label(&p.to_label()), Some(p));
        }
    }
}
