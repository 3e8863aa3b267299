//! MIME parsing with `mail-parser`: every message yields a `ParsedMessage`, never an error.
//! What could not be understood is listed in `problems` (the message is then flagged malformed),
//! so nothing a customer sent is ever dropped.

use super::{body, headers};
use crate::domain::header::{display_text, single_line};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};
use sha2::{Digest, Sha256};

/// What parsing may spend on one message.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Larger messages are stored raw and flagged; only their headers are parsed.
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 25 * 1024 * 1024,
        }
    }
}

pub use super::headers::Mailbox;

/// A file carried by the message (attachments and inline images).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Attachment {
    /// A name safe to offer for download: no path, no control characters, at most 200 characters.
    pub name: String,
    /// `type/subtype`, lower case.
    pub content_type: String,
    pub content_id: Option<String>,
    pub inline: bool,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// What a delivery status notification (RFC 3464) reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    /// The Message-ID of the message that could not be delivered, when the report includes it.
    pub original_message_id: Option<String>,
    pub final_recipient: Option<String>,
    /// failed, delayed, delivered, relayed, expanded.
    pub action: Option<String>,
    /// The enhanced status code, e.g. 5.1.1.
    pub status: Option<String>,
}

/// Everything postroom keeps of one message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParsedMessage {
    /// The Message-ID as written (without angle brackets), if any.
    pub message_id: Option<String>,
    /// A stable identity: the Message-ID, or `sha256:` and the hash of the raw bytes.
    pub identity: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The sender; its address is empty when the From header gives a name and no address.
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    /// The Date header, RFC 3339, when it parses.
    pub date: Option<String>,
    /// The text body; derived from the HTML when the message has no text part.
    pub text: String,
    /// The HTML body exactly as sent.
    pub html: Option<String>,
    /// The HTML body safe to display: no scripts, no event handlers, no remote images.
    pub html_sanitized: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Sent by a machine (Auto-Submitted, Precedence bulk/junk/list, X-Autoreply, List-Id).
    pub automated: bool,
    pub delivery_report: Option<DeliveryReport>,
    /// Size of the raw message in bytes.
    pub size: usize,
    /// What could not be understood; non-empty means "malformed".
    pub problems: Vec<String>,
    /// The message exceeded `Limits::max_message_bytes`: only headers were parsed.
    pub too_large: bool,
}

impl ParsedMessage {
    pub fn is_malformed(&self) -> bool {
        !self.problems.is_empty()
    }
}

pub(super) use super::headers::nfc;

/// `%XX` sequences decoded, when the result is UTF-8 (names some mailers percent-encode).
fn percent_decoded(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                return None;
            }
            let h = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Lines of the header section that are neither a field (`Name: value`) nor a continuation.
fn header_lines_without_colon(raw: &[u8], header_end: usize) -> usize {
    // Where the parser found the body to begin: a blank line however its ending is written
    // (LF, CRLF or a mix), so no body line is taken for a header.
    let end = header_end.min(raw.len());
    String::from_utf8_lossy(&raw[..end])
        .lines()
        .filter(|l| {
            let l = l.trim_end_matches('\r');
            !l.is_empty() && !l.starts_with([' ', '\t']) && !l.contains(':')
        })
        .count()
}

#[cfg(test)]
mod parse_tests {
    #[test]
    fn a_body_after_a_blank_line_of_mixed_endings_is_no_header() {
        for raw in [
            &b"From: a@example.com\nSubject: x\n\r\nbody line without a colon\n"[..],
            b"From: a@example.com\r\nSubject: x\r\n\nbody line without a colon\r\n",
        ] {
            let p = super::parse(raw, &super::Limits::default());
            assert!(p.problems.is_empty(), "{:?}", p.problems);
            assert!(p.text.contains("body line without a colon"), "{:?}", p.text);
        }
        let bad = super::parse(
            b"From: a@example.com\nnot a header\nSubject: x\n\nbody\n",
            &super::Limits::default(),
        );
        assert!(
            bad.problems.iter().any(|p| p.contains("header line")),
            "{:?}",
            bad.problems
        );
    }

