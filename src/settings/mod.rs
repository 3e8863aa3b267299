//! Configuration: one typed struct, loaded from an optional TOML file plus `POSTROOM_*`
//! environment overrides, validated at load with errors that name the key.

mod common;
mod desk;
mod qa;
mod secret;
mod sla;
mod smtp;
mod workflow;

use common::invalid;
pub use common::{SettingsError, TlsMode};
pub use desk::{AgentSettings, DesktopSettings, RoutingSettings, WidenStep};
pub use qa::{QaPattern, QaSettings};
pub use sla::ServiceLevelSettings;
pub use smtp::SmtpSettings;
pub use workflow::{AnswerTemplate, CategorySettings, WorkflowSettings};

use crate::domain::QueueName;
use crate::events::Durability;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address the HTTP server binds (port 0: any free port, reported at start).
    pub listen: String,
    /// Folder of the sled database and the projection snapshot.
    pub data_dir: PathBuf,
    pub log: LogSettings,
    pub actors: ActorSettings,
    pub projections: ProjectionSettings,
    pub workflow: WorkflowSettings,
    pub webform: WebformSettings,
    pub http: HttpSettings,
    pub routing: RoutingSettings,
    pub desktop: DesktopSettings,
    /// Which released replies are reviewed before they go out.
    pub qa: QaSettings,
    /// Service-level targets by queue (`[service_levels.<queue>]`).
    pub service_levels: std::collections::BTreeMap<String, ServiceLevelSettings>,
    /// The SMTP server everything postroom sends leaves through (none: nothing is sent).
    pub smtp: Option<SmtpSettings>,
    /// IMAP mailboxes to ingest (none by default).
    pub mailboxes: Vec<MailboxSettings>,
    /// Agents put in place at start (small sites; others use `POST /api/v1/admin/agents`).
    pub agents: Vec<AgentSettings>,
    /// The file these settings were read from (reload reads it again).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// One IMAP mailbox to ingest (`[[mailboxes]]`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxSettings {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Where a safely stored message is moved; absent: it is flagged \Seen and left in place.
    pub processed_folder: Option<String>,
    #[serde(default = "default_poll")]
    pub poll_interval_secs: f64,
    /// Messages fetched per round trip.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Larger messages are stored raw and flagged, not parsed.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: usize,
    /// Where malformed messages are queued (default: the inbound queue).
    pub malformed_queue: Option<String>,
    /// Where delivery reports that match none of our replies are queued (default: the
    /// malformed queue if set, else the inbound queue). Reports about our replies are recorded on
    /// the reply and queued nowhere.
    pub bounce_queue: Option<String>,
    /// PEM certificates of certificate authorities to trust for this server, besides the
    /// system's (a company's own CA, or a test server's).
    pub tls_ca_file: Option<PathBuf>,
    /// Wait for new mail with IDLE between passes where the server offers it (the poll interval
    /// then only bounds how long a pass can be late); false: poll.
    #[serde(default = "default_true")]
    pub idle: bool,
}

fn default_true() -> bool {
    true
}

fn default_folder() -> String {
    "INBOX".into()
}
fn default_poll() -> f64 {
    5.0
}
fn default_batch() -> usize {
    200
}
fn default_max_message() -> usize {
    25 * 1024 * 1024
}

impl std::fmt::Debug for MailboxSettings {
    // Never print a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailboxSettings")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("folder", &self.folder)
            .field("processed_folder", &self.processed_folder)
            .finish_non_exhaustive()
    }
}

