//! Interaction events: the public contract of what happened. Never change a released layout;
//! add a version and an upcaster in `events::upcast` instead.

use crate::domain::{AgentId, ContentRef, InteractionId, Millis, QueueName};
use serde::{Deserialize, Serialize};

/// How an inbound interaction reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    Email,
    WebForm,
}

impl Channel {
    /// The stable name used in the API: `email` or `webform`.
    pub fn name(&self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::WebForm => "webform",
        }
    }
}

/// Where a transfer sends an interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferTarget {
    /// Offered straight to a colleague, who must accept before the deadline.
    Agent { agent: AgentId, deadline: Millis },
    /// Back into a queue for routing.
    Queue { queue: QueueName },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionReceived {
    pub channel: Channel,
    pub from: String,
    pub from_name: Option<String>,
    pub subject: String,
    pub content: Option<ContentRef>,
    pub priority: i32,
    pub at: Millis,
}

/// A file of a stored message, kept in the content store by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAttachment {
    /// A safe download name.
    pub name: String,
    pub content_type: String,
    pub content_id: Option<String>,
    pub inline: bool,
    pub size: u64,
    pub content: ContentRef,
}

/// Where a fetched message came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSource {
    /// The configured mailbox name.
    pub mailbox: String,
    pub folder: String,
    pub uidvalidity: u32,
    pub uid: u32,
}

/// The content of an inbound message, stored outside the log and referenced by hash; recorded
/// with `InteractionReceived` in the same append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageStored {
    /// The Message-ID, or `sha256:` and the hash of the raw bytes.
    pub identity: String,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The message exactly as received (`message/rfc822`).
    pub raw: Option<ContentRef>,
    pub text: Option<ContentRef>,
    /// The HTML body as sent.
    pub html: Option<ContentRef>,
    /// The HTML body safe to display.
    pub html_sanitized: Option<ContentRef>,
    pub attachments: Vec<StoredAttachment>,
    pub size: u64,
    /// What could not be understood; non-empty means the message is flagged malformed.
    pub problems: Vec<String>,
    /// Sent by a machine (auto-reply, list, bulk).
    pub automated: bool,
    pub source: Option<MailSource>,
    pub at: Millis,
}

/// How an inbound message found its thread (see `mail::threading`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThreadMatch {
    /// One of our Message-IDs in its In-Reply-To or References.
    Header,
    /// A thread token in its subject, from the thread's own contact.
    Token,
    /// Nothing matched: it starts a thread.
    None,
}

impl ThreadMatch {
    /// The stable name used in the API: `header`, `token` or `none`.
    pub fn name(&self) -> &'static str {
        match self {
            ThreadMatch::Header => "header",
            ThreadMatch::Token => "token",
            ThreadMatch::None => "none",
        }
    }
}

/// The thread an inbound interaction belongs to and how that was decided; recorded in the same
/// append as its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadLinked {
    /// The thread's first interaction (the interaction itself when nothing matched).
    pub thread: InteractionId,
    pub matched_by: ThreadMatch,
    /// What matched: the Message-ID (header) or the token (token).
    pub reference: Option<String>,
    /// The interaction the match pointed at: the reply or message this one answers.
    pub answers: Option<InteractionId>,
    pub at: Millis,
}