    #[test]
    fn damaged_base64_keeps_what_decodes() {
        use super::lenient_base64;
        assert_eq!(lenient_base64(b"aGVsbG8g\nd29ybGQ=\n"), b"hello world");
        assert_eq!(
            lenient_base64(b"aGVsbG8g\n!!!! not base64 ###\nd29y\n"),
            b"hello wor"
        );
        assert_eq!(lenient_base64(b"aGk\n"), b"hi");
        assert!(lenient_base64(b"").is_empty());
        assert!(lenient_base64(b"=\n").is_empty());
        // An `=` inside a line is damage, not the end: the line goes, the rest stays.
        assert_eq!(lenient_base64(b"aGVsbG8g\nab=3Dcd\nd29y\n"), b"hello wor");
    }

    #[test]
    fn a_base64_part_where_nothing_decodes_keeps_the_bytes_sent() {
        let raw = "From: a@example.com\nSubject: x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee the file\n--b\nContent-Type: application/octet-stream; name=f.bin\nContent-Transfer-Encoding: base64\n\nnot base64 at all!\nnor this (line)\n--b--\n";
        let p = super::parse(raw.as_bytes(), &super::Limits::default());
        assert!(p.is_malformed(), "{:?}", p.problems);
        let file = p.attachments.iter().find(|a| a.name == "f.bin");
        assert_eq!(
            file.map(|a| a.bytes.as_slice()),
            Some(&b"not base64 at all!\nnor this (line)"[..])
        );
    }
}

/// Decodes base64 leniently: a line holding anything but base64 (damaged in transit) is left
/// out whole, so the lines around it keep their 4-character alignment; decoding stops at padding.
fn lenient_base64(body: &[u8]) -> Vec<u8> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let mut sextets: Vec<u32> = Vec::with_capacity(body.len());
    'lines: for line in body.split(|b| *b == b'\n') {
        let line = line.trim_ascii();
        let mut values = Vec::with_capacity(line.len());
        for (i, &c) in line.iter().enumerate() {
            match value(c) {
                Some(v) => values.push(v),
                // Padding ends the data, but only as the end of a line (`=` or `==`);
                // an `=` anywhere else means the line is damaged.
                None if c == b'=' && line[i..].iter().all(|b| *b == b'=') => {
                    sextets.extend(values);
                    break 'lines;
                }
                None => continue 'lines,
            }
        }
        sextets.extend(values);
    }
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for group in sextets.chunks(4) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, v)| acc | (v << (18 - 6 * i)));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // 4 characters make 3 bytes, 3 make 2, 2 make 1.
        out.extend_from_slice(&bytes[..group.len().saturating_sub(1)]);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => vec![single_line(t.trim())],
        HeaderValue::TextList(l) => l.iter().map(|t| single_line(t.trim())).collect(),
        _ => vec![],
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

/// A download name that cannot escape a folder or break a header.
pub fn safe_file_name(name: Option<&str>, n: usize, content_type: &str) -> String {
    let decoded = name.and_then(percent_decoded);
    let base = decoded
        .as_deref()
        .or(name)
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| {
            !c.is_control()
                && !crate::domain::header::breaks_line(*c)
                && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*' | '%')
                // Invisible and direction-changing characters (`invoice\u{202E}fdp.exe`).
                && !crate::domain::chars::is_default_ignorable(*c)
        })
        .collect::<String>();
    let base = base.trim().trim_matches('.').trim().to_string();
    let base: String = base.chars().take(200).collect();
    if !base.is_empty() {
        return base;
    }
    let ext = match content_type {
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        "application/pdf" => ".pdf",
        "text/plain" => ".txt",
        "text/html" => ".html",
        "message/rfc822" => ".eml",
        _ => ".bin",
    };
    format!("attachment-{}{ext}", n + 1)
}

