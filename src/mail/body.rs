//! The bodies an agent reads: the text of every inline part, in order, and likewise the HTML.
//!
//! mail-parser lists a message's inline parts the RFC 8621 way (`text_body`, `html_body`: one
//! choice per multipart/alternative, inline images in between). Every text part of those lists is
//! kept, not only the first; and because RFC 8621 takes only the first part of a
//! multipart/related as inline, text that follows an image there (Apple Mail's text, image, text)
//! is taken back from the attachments into the lists its first part is in.

use mail_parser::decoders::html::html_to_text;
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

/// Which parts make the text and the HTML body, by index into `Message::parts`, in order.
pub(super) struct BodyParts {
    text: Vec<u32>,
    html: Vec<u32>,
    /// Parts mail-parser lists as attachments that are body text here (see the module comment).
    pub promoted: Vec<u32>,
}

/// Text or HTML meant to be read, not a file: no attachment disposition, no file name.
fn is_readable_text(part: &MessagePart<'_>) -> bool {
    let plain_or_html = part.content_type().is_none_or(|ct| {
        ct.ctype().eq_ignore_ascii_case("text")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("plain") || s.eq_ignore_ascii_case("html"))
    });
    matches!(part.body, PartType::Text(_) | PartType::Html(_))
        && plain_or_html
        && !part.is_encoding_problem
        && part.attachment_name().is_none()
        && !part
            .content_disposition()
            .is_some_and(|d| d.is_attachment())
}

fn is_related(part: &MessagePart<'_>) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("related"))
    })
}

pub(super) fn body_parts(m: &Message<'_>) -> BodyParts {
    let mut parent: Vec<Option<usize>> = vec![None; m.parts.len()];
    for (i, part) in m.parts.iter().enumerate() {
        if let PartType::Multipart(children) = &part.body {
            for &c in children {
                if let Some(slot) = parent.get_mut(c as usize) {
                    *slot = Some(i);
                }
            }
        }
    }
    let (mut text, mut html) = (m.text_body.clone(), m.html_body.clone());
    let mut promoted = Vec::new();
    for &i in &m.attachments {
        if !m.parts.get(i as usize).is_some_and(is_readable_text) {
            continue;
        }
        let related = parent
            .get(i as usize)
            .copied()
            .flatten()
            .and_then(|p| m.parts.get(p))
            .filter(|p| is_related(p));
        let Some(PartType::Multipart(children)) = related.map(|r| &r.body) else {
            continue;
        };
        // The related's first part (the root) and everything nested in it.
        let (Some(&first), next) = (children.first(), children.get(1).copied()) else {
            continue;
        };
        let root = |list: &[u32]| {
            list.iter()
                .any(|&x| x >= first && next.is_none_or(|n| x < n))
        };
        let (in_text, in_html) = (root(&m.text_body), root(&m.html_body));
        if in_text {
            text.push(i);
        }
        if in_html {
            html.push(i);
        }
        if in_text || in_html {
            promoted.push(i);
        }
    }
    for list in [&mut text, &mut html] {
        list.sort_unstable();
        list.dedup();
    }
    BodyParts {
        text,
        html,
        promoted,
    }
}

