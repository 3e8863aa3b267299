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
