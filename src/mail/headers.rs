//! Header text as the sender meant it: raw 8-bit bytes in a header (what old mailers write
//! instead of RFC 2047 encoded words) are read in the charset the message's text declares, or
//! as Windows-1252 like a body without one, instead of becoming U+FFFD. Header lines that are
//! valid UTF-8 (RFC 6532) stay as they are.

use crate::domain::header::{display_text, single_line};
use encoding_rs::Encoding;
use mail_parser::{Address, Message, MessageParser, MessagePart, MimeHeaders};
use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// An address with its display name (an empty address: none could be read).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mailbox {
    pub address: String,
    pub name: Option<String>,
}

/// Composed Unicode (NFC), so `ễ` written as `ê` + tilde and as one character search alike.
pub(super) fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// The charset raw 8-bit header bytes are read in: the one the first text part declares when it
/// is a legacy charset (KOI8-R, Shift_JIS, ...), else Windows-1252.
pub(super) fn fallback(m: &Message<'_>) -> &'static Encoding {
    m.text_part(0)
        .and_then(|p| p.content_type())
        .and_then(|ct| ct.attribute("charset"))
        .and_then(|c| Encoding::for_label(c.trim().as_bytes()))
        .filter(|e| *e != encoding_rs::UTF_8 && e.is_ascii_compatible())
        .unwrap_or(encoding_rs::WINDOWS_1252)
}

/// The header section `raw[start..end]` with every line that is not UTF-8 decoded with
/// `fallback`; `None` when every line is UTF-8 already (nothing to repair).
pub(super) fn repaired(
    raw: &[u8],
    start: u32,
    end: u32,
    fallback: &'static Encoding,
) -> Option<Vec<u8>> {
    let section = raw.get(start as usize..(end as usize).min(raw.len()))?;
    if std::str::from_utf8(section).is_ok() {
        return None;
    }
    let mut out = Vec::with_capacity(section.len() + section.len() / 8);
    for line in section.split_inclusive(|b| *b == b'\n') {
        match std::str::from_utf8(line) {
            Ok(_) => out.extend_from_slice(line),
            Err(_) => {
                out.extend_from_slice(fallback.decode_without_bom_handling(line).0.as_bytes())
            }
        }
    }
    Some(out)
}

/// The part's header section re-parsed with its 8-bit lines repaired, when it has any.
pub(super) fn reparsed<'r>(
    raw: &[u8],
    part: &MessagePart<'_>,
    fallback: &'static Encoding,
    repaired_bytes: &'r mut Option<Vec<u8>>,
) -> Option<Message<'r>> {
    *repaired_bytes = repaired(raw, part.offset_header, part.offset_body, fallback);
    let bytes: &'r Option<Vec<u8>> = repaired_bytes;
    MessageParser::default().parse_headers(bytes.as_deref()?)
}

/// A part's file name, its raw 8-bit bytes read with `fallback`.
pub(super) fn attachment_name<'a>(
    raw: &[u8],
    part: &'a MessagePart<'_>,
    fallback: &'static Encoding,
) -> Option<Cow<'a, str>> {
    let mut bytes = None;
    if let Some(fixed) = reparsed(raw, part, fallback, &mut bytes) {
        if let Some(name) = fixed.root_part().attachment_name() {
            return Some(Cow::Owned(name.to_string()));
        }
    }
    part.attachment_name().map(Cow::Borrowed)
}

/// The mailboxes of an address header that have an address.
pub(super) fn mailboxes(a: Option<&Address<'_>>) -> Vec<Mailbox> {
    a.map(|a| {
        a.iter()
            .filter_map(|m| {
                let address = single_line(m.address()?.trim());
                (!address.is_empty()).then(|| Mailbox {
                    address,
                    name: name(m.name()),
                })
            })
            .collect()
    })
    .unwrap_or_default()
}

fn name(n: Option<&str>) -> Option<String> {
    n.map(|n| nfc(display_text(n).trim()))
        .filter(|n| !n.is_empty())
}

/// The sender: the first mailbox with an address, or else the first display name written
/// without one (`From: Whomever`), with an empty address.
pub(super) fn sender(a: Option<&Address<'_>>) -> Option<Mailbox> {
    mailboxes(a).into_iter().next().or_else(|| {
        a?.iter().find_map(|m| {
            Some(Mailbox {
                address: String::new(),
                name: Some(name(m.name())?),
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use crate::mail::{parse, Limits};

    #[test]
    fn raw_8bit_headers_are_read_in_the_fallback_charset() {
        let raw = b"From: J\xe9r\xf4me <j@example.fr>\nTo: Caf\xe9 <c@example.fr>, \xc9lise <e@example.fr>\nSubject: Th\xe9i\xe8re \x80 =?utf-8?q?cass=C3=A9e?=\nMessage-ID: <m@x>\n\nbody\n";
        let p = parse(raw, &Limits::default());
        assert_eq!(p.subject, "Théière € cassée");
        let from = p.from.unwrap_or_else(|| panic!("no sender"));
        assert_eq!(
            (from.address.as_str(), from.name.as_deref()),
            ("j@example.fr", Some("Jérôme"))
        );
        let to: Vec<_> = p.to.iter().map(|m| m.name.as_deref()).collect();
        assert_eq!(to, [Some("Café"), Some("Élise")]);
    }

    #[test]
    fn utf8_headers_stay_utf8_beside_8bit_ones() {
        // RFC 6532: UTF-8 written raw is UTF-8; only the line that is not is read as a legacy
        // charset, here the KOI8-R the body declares.
        let raw = "From: Jürgen <j@example.de>\nSubject: \u{1}\nContent-Type: text/plain; charset=koi8-r\n\nbody\n";
        let mut raw = raw.as_bytes().to_vec();
        let at = raw.iter().position(|b| *b == 1).unwrap_or_default();
        raw.splice(at..=at, [0xf7, 0xcf, 0xd0, 0xd2, 0xcf, 0xd3]);
        let p = parse(&raw, &Limits::default());
        assert_eq!(p.subject, "Вопрос");
        assert_eq!(p.from.and_then(|f| f.name).as_deref(), Some("Jürgen"));
    }

    #[test]
    fn an_8bit_file_name_is_read_in_the_fallback_charset() {
        let raw = b"From: a@example.com\nSubject: s\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee file\n--b\nContent-Type: application/pdf; name=\"re\xe7u.pdf\"\nContent-Disposition: attachment; filename=\"re\xe7u.pdf\"\n\n%PDF\n--b--\n";
        let p = parse(raw, &Limits::default());
        let names: Vec<_> = p.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["reçu.pdf"]);
    }

    #[test]
    fn a_name_without_an_address_is_the_sender_name() {
        for from in ["Whomever", "\"Whomever\"", "Whomever <>"] {
            let raw = format!("From: {from}\nSubject: s\n\nbody\n");
            let p = parse(raw.as_bytes(), &Limits::default());
            let sender = p.from.as_ref();
            assert_eq!(
                sender.map(|f| (f.address.as_str(), f.name.as_deref())),
                Some(("", Some("Whomever"))),
                "{from}"
            );
            assert!(
                p.problems.iter().any(|x| x.contains("From")),
                "{from}: {:?}",
                p.problems
            );
        }
        // An address still wins over a name before it.
        let p = parse(
            b"From: Whomever, Ann <ann@example.com>\nSubject: s\n\nbody\n",
            &Limits::default(),
        );
        assert_eq!(
            p.from.map(|f| f.address).as_deref(),
            Some("ann@example.com")
        );
    }
}
