//! Keeps the projections up to date: one thread follows the log and applies every event, and
//! snapshots the projections every so often and when it stops.

use super::all::Projections;
use super::snapshot;
use crate::events::{EventStore, StoreError, Subscription};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Where the snapshot lives (None: never snapshot).
    pub snapshot_path: Option<PathBuf>,
    /// Take a snapshot after this many new events (and at shutdown).
    pub snapshot_every: u64,
}

/// How start-up found the projections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum StartKind {
    FromSnapshot { checkpoint: u64 },
    Rebuilt,
}

/// Shared projections with their live updater.
pub struct ProjectionRunner {
    state: Arc<RwLock<Projections>>,
    checkpoint: watch::Receiver<u64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    pub start_kind: StartKind,
}

/// Replays the whole log into fresh projections.
pub fn rebuild(
    store: &dyn EventStore,
    mut progress: impl FnMut(u64),
) -> Result<Projections, StoreError> {
    let mut p = Projections::default();
    catch_up(store, &mut p, &mut progress)?;
    Ok(p)
}

fn catch_up(
    store: &dyn EventStore,
    p: &mut Projections,
    progress: &mut impl FnMut(u64),
) -> Result<(), StoreError> {
    loop {
        let batch = store.read_all(p.checkpoint + 1, 8192)?;
        if batch.is_empty() {
            return Ok(());
        }
        for e in &batch {
            p.apply(e);
        }
        progress(p.checkpoint);
    }
}

/// Loads the snapshot if it belongs to this log, else replays from the start.
pub fn load(
    store: &dyn EventStore,
    snapshot_path: Option<&std::path::Path>,
) -> Result<(Projections, StartKind), StoreError> {
    if let Some(mut p) = snapshot_path.and_then(snapshot::read) {
        let belongs = p.checkpoint == 0
            || store
                .read_all(p.checkpoint, 1)?
                .first()
                .is_some_and(|e| e.position == p.checkpoint && e.hash == p.checkpoint_hash);
        if belongs {
            let checkpoint = p.checkpoint;
            catch_up(store, &mut p, &mut |_| {})?;
            return Ok((p, StartKind::FromSnapshot { checkpoint }));
        }
        tracing::warn!("projection snapshot does not match this log; rebuilding");
    }
    Ok((rebuild(store, |_| {})?, StartKind::Rebuilt))
}

impl ProjectionRunner {
    /// Loads (snapshot or rebuild), then follows the log on a thread of its own.
    pub fn start(store: Arc<dyn EventStore>, options: RunnerOptions) -> Result<Self, StoreError> {
        let (projections, start_kind) = load(store.as_ref(), options.snapshot_path.as_deref())?;
        let (tx, rx) = watch::channel(projections.checkpoint);
        let state = Arc::new(RwLock::new(projections));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let state = state.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("projections".into())
                .spawn(move || follow(store, state, tx, stop, options))
                .map_err(|e| StoreError::io("starting the projection runner", e))?
        };
        Ok(ProjectionRunner {
            state,
            checkpoint: rx,
            stop,
            thread: std::sync::Mutex::new(Some(thread)),
            start_kind,
        })
    }

    /// Read access to the projections.
    pub fn read<R>(&self, f: impl FnOnce(&Projections) -> R) -> R {
        let guard = self.state.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    pub fn checkpoint(&self) -> u64 {
        *self.checkpoint.borrow()
    }

    /// Waits until the projections include `position` (read-your-writes for a caller who just
    /// appended). False on timeout.
    /// Changes whenever the projections take in new events (their checkpoint, a log position).
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.checkpoint.clone()
    }

    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let mut rx = self.checkpoint.clone();
        let wait = async {
            loop {
                if *rx.borrow_and_update() >= position {
                    return true;
                }
                if rx.changed().await.is_err() {
                    return false;
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.unwrap_or(false)
    }

    /// Stops following and writes a final snapshot; nothing is written after it returns.
    pub fn shutdown(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Drop for ProjectionRunner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn save(state: &RwLock<Projections>, options: &RunnerOptions) {
    let Some(path) = &options.snapshot_path else {
        return;
    };
    let bytes = {
        let guard = state.read().unwrap_or_else(|p| p.into_inner());
        snapshot::encode(&guard)
    };
    if let Err(e) = snapshot::write(path, &bytes) {
        tracing::warn!(error = %e, "could not write the projection snapshot");
    }
}

fn follow(
    store: Arc<dyn EventStore>,
    state: Arc<RwLock<Projections>>,
    tx: watch::Sender<u64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    options: RunnerOptions,
) {
    let start = state.read().map(|p| p.checkpoint).unwrap_or(0);
    let mut sub = Subscription::new(store, start);
    let mut last_snapshot = start;
    let mut last_snapshot_time = Instant::now();
    // A small runtime of its own, to wait on the log's head instead of polling it.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "projection runner cannot start its runtime");
            return;
        }
    };
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        // Wake at least every 100 ms to notice a stop request.
        let next = rt.block_on(async {
            tokio::time::timeout(Duration::from_millis(100), sub.next_batch(4096)).await
        });
        let batch = match next {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "projection runner cannot read the log");
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            Err(_) => continue,
        };
        let checkpoint = {
            let mut p = state.write().unwrap_or_else(|p| p.into_inner());
            for e in &batch {
                p.apply(e);
            }
            p.checkpoint
        };
        tx.send_replace(checkpoint);
        let due = checkpoint - last_snapshot >= options.snapshot_every
            && last_snapshot_time.elapsed() >= Duration::from_secs(10);
        if due {
            save(&state, &options);
            last_snapshot = checkpoint;
            last_snapshot_time = Instant::now();
        }
    }
    let checkpoint = state.read().map(|p| p.checkpoint).unwrap_or(0);
    if checkpoint != last_snapshot || options.snapshot_path.as_ref().is_some_and(|p| !p.exists()) {
        save(&state, &options);
    }
}
