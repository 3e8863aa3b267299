//! A received message as screening sees it (`domain::screening::Input`): its addresses, subject,
//! text body, attachment names, and every header by lower-case name with its value decoded
//! (encoded words) under the display-text rule, unfolded, each run of white space one space.

use super::ParsedMessage;
use crate::domain::header::display_text;
use crate::domain::loop_guard::Facts;
use crate::domain::screening::Input;
use mail_parser::{HeaderValue, MessageParser};

fn address(m: &super::Mailbox) -> String {
    match &m.name {
        Some(n) => format!("{n} <{}>", m.address),
        None => m.address.clone(),
    }
}

/// Every header of `raw`, in order: lower-case name, decoded value.
pub fn headers(raw: &[u8]) -> Vec<(String, String)> {
    let Some(m) = MessageParser::default().parse_headers(raw) else {
        return Vec::new();
    };
    m.headers()
        .iter()
        .map(|h| {
            let name = h.name().to_ascii_lowercase();
            let value = match &h.value {
                HeaderValue::Text(t) => t.to_string(),
                HeaderValue::TextList(l) => l.join(", "),
                _ => {
                    // Structured values (addresses, dates, content types): the field as written,
                    // unfolded.
                    let (start, end) = (h.offset_start as usize, h.offset_end as usize);
                    let bytes = raw.get(start..end).unwrap_or_default();
                    String::from_utf8_lossy(bytes).into_owned()
                }
            };
            // Unfolded, each run of white space one space.
            let value = display_text(&value)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            (name, value)
        })
        .collect()
}

/// What loop protection looks at in a message (`domain::loop_guard`), from its decoded headers.
pub fn loop_facts(parsed: &ParsedMessage, headers: &[(String, String)]) -> Facts {
    let has = |name: &str| headers.iter().any(|(n, _)| n == name);
    // Every value counts: a second `Auto-Submitted` after a `no` still marks machine mail.
    fn all<'h>(
        headers: &'h [(String, String)],
        name: &'static str,
    ) -> impl Iterator<Item = &'h String> + 'h {
        headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v)
    }
    let auto_submitted = all(headers, "auto-submitted")
        .find(|v| !v.trim().eq_ignore_ascii_case("no"))
        .or_else(|| all(headers, "auto-submitted").next())
        .cloned();
    let precedence = all(headers, "precedence")
        .find(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "bulk" | "list" | "junk"
            )
        })
        .or_else(|| all(headers, "precedence").next())
        .cloned();
    Facts {
        auto_submitted,
        precedence,
        null_return_path: all(headers, "return-path").any(|v| v.trim() == "<>"),
        list_id: has("list-id"),
        list_unsubscribe: has("list-unsubscribe"),
        autoreply_header: has("x-autoreply")
            || has("x-autorespond")
            || has("x-auto-response-suppress"),
        sender: parsed
            .from
            .as_ref()
            .map(|f| f.address.clone())
            .unwrap_or_default(),
        delivery_report: parsed.delivery_report.is_some(),
        message_id: parsed.message_id.clone(),
    }
}

/// The screening input of a parsed message and its raw bytes.
pub fn input(parsed: &ParsedMessage, raw: &[u8], language: Option<String>) -> Input {
    Input {
        from: parsed.from.as_ref().map(address).unwrap_or_default(),
        to: parsed.to.iter().map(address).collect(),
        cc: parsed.cc.iter().map(address).collect(),
        subject: parsed.subject.clone(),
        body: parsed.text.clone(),
        headers: headers(raw),
        attachments: parsed.attachments.iter().map(|a| a.name.clone()).collect(),
        language,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::loop_guard::{may_answer, Budget};
    use crate::domain::Millis;
    use crate::mail::{parse, Limits};

    #[test]
    fn every_header_value_counts_and_a_null_return_path_is_seen() {
        let raw = b"From: Ann <ann@example.com>\r\nReturn-Path: <>\r\nAuto-Submitted: no\r\n\
                    Auto-Submitted: auto-replied\r\nPrecedence: first-class\r\nPrecedence: bulk\r\n\r\nhi\r\n";
        let parsed = parse(raw, &Limits::default());
        let facts = loop_facts(&parsed, &headers(raw));
        assert_eq!(facts.auto_submitted.as_deref(), Some("auto-replied"));
        assert_eq!(facts.precedence.as_deref(), Some("bulk"));
        assert!(facts.null_return_path);
        let plain = b"From: Ann <ann@example.com>\r\nReturn-Path: <ann@example.com>\r\nAuto-Submitted: no\r\n\r\nhi\r\n";
        let facts = loop_facts(&parse(plain, &Limits::default()), &headers(plain));
        assert!(!facts.null_return_path);
        assert!(may_answer(&facts, &[], Millis(0), Budget::default()).is_ok());
    }

    #[test]
    fn machine_mail_of_the_corpus_gets_no_automatic_answer() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eml");
        for (file, reason) in [
            ("vendors/out-of-office.eml", Some("auto_submitted")),
            ("vendors/mailing-list.eml", Some("precedence")),
            ("vendors/bounce-postfix.eml", Some("auto_submitted")),
            ("vendors/bounce-exchange.eml", Some("delivery_report")),
            ("vendors/thunderbird.eml", None),
            ("vendors/gmail-reply.eml", None),
        ] {
            let raw = std::fs::read(root.join(file)).expect(file);
            let parsed = parse(&raw, &Limits::default());
            let facts = loop_facts(&parsed, &headers(&raw));
            let got = may_answer(&facts, &[], Millis(0), Budget::default())
                .err()
                .map(|s| s.code());
            assert_eq!(got, reason, "{file}: {facts:?}");
        }
    }

    #[test]
    fn headers_are_decoded_one_line_each_by_lower_case_name() {
        let raw = b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>\r\nSubject: =?UTF-8?Q?a=0D=0Ab?=\r\n\
                    Auto-Submitted: auto-replied\r\nList-Id: <news.example.com>\r\nX-Note: folded\r\n  twice\r\n\r\nbody\r\n";
        let h = headers(raw);
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("auto-submitted"), Some("auto-replied"));
        assert_eq!(get("list-id"), Some("<news.example.com>"));
        assert_eq!(get("x-note"), Some("folded twice"));
        assert_eq!(get("subject"), Some("a b"));
        let parsed = parse(raw, &Limits::default());
        let i = input(&parsed, raw, None);
        assert_eq!(i.from, "Jürgen <j@example.de>");
        assert_eq!(i.body.trim(), "body");
    }
}
