//! Mail: the pure protocol code and the adapters. `mime` turns raw RFC 5322 bytes into what
//! postroom stores and shows (`body` assembles the text and HTML, `headers` repairs raw 8-bit
//! header text); `sender` says which contact a parsed message is from; `record` turns it into what
//! is recorded; `ingest_plan` decides interaction ids and fetch plans. All of them are pure (bytes
//! in, data out), tested with a corpus of real-world shapes. `imap` is the adapter that runs
//! ingest against a server.

mod body;
mod headers;
pub mod imap;
pub mod ingest_plan;
pub mod mime;
pub mod outbound;
pub mod record;
pub mod screen;
pub mod sender;
pub mod smtp;

/// The threading rules live with the domain; re-exported here where mail code looks for them.
pub use crate::domain::threading;

pub use mime::{parse, Attachment, DeliveryReport, Limits, Mailbox, ParsedMessage};
