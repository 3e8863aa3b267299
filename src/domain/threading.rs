//! Threading rules, pure: the Message-IDs we give our replies, the thread token we put in their
//! subjects, and how an inbound message names the thread it answers.
//!
//! A customer's answer joins a thread by the first of:
//! 1. **header**: one of our Message-IDs (a reply we sent, or a message of the thread we received)
//!    in its `In-Reply-To` or `References`, newest first;
//! 2. **token**: a thread token such as `[#K7F3Q]` in its subject, *and* the thread belongs to
//!    the same contact (a token is short and guessable; a stranger quoting it never merges);
//! 3. **none**: it starts a thread of its own.

use crate::domain::InteractionId;
use sha2::{Digest, Sha256};

/// Crockford's base 32: no I, L, O or U, so a token survives being read aloud or retyped.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a token: 25 bits, enough that tokens rarely collide, and a collision is harmless
/// because a token only matches within one contact's threads.
pub const TOKEN_LEN: usize = 5;

/// The token of a thread, derived from its root interaction (the same on every rebuild).
pub fn thread_token(root: InteractionId) -> String {
    let digest: [u8; 32] =
        Sha256::digest([b"postroom-thread\0".as_slice(), root.as_uuid().as_bytes()].concat())
            .into();
    let bits = u64::from_be_bytes(digest[..8].try_into().unwrap_or([0; 8]));
    (0..TOKEN_LEN)
        .map(|i| ALPHABET[((bits >> (59 - 5 * i)) & 31) as usize] as char)
        .collect()
}

/// The subject of a reply with the thread token at its end (once, however often it is replied).
pub fn subject_with_token(subject: &str, token: &str) -> String {
    let tag = format!("[#{token}]");
    if subject.contains(&tag) {
        subject.to_string()
    } else if subject.trim().is_empty() {
        tag
    } else {
        format!("{} {tag}", subject.trim_end())
    }
}

/// Every well-formed token in a subject, upper-cased, in order of appearance.
pub fn tokens_in_subject(subject: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        let candidate: String = after.chars().take(TOKEN_LEN).collect();
        let closes = after[candidate.len()..].starts_with(']');
        let upper = candidate.to_ascii_uppercase();
        if closes
            && upper.len() == TOKEN_LEN
            && upper.bytes().all(|b| ALPHABET.contains(&b))
            && !out.contains(&upper)
        {
            out.push(upper);
        }
        rest = after;
    }
    out
}

/// A Message-ID as we compare them: without angle brackets and surrounding space. (The local
/// part is case-sensitive, so the case is kept.)
pub fn normalise_message_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

/// The Message-ID the mailer gives a reply: derived from the reply's id, so an answer to it finds
/// its thread even if the mailer crashed before recording that it sent it.
pub fn reply_message_id(reply: InteractionId, domain: &str) -> String {
    format!("<{}.reply@{}>", reply.as_uuid().simple(), domain)
}

/// The reply a Message-ID of ours names, whatever domain it was sent with.
pub fn reply_of_message_id(id: &str) -> Option<InteractionId> {
    let id = normalise_message_id(id);
    let (local, _domain) = id.rsplit_once('@')?;
    let uuid = local.strip_suffix(".reply")?;
    uuid::Uuid::try_parse(uuid)
        .ok()
        .map(InteractionId::from_uuid)
}

/// The ids an inbound message refers to, newest first: `In-Reply-To`, then `References` from
/// its end (the most recent message of the chain is last).
pub fn referenced_ids(in_reply_to: &[String], references: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in in_reply_to.iter().chain(references.iter().rev()) {
        let id = normalise_message_id(id);
        if !id.is_empty() && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// The thread-token rule: a token in a subject joins a thread only when the sender is the
/// thread's own contact (`thread_from`, the address its first message came from, against the
/// sender's normalised address). A stranger quoting a token starts a thread of their own.
pub fn token_joins(thread_from: &str, sender_normalised: &str) -> bool {
    crate::domain::EmailAddress::parse(thread_from)
        .is_ok_and(|e| e.normalised() == sender_normalised)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> InteractionId {
        InteractionId::from_uuid(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn tokens_are_stable_distinct_and_readable() {
        let a = thread_token(id(1));
        assert_eq!(a, thread_token(id(1)));
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)), "{a}");
        let distinct: std::collections::HashSet<String> =
            (0..1000).map(|n| thread_token(id(n))).collect();
        assert!(distinct.len() > 990, "{}", distinct.len());
    }

    #[test]
    fn the_token_goes_in_the_subject_once_and_is_found_again() {
        let t = thread_token(id(7));
        let s = subject_with_token("Re: my order", &t);
        assert_eq!(s, format!("Re: my order [#{t}]"));
        assert_eq!(subject_with_token(&s, &t), s);
        assert_eq!(subject_with_token("  ", &t), format!("[#{t}]"));
        assert_eq!(tokens_in_subject(&format!("RE: AW: {s}")), vec![t.clone()]);
        // Lower-cased by a client, still found.
        assert_eq!(
            tokens_in_subject(&format!("re: [#{}]", t.to_lowercase())),
            vec![t]
        );
    }

    #[test]
    fn only_well_formed_tokens_count() {
        assert!(tokens_in_subject("[#K7F3] [#K7F3QQ] [#K7F3I] [K7F3Q] #K7F3Q").is_empty());
        assert_eq!(
            tokens_in_subject("[#K7F3Q] and [#AB12C] and [#K7F3Q]"),
            vec!["K7F3Q".to_string(), "AB12C".to_string()]
        );
        // Multi-byte text around and inside does not panic.
        assert!(tokens_in_subject("[#ÄÖÜ] [#日本語です] [#").is_empty());
    }

    #[test]
    fn reply_message_ids_name_their_reply() {
        let r = id(0x0190_f5b2_6c1e_7c3a_9d2e_5b7a_1c9e_0f11);
        let m = reply_message_id(r, "mail.example.com");
        assert!(
            m.starts_with('<') && m.ends_with("@mail.example.com>"),
            "{m}"
        );
        assert_eq!(reply_of_message_id(&m), Some(r));
        assert_eq!(reply_of_message_id(&m[1..m.len() - 1]), Some(r));
        assert_eq!(reply_of_message_id("<abc@example.com>"), None);
        assert_eq!(reply_of_message_id("<nothex.reply@example.com>"), None);
        assert_eq!(reply_of_message_id("no-at-sign.reply"), None);
    }

    #[test]
    fn references_are_read_newest_first_without_brackets() {
        let ids = referenced_ids(
            &["<c@x>".into()],
            &["<a@x>".into(), " <b@x> ".into(), "<c@x>".into()],
        );
        assert_eq!(ids, vec!["c@x", "b@x", "a@x"]);
    }
}
