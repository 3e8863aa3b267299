//! Integration tests, compiled as one binary (one link instead of many).

mod helpers;
mod http;
mod store;
