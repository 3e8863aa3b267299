//! What the answering process and the outbox work from: inbound interactions whose automatic
//! answer is planned but not decided, outbound messages waiting to be sent (or sent again), and
//! each contact's automatic answers (the loop policy's budget).

use crate::domain::address::contact_key;
use crate::domain::interaction::{AutoAnswer, Interaction, Outbox};
use crate::domain::{InteractionId, Millis};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outgoing {
    /// Inbound interactions with an automatic answer planned and not yet decided.
    pub awaiting_answer: BTreeSet<InteractionId>,
    /// Composed outbound messages the mailer still has to send: queued, approved, being sent
    /// (an attempt whose outcome was never recorded) or failed with a retry to come.
    pub outbox: BTreeSet<InteractionId>,
    /// Of the outbox, those waiting for a retry after a failed attempt, with when.
    retry_at: HashMap<InteractionId, Millis>,
    /// Outbound messages the mailer gave up on (a permanent failure or too many attempts).
    pub failed: BTreeSet<InteractionId>,
    /// Automatic answers made per contact (by contact key), their times, oldest first.
    answers_by_contact: HashMap<String, Vec<Millis>>,
}

/// The outbox in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxSummary {
    /// Outbound messages waiting for their first or next attempt.
    pub pending: usize,
    /// Of those, how many failed before and wait for a retry.
    pub retrying: usize,
    /// Messages the mailer gave up on.
    pub failed: usize,
    /// Automatic answers planned and not yet decided.
    pub answers_to_decide: usize,
}

fn answered(s: &Interaction) -> bool {
    matches!(s.auto_answer, Some(AutoAnswer::Answered { .. }))
}

impl Outgoing {
    /// Keeps the sets in step with one interaction's change.
    pub fn update(&mut self, id: InteractionId, before: Option<&Interaction>, after: &Interaction) {
        if matches!(after.auto_answer, Some(AutoAnswer::Planned { .. })) {
            self.awaiting_answer.insert(id);
        } else {
            self.awaiting_answer.remove(&id);
        }
        self.outbox.remove(&id);
        self.retry_at.remove(&id);
        self.failed.remove(&id);
        match after.outbox() {
            Outbox::Pending { retry_at } => {
                self.outbox.insert(id);
                if let Some(t) = retry_at {
                    self.retry_at.insert(id, t);
                }
            }
            Outbox::GaveUp => {
                self.failed.insert(id);
            }
            Outbox::None => {}
        }
        if let (Some(AutoAnswer::Answered { at, .. }), false) =
            (&after.auto_answer, before.is_some_and(answered))
        {
            let at = *at;
            let times = self
                .answers_by_contact
                .entry(contact_key(&after.from))
                .or_default();
            let i = times.partition_point(|t| *t <= at);
            times.insert(i, at);
        }
    }

    /// How much waits, for `/readyz` and `/metrics`.
    pub fn summary(&self) -> OutboxSummary {
        OutboxSummary {
            pending: self.outbox.len(),
            retrying: self.retry_at.len(),
            failed: self.failed.len(),
            answers_to_decide: self.awaiting_answer.len(),
        }
    }

    /// The messages the mailer should attempt at `now`: waiting for a first attempt, left
    /// mid-attempt, or past their retry time.
    pub fn due(&self, now: Millis) -> Vec<InteractionId> {
        self.outbox
            .iter()
            .filter(|id| self.retry_at.get(id).is_none_or(|t| *t <= now))
            .copied()
            .collect()
    }

    /// When `contact` got automatic answers (any address form of it).
    pub fn answers_to(&self, contact: &str) -> &[Millis] {
        self.answers_by_contact
            .get(&contact_key(contact))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interaction::AnswerUsage;

    #[test]
    fn an_answer_counts_at_its_decision_time_also_when_indexed_from_a_later_state() {
        let id = InteractionId::from_uuid(uuid::Uuid::from_u128(1));
        // As after a snapshot: the state was answered at 1,000 and closed much later.
        let state = Interaction {
            from: "Ann@Example.com".into(),
            auto_answer: Some(AutoAnswer::Answered {
                usage: AnswerUsage::Acknowledgement,
                reply: InteractionId::from_uuid(uuid::Uuid::from_u128(2)),
                at: Millis(1_000),
            }),
            updated_at: Millis(90_000_000),
            ..Interaction::default()
        };
        let mut o = Outgoing::default();
        o.update(id, None, &state);
        assert_eq!(o.answers_to("ann@example.com"), [Millis(1_000)]);
        // Seen again (a later event on it): still one answer.
        o.update(id, Some(&state), &state);
        assert_eq!(o.answers_to("ANN@example.com"), [Millis(1_000)]);
    }
}