impl MailboxSettings {
    /// Where the password comes from (see `secret::source`).
    fn password_source(&self, key: &str) -> Result<secret::Source<'_>, SettingsError> {
        secret::source(key, &self.password, &self.password_env, &self.password_file)
    }

    /// The password, read from where `password_source` says.
    pub fn resolve_password(&self, key: &str) -> Result<String, SettingsError> {
        self.password_source(key)?.resolve(key)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `fsync` (survives a power cut on an honest disk) or `flush` (survives a process kill).
    pub durability: Durability,
    /// sled page cache, in MiB.
    pub cache_mib: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActorSettings {
    /// An interaction actor passivates after this long without a message.
    pub idle_secs: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectionSettings {
    /// Snapshot the projections after this many new events (and at shutdown).
    pub snapshot_every: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebformSettings {
    pub max_body_bytes: usize,
    pub max_subject_chars: usize,
    /// Files per submission (multipart/form-data).
    pub max_attachments: usize,
    /// Bytes per file.
    pub max_attachment_bytes: usize,
    /// Bytes of all files of one submission together.
    pub max_total_attachment_bytes: usize,
    /// Submissions per client and minute (0: no limit); over it, 429 with Retry-After.
    pub rate_limit_per_minute: u32,
    /// Submissions a client may send at once before the per-minute rate applies.
    pub rate_limit_burst: u32,
    /// Reverse proxies whose X-Forwarded-For names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// How long a client may take and how many connections it may hold (`[http]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// A request's head (request line and headers) must arrive within this; else 408.
    pub header_timeout_secs: f64,
    /// A request's whole body must arrive within this, counted from its head; else 408.
    pub body_timeout_secs: f64,
    /// Each part of a body must follow the previous one within this; else 408.
    pub body_read_timeout_secs: f64,
    /// Open connections per client (IPv6: per /64), trusted proxies excepted; 0: no bound.
    /// Over it, a new connection gets 429 and is closed.
    pub max_connections_per_client: usize,
    /// A browser session ends after this long without a request.
    pub session_idle_secs: u64,
    /// And after this long in any case.
    pub session_max_secs: u64,
    /// Refused sign-ins allowed per name within 15 minutes (0: no limit).
    pub signin_attempts_per_name: usize,
    /// Refused sign-ins allowed per client address within 15 minutes (0: no limit).
    pub signin_attempts_per_address: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            header_timeout_secs: 5.0,
            body_timeout_secs: 300.0,
            body_read_timeout_secs: 15.0,
            max_connections_per_client: 256,
            session_idle_secs: 1800,
            session_max_secs: 12 * 3600,
            signin_attempts_per_name: 5,
            signin_attempts_per_address: 20,
        }
    }
}

impl Settings {
    /// The service-level targets by queue, checked.
    pub fn service_levels(
        &self,
    ) -> Result<crate::domain::service_level::ServiceLevels, SettingsError> {
        let mut queues = self.queue_names();
        queues.extend(QueueName::parse(&self.workflow.inbound_queue).ok());
        sla::service_levels(&self.service_levels, &queues)
    }

    /// The configured agents (`[[agents]]`), checked as the API checks them.
    pub fn agent_profiles(
        &self,
    ) -> Result<Vec<(crate::domain::AgentId, crate::domain::agent::Profile)>, SettingsError> {
        desk::agent_profiles(&self.agents)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("data"),
            log: LogSettings::default(),
            actors: ActorSettings::default(),
            projections: ProjectionSettings::default(),
            workflow: WorkflowSettings::default(),
            webform: WebformSettings::default(),
            http: HttpSettings::default(),
            routing: RoutingSettings::default(),
            desktop: DesktopSettings::default(),
            qa: QaSettings::default(),
            service_levels: Default::default(),
            smtp: None,
            mailboxes: Vec::new(),
            agents: Vec::new(),
            source: None,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            durability: Durability::Fsync,
            cache_mib: 256,
        }
    }
}

impl Default for ActorSettings {
    fn default() -> Self {
        ActorSettings { idle_secs: 60.0 }
    }
}

impl Default for ProjectionSettings {
    fn default() -> Self {
        ProjectionSettings {
            snapshot_every: 100_000,
        }
    }
}

impl Default for WebformSettings {
    fn default() -> Self {
        WebformSettings {
            max_body_bytes: 256 * 1024,
            max_subject_chars: 998,
            max_attachments: 5,
            max_attachment_bytes: 10 * 1024 * 1024,
            max_total_attachment_bytes: 25 * 1024 * 1024,
            rate_limit_per_minute: 10,
            rate_limit_burst: 5,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Settings {
    /// Reads the file (if any), applies the environment, validates.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut s = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                // The path of the value at fault leads the message (`smtp.port: invalid type…`).
                serde_path_to_error::deserialize(toml::Deserializer::new(&text)).map_err(|e| {
                    SettingsError::Parse {
                        path: path.display().to_string(),
                        message: format!(
                            "{}: {}",
                            e.path(),
                            e.inner().to_string().trim().replace('\n', " ")
                        ),
                    }
                })?
            }
            None => Settings::default(),
        };
        // A variable a mailbox (or the SMTP server) names for its password is a secret, not a setting, whatever its
        // name (`POSTROOM_SUPPORT_PASSWORD` is a natural choice).
        let secrets: Vec<String> = s
            .mailboxes
            .iter()
            .filter_map(|m| m.password_env.clone())
            .chain(s.smtp.iter().filter_map(|m| m.password_env.clone()))
            .collect();
        for (k, v) in env {
            if !secrets.contains(&k) {
                s.apply_env(&k, &v)?;
            }
        }
        s.source = file.map(Path::to_path_buf);
        s.validate().map_err(|e| match (e, file) {
            (SettingsError::Invalid { key, message }, Some(path)) => SettingsError::InvalidIn {
                path: path.display().to_string(),
                key,
                message,
            },
            (e, _) => e,
        })?;
        Ok(s)
    }

