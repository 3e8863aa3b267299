//! Automatic answers, as a process: for every inbound interaction whose answer the workflow
//! planned, ask the loop policy (`domain::loop_guard`) with the facts of the message as received
//! and the contact's recent automatic answers; record why none goes out, or compose the answer
//! (field codes filled, the thread token in the subject, `In-Reply-To`/`References`,
//! `Auto-Submitted: auto-replied`, its Message-ID fixed) as an outbound interaction that waits
//! in the outbox, and record on the inbound interaction that this is its answer.
//!
//! An acknowledgement says what the process version that planned it says (`[workflow.
//! acknowledgement]`), and counts against that version's budget; an automatic response is the
//! standard response its process chose, if that is still usable when the answer is made (else
//! it is suppressed as `response_unusable`, and the sweep queues the interaction for an agent).
//!
//! Exactly once: the answer's id is derived from the inbound interaction's, so composing it
//! again (after a crash between the two appends) finds it and only records the link.

use super::compose::{compose, fields, read_received, Check, Letter, Received};
use super::process::{Process, ProcessHandle};
use crate::actors::{CommandEnvelope, Interactions};
use crate::domain::address::NamedAddress;
use crate::domain::interaction::{
    AnswerUsage, AutoAnswer, Interaction, InteractionCommand, Rejection, Status,
};
use crate::domain::loop_guard::{may_answer, Facts};
use crate::domain::response_template::{render, Kind};
use crate::domain::standard_response::ResponseId;
use crate::domain::threading::{subject_with_token, thread_token};
use crate::domain::{InteractionId, Millis, Principal};
use crate::events::aggregate::CommandError;
use crate::projections::ProjectionRunner;
use crate::settings::AnswerTemplate;
use crate::storage::ContentStore;
use std::sync::Arc;
use std::time::Duration;

use crate::metrics::{AUTO_ANSWERS_COMPOSED as COMPOSED, AUTO_ANSWERS_SUPPRESSED as SUPPRESSED};

/// Who automatic answers come from.
#[derive(Debug, Clone)]
pub struct AnswerPolicy {
    /// Who answers (`[smtp] from`).
    pub sender: NamedAddress,
}

/// The answering process. Cheap to clone.
#[derive(Clone)]
pub struct Answerer {
    pub policy: Arc<AnswerPolicy>,
    /// What the answers say and how many one contact may get, by process version.
    pub process: ProcessHandle,
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
            // The version that planned it, where that is at hand (else the one in force).
            let process = self
                .process
                .version(state.process.as_ref().map(|p| p.version.as_str()));
            // What cannot be answered (a message we cannot read back, an address or Message-ID
            // that cannot go into mail) is decided too: suppressed with the reason, never
            // retried forever.
            let decision = match self.message(&state) {
                Err(Check::Retry(e)) => return Err(e),
                Err(Check::Unanswerable(e)) => Err(("unanswerable", e)),
                Ok(message) => self
                    .allowed(&state, message.as_ref(), &process, at)
                    .and_then(|()| self.template(&state, usage, &process, at))
                    .and_then(|template| {
                        self.compose(id, &state, message.as_ref(), &template, usage, reply, at)
                            .map_err(|e| ("unanswerable", e))
                    }),
            };
            let (cmd, content) = match decision {
                Ok(composed) => composed,
                Err((code, reason)) => {
                    metrics::counter!(SUPPRESSED, "reason" => code).increment(1);
                    tracing::info!(interaction_id = %id, code, %reason, "no automatic answer");
                    let cmd = InteractionCommand::SuppressAutoAnswer {
                        code: code.to_string(),
                        reason,
                        at,
                    };
                    return self.execute(id, cmd, Vec::new()).await;
                }
            };
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

    /// The message as received, parsed (none for a web form).
    fn message(&self, state: &Interaction) -> Result<Option<Received>, Check> {
        read_received(self.content.as_ref(), state)
    }

