//! JSON shapes of the API's answers.

use crate::domain::interaction::{AutoAnswer, Interaction, Kind, Status, ThreadMatch};
use crate::domain::interaction::{InboundStatus, ReplyStatus};
use crate::domain::{InteractionId, Millis};
use crate::events::export::format_micros;
use serde::Serialize;
use utoipa::ToSchema;

pub fn rfc3339_millis(m: Millis) -> String {
    format_micros(m.0.saturating_mul(1000))
}

/// An interaction's operational data, as cached.
#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionView {
    pub id: String,
    /// `inbound` or `reply`.
    pub kind: &'static str,
    /// For a reply: the inbound interaction it answers.
    pub parent: Option<String>,
    /// received, queued, locked, offered, assigned, replied, done, stopped, draft, released,
    /// outbound_queued, in_review, approved, sending, sent, failed.
    pub status: &'static str,
    /// Routing holds it (locked or offered): supervisors must wait.
    pub locked: bool,
    pub locked_by: Option<String>,
    pub offered_to: Option<String>,
    pub offer_deadline: Option<String>,
    pub stop_reason: Option<String>,
    pub reviewer: Option<String>,
    pub queue: Option<String>,
    pub owner: Option<String>,
    pub consultants: Vec<String>,
    pub priority: i32,
    /// The latest category recorded (the classifier's best, a rule's, or a correction).
    pub category: Option<String>,
    /// Every category recorded, with its confidence (0 to 1), in the order recorded.
    pub categories: Vec<CategoryView>,
    /// Inbound: the detected language (ISO 639-3, such as `eng`, `deu`).
    pub language: Option<String>,
    /// Attributes set by screening rules and the process's `set` steps.
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Inbound: the screening version that ran on it (null: not screened).
    pub screened: Option<String>,
    /// Inbound: the business process version that ran on it (null: none ran, such as for a
    /// customer's reply joining its thread, or a message recorded before processes were).
    pub process: Option<String>,
    /// Inbound: the skills an agent needs to be given it (the process's `route` step).
    pub skills: Vec<String>,
    /// `email` or `webform` (inbound only).
    pub channel: Option<&'static str>,
    /// Inbound: the customer's address. Reply: the recipient.
    pub from: String,
    pub from_name: Option<String>,
    pub subject: String,
    /// SHA-256 of the body in the content store.
    pub content_ref: Option<String>,
    pub replies: Vec<String>,
    /// The thread: its first interaction (this one's own id when it starts the thread; a
    /// reply's is its parent's).
    pub thread: String,
    /// The token our replies carry in their subject, such as `K7F3Q` (shown as `[#K7F3Q]`).
    pub thread_token: String,
    /// Inbound: how its thread was found: `header`, `token` or `none` (null for a reply).
    pub thread_match: Option<&'static str>,
    /// Inbound e-mail: its Message-ID.
    pub message_id: Option<String>,
    /// Reply: delivery status reports received about it, oldest first.
    pub delivery: Vec<DeliveryView>,
    /// Reply: send attempts so far.
    pub attempts: u32,
    /// Reply: when the outbox tries again after a temporary failure.
    pub next_attempt: Option<String>,
    /// Reply: why the last attempt failed.
    pub last_error: Option<String>,
    /// Reply: SHA-256 of the composed message (the bytes sent) in the content store.
    pub message_ref: Option<String>,
    /// Inbound: its automatic answer: planned, suppressed (with the loop policy's reason code)
    /// or answered (with the reply).
    pub auto_answer: Option<AutoAnswerView>,
    pub revisions: u32,
    pub created_at: String,
    pub updated_at: String,
    /// The stream version: the number of events so far.
    pub version: u64,
}

