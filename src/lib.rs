//! postroom: an event-sourced e-mail interaction server for contact centers.
//!
//! Layout (see DESIGN.md): `domain` holds the pure deciders; `events` the durable log;
//! `projections` the read models derived from it; `actors` the thin shells that run commands;
//! `http` the REST API; `cli` and `startup` wire it all into a program.

pub mod domain;
pub mod events;
pub mod projections;
pub mod actors;
