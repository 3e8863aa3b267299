//! E-mail addresses, under one identity policy (the one place an address is parsed, for every
//! channel: web form, mail in, the API's queries, later the outbox):
//!
//! - **Shape**: an RFC 5321 `Mailbox` (`local@domain`) with RFC 6531's UTF-8: the local part a
//!   dot-atom of 1 to 64 octets (ASCII `atext` or non-ASCII letters; no quoted strings), the
//!   domain a host name (no address literals), at most 254 octets in all.
//! - **Domains** go through IDNA (UTS 46, strict: STD3 rules, DNS lengths) and are kept in their
//!   lower-case Unicode form; a domain IDNA refuses is refused.
//! - **Nothing invisible**: no control, whitespace, default-ignorable (zero-width space, joiners,
//!   bidi marks and controls, variation selectors, tags) anywhere in an address.
//! - **No folding outside ASCII**: a local part must already be in Unicode normal form C (the
//!   Kelvin sign `U+212A` is not NFC: it would otherwise be read as `K`), and two addresses are the
//!   same contact when their local parts are equal after ASCII lower-casing only; Unicode
//!   lower-casing would file one mailbox under another one's name.

use super::chars::is_default_ignorable;
use super::ids::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::is_nfc;

/// A valid e-mail address under the identity policy, as written (trimmed) with its domain in
/// lower-case Unicode form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EmailAddress(Arc<str>);

const WHAT: &str = "e-mail address";

fn invalid(why: &'static str) -> ParseError {
    ParseError::Invalid { what: WHAT, why }
}

