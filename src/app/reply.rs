//! Agents' replies. The agent who owns an inbound interaction writes a draft (text and an
//! optional HTML alternative, or a standard response rendered with the field codes), saves it as
//! often as they like and reads it back; releasing it composes the message (`compose`) and hands
//! it to the outbox in one append (`SendReply`), then records the reply on the customer's
//! interaction (`RecordReply`).
//!
//! A draft's id derives from the customer's interaction and how many replies it has, so saving
//! and releasing are safe to repeat: a release that stopped between its two appends is finished
//! by the next save or release, never sent twice.

use super::compose::{compose, fields, read_received, Check, Letter};
use crate::actors::{CommandEnvelope, Interactions};
use crate::domain::address::NamedAddress;
use crate::domain::interaction::{
    InboundStatus, Interaction, InteractionCommand, InteractionEvent, Rejection, ReplyStatus,
    ReviewDecided, Status,
};
use crate::domain::qa::{self, Policy};
use crate::domain::response_template::{render, Kind};
use crate::domain::standard_response::ResponseId;
use crate::domain::threading::{subject_with_token, thread_token};
use crate::domain::{AgentId, ContentRef, EmailAddress, InteractionId, Principal, QueueName};
use crate::events::aggregate::{events_of, CommandError};
use crate::events::EventStore;
use crate::projections::ProjectionRunner;
use crate::storage::ContentStore;
use std::sync::Arc;
use std::time::Duration;

/// At most this many characters of text in a reply.
pub const MAX_TEXT: usize = 100_000;
/// At most this many characters of HTML in a reply.
pub const MAX_HTML: usize = 500_000;

/// The replies handle. Cheap to clone.
#[derive(Clone)]
pub struct Replies {
    /// Who replies come from (`[smtp] from`); none: nothing can be sent.
    pub sender: Option<NamedAddress>,
    pub projections: Arc<ProjectionRunner>,
    pub interactions: Interactions,
    pub content: Arc<dyn ContentStore>,
    pub log: Arc<dyn EventStore>,
    /// Which released replies a reviewer reads first.
    pub qa: Arc<Policy>,
}

/// What the agent writes.
pub enum Source {
    Written {
        text: String,
        html: Option<String>,
    },
    /// A standard response, rendered for this customer now.
    Standard(ResponseId),
}

/// A reply as the desktop shows it.
#[derive(Debug, Clone)]
pub struct Draft {
    pub id: InteractionId,
    pub parent: InteractionId,
    pub state: Interaction,
    /// Its texts, its QA decision and the reviewer's comment.
    pub record: Record,
}

/// A reply's history, read back (`Replies::record`).
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub text: Option<String>,
    pub html: Option<String>,
    /// The QA policy's latest decision on it.
    pub review: Option<ReviewDecided>,
    /// The reviewer's comment when it was last returned for revision.
    pub comment: Option<String>,
}

/// Why a reply cannot be saved or released.
#[derive(Debug)]
pub enum ReplyError {
    NotFound(String),
    Forbidden(String),
    Conflict(String),
    Invalid(String),
    /// Try again later (the content store cannot be read, nothing can be sent).
    Unavailable(String),
    Command(CommandError<Rejection>),
}

impl From<CommandError<Rejection>> for ReplyError {
    fn from(e: CommandError<Rejection>) -> Self {
        ReplyError::Command(e)
    }
}

