//! Outbound mail as the bytes a customer receives. Every header value comes from a `HeaderText`
//! (which cannot hold a line break, another control character or a bidi formatting character)
//! or an `EmailAddress` (the identity policy), so no text from outside can add a header or split
//! one. lettre does the formatting: encoded words for non-ASCII, folding, MIME parts.

use crate::domain::header::HeaderText;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use std::time::SystemTime;

/// A sender or recipient.
pub use crate::domain::address::NamedAddress as Party;

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    pub from: Party,
    pub to: Party,
    pub subject: HeaderText,
    /// The Message-ID, fixed before the first attempt (without angle brackets).
    pub message_id: HeaderText,
    /// The Message-ID answered (without angle brackets).
    pub in_reply_to: Option<HeaderText>,
    /// The thread's Message-IDs, oldest first (without angle brackets).
    pub references: Vec<HeaderText>,
    /// An automatic answer (RFC 3834): `Auto-Submitted: auto-replied`.
    pub auto_replied: bool,
    pub date: SystemTime,
    pub text: String,
    pub html: Option<String>,
}

/// Why a message cannot be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("{0}")]
    Address(String),
    #[error("the Message-ID {0:?} is not local@domain without spaces or angle brackets")]
    MessageId(String),
    #[error("the message cannot be built: {0}")]
    Build(String),
}

/// `Auto-Submitted` (RFC 3834).
#[derive(Debug, Clone)]
struct AutoSubmitted(&'static str);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        match s.trim() {
            "auto-replied" => Ok(AutoSubmitted("auto-replied")),
            other => Err(format!("unexpected Auto-Submitted {other:?}").into()),
        }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}

fn mailbox(p: &Party) -> Result<Mailbox, OutboundError> {
    let (user, domain) = p
        .address
        .as_str()
        .rsplit_once('@')
        .ok_or_else(|| OutboundError::Address(format!("{} has no '@'", p.address)))?;
    // The domain in its ASCII (A-label) form, as SMTP carries it.
    let domain = idna::domain_to_ascii(domain)
        .map_err(|_| OutboundError::Address(format!("the domain of {} is not IDNA", p.address)))?;
    let address = Address::new(user, domain)
        .map_err(|e| OutboundError::Address(format!("{}: {e}", p.address)))?;
    Ok(Mailbox::new(
        p.name.as_ref().map(|n| n.as_str().to_string()),
        address,
    ))
}

fn msg_id(id: &HeaderText) -> Result<String, OutboundError> {
    let s = id.as_str();
    let ok = s
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>'));
    if ok {
        Ok(format!("<{s}>"))
    } else {
        Err(OutboundError::MessageId(s.to_string()))
    }
}

/// The message as the bytes to hand to an SMTP server.
pub fn format(o: &Outbound) -> Result<Vec<u8>, OutboundError> {
    let mut b = Message::builder()
        .from(mailbox(&o.from)?)
        .to(mailbox(&o.to)?)
        .subject(o.subject.as_str())
        .message_id(Some(msg_id(&o.message_id)?))
        .date(o.date);
    if let Some(id) = &o.in_reply_to {
        b = b.in_reply_to(msg_id(id)?);
    }
    if !o.references.is_empty() {
        let ids = o
            .references
            .iter()
            .map(msg_id)
            .collect::<Result<Vec<_>, _>>()?;
        b = b.references(ids.join(" "));
    }
    if o.auto_replied {
        b = b.header(AutoSubmitted("auto-replied"));
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(o.text.clone());
    let message = match &o.html {
        Some(html) => b.multipart(
            MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.clone()),
            ),
        ),
        None => b.singlepart(text),
    }
    .map_err(|e| OutboundError::Build(e.to_string()))?;
    let mut bytes = message.formatted();
    // Data ends with a line break (RFC 5321 §4.1.1.4): the bytes stored are the bytes a
    // receiving server stores.
    if !bytes.ends_with(b"\r\n") {
        bytes.extend_from_slice(b"\r\n");
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;
    use crate::mail::{parse, Limits};

    fn text(s: &str) -> HeaderText {
        HeaderText::parse(s).expect("one line")
    }

    fn acknowledgement() -> Outbound {
        Outbound {
            from: Party {
                name: Some(text("Support")),
                address: EmailAddress::parse("support@example.test").unwrap(),
            },
            to: Party {
                name: Some(text("Jürgen Groß")),
                address: EmailAddress::parse("jürgen@bücher.de").unwrap(),
            },
            subject: text("Re: Bestellung 5 ist nicht angekommen [#PR-7QK2M]"),
            message_id: text("0190f5b26c1e7c3a9d2e5b7a1c9e0f11.reply@example.test"),
            in_reply_to: Some(text("m1@kunde.example")),
            references: vec![text("m0@kunde.example"), text("m1@kunde.example")],
            auto_replied: true,
            date: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000),
            text: "Guten Tag Jürgen,\nwir haben Ihre Nachricht erhalten.\n".into(),
            html: Some("<p>Guten Tag J&uuml;rgen</p>".into()),
        }
    }

    #[test]
    fn what_the_customer_receives_reads_back_as_sent() {
        let bytes = format(&acknowledgement()).expect("formats");
        let raw = String::from_utf8(bytes.clone()).expect("7-bit or UTF-8");
        // Every line a header line or a body line: no bare CR or LF.
        assert!(!raw.replace("\r\n", "").contains(['\r', '\n']), "{raw}");
        assert!(raw.contains("Auto-Submitted: auto-replied\r\n"), "{raw}");
        assert!(
            raw.contains("Message-ID: <0190f5b26c1e7c3a9d2e5b7a1c9e0f11.reply@example.test>"),
            "{raw}"
        );
        assert!(raw.contains("In-Reply-To: <m1@kunde.example>"), "{raw}");
        // The IDN domain travels as its A-label.
        assert!(raw.contains("xn--bcher-kva.de"), "{raw}");
        let p = parse(&bytes, &Limits::default());
        assert_eq!(
            p.subject,
            "Re: Bestellung 5 ist nicht angekommen [#PR-7QK2M]"
        );
        assert_eq!(p.in_reply_to, ["m1@kunde.example"]);
        assert_eq!(p.references, ["m0@kunde.example", "m1@kunde.example"]);
        assert_eq!(
            p.to[0].name.as_deref(),
            Some("Jürgen Groß"),
            "the name in an encoded word"
        );
        assert!(
            p.text.contains("wir haben Ihre Nachricht erhalten."),
            "{}",
            p.text
        );
        assert!(p.html.unwrap_or_default().contains("J&uuml;rgen"));
        assert!(p.automated, "marked as an automatic answer");
    }

    #[test]
    fn a_message_id_must_be_one() {
        let mut o = acknowledgement();
        o.message_id = text("no-at-sign");
        assert!(matches!(format(&o), Err(OutboundError::MessageId(_))));
        o.message_id = text("a b@c");
        assert!(matches!(format(&o), Err(OutboundError::MessageId(_))));
    }
}
