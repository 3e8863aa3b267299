//! Given/when/then tests for the interaction decider.

use super::*;
use crate::domain::{AgentId, ContentRef, EmailAddress, InteractionId, Millis, QueueName};

// ---------------------------------------------------------------------------------------------
// The harness: given a history, when a command, then these events (or this rejection).
// ---------------------------------------------------------------------------------------------

/// A history folded through `evolve`, waiting for the command under test.
struct Spec {
    state: Interaction,
}

impl Spec {
    fn given(history: Vec<InteractionEvent>) -> Spec {
        Spec {
            state: history.iter().fold(Interaction::default(), evolve),
        }
    }

    fn when(self, command: InteractionCommand) -> Decision {
        let result = decide(&self.state, &command);
        Decision {
            state: self.state,
            command,
            result,
        }
    }
}

/// What `decide` answered, with what it was asked, so a failure names both.
struct Decision {
    state: Interaction,
    command: InteractionCommand,
    result: Result<Vec<InteractionEvent>, Rejection>,
}

impl Decision {
    /// Asserts the command was accepted with exactly `expected`, and returns the state after them
    /// so a test can check what `evolve` made of them.
    #[track_caller]
    fn then(self, expected: Vec<InteractionEvent>) -> Interaction {
        let context = self.context();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "{context}");
                events.iter().fold(self.state, evolve)
            }
            Err(rejection) => panic!("{context}: expected events, was refused with {rejection:?}"),
        }
    }

    /// Asserts the command was refused with exactly `expected`.
    #[track_caller]
    fn then_reject(self, expected: Rejection) {
        let context = self.context();
        assert_eq!(self.result, Err(expected), "{context}");
    }

    fn context(&self) -> String {
        let kind = if self.state.is_reply() {
            "reply"
        } else {
            "inbound"
        };
        format!(
            "{} on a {kind} interaction that is {}",
            self.command.name(),
            self.state.status.name()
        )
    }
}

/// Runs commands one after the other from a new stream, as the shell would: each must be
/// accepted. Answers the final state and the type of every event recorded.
#[track_caller]
fn play(commands: Vec<InteractionCommand>) -> (Interaction, Vec<&'static str>) {
    let mut state = Interaction::default();
    let mut types = Vec::new();
    for command in commands {
        let events = decide(&state, &command).unwrap_or_else(|r| {
            panic!(
                "{} refused while {}: {r:?}",
                command.name(),
                state.status.name()
            )
        });
        for event in &events {
            types.push(event.event_type());
            state = evolve(state, event);
        }
    }
    (state, types)
}

// ---------------------------------------------------------------------------------------------
// Values and times. Fixed so every test is deterministic.
// ---------------------------------------------------------------------------------------------

const RECEIVED_AT: Millis = Millis(1_000);
const QUEUED_AT: Millis = Millis(2_000);
const LOCKED_AT: Millis = Millis(3_000);
const OFFERED_AT: Millis = Millis(4_000);
const ACCEPTED_AT: Millis = Millis(5_000);
const CONSULTED_AT: Millis = Millis(6_000);
const REPLIED_AT: Millis = Millis(7_000);
const DONE_AT: Millis = Millis(8_000);
const STOPPED_AT: Millis = Millis(9_000);

const DRAFTED_AT: Millis = Millis(11_000);
const RELEASED_AT: Millis = Millis(12_000);
const OUTBOUND_AT: Millis = Millis(13_000);
const REVIEW_AT: Millis = Millis(14_000);
const APPROVED_AT: Millis = Millis(15_000);
const SENDING_AT: Millis = Millis(16_000);
const SENT_AT: Millis = Millis(17_000);
const FAILED_AT: Millis = Millis(17_000);
const RETRY_AT: Millis = Millis(30_000);

/// When the command under test happens: later than every history above.
const NOW: Millis = Millis(50_000);
/// The deadline of the offers in the histories, later than `NOW`.
const DEADLINE: Millis = Millis(60_000);

const PRIORITY: i32 = 5;
const MESSAGE_ID: &str = "<reply-1@postroom.example>";

fn agent(name: &str) -> AgentId {
    AgentId::parse(name).expect("test agent names are valid")
}

fn queue(name: &str) -> QueueName {
    QueueName::parse(name).expect("test queue names are valid")
}

fn customer() -> EmailAddress {
    EmailAddress::parse("carol@example.com").expect("the test address is valid")
}