/// RFC 5322 `atext` in ASCII.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::Empty { what: WHAT });
        }
        if let Some(c) = s
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() || is_default_ignorable(*c))
        {
            return Err(ParseError::BadChar {
                what: WHAT,
                found: c,
            });
        }
        let (local, domain) = s.rsplit_once('@').ok_or(invalid("it has no '@'"))?;
        let local = parse_local(local)?;
        let domain = parse_domain(domain)?;
        let address = format!("{local}@{domain}");
        if address.len() > 254 {
            return Err(ParseError::TooLong {
                what: WHAT,
                max: 254,
            });
        }
        Ok(EmailAddress(Arc::from(address)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address as it identifies a contact (see [`contact_key`]).
    pub fn normalised(&self) -> String {
        contact_key(&self.0)
    }
}

fn parse_local(local: &str) -> Result<&str, ParseError> {
    if local.is_empty() || local.len() > 64 {
        return Err(invalid("the part before '@' must be 1 to 64 octets"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(invalid(
            "the part before '@' must not begin or end with a dot or hold two in a row",
        ));
    }
    // ASCII: atext; beyond ASCII (RFC 6531): letters, digits and combining marks of any script.
    let allowed = |c: char| {
        c == '.' || is_atext(c) || (!c.is_ascii() && (c.is_alphanumeric() || is_combining_mark(c)))
    };
    if let Some(c) = local.chars().find(|c| !allowed(*c)) {
        return Err(ParseError::BadChar {
            what: WHAT,
            found: c,
        });
    }
    if !is_nfc(local) {
        return Err(invalid(
            "the part before '@' is not in Unicode normal form C (it would read as another address)",
        ));
    }
    Ok(local)
}

fn parse_domain(domain: &str) -> Result<String, ParseError> {
    if domain.is_empty() {
        return Err(invalid("the domain must not be empty"));
    }
    if domain.starts_with('[') {
        return Err(invalid(
            "address literals ([…]) are not accepted as a domain",
        ));
    }
    // UTS 46 with STD3 rules and DNS lengths; hyphens checked at the ends of labels only
    // (`ab--cd.example` is a real host name).
    let ascii = idna::uts46::Uts46::new()
        .to_ascii(
            domain.as_bytes(),
            idna::uts46::AsciiDenyList::STD3,
            idna::uts46::Hyphens::CheckFirstLast,
            idna::uts46::DnsLength::Verify,
        )
        .map_err(|_| {
            invalid("the domain must be dot-separated labels of letters, digits and '-' (IDNA)")
        })?
        .into_owned();
    if ascii.is_empty() || ascii.split('.').any(str::is_empty) {
        return Err(invalid("the domain must not have an empty label"));
    }
    // One form whatever was written: `bücher.de` and `xn--bcher-kva.de` are one domain.
    let (unicode, checked) = idna::domain_to_unicode(&ascii);
    checked.map_err(|_| invalid("the domain is not a valid internationalised domain name"))?;
    Ok(unicode)
}

/// An address with an optional display name, as a header writes it: `Name <local@domain>`, or
/// the address alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedAddress {
    pub name: Option<super::header::HeaderText>,
    pub address: EmailAddress,
}

impl NamedAddress {
    /// Parses `Name <address>`, `"Name" <address>` or `address`; the name follows the
    /// display-text rule, the address the identity policy.
    pub fn parse(s: &str) -> Result<NamedAddress, String> {
        let s = s.trim();
        let (name, address) = match (s.rfind('<'), s.ends_with('>')) {
            (Some(open), true) => (s[..open].trim(), &s[open + 1..s.len() - 1]),
            (None, false) => ("", s),
            _ => return Err(format!("{s:?} is not `Name <address>` or an address")),
        };
        let name = name.trim_matches('"').trim();
        let name = if name.is_empty() {
            None
        } else {
            Some(super::header::HeaderText::parse(name).map_err(|e| format!("the name {e}"))?)
        };
        let address = EmailAddress::parse(address).map_err(|e| e.to_string())?;
        Ok(NamedAddress { name, address })
    }
}

/// What identifies a contact: the address lower-cased in ASCII only (a parsed address's domain
/// already is lower-case). Unicode lower-casing would file one mailbox under another's name
/// (`Ülla@` and `ülla@`, the Kelvin sign and `k`).
pub fn contact_key(address: &str) -> String {
    address.trim().to_ascii_lowercase()
}

/// An address in the reserved `invalid` domain (RFC 2606): an anonymous sender, nobody to write
/// to.
pub fn is_reserved_unknown(address: &str) -> bool {
    address.rsplit_once('@').is_some_and(|(_, domain)| {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        domain == "invalid" || domain.ends_with(".invalid")
    })
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> String {
        EmailAddress::parse(s)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .as_str()
            .to_string()
    }

    #[test]
    fn addresses_that_parse() {
        for ok in [
            "a@b.c",
            "first.last+tag@example.co.uk",
            "x@localhost",
            "o'brien@example.ie",
            "!#$%&'*+-/=?^_`{|}~@example.com",
            "ü@bücher.de",
            "用户@例子.广告",
            "δοκιμή@παράδειγμα.δοκιμή",
            "मानक@उदाहरण.भारत",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        // Domains go through IDNA: lower-case, in their Unicode form.
        assert_eq!(parsed(" Ann@Example.COM "), "Ann@example.com");
        assert_eq!(parsed("ü@BÜCHER.de"), "ü@bücher.de");
        assert_eq!(parsed("ü@xn--bcher-kva.de"), "ü@bücher.de");
        assert_eq!(parsed("a@ab--cd.example"), "a@ab--cd.example");
    }

    #[test]
    fn addresses_that_are_refused() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b..c",
            "a b@c.d",
            "a@-b.c",
            "<a@b.c>",
            "a@b.c\r\nBcc: x@y.z",
            "a,b@c.d",
            ".a@b.c",
            "a.@b.c",
            "a..b@c.d",
            "\"a b\"@c.d",
            "a@[127.0.0.1]",
            "a@b_c.d",
            "a@b.c.",
            // Invisible and reordering characters.
            "a\u{200b}nn@example.com",
            "\u{202e}ann@example.com",
            "ann@exa\u{200d}mple.com",
            "ann\u{feff}@example.com",
            "ann\u{00ad}@example.com",
            "an\u{200f}n@example.com",
            // Not NFC: the Kelvin sign, a decomposed ü.
            "\u{212a}im@example.com",
            "u\u{0308}@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert!(EmailAddress::parse(&format!("{}@b.c", "x".repeat(65))).is_err());
        let long_domain = vec!["a".repeat(60); 5].join(".");
        assert!(EmailAddress::parse(&format!("x@{long_domain}")).is_err());
    }

    #[test]
    fn contacts_fold_case_in_ascii_only() {
        let a = EmailAddress::parse("Kim@Example.com").unwrap();
        let b = EmailAddress::parse("kim@example.com").unwrap();
        assert_eq!(a.normalised(), b.normalised());
        // Unicode capitals are another mailbox: not folded.
        let c = EmailAddress::parse("Ülla@example.com").unwrap();
        let d = EmailAddress::parse("ülla@example.com").unwrap();
        assert_ne!(c.normalised(), d.normalised());
    }
}
