//! Interaction commands: what someone asks to happen. Each carries its time and ids.

use super::event::{
    AnswerUsage, Channel, DeliveryReported, InteractionScreened, MessageStored, OfferExplained,
    ProcessRan, ReviewDecided, ServiceLevelSet, ThreadMatch, TransferTarget,
};
use crate::domain::{AgentId, ContentRef, EmailAddress, InteractionId, Millis, QueueName};

/// Who finishes an interaction: the agent working it, or a component (auto-response, screening).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Agent(AgentId),
    System(String),
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::Agent(a) => format!("user:{a}"),
            Actor::System(c) => format!("system:{c}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InteractionCommand {
    // Inbound lifecycle.
    Receive {
        channel: Channel,
        from: EmailAddress,
        from_name: Option<String>,
        subject: String,
        content: Option<ContentRef>,
        priority: i32,
        /// The stored message, recorded in the same append (e-mail; web forms with files).
        message: Option<Box<MessageStored>>,
        /// Which thread it belongs to and how that was found (recorded in the same append).
        thread: Option<ThreadLink>,
        at: Millis,
    },
    Enqueue {
        queue: QueueName,
        /// The queue's service level, when it has one (first queueing only).
        due: Option<Box<ServiceLevelSet>>,
        at: Millis,
    },
    /// A service-level target passed its due time unmet.
    RecordBreach {
        target: SlaTarget,
        at: Millis,
    },
    LockForRouting {
        router: String,
        at: Millis,
    },
    UnlockRouting {
        at: Millis,
    },
    /// Offers the work to `agent` until `deadline`, with routing's reasons recorded in the same
    /// append (so nobody sees an offer whose explanation is still to come).
    Offer {
        agent: AgentId,
        deadline: Millis,
        at: Millis,
        explained: Option<Box<OfferExplained>>,
    },
    AcceptOffer {
        agent: AgentId,
        at: Millis,
    },
    RejectOffer {
        agent: AgentId,
        at: Millis,
    },
    ExpireOffer {
        at: Millis,
    },
    /// Routing takes an offer back (its agent can no longer take it).
    WithdrawOffer {
        reason: String,
        at: Millis,
    },
    Transfer {
        agent: AgentId,
        target: TransferTarget,
        note: String,
        at: Millis,
    },
    StartConsultation {
        agent: AgentId,
        consultant: AgentId,
        note: String,
        at: Millis,
    },
    /// A consultant adds an internal contribution.
    Contribute {
        consultant: AgentId,
        text: String,
        at: Millis,
    },
    EndConsultation {
        agent: AgentId,
        consultant: AgentId,
        at: Millis,
    },
    ReturnToQueue {
        agent: AgentId,
        queue: Option<QueueName>,
        reason: String,
        at: Millis,
    },
    RecordReply {
        agent: AgentId,
        reply: InteractionId,
        at: Millis,
    },
    MarkDone {
        by: Actor,
        /// How it ended (an agent must give one; a component gives none).
        disposition: Option<String>,
        at: Millis,
    },
    Categorise {
        category: String,
        confidence_permille: u16,
        at: Millis,
    },
    // Supervisor intervention (ad hoc management).
    SupervisorMove {
        supervisor: AgentId,
        queue: QueueName,
        at: Millis,
    },
    SupervisorReprioritise {
        supervisor: AgentId,
        priority: i32,
        at: Millis,
    },
    SupervisorAssign {
        supervisor: AgentId,
        agent: AgentId,
        at: Millis,
    },
    /// Sets (`Some`) or removes (`None`) attributes.
    EditAttributes {
        supervisor: AgentId,
        changes: std::collections::BTreeMap<String, Option<String>>,
        at: Millis,
    },
    /// Stop processing: by a supervisor (`user:NAME`) or a component (`system:screening`).
    Stop {
        by: String,
        reason: String,
        at: Millis,
    },
    // Reply lifecycle.
    DraftReply {
        parent: InteractionId,
        agent: AgentId,
        to: EmailAddress,
        subject: String,
        content: Option<ContentRef>,
        html: Option<ContentRef>,
        at: Millis,
    },
    UpdateDraft {
        agent: AgentId,
        content: Option<ContentRef>,
        html: Option<ContentRef>,
        at: Millis,
    },
    /// The author releases their draft with the message composed from it: it goes straight to
    /// the outbound queue `queue` and the outbox.
    SendReply {
        agent: AgentId,
        queue: QueueName,
        message: ContentRef,
        message_id: String,
        /// The QA policy's decision (`at` the release's time): reviewed first, or sent.
        review: Box<ReviewDecided>,
        at: Millis,
    },
    ReleaseReply {
        agent: AgentId,
        at: Millis,
    },
    QueueOutbound {
        queue: QueueName,
        at: Millis,
    },
    StartReview {
        reviewer: AgentId,
        at: Millis,
    },
    ApproveReply {
        reviewer: AgentId,
        at: Millis,
    },
    ReturnForRevision {
        reviewer: AgentId,
        note: String,
        at: Millis,
    },
    /// The reviewer changes the text (the message composed again) and approves it.
    EditAndApprove {
        reviewer: AgentId,
        content: Option<ContentRef>,
        html: Option<ContentRef>,
        message: ContentRef,
        diff: String,
        at: Millis,
    },
    /// The review goes to `to`: by its reviewer (`by`), or by a supervisor (`by` none).
    ReassignReview {
        to: AgentId,
        by: Option<AgentId>,
        at: Millis,
    },
    StartSending {
        at: Millis,
    },
    MarkSent {
        message_id: String,
        at: Millis,
    },
    MarkSendFailed {
        error: String,
        retry_at: Option<Millis>,
        at: Millis,
    },
    /// A delivery status report about this reply arrived (a bounce, a delay, a receipt).
    RecordDeliveryReport {
        report: Box<DeliveryReported>,
    },
    /// The workflow's screening of a new inbound interaction.
    Screen {
        screened: Box<InteractionScreened>,
    },
    /// The business process's record of how it ran on a new inbound interaction.
    RunProcess {
        ran: Box<ProcessRan>,
    },
    // Automatic answers.
    /// On an inbound interaction: answer it automatically if the loop policy allows.
    PlanAutoAnswer {
        usage: AnswerUsage,
        at: Millis,
    },
    /// On an inbound interaction: the loop policy refused the planned answer.
    SuppressAutoAnswer {
        code: String,
        reason: String,
        at: Millis,
    },
    /// On an inbound interaction: its planned answer is the outbound interaction `reply`.
    RecordAutoAnswer {
        reply: InteractionId,
        usage: AnswerUsage,
        at: Millis,
    },
    /// Starts an outbound interaction holding a composed automatic answer to `parent`.
    ComposeAnswer {
        parent: InteractionId,
        usage: AnswerUsage,
        to: EmailAddress,
        subject: String,
        message: ContentRef,
        message_id: String,
        at: Millis,
    },
}

