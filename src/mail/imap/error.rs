//! Errors of the IMAP adapter, typed by what a caller can do about them: a transient failure (the
//! network, a dropped connection, a busy server) is retried with backoff; a permanent one (refused
//! credentials, a certificate that does not verify, a folder that does not exist, a missing
//! capability) needs a person, and shows as such in readiness.

/// Whether retrying can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Persistence {
    /// The network or the server had a passing problem: retried with backoff.
    Transient,
    /// The configuration or the server's answer must change first (still retried, slowly).
    Permanent,
}

/// An IMAP failure, with what was being done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{context}: {message}")]
pub struct ImapError {
    pub persistence: Persistence,
    pub context: String,
    pub message: String,
}

impl ImapError {
    pub fn transient(context: impl Into<String>, message: impl ToString) -> Self {
        ImapError {
            persistence: Persistence::Transient,
            context: context.into(),
            message: message.to_string(),
        }
    }

    pub fn permanent(context: impl Into<String>, message: impl ToString) -> Self {
        ImapError {
            persistence: Persistence::Permanent,
            context: context.into(),
            message: message.to_string(),
        }
    }

    /// Classifies an error of the `imap` crate: the server's NO and BAD answers are permanent
    /// (it refused this command as given); everything about the connection is transient.
    pub fn imap(context: impl Into<String>, e: imap::Error) -> Self {
        match &e {
            imap::Error::No(_) | imap::Error::Bad(_) | imap::Error::Validate(_) => {
                ImapError::permanent(context, e)
            }
            imap::Error::RustlsHandshake(_) => ImapError::permanent(context, e),
            _ => ImapError::transient(context, e),
        }
    }

    pub fn is_permanent(&self) -> bool {
        self.persistence == Persistence::Permanent
    }
}

/// A result of the IMAP adapter.
pub type ImapResult<T> = Result<T, ImapError>;
