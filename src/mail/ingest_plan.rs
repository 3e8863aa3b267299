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
    /// Every UID up to this one is done (stored, then moved or flagged): kept on disk, so that a
    /// folder whose messages stay in place (`\Seen` mode) is not listed and fetched whole again
    /// on every pass and after every restart.
    pub mark: u32,
    /// UIDs above the mark already stored durably (and then moved or flagged).
    pub done: BTreeSet<u32>,
    /// Failed recording attempts per UID, across reconnects (not kept on disk): after a few, a
    /// message is recorded raw and flagged, and it must not be parsed afresh (another identity)
    /// only because the connection was new.
    pub failures: std::collections::HashMap<u32, u32>,
}

impl FolderMemory {
    /// The IMAP search for what may still need fetching: the UIDs above the mark.
    pub fn search(&self) -> String {
        format!("UID {}:*", self.mark.saturating_add(1))
    }

    /// After a pass over `listed` (the UIDs above the mark the pass set out to do): the mark
    /// moves up to just below the first one not done (or to the last listed, if all are done).
    /// Answers whether it moved.
    pub fn advance(&mut self, listed: &[u32]) -> bool {
        let pending = listed
            .iter()
            .copied()
            .filter(|u| *u > self.mark && !self.done.contains(u))
            .min();
        let target = match pending {
            Some(first) => first - 1,
            None => listed.iter().copied().max().unwrap_or(self.mark),
        };
        if target > self.mark {
            self.mark = target;
            self.done.retain(|u| *u > target);
            true
        } else {
            false
        }
    }

    /// The on-disk form: UIDVALIDITY and mark.
    pub fn encode(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&self.uidvalidity.unwrap_or(0).to_be_bytes());
        b[4..].copy_from_slice(&self.mark.to_be_bytes());
        b
    }

    pub fn decode(bytes: &[u8]) -> Option<FolderMemory> {
        let b: [u8; 8] = bytes.try_into().ok()?;
        let v = u32::from_be_bytes(b[..4].try_into().ok()?);
        Some(FolderMemory {
            uidvalidity: (v != 0).then_some(v),
            mark: u32::from_be_bytes(b[4..].try_into().ok()?),
            ..FolderMemory::default()
        })
    }
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
    // `UID n:*` also answers the last message when it is below n: only what is above counts.
    let mut todo: Vec<u32> = server_uids
        .iter()
        .copied()
        .filter(|u| reset || (*u > memory.mark && !memory.done.contains(u)))
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

    fn memory(mark: u32, done: &[u32]) -> FolderMemory {
        FolderMemory {
            uidvalidity: Some(7),
            mark,
            done: done.iter().copied().collect(),
            ..FolderMemory::default()
        }
    }

    #[test]
    fn the_mark_moves_to_just_below_the_first_message_not_done() {
        let mut m = memory(0, &[1, 2, 3, 5]);
        assert!(m.advance(&[1, 2, 3, 4, 5]));
        assert_eq!(m.mark, 3);
        assert_eq!(m.done, [5].into_iter().collect());
        // Nothing new done: it stays.
        assert!(!m.advance(&[4, 5]));
        m.done.insert(4);
        // 9 is not done yet; 6 to 8 are not in the folder (gaps are normal).
        assert!(m.advance(&[4, 5, 9]));
        assert_eq!(m.mark, 8);
        assert!(m.done.is_empty());
        let mut all = memory(10, &[11, 12]);
        assert!(all.advance(&[11, 12]));
        assert_eq!((all.mark, all.done.len()), (12, 0));
        // An empty pass leaves it; it never moves down.
        assert!(!all.advance(&[]));
        let mut down = memory(10, &[]);
        assert!(!down.advance(&[3]));
        assert_eq!(down.mark, 10);
    }

    #[test]
    fn the_search_asks_only_above_the_mark_and_the_plan_ignores_what_star_adds() {
        let m = memory(41, &[43]);
        assert_eq!(m.search(), "UID 42:*");
        // `UID 42:*` on a folder whose last UID is 40 answers 40: not to be fetched again.
        let p = plan(&m, 7, &[40, 42, 43, 44], 100);
        assert_eq!(p.batches, vec![vec![42, 44]]);
        assert_eq!(
            memory(u32::MAX, &[]).search(),
            format!("UID {}:*", u32::MAX)
        );
    }

    #[test]
    fn the_memory_round_trips_on_disk() {
        let m = memory(12345, &[12347]);
        let back = FolderMemory::decode(&m.encode()).unwrap();
        assert_eq!((back.uidvalidity, back.mark), (Some(7), 12345));
        assert!(back.done.is_empty());
        assert_eq!(FolderMemory::decode(b"short"), None);
    }

    #[test]
    fn one_message_is_one_interaction_whichever_mailbox_it_reaches() {
        assert_eq!(interaction_id_for("<a@x>"), interaction_id_for("<a@x>"));
        assert_ne!(interaction_id_for("<a@x>"), interaction_id_for("<b@x>"));
    }

    #[test]
    fn unread_or_not_every_new_uid_is_fetched() {
        let memory = FolderMemory {
            uidvalidity: Some(7),
            mark: 0,
            done: [1, 2, 3].into(),
            ..FolderMemory::default()
        };
        let p = plan(&memory, 7, &[2, 3, 4, 5, 9], 2);
        assert!(!p.reset);
        assert_eq!(p.batches, vec![vec![4, 5], vec![9]]);
    }

    #[test]
    fn a_uidvalidity_change_fetches_everything_again() {
        let memory = FolderMemory {
            uidvalidity: Some(7),
            mark: 2,
            done: [1, 2].into(),
            ..FolderMemory::default()
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
