//! The one way a message to a customer is made, whoever writes it (an automatic answer, an
//! agent's reply): the field codes' values, the thread token in the subject, `In-Reply-To` and
//! `References` from the customer's message, a Message-ID fixed from the outbound interaction's
//! id, and the bytes `mail::outbound` formats (every header under the single-line rule).

use crate::domain::address::NamedAddress;
use crate::domain::header::HeaderText;
use crate::domain::interaction::Interaction;
use crate::domain::response_template::Fields;
use crate::domain::threading::{normalise_message_id, reply_message_id, thread_token};
use crate::domain::{ContentRef, EmailAddress, InteractionId, Millis};
use crate::mail::outbound::{format, Outbound, Party};
use crate::storage::ContentStore;
use std::time::Duration;

/// A received message read back: parsed, and its headers decoded.
pub struct Received {
    pub parsed: crate::mail::ParsedMessage,
    pub headers: Vec<(String, String)>,
}

/// Why a message cannot be read back now.
pub enum Check {
    /// Try again later (the content store could not be read).
    Retry(String),
    /// It never can be.
    Unanswerable(String),
}

/// The customer's message as received, parsed (none for a web form).
pub fn read_received(
    content: &dyn ContentStore,
    state: &Interaction,
) -> Result<Option<Received>, Check> {
    let Some(raw) = &state.raw else {
        return Ok(None);
    };
    let bytes = content
        .get(raw)
        .map_err(|e| Check::Retry(format!("reading the message: {e}")))?
        .ok_or_else(|| Check::Unanswerable("the message as received is no longer stored".into()))?;
    // As in ingest: a parser panic costs this message its answer, not the process its loop.
    std::panic::catch_unwind(|| {
        let parsed = crate::mail::parse(&bytes, &crate::mail::Limits::default());
        let headers = crate::mail::screen::headers(&bytes);
        Received { parsed, headers }
    })
    .map(Some)
    .map_err(|_| Check::Unanswerable("the message cannot be read back".into()))
}

/// A time as RFC 3339, to the second, in UTC.
pub fn rfc3339(m: Millis) -> String {
    crate::events::export::format_micros(m.0.saturating_mul(1000))
        .split('.')
        .next()
        .map(|s| format!("{}Z", s.trim_end_matches('Z')))
        .unwrap_or_default()
}

/// The field codes' values for a message answering `state` (the interaction `id` of the thread
/// `root`), written by `agent_name` (empty for the system) at `at`.
pub fn fields(
    id: InteractionId,
    state: &Interaction,
    root: InteractionId,
    agent_name: &str,
    at: Millis,
) -> Fields {
    Fields {
        contact_name: state
            .from_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| state.from.clone()),
        contact_address: state.from.clone(),
        interaction_id: id.to_string(),
        thread_token: format!("[#{}]", thread_token(root)),
        subject: state.subject.clone(),
        agent_name: agent_name.to_string(),
        date: rfc3339(at).get(..10).unwrap_or_default().to_string(),
        received_at: rfc3339(state.created_at),
    }
}

/// A message to the customer of `parent`, its subject already carrying the thread token.
pub struct Letter<'a> {
    pub sender: &'a NamedAddress,
    pub parent: &'a Interaction,
    pub received: Option<&'a Received>,
    /// The outbound interaction it is (its Message-ID derives from this id).
    pub reply: InteractionId,
    pub subject: &'a str,
    pub text: String,
    pub html: Option<String>,
    /// An automatic answer (`Auto-Submitted: auto-replied`).
    pub automatic: bool,
    pub at: Millis,
}

/// A composed message: its recipient, Message-ID (without angle brackets), bytes and their hash.
pub struct Composed {
    pub to: EmailAddress,
    pub message_id: String,
    pub bytes: Vec<u8>,
    pub hash: ContentRef,
}

/// Formats `letter` as the bytes the customer receives.
pub fn compose(letter: Letter<'_>) -> Result<Composed, String> {
    let parent = letter.parent;
    let to = EmailAddress::parse(&parent.from).map_err(|e| format!("the recipient: {e}"))?;
    let domain = letter
        .sender
        .address
        .as_str()
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    let message_id = normalise_message_id(&reply_message_id(letter.reply, &domain));
    let (in_reply_to, references) = references(parent, letter.received);
    let outbound = Outbound {
        from: letter.sender.clone(),
        to: Party {
            name: parent.from_name.as_deref().map(HeaderText::lossy),
            address: to.clone(),
        },
        subject: HeaderText::lossy(letter.subject),
        message_id: HeaderText::lossy(&message_id),
        in_reply_to,
        references,
        auto_replied: letter.automatic,
        date: std::time::UNIX_EPOCH + Duration::from_millis(letter.at.0.max(0) as u64),
        text: letter.text,
        html: letter.html,
    };
    let bytes = format(&outbound).map_err(|e| format!("formatting the message: {e}"))?;
    let hash = ContentRef(crate::events::codec::sha256(&bytes));
    Ok(Composed {
        to,
        message_id,
        bytes,
        hash,
    })
}

/// A Message-ID as it may stand in `In-Reply-To` and `References`: `local@domain`, both parts
/// non-empty, no space or angle bracket (the rule of `mail::outbound`).
fn usable_message_id(id: &str) -> Option<HeaderText> {
    let id = normalise_message_id(id);
    let ok = id
        .rsplit_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
        && !id
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>');
    ok.then(|| HeaderText::parse(&id).ok()).flatten()
}

/// `In-Reply-To` the customer's Message-ID and `References` their chain and it (RFC 5322
/// §3.6.4); a web form has neither, and an unusable Message-ID gives neither.
fn references(
    state: &Interaction,
    message: Option<&Received>,
) -> (Option<HeaderText>, Vec<HeaderText>) {
    let Some(parent) = state.message_id.as_deref().and_then(usable_message_id) else {
        return (None, Vec::new());
    };
    let chain = message
        .map(|m| m.parsed.references.as_slice())
        .unwrap_or_default();
    let mut refs: Vec<HeaderText> = chain.iter().filter_map(|r| usable_message_id(r)).collect();
    // Long chains keep their first and last (RFC 5322 suggests trimming the middle).
    if refs.len() > 20 {
        let tail = refs.split_off(refs.len() - 19);
        refs.truncate(1);
        refs.extend(tail);
    }
    refs.retain(|r| r != &parent);
    refs.push(parent.clone());
    (Some(parent), refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_message_ids_are_referenced() {
        for ok in ["a@b", "<k1@mail.example.com>", " <x.y@z> "] {
            assert!(usable_message_id(ok).is_some(), "{ok}");
        }
        for bad in ["123@", "@host", "no-at", "<a b@c>", "a@b<c", ""] {
            assert!(usable_message_id(bad).is_none(), "{bad}");
        }
    }
}
