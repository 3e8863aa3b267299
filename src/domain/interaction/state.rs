//! The state of one interaction, as rebuilt from its events.

use super::event::{AnswerUsage, Channel, ThreadMatch};
use crate::domain::{AgentId, ContentRef, InteractionId, Millis, QueueName};
use serde::{Deserialize, Serialize};

/// Inbound customer message, or a reply written by an agent (a child of an inbound interaction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Kind {
    #[default]
    Inbound,
    Reply {
        parent: InteractionId,
    },
}

/// Where an interaction is in its lifecycle. An inbound message and a reply are two state
/// machines, each with its own enum and its own decider (`decide/` by concern; `decide/reply.rs`
/// for the reply): they share only the start (no stream yet) and a supervisor's stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Status {
    /// No event yet: the stream does not exist.
    #[default]
    New,
    /// An inbound message's lifecycle.
    Inbound(InboundStatus),
    /// A reply's lifecycle.
    Reply(ReplyStatus),
    /// Stopped by a supervisor (either kind), with the reason given.
    Stopped { reason: String },
}

/// An inbound message: received, queued, routed (locked, offered), worked, done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InboundStatus {
    Received,
    Queued,
    /// Routing holds the lock while it looks for an agent: supervisors must wait.
    Locked {
        router: String,
    },
    Offered {
        agent: AgentId,
        deadline: Millis,
    },
    Assigned,
    Replied,
    Done,
}

/// A reply: drafted, released, queued outbound, reviewed, approved, sent (or failed, retried).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplyStatus {
    Draft,
    Released,
    OutboundQueued,
    /// The QA policy asked for a review: it waits for a reviewer in its queue.
    AwaitingReview,
    /// Offered to a reviewer by routing, until the deadline.
    ReviewOffered {
        reviewer: AgentId,
        deadline: Millis,
    },
    InReview {
        reviewer: AgentId,
    },
    Approved,
    Sending {
        attempt: u32,
    },
    Sent {
        message_id: String,
    },
    Failed {
        attempt: u32,
        retry_at: Option<Millis>,
    },
}

impl Status {
    /// A short stable name, used in rejections, the cache and the API.
    pub fn name(&self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Inbound(InboundStatus::Received) => "received",
            Status::Inbound(InboundStatus::Queued) => "queued",
            Status::Inbound(InboundStatus::Locked { .. }) => "locked",
            Status::Inbound(InboundStatus::Offered { .. }) => "offered",
            Status::Inbound(InboundStatus::Assigned) => "assigned",
            Status::Inbound(InboundStatus::Replied) => "replied",
            Status::Inbound(InboundStatus::Done) => "done",
            Status::Stopped { .. } => "stopped",
            Status::Reply(ReplyStatus::Draft) => "draft",
            Status::Reply(ReplyStatus::Released) => "released",
            Status::Reply(ReplyStatus::OutboundQueued) => "outbound_queued",
            Status::Reply(ReplyStatus::AwaitingReview) => "awaiting_review",
            Status::Reply(ReplyStatus::ReviewOffered { .. }) => "review_offered",
            Status::Reply(ReplyStatus::InReview { .. }) => "in_review",
            Status::Reply(ReplyStatus::Approved) => "approved",
            Status::Reply(ReplyStatus::Sending { .. }) => "sending",
            Status::Reply(ReplyStatus::Sent { .. }) => "sent",
            Status::Reply(ReplyStatus::Failed { .. }) => "failed",
        }
    }

    /// Nothing more will happen to it (a customer's answer starts a new interaction).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Status::Inbound(InboundStatus::Done)
                | Status::Stopped { .. }
                | Status::Reply(ReplyStatus::Sent { .. })
        )
    }

    /// Routing holds it: locked while searching, or offered to an agent.
    pub fn is_locked_by_routing(&self) -> bool {
        matches!(
            self,
            Status::Inbound(InboundStatus::Locked { .. })
                | Status::Inbound(InboundStatus::Offered { .. })
        )
    }

    /// The agent it is offered to and until when (inbound work, or a reply to review).
    pub fn offer(&self) -> Option<(&AgentId, Millis)> {
        match self {
            Status::Inbound(InboundStatus::Offered { agent, deadline })
            | Status::Reply(ReplyStatus::ReviewOffered {
                reviewer: agent,
                deadline,
            }) => Some((agent, *deadline)),
            _ => None,
        }
    }

    /// A reply's reviewer, offered or reviewing (`None` for anything else).
    pub fn reviewer(&self) -> Option<&AgentId> {
        match self {
            Status::Reply(ReplyStatus::ReviewOffered { reviewer, .. })
            | Status::Reply(ReplyStatus::InReview { reviewer }) => Some(reviewer),
            _ => None,
        }
    }
}

