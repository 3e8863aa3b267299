//! The single-line rule for text that ends up in (or came from) a mail header: no CR, no LF, no
//! other control character, no Unicode line or paragraph separator. One rule for every channel:
//! a web form refuses such text (422), mail in keeps the message and stores the field with each
//! such character turned into a space (the raw message stays as received), and the outbound path
//! can only write a header from a [`HeaderText`], which cannot hold one.

use super::chars::is_bidi_formatting;
use std::fmt;

/// Whether `c` breaks the single-line rule (a tab is allowed: header folding's whitespace).
pub fn breaks_line(c: char) -> bool {
    (c.is_control() && c != '\t') || c == '\u{2028}' || c == '\u{2029}'
}

/// Text that can stand in a header: one line, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HeaderText(String);

/// Whether `c` may not stand in header text: it breaks the line, or it is a bidi embedding,
/// override or isolate, which makes text display as other text (`U+202E`).
pub fn refused(c: char) -> bool {
    breaks_line(c) || is_bidi_formatting(c)
}

/// Text that breaks the single-line rule, or holds a bidi formatting character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a single line without control or bidi formatting characters (found U+{0:04X})")]
pub struct NotSingleLine(pub u32);

impl HeaderText {
    /// The text as it is, or the first character the rule refuses.
    pub fn parse(s: &str) -> Result<HeaderText, NotSingleLine> {
        match s.chars().find(|c| refused(*c)) {
            Some(c) => Err(NotSingleLine(c as u32)),
            None => Ok(HeaderText(s.to_string())),
        }
    }

    /// The text with every character that breaks the line turned into a space and every bidi
    /// formatting character dropped (for what mail brings in: kept, not refused).
    pub fn lossy(s: &str) -> HeaderText {
        HeaderText(
            s.chars()
                .filter(|c| !is_bidi_formatting(*c))
                .map(|c| if breaks_line(c) { ' ' } else { c })
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for HeaderText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `s` with every character that breaks the line turned into a space: for addresses and ids,
/// whose other characters their own parsers judge (an address with a bidi control is refused
/// there, not made to look like another one).
pub fn single_line(s: &str) -> String {
    if s.chars().any(breaks_line) {
        s.chars()
            .map(|c| if breaks_line(c) { ' ' } else { c })
            .collect()
    } else {
        s.to_string()
    }
}

/// Display text from mail (subjects, names) under the whole rule: see [`HeaderText::lossy`].
pub fn display_text(s: &str) -> String {
    if s.chars().any(refused) {
        HeaderText::lossy(s).into_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_separators_cannot_stand_in_a_header() {
        for bad in [
            "a\r\nBcc: evil@example.com",
            "a\nb",
            "a\rb",
            "a\u{2028}b",
            "a\u{2029}b",
            "a\0b",
            "a\u{1b}b",
        ] {
            assert!(HeaderText::parse(bad).is_err(), "{bad:?}");
            let fixed = HeaderText::lossy(bad);
            assert!(HeaderText::parse(fixed.as_str()).is_ok(), "{fixed:?}");
        }
        assert_eq!(single_line("a\r\nBcc: x"), "a  Bcc: x");
        assert_eq!(
            HeaderText::parse("Order 12\tshipped").map(|h| h.into_string()),
            Ok("Order 12\tshipped".into())
        );
    }
}
