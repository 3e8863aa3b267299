//! `[smtp]`: the server everything postroom sends leaves through.

use super::common::{invalid, SettingsError, TlsMode};
use super::secret;
use crate::domain::address::NamedAddress;
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// none | starttls | tls (implicit), as for mailboxes; STARTTLS never falls back to plain.
    #[serde(default = "default_tls")]
    pub tls: TlsMode,
    /// Log in as this user (none: send without authentication).
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    /// The sender of everything postroom sends: `Name <address>` or an address.
    pub from: String,
    /// PEM certificates of certificate authorities to trust for this server, besides the
    /// system's.
    pub tls_ca_file: Option<PathBuf>,
    /// Connections kept open to the server, and messages sent at once.
    #[serde(default = "default_pool_size")]
    pub pool_size: u32,
    /// An SMTP exchange that takes longer than this fails (and is retried).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: f64,
    /// The wait before the first retry of a temporary failure; it doubles with every attempt.
    #[serde(default = "default_retry_initial_secs")]
    pub retry_initial_secs: f64,
    /// The longest wait between two attempts.
    #[serde(default = "default_retry_max_secs")]
    pub retry_max_secs: f64,
    /// After this many attempts a temporary failure counts as permanent.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

fn default_tls() -> TlsMode {
    TlsMode::Starttls
}
fn default_pool_size() -> u32 {
    4
}
fn default_timeout_secs() -> f64 {
    60.0
}
fn default_retry_initial_secs() -> f64 {
    30.0
}
fn default_retry_max_secs() -> f64 {
    3600.0
}
fn default_max_attempts() -> u32 {
    30
}

impl std::fmt::Debug for SmtpSettings {
    // Never print a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpSettings {
    /// Checks what can be checked at load (not the password's variable or file: `serve` reads
    /// those).
    pub(super) fn validate(&self) -> Result<(), SettingsError> {
        if self.host.trim().is_empty() {
            return Err(invalid("smtp.host", "must not be empty"));
        }
        if self.port == 0 {
            return Err(invalid("smtp.port", "must be 1 to 65535"));
        }
        if !(1..=64).contains(&self.pool_size) {
            return Err(invalid("smtp.pool_size", "must be 1 to 64"));
        }
        for (key, v) in [
            ("smtp.timeout_secs", self.timeout_secs),
            ("smtp.retry_initial_secs", self.retry_initial_secs),
            ("smtp.retry_max_secs", self.retry_max_secs),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 7.0 * 86400.0) {
                return Err(invalid(
                    key,
                    "must be a number of seconds above 0, at most a week",
                ));
            }
        }
        if self.retry_max_secs < self.retry_initial_secs {
            return Err(invalid(
                "smtp.retry_max_secs",
                "must not be less than retry_initial_secs",
            ));
        }
        if self.max_attempts == 0 {
            return Err(invalid("smtp.max_attempts", "must be at least 1"));
        }
        self.sender()?;
        let any_password =
            self.password.is_some() || self.password_env.is_some() || self.password_file.is_some();
        match &self.username {
            Some(u) if u.trim().is_empty() => {
                return Err(invalid("smtp.username", "must not be empty when given"))
            }
            Some(_) => {
                secret::source(
                    "smtp",
                    &self.password,
                    &self.password_env,
                    &self.password_file,
                )?;
            }
            None if any_password => {
                return Err(invalid(
                    "smtp.username",
                    "a password is given: give the user name it belongs to",
                ))
            }
            None => {}
        }
        Ok(())
    }

    /// The sender, parsed.
    pub fn sender(&self) -> Result<NamedAddress, SettingsError> {
        NamedAddress::parse(&self.from).map_err(|e| invalid("smtp.from", e))
    }

    /// The password, when the server is logged in to.
    pub fn resolve_password(&self) -> Result<Option<String>, SettingsError> {
        if self.username.is_none() {
            return Ok(None);
        }
        secret::source(
            "smtp",
            &self.password,
            &self.password_env,
            &self.password_file,
        )?
        .resolve("smtp")
        .map(Some)
    }
}
