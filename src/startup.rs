//! Start-up: open the data folder, load the projections, start the actors and the HTTP server.
//! `Application::build` binds (port 0 in tests) and reports the port; `run_until_stopped` serves.

use crate::actors::registry::AggregateSnapshots;
use crate::actors::workflow::Workflow;
use crate::actors::{CommandEnvelope, Registry, RegistryOptions};
use crate::content::ContentStore;
use crate::domain::interaction::InteractionCommand;
use crate::domain::{Millis, Principal};
use crate::events::sled_store::open_db;
use crate::events::{EventStore, SledStore, StoreError, StoreOptions};
use crate::projections::runner::RunnerOptions;
use crate::projections::ProjectionRunner;
use crate::settings::Settings;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The current time in milliseconds since the epoch: the shell's clock, handed to the domain.
pub fn now() -> Millis {
    Millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    )
}

/// Where things live in a data folder.
pub struct DataPaths {
    pub sled: PathBuf,
    pub projection_snapshot: PathBuf,
    pub server_info: PathBuf,
}

impl DataPaths {
    pub fn new(data_dir: &Path) -> Self {
        DataPaths {
            sled: data_dir.join("sled"),
            projection_snapshot: data_dir.join("projections.snap"),
            server_info: data_dir.join("server.json"),
        }
    }
}

/// The storage side of postroom: log, content, snapshots. Needs no actor system, so the CLI
/// uses it too.
pub struct Storage {
    pub db: sled::Db,
    pub store: Arc<SledStore>,
    pub content: ContentStore,
    pub snapshots: AggregateSnapshots,
    pub paths: DataPaths,
}

impl Storage {
    pub fn open(settings: &Settings) -> Result<Storage, StoreError> {
        let paths = DataPaths::new(&settings.data_dir);
        let db = open_db(&paths.sled, settings.log.cache_mib * 1024 * 1024)?;
        let store = Arc::new(SledStore::open(
            &db,
            &paths.sled,
            StoreOptions {
                durability: settings.log.durability,
                ..StoreOptions::default()
            },
        )?);
        Ok(Storage {
            content: ContentStore::open(&db)?,
            snapshots: AggregateSnapshots::open(&db)?,
            db,
            store,
            paths,
        })
    }

    pub fn log(&self) -> Arc<dyn EventStore> {
        self.store.clone()
    }
}

/// Everything a request handler needs.
pub struct Engine {
    pub settings: Settings,
    pub storage: Storage,
    pub projections: ProjectionRunner,
    pub registry: Registry,
    pub workflow: Workflow,
    /// What each IMAP mailbox's ingest is doing, for `/readyz`.
    pub mail_status: crate::actors::ingest::Statuses,
    /// Web-form submissions per client.
    pub webform_limiter: crate::http::rate_limit::RateLimiter,
    shut_down: std::sync::atomic::AtomicBool,
}