/// One interaction's state: what the decider needs and what the cache shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Interaction {
    pub kind: Kind,
    pub status: Status,
    pub channel: Option<Channel>,
    /// Inbound: the customer's address. Reply: the recipient.
    pub from: String,
    pub from_name: Option<String>,
    pub subject: String,
    pub content: Option<ContentRef>,
    pub queue: Option<QueueName>,
    pub priority: i32,
    /// The latest category recorded (the classifier's best, or an agent's correction).
    pub category: Option<String>,
    /// Every category recorded, with its confidence in thousandths, in the order recorded.
    pub categories: Vec<(String, u16)>,
    /// Inbound: the screening version that ran on it (`None`: not screened).
    pub screened: Option<String>,
    /// Inbound: its language (ISO 639-3), when detected.
    pub language: Option<String>,
    /// Attributes set by screening (and later by supervisors), for routing and reports.
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Inbound: the agent working it. Reply: its author.
    pub owner: Option<AgentId>,
    pub consultants: Vec<AgentId>,
    pub replies: Vec<InteractionId>,
    /// Reply: send attempts so far.
    pub attempts: u32,
    /// Reply: how many times QA returned it.
    pub revisions: u32,
    /// Inbound: the message could not be fully understood (kept raw, flagged).
    pub malformed: bool,
    /// Inbound: the thread's first interaction, when the interaction answers an earlier one
    /// (`None`: it is a thread's first, or was recorded before threading).
    pub thread: Option<InteractionId>,
    /// Inbound: how its thread was found.
    pub thread_match: Option<ThreadMatch>,
    /// Inbound e-mail: its Message-ID (without angle brackets).
    pub message_id: Option<String>,
    /// Reply: delivery status reports received about it, oldest first.
    pub delivery: Vec<DeliveryNote>,
    /// Inbound e-mail: the message as received.
    pub raw: Option<ContentRef>,
    /// Inbound: every agent it was offered to, in order (routing never offers it to one again).
    pub offered_to: Vec<AgentId>,
    /// Inbound: how the business process ran on it (`None`: before processes were recorded,
    /// or a reply joining its thread).
    pub process: Option<ProcessState>,
    /// Inbound: its automatic answer, planned, suppressed or made.
    pub auto_answer: Option<AutoAnswer>,
    /// Reply: the composed message the outbox sends (an automatic answer's, from the start).
    pub outbound: Option<ContentRef>,
    /// Reply: why the last attempt to send it failed.
    pub last_error: Option<String>,
    /// Inbound: its service level, when its queue has one.
    pub service_level: Option<ServiceLevel>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// Number of events applied: the stream version.
    pub version: u64,
}

impl Interaction {
    pub fn exists(&self) -> bool {
        self.status != Status::New
    }
    pub fn is_reply(&self) -> bool {
        matches!(self.kind, Kind::Reply { .. })
    }
}

/// Where a composed outbound message stands for the mailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbox {
    /// Not a composed outbound message, or finished (sent, stopped, still in review…).
    None,
    /// To be sent: waiting for its first attempt, left mid-attempt, or failed with a retry at
    /// `retry_at`.
    Pending { retry_at: Option<Millis> },
    /// The mailer gave up (a permanent failure or too many attempts).
    GaveUp,
}

impl Interaction {
    /// Where this interaction stands for the mailer.
    pub fn outbox(&self) -> Outbox {
        if self.outbound.is_none() {
            return Outbox::None;
        }
        match &self.status {
            Status::Reply(ReplyStatus::OutboundQueued)
            | Status::Reply(ReplyStatus::Approved)
            | Status::Reply(ReplyStatus::Sending { .. }) => Outbox::Pending { retry_at: None },
            Status::Reply(ReplyStatus::Failed {
                retry_at: Some(t), ..
            }) => Outbox::Pending { retry_at: Some(*t) },
            Status::Reply(ReplyStatus::Failed { retry_at: None, .. }) => Outbox::GaveUp,
            _ => Outbox::None,
        }
    }

    /// Whether the mailer should attempt it at `now`.
    pub fn send_due(&self, now: Millis) -> bool {
        matches!(self.outbox(), Outbox::Pending { retry_at } if retry_at.is_none_or(|t| t <= now))
    }
}

/// What the business process decided for an inbound interaction (from `ProcessRan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessState {
    pub version: String,
    /// Where it ended: the queue it waits in, or would wait in if its automatic response is
    /// not sent.
    pub queue: QueueName,
    pub skills: Vec<String>,
    /// The standard response its automatic answer is made from.
    pub response: Option<uuid::Uuid>,
}

/// Where an inbound interaction's automatic answer stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AutoAnswer {
    /// The workflow asked for one; the loop policy has not decided yet.
    Planned { usage: AnswerUsage },
    /// None goes out (the reason's stable code).
    Suppressed { code: String },
    /// The answer is this outbound interaction.
    Answered {
        usage: AnswerUsage,
        reply: InteractionId,
        /// When it was decided (the loop policy's budget counts it then).
        at: Millis,
    },
}

/// One delivery status report about a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryNote {
    pub identity: String,
    pub action: String,
    pub status: Option<String>,
    pub recipient: Option<String>,
    pub at: Millis,
}

impl Interaction {
    /// The thread this interaction belongs to, for an inbound one (a reply's is its parent's).
    pub fn thread_of(&self, id: InteractionId) -> InteractionId {
        match self.kind {
            Kind::Reply { parent } => parent,
            Kind::Inbound => self.thread.unwrap_or(id),
        }
    }

    /// The thread this interaction belongs to, a reply's found through its parent's state
    /// (`parent` answers it; without it, the parent stands for its thread).
    pub fn thread_with(
        &self,
        id: InteractionId,
        parent: impl FnOnce(InteractionId) -> Option<Interaction>,
    ) -> InteractionId {
        match self.kind {
            Kind::Reply { parent: p } => parent(p).map_or(p, |state| state.thread_of(p)),
            Kind::Inbound => self.thread_of(id),
        }
    }
}

/// An inbound interaction's service level: its due times and how it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevel {
    pub queue: QueueName,
    pub first_response_due: Millis,
    pub first_response_at_risk: Millis,
    pub resolution_due: Millis,
    pub resolution_at_risk: Millis,
    pub escalate_priority: i32,
    /// When the first reply was recorded.
    pub first_response_at: Option<Millis>,
    /// When it was done.
    pub resolved_at: Option<Millis>,
    pub first_response_breached: bool,
    pub resolution_breached: bool,
}