impl InteractionView {
    /// The view of `s`, in `thread` (see `Projections::thread_of`: a reply's stream names only
    /// its parent, whose thread may have begun earlier).
    pub fn new(id: InteractionId, s: &Interaction, thread: InteractionId) -> Self {
        let (locked_by, offered_to, offer_deadline, stop_reason, reviewer) = match &s.status {
            Status::Inbound(InboundStatus::Locked { router }) => {
                (Some(router.clone()), None, None, None, None)
            }
            Status::Inbound(InboundStatus::Offered { agent, deadline }) => (
                Some("routing".to_string()),
                Some(agent.to_string()),
                Some(rfc3339_millis(*deadline)),
                None,
                None,
            ),
            Status::Stopped { reason } => (None, None, None, Some(reason.clone()), None),
            Status::Reply(ReplyStatus::InReview { reviewer }) => {
                (None, None, None, None, Some(reviewer.to_string()))
            }
            _ => (None, None, None, None, None),
        };
        InteractionView {
            id: id.to_string(),
            kind: match s.kind {
                Kind::Inbound => "inbound",
                Kind::Reply { .. } => "reply",
            },
            parent: match &s.kind {
                Kind::Reply { parent } => Some(parent.to_string()),
                Kind::Inbound => None,
            },
            status: s.status.name(),
            locked: s.status.is_locked_by_routing(),
            locked_by,
            offered_to,
            offer_deadline,
            stop_reason,
            reviewer,
            queue: s.queue.as_ref().map(|q| q.to_string()),
            owner: s.owner.as_ref().map(|o| o.to_string()),
            consultants: s.consultants.iter().map(|c| c.to_string()).collect(),
            priority: s.priority,
            category: s.category.clone(),
            categories: s
                .categories
                .iter()
                .map(|(c, p)| CategoryView {
                    category: c.clone(),
                    confidence: f64::from(*p) / 1000.0,
                })
                .collect(),
            language: s.language.clone(),
            attributes: s.attributes.clone(),
            screened: s.screened.clone(),
            process: s.process.as_ref().map(|p| p.version.clone()),
            skills: s
                .process
                .as_ref()
                .map(|p| p.skills.clone())
                .unwrap_or_default(),
            channel: s.channel.map(|c| c.name()),
            from: s.from.clone(),
            from_name: s.from_name.clone(),
            subject: s.subject.clone(),
            content_ref: s.content.as_ref().map(|c| c.to_hex()),
            replies: s.replies.iter().map(|r| r.to_string()).collect(),
            thread: thread.to_string(),
            thread_token: crate::domain::threading::thread_token(thread),
            thread_match: thread_match(s),
            message_id: s.message_id.clone(),
            delivery: s
                .delivery
                .iter()
                .map(|d| DeliveryView {
                    action: d.action.clone(),
                    status: d.status.clone(),
                    recipient: d.recipient.clone(),
                    at: rfc3339_millis(d.at),
                })
                .collect(),
            attempts: s.attempts,
            next_attempt: match &s.status {
                Status::Reply(ReplyStatus::Failed {
                    retry_at: Some(t), ..
                }) => Some(rfc3339_millis(*t)),
                _ => None,
            },
            last_error: s.last_error.clone(),
            message_ref: s.outbound.as_ref().map(|c| c.to_hex()),
            auto_answer: s.auto_answer.as_ref().map(AutoAnswerView::new),
            revisions: s.revisions,
            created_at: rfc3339_millis(s.created_at),
            updated_at: rfc3339_millis(s.updated_at),
            version: s.version,
        }
    }
}

/// A category with its confidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub category: String,
    /// 0 to 1 (1: set by a rule or a person).
    pub confidence: f64,
}

/// An inbound interaction's automatic answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AutoAnswerView {
    /// `planned`, `suppressed` or `answered`.
    pub status: &'static str,
    /// `acknowledgement` or `automatic_response` (planned or answered).
    pub usage: Option<&'static str>,
    /// Suppressed: the loop policy's reason, such as `auto_submitted`, `mailing_list`,
    /// `too_many` (the history has the sentence).
    pub code: Option<String>,
    /// Answered: the outbound interaction holding the answer.
    pub reply: Option<String>,
}

impl AutoAnswerView {
    fn new(a: &AutoAnswer) -> Self {
        match a {
            AutoAnswer::Planned { usage } => AutoAnswerView {
                status: "planned",
                usage: Some(usage.name()),
                code: None,
                reply: None,
            },
            AutoAnswer::Suppressed { code } => AutoAnswerView {
                status: "suppressed",
                usage: None,
                code: Some(code.clone()),
                reply: None,
            },
            AutoAnswer::Answered { usage, reply, .. } => AutoAnswerView {
                status: "answered",
                usage: Some(usage.name()),
                code: None,
                reply: Some(reply.to_string()),
            },
        }
    }
}

/// How an inbound interaction joined its thread; one without a recorded link started its own.
pub fn thread_match(s: &Interaction) -> Option<&'static str> {
    match s.kind {
        Kind::Reply { .. } => None,
        Kind::Inbound => Some(s.thread_match.unwrap_or(ThreadMatch::None).name()),
    }
}

/// A delivery status report about a reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// failed, delayed, delivered, relayed, expanded or unknown.
    pub action: String,
    /// Such as `5.1.1`.
    pub status: Option<String>,
    pub recipient: Option<String>,
    pub at: String,
}

/// The interactions of one thread, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadView {
    pub thread: String,
    pub thread_token: String,
    pub interactions: Vec<InteractionView>,
}

/// One step of an interaction's history: the event with its envelope, and the state after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// The interaction the event is of (one of the thread's).
    pub interaction_id: String,
    /// The envelope (position, version, id, recorded_at, principal, correlation and causation
    /// ids, type, schema_version, payload, hashes) with the decoded event under `data`.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
    pub state: InteractionView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub interaction_id: String,
    /// The thread's first interaction: the events are the whole thread's.
    pub thread_id: String,
    /// The version the state is given at (the latest unless `?version=` or `?at=` asked for
    /// another).
    pub version: u64,
    /// The interaction's state as of `version`.
    pub state: InteractionView,
    /// Every event of the thread up to then, in log order, each with its interaction's state
    /// after it.
    pub events: Vec<HistoryEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueSummary {
    pub name: String,
    pub depth: usize,
    /// Declared in the workflow configuration (false: only seen in the log).
    pub configured: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    /// 1 is next for routing.
    pub rank: usize,
    pub interaction_id: String,
    pub priority: i32,
    pub waiting_since: String,
    pub status: &'static str,
    pub locked: bool,
    pub from: String,
    pub subject: String,
    /// Its service level, when its queue has one.
    pub service_level: Option<ServiceLevelView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    pub name: String,
    pub depth: usize,
    /// Of all it holds: how many are at risk of missing a service-level target, and how many
    /// missed one.
    pub at_risk: usize,
    pub breached: usize,
    /// In routing order: priority (highest first), then age (oldest first).
    pub items: Vec<QueueItem>,
}

