//! Protocol adapters for mail. `mime` turns raw RFC 5322 bytes into what postroom stores and
//! shows; it is pure (bytes in, data out), tested with a corpus of real-world shapes (`body`
//! assembles the text and HTML, `headers` repairs raw 8-bit header text). `sender` says which
//! contact a parsed message is from.

mod body;
mod headers;
pub mod ingest_plan;
pub mod mime;
pub mod sender;
pub mod threading;

pub use mime::{parse, Attachment, DeliveryReport, Limits, Mailbox, ParsedMessage};