impl Engine {
    /// Opens storage, loads projections and starts the actor registry (inside an actix system).
    pub fn start(settings: Settings) -> Result<Engine, StoreError> {
        let storage = Storage::open(&settings)?;
        let projections = ProjectionRunner::start(
            storage.log(),
            RunnerOptions {
                snapshot_path: Some(storage.paths.projection_snapshot.clone()),
                snapshot_every: settings.projections.snapshot_every,
            },
        )?;
        let registry = Registry::new(
            storage.log(),
            storage.snapshots.clone(),
            RegistryOptions {
                idle: Duration::from_secs_f64(settings.actors.idle_secs),
                ..RegistryOptions::default()
            },
        );
        let workflow = Workflow {
            inbound_queue: settings.inbound_queue(),
        };
        let webform_limiter = crate::http::rate_limit::RateLimiter::new(
            settings.webform.rate_limit_per_minute,
            settings.webform.rate_limit_burst,
            settings.webform.trusted_proxies.clone(),
        );
        Ok(Engine {
            webform_limiter,
            settings,
            storage,
            projections,
            registry,
            workflow,
            mail_status: Default::default(),
            shut_down: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn is_shut_down(&self) -> bool {
        self.shut_down.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Finishes what a crash interrupted: an interaction received but never queued is queued now.
    pub async fn resume(&self) {
        if self.is_shut_down() {
            return;
        }
        let stranded: Vec<_> = self
            .projections
            .read(|p| p.awaiting_workflow.iter().copied().collect());
        for id in stranded {
            let cmd = CommandEnvelope::new(
                InteractionCommand::Enqueue {
                    queue: self.workflow.inbound_queue.clone(),
                    at: now(),
                },
                Principal::System("workflow".into()),
            );
            match self.registry.execute(id, cmd).await {
                Ok(_) => {
                    tracing::info!(interaction_id = %id, "queued an interaction left received by a crash")
                }
                Err(e) => tracing::warn!(interaction_id = %id, error = %e, "could not resume"),
            }
        }
    }

    /// Stops the actors, the projection runner (final snapshot) and the log writer. Whoever
    /// still holds the engine afterwards can read, but nothing more is written.
    pub fn shutdown(&self) {
        self.shut_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.registry.stop();
        self.projections.shutdown();
        self.storage.store.close();
        if let Err(e) = self.storage.db.flush() {
            tracing::warn!(error = %e, "final flush failed");
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot listen for stop signals: {0}")]
    Signals(std::io::Error),
}

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    engine: Arc<Engine>,
    ingest: crate::actors::ingest::Ingest,
    stop_signals: StopSignals,
}

/// SIGTERM and SIGINT, listened for from the start of `Application::build`: a stop asked for
/// while the server starts (or in the instant its workers answer before actix would have set up
/// its own handlers) is a graceful stop, never the default action that kills the process.
struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> std::io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Resolves at the first stop signal.
    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl Application {
    /// Binds the listener and prepares the server. Must run inside an actix system.
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let stop_signals = StopSignals::install().map_err(StartError::Signals)?;
        let addr = settings.listen_addr();
        let mut mailboxes = Vec::new();
        for (i, m) in settings.mailboxes.iter().enumerate() {
            let password = m
                .resolve_password(&format!("mailboxes[{i}]"))
                .map_err(|e| StartError::Config(e.to_string()))?;
            mailboxes.push((m.clone(), password));
        }
        // The data folder first: a second server on it says so, not "address in use".
        let engine = Arc::new(Engine::start(settings)?);
        let listener = TcpListener::bind(addr).map_err(|source| StartError::Listen {
            addr: addr.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(addr.port());
        engine.resume().await;
        // Whatever a failed request left received gets queued within seconds, not at the next
        // start.
        {
            let engine = engine.clone();
            actix_web::rt::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(5));
                tick.tick().await;
                while !engine.is_shut_down() {
                    tick.tick().await;
                    engine.resume().await;
                }
            });
        }
        let ingest = crate::actors::ingest::Ingest::start(&engine, mailboxes);
        let info = serde_json::json!({
            "pid": std::process::id(),
            "url": format!("http://{}:{}", addr.ip(), port),
        });
        let _ = std::fs::write(&engine.storage.paths.server_info, info.to_string());
        let data = actix_web::web::Data::from(engine.clone());
        let server = actix_web::HttpServer::new(move || crate::http::app(data.clone()))
            .workers(2)
            .shutdown_timeout(5)
            // Ours, installed before anything listens (see `StopSignals`).
            .disable_signals()
            .listen(listener)
            .map_err(|source| StartError::Listen {
                addr: addr.to_string(),
                source,
            })?
            .run();
        Ok(Application {
            port,
            server,
            engine,
            ingest,
            stop_signals,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn engine(&self) -> Arc<Engine> {
        self.engine.clone()
    }

    /// A handle to stop the server gracefully (tests, embedding).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, then shuts down cleanly.
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = self.server;
        let result = tokio::select! {
            r = &mut server => r,
            _ = self.stop_signals.recv() => {
                tracing::info!("stop signal received; stopping gracefully");
                // The command is queued when asked for; the server future carries it out (it may
                // not have been polled yet), and answers when its workers are done.
                let stopped = handle.stop(true);
                let result = server.await;
                stopped.await;
                result
            }
        };
        self.ingest.stop();
        let _ = std::fs::remove_file(&self.engine.storage.paths.server_info);
        self.engine.shutdown();
        result
    }
}
