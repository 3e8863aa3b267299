//! IMAP ingest: one thread per configured mailbox (the `imap` crate is blocking), so a slow or
//! dead mail server never stalls the rest of the server. A stage per file:
//!
//! - `connection`: TCP, TLS or STARTTLS, login, capabilities, socket timeouts;
//! - `session`: the loop of one connection: select, list, fetch in batches, wait (IDLE or poll);
//! - `pipeline`: a fetched batch parsed on a few threads (`mail::record`, pure), looked up in the
//!   projections (identity, thread, a report's reply), and handed to the log as one group commit
//!   through the application's receive path;
//! - `folders`: the processed folder resolved through the server's namespace, created if missing;
//! - `mover`: a second connection that moves (or flags) what is durable, while the next batch is
//!   fetched; `copy`: its way on a server without MOVE, copying each message once even across a
//!   crash;
//! - `status`: what readiness shows; `error`: transient or permanent failures.
//!
//! Each pass fetches the messages not yet done with `BODY.PEEK[]` (fetching sets no flag), records
//! each as `InteractionReceived` + `MessageStored` (+ `ThreadLinked`) + `InteractionQueued` in one
//! durable append, in the interaction whose id derives from the message's identity and sender.
//! Only then is it moved to the processed folder or flagged `\Seen`. A crash in between makes the
//! next pass fetch it again, and the append answers `AlreadyExists`: it is moved, not duplicated.

pub mod connection;
mod copy;
pub mod error;
mod folders;
mod handles;
mod ingest;
mod mover;
mod pipeline;
mod session;
pub mod status;

pub use error::{ImapError, Persistence};
pub use handles::IngestHandles;
pub use ingest::Ingest;
pub use status::{snapshot, MailboxStatus, Statuses};
