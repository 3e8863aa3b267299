//! QA review of released replies: what waits for whom, and the reviewer's four answers. Approve
//! (the outbox sends it), return for revision with a comment (back on the author's desktop, then
//! released again into review), edit and approve (the edited text composed again, with the same
//! Message-ID, and a line diff in the history), reassign to another reviewer. Routing offers
//! waiting reviews to reviewers (`app::route`); acting on a review offered to you accepts it.

use super::reply::{stored, Record, Replies, ReplyError};
use crate::domain::interaction::{Interaction, InteractionCommand, ReplyStatus, Status};
use crate::domain::{AgentId, InteractionId, Millis};

/// A reply in review, as the reviewer reads it: the reply beside the customer's message.
#[derive(Debug, Clone)]
pub struct Review {
    pub id: InteractionId,
    pub parent: InteractionId,
    pub state: Interaction,
    pub record: Record,
    /// The customer's message: who, what about, and its text.
    pub customer: Option<(Interaction, Option<String>)>,
}

/// Replies still to be reviewed: waiting, offered, or in review.
pub fn in_review(state: &Interaction) -> bool {
    matches!(
        state.status,
        Status::Reply(ReplyStatus::AwaitingReview)
            | Status::Reply(ReplyStatus::ReviewOffered { .. })
            | Status::Reply(ReplyStatus::InReview { .. })
    )
}

/// What a reviewer answers.
pub enum Verdict {
    Approve,
    Return {
        comment: String,
    },
    Edit {
        text: String,
        html: Option<String>,
    },
    /// To another reviewer; `supervising`: a supervisor who need not be the reviewer.
    Reassign {
        to: AgentId,
        supervising: bool,
    },
}

impl Replies {
    /// The reviews `caller` holds (offered or reviewing), or with `all` every reply waiting for
    /// or in review, oldest first.
    pub async fn reviews(&self, caller: &AgentId, all: bool) -> Result<Vec<Review>, ReplyError> {
        let ids: Vec<InteractionId> = self.projections.read(|p| {
            let mut ids: Vec<(Millis, InteractionId)> = Vec::new();
            let mut add = |id: InteractionId| {
                if let Some(s) = p.cache.get(&id).filter(in_review) {
                    ids.push((s.updated_at, id));
                }
            };
            if all {
                // Review queues hold nothing else (`[qa] queue` is none of the process's): a
                // queue whose first entry is no review is passed over whole.
                for (q, _) in p.queues.depths() {
                    let mut entries = p.queues.contents(&q).into_iter().flatten().peekable();
                    let reviews = entries
                        .peek()
                        .and_then(|e| p.cache.get(&e.id))
                        .is_some_and(|s| in_review(&s));
                    if reviews {
                        entries.for_each(|e| add(e.id));
                    }
                }
                for (_, w) in p.workloads.iter() {
                    w.offered.iter().chain(&w.assigned).for_each(|id| add(*id));
                }
            } else if let Some(w) = p.workloads.get(caller) {
                w.offered.iter().chain(&w.assigned).for_each(|id| add(*id));
            }
            ids.sort();
            ids.dedup();
            ids.into_iter().map(|(_, id)| id).collect()
        });
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.review(id).await?);
        }
        Ok(out)
    }

    /// One reply for review (404: no such reply).
    pub async fn review(&self, id: InteractionId) -> Result<Review, ReplyError> {
        if !self.projections.read(|p| p.cache.get(&id).is_some()) {
            return Err(ReplyError::NotFound(format!("no reply {id}")));
        }
        let state = self.interactions.state(id).await?;
        let crate::domain::interaction::Kind::Reply { parent } = state.kind else {
            return Err(ReplyError::NotFound(format!(
                "{id} is not a reply (reviews are of replies)"
            )));
        };
        let customer = match self.interactions.state(parent).await? {
            p if p.exists() => {
                let text = match &p.content {
                    Some(r) => self
                        .content
                        .get(r)
                        .map_err(|e| ReplyError::Unavailable(format!("reading the message: {e}")))?
                        .map(|b| String::from_utf8_lossy(&b).into_owned()),
                    None => None,
                };
                Some((p, text))
            }
            _ => None,
        };
        Ok(Review {
            id,
            parent,
            record: self.record(id)?,
            state,
            customer,
        })
    }

    /// `reviewer`'s answer on reply `id`.
    pub async fn judge(
        &self,
        reviewer: &AgentId,
        id: InteractionId,
        verdict: Verdict,
    ) -> Result<Review, ReplyError> {
        let review = self.review(id).await?;
        // Composing an edit needs the reviewer's right first (the decider checks it again).
        if matches!(verdict, Verdict::Edit { .. })
            && in_review(&review.state)
            && review.state.status.reviewer() != Some(reviewer)
        {
            return Err(ReplyError::Command(
                crate::events::aggregate::CommandError::Rejected(
                    crate::domain::interaction::Rejection::NotReviewer {
                        agent: reviewer.clone(),
                    },
                ),
            ));
        }
        let at = super::now();
        let (command, content) = match verdict {
            Verdict::Approve => (
                InteractionCommand::ApproveReply {
                    reviewer: reviewer.clone(),
                    at,
                },
                Vec::new(),
            ),
            Verdict::Return { comment } => {
                if comment.chars().count() > 10_000 {
                    return Err(ReplyError::Invalid(
                        "comment: at most 10000 characters".into(),
                    ));
                }
                if comment.trim().is_empty() {
                    return Err(ReplyError::Invalid("comment: must not be blank".into()));
                }
                let note = comment;
                let cmd = InteractionCommand::ReturnForRevision {
                    reviewer: reviewer.clone(),
                    note,
                    at,
                };
                (cmd, Vec::new())
            }
            Verdict::Edit { text, html } => self.edited(reviewer, &review, text, html, at)?,
            Verdict::Reassign { to, supervising } => {
                let current = review.state.status.reviewer();
                // A supervisor passes any review on; a reviewer passes on their own.
                let by = (!supervising || current == Some(reviewer)).then(|| reviewer.clone());
                (
                    InteractionCommand::ReassignReview { to, by, at },
                    Vec::new(),
                )
            }
        };
        self.run(id, reviewer, command, content).await?;
        self.review(id).await
    }

    /// The edit: the new text stored, the message composed again, the change as a line diff.
    fn edited(
        &self,
        reviewer: &AgentId,
        review: &Review,
        text: String,
        html: Option<String>,
        at: Millis,
    ) -> Result<(InteractionCommand, crate::events::Content), ReplyError> {
        let (mut content, text_ref, html_ref) = stored(&text, html.as_deref())?;
        let sender = self.sender()?;
        let Some((parent, _)) = &review.customer else {
            return Err(ReplyError::Conflict(format!(
                "the interaction reply {} answers is gone",
                review.id
            )));
        };
        let diff = crate::domain::diff::lines(review.record.text.as_deref().unwrap_or(""), &text);
        let subject = &review.state.subject;
        let composed = self.letter(sender, parent, review.id, subject, text, html, at)?;
        content.push((composed.hash.0, composed.bytes));
        let command = InteractionCommand::EditAndApprove {
            reviewer: reviewer.clone(),
            content: text_ref,
            html: html_ref,
            message: composed.hash,
            diff,
            at,
        };
        Ok((command, content))
    }
}