/// The id of `parent`'s reply number `n` (0-based): the same on every attempt.
pub fn draft_id(parent: InteractionId, n: usize) -> InteractionId {
    let digest = crate::events::codec::sha256(
        [
            b"postroom-reply\0".as_slice(),
            parent.as_uuid().as_bytes(),
            &(n as u64).to_be_bytes(),
        ]
        .concat()
        .as_slice(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    InteractionId::from_uuid(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

/// The outbound queue released replies wait in.
fn outbound() -> QueueName {
    QueueName::parse("outbound").unwrap_or_else(|_| unreachable!("a valid queue name"))
}

/// A reply's text and HTML as written, checked (the text not blank, neither too long nor with
/// NUL) and stored by hash: the content to append, and the references to record.
pub(super) fn stored(
    text: &str,
    html: Option<&str>,
) -> Result<
    (
        crate::events::Content,
        Option<ContentRef>,
        Option<ContentRef>,
    ),
    ReplyError,
> {
    if text.trim().is_empty() {
        return Err(ReplyError::Invalid("text: must not be blank".into()));
    }
    checked(text, MAX_TEXT, "text")?;
    if let Some(h) = html {
        checked(h, MAX_HTML, "html")?;
    }
    let mut content: crate::events::Content = Vec::new();
    let mut store = |bytes: &str| {
        let hash = crate::events::codec::sha256(bytes.as_bytes());
        content.push((hash, bytes.as_bytes().to_vec()));
        ContentRef(hash)
    };
    let text_ref = Some(store(text));
    let html_ref = html.map(store);
    Ok((content, text_ref, html_ref))
}

fn checked(text: &str, max: usize, field: &str) -> Result<(), ReplyError> {
    if text.contains('\0') {
        return Err(ReplyError::Invalid(format!(
            "{field}: must not contain NUL"
        )));
    }
    if text.chars().count() > max {
        return Err(ReplyError::Invalid(format!(
            "{field}: at most {max} characters"
        )));
    }
    Ok(())
}

impl Replies {
    pub(super) async fn run(
        &self,
        id: InteractionId,
        agent: &AgentId,
        command: InteractionCommand,
        content: crate::events::Content,
    ) -> Result<(), ReplyError> {
        let cmd = CommandEnvelope::new(command, Principal::User(agent.to_string()));
        let out = self
            .interactions
            .execute_with_content(id, cmd, content)
            .await?;
        if let Some(position) = out.last_position {
            self.projections
                .wait_for(position, Duration::from_secs(2))
                .await;
        }
        Ok(())
    }

    /// The customer's interaction, if `agent` may reply to it now, with its current reply; with
    /// `repair`, a reply released earlier and not yet recorded on it is recorded first (a read
    /// answers that reply as it stands).
    async fn owned(
        &self,
        agent: &AgentId,
        parent: InteractionId,
        repair: bool,
    ) -> Result<(Interaction, InteractionId, Interaction), ReplyError> {
        // Unknown ids are answered from the projections, without waking an actor.
        if !self.projections.read(|p| p.cache.get(&parent).is_some()) {
            return Err(ReplyError::NotFound(format!("no interaction {parent}")));
        }
        for _ in 0..2 {
            let state = self.interactions.state(parent).await?;
            if !state.exists() || state.is_reply() {
                return Err(ReplyError::NotFound(format!(
                    "no inbound interaction {parent}"
                )));
            }
            // A reply a reviewer returned is its author's to revise, whatever became of the
            // interaction since; nobody else answers it meanwhile.
            if let Some(&last) = state.replies.last() {
                let reply = self.interactions.state(last).await?;
                if reply.status == Status::Reply(ReplyStatus::Draft) {
                    if reply.owner.as_ref() == Some(agent) {
                        return Ok((state, last, reply));
                    }
                    return Err(ReplyError::Conflict(format!(
                        "reply {last} to {parent} is returned to {} for revision",
                        reply.owner.map(|o| o.to_string()).unwrap_or_default()
                    )));
                }
            }
            if state.owner.as_ref() != Some(agent) {
                return Err(ReplyError::Forbidden(format!(
                    "interaction {parent} is not {agent}'s to answer"
                )));
            }
            if !matches!(
                state.status,
                Status::Inbound(InboundStatus::Assigned) | Status::Inbound(InboundStatus::Replied)
            ) {
                return Err(ReplyError::Conflict(format!(
                    "interaction {parent} is {}: only work assigned to you is answered",
                    state.status.name()
                )));
            }
            let id = draft_id(parent, state.replies.len());
            let reply = self.interactions.state(id).await?;
            match &reply.status {
                Status::New | Status::Reply(ReplyStatus::Draft) => return Ok((state, id, reply)),
                _ if !repair => return Ok((state, id, reply)),
                // Released, its record on the customer's interaction missing: record it.
                _ => {
                    let cmd = InteractionCommand::RecordReply {
                        agent: agent.clone(),
                        reply: id,
                        at: super::now(),
                    };
                    self.run(parent, agent, cmd, Vec::new()).await?;
                }
            }
        }
        Err(ReplyError::Conflict(format!(
            "interaction {parent}'s replies changed while saving; try again"
        )))
    }

    /// Saves `agent`'s draft reply to `parent` (made on the first save, replaced after).
    pub async fn save(
        &self,
        agent: &AgentId,
        parent: InteractionId,
        source: Source,
    ) -> Result<Draft, ReplyError> {
        let (state, id, reply) = self.owned(agent, parent, true).await?;
        let at = super::now();
        let root = self.projections.read(|p| p.thread_of(parent, &state));
        let (text, html) = match source {
            Source::Written { text, html } => (text, html),
            Source::Standard(rid) => {
                let fields = fields(parent, &state, root, agent.as_str(), at);
                let template = self
                    .projections
                    .read(|p| {
                        let r = p.responses.get(&rid)?;
                        r.fields.clone().filter(|_| r.usable_at(at))
                    })
                    .ok_or_else(|| {
                        ReplyError::Invalid(format!(
                            "standard_response_id: {} is not a usable standard response \
                             (deleted, not approved or outside its validity)",
                            rid.0
                        ))
                    })?;
                let text = render(&template.text, Kind::Text, &fields)
                    .map_err(|e| ReplyError::Invalid(format!("the response's text: {e}")))?;
                let html =
                    match &template.html {
                        Some(h) => Some(render(h, Kind::Html, &fields).map_err(|e| {
                            ReplyError::Invalid(format!("the response's HTML: {e}"))
                        })?),
                        None => None,
                    };
                (text, html)
            }
        };
        let (content, text_ref, html_ref) = stored(&text, html.as_deref())?;
        let command = if reply.exists() {
            InteractionCommand::UpdateDraft {
                agent: agent.clone(),
                content: text_ref,
                html: html_ref,
                at,
            }
        } else {
            let to = EmailAddress::parse(&state.from).map_err(|e| {
                ReplyError::Conflict(format!(
                    "the customer's address {:?} cannot receive mail: {e}",
                    state.from
                ))
            })?;
            let subject = if state.subject.trim_start().to_lowercase().starts_with("re:") {
                state.subject.clone()
            } else {
                format!("Re: {}", state.subject)
            };
            InteractionCommand::DraftReply {
                parent,
                agent: agent.clone(),
                to,
                subject: subject_with_token(&subject, &thread_token(root)),
                content: text_ref,
                html: html_ref,
                at,
            }
        };
        self.run(id, agent, command, content).await?;
        let state = self.interactions.state(id).await?;
        Ok(Draft {
            id,
            parent,
            state,
            record: self.record(id)?,
        })
    }

    /// `agent`'s draft reply to `parent`, as last saved.
    pub async fn draft(&self, agent: &AgentId, parent: InteractionId) -> Result<Draft, ReplyError> {
        let (_, id, reply) = self.owned(agent, parent, false).await?;
        if !reply.exists() {
            return Err(ReplyError::NotFound(format!(
                "no draft reply to {parent}: save one with PUT …/reply"
            )));
        }
        Ok(Draft {
            id,
            parent,
            state: reply,
            record: self.record(id)?,
        })
    }

    /// Who replies come from: none without `[smtp]`, and then nothing can be sent.
    pub(super) fn sender(&self) -> Result<&NamedAddress, ReplyError> {
        self.sender.as_ref().ok_or_else(|| {
            ReplyError::Conflict("no [smtp] is configured: replies cannot be sent".into())
        })
    }

    /// Reply `reply` to `parent` composed from these texts: threaded to the customer's message
    /// as received (without References when it cannot be read back). The release and a
    /// reviewer's edit both compose through it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn letter(
        &self,
        sender: &NamedAddress,
        parent: &Interaction,
        reply: InteractionId,
        subject: &str,
        text: String,
        html: Option<String>,
        at: crate::domain::Millis,
    ) -> Result<super::compose::Composed, ReplyError> {
        let received = match read_received(self.content.as_ref(), parent) {
            Ok(r) => r,
            Err(Check::Retry(e)) => return Err(ReplyError::Unavailable(e)),
            Err(Check::Unanswerable(_)) => None,
        };
        compose(Letter {
            sender,
            parent,
            received: received.as_ref(),
            reply,
            subject,
            text,
            html,
            automatic: false,
            at,
        })
        .map_err(ReplyError::Conflict)
    }

    /// What the reply's history holds: its texts as they stand, why it is (or is not) reviewed,
    /// and the reviewer's last comment.
    pub fn record(&self, id: InteractionId) -> Result<Record, ReplyError> {
        let (mut text, mut html) = (None, None);
        let mut record = Record::default();
        let events = events_of::<Interaction>(self.log.as_ref(), &id)
            .map_err(|e| ReplyError::Unavailable(format!("reading the reply: {e}")))?;
        for e in events {
            match e {
                InteractionEvent::ReplyDrafted(d) => (text, html) = (d.content, d.html),
                InteractionEvent::DraftUpdated(d) => (text, html) = (d.content, d.html),
                InteractionEvent::ReviewEdited(d) => (text, html) = (d.content, d.html),
                InteractionEvent::ReviewDecided(d) => record.review = Some(d),
                InteractionEvent::ReturnedForRevision(d) => record.comment = Some(d.note),
                _ => {}
            }
        }
        let read = |r: Option<ContentRef>| -> Result<Option<String>, ReplyError> {
            let Some(r) = r else { return Ok(None) };
            let bytes = self
                .content
                .get(&r)
                .map_err(|e| ReplyError::Unavailable(format!("reading the reply: {e}")))?;
            Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
        };
        record.text = read(text)?;
        record.html = read(html)?;
        Ok(record)
    }

    /// Releases `agent`'s draft reply to `parent`: composed, to the outbox, recorded on the
    /// customer's interaction. Releasing again answers the reply already released.
    pub async fn release(
        &self,
        agent: &AgentId,
        parent: InteractionId,
    ) -> Result<Draft, ReplyError> {
        let (state, id, reply) = self.owned(agent, parent, true).await?;
        // A server configured without outbound mail cannot send (the draft stays).
        let sender = self.sender()?;
        if !reply.exists() {
            // Released before (and recorded by `owned`): the latest reply is the answer.
            if let Some(last) = state.replies.last() {
                return self.released(*last, parent).await;
            }
            return Err(ReplyError::Conflict(format!(
                "there is no draft reply to {parent} to release: save one with PUT …/reply"
            )));
        }
        if !state.consultants.is_empty() {
            return Err(ReplyError::Command(CommandError::Rejected(
                Rejection::ConsultationActive,
            )));
        }
        let Record { text, html, .. } = self.record(id)?;
        let text = text.ok_or_else(|| ReplyError::Conflict("the draft has no text".into()))?;
        let at = super::now();
        let (trainee, released_before) = self.projections.read(|p| {
            let trainee = p
                .agents
                .get(agent)
                .and_then(|a| a.profile.as_ref())
                .is_some_and(|pr| pr.trainee);
            (trainee, p.authors.released_before(agent, id))
        });
        let review = self.qa.decide(
            &qa::Reply {
                id,
                trainee,
                released_before,
                category: state.category.as_deref(),
                to: &reply.from,
                subject: &reply.subject,
                text: &text,
                revisions: reply.revisions,
            },
            at,
        );
        let composed = self.letter(sender, &state, id, &reply.subject, text, html, at)?;
        let command = InteractionCommand::SendReply {
            agent: agent.clone(),
            queue: outbound(),
            message: composed.hash.clone(),
            message_id: composed.message_id,
            review: Box::new(review),
            at,
        };
        self.run(id, agent, command, vec![(composed.hash.0, composed.bytes)])
            .await?;
        // A revision is recorded on the customer's interaction already.
        if !state.replies.contains(&id) {
            let record = InteractionCommand::RecordReply {
                agent: agent.clone(),
                reply: id,
                at,
            };
            self.run(parent, agent, record, Vec::new()).await?;
        }
        self.released(id, parent).await
    }

    /// A released reply as it stands.
    async fn released(
        &self,
        id: InteractionId,
        parent: InteractionId,
    ) -> Result<Draft, ReplyError> {
        Ok(Draft {
            id,
            parent,
            state: self.interactions.state(id).await?,
            record: self.record(id)?,
        })
    }
}
