//! Start-up: open the data folder, load the projections, start the actors and the HTTP server.
//! `Application::build` binds (port 0 in tests) and reports the port; `run_until_stopped` serves.

use crate::actors::{Interactions, Registry, RegistryOptions};
use crate::app::answer::{AnswerPolicy, Answerer};
use crate::app::outbox::{Outbox, Retry};
use crate::app::process::{Corrections, Process, ProcessHandle};
use crate::app::receive::Receiver;
use crate::app::sweep::Sweep;
use crate::domain::interaction::Interaction;
use crate::events::StoreError;
use crate::mail::imap::{Ingest, IngestHandles, Statuses};
use crate::mail::smtp::Mailer;
use crate::projections::runner::RunnerOptions;
use crate::projections::ProjectionRunner;
use crate::settings::Settings;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

pub use crate::app::now;
pub use crate::storage::{DataPaths, Storage};

/// Opens the data folder as the settings say.
pub fn open_storage(settings: &Settings) -> Result<Storage, StoreError> {
    Storage::open(
        &settings.data_dir,
        settings.log.cache_mib * 1024 * 1024,
        settings.log.durability,
    )
}

/// Everything start-up wires together: the one place that knows every part. Shells get narrow
/// handles from it (`http::Handles`, `mail::imap::IngestHandles`), never the whole.
pub struct Engine {
    pub settings: Settings,
    pub storage: Storage,
    pub projections: Arc<ProjectionRunner>,
    /// The interaction actors.
    pub registry: Interactions,
    pub receiver: Receiver,
    pub sweep: Sweep,
    /// The business process in force (steps, screening, categorisation, answer texts).
    pub process: ProcessHandle,
    /// Held while a reload runs.
    reloading: Arc<tokio::sync::Mutex<()>>,
    /// What each IMAP mailbox's ingest is doing, for `/readyz`.
    pub mail_status: Statuses,
    shut_down: std::sync::atomic::AtomicBool,
    /// Tells agents' desktops what happens to their work (`GET /me/events`).
    pub notifier: crate::app::notify::Notifier,
    /// Answers kept for `Idempotency-Key`, shared by every HTTP worker.
    idempotency: Arc<crate::http::idempotency::Answers>,
    /// Which released replies are reviewed first (`[qa]`).
    pub qa: Arc<crate::domain::qa::Policy>,
    /// Browser sign-in (passwords, invitations) and the sessions it opens, shared by every worker.
    pub signin: crate::app::signin::SignIn,
    pub sessions: Arc<crate::http::session::Sessions>,
    /// Tells the background processes to stop.
    stopping: tokio::sync::watch::Sender<bool>,
    processes: std::sync::Mutex<Vec<actix_web::rt::task::JoinHandle<()>>>,
}