/// A delivery status report (RFC 3464 bounce, delay or receipt) about a reply we sent, recorded
/// on that reply. The report itself is kept in the content store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReported {
    /// The report message's identity (its Message-ID or raw hash): one report is recorded once.
    pub identity: String,
    /// failed, delayed, delivered, relayed, expanded (RFC 3464), or unknown.
    pub action: String,
    /// The status code, such as `5.1.1`.
    pub status: Option<String>,
    pub recipient: Option<String>,
    /// The report as received (`message/rfc822`).
    pub raw: Option<ContentRef>,
    pub source: Option<MailSource>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionQueued {
    pub queue: QueueName,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingLocked {
    pub router: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingUnlocked {
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionOffered {
    pub agent: AgentId,
    pub deadline: Millis,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferAccepted {
    pub agent: AgentId,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferRejected {
    pub agent: AgentId,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferExpired {
    pub agent: AgentId,
    pub at: Millis,
}

/// Routing took an offer back before its deadline (the agent went not ready or logged out, or
/// stopped being an agent); the interaction waits in its queue again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferWithdrawn {
    pub agent: AgentId,
    pub reason: String,
    pub at: Millis,
}

/// Version 2 (version 1 had no note: read as an empty one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionTransferred {
    pub from_agent: AgentId,
    pub target: TransferTarget,
    /// What the agent tells whoever takes it over (empty: nothing).
    pub note: String,
    pub at: Millis,
}

/// Version 2 (version 1 had no note: read as an empty one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationStarted {
    pub owner: AgentId,
    pub consultant: AgentId,
    /// What the owner asks the consultant (empty: nothing).
    pub note: String,
    pub at: Millis,
}

/// A consultant's internal contribution: never sent to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationContributed {
    pub consultant: AgentId,
    pub text: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationEnded {
    pub consultant: AgentId,
    pub ended_by: AgentId,
    pub at: Millis,
}

/// Version 2 (version 1 had no reason: read as an empty one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedToQueue {
    pub agent: AgentId,
    pub queue: QueueName,
    /// Why the agent handed it back.
    pub reason: String,
    pub at: Millis,
}

/// On the inbound interaction: the owner released a reply (the reply is its own interaction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionReplied {
    pub agent: AgentId,
    pub reply: InteractionId,
    pub at: Millis,
}

/// Version 2 (version 1 had no disposition: read as none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionDone {
    pub by: String,
    /// How it ended, as the agent coded it (`None`: finished by a component, or recorded before
    /// dispositions).
    pub disposition: Option<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedBySupervisor {
    pub supervisor: AgentId,
    pub from_queue: Option<QueueName>,
    pub to_queue: QueueName,
    pub at: Millis,
}

/// A supervisor set or removed attributes of a waiting interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributesEdited {
    pub supervisor: AgentId,
    /// Set to these values (new or changed).
    pub set: std::collections::BTreeMap<String, String>,
    /// Removed.
    pub removed: Vec<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reprioritised {
    pub supervisor: AgentId,
    pub priority: i32,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedBySupervisor {
    pub supervisor: AgentId,
    pub agent: AgentId,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionStopped {
    pub by: String,
    pub reason: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionCategorised {
    pub category: String,
    /// Confidence in thousandths (0..=1000).
    pub confidence_permille: u16,
    pub at: Millis,
}

/// A reply interaction is created as a draft, child of an inbound interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyDrafted {
    pub parent: InteractionId,
    pub agent: AgentId,
    pub to: String,
    pub subject: String,
    /// The text (`text/plain`, UTF-8).
    pub content: Option<ContentRef>,
    /// Version 2: the HTML alternative, if the agent wrote one (version 1: none).
    pub html: Option<ContentRef>,
    pub at: Millis,
}

/// Version 2 (version 1 had no HTML: read as none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftUpdated {
    pub agent: AgentId,
    pub content: Option<ContentRef>,
    pub html: Option<ContentRef>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyReleased {
    pub agent: AgentId,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundQueued {
    pub queue: QueueName,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewStarted {
    pub reviewer: AgentId,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyApproved {
    pub reviewer: AgentId,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedForRevision {
    pub reviewer: AgentId,
    pub note: String,
    pub at: Millis,
}

/// One rule of the QA policy that asks a reviewer to read a reply, and why it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewReason {
    /// The rule: `revision`, `trainee`, `new_agent`, `sensitive_category`, `pattern`, `sample`.
    pub rule: String,
    /// As a person reads it (never the matched text itself: it may be a card number).
    pub detail: String,
}

/// The QA policy's decision on a released reply: reviewed first, or straight to the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDecided {
    pub required: bool,
    /// Every rule that asks for review (none: the reply goes straight out).
    pub reasons: Vec<ReviewReason>,
    /// The policy in force: a digest of its settings.
    pub policy: String,
    /// Where the reply waits for a reviewer (when required).
    pub queue: Option<QueueName>,
    pub at: Millis,
}

/// A reviewer changed the reply's text before approving it: the message is composed again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewEdited {
    pub reviewer: AgentId,
    pub content: Option<ContentRef>,
    pub html: Option<ContentRef>,
    /// The message composed from the edited text (same Message-ID).
    pub message: ContentRef,
    /// The change to the text, line by line (`- ` removed, `+ ` added, `  ` kept).
    pub diff: String,
    pub at: Millis,
}

/// The review passed to another reviewer (by the reviewer or a supervisor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewReassigned {
    /// The reviewer before (none: it waited or was offered).
    pub from: Option<AgentId>,
    pub to: AgentId,
    pub at: Millis,
}

/// The service level's due times, computed from the arrival in business time when the
/// interaction is first queued (recorded with `InteractionQueued`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevelSet {
    /// The queue whose targets apply.
    pub queue: QueueName,
    pub first_response_due: Millis,
    pub first_response_at_risk: Millis,
    pub resolution_due: Millis,
    pub resolution_at_risk: Millis,
    /// Added to the priority if the first response is late (0: none).
    pub escalate_priority: i32,
    pub at: Millis,
}

/// A target was missed: `first_response` (no reply by its due time) or `resolution` (not done
/// by its due time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevelBreached {
    pub target: String,
    pub due: Millis,
    /// The priority after escalation, when the breach raised it.
    pub priority: Option<i32>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingStarted {
    pub attempt: u32,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplySent {
    pub message_id: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFailed {
    pub attempt: u32,
    pub error: String,
    /// When the mailer will try again; `None` when it gave up.
    pub retry_at: Option<Millis>,
    pub at: Millis,
}

/// A screening rule that matched a message: its name, where it matched and on what text, and
/// what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreeningMatch {
    pub rule: String,
    /// `field test: found`, one per test that held.
    pub evidence: Vec<String>,
    /// What the rule does, as a person reads it (`stop (spam)`, `priority 10`).
    pub actions: Vec<String>,
}

/// The workflow's screening step on a new inbound interaction: which version of the rules ran,
/// what matched, the detected language, and the priority and attributes the rules set. (A stop,
/// a category, a queue are recorded by their own events in the same append.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionScreened {
    /// The screening configuration in force (a digest of the rules and categories).
    pub version: String,
    pub matched: Vec<ScreeningMatch>,
    /// ISO 639-3, such as `eng`, when detected.
    pub language: Option<String>,
    pub priority: Option<i32>,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub at: Millis,
}

/// Why routing offered an interaction to an agent (recorded with the offer): how many agents were
/// eligible, the chosen one's rank among them and the rule that decided, and the skills asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferExplained {
    pub agent: AgentId,
    pub eligible: u32,
    pub rank: u32,
    /// As a person reads it: `highest skill level`, `least load`, `longest idle`, …
    pub rule: String,
    pub skills: Vec<String>,
    pub at: Millis,
}

/// One step of the business process as it ran on an interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// The queue whose strategy holds the step.
    pub queue: QueueName,
    /// Its place in that strategy, from 0.
    pub index: u16,
    /// `screen`, `categorise`, `auto_respond`, `acknowledge`, `set`, `move`, `route` or `stop`.
    pub step: String,
    /// What it did, as a person reads it.
    pub outcome: String,
}

