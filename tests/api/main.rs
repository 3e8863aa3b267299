//! Integration tests, compiled as one binary (one link instead of many).

mod agents;
mod architecture;
mod authorization;
mod categories;
mod cli;
mod connections;
mod corpus;
mod crash;
mod edges;
mod engine;
mod helpers;
mod http;
mod imap_modes;
mod imap_servers;
mod ingest;
mod mailservers;
mod outbox;
mod outbox_crash;
mod process;
mod schema;
mod screening_flow;
mod smtp_sink;
mod standard_responses;
mod store;
mod threading;
mod webform;