impl Engine {
    /// Opens storage, loads projections and starts the actor registry (inside an actix system).
    pub fn start(settings: Settings) -> Result<Engine, StartError> {
        let storage = open_storage(&settings)?;
        let projections = Arc::new(ProjectionRunner::start(
            storage.log(),
            RunnerOptions {
                snapshot_path: Some(storage.paths.projection_snapshot.clone()),
                snapshot_every: settings.projections.snapshot_every,
            },
        )?);
        // Rules compiled and the classifier trained once, with people's corrections (which the
        // projections know). A configuration error closes what was opened and names its key.
        let corrections =
            Corrections::for_settings(&settings, &projections, storage.content.as_ref());
        let built = settings
            .qa
            .policy()
            .map_err(|e| e.to_string())
            .and_then(|qa| {
                Process::from_settings(&settings, settings.smtp.is_some(), &corrections)
                    .map(|p| (Arc::new(qa), p))
            });
        let (qa, process) = match built {
            Ok((qa, p)) => (qa, ProcessHandle::new(p)),
            Err(e) => {
                projections.shutdown();
                storage.close();
                return Err(StartError::Config(e));
            }
        };
        let registry = Registry::new(
            storage.log(),
            storage.snapshots::<Interaction>(),
            RegistryOptions {
                idle: Duration::from_secs_f64(settings.actors.idle_secs),
                ..RegistryOptions::default()
            },
        );
        let receiver = Receiver::new(storage.log(), process.clone(), projections.clone());
        let sweep = Sweep {
            process: process.clone(),
            projections: projections.clone(),
            interactions: registry.clone(),
        };
        let notifier = crate::app::notify::Notifier::new(storage.log(), projections.clone());
        let signin = crate::app::signin::SignIn::new(
            storage.log(),
            storage.credentials.clone(),
            projections.clone(),
            crate::app::signin::Limits {
                per_name: settings.http.signin_attempts_per_name,
                per_address: settings.http.signin_attempts_per_address,
            },
        );
        let sessions = Arc::new(crate::http::session::Sessions::new(
            Duration::from_secs(settings.http.session_idle_secs),
            Duration::from_secs(settings.http.session_max_secs),
        ));
        Ok(Engine {
            notifier,
            qa,
            signin,
            sessions,
            idempotency: Default::default(),
            settings,
            storage,
            projections,
            registry,
            receiver,
            sweep,
            process,
            reloading: Default::default(),
            mail_status: Default::default(),
            shut_down: std::sync::atomic::AtomicBool::new(false),
            stopping: tokio::sync::watch::channel(false).0,
            processes: Default::default(),
        })
    }

    /// Records the process version in force on the log's `process` stream (when it changed
    /// since it was last recorded).
    pub async fn record_process(&self) -> Result<(), StartError> {
        let process = self.process.current();
        crate::app::process::record(
            self.storage.log().as_ref(),
            &process,
            self.settings.source.as_deref(),
            "start",
        )
        .await
        .map_err(StartError::Config)
    }

    pub fn is_shut_down(&self) -> bool {
        self.shut_down.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Finishes what a crash interrupted: an interaction received but never queued is queued now.
    pub async fn resume(&self) {
        if !self.is_shut_down() {
            self.sweep.run_once().await;
        }
    }

    /// The handles the HTTP layer uses.
    pub fn http_handles(&self) -> crate::http::Handles {
        let webform = &self.settings.webform;
        crate::http::Handles {
            log: self.storage.log(),
            content: self.storage.content.clone(),
            projections: self.projections.clone(),
            interactions: self.registry.clone(),
            receiver: self.receiver.clone(),
            reloader: self.reloader(),
            search: Default::default(),
            webform: Arc::new(crate::http::webform::WebformPolicy {
                limits: webform.clone(),
                limiter: crate::http::rate_limit::RateLimiter::new(
                    webform.rate_limit_per_minute,
                    webform.rate_limit_burst,
                    webform.trusted_proxies.clone(),
                ),
            }),
            queues: Arc::new(crate::http::queues::ConfiguredQueues(
                self.settings.queue_names(),
            )),
            notifier: self.notifier.clone(),
            idempotency: self.idempotency.clone(),
            replies: crate::app::reply::Replies {
                sender: self.settings.smtp.as_ref().and_then(|s| s.sender().ok()),
                projections: self.projections.clone(),
                interactions: self.registry.clone(),
                content: self.storage.content.clone(),
                log: self.storage.log(),
                qa: self.qa.clone(),
            },
            signin: self.signin.clone(),
            sessions: self.sessions.clone(),
            desk: crate::http::work::DeskPolicy {
                offer_secs: self.settings.routing.offer_secs,
                dispositions: self.settings.desktop.dispositions.clone(),
            },
            mailboxes: self.mail_status.clone(),
            sending: crate::http::health::Sending(self.settings.smtp.is_none().then(|| {
                "no [smtp] is configured: nothing is sent (no acknowledgements, no answers)"
                    .to_string()
            })),
            metrics: crate::metrics::install(),
            body_deadline: crate::http::deadline::BodyDeadline {
                whole: Duration::from_secs_f64(self.settings.http.body_timeout_secs),
                per_read: Duration::from_secs_f64(self.settings.http.body_read_timeout_secs),
            },
        }
    }

    /// The answering process and the outbox, when mail goes out (`[smtp]`); `password` is the
    /// SMTP password, resolved.
    pub fn outgoing(&self, password: Option<String>) -> Result<Option<(Answerer, Outbox)>, String> {
        let Some(smtp) = &self.settings.smtp else {
            return Ok(None);
        };
        let sender = smtp.sender().map_err(|e| e.to_string())?;
        let mailer = Mailer::new(smtp, password)?;
        let answerer = Answerer {
            policy: Arc::new(AnswerPolicy { sender }),
            process: self.process.clone(),
            projections: self.projections.clone(),
            interactions: self.registry.clone(),
            content: self.storage.content.clone(),
        };
        let outbox = Outbox {
            mailer,
            retry: Retry {
                initial: Duration::from_secs_f64(smtp.retry_initial_secs),
                max: Duration::from_secs_f64(smtp.retry_max_secs),
                max_attempts: smtp.max_attempts,
            },
            concurrency: smtp.pool_size as usize,
            projections: self.projections.clone(),
            interactions: self.registry.clone(),
            content: self.storage.content.clone(),
        };
        Ok(Some((answerer, outbox)))
    }

    /// Runs `pass` every `every` until the processes are stopped (`stop_processes`); a pass
    /// under way finishes first.
    fn repeat<F, Fut>(self: &Arc<Self>, every: Duration, pass: F)
    where
        F: Fn() -> Fut + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        self.repeat_or_when(every, None, pass)
    }

