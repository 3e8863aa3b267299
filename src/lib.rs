//! postroom: an event-sourced e-mail interaction server for contact centers.
//!
//! The map is `ARCHITECTURE.md` at the repository's root. In short: `domain` holds the pure
//! deciders and processes; `events` the durable log; `storage` opens the data folder;
//! `projections` the read models derived from the log; `actors` the aggregate actors; `app` the
//! narrow handles the shells use; `http` and `mail` are the shells (REST API, IMAP ingest); `cli`
//! and `startup` wire it all into a program.

pub mod actors;
pub mod app;
pub mod classify;
pub mod cli;
pub mod domain;
pub mod events;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod projections;
pub mod settings;
pub mod startup;
pub mod storage;
