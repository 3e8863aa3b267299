//! The QA policy: which released replies a reviewer reads before they go out, and why. Pure: the
//! caller gives the reply and its author's facts, the policy answers with every rule that asks
//! for review. A reply nothing asks about goes straight to the outbox.
//!
//! Rules: a reply returned for revision is reviewed again; every reply of an agent flagged
//! trainee; an agent's first N replies; replies to interactions in a sensitive category; replies
//! whose text matches a pattern (the screening rule language); a random sample, drawn from the
//! reply's id so the same reply always draws the same number (an auditor can recompute it).

use super::interaction::{ReviewDecided, ReviewReason};
use super::screening::{Input, RuleSet};
use super::{InteractionId, Millis, QueueName};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The policy, built from `[qa]`.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where replies wait for a reviewer.
    pub queue: QueueName,
    /// Review every reply of an agent flagged trainee.
    pub trainees: bool,
    /// Review an agent's first this many replies (0: none).
    pub first_replies: u32,
    /// Review replies to interactions in these categories.
    pub sensitive: BTreeSet<String>,
    /// Review this share of the rest, in hundredths of a percent (0..=10000).
    pub sample_basis_points: u32,
    /// Review replies these rules match (`subject`, `body`, `to`).
    pub patterns: RuleSet,
    /// A digest of the settings the policy was built from: recorded with each decision.
    pub digest: String,
}

/// A released reply as the policy sees it.
#[derive(Debug, Clone)]
pub struct Reply<'a> {
    pub id: InteractionId,
    /// The author is flagged trainee.
    pub trainee: bool,
    /// How many replies the author released before this one.
    pub released_before: u32,
    /// The customer's interaction's category.
    pub category: Option<&'a str>,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    /// Times a reviewer returned it.
    pub revisions: u32,
}

impl Policy {
    /// No review of anything (a site without `[qa]`).
    pub fn none(queue: QueueName) -> Policy {
        Policy {
            queue,
            trainees: false,
            first_replies: 0,
            sensitive: BTreeSet::new(),
            sample_basis_points: 0,
            patterns: RuleSet::empty(),
            digest: "none".into(),
        }
    }

    /// The decision on `reply`, released `at`.
    pub fn decide(&self, reply: &Reply, at: Millis) -> ReviewDecided {
        let mut reasons = Vec::new();
        let mut reason = |rule: &str, detail: String| {
            reasons.push(ReviewReason {
                rule: rule.into(),
                detail,
            })
        };
        if reply.revisions > 0 {
            reason(
                "revision",
                format!(
                    "returned for revision {} time(s): reviewed again",
                    reply.revisions
                ),
            );
        }
        if self.trainees && reply.trainee {
            reason("trainee", "the author is flagged trainee".into());
        }
        if reply.released_before < self.first_replies {
            reason(
                "new_agent",
                format!(
                    "the author's reply {} of the first {} reviewed",
                    reply.released_before + 1,
                    self.first_replies
                ),
            );
        }
        if let Some(c) = reply.category.filter(|c| self.sensitive.contains(*c)) {
            reason("sensitive_category", format!("category {c} is sensitive"));
        }
        if !self.patterns.is_empty() {
            let input = Input {
                to: vec![reply.to.to_string()],
                subject: reply.subject.to_string(),
                body: reply.text.to_string(),
                ..Input::default()
            };
            for m in self.patterns.evaluate(&input).matched {
                // Where it matched, never what: the text may be a card number.
                let fields: BTreeSet<&str> = m.evidence.iter().map(|e| e.field.as_str()).collect();
                let fields: Vec<&str> = fields.into_iter().collect();
                reason(
                    "pattern",
                    format!("pattern {} matched in {}", m.rule, fields.join(", ")),
                );
            }
        }
        if self.sample_basis_points > 0 {
            let draw = draw(reply.id);
            if draw < self.sample_basis_points {
                reason(
                    "sample",
                    format!(
                        "sampled: drew {draw} below {} of 10000",
                        self.sample_basis_points
                    ),
                );
            }
        }
        let required = !reasons.is_empty();
        ReviewDecided {
            required,
            reasons,
            policy: self.digest.clone(),
            queue: required.then(|| self.queue.clone()),
            at,
        }
    }
}

