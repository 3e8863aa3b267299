//! The reply's lifecycle: drafting, release, review, sending, stopping.

use super::*;

// ---------------------------------------------------------------------------------------------
// Reply: drafting, release and review.
// ---------------------------------------------------------------------------------------------

fn update_draft(by: &str) -> InteractionCommand {
    InteractionCommand::UpdateDraft {
        html: None,
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
            html: None,
            agent: agent("alice"),
            content: body(3),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.content, body(3));
    assert_eq!(state.status, Status::Reply(ReplyStatus::Draft));
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
    assert_eq!(state.status, Status::Reply(ReplyStatus::Released));
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
    assert_eq!(state.status, Status::Reply(ReplyStatus::OutboundQueued));
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
        Status::Reply(ReplyStatus::InReview {
            reviewer: agent("sam")
        })
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
    assert_eq!(state.status, Status::Reply(ReplyStatus::Approved));
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
    assert_eq!(state.status, Status::Reply(ReplyStatus::Draft));
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
    assert_eq!(
        state.status,
        Status::Reply(ReplyStatus::Sending { attempt: 1 })
    );
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
    assert_eq!(
        state.status,
        Status::Reply(ReplyStatus::Sending { attempt: 2 })
    );
    assert_eq!(state.attempts, 2);
}

#[test]
fn an_attempt_whose_outcome_was_never_recorded_is_followed_by_the_next() {
    // The mailer stopped between starting an attempt and recording its outcome: it sends again.
    Spec::given(sending())
        .when(start_sending())
        .then(vec![SendingStarted {
            attempt: 2,
            at: NOW,
        }
        .into()]);
}

#[test]
fn sending_needs_a_reply_that_is_queued_approved_or_failed() {
    for (history, status) in [
        (drafted_by("alice"), "draft"),
        (released(), "released"),
        (in_review_by("sam"), "in_review"),
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
        Status::Reply(ReplyStatus::Sent {
            message_id: MESSAGE_ID.into()
        })
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
        Status::Reply(ReplyStatus::Failed {
            attempt: 1,
            retry_at: Some(DEADLINE)
        })
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
        Status::Reply(ReplyStatus::Failed {
            attempt: 1,
            retry_at: None
        })
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

#[test]
fn the_author_sends_a_draft_composed_in_one_append_and_nobody_else_can() {
    let state = Spec::given(drafted_by("alice"))
        .when(send_reply("alice"))
        .then(vec![
            ReplyReleased {
                agent: agent("alice"),
                at: NOW,
            }
            .into(),
            ReplyComposed {
                message: ContentRef([9; 32]),
                message_id: "r1@example.com".into(),
                at: NOW,
            }
            .into(),
            OutboundQueued {
                queue: queue("outbound"),
                at: NOW,
            }
            .into(),
            no_review().into(),
        ]);
    assert_eq!(state.status, Status::Reply(ReplyStatus::OutboundQueued));
    assert_eq!(state.outbound, Some(ContentRef([9; 32])));
    assert_eq!(state.message_id.as_deref(), Some("r1@example.com"));
    assert!(state.send_due(NOW), "it waits in the outbox");
    Spec::given(drafted_by("alice"))
        .when(send_reply("bob"))
        .then_reject(Rejection::NotOwner {
            agent: agent("bob"),
        });
    // Sent once: a second release finds it no longer a draft.
    Spec::given(released())
        .when(send_reply("alice"))
        .then_reject(Rejection::InvalidState {
            command: "send_reply",
            status: "released",
        });
}
