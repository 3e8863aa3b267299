//! What every part of the configuration shares: the error that names the key, TLS modes.

use serde::Deserialize;

/// How to reach a server (IMAP or SMTP): plain, STARTTLS (never falling back), or implicit TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    None,
    Starttls,
    Tls,
}

/// A configuration problem, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
    /// As `Invalid`, in the configuration file `path`.
    #[error("{path}: {key}: {message}")]
    InvalidIn {
        path: String,
        key: String,
        message: String,
    },
}

pub(super) fn invalid(key: &str, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}
