//! Mail: the pure protocol code and the adapters. `mime` turns raw RFC 5322 bytes into what
//! postroom stores and shows, `record` turns that into what is recorded, `threading` and
//! `ingest_plan` decide threads and fetch plans; all of them are pure (bytes in, data out), tested
//! with a corpus of real-world shapes. `imap` is the adapter that runs ingest against a server.

pub mod imap;
pub mod ingest_plan;
pub mod mime;
pub mod record;

/// The threading rules live with the domain; re-exported here where mail code looks for them.
pub use crate::domain::threading;

pub use mime::{parse, Attachment, DeliveryReport, Limits, Mailbox, ParsedMessage};
