//! The command line against real data folders and a running server.