/// HTML safe to show an agent: ammonia's defaults (no script, style, event handlers, javascript:
/// URLs), plus no remote images (tracking pixels); inline `cid:` images and raster `data:` images
/// stay (an SVG `data:` image does not: it can carry script).
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .add_url_schemes(&["cid", "data"])
        .attribute_filter(|element, attribute, value| {
            // Browsers skip leading spaces and control characters before a scheme.
            let v = value
                .trim_start_matches(|c: char| c <= ' ')
                .to_ascii_lowercase();
            if element == "img" && attribute == "src" {
                // Inline images by reference, or raster images inline: an SVG (or anything else)
                // in a data: URL can carry script.
                let raster = ["png", "jpeg", "jpg", "gif", "webp", "bmp"]
                    .iter()
                    .any(|t| {
                        v.starts_with(&format!("data:image/{t};"))
                            || v.starts_with(&format!("data:image/{t},"))
                    });
                if !(v.starts_with("cid:") || raster) {
                    return None;
                }
            } else if v.starts_with("data:") {
                // data: is for inline images only, never for links.
                return None;
            }
            Some(value.into())
        })
        .clean(html)
        .to_string()
}

fn field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn delivery_report(message: &mail_parser::Message<'_>) -> Option<DeliveryReport> {
    let root = message.root_part();
    let ct = root.content_type()?;
    let is_report = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        && ct
            .attribute("report-type")
            .is_some_and(|r| r.eq_ignore_ascii_case("delivery-status"));
    if !is_report {
        return None;
    }
    let mut report = DeliveryReport {
        original_message_id: None,
        final_recipient: None,
        action: None,
        status: None,
    };
    for part in &message.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let sub = ct.subtype().unwrap_or("").to_ascii_lowercase();
        let ty = ct.ctype().to_ascii_lowercase();
        match (ty.as_str(), sub.as_str()) {
            ("message", "delivery-status") => {
                let text = String::from_utf8_lossy(part.contents()).into_owned();
                report.final_recipient = field(&text, "Final-Recipient").map(|v| {
                    v.split_once(';')
                        .map(|(_, a)| a)
                        .unwrap_or(v)
                        .trim()
                        .to_string()
                });
                report.action = field(&text, "Action").map(|v| v.to_ascii_lowercase());
                report.status = field(&text, "Status").map(str::to_string);
            }
            ("message", "rfc822") | ("message", "global") => {
                if let PartType::Message(m) = &part.body {
                    report.original_message_id = m.message_id().map(str::to_string);
                }
            }
            ("text", "rfc822-headers") => {
                if let Some(m) = MessageParser::default().parse_headers(part.contents()) {
                    report.original_message_id = m.message_id().map(str::to_string);
                }
            }
            _ => {}
        }
    }
    Some(report)
}

fn is_report(message: &mail_parser::Message<'_>) -> bool {
    message.root_part().content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    })
}

fn is_automated(message: &mail_parser::Message<'_>) -> bool {
    let text = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    text("Auto-Submitted").is_some_and(|v| v != "no")
        || text("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list"))
        || text("X-Autoreply").is_some()
        || text("X-Autorespond").is_some()
        || text("List-Id").is_some()
}

/// A message kept as bytes only, flagged with `why` (when not empty): what nothing else could read.
pub fn unreadable(raw: &[u8], why: &str) -> ParsedMessage {
    let digest: [u8; 32] = Sha256::digest(raw).into();
    ParsedMessage {
        message_id: None,
        identity: format!("sha256:{}", hex(&digest)),
        in_reply_to: vec![],
        references: vec![],
        from: None,
        reply_to: None,
        to: vec![],
        cc: vec![],
        subject: String::new(),
        date: None,
        text: nfc(&String::from_utf8_lossy(raw)
            .chars()
            .take(100_000)
            .collect::<String>()
            .replace('\0', "")),
        html: None,
        html_sanitized: None,
        attachments: vec![],
        automated: false,
        delivery_report: None,
        size: raw.len(),
        problems: if why.is_empty() {
            vec![]
        } else {
            vec![why.to_string()]
        },
        too_large: false,
    }
}

