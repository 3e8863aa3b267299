//! Who a message is from, as its contact: the sender's own address when it is a usable one, else
//! an anonymous address of that message alone, `unknown-<16 hex>@invalid` (the hash of the
//! message's identity; `.invalid` is reserved by RFC 2606, so nothing is ever sent there). Senders
//! we cannot read therefore never share a contact, nor each other's names; the same message
//! fetched twice (two of our mailboxes) still gets the same address.

use super::ParsedMessage;
use crate::domain::EmailAddress;
use sha2::{Digest, Sha256};

/// The sender a message is recorded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub address: EmailAddress,
    /// The display name the message gave (at most 200 characters), even without an address.
    pub name: Option<String>,
    /// Why the message's own address was not used: a problem of the message.
    pub problem: Option<String>,
}

/// An address in the reserved `invalid` domain: an anonymous sender, shown as unknown.
pub fn is_unknown(address: &str) -> bool {
    crate::domain::address::is_reserved_unknown(address)
}

/// The anonymous address of the message with this identity.
pub fn anonymous(identity: &str) -> EmailAddress {
    let digest = Sha256::digest(identity.as_bytes());
    let address = format!("unknown-{}@invalid", hex::encode(&digest[..8]));
    // 16 hex digits and a fixed domain: always a valid address.
    EmailAddress::parse(&address).unwrap_or_else(|_| unreachable!("{address} is valid"))
}

/// The message's sender: its From address when usable (and not itself in `invalid`, which would
/// join another message's anonymous contact), else its anonymous address and a problem.
pub fn sender_of(parsed: &ParsedMessage) -> Sender {
    let from = parsed.from.as_ref();
    let name = from
        .and_then(|f| f.name.as_ref())
        .map(|n| n.chars().take(200).collect());
    let written = from.map(|f| f.address.as_str()).unwrap_or_default();
    let shown: String = written.chars().take(100).collect();
    let problem = match EmailAddress::parse(written) {
        Ok(address) if !is_unknown(address.as_str()) => {
            return Sender {
                address,
                name,
                problem: None,
            }
        }
        Ok(_) => format!("the sender {shown:?} is in the reserved domain invalid"),
        Err(e) => format!("the sender {shown:?} is not a usable address: {e}"),
    };
    Sender {
        address: anonymous(&parsed.identity),
        name,
        problem: Some(problem),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::{parse, Limits};

    fn sender(raw: &str) -> Sender {
        sender_of(&parse(raw.as_bytes(), &Limits::default()))
    }

    #[test]
    fn a_usable_address_is_the_sender() {
        let s = sender("From: Ann Lee <Ann@Example.com>\nSubject: s\n\nbody\n");
        // As written, with the domain in its lower-case (IDNA) form.
        assert_eq!(s.address.as_str(), "Ann@example.com");
        assert_eq!(s.name.as_deref(), Some("Ann Lee"));
        assert_eq!(s.problem, None);
    }

    #[test]
    fn without_a_usable_address_each_message_is_its_own_unknown_sender() {
        let whomever = sender("From: Whomever\nMessage-ID: <a@x>\nSubject: s\n\nbody\n");
        let stranger =
            sender("From: Bob <not an address>\nMessage-ID: <b@x>\nSubject: s\n\nbody\n");
        let nobody = sender("Subject: s\n\nbody\n");
        let addresses = [&whomever, &stranger, &nobody].map(|s| s.address.as_str().to_string());
        for a in &addresses {
            assert!(is_unknown(a), "{a}");
            let hex = a
                .strip_prefix("unknown-")
                .and_then(|r| r.strip_suffix("@invalid"))
                .unwrap_or_default();
            assert!(
                hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
                "{a}"
            );
        }
        assert!(
            addresses[0] != addresses[1]
                && addresses[1] != addresses[2]
                && addresses[0] != addresses[2]
        );
        // Each keeps only its own name, and says why it is unknown.
        assert_eq!(whomever.name.as_deref(), Some("Whomever"));
        assert_eq!(stranger.name.as_deref(), Some("Bob"));
        assert_eq!(nobody.name, None);
        assert!(stranger
            .problem
            .is_some_and(|p| p.contains("not an address")));
        assert!(nobody.problem.is_some());
        // The address is the message's: the same message is the same sender.
        assert_eq!(
            sender("From: Whomever\nMessage-ID: <a@x>\nSubject: other\n\nother\n").address,
            whomever.address
        );
        assert_eq!(anonymous("a@x"), whomever.address);
    }

    #[test]
    fn an_address_in_invalid_never_joins_an_anonymous_contact() {
        let target = anonymous("a@x");
        let s = sender(&format!(
            "From: Mallory <{}>\nMessage-ID: <m@x>\nSubject: s\n\nbody\n",
            target.as_str().to_uppercase()
        ));
        assert_ne!(s.address.normalised(), target.normalised());
        assert_eq!(s.address, anonymous("m@x"));
        assert!(s.problem.is_some());
        assert!(is_unknown("x@Mail.INVALID") && !is_unknown("x@invalid.example"));
    }
}
