//! How a fetched message becomes what is recorded (pure: no I/O, the time is given): parsed,
//! its raw bytes, bodies and files gathered by hash for the append, its lists bounded so the event
//! fits the log, its sender read (or an anonymous one made), and where the workflow should place
//! it. Also what makes two copies of one message the same message (`ContentKey`).

use super::{parse, DeliveryReport, Limits, ParsedMessage};
use crate::domain::interaction::{MailSource, MessageStored, StoredAttachment};
use crate::domain::{EmailAddress, Millis, QueueName};
use crate::events::Content;
use crate::settings::MailboxSettings;
use crate::storage::ContentBatch;

/// After this many failed attempts a message is recorded raw and flagged instead.
pub const FALLBACK_AFTER: u32 = 3;

/// A fetched message, parsed, with its content stored: ready to record.
pub struct Prepared {
    /// Its identity and sender: what its interaction id derives from.
    pub key: String,
    pub from: EmailAddress,
    pub from_name: Option<String>,
    pub subject: String,
    pub message: MessageStored,
    /// The raw message, bodies and attachments, by hash, to write with the append.
    pub content: Content,
    pub report: Option<DeliveryReport>,
    pub malformed: bool,
    /// What screening reads (addresses, subject, text, headers, attachment names), when asked
    /// for (`screen`): decoding every header again costs ingest time nobody needs otherwise.
    pub screening: Option<crate::domain::screening::Input>,
    /// What screening and categorisation found (set by the shell: `app::analyze`).
    pub analysis: Option<crate::domain::workflow::Analysis>,
}

/// Parses one message and collects its raw bytes, bodies and attachments by hash; with
/// `screen`, also what screening reads.
pub fn prepare(
    limits: &Limits,
    raw: &[u8],
    source: MailSource,
    attempt: u32,
    at: Millis,
    screen: bool,
) -> Prepared {
    // A parser panic on some input must cost one message its parse, not the mailbox its thread.
    let mut parsed = std::panic::catch_unwind(|| parse(raw, limits))
        .unwrap_or_else(|_| super::mime::unreadable(raw, "the parser failed on this message"));
    if attempt >= FALLBACK_AFTER {
        // Tried and failed before: keep it as raw bytes and a flag, which always fits.
        parsed = super::mime::unreadable(
            raw,
            &format!("recording failed {attempt} times; stored raw only"),
        );
    }
    let collected = ContentBatch::default();
    let message = store_content(&collected, raw, &parsed, at);
    let mut message = MessageStored {
        source: Some(source),
        ..message
    };
    // A sender we cannot read is still a message: kept, flagged, answered by nobody, and its own
    // unknown contact (`mail::sender`).
    let sender = super::sender::sender_of(&parsed);
    message.problems.extend(sender.problem);
    let from = sender.address;
    fit(&mut message);
    let screening = screen.then(|| super::screen::input(&parsed, raw, None));
    Prepared {
        key: format!("{}\0{}", parsed.identity, from.normalised()),
        from_name: sender.name,
        subject: parsed.subject.chars().take(998).collect(),
        malformed: !message.problems.is_empty(),
        report: parsed.delivery_report.take(),
        from,
        message,
        content: collected.into_inner(),
        screening,
        analysis: None,
    }
}

/// The queue a mailbox asks for: a delivery report about a message we did not send (or
/// backscatter) is not customer mail, and neither is a malformed message; `None` leaves the
/// choice to the workflow.
pub fn requested_queue(settings: &MailboxSettings, p: &Prepared) -> Option<QueueName> {
    if p.report.is_some() {
        settings
            .bounce_queue
            .as_ref()
            .or(settings.malformed_queue.as_ref())
    } else if p.malformed {
        settings.malformed_queue.as_ref()
    } else {
        None
    }
    .and_then(|q| QueueName::parse(q).ok())
}

/// The content a message's events refer to, as its append carries it.
pub fn content_of(
    content: &Content,
) -> impl Fn(&crate::domain::ContentRef) -> Option<Vec<u8>> + '_ {
    |r| {
        content
            .iter()
            .find(|(h, _)| *h == r.0)
            .map(|(_, b)| b.clone())
    }
}

/// What makes two copies of a message the same message: its bodies and files, or, when nothing
/// could be read from it, its raw body. Never the raw bytes as a whole: the copies that reach two
/// of our mailboxes differ in their Delivered-To and Received lines.
#[derive(Debug, PartialEq, Eq)]
pub enum ContentKey {
    Parts {
        text: Option<crate::domain::ContentRef>,
        html: Option<crate::domain::ContentRef>,
        files: Vec<crate::domain::ContentRef>,
    },
    /// The SHA-256 of everything after the header section.
    Body([u8; 32]),
}

