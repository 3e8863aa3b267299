//! Small rules for text that comes from configuration or people: keys and one-line values.

/// A skill or attribute key: letters, digits, `_`, `-`, `.`, at most 64.
pub fn is_key(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// One line of display text, at most `max` characters, not blank.
pub fn is_line(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

/// What a code is (a disposition): 1 to 64 of `a-z`, `0-9`, `_`, `-`, `.`.
pub const CODE_PATTERN: &str = "^[a-z0-9_.-]{1,64}$";

/// Whether `s` is a code (`CODE_PATTERN`).
pub fn is_code(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
        })
}