    /// The loop policy's answer for `state` now: `Err` with the code and the reason when no
    /// automatic answer may go.
    fn allowed(
        &self,
        state: &Interaction,
        message: Option<&Received>,
        process: &Process,
        at: Millis,
    ) -> Result<(), (&'static str, String)> {
        if let Status::Stopped { reason } = &state.status {
            return Err(("stopped", format!("the interaction was stopped: {reason}")));
        }
        let recent = self
            .projections
            .read(|p| p.outgoing.answers_to(&state.from).to_vec());
        let check = |facts: &Facts| {
            may_answer(facts, &recent, at, process.budget).map_err(|s| (s.code(), s.to_string()))
        };
        // The message's own facts (From, headers) …
        let facts = match message {
            Some(m) => crate::mail::screen::loop_facts(&m.parsed, &m.headers),
            None => Facts::default(),
        };
        if message.is_some() {
            check(&facts)?;
        }
        // … and the address the answer would go to (the contact: Reply-To, or an unknown
        // sender's placeholder that nothing is ever sent to).
        check(&Facts {
            sender: state.from.clone(),
            ..facts
        })
    }

    /// What the answer says: the process's acknowledgement, or the standard response its
    /// process chose if it is still usable.
    fn template(
        &self,
        state: &Interaction,
        usage: AnswerUsage,
        process: &Process,
        at: Millis,
    ) -> Result<AnswerTemplate, (&'static str, String)> {
        if usage == AnswerUsage::Acknowledgement {
            return Ok(process.acknowledgement.clone());
        }
        let Some(id) = state.process.as_ref().and_then(|p| p.response) else {
            return Err(("unanswerable", "no standard response was chosen".into()));
        };
        self.projections
            .read(|p| {
                let r = p.responses.get(&ResponseId(id))?;
                let f = r.fields.as_ref().filter(|_| r.usable_at(at))?;
                Some(AnswerTemplate {
                    subject: f.subject.clone(),
                    text: f.text.clone(),
                    html: f.html.clone(),
                })
            })
            .ok_or_else(|| {
                (
                    "response_unusable",
                    format!(
                        "the standard response {id} is no longer usable (deleted, not approved \
                         or outside its validity)"
                    ),
                )
            })
    }

    /// The answer's command and the bytes it refers to.
    #[allow(clippy::too_many_arguments)]
    fn compose(
        &self,
        id: InteractionId,
        state: &Interaction,
        message: Option<&Received>,
        template: &AnswerTemplate,
        usage: AnswerUsage,
        reply: InteractionId,
        at: Millis,
    ) -> Result<(InteractionCommand, crate::events::Content), String> {
        let root = self.projections.read(|p| p.thread_of(id, state));
        let fields = fields(id, state, root, "", at);
        let subject = render(&template.subject, Kind::Text, &fields)
            .map_err(failed("the answer's subject"))?;
        let subject = subject_with_token(&subject, &thread_token(root));
        let text =
            render(&template.text, Kind::Text, &fields).map_err(failed("the answer's text"))?;
        let html = match &template.html {
            Some(h) => Some(render(h, Kind::Html, &fields).map_err(failed("the answer's HTML"))?),
            None => None,
        };
        let composed = compose(Letter {
            sender: &self.policy.sender,
            parent: state,
            received: message,
            reply,
            subject: &subject,
            text,
            html,
            automatic: true,
            at,
        })?;
        let cmd = InteractionCommand::ComposeAnswer {
            parent: id,
            usage,
            to: composed.to,
            subject,
            message: composed.hash.clone(),
            message_id: composed.message_id,
            at,
        };
        Ok((cmd, vec![(composed.hash.0, composed.bytes)]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_id_is_the_same_every_time_and_differs_by_usage() {
        let id = InteractionId::from_uuid(uuid::Uuid::from_u128(42));
        let a = answer_id(id, AnswerUsage::Acknowledgement);
        assert_eq!(a, answer_id(id, AnswerUsage::Acknowledgement));
        assert_ne!(a, answer_id(id, AnswerUsage::AutomaticResponse));
        assert_ne!(a, id);
    }
}