/// Parses a raw message. Never fails: problems are reported in the result.
pub fn parse(raw: &[u8], limits: &Limits) -> ParsedMessage {
    let digest: [u8; 32] = Sha256::digest(raw).into();
    let mut problems = Vec::new();
    let too_large = raw.len() > limits.max_message_bytes;
    let parser = MessageParser::default();
    let parsed = if too_large {
        problems.push(format!(
            "the message is {} bytes, over the limit of {}: only its headers were read",
            raw.len(),
            limits.max_message_bytes
        ));
        parser.parse_headers(raw)
    } else {
        parser.parse(raw)
    };
    // A header section needs at least one field name of printable ASCII: binary junk can look
    // like a header with an unprintable name.
    let readable = |m: &mail_parser::Message<'_>| {
        m.headers().iter().any(|h| {
            let n = h.name();
            !n.is_empty() && n.bytes().all(|b| (33..=126).contains(&b) && b != b':')
        })
    };
    let Some(m) = parsed.filter(readable) else {
        problems.push("no header section could be read: not an RFC 5322 message".into());
        let mut p = unreadable(raw, "");
        p.problems = problems;
        p.too_large = too_large;
        return p;
    };

    let message_id = m
        .message_id()
        .map(|s| single_line(s.trim()))
        .filter(|s| !s.is_empty());
    // Raw 8-bit header text is read in the message's charset, not as U+FFFD.
    let fallback = headers::fallback(&m);
    let mut repaired = None;
    let fixed = headers::reparsed(raw, m.root_part(), fallback, &mut repaired);
    let h = fixed.as_ref().unwrap_or(&m);
    let from = headers::sender(h.from());
    if from.as_ref().is_none_or(|f| f.address.is_empty()) {
        problems.push("no From address could be read".into());
    }
    let bodies = body::body_parts(&m);
    let html = if too_large {
        None
    } else {
        body::html(&m, &bodies, raw)
    };
    let text = if too_large {
        String::new()
    } else {
        nfc(&body::text(&m, &bodies, raw).replace('\0', ""))
    };
    if raw.contains(&0) {
        problems.push("the message contains NUL bytes (removed from the text)".into());
    }
    let lines = header_lines_without_colon(raw, m.root_part().offset_body as usize);
    if lines > 0 {
        problems.push(format!(
            "{lines} header line(s) are neither a field nor a continuation"
        ));
    }
    let mut attachments = Vec::new();
    if !too_large {
        let files = m
            .attachments
            .iter()
            .filter(|i| !bodies.promoted.contains(i))
            .filter_map(|&i| m.parts.get(i as usize));
        for (n, part) in files.enumerate() {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(s) => format!("{}/{}", ct.ctype(), s),
                    None => ct.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_ascii_lowercase();
            let bytes = match &part.body {
                PartType::Message(inner) => inner.raw_message().to_vec(),
                // A damaged base64 body: keep what decodes instead of the encoded text, or the
                // bytes as sent when nothing does.
                _ if part.is_encoding_problem
                    && part
                        .content_transfer_encoding()
                        .is_some_and(|e| e.trim().eq_ignore_ascii_case("base64")) =>
                {
                    let raw = m.raw_message();
                    let (start, end) = (part.offset_body as usize, part.offset_end as usize);
                    let sent = raw.get(start..end.min(raw.len())).unwrap_or_default();
                    match lenient_base64(sent) {
                        decoded if decoded.is_empty() => sent.to_vec(),
                        decoded => decoded,
                    }
                }
                _ => part.contents().to_vec(),
            };
            attachments.push(Attachment {
                name: safe_file_name(
                    headers::attachment_name(raw, part, fallback).as_deref(),
                    n,
                    &content_type,
                ),
                inline: matches!(part.body, PartType::InlineBinary(_))
                    || part.content_disposition().is_some_and(|d| d.is_inline()),
                content_id: part
                    .content_id()
                    .map(|c| single_line(c.trim_matches(['<', '>']))),
                content_type,
                bytes,
            });
        }
        for (i, part) in m.parts.iter().enumerate() {
            // An empty body (a headers-only message) is not an encoding problem.
            if part.is_encoding_problem && part.offset_end > part.offset_body {
                problems.push(format!("part {i} could not be decoded as declared"));
            }
        }
    }
    ParsedMessage {
        identity: match &message_id {
            Some(id) => id.clone(),
            None => format!("sha256:{}", hex(&digest)),
        },
        message_id,
        in_reply_to: ids(m.in_reply_to()),
        references: ids(m.references()),
        reply_to: headers::mailboxes(h.reply_to()).into_iter().next(),
        to: headers::mailboxes(h.to()),
        cc: headers::mailboxes(h.cc()),
        from,
        // Decoded encoded words may hold CR/LF: the single-line rule, as for every header field.
        subject: h
            .subject()
            .map(|s| nfc(display_text(s).trim()))
            .unwrap_or_default(),
        date: m.date().map(|d| d.to_rfc3339()),
        html_sanitized: html.as_deref().map(sanitize_html),
        html,
        text,
        attachments,
        // Reports (bounces, read receipts) are machine mail even without Auto-Submitted.
        automated: is_automated(&m) || is_report(&m),
        delivery_report: delivery_report(&m),
        size: raw.len(),
        problems,
        too_large,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both_endings(raw: &str) -> [Vec<u8>; 2] {
        let lf = raw.replace("\r\n", "\n");
        [
            lf.clone().into_bytes(),
            lf.replace('\n', "\r\n").into_bytes(),
        ]
    }

    #[test]
    fn a_plain_message_parses_with_either_line_ending() {
        let raw = "From: Ann Lee <ann@example.com>\nTo: support@example.test\nSubject: Late order\nMessage-ID: <abc@example.com>\nIn-Reply-To: <r1@postroom>\nReferences: <r0@postroom> <r1@postroom>\nDate: Tue, 24 Nov 2026 09:00:00 +0000\n\nWhere is it?\n";
        for bytes in both_endings(raw) {
            let p = parse(&bytes, &Limits::default());
            assert!(!p.is_malformed(), "{:?}", p.problems);
            assert_eq!(p.message_id.as_deref(), Some("abc@example.com"));
            assert_eq!(p.identity, "abc@example.com");
            assert_eq!(p.from.as_ref().unwrap().address, "ann@example.com");
            assert_eq!(p.from.as_ref().unwrap().name.as_deref(), Some("Ann Lee"));
            assert_eq!(p.subject, "Late order");
            assert_eq!(p.text.trim(), "Where is it?");
            assert_eq!(p.in_reply_to, vec!["r1@postroom"]);
            assert_eq!(p.references, vec!["r0@postroom", "r1@postroom"]);
            assert!(p.date.is_some());
        }
    }

    #[test]
    fn without_a_message_id_the_identity_is_the_content_hash() {
        let raw = b"From: a@example.com\nSubject: x\n\nbody\n";
        let a = parse(raw, &Limits::default());
        let b = parse(raw, &Limits::default());
        assert!(a.identity.starts_with("sha256:"));
        assert_eq!(a.identity, b.identity);
        assert_ne!(
            parse(
                b"From: a@example.com\nSubject: y\n\nbody\n",
                &Limits::default()
            )
            .identity,
            a.identity
        );
    }

    #[test]
    fn html_only_mail_gets_a_text_body_and_a_safe_copy() {
        let raw = "From: a@example.com\nSubject: h\nContent-Type: text/html; charset=utf-8\n\n<p>Hello <b>there</b></p><script>alert(1)</script><img src=\"https://tracker.example/p.gif\"><img src=\"cid:logo\" onerror=\"x()\">\n";
        let p = parse(raw.as_bytes(), &Limits::default());
        assert!(p.text.contains("Hello"), "{:?}", p.text);
        let safe = p.html_sanitized.unwrap();
        assert!(
            !safe.contains("script") && !safe.contains("tracker") && !safe.contains("onerror"),
            "{safe}"
        );
        assert!(safe.contains("cid:logo"), "{safe}");
        assert!(
            p.html.unwrap().contains("<script>"),
            "the raw HTML is kept as sent"
        );
    }

    #[test]
    fn decoded_header_fields_follow_the_single_line_rule() {
        let raw = "From: =?UTF-8?Q?Ann=0D=0ABcc:_x@example.com?= <ann@example.com>\n\
                   To: =?UTF-8?Q?Bob=E2=80=A8Lee?= <bob@example.com>\n\
                   Subject: =?UTF-8?Q?a=0D=0ABcc:_evil@example.com?=\n\
                   Message-ID: <m1@example.com>\n\
                   Content-Type: multipart/mixed; boundary=b\n\n\
                   --b\nContent-Type: text/plain\n\nhi\n\
                   --b\nContent-Type: application/pdf; name=\"=?UTF-8?Q?x=0D=0Ay=E2=80=A9z.pdf?=\"\n\
                   Content-Disposition: attachment\n\nPDF\n--b--\n";
        let p = parse(raw.as_bytes(), &Limits::default());
        let breaks = |s: &str| s.chars().any(crate::domain::header::breaks_line);
        assert_eq!(p.subject, "a  Bcc: evil@example.com");
        let from = p
            .from
            .as_ref()
            .map(|f| f.name.clone().unwrap_or_default())
            .unwrap_or_default();
        assert!(!breaks(&from) && from.contains("Ann"), "{from:?}");
        assert!(
            p.to.iter()
                .all(|m| !breaks(m.name.as_deref().unwrap_or(""))),
            "{:?}",
            p.to
        );
        assert!(
            p.attachments.iter().all(|a| !breaks(&a.name)),
            "{:?}",
            p.attachments
        );
        assert_eq!(p.attachments.len(), 1);
    }

    #[test]
    fn only_raster_images_survive_as_data_urls() {
        let svg = "<img src=\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>\">";
        let svg64 = "<img src=\"data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=\">";
        let html = "<img src=\"data:text/html,<script>alert(1)</script>\">";
        let png = "<img src=\"data:image/png;base64,iVBORw0KGgo=\">";
        for bad in [svg, svg64, html] {
            let safe = sanitize_html(bad);
            assert!(!safe.contains("data:"), "{bad} -> {safe}");
        }
        assert!(sanitize_html(png).contains("data:image/png;base64"));
        assert!(sanitize_html("<img src=\" DATA:image/GIF;base64,R0lGOD==\">").contains("GIF"));
    }

    #[test]
    fn garbage_is_kept_and_flagged_not_dropped() {
        let p = parse(b"\x00\x01\x02 not a message at all", &Limits::default());
        assert!(p.is_malformed());
        assert!(p.identity.starts_with("sha256:"));
        let p = parse(b"Subject: no sender\n\nhi\n", &Limits::default());
        assert!(
            p.problems.iter().any(|x| x.contains("From")),
            "{:?}",
            p.problems
        );
    }

    #[test]
    fn a_message_over_the_limit_keeps_its_headers_and_is_flagged() {
        let mut raw = b"From: a@example.com\nSubject: big\nMessage-ID: <big@x>\n\n".to_vec();
        raw.extend(std::iter::repeat_n(b'x', 5000));
        let p = parse(
            &raw,
            &Limits {
                max_message_bytes: 1000,
            },
        );
        assert!(p.too_large && p.is_malformed());
        assert_eq!(p.subject, "big");
        assert_eq!(p.message_id.as_deref(), Some("big@x"));
        assert_eq!(p.size, raw.len());
    }

    #[test]
    fn attachment_names_cannot_escape_or_break_headers() {
        assert_eq!(
            safe_file_name(Some("../../etc/passwd"), 0, "text/plain"),
            "passwd"
        );
        assert_eq!(
            safe_file_name(Some("C:\\x\\evil.exe"), 0, "x/y"),
            "evil.exe"
        );
        assert_eq!(
            safe_file_name(Some("a\r\nb\".pdf"), 0, "application/pdf"),
            "ab.pdf"
        );
        assert_eq!(
            safe_file_name(Some("..."), 2, "image/png"),
            "attachment-3.png"
        );
        assert_eq!(
            safe_file_name(None, 0, "application/zip"),
            "attachment-1.bin"
        );
        // A right-to-left override would show invoice\u{202E}fdp.exe as invoiceexe.pdf.
        assert_eq!(
            safe_file_name(Some("invoice\u{202E}fdp.exe"), 0, "x/y"),
            "invoicefdp.exe"
        );
        assert_eq!(safe_file_name(Some("name.pdf."), 0, "x/y"), "name.pdf");
        // Only %XX with two hex digits is decoded.
        assert_eq!(percent_decoded("a%2Bb"), Some("a+b".into()));
        assert_eq!(percent_decoded("a%+5b"), None);
    }
}