impl ContentKey {
    /// A short stable text of the key, for the id of a message that reuses another's Message-ID.
    pub fn digest(&self) -> String {
        let mut bytes = Vec::new();
        match self {
            ContentKey::Parts { text, html, files } => {
                for r in text.iter().chain(html.iter()).chain(files.iter()) {
                    bytes.extend_from_slice(&r.0);
                }
            }
            ContentKey::Body(h) => bytes.extend_from_slice(h),
        }
        crate::events::codec::sha256(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The message's body: what follows the first blank line (LF or CRLF).
fn body_of(raw: &[u8]) -> &[u8] {
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => &raw[a.min(b)..],
        (Some(a), None) | (None, Some(a)) => &raw[a..],
        (None, None) => &[],
    }
}

pub fn content_key(
    m: &MessageStored,
    raw_of: impl Fn(&crate::domain::ContentRef) -> Option<Vec<u8>>,
) -> ContentKey {
    if m.text.is_none() && m.html.is_none() && m.attachments.is_empty() {
        let raw = m.raw.as_ref().and_then(raw_of).unwrap_or_default();
        return ContentKey::Body(crate::events::codec::sha256(body_of(&raw)));
    }
    ContentKey::Parts {
        text: m.text.clone(),
        html: m.html.clone(),
        files: m.attachments.iter().map(|a| a.content.clone()).collect(),
    }
}

/// Cuts lists until the event's encoding fits well inside the log's payload limit, noting each
/// cut (everything cut is still in the raw message).
pub fn fit(m: &mut MessageStored) {
    let budget = crate::events::sled_store::MAX_PAYLOAD - 8 * 1024;
    let size = |m: &MessageStored| crate::events::codec::encode(m).len();
    let mut cuts = Vec::new();
    while size(m) > budget {
        if !m.cc.is_empty() {
            m.cc.clear();
            cuts.push("Cc addresses");
        } else if m.to.len() > 1 {
            m.to.truncate(1);
            cuts.push("To addresses");
        } else if m.references.len() > 1 {
            let last = m.references.pop();
            m.references = last.into_iter().collect();
            cuts.push("references");
        } else if !m.attachments.is_empty() {
            let keep = m.attachments.len() / 2;
            m.attachments.truncate(keep);
            cuts.push("attachment entries");
        } else if m.problems.len() > 1 {
            m.problems.truncate(1);
        } else {
            // Only single fields are left, each capped far below the budget.
            break;
        }
    }
    cuts.dedup();
    for c in cuts {
        m.problems.push(format!(
            "{c} cut to fit the log (all are in the raw message)"
        ));
    }
}

/// Bounds on what one `MessageStored` lists, so that no message, however it is built, can exceed
/// the log's payload limit (which would fail its batch on every pass). What is cut stays in the
/// raw message, and the cut is noted among the problems.
const MAX_ADDRESSES: usize = 200;
const MAX_REFERENCES: usize = 100;
const MAX_ATTACHMENTS: usize = 200;
const MAX_PROBLEMS: usize = 20;
const MAX_ID_CHARS: usize = 300;

fn bounded(
    items: &[String],
    max: usize,
    keep_last: bool,
    what: &str,
    problems: &mut Vec<String>,
) -> Vec<String> {
    let cut: Vec<String> = items
        .iter()
        .map(|s| s.chars().take(MAX_ID_CHARS).collect())
        .collect();
    if cut.len() <= max {
        return cut;
    }
    problems.push(format!(
        "{} {what} listed; only {max} kept (all are in the raw message)",
        cut.len()
    ));
    if keep_last {
        cut[cut.len() - max..].to_vec()
    } else {
        cut[..max].to_vec()
    }
}

/// Puts the raw message, its bodies and its attachments in the content store.
fn store_content(
    content: &ContentBatch,
    raw: &[u8],
    p: &ParsedMessage,
    at: Millis,
) -> MessageStored {
    let put_text = |t: &str| -> Option<crate::domain::ContentRef> {
        (!t.is_empty()).then(|| content.put(t.as_bytes()))
    };
    let mut problems: Vec<String> = p.problems.iter().take(MAX_PROBLEMS).cloned().collect();
    // The newest references matter for threading: keep the end of the chain.
    let references = bounded(
        &p.references,
        MAX_REFERENCES,
        true,
        "references",
        &mut problems,
    );
    let in_reply_to = bounded(
        &p.in_reply_to,
        MAX_REFERENCES,
        true,
        "in-reply-to ids",
        &mut problems,
    );
    let addresses =
        |list: &[super::Mailbox]| list.iter().map(|m| m.address.clone()).collect::<Vec<_>>();
    let to = bounded(
        &addresses(&p.to),
        MAX_ADDRESSES,
        false,
        "To addresses",
        &mut problems,
    );
    let cc = bounded(
        &addresses(&p.cc),
        MAX_ADDRESSES,
        false,
        "Cc addresses",
        &mut problems,
    );
    if p.attachments.len() > MAX_ATTACHMENTS {
        problems.push(format!(
            "{} attachments; only {MAX_ATTACHMENTS} listed (all are in the raw message)",
            p.attachments.len()
        ));
    }
    let mut attachments = Vec::new();
    for a in p.attachments.iter().take(MAX_ATTACHMENTS) {
        attachments.push(StoredAttachment {
            name: a.name.clone(),
            content_type: a.content_type.chars().take(100).collect(),
            content_id: a
                .content_id
                .as_ref()
                .map(|c| c.chars().take(MAX_ID_CHARS).collect()),
            inline: a.inline,
            size: a.bytes.len() as u64,
            content: content.put(&a.bytes),
        });
    }
    MessageStored {
        identity: p.identity.chars().take(MAX_ID_CHARS).collect(),
        message_id: p
            .message_id
            .as_ref()
            .map(|m| m.chars().take(MAX_ID_CHARS).collect()),
        in_reply_to,
        references,
        to,
        cc,
        raw: Some(content.put(raw)),
        text: put_text(&p.text),
        html: p.html.as_deref().and_then(put_text),
        html_sanitized: p.html_sanitized.as_deref().and_then(put_text),
        attachments,
        size: p.size as u64,
        problems,
        automated: p.automated,
        source: None,
        at,
    }
}
