//! Where a password comes from, for every server postroom logs in to (IMAP mailboxes, SMTP):
//! exactly one of `password`, `password_env`, `password_file`. Loading checks only that;
//! whether the variable is set or the file readable is checked where the password is needed
//! (`serve`), so other commands run with the server's configuration without its secrets.

use super::common::{invalid, SettingsError};
use std::path::{Path, PathBuf};

pub(super) enum Source<'a> {
    Inline(&'a str),
    Env(&'a str),
    File(&'a Path),
}

pub(super) fn source<'a>(
    key: &str,
    password: &'a Option<String>,
    env: &'a Option<String>,
    file: &'a Option<PathBuf>,
) -> Result<Source<'a>, SettingsError> {
    match (password, env, file) {
        (Some(p), None, None) => Ok(Source::Inline(p)),
        (None, Some(var), None) => Ok(Source::Env(var)),
        (None, None, Some(path)) => Ok(Source::File(path)),
        _ => Err(invalid(
            key,
            "give exactly one of password, password_env, password_file",
        )),
    }
}

impl Source<'_> {
    /// The password.
    pub(super) fn resolve(&self, key: &str) -> Result<String, SettingsError> {
        match self {
            Source::Inline(p) => Ok(p.to_string()),
            Source::Env(var) => std::env::var(var).map_err(|_| {
                invalid(
                    &format!("{key}.password_env"),
                    format!("the variable {var} is not set"),
                )
            }),
            Source::File(path) => std::fs::read_to_string(path)
                .map(|p| p.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| {
                    invalid(
                        &format!("{key}.password_file"),
                        format!("{}: {e}", path.display()),
                    )
                }),
        }
    }
}
