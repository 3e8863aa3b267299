//! The pure decisions of IMAP ingest, apart from sockets: which interaction a message becomes and
//! which UIDs still need fetching.
//!
//! Exactly once rests on two facts. A message's interaction id is derived from its identity
//! (Message-ID, or the hash of its bytes), so fetching it again, from another of our mailboxes or
//! after a UIDVALIDITY change, names the same interaction, whose decider refuses a second
//! `Receive`. And what was fetched is remembered by (mailbox, UIDVALIDITY, UID), never by `\Seen`,
//! which anyone can set.

use crate::domain::InteractionId;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The interaction a message with this identity becomes, whichever mailbox it arrives in.
pub fn interaction_id_for(identity: &str) -> InteractionId {
    let digest: [u8; 32] = Sha256::digest(format!("postroom-mail\0{identity}").as_bytes()).into();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    InteractionId::from_uuid(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// What we remember of one mailbox folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderMemory {
    pub uidvalidity: Option<u32>,
    /// UIDs already stored durably (and then moved or flagged).
    pub done: BTreeSet<u32>,
}

/// What to do on this pass over a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The server renumbered the folder: forget the old UIDs (identities still prevent duplicates).
    pub reset: bool,
    /// UIDs to fetch, ascending, in batches of at most `batch`.
    pub batches: Vec<Vec<u32>>,
}

/// Plans a pass: every UID on the server that is not known to be done, whatever its flags.
pub fn plan(memory: &FolderMemory, uidvalidity: u32, server_uids: &[u32], batch: usize) -> Plan {
    let reset = memory.uidvalidity.is_some_and(|v| v != uidvalidity);
    let mut todo: Vec<u32> = server_uids
        .iter()
        .copied()
        .filter(|u| reset || !memory.done.contains(u))
        .collect();
    todo.sort_unstable();
    todo.dedup();
    Plan {
        reset,
        batches: todo.chunks(batch.max(1)).map(|c| c.to_vec()).collect(),
    }
}

/// Compresses UIDs into an IMAP sequence set (`1:3,7,9:10`) for one FETCH.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && end.checked_add(1) == Some(uids[i + 1]) {
            i += 1;
            end = uids[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_is_one_interaction_whichever_mailbox_it_reaches() {
        assert_eq!(interaction_id_for("<a@x>"), interaction_id_for("<a@x>"));
        assert_ne!(interaction_id_for("<a@x>"), interaction_id_for("<b@x>"));
    }

    #[test]
    fn unread_or_not_every_new_uid_is_fetched() {
        let memory = FolderMemory {
            uidvalidity: Some(7),
            done: [1, 2, 3].into(),
        };
        let p = plan(&memory, 7, &[2, 3, 4, 5, 9], 2);
        assert!(!p.reset);
        assert_eq!(p.batches, vec![vec![4, 5], vec![9]]);
    }

    #[test]
    fn a_uidvalidity_change_fetches_everything_again() {
        let memory = FolderMemory {
            uidvalidity: Some(7),
            done: [1, 2].into(),
        };
        let p = plan(&memory, 8, &[1, 2], 10);
        assert!(p.reset);
        assert_eq!(p.batches, vec![vec![1, 2]]);
    }

    #[test]
    fn a_first_pass_fetches_everything() {
        let p = plan(&FolderMemory::default(), 1, &[3, 1, 2, 2], 10);
        assert_eq!(p.batches, vec![vec![1, 2, 3]]);
    }

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            format!("{}:{}", u32::MAX - 1, u32::MAX)
        );
    }
}