    /// `POSTROOM_LISTEN`, `POSTROOM_DATA_DIR`, `POSTROOM_LOG_DURABILITY`, `POSTROOM_LOG_CACHE_MIB`,
    /// `POSTROOM_ACTORS_IDLE_SECS`, `POSTROOM_PROJECTIONS_SNAPSHOT_EVERY`,
    /// `POSTROOM_WORKFLOW_INBOUND_QUEUE`, `POSTROOM_WEBFORM_MAX_BODY_BYTES`.
    fn apply_env(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        fn num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, SettingsError> {
            v.trim()
                .parse()
                .map_err(|_| invalid(key, format!("{v:?} is not a number")))
        }
        match key {
            "POSTROOM_LISTEN" => self.listen = value.to_string(),
            "POSTROOM_DATA_DIR" => self.data_dir = PathBuf::from(value),
            "POSTROOM_LOG_DURABILITY" => {
                self.log.durability = match value.trim() {
                    "fsync" => Durability::Fsync,
                    "flush" => Durability::Flush,
                    other => {
                        return Err(invalid(
                            key,
                            format!("{other:?} is not one of \"fsync\", \"flush\""),
                        ))
                    }
                }
            }
            "POSTROOM_LOG_CACHE_MIB" => self.log.cache_mib = num(key, value)?,
            "POSTROOM_ACTORS_IDLE_SECS" => self.actors.idle_secs = num(key, value)?,
            "POSTROOM_PROJECTIONS_SNAPSHOT_EVERY" => {
                self.projections.snapshot_every = num(key, value)?
            }
            "POSTROOM_WORKFLOW_INBOUND_QUEUE" => self.workflow.inbound_queue = value.to_string(),
            "POSTROOM_WEBFORM_MAX_BODY_BYTES" => self.webform.max_body_bytes = num(key, value)?,
            "POSTROOM_WEBFORM_RATE_LIMIT_PER_MINUTE" => {
                self.webform.rate_limit_per_minute = num(key, value)?
            }
            "POSTROOM_HTTP_SIGNIN_ATTEMPTS_PER_NAME" => {
                self.http.signin_attempts_per_name = num(key, value)?
            }
            "POSTROOM_HTTP_SIGNIN_ATTEMPTS_PER_ADDRESS" => {
                self.http.signin_attempts_per_address = num(key, value)?
            }
            k if k.starts_with("POSTROOM_") && !IGNORED.contains(&k) => {
                return Err(invalid(k, "unknown setting (see README, Configuration)"))
            }
            _ => {}
        }
        Ok(())
    }

    /// Validates settings changed after loading (e.g. by a command-line flag).
    pub fn load_validated(mut s: Settings) -> Result<Settings, SettingsError> {
        s.validate()?;
        Ok(s)
    }

