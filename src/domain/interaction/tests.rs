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
        by: Actor::Agent(agent(name)),
        at: NOW,
    }
}

fn mark_done_by_system() -> InteractionCommand {
    InteractionCommand::MarkDone {
        by: Actor::System("autoresponder".into()),
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
            agent: agent("alice"),
            target: TransferTarget::Queue {
                queue: queue("billing"),
            },
            at: NOW,
        },
        C::StartConsultation {
            agent: agent("alice"),
            consultant: agent("bob"),
            at: NOW,
        },
        C::EndConsultation {
            agent: agent("alice"),
            consultant: agent("bob"),
            at: NOW,
        },
        C::ReturnToQueue {
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
            agent: agent("alice"),
            content: body(3),
            at: NOW,
        },
        C::ReleaseReply {
            agent: agent("alice"),
            at: NOW,
        },
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
    }
}
const COMMAND_COUNT: usize = 30;

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
    .map(variant_index)
    .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..COMMAND_COUNT).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// Creation, existence and kind.
// ---------------------------------------------------------------------------------------------

#[test]
fn receiving_a_message_creates_the_interaction() {
    let state = Spec::given(vec![]).when(receive()).then(received());
    assert_eq!(
        state,
        Interaction {
            kind: Kind::Inbound,
            status: Status::Received,
            channel: Some(Channel::Email),
            from: "carol@example.com".into(),
            from_name: Some("Carol Customer".into()),
            subject: "Where is my parcel?".into(),
            content: body(1),
            priority: PRIORITY,
            created_at: RECEIVED_AT,
            updated_at: RECEIVED_AT,
            version: 1,
            ..Interaction::default()
        }
    );
}

fn stored_message(problems: Vec<String>) -> MessageStored {
    MessageStored {
        identity: "m1@example.com".into(),
        message_id: Some("m1@example.com".into()),
        in_reply_to: vec![],
        references: vec![],
        to: vec!["support@example.test".into()],
        cc: vec![],
        raw: body(2),
        text: body(1),
        html: None,
        html_sanitized: None,
        attachments: vec![],
        size: 1234,
        problems,
        automated: false,
        source: None,
        // The decider stamps the command's time.
        at: Millis(0),
    }
}

#[test]
fn receiving_a_message_with_its_content_records_both_in_one_decision() {
    let mut cmd = receive();
    if let InteractionCommand::Receive { message, .. } = &mut cmd {
        *message = Some(Box::new(stored_message(vec![])));
    }
    let mut expected = received();
    expected.push(
        MessageStored {
            at: RECEIVED_AT,
            ..stored_message(vec![])
        }
        .into(),
    );
    let state = Spec::given(vec![]).when(cmd).then(expected);
    assert_eq!(state.version, 2);
    assert!(!state.malformed);
}

#[test]
fn a_message_with_problems_marks_the_interaction_malformed() {
    let mut cmd = receive();
    if let InteractionCommand::Receive { message, .. } = &mut cmd {
        *message = Some(Box::new(stored_message(vec!["no From address".into()])));
    }
    let events = decide(&Interaction::default(), &cmd).unwrap();
    let state = events.iter().fold(Interaction::default(), evolve);
    assert!(state.malformed);
}

#[test]
fn receiving_twice_is_refused_as_already_exists() {
    Spec::given(received())
        .when(receive())
        .then_reject(Rejection::AlreadyExists);
    Spec::given(done())
        .when(receive())
        .then_reject(Rejection::AlreadyExists);
}

#[test]
fn drafting_a_reply_creates_a_reply_owned_by_its_author() {
    let state = Spec::given(vec![])
        .when(draft_reply("alice"))
        .then(drafted_by("alice"));
    assert_eq!(
        state.kind,
        Kind::Reply {
            parent: parent_id()
        }
    );
    assert_eq!(state.status, Status::Draft);
    assert_eq!(state.owner, Some(agent("alice")));
    assert_eq!(state.from, "carol@example.com");
    assert_eq!(state.subject, "Re: Where is my parcel?");
    assert_eq!(state.content, body(2));
    assert_eq!(state.created_at, DRAFTED_AT);
    assert!(state.is_reply());
}

#[test]
fn drafting_a_reply_twice_is_refused_as_already_exists() {
    Spec::given(drafted_by("alice"))
        .when(draft_reply("alice"))
        .then_reject(Rejection::AlreadyExists);
    Spec::given(sent())
        .when(draft_reply("bob"))
        .then_reject(Rejection::AlreadyExists);
}

#[test]
fn a_stream_of_one_kind_cannot_be_created_again_as_the_other() {
    Spec::given(drafted_by("alice"))
        .when(receive())
        .then_reject(Rejection::AlreadyExists);
    Spec::given(received())
        .when(draft_reply("alice"))
        .then_reject(Rejection::AlreadyExists);
}

#[test]
fn every_other_command_on_a_new_stream_is_not_found() {
    let commands = inbound_commands()
        .into_iter()
        .chain(reply_commands())
        .chain([stop("user:sam", "spam")]);
    for command in commands {
        Spec::given(vec![])
            .when(command)
            .then_reject(Rejection::NotFound);
    }
}

#[test]
fn inbound_commands_on_a_reply_are_wrong_kind() {
    for history in [drafted_by("alice"), in_review_by("sam"), sent()] {
        for command in inbound_commands() {
            let expected = Rejection::WrongKind {
                command: command.name(),
                expected: "inbound",
            };
            Spec::given(history.clone())
                .when(command)
                .then_reject(expected);
        }
    }
}

#[test]
fn reply_commands_on_an_inbound_interaction_are_wrong_kind() {
    for history in [queued("inbound"), assigned_to("alice"), done()] {
        for command in reply_commands() {
            let expected = Rejection::WrongKind {
                command: command.name(),
                expected: "reply",
            };
            Spec::given(history.clone())
                .when(command)
                .then_reject(expected);
        }
    }
}

#[test]
fn every_command_on_a_done_interaction_is_finished() {
    for command in inbound_commands()
        .into_iter()
        .chain([stop("user:sam", "spam"), mark_done_by_system()])
    {
        Spec::given(done())
            .when(command)
            .then_reject(Rejection::Finished { status: "done" });
    }
}

#[test]
fn every_command_on_a_stopped_interaction_is_finished() {
    for command in inbound_commands()
        .into_iter()
        .chain([stop("user:sam", "spam"), mark_done_by_system()])
    {
        Spec::given(stopped())
            .when(command)
            .then_reject(Rejection::Finished { status: "stopped" });
    }
}

#[test]
fn every_command_on_a_stopped_reply_is_finished() {
    for command in reply_commands()
        .into_iter()
        .chain([stop("user:sam", "spam")])
    {
        Spec::given(reply_stopped())
            .when(command)
            .then_reject(Rejection::Finished { status: "stopped" });
    }
}

