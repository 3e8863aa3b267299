//! The store contract: what any backend of the event log must do (sled today; another later).

use super::envelope::{AppendRequest, AppendResult, ExpectedVersion, RecordedEvent};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::{oneshot, watch};

/// Why the log refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stream {stream}: expected version {expected:?}, but it is at {actual}")]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedVersion,
        actual: u64,
    },
    #[error("event {event_id} was appended before with different content: {why}")]
    IdempotencyConflict { event_id: uuid::Uuid, why: String },
    #[error("invalid append: {0}")]
    InvalidRequest(String),
    #[error("the log is corrupt at position {position}: {why}")]
    Corrupt { position: u64, why: String },
    #[error("the data folder {path} is in use by another postroom process (a running server?)")]
    Locked { path: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the log writer has stopped after an earlier I/O failure; restart the server")]
    Unavailable,
}

impl StoreError {
    pub(crate) fn io(context: impl Into<String>, source: impl Into<std::io::Error>) -> StoreError {
        StoreError::Io {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// Content (values keyed by their SHA-256) written with an append, in the same flush.
pub type Content = Vec<([u8; 32], Vec<u8>)>;

/// An append on its way to disk. Await it in async code, or `wait()` for it on a plain thread.
/// It resolves only once the events are durable (see `Durability`).
pub struct PendingAppend(pub(crate) PendingInner);

pub(crate) enum PendingInner {
    Ready(Option<Result<AppendResult, StoreError>>),
    Waiting(oneshot::Receiver<Result<AppendResult, StoreError>>),
}

impl PendingAppend {
    pub(crate) fn ready(r: Result<AppendResult, StoreError>) -> Self {
        PendingAppend(PendingInner::Ready(Some(r)))
    }
    /// Blocks the current thread until the append is durable. Not for use inside async code.
    pub fn wait(self) -> Result<AppendResult, StoreError> {
        match self.0 {
            PendingInner::Ready(r) => r.unwrap_or(Err(StoreError::Unavailable)),
            PendingInner::Waiting(rx) => rx.blocking_recv().unwrap_or(Err(StoreError::Unavailable)),
        }
    }
}

impl Future for PendingAppend {
    type Output = Result<AppendResult, StoreError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            PendingInner::Ready(r) => Poll::Ready(r.take().unwrap_or(Err(StoreError::Unavailable))),
            PendingInner::Waiting(rx) => Pin::new(rx)
                .poll(cx)
                .map(|r| r.unwrap_or(Err(StoreError::Unavailable))),
        }
    }
}

/// The event log. Positions and stream versions start at 1 and have no gaps. Readers see only
/// durable events: nothing is visible that a crash could take back.
pub trait EventStore: Send + Sync + 'static {
    /// Appends events to one stream, atomically, after checking the expected version.
    fn append(&self, request: AppendRequest) -> PendingAppend;
    /// As `append`, and writes `content` (values keyed by their SHA-256, into the content store)
    /// in the same durable flush: an event never outlives the content it refers to, and a batch
    /// of messages costs one flush for both.
    fn append_with_content(&self, request: AppendRequest, content: Content) -> PendingAppend;
    /// Hands many appends to the log at once, each as `append_with_content`, each checked and
    /// answered on its own (one refused does not refuse the others). Handed over together, they
    /// share one group commit instead of the first few starting a flush of their own.
    fn append_all(&self, appends: Vec<(AppendRequest, Content)>) -> Vec<PendingAppend> {
        appends
            .into_iter()
            .map(|(request, content)| self.append_with_content(request, content))
            .collect()
    }
    /// Events of one stream with `version >= from_version`, in order.
    fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
    ) -> Result<Vec<RecordedEvent>, StoreError>;
    /// Up to `limit` events with `position >= from_position`, in order.
    fn read_all(&self, from_position: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError>;
    /// The position of the last durable event (0 when the log is empty).
    fn head(&self) -> u64;
    /// The last durable version of a stream (0 when it does not exist).
    fn stream_version(&self, stream: &str) -> Result<u64, StoreError>;
    /// A receiver of the durable head, changed after every group commit.
    fn watch_head(&self) -> watch::Receiver<u64>;
    /// Whether the log can still write (false once its writer stopped after an I/O failure).
    fn writable(&self) -> bool {
        true
    }
}