fn parent_id() -> InteractionId {
    InteractionId::from_uuid(uuid::Uuid::from_u128(1))
}

fn reply_id(n: u128) -> InteractionId {
    InteractionId::from_uuid(uuid::Uuid::from_u128(100 + n))
}

fn body(n: u8) -> Option<ContentRef> {
    Some(ContentRef([n; 32]))
}

/// Appends one event to a history.
fn and(
    mut history: Vec<InteractionEvent>,
    event: impl Into<InteractionEvent>,
) -> Vec<InteractionEvent> {
    history.push(event.into());
    history
}

// ---------------------------------------------------------------------------------------------
// Histories of an inbound interaction.
// ---------------------------------------------------------------------------------------------

fn received() -> Vec<InteractionEvent> {
    vec![InteractionReceived {
        channel: Channel::Email,
        from: "carol@example.com".into(),
        from_name: Some("Carol Customer".into()),
        subject: "Where is my parcel?".into(),
        content: body(1),
        priority: PRIORITY,
        at: RECEIVED_AT,
    }
    .into()]
}

fn queued(name: &str) -> Vec<InteractionEvent> {
    and(
        received(),
        InteractionQueued {
            queue: queue(name),
            at: QUEUED_AT,
        },
    )
}

fn locked() -> Vec<InteractionEvent> {
    and(
        queued("inbound"),
        RoutingLocked {
            router: "router".into(),
            at: LOCKED_AT,
        },
    )
}

fn offered_to(name: &str, deadline: Millis) -> Vec<InteractionEvent> {
    and(
        locked(),
        InteractionOffered {
            agent: agent(name),
            deadline,
            at: OFFERED_AT,
        },
    )
}

fn assigned_to(name: &str) -> Vec<InteractionEvent> {
    and(
        offered_to(name, DEADLINE),
        OfferAccepted {
            agent: agent(name),
            at: ACCEPTED_AT,
        },
    )
}

fn consulting(owner: &str, consultant: &str) -> Vec<InteractionEvent> {
    and(
        assigned_to(owner),
        ConsultationStarted {
            note: String::new(),
            owner: agent(owner),
            consultant: agent(consultant),
            at: CONSULTED_AT,
        },
    )
}

fn replied(name: &str) -> Vec<InteractionEvent> {
    and(
        assigned_to(name),
        InteractionReplied {
            agent: agent(name),
            reply: reply_id(1),
            at: REPLIED_AT,
        },
    )
}

fn done() -> Vec<InteractionEvent> {
    and(
        replied("alice"),
        InteractionDone {
            disposition: Some("resolved".into()),
            by: "user:alice".into(),
            at: DONE_AT,
        },
    )
}

fn stopped() -> Vec<InteractionEvent> {
    and(
        queued("inbound"),
        InteractionStopped {
            by: "user:sam".into(),
            reason: "spam".into(),
            at: STOPPED_AT,
        },
    )
}

