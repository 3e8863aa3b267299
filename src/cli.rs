//! The command line: parses arguments and calls the library. Every failure is one clear line on
//! stderr and a non-zero exit code.

use crate::domain::user::Role;
use crate::domain::{AgentId, InteractionId, Principal};
use crate::events::export::{self, verify_file, verify_store, ExportKind};
use crate::events::query::{page, AuditFilter, FilterText};
use crate::events::{EventStore, StoreError};
use crate::projections::{runner, snapshot};
use crate::settings::Settings;
use crate::startup::{now, open_storage, Application, DataPaths, Storage};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "postroom",
    version,
    about = "Event-sourced e-mail interaction server for contact centers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Clone)]
pub struct Common {
    /// Configuration file (TOML). Without it: the embedded defaults.
    #[arg(long, env = "POSTROOM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data folder (overrides the configuration's data_dir).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Args, Clone)]
pub struct Remote {
    /// Go through a running server's HTTP API instead of opening the data folder.
    #[arg(long, env = "POSTROOM_SERVER")]
    pub server: Option<String>,
    /// Bearer token for --server.
    #[arg(long, env = "POSTROOM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on (overrides the configuration's listen).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Manage users and their bearer tokens.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Print an interaction's timeline: every event and the state after it.
    Replay {
        interaction_id: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        remote: Remote,
        /// Print the history as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Stop at this RFC 3339 time (the state then).
        #[arg(long)]
        at: Option<String>,
    },
    /// Export and verify the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Rebuild the projections from the log.
    Projections {
        #[command(subcommand)]
        command: ProjectionsCommand,
    },
    /// Try screening rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Which rules of RULES_FILE match MESSAGE (an .eml file), on which text, and what they would
    /// do.
    Test {
        rules_file: PathBuf,
        message: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user and print their bearer token (shown once).
    Add {
        name: String,
        /// agent, supervisor, auditor or admin.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        remote: Remote,
    },
    /// Revoke a user's token.
    Revoke {
        name: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        remote: Remote,
    },
    /// Set a user's password for signing in through a browser, read from standard input (its
    /// first line).
    Passwd {
        name: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Args, Clone, Default)]
pub struct FilterArgs {
    #[arg(long)]
    pub stream: Option<String>,
    #[arg(long)]
    pub interaction: Option<String>,
    /// customer:<address>, user:<name> or system:<component>.
    #[arg(long)]
    pub principal: Option<String>,
    #[arg(long = "type")]
    pub event_type: Option<String>,
    /// RFC 3339 time (inclusive).
    #[arg(long)]
    pub from: Option<String>,
    /// RFC 3339 time (exclusive).
    #[arg(long)]
    pub to: Option<String>,
    /// A kind of action: intervention (supervisors') or review (QA).
    #[arg(long)]
    pub kind: Option<String>,
    /// Messages sent to this address.
    #[arg(long)]
    pub recipient: Option<String>,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Write the log (or a filtered part) as NDJSON with the hashes.
    Export {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        remote: Remote,
        #[command(flatten)]
        filter: FilterArgs,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check the hash chain of the log or of an export; names the first bad position.
    Verify {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        remote: Remote,
        /// Verify this NDJSON export instead of the data folder.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The export is filtered: positions may jump (each record and each adjacent link still
        /// verify). Without it, a missing line is an error.
        #[arg(long, requires = "file")]
        allow_gaps: bool,
    },
}

#[derive(Subcommand)]
pub enum ProjectionsCommand {
    /// Replay the whole log into fresh projections and save their snapshot.
    Rebuild {
        #[command(flatten)]
        common: Common,
    },
}

/// A CLI failure: printed as `error: …`.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

fn settings(common: &Common) -> Result<Settings, CliError> {
    let mut s = Settings::load(common.config.as_deref(), std::env::vars())?;
    if let Some(d) = &common.data {
        s.data_dir = d.clone();
    }
    Ok(s)
}

/// One line saying who holds a data folder: the running server's address when its `server.json`
/// names a live process, else "another postroom process".
fn in_use(settings: &Settings, hint: &str) -> CliError {
    let paths = DataPaths::new(&settings.data_dir);
    let server = std::fs::read_to_string(&paths.server_info)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .filter(|v| {
            // A server killed outright leaves its server.json behind.
            v.get("pid")
                .and_then(|p| p.as_i64())
                .is_some_and(|pid| unsafe { libc::kill(pid as libc::pid_t, 0) } == 0)
        })
        .and_then(|v| v.get("url").and_then(|u| u.as_str()).map(String::from));
    let who = match server {
        Some(url) => format!("a running postroom server at {url}"),
        None => "another postroom process".to_string(),
    };
    CliError(format!(
        "the data folder {} is in use by {who}; stop it first{hint}",
        settings.data_dir.display()
    ))
}

/// Opens the data folder, or explains in one line that a server holds it.
fn open(settings: &Settings, hint: &str) -> Result<Storage, CliError> {
    match open_storage(settings) {
        Ok(s) => Ok(s),
        Err(StoreError::Locked { .. }) => Err(in_use(settings, hint)),
        Err(e) => Err(e.into()),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve { common, listen } => {
            let mut s = settings(&common)?;
            if let Some(l) = listen {
                s.listen = l;
                s = Settings::load_validated(s)?;
            }
            serve(s)
        }
        Command::Users { command } => users(command),
        Command::Replay {
            interaction_id,
            common,
            remote,
            json,
            at,
        } => replay(&interaction_id, &common, &remote, json, at),
        Command::Audit { command } => audit(command),
        Command::Projections {
            command: ProjectionsCommand::Rebuild { common },
        } => rebuild(&common),
        Command::Rules {
            command:
                RulesCommand::Test {
                    rules_file,
                    message,
                },
        } => rules_test(&rules_file, &message),
    }
}

/// `postroom rules test`: the rules, the message, what matched and what would happen.
fn rules_test(rules_file: &Path, message: &Path) -> Result<(), CliError> {
    use crate::domain::screening::RuleSet;
    let text = std::fs::read_to_string(rules_file)
        .map_err(|e| CliError(format!("{}: {e}", rules_file.display())))?;
    let rules = RuleSet::from_toml(&text)
        .map_err(|e| CliError(format!("{}: {e}", rules_file.display())))?;
    let raw =
        std::fs::read(message).map_err(|e| CliError(format!("{}: {e}", message.display())))?;
    let parsed = crate::mail::parse(&raw, &crate::mail::Limits::default());
    let language = crate::classify::language(&format!("{}\n{}", parsed.subject, parsed.text), &[]);
    let input = crate::mail::screen::input(&parsed, &raw, language.map(str::to_string));
    let outcome = rules.evaluate(&input);
    println!(
        "{} rules from {}; message {} ({:?}, language {})",
        rules.len(),
        rules_file.display(),
        message.display(),
        input.subject,
        input.language.as_deref().unwrap_or("unknown")
    );
    for m in &outcome.matched {
        println!("matched {}", m.rule);
        for e in &m.evidence {
            println!("  {} {}: {:?}", e.field, e.test, e.found);
        }
        let actions: Vec<String> = m.actions.iter().map(|a| a.to_string()).collect();
        println!("  would: {}", actions.join("; "));
    }
    if outcome.matched.is_empty() {
        println!("no rule matched");
    }
    match &outcome.stop {
        Some(reason) => println!("outcome: stopped ({reason})"),
        None => {
            let mut parts = Vec::new();
            if !outcome.categories.is_empty() {
                parts.push(format!("categories {}", outcome.categories.join(", ")));
            }
            if let Some(p) = outcome.priority {
                parts.push(format!("priority {p}"));
            }
            for (k, v) in &outcome.attributes {
                parts.push(format!("{k} = {v:?}"));
            }
            if let Some(q) = &outcome.queue {
                parts.push(format!("queue {q}"));
            }
            if parts.is_empty() {
                parts.push("nothing changes".into());
            }
            println!("outcome: {}", parts.join("; "));
        }
    }
    Ok(())
}

fn serve(s: Settings) -> Result<(), CliError> {
    actix_web::rt::System::new().block_on(async move {
        let app = match Application::build(s.clone()).await {
            Ok(a) => a,
            Err(crate::startup::StartError::Store(StoreError::Locked { .. })) => {
                return Err(in_use(&s, " or choose another --data"))
            }
            Err(e) => return Err(e.into()),
        };
        let ip = s.listen_addr().ip();
        // Tests and scripts read this line to learn the port.
        println!("postroom listening on http://{ip}:{}", app.port());
        let _ = std::io::stdout().flush();
        tracing::info!(port = app.port(), data = %s.data_dir.display(), "serving");
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn users(command: UsersCommand) -> Result<(), CliError> {
    let hint = ", or pass --server URL --token ADMIN_TOKEN to go through its API";
    match command {
        UsersCommand::Add {
            name,
            role,
            common,
            remote,
        } => {
            let name = AgentId::parse(name.trim()).map_err(|e| CliError(format!("NAME: {e}")))?;
            let role = Role::parse(&role).ok_or_else(|| {
                CliError(format!(
                    "--role: {role:?} is not one of agent, supervisor, auditor, admin"
                ))
            })?;
            let token = if remote.server.is_some() {
                let created = http_send(
                    &remote,
                    "POST",
                    "/api/v1/admin/users",
                    Some(serde_json::json!({"name": name.as_str(), "role": role.as_str()})),
                )?;
                created["token"].as_str().unwrap_or_default().to_string()
            } else {
                let storage = open(&settings(&common)?, hint)?;
                runtime()?
                    .block_on(crate::actors::users::add(
                        storage.store.as_ref(),
                        &name,
                        role,
                        Principal::System("cli".into()),
                        now(),
                    ))?
                    .0
            };
            println!("{token}");
            eprintln!(
                "user {name} ({}) added; the token above is shown only once",
                role.as_str()
            );
            Ok(())
        }
        UsersCommand::Revoke {
            name,
            common,
            remote,
        } => {
            let name = AgentId::parse(name.trim()).map_err(|e| CliError(format!("NAME: {e}")))?;
            if remote.server.is_some() {
                http_send(
                    &remote,
                    "DELETE",
                    &format!("/api/v1/admin/users/{name}"),
                    None,
                )?;
            } else {
                let storage = open(&settings(&common)?, hint)?;
                runtime()?.block_on(crate::actors::users::revoke(
                    storage.store.as_ref(),
                    &name,
                    Principal::System("cli".into()),
                    now(),
                ))?;
                storage.credentials.forget(&name).map_err(CliError)?;
            }
            eprintln!("user {name} revoked");
            Ok(())
        }
        UsersCommand::Passwd {
            name,
            common,
            remote,
        } => {
            let name = AgentId::parse(name.trim()).map_err(|e| CliError(format!("NAME: {e}")))?;
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprint!("new password for {name} (shown as typed; pipe it in to hide it): ");
            }
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']).to_string();
            if remote.server.is_some() {
                http_send(
                    &remote,
                    "POST",
                    &format!("/api/v1/admin/users/{name}/password"),
                    Some(serde_json::json!({ "password": password })),
                )?;
            } else {
                let storage = open(&settings(&common)?, hint)?;
                let store = storage.store.as_ref();
                let active = crate::events::aggregate::Loaded::<crate::domain::user::User>::load(
                    store, &name,
                )
                .map(|l| matches!(l.state, crate::domain::user::User::Active { .. }))
                .unwrap_or(false);
                if !active {
                    return Err(CliError(format!("NAME: no active user named {name}")));
                }
                runtime()?
                    .block_on(crate::app::signin::set_password(
                        store,
                        &storage.credentials,
                        &name,
                        password,
                        "admin",
                        Principal::System("cli".into()),
                    ))
                    .map_err(|e| {
                        CliError(match e {
                            crate::app::signin::SignInError::Invalid(m) => m,
                            crate::app::signin::SignInError::NotFound(m) => m,
                            crate::app::signin::SignInError::Unavailable(m) => m,
                            other => format!("{other:?}"),
                        })
                    })?;
            }
            eprintln!("the password of {name} is set");
            Ok(())
        }
    }
}

fn http_get(remote: &Remote, path: &str) -> Result<serde_json::Value, CliError> {
    http_send(remote, "GET", path, None)
}

/// Calls the running server's API; a problem answer becomes one line naming its detail.
fn http_send(
    remote: &Remote,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<serde_json::Value, CliError> {
    let base = remote
        .server
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/');
    let token = remote
        .token
        .as_deref()
        .ok_or_else(|| CliError("--server needs --token (or POSTROOM_TOKEN)".into()))?;
    let req = ureq::request(method, &format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {token}"));
    let result = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    match result {
        Ok(r) if r.status() == 204 => Ok(serde_json::Value::Null),
        Ok(r) => Ok(r.into_json()?),
        Err(ureq::Error::Status(code, r)) => {
            let detail = r
                .into_json::<serde_json::Value>()
                .ok()
                .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(String::from))
                .unwrap_or_default();
            Err(CliError(format!("{base} answered {code}: {detail}")))
        }
        Err(e) => Err(CliError(format!("cannot reach {base}: {e}"))),
    }
}

fn replay(
    raw_id: &str,
    common: &Common,
    remote: &Remote,
    json: bool,
    at: Option<String>,
) -> Result<(), CliError> {
    let id: InteractionId = raw_id
        .parse()
        .map_err(|e: crate::domain::ParseError| CliError(format!("INTERACTION_ID: {e}")))?;
    let history: serde_json::Value = if remote.server.is_some() {
        let query = at
            .as_deref()
            .map(|t| format!("?at={}", urlencode(t)))
            .unwrap_or_default();
        http_get(remote, &format!("/api/v1/interactions/{id}/history{query}"))?
    } else {
        let storage = open(
            &settings(common)?,
            ", or pass --server URL --token TOKEN to read through its API",
        )?;
        let store = storage.store.as_ref();
        let (thread, members) = crate::http::history::thread_from_log(store, id)
            .map_err(|e| CliError(e.to_string()))?;
        let until = crate::http::history::HistoryQuery {
            version: None,
            at: at.clone(),
        }
        .until()
        .map_err(|e| CliError(format!("--{e}")))?;
        let h = crate::http::history::replay(store, id, until, thread, &members)
            .map_err(|e| CliError(e.to_string()))?;
        serde_json::to_value(h)?
    };
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&history)?)?;
        return Ok(());
    }
    let s = |v: &serde_json::Value, k: &str| {
        v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string()
    };
    let state = &history["state"];
    writeln!(
        out,
        "interaction {id}: {} {}, version {}; thread {}",
        s(state, "kind"),
        s(state, "status"),
        history["version"],
        s(&history, "thread_id"),
    )?;
    for entry in history["events"].as_array().into_iter().flatten() {
        let e = &entry["event"];
        let st = &entry["state"];
        let mut detail = String::new();
        if let Some(obj) = e["data"].as_object() {
            for (k, v) in obj.iter().filter(|(k, _)| *k != "at") {
                let v = match v {
                    serde_json::Value::String(x) => x.clone(),
                    other => other.to_string(),
                };
                detail.push_str(&format!(" {k}={v}"));
            }
        }
        // Which of the thread's interactions (its id's first 8 characters).
        let of: String = s(entry, "interaction_id").chars().take(8).collect();
        writeln!(
            out,
            "{of} v{:<3} #{:<8} {}  {:<28} {:<24} -> {:<10}{}",
            e["version"],
            e["position"],
            s(e, "recorded_at"),
            s(e, "principal"),
            s(e, "type"),
            s(st, "status"),
            detail
        )?;
    }
    Ok(())
}

fn filter_of(f: &FilterArgs) -> Result<AuditFilter, CliError> {
    AuditFilter::parse(&FilterText {
        stream: f.stream.clone(),
        interaction: f.interaction.clone(),
        principal: f.principal.clone(),
        event_type: f.event_type.clone(),
        from: f.from.clone(),
        to: f.to.clone(),
        kind: f.kind.clone(),
        recipient: f.recipient.clone(),
    })
    .map_err(|e| CliError(format!("--{e}")))
}

fn audit(command: AuditCommand) -> Result<(), CliError> {
    match command {
        AuditCommand::Export {
            common,
            remote,
            filter,
            out,
        } => {
            let mut sink: Box<dyn Write> = match &out {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .map_err(|e| CliError(format!("--out {}: {e}", p.display())))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let n = if remote.server.is_some() {
                export_remote(&remote, &filter, &mut sink)?
            } else {
                let mut f = filter_of(&filter)?;
                let storage = open(
                    &settings(&common)?,
                    ", or pass --server URL --token TOKEN to export through its API",
                )?;
                if let Some(r) = &f.recipient {
                    f.streams = Some(crate::events::query::streams_to(storage.store.as_ref(), r)?);
                }
                let mut after = 0;
                let mut n = 0;
                loop {
                    let p = page(storage.store.as_ref(), &f, after, 4096, 1 << 20)?;
                    n += export::write_lines(&mut sink, &p.events)?;
                    match p.next_after {
                        Some(a) => after = a,
                        None => break,
                    }
                }
                n
            };
            sink.flush()?;
            eprintln!("exported {n} events");
            Ok(())
        }
        AuditCommand::Verify {
            common,
            remote,
            file,
            allow_gaps,
        } => {
            let report = match file {
                None if remote.server.is_some() => {
                    // The whole log through the API, verified as an export would be.
                    let mut buf = Vec::new();
                    export_remote(&remote, &FilterArgs::default(), &mut buf)?;
                    verify_file(std::io::BufReader::new(&buf[..]), ExportKind::Complete)?
                }
                Some(path) => {
                    let f = std::fs::File::open(&path)
                        .map_err(|e| CliError(format!("--file {}: {e}", path.display())))?;
                    let kind = if allow_gaps {
                        ExportKind::Filtered
                    } else {
                        ExportKind::Complete
                    };
                    verify_file(std::io::BufReader::new(f), kind)?
                }
                None => {
                    let storage = open(
                        &settings(&common)?,
                        ", or pass --server URL --token TOKEN to verify through its API",
                    )?;
                    let bar = progress(storage.store.head(), "verifying");
                    let r = verify_store(storage.store.as_ref(), |p| bar.set_position(p))?;
                    bar.finish_and_clear();
                    r
                }
            };
            println!(
                "ok: {} events verified (positions {}..{}), {} links checked, {} gaps, last hash {}",
                report.events,
                report.first_position.unwrap_or(0),
                report.last_position.unwrap_or(0),
                report.links,
                report.gaps,
                report.last_hash.unwrap_or_default()
            );
            Ok(())
        }
    }
}

fn export_remote(remote: &Remote, f: &FilterArgs, sink: &mut dyn Write) -> Result<u64, CliError> {
    let mut query = Vec::new();
    for (k, v) in [
        ("stream", &f.stream),
        ("interaction", &f.interaction),
        ("principal", &f.principal),
        ("type", &f.event_type),
        ("from", &f.from),
        ("to", &f.to),
        ("kind", &f.kind),
        ("recipient", &f.recipient),
    ] {
        if let Some(v) = v {
            query.push(format!("{k}={}", urlencode(v)));
        }
    }
    let mut after = 0;
    let mut n = 0;
    loop {
        let mut q = query.clone();
        q.push(format!("after={after}"));
        q.push("limit=1000".into());
        let page = http_get(remote, &format!("/api/v1/audit/events?{}", q.join("&")))?;
        for e in page["events"].as_array().into_iter().flatten() {
            writeln!(sink, "{e}")?;
            n += 1;
        }
        match page["next_after"].as_u64() {
            Some(a) => after = a,
            None => return Ok(n),
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} events ({per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

fn rebuild(common: &Common) -> Result<(), CliError> {
    let s = settings(common)?;
    let storage = open(&s, "")?;
    let head = storage.store.head();
    let bar = progress(head, "rebuilding");
    let started = std::time::Instant::now();
    let p = runner::rebuild(storage.store.as_ref(), |pos| bar.set_position(pos))?;
    bar.finish_and_clear();
    let path: &Path = &storage.paths.projection_snapshot;
    snapshot::write(path, &snapshot::encode(&p))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "rebuilt from {} events in {:.2}s ({:.0} events/s): {} interactions, snapshot written to {}",
        head,
        secs,
        head as f64 / secs.max(1e-9),
        p.cache.len(),
        path.display()
    );
    Ok(())
}