    /// As `repeat`, and also as soon as `wake` changes (passes never overlap: changes during a
    /// pass make one more).
    fn repeat_or_when<F, Fut>(
        self: &Arc<Self>,
        every: Duration,
        mut wake: Option<tokio::sync::watch::Receiver<u64>>,
        pass: F,
    ) where
        F: Fn() -> Fut + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let engine = self.clone();
        let mut stop = self.stopping.subscribe();
        let task = actix_web::rt::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !engine.is_shut_down() && !*stop.borrow() {
                let woken = async {
                    match wake.as_mut() {
                        Some(w) => {
                            if w.changed().await.is_err() {
                                std::future::pending::<()>().await
                            }
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = woken => {}
                    _ = stop.changed() => break,
                }
                // A pass that panics (a bug, an input nobody foresaw) is logged; the next one runs.
                use futures_util::FutureExt;
                if std::panic::AssertUnwindSafe(pass())
                    .catch_unwind()
                    .await
                    .is_err()
                {
                    tracing::error!(
                        "a background pass failed (panicked); the next one runs as usual"
                    );
                }
            }
            // `pass` (and what it holds, such as the mailer's pool) is dropped here, inside the
            // runtime.
        });
        self.keep(task);
    }

    /// Runs `until_stopped` as a background process until it ends or the processes are stopped.
    fn follow<Fut>(&self, until_stopped: Fut)
    where
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let mut stop = self.stopping.subscribe();
        self.keep(actix_web::rt::spawn(async move {
            tokio::select! {
                _ = until_stopped => {}
                _ = stop.changed() => {}
            }
        }));
    }

    /// A background process `stop_processes` waits for.
    fn keep(&self, task: actix_web::rt::task::JoinHandle<()>) {
        self.processes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
    }

    /// Stops the background processes (sweep, answers, outbox) and waits for each to finish
    /// its pass.
    pub async fn stop_processes(&self) {
        let _ = self.stopping.send(true);
        // Desktops' event streams end (a stop signal ends them earlier, before the server).
        self.notifier.close();
        let tasks: Vec<_> =
            std::mem::take(&mut *self.processes.lock().unwrap_or_else(|p| p.into_inner()));
        for mut t in tasks {
            // A pass blocked on a silent mail server is cut short: a message it left mid-attempt
            // is sent again at the next start, with the same Message-ID.
            if tokio::time::timeout(Duration::from_secs(10), &mut t)
                .await
                .is_err()
            {
                t.abort();
                let _ = t.await;
            }
        }
    }

    /// Reloads the workflow's configuration from the file the server started with.
    pub fn reloader(&self) -> crate::app::reload::Reloader {
        crate::app::reload::Reloader {
            source: self.settings.source.clone(),
            process: self.process.clone(),
            queues: self.settings.queue_names(),
            sending: self.settings.smtp.is_some(),
            log: self.storage.log(),
            projections: self.projections.clone(),
            content: self.storage.content.clone(),
            running: self.reloading.clone(),
        }
    }

    /// Retrains the classifier from people's corrections.
    pub fn retrainer(&self) -> crate::app::retrain::Retrainer {
        crate::app::retrain::Retrainer {
            process: self.process.clone(),
            projections: self.projections.clone(),
            content: self.storage.content.clone(),
            log: self.storage.log(),
            running: self.reloading.clone(),
        }
    }

    /// The handles IMAP ingest uses.
    pub fn ingest_handles(&self) -> IngestHandles {
        IngestHandles {
            log: self.storage.log(),
            content: self.storage.content.clone(),
            projections: self.projections.clone(),
            interactions: self.registry.clone(),
            receiver: self.receiver.clone(),
            marks: self.storage.marks.clone(),
            statuses: self.mail_status.clone(),
        }
    }

    /// Stops the actors, the projection runner (final snapshot) and the log writer. Whoever
    /// still holds the engine afterwards can read, but nothing more is written.
    pub fn shutdown(&self) {
        self.shut_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.registry.stop();
        self.projections.shutdown();
        self.storage.close();
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
    ingest: Ingest,
    stop_signals: StopSignals,
    hangups: Hangups,
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

/// SIGHUP: reload the workflow's configuration.
struct Hangups {
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Hangups {
    fn install() -> std::io::Result<Hangups> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Hangups {
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Hangups {})
    }

    /// Resolves at the next SIGHUP (never elsewhere).
    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            self.hup.recv().await;
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
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
        let hangups = Hangups::install().map_err(StartError::Signals)?;
        let addr = settings.listen_addr();
        let mut mailboxes = Vec::new();
        for (i, m) in settings.mailboxes.iter().enumerate() {
            let password = m
                .resolve_password(&format!("mailboxes[{i}]"))
                .map_err(|e| StartError::Config(e.to_string()))?;
            mailboxes.push((m.clone(), password));
        }
        let smtp_password = match &settings.smtp {
            Some(smtp) => smtp
                .resolve_password()
                .map_err(|e| StartError::Config(e.to_string()))?,
            None => None,
        };
        // The data folder first: a second server on it says so, not "address in use".
        let engine = Arc::new(Engine::start(settings)?);
        engine.record_process().await?;
        let agents = engine
            .settings
            .agent_profiles()
            .map_err(|e| StartError::Config(e.to_string()))?;
        crate::app::configured_agents::apply(
            engine.storage.log().as_ref(),
            &engine.projections,
            &agents,
        )
        .await
        .map_err(|e| {
            let file = engine
                .settings
                .source
                .as_ref()
                .map(|p| format!("{}: ", p.display()))
                .unwrap_or_default();
            StartError::Config(format!("{file}{e}"))
        })?;
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
            let e = engine.clone();
            engine.repeat(Duration::from_secs(5), move || {
                let e = e.clone();
                async move { e.resume().await }
            });
        }
        // Routing offers queued work to ready agents (unless turned off).
        if engine.settings.routing.every_ms > 0 {
            let router = crate::app::route::Router {
                policy: crate::app::route::RoutingPolicy {
                    offer_secs: engine.settings.routing.offer_secs,
                    ageing_secs: engine.settings.routing.ageing_secs,
                    preferred_wait_secs: engine.settings.routing.preferred_wait_secs,
                    category_skills: engine.settings.routing.category_skills.clone(),
                    widen: engine
                        .settings
                        .routing
                        .widen
                        .iter()
                        .filter_map(|w| {
                            let q = crate::domain::QueueName::parse(&w.queue).ok()?;
                            Some((q, w.after_secs, w.skills.clone()))
                        })
                        .collect(),
                },
                projections: engine.projections.clone(),
                interactions: engine.registry.clone(),
                written: Default::default(),
            };
            // Also at once when the projections change (new work, an agent ready, an offer
            // refused), so an offer follows its cause within milliseconds.
            engine.repeat_or_when(
                Duration::from_millis(engine.settings.routing.every_ms),
                Some(engine.projections.watch()),
                move || {
                    let r = router.clone();
                    async move { r.run_once().await }
                },
            );
        }
        // Service-level targets past their due time are recorded as breached (and escalate).
        {
            let deadlines = crate::app::service_level::Deadlines {
                projections: engine.projections.clone(),
                interactions: engine.registry.clone(),
            };
            engine.repeat(Duration::from_secs(1), move || {
                let d = deadlines.clone();
                async move { d.run_once().await }
            });
        }
        // Agents' desktops hear of their work as it happens.
        {
            let notifier = engine.notifier.clone();
            engine.follow(async move { notifier.run().await });
        }
        // The classifier learns from people's corrections.
        let every = engine.settings.workflow.categories.retrain_secs;
        if every > 0.0 {
            let retrainer = engine.retrainer();
            engine.repeat(Duration::from_secs_f64(every), move || {
                let r = retrainer.clone();
                async move {
                    if let Err(e) = r.run_once().await {
                        tracing::error!(error = %e, "retraining failed; the process in force stays");
                    }
                }
            });
        }
        // Automatic answers and the outbox, each on its own beat (a slow mail server never holds
        // up the loop policy's decisions).
        if let Some((answerer, outbox)) =
            engine.outgoing(smtp_password).map_err(StartError::Config)?
        {
            engine.repeat(Duration::from_millis(200), move || {
                let a = answerer.clone();
                async move { a.run_once().await }
            });
            engine.repeat(Duration::from_millis(200), move || {
                let o = outbox.clone();
                async move { o.run_once().await }
            });
        }
        let ingest = Ingest::start(engine.ingest_handles(), mailboxes);
        let info = serde_json::json!({
            "pid": std::process::id(),
            "url": format!("http://{}:{}", addr.ip(), port),
        });
        let _ = std::fs::write(&engine.storage.paths.server_info, info.to_string());
        let handles = engine.http_handles();
        let server = crate::http::server::serve(
            listener,
            handles,
            &engine.settings.http,
            &engine.settings.webform.trusted_proxies,
        )
        .map_err(|source| StartError::Listen {
            addr: addr.to_string(),
            source,
        })?;
        Ok(Application {
            port,
            server,
            engine,
            ingest,
            stop_signals,
            hangups,
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
        let reloader = self.engine.reloader();
        let result = loop {
            tokio::select! {
                r = &mut server => break r,
                _ = self.hangups.recv() => {
                    match reloader.reload().await {
                        Ok(done) => tracing::info!(version = %done.version, "SIGHUP: configuration reloaded"),
                        Err(e) => tracing::error!(error = %e, "SIGHUP: the configuration was not reloaded; the running one stays"),
                    }
                }
                _ = self.stop_signals.recv() => {
                    tracing::info!("stop signal received; stopping gracefully");
                    // Desktops' event streams end first: they would hold the server open.
                    self.engine.notifier.close();
                    // The command is queued when asked for; the server future carries it out (it
                    // may not have been polled yet), and answers when its workers are done.
                    let stopped = handle.stop(true);
                    let result = server.await;
                    stopped.await;
                    break result;
                }
            }
        };
        self.ingest.stop();
        self.engine.stop_processes().await;
        let _ = std::fs::remove_file(&self.engine.storage.paths.server_info);
        self.engine.shutdown();
        result
    }
}
