//! Automatic answers, as a process: for every inbound interaction whose answer the workflow
//! planned, ask the loop policy (`domain::loop_guard`) with the facts of the message as received
//! and the contact's recent automatic answers; record why none goes out, or compose the answer
//! (field codes filled, the thread token in the subject, `In-Reply-To`/`References`,
//! `Auto-Submitted: auto-replied`, its Message-ID fixed) as an outbound interaction that waits
//! in the outbox, and record on the inbound interaction that this is its answer.
//!
//! Exactly once: the answer's id is derived from the inbound interaction's, so composing it
//! again (after a crash between the two appends) finds it and only records the link.

use crate::actors::{CommandEnvelope, Interactions};
use crate::domain::address::NamedAddress;
use crate::domain::header::HeaderText;
use crate::domain::interaction::{
    AnswerUsage, AutoAnswer, Interaction, InteractionCommand, Rejection, Status,
};
use crate::domain::loop_guard::{may_answer, Budget, Facts};
use crate::domain::response_template::{render, Fields, Kind};
use crate::domain::threading::{
    normalise_message_id, reply_message_id, subject_with_token, thread_token,
};
use crate::domain::{EmailAddress, InteractionId, Millis, Principal};
use crate::events::aggregate::CommandError;
use crate::mail::outbound::{format, Outbound, Party};
use crate::projections::ProjectionRunner;
use crate::settings::AnswerTemplate;
use crate::storage::ContentStore;
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::{AUTO_ANSWERS_COMPOSED as COMPOSED, AUTO_ANSWERS_SUPPRESSED as SUPPRESSED};

/// What automatic answers say and how many one contact may get.
#[derive(Debug, Clone)]
pub struct AnswerPolicy {
    pub budget: Budget,
    pub acknowledgement: AnswerTemplate,
    /// Who answers (`[smtp] from`).
    pub sender: NamedAddress,
}

/// The answering process. Cheap to clone.
#[derive(Clone)]
pub struct Answerer {
    pub policy: Arc<AnswerPolicy>,
    pub projections: Arc<ProjectionRunner>,
    pub interactions: Interactions,
    pub content: Arc<dyn ContentStore>,
}

/// Who automatic answers are recorded under.
pub fn principal() -> Principal {
    Principal::System("auto-answer".into())
}

