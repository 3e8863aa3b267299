//! The handles IMAP ingest is given by start-up.

use super::status::Statuses;
use crate::actors::Interactions;
use crate::app::receive::Receiver;
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use crate::storage::ContentStore;
use std::sync::Arc;

/// What ingest uses: the log (to read a stored message back), the content store, the projections
/// (identity, threads, reports), the interaction actors (a delivery report on its reply), the
/// receive path, the folder marks and the status board.
pub struct IngestHandles {
    pub log: Arc<dyn EventStore>,
    pub content: Arc<dyn ContentStore>,
    pub projections: Arc<ProjectionRunner>,
    pub interactions: Interactions,
    pub receiver: Receiver,
    pub marks: sled::Tree,
    pub statuses: Statuses,
}
