//! The server killed (SIGKILL) while web forms stream in: no acknowledged submission lost or doubled.