/// The thread an inbound interaction joins, as found by `mail::threading`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadLink {
    pub thread: InteractionId,
    pub matched_by: ThreadMatch,
    pub reference: Option<String>,
    pub answers: Option<InteractionId>,
}

impl ThreadLink {
    /// The link if something matched (`None` when the interaction starts its own thread).
    pub fn into_matched(self) -> Option<ThreadLink> {
        (self.matched_by != ThreadMatch::None).then_some(self)
    }
}

impl InteractionCommand {
    /// The command's name, for rejections and logs.
    pub fn name(&self) -> &'static str {
        use InteractionCommand::*;
        match self {
            Receive { .. } => "receive",
            Enqueue { .. } => "enqueue",
            RecordBreach { .. } => "record_breach",
            LockForRouting { .. } => "lock_for_routing",
            UnlockRouting { .. } => "unlock_routing",
            Offer { .. } => "offer",
            AcceptOffer { .. } => "accept_offer",
            RejectOffer { .. } => "reject_offer",
            ExpireOffer { .. } => "expire_offer",
            WithdrawOffer { .. } => "withdraw_offer",
            Transfer { .. } => "transfer",
            StartConsultation { .. } => "start_consultation",
            Contribute { .. } => "contribute",
            EndConsultation { .. } => "end_consultation",
            ReturnToQueue { .. } => "return_to_queue",
            RecordReply { .. } => "record_reply",
            MarkDone { .. } => "mark_done",
            Categorise { .. } => "categorise",
            SupervisorMove { .. } => "supervisor_move",
            SupervisorReprioritise { .. } => "supervisor_reprioritise",
            SupervisorAssign { .. } => "supervisor_assign",
            EditAttributes { .. } => "edit_attributes",
            Stop { .. } => "stop",
            DraftReply { .. } => "draft_reply",
            UpdateDraft { .. } => "update_draft",
            ReleaseReply { .. } => "release_reply",
            SendReply { .. } => "send_reply",
            QueueOutbound { .. } => "queue_outbound",
            StartReview { .. } => "start_review",
            ApproveReply { .. } => "approve_reply",
            ReturnForRevision { .. } => "return_for_revision",
            EditAndApprove { .. } => "edit_and_approve",
            ReassignReview { .. } => "reassign_review",
            StartSending { .. } => "start_sending",
            MarkSent { .. } => "mark_sent",
            MarkSendFailed { .. } => "mark_send_failed",
            RecordDeliveryReport { .. } => "record_delivery_report",
            Screen { .. } => "screen",
            RunProcess { .. } => "run_process",
            PlanAutoAnswer { .. } => "plan_auto_answer",
            SuppressAutoAnswer { .. } => "suppress_auto_answer",
            RecordAutoAnswer { .. } => "record_auto_answer",
            ComposeAnswer { .. } => "compose_answer",
        }
    }
}

/// A service-level target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaTarget {
    FirstResponse,
    Resolution,
}

impl SlaTarget {
    pub fn name(&self) -> &'static str {
        match self {
            SlaTarget::FirstResponse => "first_response",
            SlaTarget::Resolution => "resolution",
        }
    }
}
