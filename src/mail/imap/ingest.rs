//! The running ingest: one thread per mailbox, stopped together.

use super::handles::IngestHandles;
use super::session;
use crate::settings::MailboxSettings;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Running ingest threads; dropping it stops them.
pub struct Ingest {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Ingest {
    /// Starts one thread per mailbox; `stop` (or dropping this) ends them.
    pub fn start(handles: IngestHandles, mailboxes: Vec<(MailboxSettings, String)>) -> Ingest {
        let stop = Arc::new(AtomicBool::new(false));
        let handles = Arc::new(handles);
        let threads = mailboxes
            .into_iter()
            .filter_map(|(settings, password)| {
                let (handles, stop) = (handles.clone(), stop.clone());
                std::thread::Builder::new()
                    .name(format!("imap-{}", settings.name))
                    .spawn(move || session::run(&handles, settings, password, &stop))
                    .ok()
            })
            .collect();
        Ingest { stop, threads }
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.stop();
    }
}