    fn validate(&mut self) -> Result<(), SettingsError> {
        self.listen.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "listen",
                format!("{:?} is not an address like 127.0.0.1:8080", self.listen),
            )
        })?;
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty"));
        }
        if !(self.actors.idle_secs > 0.0 && self.actors.idle_secs.is_finite()) {
            return Err(invalid(
                "actors.idle_secs",
                "must be a positive number of seconds",
            ));
        }
        if !(1..=1 << 20).contains(&self.log.cache_mib) {
            return Err(invalid("log.cache_mib", "must be between 1 and 1048576"));
        }
        for (key, secs) in [
            ("http.header_timeout_secs", self.http.header_timeout_secs),
            ("http.body_timeout_secs", self.http.body_timeout_secs),
            (
                "http.body_read_timeout_secs",
                self.http.body_read_timeout_secs,
            ),
        ] {
            if !(0.05..=3600.0).contains(&secs) {
                return Err(invalid(key, "must be between 0.05 and 3600 seconds"));
            }
        }
        desk::check(&self.routing, &self.desktop, &self.agents)?;
        let qa = self.qa.policy()?;
        if self.workflow.inbound_queue == qa.queue.as_str()
            || self.queue_names().contains(&qa.queue)
            || qa.queue.as_str() == "outbound"
        {
            return Err(invalid(
                "qa.queue",
                "replies wait for review in a queue of their own: not a queue of the process, \
                 nor outbound",
            ));
        }
        self.service_levels()?;
        let h = &self.http;
        if !(1..=7 * 86_400).contains(&h.session_idle_secs) {
            return Err(invalid(
                "http.session_idle_secs",
                "must be between 1 second and 7 days",
            ));
        }
        if !(h.session_idle_secs..=30 * 86_400).contains(&h.session_max_secs) {
            return Err(invalid(
                "http.session_max_secs",
                "must be at least session_idle_secs and at most 30 days",
            ));
        }
        if self.projections.snapshot_every == 0 {
            return Err(invalid("projections.snapshot_every", "must be at least 1"));
        }
        QueueName::parse(&self.workflow.inbound_queue)
            .map_err(|e| invalid("workflow.inbound_queue", e.to_string()))?;
        for (i, q) in self.workflow.queues.iter().enumerate() {
            QueueName::parse(q)
                .map_err(|e| invalid(&format!("workflow.queues[{i}]"), e.to_string()))?;
        }
        if let Some(smtp) = &self.smtp {
            smtp.validate()?;
        }
        if !(1..=366 * 86_400).contains(&self.workflow.auto_answer_period_secs) {
            return Err(invalid(
                "workflow.auto_answer_period_secs",
                "must be 1 to 31622400 seconds",
            ));
        }
        self.workflow.validate()?;
        let mut names = std::collections::HashSet::new();
        for (i, m) in self.mailboxes.iter().enumerate() {
            let key = format!("mailboxes[{i}]");
            QueueName::parse(&m.name)
                .map_err(|e| invalid(&format!("{key}.name"), e.to_string()))?;
            if !names.insert(m.name.clone()) {
                return Err(invalid(
                    &format!("{key}.name"),
                    format!("{:?} is used twice", m.name),
                ));
            }
            if m.host.trim().is_empty() {
                return Err(invalid(&format!("{key}.host"), "must not be empty"));
            }
            if m.port == 0 {
                return Err(invalid(&format!("{key}.port"), "must be 1 to 65535"));
            }
            if !(0.05..=86_400.0).contains(&m.poll_interval_secs) {
                return Err(invalid(
                    &format!("{key}.poll_interval_secs"),
                    "must be between 0.05 and 86400",
                ));
            }
            if !(1024..=1 << 30).contains(&m.max_message_bytes) {
                return Err(invalid(
                    &format!("{key}.max_message_bytes"),
                    "must be between 1024 and 1073741824",
                ));
            }
            if !(1..=10_000).contains(&m.batch) {
                return Err(invalid(
                    &format!("{key}.batch"),
                    "must be between 1 and 10000",
                ));
            }
            for (field, q) in [
                ("malformed_queue", &m.malformed_queue),
                ("bounce_queue", &m.bounce_queue),
            ] {
                let Some(q) = q else { continue };
                QueueName::parse(q)
                    .map_err(|e| invalid(&format!("{key}.{field}"), e.to_string()))?;
                if !self.workflow.queues.contains(q) {
                    self.workflow.queues.push(q.clone());
                }
            }
            if let Some(f) = &m.tls_ca_file {
                if !f.is_file() {
                    return Err(invalid(
                        &format!("{key}.tls_ca_file"),
                        format!("{} is not a readable file", f.display()),
                    ));
                }
            }
            m.password_source(&key)?;
        }
        if !self.workflow.queues.contains(&self.workflow.inbound_queue) {
            self.workflow
                .queues
                .push(self.workflow.inbound_queue.clone());
        }
        if self.webform.max_body_bytes == 0 || self.webform.max_body_bytes > 16 * 1024 * 1024 {
            return Err(invalid(
                "webform.max_body_bytes",
                "must be between 1 and 16777216",
            ));
        }
        let w = &self.webform;
        if w.max_attachments > 100 {
            return Err(invalid("webform.max_attachments", "must be at most 100"));
        }
        if w.max_attachment_bytes > 1 << 30 || w.max_total_attachment_bytes > 1 << 30 {
            return Err(invalid(
                "webform.max_total_attachment_bytes",
                "attachment limits must be at most 1073741824 bytes",
            ));
        }
        if w.rate_limit_burst == 0 {
            return Err(invalid("webform.rate_limit_burst", "must be at least 1"));
        }
        // The subject travels in the event, whose payload the log caps at 64 KiB.
        if !(1..=4000).contains(&self.webform.max_subject_chars) {
            return Err(invalid(
                "webform.max_subject_chars",
                "must be between 1 and 4000",
            ));
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> SocketAddr {
        // validate() checked it; the fallback is never used.
        self.listen
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)))
    }

    pub fn inbound_queue(&self) -> QueueName {
        QueueName::parse(&self.workflow.inbound_queue)
            .unwrap_or_else(|_| unreachable!("validated at load"))
    }

    pub fn queue_names(&self) -> Vec<QueueName> {
        self.workflow
            .queues
            .iter()
            .filter_map(|q| QueueName::parse(q).ok())
            .collect()
    }
}