/// An interaction's service level: its due times and where each target stands now (`ok`,
/// `at_risk`, `breached`, `met`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceLevelView {
    pub queue: String,
    pub first_response_due: String,
    pub first_response: &'static str,
    pub resolution_due: String,
    pub resolution: &'static str,
    /// The worse of the two while open: what a queue view counts.
    pub standing: &'static str,
}

impl ServiceLevelView {
    pub fn of(sla: &crate::domain::interaction::ServiceLevel, now: Millis) -> ServiceLevelView {
        let (first, resolution, standing) = crate::domain::service_level::standings(sla, now);
        ServiceLevelView {
            queue: sla.queue.to_string(),
            first_response_due: rfc3339_millis(sla.first_response_due),
            first_response: first.name(),
            resolution_due: rfc3339_millis(sla.resolution_due),
            resolution: resolution.name(),
            standing: standing.name(),
        }
    }
}

/// A queue's service level now and over a window.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueServiceLevel {
    pub queue: String,
    /// The targets in force (none: the queue has none).
    pub targets: Option<TargetsView>,
    /// Waiting in the queue now, and of those at risk and breached.
    pub waiting: usize,
    pub at_risk: usize,
    pub breached: usize,
    /// The oldest waiting interaction.
    pub oldest_waiting: Option<OldestWaiting>,
    /// The window the answers are counted over, ending now.
    pub window_secs: u64,
    /// First responses made in the window, and of those in time.
    pub answered: usize,
    pub answered_within_target: usize,
    /// `answered_within_target` of `answered`, in percent (none: nothing answered).
    pub percent_within_target: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetsView {
    pub first_response_secs: u64,
    pub resolution_secs: u64,
    pub at_risk_percent: u8,
    pub escalate_priority: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OldestWaiting {
    pub interaction_id: String,
    pub waiting_since: String,
    pub waited_secs: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Events in position order, each as in `postroom audit export`.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
    /// Pass as `after` for the next page; null when the log has been read to its head.
    pub next_after: Option<u64>,
    /// The log's durable head when the page was read.
    pub head: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub interaction_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    pub name: String,
    pub role: &'static str,
    /// The bearer token: shown once, stored only as a digest.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Readiness. Anyone learns whether the server is ready and, if not, why in one word; the details
/// are for a caller with a bearer token (any role).
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
    /// When not ready, the first cause in one word.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, nullable = false)]
    pub reason: Option<NotReadyReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub details: Option<ReadinessDetails>,
}

impl From<crate::projections::outgoing::OutboxSummary> for OutboxReadiness {
    fn from(o: crate::projections::outgoing::OutboxSummary) -> Self {
        OutboxReadiness {
            pending: o.pending,
            retrying: o.retrying,
            failed: o.failed,
            answers_to_decide: o.answers_to_decide,
        }
    }
}

/// The outbox as `/readyz` shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxReadiness {
    /// Outbound messages waiting for their first or next attempt.
    pub pending: usize,
    /// Of those, how many failed before and wait for a retry.
    pub retrying: usize,
    /// Messages the mailer gave up on (a permanent failure or too many attempts).
    pub failed: usize,
    /// Automatic answers planned and not yet decided by the loop policy.
    pub answers_to_decide: usize,
}

/// Why the server is not ready, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotReadyReason {
    /// The event log cannot be written.
    Log,
    /// The projections are far behind the log.
    Projections,
    /// A mailbox cannot do its work (a refused login, a missing folder, a folder it cannot move
    /// messages to).
    Mailbox,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessDetails {
    pub log_head: u64,
    pub projections_checkpoint: u64,
    /// Events written but not yet in the projections.
    pub projections_lag: u64,
    /// `snapshot` or `rebuilt`: how the projections were loaded at start.
    pub projections_start: &'static str,
    pub active_actors: usize,
    pub interactions: usize,
    /// Each IMAP mailbox's ingest: state (connecting, ok, error), last error, counts, and
    /// whether it is ready (not when its last error is permanent or it cannot move).
    #[schema(value_type = Object)]
    pub mailboxes: std::collections::HashMap<String, crate::mail::imap::MailboxStatus>,
    /// Why the server is not ready, one line per cause (`mailbox NAME: reason` for a mailbox).
    pub not_ready: Vec<String>,
    /// Whether postroom sends mail (acknowledgements, answers): only with `[smtp]` configured.
    pub sending: bool,
    /// What the server does not do in this configuration and why (such as sending nothing
    /// without `[smtp]`); not causes of unreadiness.
    pub notes: Vec<String>,
    pub outbox: OutboxReadiness,
}