/// The id of `inbound`'s automatic answer of `usage`: the same on every attempt.
pub fn answer_id(inbound: InteractionId, usage: AnswerUsage) -> InteractionId {
    let digest = crate::events::codec::sha256(
        [
            b"postroom-answer\0".as_slice(),
            inbound.as_uuid().as_bytes(),
            usage.name().as_bytes(),
        ]
        .concat()
        .as_slice(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    InteractionId::from_uuid(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

type Failure = String;

/// A time as RFC 3339, to the second, in UTC.
fn rfc3339(m: Millis) -> String {
    crate::events::export::format_micros(m.0.saturating_mul(1000))
        .split('.')
        .next()
        .map(|s| format!("{}Z", s.trim_end_matches('Z')))
        .unwrap_or_default()
}

fn failed<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> Failure + '_ {
    move |e| format!("{what}: {e}")
}

impl Answerer {
    /// Decides every planned answer, oldest first.
    pub async fn run_once(&self) {
        let planned: Vec<InteractionId> = self
            .projections
            .read(|p| p.outgoing.awaiting_answer.iter().copied().collect());
        for id in planned {
            if let Err(e) = self.answer(id).await {
                tracing::warn!(interaction_id = %id, error = %e, "automatic answer not decided");
            }
        }
    }

    async fn execute(
        &self,
        id: InteractionId,
        command: InteractionCommand,
        content: crate::events::Content,
    ) -> Result<(), Failure> {
        let cmd = CommandEnvelope::new(command, principal());
        match self
            .interactions
            .execute_with_content(id, cmd, content)
            .await
        {
            Ok(outcome) => {
                // The next decision reads the contact's answers from the projections: this one
                // must be in them.
                if let Some(position) = outcome.last_position {
                    self.projections
                        .wait_for(position, Duration::from_secs(10))
                        .await;
                }
                Ok(())
            }
            // Already done (by an earlier attempt): nothing to repeat.
            Err(CommandError::Rejected(Rejection::AlreadyExists)) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn answer(&self, id: InteractionId) -> Result<(), Failure> {
        let state = self
            .interactions
            .state(id)
            .await
            .map_err(failed("reading the interaction"))?;
        let Some(AutoAnswer::Planned { usage }) = state.auto_answer.clone() else {
            return Ok(());
        };
        let reply = answer_id(id, usage);
        let composed = self
            .interactions
            .state(reply)
            .await
            .map_err(failed("reading the answer"))?;
        if !composed.exists() {
            let at = super::now();
            if let Err((code, reason)) = self.allowed(&state, at)? {
                metrics::counter!(SUPPRESSED, "reason" => code).increment(1);
                tracing::info!(interaction_id = %id, code, %reason, "no automatic answer");
                let cmd = InteractionCommand::SuppressAutoAnswer {
                    code: code.to_string(),
                    reason,
                    at,
                };
                return self.execute(id, cmd, Vec::new()).await;
            }
            let (cmd, content) = self.compose(id, &state, usage, reply, at)?;
            self.execute(reply, cmd, content).await?;
            metrics::counter!(COMPOSED).increment(1);
        }
        let cmd = InteractionCommand::RecordAutoAnswer {
            reply,
            usage,
            at: super::now(),
        };
        self.execute(id, cmd, Vec::new()).await
    }

    /// The loop policy's answer for `state` now (`Err` inside: suppressed, with code and
    /// reason).
    fn allowed(
        &self,
        state: &Interaction,
        at: Millis,
    ) -> Result<Result<(), (&'static str, String)>, Failure> {
        if let Status::Stopped { reason } = &state.status {
            return Ok(Err((
                "stopped",
                format!("the interaction was stopped: {reason}"),
            )));
        }
        let facts = self.facts(state)?;
        let recent = self
            .projections
            .read(|p| p.outgoing.answers_to(&state.from).to_vec());
        Ok(may_answer(&facts, &recent, at, self.policy.budget)
            .map_err(|s| (s.code(), s.to_string())))
    }

    /// What the loop policy looks at: the message's headers as received (web forms have none
    /// but the sender).
    fn facts(&self, state: &Interaction) -> Result<Facts, Failure> {
        let Some(raw) = &state.raw else {
            return Ok(Facts {
                sender: state.from.clone(),
                ..Facts::default()
            });
        };
        let bytes = self
            .content
            .get(raw)
            .map_err(failed("reading the message"))?
            .ok_or("the message as received is not in the content store")?;
        let parsed = crate::mail::parse(&bytes, &crate::mail::Limits::default());
        let headers = crate::mail::screen::headers(&bytes);
        let mut facts = crate::mail::screen::loop_facts(&parsed, &headers);
        // The contact we would write to (the sender rules may have chosen Reply-To).
        if facts.sender.trim().is_empty() {
            facts.sender = state.from.clone();
        }
        Ok(facts)
    }

    /// The answer's command and the bytes it refers to.
    fn compose(
        &self,
        id: InteractionId,
        state: &Interaction,
        usage: AnswerUsage,
        reply: InteractionId,
        at: Millis,
    ) -> Result<(InteractionCommand, crate::events::Content), Failure> {
        let template = &self.policy.acknowledgement;
        let root = self.projections.read(|p| p.thread_of(id, state));
        let token = thread_token(root);
        let fields = Fields {
            contact_name: state
                .from_name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| state.from.clone()),
            contact_address: state.from.clone(),
            interaction_id: id.to_string(),
            thread_token: format!("[#{token}]"),
            subject: state.subject.clone(),
            agent_name: String::new(),
            date: rfc3339(at).get(..10).unwrap_or_default().to_string(),
            received_at: rfc3339(state.created_at),
        };
        let subject = render(&template.subject, Kind::Text, &fields)
            .map_err(failed("the acknowledgement's subject"))?;
        let subject = subject_with_token(&subject, &token);
        let text = render(&template.text, Kind::Text, &fields)
            .map_err(failed("the acknowledgement's text"))?;
        let html = match &template.html {
            Some(h) => {
                Some(render(h, Kind::Html, &fields).map_err(failed("the acknowledgement's HTML"))?)
            }
            None => None,
        };
        let to = EmailAddress::parse(&state.from).map_err(failed("the recipient"))?;
        let domain = self
            .policy
            .sender
            .address
            .as_str()
            .rsplit_once('@')
            .map(|(_, d)| d.to_string())
            .unwrap_or_default();
        let message_id = normalise_message_id(&reply_message_id(reply, &domain));
        let (in_reply_to, references) = self.references(state)?;
        let outbound = Outbound {
            from: self.policy.sender.clone(),
            to: Party {
                name: state.from_name.as_deref().map(HeaderText::lossy),
                address: to.clone(),
            },
            subject: HeaderText::lossy(&subject),
            message_id: HeaderText::lossy(&message_id),
            in_reply_to,
            references,
            auto_replied: true,
            date: std::time::UNIX_EPOCH + Duration::from_millis(at.0.max(0) as u64),
            text,
            html,
        };
        let bytes = format(&outbound).map_err(failed("formatting the answer"))?;
        let hash = crate::events::codec::sha256(&bytes);
        let cmd = InteractionCommand::ComposeAnswer {
            parent: id,
            usage,
            to,
            subject,
            message: crate::domain::ContentRef(hash),
            message_id,
            at,
        };
        Ok((cmd, vec![(hash, bytes)]))
    }

    /// `In-Reply-To` the customer's Message-ID and `References` their chain and it (RFC 5322
    /// §3.6.4); a web form has neither.
    fn references(
        &self,
        state: &Interaction,
    ) -> Result<(Option<HeaderText>, Vec<HeaderText>), Failure> {
        let Some(mid) = state.message_id.as_deref().map(normalise_message_id) else {
            return Ok((None, Vec::new()));
        };
        let mut chain = Vec::new();
        if let Some(raw) = &state.raw {
            if let Some(bytes) = self
                .content
                .get(raw)
                .map_err(failed("reading the message"))?
            {
                let parsed = crate::mail::parse(&bytes, &crate::mail::Limits::default());
                chain = parsed.references;
            }
        }
        let usable = |id: &str| {
            let id = normalise_message_id(id);
            (id.contains('@')
                && !id
                    .chars()
                    .any(|c| c.is_whitespace() || c == '<' || c == '>'))
            .then(|| HeaderText::parse(&id).ok())
            .flatten()
        };
        let Some(parent) = usable(&mid) else {
            return Ok((None, Vec::new()));
        };
        let mut refs: Vec<HeaderText> = chain.iter().filter_map(|r| usable(r)).collect();
        // Long chains keep their first and last (RFC 5322 suggests trimming the middle).
        if refs.len() > 20 {
            let tail = refs.split_off(refs.len() - 19);
            refs.truncate(1);
            refs.extend(tail);
        }
        refs.retain(|r| r != &parent);
        refs.push(parent.clone());
        Ok((Some(parent), refs))
    }
}
