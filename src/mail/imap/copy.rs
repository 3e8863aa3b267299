//! Moving without MOVE (RFC 6851): copy, flag `\Deleted`, expunge, so that a crash between the
//! copy and the expunge never copies a message twice.
//!
//! Before the copy the source messages get the keyword `$PostroomCopied` (copied along with them,
//! which is harmless). A message found carrying it was possibly copied by a run that died before
//! its expunge: it is looked up in the processed folder by Message-ID (and the keyword), and only
//! copied if not found there. So a crash between the keyword and the copy loses no copy either.
//!
//! What remains: a marked message without a Message-ID (or with one that cannot be searched for)
//! cannot be told apart, and is copied again (a second copy, never a lost one); a server that
//! does not let clients create keywords (no `\*` in PERMANENTFLAGS) gets the plain copy, with the
//! old risk of a second copy after such a crash. Never a second interaction either way.

use super::connection::Session;
use super::error::{ImapError, ImapResult};
use crate::mail::ingest_plan::uid_set;
use std::collections::HashSet;

/// The keyword set on a source message before it is copied.
pub(super) const COPIED: &str = "$PostroomCopied";

/// Whether the folder lets us set `COPIED` (its PERMANENTFLAGS name it or allow new keywords).
pub(super) fn keywords_allowed(mailbox: &imap::types::Mailbox) -> bool {
    use imap::types::Flag;
    mailbox.permanent_flags.iter().any(|f| match f {
        Flag::MayCreate => true,
        Flag::Custom(k) => k.eq_ignore_ascii_case(COPIED),
        _ => false,
    })
}

/// A Message-ID as an IMAP quoted string for SEARCH, if it can be one (printable ASCII).
fn searchable(id: &[u8]) -> Option<String> {
    let id = std::str::from_utf8(id).ok()?.trim();
    let printable = !id.is_empty() && id.bytes().all(|b| (0x20..0x7f).contains(&b));
    printable.then(|| format!("\"{}\"", id.replace('\\', "\\\\").replace('"', "\\\"")))
}

/// Of the `marked` UIDs (they carry `COPIED`), those whose copy is already in `to`: found there by
/// Message-ID and keyword. Leaves `from` selected again, under the same UIDVALIDITY.
fn already_copied(
    s: &mut Session,
    from: &str,
    to: &str,
    uidvalidity: u32,
    marked: &[u32],
) -> ImapResult<HashSet<u32>> {
    let fetched = s
        .uid_fetch(uid_set(marked), "(UID ENVELOPE)")
        .map_err(|e| ImapError::imap("reading the Message-IDs of marked messages", e))?;
    let ids: Vec<(u32, String)> = fetched
        .iter()
        .filter_map(|f| {
            let id = f.envelope()?.message_id.as_deref()?;
            Some((f.uid?, searchable(id)?))
        })
        .collect();
    drop(fetched);
    let mut found = HashSet::new();
    if ids.is_empty() {
        return Ok(found);
    }
    s.examine(to)
        .map_err(|e| ImapError::imap(format!("examining {to}"), e))?;
    for (uid, id) in ids {
        let copies = s
            .uid_search(format!("KEYWORD {COPIED} HEADER Message-ID {id}"))
            .map_err(|e| ImapError::imap(format!("looking for copies in {to}"), e))?;
        if !copies.is_empty() {
            found.insert(uid);
        }
    }
    let mailbox = s
        .select(from)
        .map_err(|e| ImapError::imap(format!("selecting {from}"), e))?;
    if mailbox.uid_validity.unwrap_or(0) != uidvalidity {
        return Err(ImapError::transient(
            format!("moving from {from}"),
            "its UIDVALIDITY changed; nothing moved",
        ));
    }
    Ok(found)
}

/// Copies `uids` from the selected `from` to `to`, each once even across a crash (see above), and
/// flags them all `\Deleted`. The caller expunges.
pub(super) fn copy_once(
    s: &mut Session,
    from: &str,
    to: &str,
    uidvalidity: u32,
    uids: &[u32],
    keywords: bool,
) -> ImapResult<()> {
    let set = uid_set(uids);
    let mut to_copy: Vec<u32> = uids.to_vec();
    if keywords {
        let mut marked: Vec<u32> = s
            .uid_search(format!("UID {set} KEYWORD {COPIED}"))
            .map_err(|e| ImapError::imap(format!("looking for {COPIED}"), e))?
            .into_iter()
            .filter(|u| uids.contains(u))
            .collect();
        marked.sort_unstable();
        if !marked.is_empty() {
            let done = already_copied(s, from, to, uidvalidity, &marked)?;
            if !done.is_empty() {
                tracing::info!(folder = %to, copies = done.len(), "found copies made before an interrupted move; not copying them again");
            }
            to_copy.retain(|u| !done.contains(u));
        }
        if !to_copy.is_empty() {
            s.uid_store(uid_set(&to_copy), format!("+FLAGS.SILENT ({COPIED})"))
                .map_err(|e| ImapError::imap(format!("flagging {COPIED}"), e))?;
        }
    }
    if !to_copy.is_empty() {
        s.uid_copy(uid_set(&to_copy), to)
            .map_err(|e| ImapError::imap(format!("copying to {to}"), e))?;
    }
    s.uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
        .map_err(|e| ImapError::imap("flagging \\Deleted", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_quoted_for_search_or_refused() {
        assert_eq!(searchable(b"<a@b>").as_deref(), Some("\"<a@b>\""));
        assert_eq!(searchable(b" <a\"b@c> ").as_deref(), Some("\"<a\\\"b@c>\""));
        assert_eq!(searchable(b""), None);
        assert_eq!(searchable(b"<a\r\n@b>"), None);
        assert_eq!(searchable("<é@b>".as_bytes()), None);
    }
}
