//! Integration tests, compiled as one binary (one link instead of many).

mod store;
