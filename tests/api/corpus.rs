//! The .eml corpus (tests/fixtures/eml): every file parsed with LF and CRLF endings.