/// The business process ran on a new inbound interaction (recorded with its receipt, after the
/// screening and categorisation it ran): the version in force, every step's outcome in order,
/// and where it ended. The queue, a stop and an automatic answer's plan are recorded by their
/// own events in the same append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRan {
    /// The process version in force (a digest of its configuration).
    pub version: String,
    pub steps: Vec<StepOutcome>,
    /// The queue it ended in (where it waits for routing, unless it was stopped or answered).
    pub queue: QueueName,
    /// What an agent must offer to be given it (the `route` step's skills).
    pub skills: Vec<String>,
    /// Set by `set` steps (after screening's).
    pub priority: Option<i32>,
    pub attributes: std::collections::BTreeMap<String, String>,
    /// The standard response an `auto_respond` step chose to answer it with.
    pub response: Option<uuid::Uuid>,
    pub at: Millis,
}

/// What kind of automatic answer (the usage of the standard response it is made from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnswerUsage {
    /// "We have your message": sent to every customer message the loop policy allows.
    Acknowledgement,
    /// An answer that settles the matter without an agent.
    AutomaticResponse,
}

impl AnswerUsage {
    /// The stable name used in the API: `acknowledgement` or `automatic_response`.
    pub fn name(&self) -> &'static str {
        match self {
            AnswerUsage::Acknowledgement => "acknowledgement",
            AnswerUsage::AutomaticResponse => "automatic_response",
        }
    }
}

/// On an inbound interaction: the workflow will answer it automatically, if the loop policy
/// allows (decided later, by the answering process, and recorded as one of the two events
/// below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoAnswerPlanned {
    pub usage: AnswerUsage,
    pub at: Millis,
}

/// On an inbound interaction: no automatic answer goes out, and why (`code` is stable, such as
/// `auto_submitted` or `too_many`; `reason` is the sentence a person reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoAnswerSuppressed {
    pub code: String,
    pub reason: String,
    pub at: Millis,
}

