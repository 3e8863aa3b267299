//! postroom: an event-sourced e-mail interaction server for contact centers.
//!
//! Layout (see DESIGN.md): `domain` holds the pure deciders; `events` the durable log;
//! `projections` the read models derived from it; `actors` the thin shells that run commands;
//! `http` the REST API; `cli` and `startup` wire it all into a program.

pub mod actors;
pub mod bench;
pub mod bench_ingest;
pub mod cli;
pub mod content;
pub mod domain;
pub mod events;
pub mod http;
pub mod mail;
pub mod projections;
pub mod settings;
pub mod startup;
