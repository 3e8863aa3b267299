//! Loop protection, one policy for every automatic answer (acknowledgements, automatic
//! responses): no answer to mail a machine sent or that went to many, none to our own mail, and
//! at most `max` automatic answers to one contact within `period`. Pure: the facts come from the
//! message, the recent answers from the contact's history, the time from the caller.

use super::threading::reply_of_message_id;
use super::Millis;

/// What the policy looks at in an incoming message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The `Auto-Submitted` header, if any.
    pub auto_submitted: Option<String>,
    /// The `Precedence` header, if any.
    pub precedence: Option<String>,
    pub list_id: bool,
    pub list_unsubscribe: bool,
    /// `Return-Path: <>`: a null reverse path (RFC 3834 §2: never answered).
    pub null_return_path: bool,
    /// `X-Autoreply`, `X-Autorespond` or `X-Auto-Response-Suppress` (Exchange) present.
    pub autoreply_header: bool,
    /// The sender's address (empty when unknown).
    pub sender: String,
    /// A delivery status notification (a bounce).
    pub delivery_report: bool,
    /// The message's own Message-ID.
    pub message_id: Option<String>,
}

/// How many automatic answers one contact may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub max: u32,
    pub period_secs: i64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max: 3,
            period_secs: 24 * 3600,
        }
    }
}

/// Why no automatic answer goes out: recorded with the decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Suppressed {
    #[error("the message says Auto-Submitted: {0}")]
    AutoSubmitted(String),
    #[error("the message says Precedence: {0}")]
    Precedence(String),
    #[error("the message came through a mailing list")]
    MailingList,
    #[error("the message carries an automatic-reply header")]
    AutoreplyHeader,
    #[error("the sender {0} is a mail system or does not take replies")]
    RoleSender(String),
    #[error("the message is a delivery report")]
    DeliveryReport,
    #[error("the message has a null return path (Return-Path: <>)")]
    NullReturnPath,
    #[error("the message is our own")]
    OwnMail,
    #[error("the sender is unknown")]
    NoSender,
    #[error("the contact already got {sent} automatic answers in the last {period_secs} s")]
    TooMany { sent: u32, period_secs: i64 },
}

impl Suppressed {
    /// A short, stable name for counting (metrics, filters).
    pub fn code(&self) -> &'static str {
        match self {
            Suppressed::AutoSubmitted(_) => "auto_submitted",
            Suppressed::Precedence(_) => "precedence",
            Suppressed::MailingList => "mailing_list",
            Suppressed::AutoreplyHeader => "autoreply_header",
            Suppressed::RoleSender(_) => "role_sender",
            Suppressed::DeliveryReport => "delivery_report",
            Suppressed::NullReturnPath => "null_return_path",
            Suppressed::OwnMail => "own_mail",
            Suppressed::NoSender => "no_sender",
            Suppressed::TooMany { .. } => "too_many",
        }
    }
}

/// Local parts that belong to mail systems or refuse replies (RFC 3834 §2, common practice).
fn is_role_sender(address: &str) -> bool {
    let local = address
        .rsplit_once('@')
        .map(|(l, _)| l)
        .unwrap_or(address)
        .to_ascii_lowercase();
    let local = local.split('+').next().unwrap_or("");
    matches!(
        local,
        "mailer-daemon" | "postmaster" | "mail-daemon" | "daemon" | "listserv" | "majordomo"
    ) || [
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "do_not_reply",
    ]
    .iter()
    .any(|p| local.starts_with(p))
        || local.starts_with("bounce")
        || local.starts_with("owner-")
        || local.ends_with("-request")
        || local.ends_with("-bounces")
}