/// On an inbound interaction: its automatic answer is the outbound interaction `reply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoAnswered {
    pub reply: InteractionId,
    pub usage: AnswerUsage,
    pub at: Millis,
}

/// An agent's reply, released: the message is composed in full from the draft (the bytes the
/// customer receives, in the content store) and its Message-ID fixed before the first attempt;
/// recorded with `ReplyReleased` and `OutboundQueued` in one append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyComposed {
    /// The message as sent (`message/rfc822`).
    pub message: ContentRef,
    /// Its Message-ID, without angle brackets.
    pub message_id: String,
    pub at: Millis,
}

/// Starts an outbound interaction written by the system (an automatic answer): the message is
/// composed in full (the bytes the customer receives, in the content store) and its Message-ID
/// fixed before the first attempt; it waits in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerComposed {
    pub parent: InteractionId,
    pub usage: AnswerUsage,
    /// The recipient's address.
    pub to: String,
    pub subject: String,
    /// The message as sent (`message/rfc822`).
    pub message: ContentRef,
    /// Its Message-ID, without angle brackets.
    pub message_id: String,
    pub at: Millis,
}

/// The events whose current layout is not their first, with its version (every other is at 1).
/// Each earlier version keeps decoding through its upcaster in `events::upcast`.
pub const LATER_VERSIONS: &[(&str, u16)] = &[
    ("InteractionTransferred", 2),
    ("ConsultationStarted", 2),
    ("ReturnedToQueue", 2),
    ("InteractionDone", 2),
    ("ReplyDrafted", 2),
    ("DraftUpdated", 2),
];

/// The schema version of the current layout of the event type `t`.
pub fn current_version(t: &str) -> u16 {
    LATER_VERSIONS
        .iter()
        .find(|(name, _)| *name == t)
        .map_or(1, |(_, v)| *v)
}

macro_rules! interaction_events {
    ($($variant:ident),* $(,)?) => {
        /// Everything that can happen to an interaction.
        // Events are transient values handled one at a time (the cache keeps states, not
        // events), so the size of the largest variant costs nothing worth a box.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub enum InteractionEvent {
            $($variant($variant),)*
        }

        impl InteractionEvent {
            /// The stable type name written in the envelope.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(InteractionEvent::$variant(_) => stringify!($variant),)*
                }
            }
            /// The schema version of this event's current layout.
            pub fn event_version(&self) -> u16 {
                current_version(self.event_type())
            }
            /// Every type name this aggregate records.
            pub const TYPES: &'static [&'static str] = &[$(stringify!($variant)),*];

            /// When the event happened in the domain (the time carried by its command).
            pub fn at(&self) -> Millis {
                match self {
                    $(InteractionEvent::$variant(e) => e.at,)*
                }
            }
        }

        $(impl From<$variant> for InteractionEvent {
            fn from(e: $variant) -> Self {
                InteractionEvent::$variant(e)
            }
        })*
    };
}

/// Calls `$callback!(A, B, …)` with every interaction event type: the one list of them, shared by
/// the enum here and the payload codec in `events::upcast`.
macro_rules! for_each_interaction_event {
    ($callback:ident) => {
        $callback!(
            InteractionReceived,
            InteractionQueued,
            RoutingLocked,
            RoutingUnlocked,
            InteractionOffered,
            OfferAccepted,
            OfferRejected,
            OfferExpired,
            InteractionTransferred,
            ConsultationStarted,
            ConsultationEnded,
            ReturnedToQueue,
            InteractionReplied,
            InteractionDone,
            MovedBySupervisor,
            Reprioritised,
            AssignedBySupervisor,
            InteractionStopped,
            InteractionCategorised,
            ReplyDrafted,
            DraftUpdated,
            ReplyReleased,
            OutboundQueued,
            ReviewStarted,
            ReplyApproved,
            ReturnedForRevision,
            SendingStarted,
            ReplySent,
            SendFailed,
            MessageStored,
            ThreadLinked,
            DeliveryReported,
            AutoAnswerPlanned,
            AutoAnswerSuppressed,
            AutoAnswered,
            AnswerComposed,
            InteractionScreened,
            ProcessRan,
            OfferExplained,
            OfferWithdrawn,
            ConsultationContributed,
            ReplyComposed,
            AttributesEdited,
            ReviewDecided,
            ReviewEdited,
            ReviewReassigned,
            ServiceLevelSet,
            ServiceLevelBreached,
        );
    };
}
pub(crate) use for_each_interaction_event;

for_each_interaction_event!(interaction_events);