/// Variables that belong to the command line, logging or tests, not to the configuration.
const IGNORED: &[&str] = &[
    "POSTROOM_CONFIG",
    "POSTROOM_SERVER",
    "POSTROOM_TOKEN",
    "POSTROOM_LOG",
    "POSTROOM_TEST_LOG",
    "POSTROOM_RECORD_SNAPSHOTS",
    "POSTROOM_TEST_CRASH_CHILD_DIR",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(toml_text: &str, env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("postroom.toml");
        std::fs::write(&path, toml_text).unwrap();
        Settings::load(
            Some(&path),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn no_file_gives_the_embedded_default() {
        let s = Settings::load(None, Vec::new()).unwrap();
        assert_eq!(s.listen, "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("data"));
        assert_eq!(s.workflow.inbound_queue, "inbound");
    }

    #[test]
    fn a_mailbox_password_variable_is_not_a_setting_whatever_its_name() {
        let mailbox = "[[mailboxes]]\nname = \"support\"\nhost = \"127.0.0.1\"\nport = 1143\ntls = \"none\"\nusername = \"u\"\npassword_env = \"POSTROOM_SUPPORT_PASSWORD\"\nfolder = \"INBOX\"\n";
        let s = load_str(mailbox, &[("POSTROOM_SUPPORT_PASSWORD", "secret")]).unwrap();
        assert_eq!(
            s.mailboxes[0].password_env.as_deref(),
            Some("POSTROOM_SUPPORT_PASSWORD")
        );
        // Any other unknown POSTROOM_ variable is still refused, naming it.
        let err = load_str(mailbox, &[("POSTROOM_SUPORT_PASSWORD", "secret")]).unwrap_err();
        assert!(
            err.to_string().contains("POSTROOM_SUPORT_PASSWORD"),
            "{err}"
        );
        // Unset, it stops only the commands that log in (see `resolve_password`).
        let s = load_str(mailbox, &[]).unwrap();
        assert!(s.mailboxes[0]
            .resolve_password("mailboxes[0]")
            .is_err_and(|e| e.to_string().contains("mailboxes[0].password_env")));
    }

    #[test]
    fn smtp_settings_load_and_bad_ones_name_the_key() {
        let ok = "[smtp]\nhost = \"127.0.0.1\"\nport = 2525\ntls = \"none\"\nfrom = \"Support <support@example.test>\"\n";
        let s = load_str(ok, &[]).unwrap();
        let smtp = s.smtp.expect("smtp");
        let sender = smtp.sender().unwrap();
        assert_eq!(sender.name.unwrap().as_str(), "Support");
        assert_eq!(sender.address.as_str(), "support@example.test");
        assert_eq!(smtp.resolve_password().unwrap(), None);
        assert!(
            load_str("", &[]).unwrap().smtp.is_none(),
            "no [smtp]: nothing is sent"
        );
        for (bad, key) in [
            (ok.replace("2525", "\"25x\""), "smtp.port"),
            (ok.replace("2525", "0"), "smtp.port"),
            (ok.replace("\"none\"", "\"ssl\""), "smtp.tls"),
            (
                ok.replace("Support <support@example.test>", "Support <nobody>"),
                "smtp.from",
            ),
            (
                ok.replace("Support <support@example.test>", "Sup\\r\\nport <a@b.c>"),
                "smtp.from",
            ),
            (format!("{ok}password = \"p\"\n"), "smtp.username"),
            (format!("{ok}username = \"u\"\n"), "smtp"),
            (format!("{ok}hots = \"x\"\n"), "hots"),
        ] {
            let e = load_str(&bad, &[]).expect_err(&bad).to_string();
            assert!(e.contains(key), "{bad}: {e}");
        }
        let with_user =
            format!("{ok}username = \"u\"\npassword_env = \"SMTP_PASSWORD_FOR_TEST\"\n");
        let s = load_str(&with_user, &[]).unwrap();
        assert!(s
            .smtp
            .unwrap()
            .resolve_password()
            .is_err_and(|e| e.to_string().contains("smtp.password_env")));
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let s = load_str(
            "listen = \"127.0.0.1:9000\"\n",
            &[("POSTROOM_LISTEN", "127.0.0.1:9001")],
        )
        .unwrap();
        assert_eq!(s.listen, "127.0.0.1:9001");
    }

    #[test]
    fn errors_name_the_key() {
        let e = load_str("[log]\ndurability = \"sometimes\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("durability"), "{e}");
        let e = load_str("[workflow]\ninbound_queue = \"has space\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("workflow.inbound_queue"), "{e}");
        let e = load_str("listen = \"nowhere\"\n", &[])
            .unwrap_err()
            .to_string();
        // The file, then the key.
        assert!(e.contains("postroom.toml: listen: \"nowhere\""), "{e}");
        let e = load_str("colour = \"blue\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour"), "{e}");
        let e = Settings::load(
            None,
            vec![("POSTROOM_ACTORS_IDLE_SECS".into(), "soon".into())],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("POSTROOM_ACTORS_IDLE_SECS"), "{e}");
    }

    #[test]
    fn routing_desktop_and_agents_errors_name_their_key() {
        for (bad, key) in [
            ("[routing]\nevery_ms = 5\n", "routing.every_ms"),
            (
                "[routing]\npreferred_wait_secs = -1\n",
                "routing.preferred_wait_secs",
            ),
            (
                "[routing]\nwiden = [{ queue = \"inbound\", after_secs = 0 }]\n",
                "routing.widen[0].after_secs",
            ),
            (
                "[routing]\ncategory_skills = { billing = [\"a b\"] }\n",
                "routing.category_skills.billing",
            ),
            ("[desktop]\ndispositions = []\n", "desktop.dispositions"),
            (
                "[desktop]\ndispositions = [\"Done!\"]\n",
                "desktop.dispositions[0]",
            ),
            (
                "[[agents]]\nuser = \"alice\"\nskills = { billing = 11 }\n",
                "agents[0].skills",
            ),
            (
                "[[agents]]\nuser = \"alice\"\n[[agents]]\nuser = \"Alice\"\n",
                "agents[1].user",
            ),
        ] {
            let e = load_str(bad, &[]).expect_err(bad).to_string();
            assert!(e.contains(key), "{bad}: {e}");
        }
        let s = load_str("[routing]\nevery_ms = 0\n", &[]).unwrap();
        assert_eq!(s.routing.every_ms, 0, "off");
    }

    #[test]
    fn qa_and_service_level_errors_name_their_key() {
        for (bad, key) in [
            ("[qa]\nsample_percent = 101\n", "qa.sample_percent"),
            ("[qa]\nqueue = \"inbound\"\n", "qa.queue"),
            ("[qa]\nqueue = \"outbound\"\n", "qa.queue"),
            (
                "[qa]\npatterns = [{ name = \"card\", when = 'body matches \"[\"' }]\n",
                "qa.patterns[0]",
            ),
            (
                "[service_levels.nowhere]\nfirst_response_secs = 60\nresolution_secs = 60\n",
                "service_levels.nowhere",
            ),
            (
                "[service_levels.inbound]\nfirst_response_secs = 600\nresolution_secs = 60\n",
                "service_levels.inbound.resolution_secs",
            ),
            (
                "[service_levels.inbound]\nfirst_response_secs = 60\nresolution_secs = 600\n\
                 business_hours = \"mon-fri 17:00-09:00\"\n",
                "service_levels.inbound.business_hours",
            ),
        ] {
            let e = load_str(bad, &[]).expect_err(bad).to_string();
            assert!(e.contains(key), "{bad}: {e}");
        }
        let s = load_str(
            "[qa]\nfirst_replies = 3\n[service_levels.inbound]\nfirst_response_secs = 60\n\
             resolution_secs = 600\nbusiness_hours = \"mon-fri 09:00-17:00\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(s.qa.policy().unwrap().first_replies, 3);
        assert_eq!(s.service_levels().unwrap().by_queue.len(), 1);
    }

    #[test]
    fn the_inbound_queue_is_always_a_queue() {
        let s = load_str(
            "[workflow]\ninbound_queue = \"mail\"\nqueues = [\"vip\"]\n",
            &[],
        )
        .unwrap();
        assert_eq!(
            s.workflow.queues,
            vec!["vip".to_string(), "mail".to_string()]
        );
    }
}