#[test]
fn a_sent_reply_is_finished_and_the_mailer_is_told_it_was_already_sent() {
    for command in reply_commands()
        .into_iter()
        .chain([stop("user:sam", "spam")])
    {
        let expected = match command {
            InteractionCommand::StartSending { .. }
            | InteractionCommand::MarkSent { .. }
            | InteractionCommand::MarkSendFailed { .. } => Rejection::AlreadySent,
            _ => Rejection::Finished { status: "sent" },
        };
        Spec::given(sent()).when(command).then_reject(expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Enqueue and routing.
// ---------------------------------------------------------------------------------------------

#[test]
fn enqueue_puts_a_received_interaction_in_its_queue() {
    let state = Spec::given(received())
        .when(InteractionCommand::Enqueue {
            queue: queue("inbound"),
            at: QUEUED_AT,
        })
        .then(vec![InteractionQueued {
            queue: queue("inbound"),
            at: QUEUED_AT,
        }
        .into()]);
    assert_eq!(state.status, Status::Queued);
    assert_eq!(state.queue, Some(queue("inbound")));
}

#[test]
fn enqueue_is_allowed_only_while_received() {
    for (history, status) in [
        (queued("inbound"), "queued"),
        (locked(), "locked"),
        (assigned_to("alice"), "assigned"),
    ] {
        Spec::given(history)
            .when(InteractionCommand::Enqueue {
                queue: queue("billing"),
                at: NOW,
            })
            .then_reject(Rejection::InvalidState {
                command: "enqueue",
                status,
            });
    }
}

#[test]
fn routing_locks_a_queued_interaction() {
    let state = Spec::given(queued("inbound"))
        .when(InteractionCommand::LockForRouting {
            router: "router-2".into(),
            at: NOW,
        })
        .then(vec![RoutingLocked {
            router: "router-2".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.status,
        Status::Locked {
            router: "router-2".into()
        }
    );
    assert!(state.status.is_locked_by_routing());
}

#[test]
fn routing_locks_only_queued_interactions() {
    for (history, status) in [
        (received(), "received"),
        (locked(), "locked"),
        (offered_to("alice", DEADLINE), "offered"),
        (assigned_to("alice"), "assigned"),
    ] {
        Spec::given(history)
            .when(InteractionCommand::LockForRouting {
                router: "router".into(),
                at: NOW,
            })
            .then_reject(Rejection::InvalidState {
                command: "lock_for_routing",
                status,
            });
    }
}

#[test]
fn unlocking_puts_the_interaction_back_in_its_queue() {
    let state = Spec::given(locked())
        .when(InteractionCommand::UnlockRouting { at: NOW })
        .then(vec![RoutingUnlocked { at: NOW }.into()]);
    assert_eq!(state.status, Status::Queued);
    assert_eq!(state.queue, Some(queue("inbound")));
}

#[test]
fn unlocking_needs_the_routing_lock() {
    for (history, status) in [
        (queued("inbound"), "queued"),
        (offered_to("alice", DEADLINE), "offered"),
    ] {
        Spec::given(history)
            .when(InteractionCommand::UnlockRouting { at: NOW })
            .then_reject(Rejection::InvalidState {
                command: "unlock_routing",
                status,
            });
    }
}

#[test]
fn routing_offers_a_locked_interaction_to_an_agent() {
    let state = Spec::given(locked())
        .when(InteractionCommand::Offer {
            agent: agent("alice"),
            deadline: DEADLINE,
            at: NOW,
        })
        .then(vec![InteractionOffered {
            agent: agent("alice"),
            deadline: DEADLINE,
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.status,
        Status::Offered {
            agent: agent("alice"),
            deadline: DEADLINE
        }
    );
    assert_eq!(state.owner, None);
}

#[test]
fn offering_needs_the_routing_lock() {
    for (history, status) in [
        (queued("inbound"), "queued"),
        (offered_to("bob", DEADLINE), "offered"),
        (assigned_to("bob"), "assigned"),
    ] {
        Spec::given(history)
            .when(InteractionCommand::Offer {
                agent: agent("alice"),
                deadline: DEADLINE,
                at: NOW,
            })
            .then_reject(Rejection::InvalidState {
                command: "offer",
                status,
            });
    }
}

#[test]
fn an_offer_deadline_must_be_later_than_the_offer() {
    for deadline in [NOW, Millis(NOW.0 - 1)] {
        Spec::given(locked())
            .when(InteractionCommand::Offer {
                agent: agent("alice"),
                deadline,
                at: NOW,
            })
            .then_reject(Rejection::DeadlineInPast);
    }
}

// ---------------------------------------------------------------------------------------------
// Accepting, rejecting and expiring offers.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_offered_agent_accepts_and_owns_the_interaction() {
    let state = Spec::given(offered_to("alice", DEADLINE))
        .when(InteractionCommand::AcceptOffer {
            agent: agent("alice"),
            at: NOW,
        })
        .then(vec![OfferAccepted {
            agent: agent("alice"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Assigned);
    assert_eq!(state.owner, Some(agent("alice")));
}

#[test]
fn accepting_exactly_at_the_deadline_is_allowed() {
    Spec::given(offered_to("alice", DEADLINE))
        .when(InteractionCommand::AcceptOffer {
            agent: agent("alice"),
            at: DEADLINE,
        })
        .then(vec![OfferAccepted {
            agent: agent("alice"),
            at: DEADLINE,
        }
        .into()]);
}

#[test]
fn accepting_after_the_deadline_is_refused() {
    Spec::given(offered_to("alice", DEADLINE))
        .when(InteractionCommand::AcceptOffer {
            agent: agent("alice"),
            at: Millis(DEADLINE.0 + 1),
        })
        .then_reject(Rejection::DeadlinePassed);
}

#[test]
fn only_the_offered_agent_can_accept() {
    Spec::given(offered_to("alice", DEADLINE))
        .when(InteractionCommand::AcceptOffer {
            agent: agent("bob"),
            at: NOW,
        })
        .then_reject(Rejection::NotYourOffer {
            agent: agent("bob"),
        });
}

#[test]
fn accepting_needs_an_offer() {
    for (history, status) in [
        (queued("inbound"), "queued"),
        (locked(), "locked"),
        (assigned_to("alice"), "assigned"),
    ] {
        Spec::given(history)
            .when(InteractionCommand::AcceptOffer {
                agent: agent("alice"),
                at: NOW,
            })
            .then_reject(Rejection::InvalidState {
                command: "accept_offer",
                status,
            });
    }
}

#[test]
fn a_rejected_offer_puts_the_interaction_back_in_its_queue_with_no_owner() {
    let state = Spec::given(offered_to("alice", DEADLINE))
        .when(InteractionCommand::RejectOffer {
            agent: agent("alice"),
            at: NOW,
        })
        .then(vec![OfferRejected {
            agent: agent("alice"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Queued);
    assert_eq!(state.owner, None);
    assert_eq!(state.queue, Some(queue("inbound")));
}

#[test]
fn only_the_offered_agent_can_reject() {
    Spec::given(offered_to("alice", DEADLINE))
        .when(InteractionCommand::RejectOffer {
            agent: agent("bob"),
            at: NOW,
        })
        .then_reject(Rejection::NotYourOffer {
            agent: agent("bob"),
        });
}

#[test]
fn rejecting_needs_an_offer() {
    for (history, status) in [(locked(), "locked"), (assigned_to("alice"), "assigned")] {
        Spec::given(history)
            .when(InteractionCommand::RejectOffer {
                agent: agent("alice"),
                at: NOW,
            })
            .then_reject(Rejection::InvalidState {
                command: "reject_offer",
                status,
            });
    }
}

#[test]
fn an_offer_expires_at_its_deadline_and_the_interaction_is_queued_again() {
    let state = Spec::given(offered_to("alice", DEADLINE))
        .when(InteractionCommand::ExpireOffer { at: DEADLINE })
        .then(vec![OfferExpired {
            agent: agent("alice"),
            at: DEADLINE,
        }
        .into()]);
    assert_eq!(state.status, Status::Queued);
    assert_eq!(state.owner, None);
    assert_eq!(state.queue, Some(queue("inbound")));
}

#[test]
fn an_offer_expires_after_its_deadline() {
    let late = Millis(DEADLINE.0 + 5_000);
    Spec::given(offered_to("alice", DEADLINE))
        .when(InteractionCommand::ExpireOffer { at: late })
        .then(vec![OfferExpired {
            agent: agent("alice"),
            at: late,
        }
        .into()]);
}

#[test]
fn an_offer_cannot_expire_before_its_deadline() {
    Spec::given(offered_to("alice", DEADLINE))
        .when(InteractionCommand::ExpireOffer {
            at: Millis(DEADLINE.0 - 1),
        })
        .then_reject(Rejection::DeadlineNotReached);
}

#[test]
fn expiring_needs_an_offer() {
    for (history, status) in [(locked(), "locked"), (assigned_to("alice"), "assigned")] {
        Spec::given(history)
            .when(InteractionCommand::ExpireOffer { at: DEADLINE })
            .then_reject(Rejection::InvalidState {
                command: "expire_offer",
                status,
            });
    }
}

// ---------------------------------------------------------------------------------------------
// Transfer.
// ---------------------------------------------------------------------------------------------

fn transfer_to_agent(from: &str, to: &str, deadline: Millis) -> InteractionCommand {
    InteractionCommand::Transfer {
        agent: agent(from),
        target: TransferTarget::Agent {
            agent: agent(to),
            deadline,
        },
        at: NOW,
    }
}

fn transfer_to_queue(from: &str, to: &str) -> InteractionCommand {
    InteractionCommand::Transfer {
        agent: agent(from),
        target: TransferTarget::Queue { queue: queue(to) },
        at: NOW,
    }
}

#[test]
fn the_owner_transfers_to_a_colleague_as_an_offer() {
    let deadline = Millis(NOW.0 + 30_000);
    let state = Spec::given(assigned_to("alice"))
        .when(transfer_to_agent("alice", "bob", deadline))
        .then(vec![InteractionTransferred {
            from_agent: agent("alice"),
            target: TransferTarget::Agent {
                agent: agent("bob"),
                deadline,
            },
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.status,
        Status::Offered {
            agent: agent("bob"),
            deadline
        }
    );
    assert_eq!(state.owner, None);
}

#[test]
fn a_colleague_accepts_a_transfer_and_owns_the_interaction() {
    let deadline = Millis(NOW.0 + 30_000);
    let history = and(
        assigned_to("alice"),
        InteractionTransferred {
            from_agent: agent("alice"),
            target: TransferTarget::Agent {
                agent: agent("bob"),
                deadline,
            },
            at: NOW,
        },
    );
    let state = Spec::given(history)
        .when(InteractionCommand::AcceptOffer {
            agent: agent("bob"),
            at: deadline,
        })
        .then(vec![OfferAccepted {
            agent: agent("bob"),
            at: deadline,
        }
        .into()]);
    assert_eq!(state.status, Status::Assigned);
    assert_eq!(state.owner, Some(agent("bob")));
}

#[test]
fn the_owner_transfers_to_a_queue_and_it_is_queued_there() {
    let state = Spec::given(assigned_to("alice"))
        .when(transfer_to_queue("alice", "billing"))
        .then(vec![InteractionTransferred {
            from_agent: agent("alice"),
            target: TransferTarget::Queue {
                queue: queue("billing"),
            },
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Queued);
    assert_eq!(state.queue, Some(queue("billing")));
    assert_eq!(state.owner, None);
}

#[test]
fn only_the_owner_can_transfer() {
    Spec::given(assigned_to("alice"))
        .when(transfer_to_queue("bob", "billing"))
        .then_reject(Rejection::NotOwner {
            agent: agent("bob"),
        });
}

#[test]
fn an_agent_cannot_transfer_to_themselves() {
    Spec::given(assigned_to("alice"))
        .when(transfer_to_agent("alice", "alice", DEADLINE))
        .then_reject(Rejection::CannotTransferToSelf);
}

#[test]
fn a_transfer_deadline_must_be_later_than_the_transfer() {
    for deadline in [NOW, Millis(NOW.0 - 1)] {
        Spec::given(assigned_to("alice"))
            .when(transfer_to_agent("alice", "bob", deadline))
            .then_reject(Rejection::DeadlineInPast);
    }
}

#[test]
fn transfer_is_blocked_while_a_consultation_is_open() {
    Spec::given(consulting("alice", "bob"))
        .when(transfer_to_queue("alice", "billing"))
        .then_reject(Rejection::ConsultationActive);
    Spec::given(consulting("alice", "bob"))
        .when(transfer_to_agent("alice", "carol", DEADLINE))
        .then_reject(Rejection::ConsultationActive);
}

#[test]
fn transfer_needs_an_assigned_interaction() {
    for (history, status) in [
        (queued("inbound"), "queued"),
        (offered_to("alice", DEADLINE), "offered"),
        (replied("alice"), "replied"),
    ] {
        Spec::given(history)
            .when(transfer_to_queue("alice", "billing"))
            .then_reject(Rejection::InvalidState {
                command: "transfer",
                status,
            });
    }
}

// ---------------------------------------------------------------------------------------------
// Consultation.
// ---------------------------------------------------------------------------------------------

fn start_consultation(by: &str, consultant: &str) -> InteractionCommand {
    InteractionCommand::StartConsultation {
        agent: agent(by),
        consultant: agent(consultant),
        at: NOW,
    }
}

fn end_consultation(by: &str, consultant: &str) -> InteractionCommand {
    InteractionCommand::EndConsultation {
        agent: agent(by),
        consultant: agent(consultant),
        at: NOW,
    }
}

#[test]
fn the_owner_starts_a_consultation() {
    let state = Spec::given(assigned_to("alice"))
        .when(start_consultation("alice", "bob"))
        .then(vec![ConsultationStarted {
            owner: agent("alice"),
            consultant: agent("bob"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.consultants, vec![agent("bob")]);
    assert_eq!(state.status, Status::Assigned);
    assert_eq!(state.owner, Some(agent("alice")));
}

#[test]
fn the_owner_may_consult_several_colleagues() {
    let state = Spec::given(consulting("alice", "bob"))
        .when(start_consultation("alice", "carol"))
        .then(vec![ConsultationStarted {
            owner: agent("alice"),
            consultant: agent("carol"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.consultants, vec![agent("bob"), agent("carol")]);
}

#[test]
fn only_the_owner_can_start_a_consultation() {
    Spec::given(assigned_to("alice"))
        .when(start_consultation("bob", "carol"))
        .then_reject(Rejection::NotOwner {
            agent: agent("bob"),
        });
}

#[test]
fn an_agent_cannot_consult_themselves() {
    Spec::given(assigned_to("alice"))
        .when(start_consultation("alice", "alice"))
        .then_reject(Rejection::CannotConsultSelf);
}

#[test]
fn a_colleague_already_consulted_cannot_be_consulted_again() {
    Spec::given(consulting("alice", "bob"))
        .when(start_consultation("alice", "bob"))
        .then_reject(Rejection::AlreadyConsulting {
            agent: agent("bob"),
        });
}

#[test]
fn consultation_needs_an_assigned_interaction() {
    for (history, status) in [
        (queued("inbound"), "queued"),
        (offered_to("alice", DEADLINE), "offered"),
        (replied("alice"), "replied"),
    ] {
        Spec::given(history)
            .when(start_consultation("alice", "bob"))
            .then_reject(Rejection::InvalidState {
                command: "start_consultation",
                status,
            });
    }
}

#[test]
fn the_owner_ends_a_consultation() {
    let state = Spec::given(consulting("alice", "bob"))
        .when(end_consultation("alice", "bob"))
        .then(vec![ConsultationEnded {
            consultant: agent("bob"),
            ended_by: agent("alice"),
            at: NOW,
        }
        .into()]);
    assert!(state.consultants.is_empty());
    assert_eq!(state.owner, Some(agent("alice")));
}

#[test]
fn the_consultant_may_end_their_own_consultation() {
    let state = Spec::given(consulting("alice", "bob"))
        .when(end_consultation("bob", "bob"))
        .then(vec![ConsultationEnded {
            consultant: agent("bob"),
            ended_by: agent("bob"),
            at: NOW,
        }
        .into()]);
    assert!(state.consultants.is_empty());
}

#[test]
fn ending_one_consultation_keeps_the_others_open() {
    let history = and(
        consulting("alice", "bob"),
        ConsultationStarted {
            owner: agent("alice"),
            consultant: agent("carol"),
            at: CONSULTED_AT,
        },
    );
    let state = Spec::given(history)
        .when(end_consultation("alice", "bob"))
        .then(vec![ConsultationEnded {
            consultant: agent("bob"),
            ended_by: agent("alice"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.consultants, vec![agent("carol")]);
}

#[test]
fn nobody_else_may_end_a_consultation() {
    // A bystander.
    Spec::given(consulting("alice", "bob"))
        .when(end_consultation("carol", "bob"))
        .then_reject(Rejection::NotOwner {
            agent: agent("carol"),
        });
    // Another consultant ending a colleague's consultation.
    let history = and(
        consulting("alice", "bob"),
        ConsultationStarted {
            owner: agent("alice"),
            consultant: agent("carol"),
            at: CONSULTED_AT,
        },
    );
    Spec::given(history)
        .when(end_consultation("carol", "bob"))
        .then_reject(Rejection::NotOwner {
            agent: agent("carol"),
        });
}

#[test]
fn ending_a_consultation_that_is_not_open_is_refused() {
    Spec::given(assigned_to("alice"))
        .when(end_consultation("alice", "bob"))
        .then_reject(Rejection::NotConsulting {
            agent: agent("bob"),
        });
    Spec::given(consulting("alice", "bob"))
        .when(end_consultation("alice", "carol"))
        .then_reject(Rejection::NotConsulting {
            agent: agent("carol"),
        });
}

#[test]
fn ending_a_consultation_needs_an_assigned_interaction() {
    for (history, status) in [(queued("inbound"), "queued"), (replied("alice"), "replied")] {
        Spec::given(history)
            .when(end_consultation("alice", "bob"))
            .then_reject(Rejection::InvalidState {
                command: "end_consultation",
                status,
            });
    }
}

// ---------------------------------------------------------------------------------------------
// Returning to a queue.
// ---------------------------------------------------------------------------------------------

fn return_to_queue(by: &str, to: Option<&str>) -> InteractionCommand {
    InteractionCommand::ReturnToQueue {
        agent: agent(by),
        queue: to.map(queue),
        at: NOW,
    }
}

#[test]
fn the_owner_returns_the_interaction_to_the_queue_it_came_from() {
    let state = Spec::given(assigned_to("alice"))
        .when(return_to_queue("alice", None))
        .then(vec![ReturnedToQueue {
            agent: agent("alice"),
            queue: queue("inbound"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Queued);
    assert_eq!(state.queue, Some(queue("inbound")));
    assert_eq!(state.owner, None);
}

#[test]
fn the_owner_returns_the_interaction_to_another_queue() {
    let state = Spec::given(assigned_to("alice"))
        .when(return_to_queue("alice", Some("billing")))
        .then(vec![ReturnedToQueue {
            agent: agent("alice"),
            queue: queue("billing"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.queue, Some(queue("billing")));
}

#[test]
fn returning_without_any_queue_to_go_to_is_refused() {
    Spec::given(assigned_without_queue("alice"))
        .when(return_to_queue("alice", None))
        .then_reject(Rejection::NoQueue);
    // Naming one is enough.
    Spec::given(assigned_without_queue("alice"))
        .when(return_to_queue("alice", Some("billing")))
        .then(vec![ReturnedToQueue {
            agent: agent("alice"),
            queue: queue("billing"),
            at: NOW,
        }
        .into()]);
}

#[test]
fn only_the_owner_can_return_to_queue() {
    Spec::given(assigned_to("alice"))
        .when(return_to_queue("bob", None))
        .then_reject(Rejection::NotOwner {
            agent: agent("bob"),
        });
}

#[test]
fn returning_to_queue_is_blocked_while_a_consultation_is_open() {
    Spec::given(consulting("alice", "bob"))
        .when(return_to_queue("alice", None))
        .then_reject(Rejection::ConsultationActive);
}

#[test]
fn returning_to_queue_needs_an_assigned_interaction() {
    for (history, status) in [
        (offered_to("alice", DEADLINE), "offered"),
        (replied("alice"), "replied"),
    ] {
        Spec::given(history)
            .when(return_to_queue("alice", None))
            .then_reject(Rejection::InvalidState {
                command: "return_to_queue",
                status,
            });
    }
}

// ---------------------------------------------------------------------------------------------
// Recording replies and finishing.
// ---------------------------------------------------------------------------------------------

fn record_reply(by: &str, reply: InteractionId) -> InteractionCommand {
    InteractionCommand::RecordReply {
        agent: agent(by),
        reply,
        at: NOW,
    }
}

#[test]
fn the_owner_records_a_reply() {
    let state = Spec::given(assigned_to("alice"))
        .when(record_reply("alice", reply_id(1)))
        .then(vec![InteractionReplied {
            agent: agent("alice"),
            reply: reply_id(1),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Replied);
    assert_eq!(state.replies, vec![reply_id(1)]);
    assert_eq!(state.owner, Some(agent("alice")));
}

#[test]
fn the_owner_may_record_further_replies() {
    let state = Spec::given(replied("alice"))
        .when(record_reply("alice", reply_id(2)))
        .then(vec![InteractionReplied {
            agent: agent("alice"),
            reply: reply_id(2),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.replies, vec![reply_id(1), reply_id(2)]);
}

#[test]
fn recording_the_same_reply_again_is_a_no_op() {
    let before = Spec::given(replied("alice")).state;
    let after = Spec::given(replied("alice"))
        .when(record_reply("alice", reply_id(1)))
        .then(vec![]);
    assert_eq!(after, before);
}

#[test]
fn only_the_owner_can_record_a_reply() {
    for history in [assigned_to("alice"), replied("alice")] {
        Spec::given(history)
            .when(record_reply("bob", reply_id(2)))
            .then_reject(Rejection::NotOwner {
                agent: agent("bob"),
            });
    }
}

#[test]
fn recording_a_reply_is_blocked_while_a_consultation_is_open() {
    Spec::given(consulting("alice", "bob"))
        .when(record_reply("alice", reply_id(1)))
        .then_reject(Rejection::ConsultationActive);
}

#[test]
fn recording_a_reply_needs_an_assigned_or_replied_interaction() {
    for (history, status) in [
        (queued("inbound"), "queued"),
        (offered_to("alice", DEADLINE), "offered"),
    ] {
        Spec::given(history)
            .when(record_reply("alice", reply_id(1)))
            .then_reject(Rejection::InvalidState {
                command: "record_reply",
                status,
            });
    }
}

#[test]
fn the_owner_marks_a_replied_interaction_done() {
    let state = Spec::given(replied("alice"))
        .when(mark_done_by("alice"))
        .then(vec![InteractionDone {
            by: "user:alice".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Done);
    assert!(state.status.is_terminal());
}

#[test]
fn the_owner_may_finish_without_replying() {
    let state = Spec::given(assigned_to("alice"))
        .when(mark_done_by("alice"))
        .then(vec![InteractionDone {
            by: "user:alice".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Done);
}

#[test]
fn a_component_finishes_an_interaction_that_waits_in_the_system() {
    for history in [received(), queued("inbound")] {
        Spec::given(history)
            .when(mark_done_by_system())
            .then(vec![InteractionDone {
                by: "system:autoresponder".into(),
                at: NOW,
            }
            .into()]);
    }
}

#[test]
fn a_component_finishes_a_replied_interaction() {
    Spec::given(replied("alice"))
        .when(mark_done_by_system())
        .then(vec![InteractionDone {
            by: "system:autoresponder".into(),
            at: NOW,
        }
        .into()]);
}

#[test]
fn a_component_cannot_finish_an_interaction_an_agent_is_working() {
    Spec::given(assigned_to("alice"))
        .when(mark_done_by_system())
        .then_reject(Rejection::InvalidState {
            command: "mark_done",
            status: "assigned",
        });
}

#[test]
fn only_the_owner_can_mark_done() {
    for history in [assigned_to("alice"), replied("alice")] {
        Spec::given(history)
            .when(mark_done_by("bob"))
            .then_reject(Rejection::NotOwner {
                agent: agent("bob"),
            });
    }
    // Nobody owns what waits in the system.
    for history in [received(), queued("inbound")] {
        Spec::given(history)
            .when(mark_done_by("alice"))
            .then_reject(Rejection::NotOwner {
                agent: agent("alice"),
            });
    }
}

#[test]
fn marking_done_is_blocked_while_a_consultation_is_open() {
    Spec::given(consulting("alice", "bob"))
        .when(mark_done_by("alice"))
        .then_reject(Rejection::ConsultationActive);
}

#[test]
fn nothing_is_marked_done_while_routing_holds_it() {
    for (history, status) in [
        (locked(), "locked"),
        (offered_to("alice", DEADLINE), "offered"),
    ] {
        for command in [mark_done_by_system(), mark_done_by("alice")] {
            Spec::given(history.clone())
                .when(command)
                .then_reject(Rejection::InvalidState {
                    command: "mark_done",
                    status,
                });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Categorisation.
// ---------------------------------------------------------------------------------------------

fn categorise(category: &str, confidence_permille: u16) -> InteractionCommand {
    InteractionCommand::Categorise {
        category: category.into(),
        confidence_permille,
        at: NOW,
    }
}

#[test]
fn categorising_records_the_category_in_every_open_state() {
    for history in [
        received(),
        queued("inbound"),
        locked(),
        offered_to("alice", DEADLINE),
        assigned_to("alice"),
        replied("alice"),
    ] {
        let state = Spec::given(history)
            .when(categorise("delivery", 870))
            .then(vec![InteractionCategorised {
                category: "delivery".into(),
                confidence_permille: 870,
                at: NOW,
            }
            .into()]);
        assert_eq!(state.category.as_deref(), Some("delivery"));
    }
}

#[test]
fn categorising_leaves_the_lifecycle_alone() {
    let before = Spec::given(offered_to("alice", DEADLINE)).state;
    let after = Spec::given(offered_to("alice", DEADLINE))
        .when(categorise("delivery", 1000))
        .then(vec![InteractionCategorised {
            category: "delivery".into(),
            confidence_permille: 1000,
            at: NOW,
        }
        .into()]);
    assert_eq!(after.status, before.status);
    assert_eq!(after.owner, before.owner);
    assert_eq!(after.queue, before.queue);
}

#[test]
fn an_empty_category_is_an_invalid_value() {
    for category in ["", "   "] {
        Spec::given(queued("inbound"))
            .when(categorise(category, 500))
            .then_reject(Rejection::InvalidValue("the category must not be empty"));
    }
}

#[test]
fn a_confidence_above_1000_permille_is_an_invalid_value() {
    Spec::given(queued("inbound"))
        .when(categorise("delivery", 1001))
        .then_reject(Rejection::InvalidValue(
            "the confidence must be between 0 and 1000 per mille",
        ));
}

#[test]
fn a_confidence_of_0_and_1000_permille_are_the_valid_bounds() {
    for confidence_permille in [0, 1000] {
        Spec::given(queued("inbound"))
            .when(categorise("delivery", confidence_permille))
            .then(vec![InteractionCategorised {
                category: "delivery".into(),
                confidence_permille,
                at: NOW,
            }
            .into()]);
    }
}

// ---------------------------------------------------------------------------------------------
// The supervisor lock rule: supervisors act only while the interaction waits in the system
// (received or queued). Routing's lock (locked, offered) and an agent's work (assigned, replied)
// keep them out; a finished interaction stays finished.
// ---------------------------------------------------------------------------------------------

#[track_caller]
fn refused_while_routing_holds_the_lock(command: InteractionCommand) {
    for (history, status) in [
        (locked(), "locked"),
        (offered_to("alice", DEADLINE), "offered"),
    ] {
        Spec::given(history)
            .when(command.clone())
            .then_reject(Rejection::LockedByRouting { status });
    }
}

#[track_caller]
fn refused_while_an_agent_works_it(command: InteractionCommand) {
    for (history, status) in [
        (assigned_to("alice"), "assigned"),
        (replied("alice"), "replied"),
    ] {
        Spec::given(history)
            .when(command.clone())
            .then_reject(Rejection::BeingWorked { status });
    }
}

#[track_caller]
fn refused_once_finished(command: InteractionCommand) {
    for (history, status) in [(done(), "done"), (stopped(), "stopped")] {
        Spec::given(history)
            .when(command.clone())
            .then_reject(Rejection::Finished { status });
    }
}

#[test]
fn supervisor_moves_a_received_interaction_into_a_queue() {
    let state = Spec::given(received())
        .when(supervisor_move("billing"))
        .then(vec![MovedBySupervisor {
            supervisor: agent("sam"),
            from_queue: None,
            to_queue: queue("billing"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Queued);
    assert_eq!(state.queue, Some(queue("billing")));
}

#[test]
fn supervisor_moves_a_queued_interaction_to_another_queue() {
    let state = Spec::given(queued("inbound"))
        .when(supervisor_move("billing"))
        .then(vec![MovedBySupervisor {
            supervisor: agent("sam"),
            from_queue: Some(queue("inbound")),
            to_queue: queue("billing"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Queued);
    assert_eq!(state.queue, Some(queue("billing")));
}

#[test]
fn supervisor_move_to_the_queue_it_is_already_in_is_a_no_op() {
    let before = Spec::given(queued("inbound")).state;
    let after = Spec::given(queued("inbound"))
        .when(supervisor_move("inbound"))
        .then(vec![]);
    assert_eq!(after, before);
}

#[test]
fn supervisor_cannot_move_while_routing_holds_the_lock() {
    refused_while_routing_holds_the_lock(supervisor_move("billing"));
}

#[test]
fn supervisor_cannot_move_even_to_the_same_queue_while_routing_holds_the_lock() {
    // The no-op shortcut must not open a way around the lock.
    refused_while_routing_holds_the_lock(supervisor_move("inbound"));
}

#[test]
fn supervisor_cannot_move_while_an_agent_works_it() {
    refused_while_an_agent_works_it(supervisor_move("billing"));
}

#[test]
fn supervisor_cannot_move_a_finished_interaction() {
    refused_once_finished(supervisor_move("billing"));
}

#[test]
fn supervisor_reprioritises_a_waiting_interaction() {
    for history in [received(), queued("inbound")] {
        let state = Spec::given(history)
            .when(supervisor_reprioritise(9))
            .then(vec![Reprioritised {
                supervisor: agent("sam"),
                priority: 9,
                at: NOW,
            }
            .into()]);
        assert_eq!(state.priority, 9);
    }
}

#[test]
fn reprioritising_to_the_same_priority_is_a_no_op() {
    for history in [received(), queued("inbound")] {
        let before = Spec::given(history.clone()).state;
        let after = Spec::given(history)
            .when(supervisor_reprioritise(PRIORITY))
            .then(vec![]);
        assert_eq!(after, before);
    }
}

#[test]
fn supervisor_cannot_reprioritise_while_routing_holds_the_lock() {
    refused_while_routing_holds_the_lock(supervisor_reprioritise(9));
    refused_while_routing_holds_the_lock(supervisor_reprioritise(PRIORITY));
}

#[test]
fn supervisor_cannot_reprioritise_while_an_agent_works_it() {
    refused_while_an_agent_works_it(supervisor_reprioritise(9));
}

#[test]
fn supervisor_cannot_reprioritise_a_finished_interaction() {
    refused_once_finished(supervisor_reprioritise(9));
}

#[test]
fn supervisor_assigns_a_waiting_interaction_to_an_agent() {
    let state = Spec::given(queued("inbound"))
        .when(supervisor_assign("bob"))
        .then(vec![AssignedBySupervisor {
            supervisor: agent("sam"),
            agent: agent("bob"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Assigned);
    assert_eq!(state.owner, Some(agent("bob")));
}

#[test]
fn supervisor_cannot_assign_work_that_has_no_queue_to_fall_back_to() {
    // Otherwise a rejected or expired offer would leave it queued nowhere.
    Spec::given(received())
        .when(supervisor_assign("bob"))
        .then_reject(Rejection::NoQueue);
}

#[test]
fn supervisor_cannot_assign_while_routing_holds_the_lock() {
    refused_while_routing_holds_the_lock(supervisor_assign("bob"));
}

#[test]
fn supervisor_cannot_assign_while_an_agent_works_it() {
    refused_while_an_agent_works_it(supervisor_assign("bob"));
}

#[test]
fn supervisor_cannot_assign_a_finished_interaction() {
    refused_once_finished(supervisor_assign("bob"));
}

#[test]
fn a_waiting_interaction_can_be_stopped_by_a_supervisor_or_a_component() {
    for history in [received(), queued("inbound")] {
        for by in ["user:sam", "system:screening"] {
            let state = Spec::given(history.clone())
                .when(stop(by, "spam"))
                .then(vec![InteractionStopped {
                    by: by.into(),
                    reason: "spam".into(),
                    at: NOW,
                }
                .into()]);
            assert_eq!(
                state.status,
                Status::Stopped {
                    reason: "spam".into()
                }
            );
            assert!(state.status.is_terminal());
        }
    }
}

#[test]
fn stop_requires_a_reason() {
    for reason in ["", "  \t"] {
        Spec::given(queued("inbound"))
            .when(stop("user:sam", reason))
            .then_reject(Rejection::ReasonRequired);
    }
}

#[test]
fn nothing_can_be_stopped_while_routing_holds_the_lock() {
    refused_while_routing_holds_the_lock(stop("user:sam", "spam"));
    refused_while_routing_holds_the_lock(stop("system:screening", "spam"));
}

#[test]
fn nothing_can_be_stopped_while_an_agent_works_it() {
    refused_while_an_agent_works_it(stop("user:sam", "spam"));
}

#[test]
fn a_finished_interaction_cannot_be_stopped() {
    refused_once_finished(stop("user:sam", "spam"));
}

// ---------------------------------------------------------------------------------------------
// Reply: drafting, release and review.
// ---------------------------------------------------------------------------------------------

fn update_draft(by: &str) -> InteractionCommand {
    InteractionCommand::UpdateDraft {
        agent: agent(by),
        content: body(3),
        at: NOW,
    }
}

fn release(by: &str) -> InteractionCommand {
    InteractionCommand::ReleaseReply {
        agent: agent(by),
        at: NOW,
    }
}

fn queue_outbound() -> InteractionCommand {
    InteractionCommand::QueueOutbound {
        queue: queue("outbound"),
        at: NOW,
    }
}

fn start_review(by: &str) -> InteractionCommand {
    InteractionCommand::StartReview {
        reviewer: agent(by),
        at: NOW,
    }
}

fn approve(by: &str) -> InteractionCommand {
    InteractionCommand::ApproveReply {
        reviewer: agent(by),
        at: NOW,
    }
}

fn return_for_revision(by: &str, note: &str) -> InteractionCommand {
    InteractionCommand::ReturnForRevision {
        reviewer: agent(by),
        note: note.into(),
        at: NOW,
    }
}

#[test]
fn the_author_updates_the_draft() {
    let state = Spec::given(drafted_by("alice"))
        .when(update_draft("alice"))
        .then(vec![DraftUpdated {
            agent: agent("alice"),
            content: body(3),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.content, body(3));
    assert_eq!(state.status, Status::Draft);
}

#[test]
fn only_the_author_can_update_the_draft() {
    Spec::given(drafted_by("alice"))
        .when(update_draft("bob"))
        .then_reject(Rejection::NotOwner {
            agent: agent("bob"),
        });
}

#[test]
fn a_reply_can_be_updated_only_while_it_is_a_draft() {
    for (history, status) in [
        (released(), "released"),
        (outbound_queued(), "outbound_queued"),
        (in_review_by("sam"), "in_review"),
        (approved(), "approved"),
        (sending(), "sending"),
        (failed(), "failed"),
    ] {
        Spec::given(history)
            .when(update_draft("alice"))
            .then_reject(Rejection::InvalidState {
                command: "update_draft",
                status,
            });
    }
}

#[test]
fn the_author_releases_the_draft() {
    let state = Spec::given(drafted_by("alice"))
        .when(release("alice"))
        .then(vec![ReplyReleased {
            agent: agent("alice"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Released);
}

#[test]
fn only_the_author_can_release_the_draft() {
    Spec::given(drafted_by("alice"))
        .when(release("bob"))
        .then_reject(Rejection::NotOwner {
            agent: agent("bob"),
        });
}

#[test]
fn releasing_needs_a_draft() {
    for (history, status) in [
        (released(), "released"),
        (outbound_queued(), "outbound_queued"),
    ] {
        Spec::given(history)
            .when(release("alice"))
            .then_reject(Rejection::InvalidState {
                command: "release_reply",
                status,
            });
    }
}

#[test]
fn a_released_reply_is_queued_outbound() {
    let state = Spec::given(released())
        .when(queue_outbound())
        .then(vec![OutboundQueued {
            queue: queue("outbound"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::OutboundQueued);
    assert_eq!(state.queue, Some(queue("outbound")));
}

#[test]
fn queueing_outbound_needs_a_released_reply() {
    for (history, status) in [
        (drafted_by("alice"), "draft"),
        (outbound_queued(), "outbound_queued"),
        (approved(), "approved"),
    ] {
        Spec::given(history)
            .when(queue_outbound())
            .then_reject(Rejection::InvalidState {
                command: "queue_outbound",
                status,
            });
    }
}

#[test]
fn a_colleague_starts_the_review() {
    let state = Spec::given(outbound_queued())
        .when(start_review("sam"))
        .then(vec![ReviewStarted {
            reviewer: agent("sam"),
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.status,
        Status::InReview {
            reviewer: agent("sam")
        }
    );
}

#[test]
fn the_author_cannot_review_their_own_reply() {
    Spec::given(outbound_queued())
        .when(start_review("alice"))
        .then_reject(Rejection::SelfReview);
}

#[test]
fn review_needs_a_reply_in_the_outbound_queue() {
    for (history, status) in [
        (released(), "released"),
        (in_review_by("sam"), "in_review"),
        (approved(), "approved"),
    ] {
        Spec::given(history)
            .when(start_review("sam"))
            .then_reject(Rejection::InvalidState {
                command: "start_review",
                status,
            });
    }
}

#[test]
fn the_reviewer_approves_the_reply() {
    let state = Spec::given(in_review_by("sam"))
        .when(approve("sam"))
        .then(vec![ReplyApproved {
            reviewer: agent("sam"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Approved);
}

#[test]
fn only_the_reviewer_can_approve() {
    for someone_else in ["bob", "alice"] {
        Spec::given(in_review_by("sam"))
            .when(approve(someone_else))
            .then_reject(Rejection::NotReviewer {
                agent: agent(someone_else),
            });
    }
}

#[test]
fn approving_needs_a_review_in_progress() {
    for (history, status) in [
        (outbound_queued(), "outbound_queued"),
        (approved(), "approved"),
    ] {
        Spec::given(history)
            .when(approve("sam"))
            .then_reject(Rejection::InvalidState {
                command: "approve_reply",
                status,
            });
    }
}

#[test]
fn the_reviewer_returns_the_reply_to_its_author_as_a_draft() {
    let state = Spec::given(in_review_by("sam"))
        .when(return_for_revision("sam", "please apologise for the delay"))
        .then(vec![ReturnedForRevision {
            reviewer: agent("sam"),
            note: "please apologise for the delay".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Draft);
    assert_eq!(state.revisions, 1);
    assert_eq!(state.owner, Some(agent("alice")));
}

#[test]
fn returning_for_revision_requires_a_note() {
    for note in ["", "   "] {
        Spec::given(in_review_by("sam"))
            .when(return_for_revision("sam", note))
            .then_reject(Rejection::ReasonRequired);
    }
}

#[test]
fn only_the_reviewer_can_return_for_revision() {
    Spec::given(in_review_by("sam"))
        .when(return_for_revision("bob", "too curt"))
        .then_reject(Rejection::NotReviewer {
            agent: agent("bob"),
        });
}

#[test]
fn returning_for_revision_needs_a_review_in_progress() {
    for (history, status) in [
        (outbound_queued(), "outbound_queued"),
        (approved(), "approved"),
    ] {
        Spec::given(history)
            .when(return_for_revision("sam", "too curt"))
            .then_reject(Rejection::InvalidState {
                command: "return_for_revision",
                status,
            });
    }
}

// ---------------------------------------------------------------------------------------------
// Reply: sending.
// ---------------------------------------------------------------------------------------------

fn start_sending() -> InteractionCommand {
    InteractionCommand::StartSending { at: NOW }
}

fn mark_sent(message_id: &str) -> InteractionCommand {
    InteractionCommand::MarkSent {
        message_id: message_id.into(),
        at: NOW,
    }
}

fn mark_send_failed(retry_at: Option<Millis>) -> InteractionCommand {
    InteractionCommand::MarkSendFailed {
        error: "421 try again later".into(),
        retry_at,
        at: NOW,
    }
}

#[test]
fn sending_starts_straight_from_the_outbound_queue_when_no_review_is_needed() {
    let state = Spec::given(outbound_queued())
        .when(start_sending())
        .then(vec![SendingStarted {
            attempt: 1,
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Sending { attempt: 1 });
    assert_eq!(state.attempts, 1);
}

#[test]
fn sending_starts_after_approval() {
    Spec::given(approved())
        .when(start_sending())
        .then(vec![SendingStarted {
            attempt: 1,
            at: NOW,
        }
        .into()]);
}

#[test]
fn sending_again_after_a_failure_is_the_next_attempt() {
    let state = Spec::given(failed())
        .when(start_sending())
        .then(vec![SendingStarted {
            attempt: 2,
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Sending { attempt: 2 });
    assert_eq!(state.attempts, 2);
}

#[test]
fn sending_needs_a_reply_that_is_queued_approved_or_failed() {
    for (history, status) in [
        (drafted_by("alice"), "draft"),
        (released(), "released"),
        (in_review_by("sam"), "in_review"),
        (sending(), "sending"),
    ] {
        Spec::given(history)
            .when(start_sending())
            .then_reject(Rejection::InvalidState {
                command: "start_sending",
                status,
            });
    }
}

#[test]
fn starting_to_send_a_sent_reply_is_already_sent() {
    Spec::given(sent())
        .when(start_sending())
        .then_reject(Rejection::AlreadySent);
}

#[test]
fn the_mailer_marks_the_reply_sent_and_it_is_finished() {
    let state = Spec::given(sending())
        .when(mark_sent(MESSAGE_ID))
        .then(vec![ReplySent {
            message_id: MESSAGE_ID.into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.status,
        Status::Sent {
            message_id: MESSAGE_ID.into()
        }
    );
    assert!(state.status.is_terminal());
}

#[test]
fn a_sent_reply_needs_a_message_id() {
    for message_id in ["", "  "] {
        Spec::given(sending())
            .when(mark_sent(message_id))
            .then_reject(Rejection::InvalidValue("the message id must not be empty"));
    }
}

#[test]
fn marking_a_sent_reply_sent_again_is_already_sent() {
    Spec::given(sent())
        .when(mark_sent(MESSAGE_ID))
        .then_reject(Rejection::AlreadySent);
}

#[test]
fn marking_sent_needs_a_send_in_progress() {
    for (history, status) in [(approved(), "approved"), (failed(), "failed")] {
        Spec::given(history)
            .when(mark_sent(MESSAGE_ID))
            .then_reject(Rejection::InvalidState {
                command: "mark_sent",
                status,
            });
    }
}

#[test]
fn a_failed_send_records_the_attempt_and_when_to_retry() {
    let state = Spec::given(sending())
        .when(mark_send_failed(Some(DEADLINE)))
        .then(vec![SendFailed {
            attempt: 1,
            error: "421 try again later".into(),
            retry_at: Some(DEADLINE),
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.status,
        Status::Failed {
            attempt: 1,
            retry_at: Some(DEADLINE)
        }
    );
    assert!(!state.status.is_terminal());
}

#[test]
fn a_failed_send_may_give_up_without_a_retry() {
    let state = Spec::given(sending())
        .when(mark_send_failed(None))
        .then(vec![SendFailed {
            attempt: 1,
            error: "421 try again later".into(),
            retry_at: None,
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.status,
        Status::Failed {
            attempt: 1,
            retry_at: None
        }
    );
}

#[test]
fn a_retry_time_must_be_later_than_the_failure() {
    for retry_at in [NOW, Millis(NOW.0 - 1)] {
        Spec::given(sending())
            .when(mark_send_failed(Some(retry_at)))
            .then_reject(Rejection::DeadlineInPast);
    }
}

#[test]
fn marking_a_sent_reply_failed_is_already_sent() {
    Spec::given(sent())
        .when(mark_send_failed(Some(DEADLINE)))
        .then_reject(Rejection::AlreadySent);
}

#[test]
fn marking_failed_needs_a_send_in_progress() {
    for (history, status) in [(approved(), "approved"), (failed(), "failed")] {
        Spec::given(history)
            .when(mark_send_failed(None))
            .then_reject(Rejection::InvalidState {
                command: "mark_send_failed",
                status,
            });
    }
}

// ---------------------------------------------------------------------------------------------
// Reply: stopping.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_reply_can_be_stopped_until_it_is_on_its_way_out() {
    for history in [
        drafted_by("alice"),
        released(),
        outbound_queued(),
        approved(),
        failed(),
    ] {
        let state = Spec::given(history)
            .when(stop("user:alice", "the customer called instead"))
            .then(vec![InteractionStopped {
                by: "user:alice".into(),
                reason: "the customer called instead".into(),
                at: NOW,
            }
            .into()]);
        assert!(state.status.is_terminal());
    }
}

#[test]
fn a_reply_under_review_or_being_sent_cannot_be_stopped() {
    for (history, status) in [(in_review_by("sam"), "in_review"), (sending(), "sending")] {
        Spec::given(history)
            .when(stop("user:alice", "the customer called instead"))
            .then_reject(Rejection::InvalidState {
                command: "stop",
                status,
            });
    }
}

#[test]
fn a_sent_reply_cannot_be_stopped() {
    Spec::given(sent())
        .when(stop("user:alice", "the customer called instead"))
        .then_reject(Rejection::Finished { status: "sent" });
}

#[test]
fn stopping_a_reply_requires_a_reason() {
    Spec::given(drafted_by("alice"))
        .when(stop("user:alice", " "))
        .then_reject(Rejection::ReasonRequired);
}

// ---------------------------------------------------------------------------------------------
// Evolve: what the state remembers.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_version_counts_every_event_applied() {
    assert_eq!(Spec::given(vec![]).state.version, 0);
    assert_eq!(Spec::given(received()).state.version, 1);
    assert_eq!(Spec::given(assigned_to("alice")).state.version, 5);
    assert_eq!(Spec::given(done()).state.version, 7);
    assert_eq!(Spec::given(sent()).state.version, 7);
}

#[test]
fn created_at_is_the_first_event_and_updated_at_the_last() {
    let state = Spec::given(done()).state;
    assert_eq!(state.created_at, RECEIVED_AT);
    assert_eq!(state.updated_at, DONE_AT);
    let state = Spec::given(failed()).state;
    assert_eq!(state.created_at, DRAFTED_AT);
    assert_eq!(state.updated_at, FAILED_AT);
}

#[test]
fn an_inbound_interaction_goes_from_receipt_through_consultation_to_done() {
    use InteractionCommand as C;
    let (state, types) = play(vec![
        receive(),
        C::Enqueue {
            queue: queue("inbound"),
            at: QUEUED_AT,
        },
        C::LockForRouting {
            router: "router".into(),
            at: LOCKED_AT,
        },
        C::Offer {
            agent: agent("alice"),
            deadline: DEADLINE,
            at: OFFERED_AT,
        },
        C::AcceptOffer {
            agent: agent("alice"),
            at: ACCEPTED_AT,
        },
        C::StartConsultation {
            agent: agent("alice"),
            consultant: agent("bob"),
            at: CONSULTED_AT,
        },
        C::EndConsultation {
            agent: agent("bob"),
            consultant: agent("bob"),
            at: Millis(6_500),
        },
        C::RecordReply {
            agent: agent("alice"),
            reply: reply_id(1),
            at: REPLIED_AT,
        },
        C::MarkDone {
            by: Actor::Agent(agent("alice")),
            at: DONE_AT,
        },
    ]);
    assert_eq!(
        types,
        [
            "InteractionReceived",
            "InteractionQueued",
            "RoutingLocked",
            "InteractionOffered",
            "OfferAccepted",
            "ConsultationStarted",
            "ConsultationEnded",
            "InteractionReplied",
            "InteractionDone",
        ]
    );
    assert_eq!(state.kind, Kind::Inbound);
    assert_eq!(state.status, Status::Done);
    assert_eq!(state.queue, Some(queue("inbound")));
    assert_eq!(state.owner, Some(agent("alice")));
    assert!(state.consultants.is_empty());
    assert_eq!(state.replies, vec![reply_id(1)]);
    assert_eq!(state.version, 9);
    assert_eq!(state.created_at, RECEIVED_AT);
    assert_eq!(state.updated_at, DONE_AT);
}

#[test]
fn a_reply_goes_through_revision_and_a_failed_attempt_to_sent() {
    use InteractionCommand as C;
    let (state, types) = play(vec![
        draft_reply("alice"),
        C::ReleaseReply {
            agent: agent("alice"),
            at: RELEASED_AT,
        },
        C::QueueOutbound {
            queue: queue("outbound"),
            at: OUTBOUND_AT,
        },
        C::StartReview {
            reviewer: agent("sam"),
            at: REVIEW_AT,
        },
        C::ReturnForRevision {
            reviewer: agent("sam"),
            note: "mention the tracking number".into(),
            at: Millis(14_500),
        },
        C::UpdateDraft {
            agent: agent("alice"),
            content: body(4),
            at: Millis(14_600),
        },
        C::ReleaseReply {
            agent: agent("alice"),
            at: Millis(14_700),
        },
        C::QueueOutbound {
            queue: queue("outbound"),
            at: Millis(14_800),
        },
        C::StartReview {
            reviewer: agent("sam"),
            at: Millis(14_900),
        },
        C::ApproveReply {
            reviewer: agent("sam"),
            at: APPROVED_AT,
        },
        C::StartSending { at: SENDING_AT },
        C::MarkSendFailed {
            error: "421 try again later".into(),
            retry_at: Some(RETRY_AT),
            at: FAILED_AT,
        },
        C::StartSending { at: RETRY_AT },
        C::MarkSent {
            message_id: MESSAGE_ID.into(),
            at: Millis(31_000),
        },
    ]);
    assert_eq!(
        types,
        [
            "ReplyDrafted",
            "ReplyReleased",
            "OutboundQueued",
            "ReviewStarted",
            "ReturnedForRevision",
            "DraftUpdated",
            "ReplyReleased",
            "OutboundQueued",
            "ReviewStarted",
            "ReplyApproved",
            "SendingStarted",
            "SendFailed",
            "SendingStarted",
            "ReplySent",
        ]
    );
    assert_eq!(
        state.kind,
        Kind::Reply {
            parent: parent_id()
        }
    );
    assert_eq!(
        state.status,
        Status::Sent {
            message_id: MESSAGE_ID.into()
        }
    );
    assert_eq!(state.content, body(4));
    assert_eq!(state.owner, Some(agent("alice")));
    assert_eq!(state.revisions, 1);
    assert_eq!(state.attempts, 2);
    assert_eq!(state.version, 14);
    assert_eq!(state.updated_at, Millis(31_000));
}

// ---------------------------------------------------------------------------------------------
// Threading and delivery reports.
// ---------------------------------------------------------------------------------------------

#[test]
fn receiving_with_a_thread_records_the_link_in_the_same_decision() {
    let thread = reply_id(77);
    let mut cmd = receive();
    if let InteractionCommand::Receive { thread: t, .. } = &mut cmd {
        *t = Some(ThreadLink {
            thread,
            matched_by: ThreadMatch::Token,
            reference: Some("K7F3Q".into()),
            answers: Some(reply_id(78)),
        });
    }
    let state = Spec::given(vec![]).when(cmd).then(and(
        received(),
        ThreadLinked {
            thread,
            matched_by: ThreadMatch::Token,
            reference: Some("K7F3Q".into()),
            answers: Some(reply_id(78)),
            at: RECEIVED_AT,
        },
    ));
    assert_eq!(state.thread, Some(thread));
    assert_eq!(state.thread_match, Some(ThreadMatch::Token));
    assert_eq!(state.thread_of(parent_id()), thread);
}

#[test]
fn an_interaction_without_a_link_is_its_own_thread_and_a_reply_is_in_its_parents() {
    let state = Spec::given(received()).state;
    assert_eq!(state.thread_of(parent_id()), parent_id());
    let reply = Spec::given(drafted_by("alice")).state;
    assert_eq!(reply.thread_of(reply_id(1)), parent_id());
}

#[test]
fn a_delivery_report_is_recorded_on_a_reply_handed_to_the_mailer() {
    for given in [sending(), sent(), failed()] {
        let state = Spec::given(given)
            .when(delivery_report("bounce-1"))
            .then(vec![report("bounce-1").into()]);
        assert_eq!(state.delivery.len(), 1);
        assert_eq!(state.delivery[0].action, "failed");
        assert_eq!(state.delivery[0].status.as_deref(), Some("5.1.1"));
        assert!(state.status.name() != "new");
    }
}

#[test]
fn the_same_delivery_report_is_recorded_once_and_another_is_added() {
    let given = and(sent(), report("bounce-1"));
    Spec::given(given.clone())
        .when(delivery_report("bounce-1"))
        .then_reject(Rejection::AlreadyExists);
    let state = Spec::given(given)
        .when(delivery_report("bounce-2"))
        .then(vec![report("bounce-2").into()]);
    assert_eq!(state.delivery.len(), 2);
}

#[test]
fn a_delivery_report_needs_a_reply_that_was_handed_to_the_mailer() {
    Spec::given(received())
        .when(delivery_report("b"))
        .then_reject(Rejection::WrongKind {
            command: "record_delivery_report",
            expected: "reply",
        });
    Spec::given(vec![])
        .when(delivery_report("b"))
        .then_reject(Rejection::NotFound);
    Spec::given(approved())
        .when(delivery_report("b"))
        .then_reject(Rejection::InvalidState {
            command: "record_delivery_report",
            status: "approved",
        });
    Spec::given(reply_stopped())
        .when(delivery_report("b"))
        .then_reject(Rejection::Finished { status: "stopped" });
}