/// The reply's sample number, 0..10000: the same for the same reply, evenly spread.
pub fn draw(id: InteractionId) -> u32 {
    let digest = Sha256::new()
        .chain_update(b"postroom-qa-sample\0")
        .chain_update(id.as_uuid().as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 10_000) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::screening::RuleSpec;

    fn policy() -> Policy {
        let card = RuleSpec {
            name: "card_number".into(),
            when: r#"body matches "\b(?:\d[ -]?){13,16}\b""#.into(),
            stop: None,
            category: None,
            priority: None,
            attributes: [("qa".to_string(), "review".to_string())].into(),
            queue: None,
        };
        Policy {
            queue: QueueName::parse("review").unwrap(),
            trainees: true,
            first_replies: 2,
            sensitive: ["legal".to_string()].into(),
            sample_basis_points: 0,
            patterns: RuleSet::compile(&[card]).unwrap(),
            digest: "d".into(),
        }
    }

    fn reply(text: &str) -> Reply<'_> {
        Reply {
            id: InteractionId::from_uuid(uuid::Uuid::new_v4()),
            trainee: false,
            released_before: 5,
            category: Some("billing"),
            to: "ann@example.com",
            subject: "Re: refund",
            text,
            revisions: 0,
        }
    }

    fn rules(d: &ReviewDecided) -> Vec<&str> {
        d.reasons.iter().map(|r| r.rule.as_str()).collect()
    }

    #[test]
    fn an_ordinary_reply_goes_straight_out_and_each_rule_names_itself() {
        let p = policy();
        let at = Millis(7);
        let plain = p.decide(&reply("Your refund is on its way."), at);
        assert!(!plain.required);
        assert_eq!(plain.queue, None);
        assert_eq!(plain.policy, "d");
        let trainee = Reply {
            trainee: true,
            ..reply("ok")
        };
        assert_eq!(rules(&p.decide(&trainee, at)), ["trainee"]);
        let new = Reply {
            released_before: 1,
            ..reply("ok")
        };
        let d = p.decide(&new, at);
        assert_eq!(rules(&d), ["new_agent"]);
        assert_eq!(
            d.reasons[0].detail,
            "the author's reply 2 of the first 2 reviewed"
        );
        assert!(d.required);
        assert_eq!(d.queue, Some(QueueName::parse("review").unwrap()));
        let legal = Reply {
            category: Some("legal"),
            ..reply("ok")
        };
        assert_eq!(rules(&p.decide(&legal, at)), ["sensitive_category"]);
        let again = Reply {
            revisions: 1,
            ..reply("ok")
        };
        assert_eq!(rules(&p.decide(&again, at)), ["revision"]);
    }

    #[test]
    fn a_pattern_names_where_it_matched_never_the_text() {
        let d = policy().decide(
            &reply("Your card 4111 1111 1111 1111 was charged."),
            Millis(1),
        );
        assert_eq!(rules(&d), ["pattern"]);
        assert_eq!(d.reasons[0].detail, "pattern card_number matched in body");
        assert!(!d.reasons[0].detail.contains("4111"));
    }

    #[test]
    fn the_sample_is_reproducible_and_near_its_share() {
        let mut p = policy();
        p.sample_basis_points = 1_000; // 10 %
        p.first_replies = 0;
        let ids: Vec<InteractionId> = (0..10_000)
            .map(|_| InteractionId::from_uuid(uuid::Uuid::new_v4()))
            .collect();
        let sampled = ids
            .iter()
            .filter(|id| {
                let r = Reply {
                    id: **id,
                    ..reply("ok")
                };
                p.decide(&r, Millis(1)).required
            })
            .count();
        assert!(
            (800..1_200).contains(&sampled),
            "{sampled} of 10000 sampled"
        );
        assert_eq!(draw(ids[0]), draw(ids[0]));
        p.sample_basis_points = 10_000;
        assert!(p.decide(&reply("ok"), Millis(1)).required);
    }
}
