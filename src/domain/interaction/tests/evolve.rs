//! Evolve (what the state remembers), threading and delivery reports.

use super::*;

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
            due: None,
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
            explained: None,
        },
        C::AcceptOffer {
            agent: agent("alice"),
            at: ACCEPTED_AT,
        },
        C::StartConsultation {
            note: String::new(),
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
            disposition: Some("resolved".into()),
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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Done));
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
            html: None,
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
        Status::Reply(ReplyStatus::Sent {
            message_id: MESSAGE_ID.into()
        })
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