/// Received, then assigned by a supervisor straight away: owned, but never in a queue.
fn assigned_without_queue(name: &str) -> Vec<InteractionEvent> {
    and(
        received(),
        AssignedBySupervisor {
            supervisor: agent("sam"),
            agent: agent(name),
            at: QUEUED_AT,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Histories of a reply (alice writes, sam reviews).
// ---------------------------------------------------------------------------------------------

fn drafted_by(name: &str) -> Vec<InteractionEvent> {
    vec![ReplyDrafted {
        html: None,
        parent: parent_id(),
        agent: agent(name),
        to: "carol@example.com".into(),
        subject: "Re: Where is my parcel?".into(),
        content: body(2),
        at: DRAFTED_AT,
    }
    .into()]
}

fn released() -> Vec<InteractionEvent> {
    and(
        drafted_by("alice"),
        ReplyReleased {
            agent: agent("alice"),
            at: RELEASED_AT,
        },
    )
}

fn outbound_queued() -> Vec<InteractionEvent> {
    and(
        released(),
        OutboundQueued {
            queue: queue("outbound"),
            at: OUTBOUND_AT,
        },
    )
}

fn in_review_by(name: &str) -> Vec<InteractionEvent> {
    and(
        outbound_queued(),
        ReviewStarted {
            reviewer: agent(name),
            at: REVIEW_AT,
        },
    )
}

fn approved() -> Vec<InteractionEvent> {
    and(
        in_review_by("sam"),
        ReplyApproved {
            reviewer: agent("sam"),
            at: APPROVED_AT,
        },
    )
}

fn sending() -> Vec<InteractionEvent> {
    and(
        approved(),
        SendingStarted {
            attempt: 1,
            at: SENDING_AT,
        },
    )
}

fn sent() -> Vec<InteractionEvent> {
    and(
        sending(),
        ReplySent {
            message_id: MESSAGE_ID.into(),
            at: SENT_AT,
        },
    )
}

fn failed() -> Vec<InteractionEvent> {
    and(
        sending(),
        SendFailed {
            attempt: 1,
            error: "421 try again later".into(),
            retry_at: Some(RETRY_AT),
            at: FAILED_AT,
        },
    )
}

fn reply_stopped() -> Vec<InteractionEvent> {
    and(
        drafted_by("alice"),
        InteractionStopped {
            by: "user:alice".into(),
            reason: "the customer called instead".into(),
            at: STOPPED_AT,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Commands used in many tests.
// ---------------------------------------------------------------------------------------------

fn receive() -> InteractionCommand {
    InteractionCommand::Receive {
        channel: Channel::Email,
        from: customer(),
        from_name: Some("Carol Customer".into()),
        subject: "Where is my parcel?".into(),
        content: body(1),
        priority: PRIORITY,
        message: None,
        thread: None,
        at: RECEIVED_AT,
    }
}

fn delivery_report(identity: &str) -> InteractionCommand {
    InteractionCommand::RecordDeliveryReport {
        report: Box::new(report(identity)),
    }
}

fn report(identity: &str) -> DeliveryReported {
    DeliveryReported {
        identity: identity.into(),
        action: "failed".into(),
        status: Some("5.1.1".into()),
        recipient: Some("carol@example.com".into()),
        raw: body(9),
        source: None,
        at: NOW,
    }
}

fn draft_reply(name: &str) -> InteractionCommand {
    InteractionCommand::DraftReply {
        html: None,
        parent: parent_id(),
        agent: agent(name),
        to: customer(),
        subject: "Re: Where is my parcel?".into(),
        content: body(2),
        at: DRAFTED_AT,
    }
}

fn supervisor_move(to: &str) -> InteractionCommand {
    InteractionCommand::SupervisorMove {
        supervisor: agent("sam"),
        queue: queue(to),
        at: NOW,
    }
}

fn supervisor_reprioritise(priority: i32) -> InteractionCommand {
    InteractionCommand::SupervisorReprioritise {
        supervisor: agent("sam"),
        priority,
        at: NOW,
    }
}

fn supervisor_assign(to: &str) -> InteractionCommand {
    InteractionCommand::SupervisorAssign {
        supervisor: agent("sam"),
        agent: agent(to),
        at: NOW,
    }
}

fn stop(by: &str, reason: &str) -> InteractionCommand {
    InteractionCommand::Stop {
        by: by.into(),
        reason: reason.into(),
        at: NOW,
    }
}

fn mark_done_by(name: &str) -> InteractionCommand {
    InteractionCommand::MarkDone {
        disposition: Some("resolved".into()),
        by: Actor::Agent(agent(name)),
        at: NOW,
    }
}

fn mark_done_by_system() -> InteractionCommand {
    InteractionCommand::MarkDone {
        disposition: None,
        by: Actor::System("autoresponder".into()),
        at: NOW,
    }
}

fn send_reply(name: &str) -> InteractionCommand {
    InteractionCommand::SendReply {
        agent: agent(name),
        queue: queue("outbound"),
        message: ContentRef([9; 32]),
        message_id: "r1@example.com".into(),
        review: Box::new(no_review()),
        at: NOW,
    }
}

/// The QA policy's decision that nothing asks for review.
fn no_review() -> ReviewDecided {
    ReviewDecided {
        required: false,
        reasons: Vec::new(),
        policy: "qa-test".into(),
        queue: None,
        at: NOW,
    }
}

/// One sample of every command that only applies to an inbound interaction (supervisor
/// interventions included; `Stop` applies to both kinds and is kept apart).
fn inbound_commands() -> Vec<InteractionCommand> {
    use InteractionCommand as C;
    vec![
        C::Enqueue {
            queue: queue("inbound"),
            due: None,
            at: NOW,
        },
        C::RecordBreach {
            target: SlaTarget::FirstResponse,
            at: NOW,
        },
        C::LockForRouting {
            router: "router".into(),
            at: NOW,
        },
        C::UnlockRouting { at: NOW },
        C::Offer {
            agent: agent("alice"),
            deadline: DEADLINE,
            at: NOW,
            explained: None,
        },
        C::AcceptOffer {
            agent: agent("alice"),
            at: NOW,
        },
        C::RejectOffer {
            agent: agent("alice"),
            at: NOW,
        },
        C::ExpireOffer { at: DEADLINE },
        C::Transfer {
            note: String::new(),
            agent: agent("alice"),
            target: TransferTarget::Queue {
                queue: queue("billing"),
            },
            at: NOW,
        },
        C::StartConsultation {
            note: String::new(),
            agent: agent("alice"),
            consultant: agent("bob"),
            at: NOW,
        },
        C::EditAttributes {
            supervisor: agent("sam"),
            changes: [("tier".to_string(), Some("gold".to_string()))]
                .into_iter()
                .collect(),
            at: NOW,
        },
        C::Contribute {
            consultant: agent("bob"),
            text: "their contract ends in May".into(),
            at: NOW,
        },
        C::EndConsultation {
            agent: agent("alice"),
            consultant: agent("bob"),
            at: NOW,
        },
        C::ReturnToQueue {
            reason: "back to the queue".into(),
            agent: agent("alice"),
            queue: None,
            at: NOW,
        },
        C::RecordReply {
            agent: agent("alice"),
            reply: reply_id(2),
            at: NOW,
        },
        mark_done_by("alice"),
        C::Categorise {
            category: "delivery".into(),
            confidence_permille: 900,
            at: NOW,
        },
        supervisor_move("billing"),
        supervisor_reprioritise(9),
        supervisor_assign("bob"),
    ]
}

/// One sample of every command that only applies to a reply.
fn reply_commands() -> Vec<InteractionCommand> {
    use InteractionCommand as C;
    vec![
        C::UpdateDraft {
            html: None,
            agent: agent("alice"),
            content: body(3),
            at: NOW,
        },
        C::ReleaseReply {
            agent: agent("alice"),
            at: NOW,
        },
        send_reply("alice"),
        C::QueueOutbound {
            queue: queue("outbound"),
            at: NOW,
        },
        C::StartReview {
            reviewer: agent("sam"),
            at: NOW,
        },
        C::ApproveReply {
            reviewer: agent("sam"),
            at: NOW,
        },
        C::ReturnForRevision {
            reviewer: agent("sam"),
            note: "too curt".into(),
            at: NOW,
        },
        C::EditAndApprove {
            reviewer: agent("sam"),
            content: body(4),
            html: None,
            message: ContentRef([8; 32]),
            diff: "- a\n+ b\n".into(),
            at: NOW,
        },
        C::ReassignReview {
            to: agent("rita"),
            by: None,
            at: NOW,
        },
        C::StartSending { at: NOW },
        C::MarkSent {
            message_id: MESSAGE_ID.into(),
            at: NOW,
        },
        C::MarkSendFailed {
            error: "421 try again later".into(),
            retry_at: None,
            at: NOW,
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Automatic answers (tests in `answer.rs`).
// ---------------------------------------------------------------------------------------------

fn plan() -> InteractionCommand {
    InteractionCommand::PlanAutoAnswer {
        usage: AnswerUsage::Acknowledgement,
        at: NOW,
    }
}

fn suppress(code: &str) -> InteractionCommand {
    InteractionCommand::SuppressAutoAnswer {
        code: code.into(),
        reason: format!("because {code}"),
        at: NOW,
    }
}

fn record(reply: InteractionId) -> InteractionCommand {
    InteractionCommand::RecordAutoAnswer {
        reply,
        usage: AnswerUsage::Acknowledgement,
        at: NOW,
    }
}

fn compose() -> InteractionCommand {
    InteractionCommand::ComposeAnswer {
        parent: parent_id(),
        usage: AnswerUsage::Acknowledgement,
        to: customer(),
        subject: "Re: Where is my parcel? [#ABCDE]".into(),
        message: ContentRef([9; 32]),
        message_id: "a1.reply@postroom.example".into(),
        at: NOW,
    }
}

fn screen() -> InteractionCommand {
    InteractionCommand::Screen {
        screened: Box::new(InteractionScreened {
            version: "v1".into(),
            matched: vec![ScreeningMatch {
                rule: "urgent".into(),
                evidence: vec!["subject matches: URGENT".into()],
                actions: vec!["priority 10".into()],
            }],
            language: Some("eng".into()),
            priority: Some(10),
            attributes: [("risk".to_string(), "low".to_string())]
                .into_iter()
                .collect(),
            at: NOW,
        }),
    }
}

/// Routing's offer to `offered` with its reasons naming `name` (rank of those eligible).
fn explained_offer(offered: &str, name: &str, eligible: u32, rank: u32) -> InteractionCommand {
    InteractionCommand::Offer {
        agent: agent(offered),
        deadline: Millis(NOW.0 + 30_000),
        at: NOW,
        explained: Some(Box::new(OfferExplained {
            agent: agent(name),
            eligible,
            rank,
            rule: "least load".into(),
            skills: vec!["billing".into()],
            at: NOW,
        })),
    }
}

fn run_process() -> InteractionCommand {
    InteractionCommand::RunProcess {
        ran: Box::new(ProcessRan {
            version: "p1".into(),
            steps: vec![StepOutcome {
                queue: QueueName::parse("inbound").unwrap(),
                index: 0,
                step: "route".into(),
                outcome: "queued in vip for agents with billing".into(),
            }],
            queue: QueueName::parse("vip").unwrap(),
            skills: vec!["billing".into()],
            priority: Some(7),
            attributes: [("tier".to_string(), "gold".to_string())]
                .into_iter()
                .collect(),
            response: None,
            at: NOW,
        }),
    }
}

/// One sample of each automatic-answer command, for the coverage check.
fn answer_commands() -> Vec<InteractionCommand> {
    vec![plan(), suppress("too_many"), record(reply_id(1)), compose()]
}

/// The position of a command in `InteractionCommand`. The match has no wildcard on purpose: a new
/// command does not compile here until it is given a sample (and, one hopes, its tests).
fn variant_index(command: &InteractionCommand) -> usize {
    use InteractionCommand::*;
    match command {
        Receive { .. } => 0,
        Enqueue { .. } => 1,
        LockForRouting { .. } => 2,
        UnlockRouting { .. } => 3,
        Offer { .. } => 4,
        AcceptOffer { .. } => 5,
        RejectOffer { .. } => 6,
        ExpireOffer { .. } => 7,
        Transfer { .. } => 8,
        StartConsultation { .. } => 9,
        EndConsultation { .. } => 10,
        ReturnToQueue { .. } => 11,
        RecordReply { .. } => 12,
        MarkDone { .. } => 13,
        Categorise { .. } => 14,
        SupervisorMove { .. } => 15,
        SupervisorReprioritise { .. } => 16,
        SupervisorAssign { .. } => 17,
        Stop { .. } => 18,
        DraftReply { .. } => 19,
        UpdateDraft { .. } => 20,
        ReleaseReply { .. } => 21,
        QueueOutbound { .. } => 22,
        StartReview { .. } => 23,
        ApproveReply { .. } => 24,
        ReturnForRevision { .. } => 25,
        StartSending { .. } => 26,
        MarkSent { .. } => 27,
        MarkSendFailed { .. } => 28,
        RecordDeliveryReport { .. } => 29,
        PlanAutoAnswer { .. } => 30,
        SuppressAutoAnswer { .. } => 31,
        RecordAutoAnswer { .. } => 32,
        ComposeAnswer { .. } => 33,
        Screen { .. } => 34,
        RunProcess { .. } => 35,
        WithdrawOffer { .. } => 36,
        Contribute { .. } => 37,
        SendReply { .. } => 38,
        EditAttributes { .. } => 39,
        EditAndApprove { .. } => 40,
        ReassignReview { .. } => 41,
        RecordBreach { .. } => 42,
    }
}
const COMMAND_COUNT: usize = 43;

#[test]
fn the_samples_cover_every_command() {
    let mut seen: Vec<usize> = [
        receive(),
        draft_reply("alice"),
        stop("user:sam", "spam"),
        delivery_report("r"),
    ]
    .iter()
    .chain(inbound_commands().iter())
    .chain(reply_commands().iter())
    .chain(answer_commands().iter())
    .chain(
        [
            screen(),
            run_process(),
            InteractionCommand::WithdrawOffer {
                reason: "not ready".into(),
                at: NOW,
            },
        ]
        .iter(),
    )
    .map(variant_index)
    .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..COMMAND_COUNT).collect::<Vec<_>>());
}

mod answer;
mod creation;
mod evolve;
mod reply;
mod review;
mod routing;
mod screening;
mod service_level;
mod supervisor;
mod work;