/// A text part's text with two repairs: 8-bit text without a charset that is not UTF-8 is read
/// as Windows-1252 (what such mailers meant), and format=flowed is unwrapped.
fn plain_text(part: &MessagePart<'_>, decoded: &str, raw: &[u8]) -> String {
    let mut text = decoded.to_string();
    let ct = part.content_type();
    let no_charset = ct.is_none_or(|c| c.attribute("charset").is_none());
    let plain_encoding = part
        .content_transfer_encoding()
        .is_none_or(|e| matches!(e.to_ascii_lowercase().as_str(), "7bit" | "8bit" | "binary"));
    let (start, end) = (part.offset_body as usize, part.offset_end as usize);
    if no_charset && plain_encoding && start <= end && end <= raw.len() {
        let bytes = &raw[start..end];
        if std::str::from_utf8(bytes).is_err() {
            let (decoded, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            text = decoded.into_owned();
        }
    }
    if let Some(c) = ct {
        if c.attribute("format")
            .is_some_and(|f| f.eq_ignore_ascii_case("flowed"))
        {
            let delsp = c
                .attribute("delsp")
                .is_some_and(|d| d.eq_ignore_ascii_case("yes"));
            text = unflow(&text, delsp);
        }
    }
    text
}

/// The text body: every part of the text list in order (HTML parts converted to text), joined
/// by a blank line; empty when the message has none.
pub(super) fn text(m: &Message<'_>, parts: &BodyParts, raw: &[u8]) -> String {
    let pieces: Vec<String> = parts
        .text
        .iter()
        .filter_map(|&i| m.parts.get(i as usize))
        .filter_map(|part| match &part.body {
            PartType::Text(t) => Some(plain_text(part, t, raw)),
            PartType::Html(h) => Some(html_to_text(h)),
            _ => None,
        })
        .filter(|t| !t.trim().is_empty())
        .collect();
    if pieces.len() == 1 {
        return pieces.into_iter().next().unwrap_or_default();
    }
    pieces
        .iter()
        .map(|t| t.trim_matches(['\r', '\n']))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Plain text shown as HTML: escaped, its line breaks kept.
fn text_as_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str("<div>");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push_str("</div>");
    out
}

/// The HTML body as sent: every part of the HTML list in order (text parts between them made
/// HTML), or `None` when no HTML was sent (mail-parser would make it up from the text).
pub(super) fn html(m: &Message<'_>, parts: &BodyParts, raw: &[u8]) -> Option<String> {
    let listed = || parts.html.iter().filter_map(|&i| m.parts.get(i as usize));
    if !listed().any(|p| matches!(p.body, PartType::Html(_))) {
        return None;
    }
    let pieces: Vec<String> = listed()
        .filter_map(|part| match &part.body {
            PartType::Html(h) => Some(h.to_string()),
            PartType::Text(t) => Some(text_as_html(&plain_text(part, t, raw))),
            _ => None,
        })
        .filter(|h| !h.trim().is_empty())
        .collect();
    Some(pieces.join("\n"))
}

/// RFC 3676: joins the soft-broken lines of a format=flowed body (a line ending in a space goes
/// on in the next one; with delsp=yes that space was added and is removed). Quoted lines join
/// only lines of the same quote depth (`>` count), and keep their quote marks.
fn unflow(text: &str, delsp: bool) -> String {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut out = String::with_capacity(text.len());
    // The paragraph being joined: its quote depth and text so far.
    let mut open: Option<(usize, String)> = None;
    let emit = |out: &mut String, depth: usize, body: &str, last: bool| {
        if depth > 0 {
            out.push_str(&">".repeat(depth));
            out.push(' ');
        }
        out.push_str(body);
        if !last {
            out.push('\n');
        }
    };
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        let depth = line.bytes().take_while(|b| *b == b'>').count();
        let rest = &line[depth..];
        // Space-stuffing: the sender added one space (after any quote marks).
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        let mut body = match open.take() {
            Some((d, so_far)) if d == depth => so_far,
            Some((d, so_far)) => {
                // A soft break into another depth is a hard one.
                emit(&mut out, d, &so_far, false);
                String::new()
            }
            None => String::new(),
        };
        let soft = rest.ends_with(' ') && rest != "-- " && !last;
        if soft {
            body.push_str(if delsp { &rest[..rest.len() - 1] } else { rest });
            open = Some((depth, body));
        } else {
            body.push_str(rest);
            emit(&mut out, depth, &body, last);
        }
    }
    if let Some((d, so_far)) = open {
        emit(&mut out, d, &so_far, true);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unflow;
    use crate::mail::{parse, Limits};

    #[test]
    fn soft_breaks_join_and_hard_ones_stay() {
        assert_eq!(unflow("one \ntwo\nthree", false), "one two\nthree");
        assert_eq!(unflow("one \r\ntwo\r\n", false), "one two\n");
        assert_eq!(unflow("one \ntwo", true), "onetwo");
        // A signature separator is never a soft break.
        assert_eq!(unflow("-- \nMe", false), "-- \nMe");
        // Space-stuffed lines lose their stuffing.
        assert_eq!(
            unflow(" From here\n >not quoted", false),
            "From here\n>not quoted"
        );
    }

    #[test]
    fn quoted_paragraphs_join_only_at_their_own_depth() {
        let text = "> quoted and \n> flowed\n>> deeper \n>> still\nmine \n> not joined";
        assert_eq!(
            unflow(text, false),
            "> quoted and flowed\n>> deeper still\nmine \n> not joined"
        );
    }

    fn multipart(kind: &str, parts: &[&str]) -> Vec<u8> {
        let mut raw = format!(
            "From: a@example.com\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/{kind}; boundary=\"b\"\n\n"
        );
        for p in parts {
            raw.push_str(&format!("--b\n{p}\n"));
        }
        raw.push_str("--b--\n");
        raw.into_bytes()
    }

    const IMAGE: &str = "Content-Type: image/png\nContent-Disposition: inline\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n";

    #[test]
    fn every_text_part_is_kept_each_with_its_own_repairs() {
        // The second part is 8-bit Latin-1 without a charset, the third format=flowed.
        let mut raw = multipart(
            "mixed",
            &[
                "Content-Type: text/plain; charset=utf-8\n\nfirst\n",
                IMAGE,
                "Content-Type: text/plain\n\nsecond caf\u{1}\n",
                "Content-Type: text/plain; format=flowed\n\nthird \nline\n",
            ],
        );
        let at = raw.iter().position(|b| *b == 1).unwrap_or_default();
        raw[at] = 0xe9;
        let p = parse(&raw, &Limits::default());
        assert_eq!(p.text, "first\n\nsecond café\n\nthird line");
        assert_eq!(p.html, None);
        assert_eq!(p.attachments.len(), 1);
    }

    #[test]
    fn an_alternative_is_read_once() {
        let raw = multipart(
            "alternative",
            &[
                "Content-Type: text/plain\n\nhello\n",
                "Content-Type: text/html\n\n<p>hello</p>\n",
            ],
        );
        let p = parse(&raw, &Limits::default());
        assert_eq!(p.text.trim(), "hello");
        assert_eq!(p.html.as_deref().map(str::trim), Some("<p>hello</p>"));
    }

    #[test]
    fn text_between_html_parts_is_kept_in_the_html() {
        let raw = multipart(
            "mixed",
            &[
                "Content-Type: text/html\n\n<p>one</p>\n",
                "Content-Type: text/plain\n\ntwo & more <b>\n",
                "Content-Type: text/html\n\n<p>three</p>\n",
            ],
        );
        let p = parse(&raw, &Limits::default());
        let html = p.html.unwrap_or_default();
        let (one, two, three) = (
            html.find("<p>one</p>"),
            html.find("two &amp; more &lt;b&gt;"),
            html.find("<p>three</p>"),
        );
        assert!(one < two && two < three && one.is_some(), "{html}");
        assert_eq!(p.text, "one\n\ntwo & more <b>\n\nthree");
    }

    #[test]
    fn a_file_in_a_related_is_no_body_text() {
        // Only a text part with no name and no attachment disposition is read as body.
        let raw = multipart(
            "related",
            &[
                "Content-Type: text/plain\n\nbody\n",
                IMAGE,
                "Content-Type: text/plain; name=\"notes.txt\"\n\nnotes\n",
                "Content-Type: text/plain\nContent-Disposition: attachment\n\nfile\n",
                "Content-Type: text/plain\n\nmore body\n",
            ],
        );
        let p = parse(&raw, &Limits::default());
        assert_eq!(p.text, "body\n\nmore body");
        let names: Vec<_> = p.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.contains(&"notes.txt"), "{names:?}");
    }
}