/// Whether an automatic answer may go to this message now; `recent` holds when the contact got
/// automatic answers before.
pub fn may_answer(
    facts: &Facts,
    recent: &[Millis],
    now: Millis,
    budget: Budget,
) -> Result<(), Suppressed> {
    if let Some(a) = &facts.auto_submitted {
        if !a.trim().eq_ignore_ascii_case("no") {
            return Err(Suppressed::AutoSubmitted(a.trim().to_string()));
        }
    }
    if let Some(p) = &facts.precedence {
        let p = p.trim().to_ascii_lowercase();
        if matches!(p.as_str(), "bulk" | "list" | "junk") {
            return Err(Suppressed::Precedence(p));
        }
    }
    if facts.list_id || facts.list_unsubscribe {
        return Err(Suppressed::MailingList);
    }
    if facts.delivery_report {
        return Err(Suppressed::DeliveryReport);
    }
    if facts.null_return_path {
        return Err(Suppressed::NullReturnPath);
    }
    if facts.autoreply_header {
        return Err(Suppressed::AutoreplyHeader);
    }
    if facts
        .message_id
        .as_deref()
        .is_some_and(|id| reply_of_message_id(id).is_some())
    {
        return Err(Suppressed::OwnMail);
    }
    if facts.sender.trim().is_empty() || super::address::is_reserved_unknown(&facts.sender) {
        return Err(Suppressed::NoSender);
    }
    if is_role_sender(&facts.sender) {
        return Err(Suppressed::RoleSender(facts.sender.clone()));
    }
    let since = Millis(
        now.0
            .saturating_sub(budget.period_secs.saturating_mul(1000)),
    );
    let sent = recent.iter().filter(|t| **t > since && **t <= now).count() as u32;
    if sent >= budget.max {
        return Err(Suppressed::TooMany {
            sent,
            period_secs: budget.period_secs,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer() -> Facts {
        Facts {
            sender: "ann@example.com".into(),
            message_id: Some("<m1@example.com>".into()),
            ..Facts::default()
        }
    }

    #[test]
    fn what_gets_no_automatic_answer() {
        let now = Millis(10_000_000_000);
        let b = Budget::default();
        let check = |f: Facts| may_answer(&f, &[], now, b).err().map(|s| s.code());
        assert_eq!(check(customer()), None);
        let with = |change: fn(&mut Facts)| {
            let mut f = customer();
            change(&mut f);
            check(f)
        };
        assert_eq!(
            with(|f| f.auto_submitted = Some("auto-replied".into())),
            Some("auto_submitted")
        );
        assert_eq!(
            with(|f| f.auto_submitted = Some("auto-generated".into())),
            Some("auto_submitted")
        );
        assert_eq!(with(|f| f.auto_submitted = Some(" No ".into())), None);
        for p in ["bulk", "List", "junk"] {
            let mut f = customer();
            f.precedence = Some(p.into());
            assert_eq!(check(f), Some("precedence"), "{p}");
        }
        assert_eq!(with(|f| f.precedence = Some("first-class".into())), None);
        assert_eq!(with(|f| f.list_id = true), Some("mailing_list"));
        assert_eq!(with(|f| f.list_unsubscribe = true), Some("mailing_list"));
        assert_eq!(with(|f| f.delivery_report = true), Some("delivery_report"));
        assert_eq!(
            with(|f| f.null_return_path = true),
            Some("null_return_path")
        );
        assert_eq!(
            with(|f| f.autoreply_header = true),
            Some("autoreply_header")
        );
        assert_eq!(
            with(|f| f.message_id =
                Some("<0190f5b26c1e7c3a9d2e5b7a1c9e0f11.reply@support.example>".into())),
            Some("own_mail")
        );
        for sender in [
            "MAILER-DAEMON@mx.example.com",
            "postmaster@example.com",
            "no-reply@shop.example",
            "noreply+abc@x.example",
            "do-not-reply@bank.example",
            "bounces+123@mail.example",
            "owner-list@lists.example",
            "news-request@lists.example",
            "news-bounces@lists.example",
        ] {
            let mut f = customer();
            f.sender = sender.into();
            assert_eq!(check(f), Some("role_sender"), "{sender}");
        }
        assert_eq!(with(|f| f.sender = String::new()), Some("no_sender"));
        assert_eq!(
            with(|f| f.sender = "unknown-0123456789abcdef@invalid".into()),
            Some("no_sender")
        );
        // Not role senders: ordinary people whose names begin alike.
        for sender in ["noreen@example.com", "postmasters-guild@example.com"] {
            let mut f = customer();
            f.sender = sender.into();
            assert_eq!(check(f), None, "{sender}");
        }
    }

    #[test]
    fn a_contact_gets_at_most_max_answers_in_the_period() {
        let b = Budget {
            max: 2,
            period_secs: 3600,
        };
        let at = |s: i64| Millis(s * 1000);
        let now = at(10_000);
        assert!(may_answer(&customer(), &[at(9_000)], now, b).is_ok());
        assert_eq!(
            may_answer(&customer(), &[at(9_000), at(9_500)], now, b),
            Err(Suppressed::TooMany {
                sent: 2,
                period_secs: 3600
            })
        );
        // Answers older than the period do not count.
        assert!(may_answer(&customer(), &[at(1_000), at(9_500)], now, b).is_ok());
    }
}
