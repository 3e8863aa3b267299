//! QA review: the policy's decision recorded with the release, offers to reviewers (never the
//! author), approve, return, edit and approve, reassign.

use super::*;

fn needs_review() -> ReviewDecided {
    ReviewDecided {
        required: true,
        reasons: vec![ReviewReason {
            rule: "trainee".into(),
            detail: "the author is flagged trainee".into(),
        }],
        policy: "qa-test".into(),
        queue: Some(queue("review")),
        at: NOW,
    }
}

fn release_for_review() -> InteractionCommand {
    match send_reply("alice") {
        InteractionCommand::SendReply {
            agent,
            queue,
            message,
            message_id,
            at,
            ..
        } => InteractionCommand::SendReply {
            agent,
            queue,
            message,
            message_id,
            review: Box::new(needs_review()),
            at,
        },
        _ => unreachable!(),
    }
}

fn awaiting() -> Vec<InteractionEvent> {
    let mut h = drafted_by("alice");
    let s = Spec::given(h.clone()).when(release_for_review());
    h.extend(s.result.clone().unwrap());
    h
}

fn offer(name: &str) -> InteractionCommand {
    InteractionCommand::Offer {
        agent: agent(name),
        deadline: DEADLINE,
        at: NOW,
        explained: None,
    }
}

fn review_offered(name: &str) -> Vec<InteractionEvent> {
    and(
        awaiting(),
        InteractionOffered {
            agent: agent(name),
            deadline: DEADLINE,
            at: NOW,
        },
    )
}

#[test]
fn a_reply_that_needs_review_waits_for_a_reviewer_and_is_not_sent() {
    let state = Spec::given(drafted_by("alice"))
        .when(release_for_review())
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
            needs_review().into(),
        ]);
    assert_eq!(state.status, Status::Reply(ReplyStatus::AwaitingReview));
    assert_eq!(state.queue, Some(queue("review")));
    assert!(!state.send_due(NOW), "nothing goes out before the review");
}

#[test]
fn a_review_is_offered_to_a_reviewer_never_to_the_author() {
    Spec::given(awaiting())
        .when(offer("alice"))
        .then_reject(Rejection::SelfReview);
    let state = Spec::given(awaiting())
        .when(offer("sam"))
        .then(vec![InteractionOffered {
            agent: agent("sam"),
            deadline: DEADLINE,
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status.offer(), Some((&agent("sam"), DEADLINE)));
    assert_eq!(
        state.owner,
        Some(agent("alice")),
        "the author stays the owner"
    );
    let accepted = Spec::given(review_offered("sam"))
        .when(InteractionCommand::AcceptOffer {
            agent: agent("sam"),
            at: NOW,
        })
        .then(vec![OfferAccepted {
            agent: agent("sam"),
            at: NOW,
        }
        .into()]);
    assert_eq!(
        accepted.status,
        Status::Reply(ReplyStatus::InReview {
            reviewer: agent("sam")
        })
    );
    assert_eq!(accepted.owner, Some(agent("alice")));
    Spec::given(review_offered("sam"))
        .when(InteractionCommand::AcceptOffer {
            agent: agent("bob"),
            at: NOW,
        })
        .then_reject(Rejection::NotYourOffer {
            agent: agent("bob"),
        });
    let expired = Spec::given(review_offered("sam"))
        .when(InteractionCommand::ExpireOffer { at: DEADLINE })
        .then(vec![OfferExpired {
            agent: agent("sam"),
            at: DEADLINE,
        }
        .into()]);
    assert_eq!(expired.status, Status::Reply(ReplyStatus::AwaitingReview));
    // Routing's lock is for inbound work only.
    Spec::given(awaiting())
        .when(InteractionCommand::LockForRouting {
            router: "router".into(),
            at: NOW,
        })
        .then_reject(Rejection::WrongKind {
            command: "lock_for_routing",
            expected: "inbound",
        });
}

#[test]
fn approving_an_offered_review_accepts_it_first_and_the_outbox_sends_it() {
    let state = Spec::given(review_offered("sam"))
        .when(InteractionCommand::ApproveReply {
            reviewer: agent("sam"),
            at: NOW,
        })
        .then(vec![
            OfferAccepted {
                agent: agent("sam"),
                at: NOW,
            }
            .into(),
            ReplyApproved {
                reviewer: agent("sam"),
                at: NOW,
            }
            .into(),
        ]);
    assert!(state.send_due(NOW));
    Spec::given(review_offered("sam"))
        .when(InteractionCommand::ApproveReply {
            reviewer: agent("bob"),
            at: NOW,
        })
        .then_reject(Rejection::NotReviewer {
            agent: agent("bob"),
        });
}

#[test]
fn edit_and_approve_records_the_diff_and_the_new_message() {
    let state = Spec::given(review_offered("sam"))
        .when(InteractionCommand::EditAndApprove {
            reviewer: agent("sam"),
            content: body(5),
            html: None,
            message: ContentRef([7; 32]),
            diff: "- old\n+ new\n".into(),
            at: NOW,
        })
        .then(vec![
            OfferAccepted {
                agent: agent("sam"),
                at: NOW,
            }
            .into(),
            ReviewEdited {
                reviewer: agent("sam"),
                content: body(5),
                html: None,
                message: ContentRef([7; 32]),
                diff: "- old\n+ new\n".into(),
                at: NOW,
            }
            .into(),
            ReplyApproved {
                reviewer: agent("sam"),
                at: NOW,
            }
            .into(),
        ]);
    assert_eq!(state.outbound, Some(ContentRef([7; 32])));
    assert_eq!(state.content, body(5));
}

#[test]
fn a_returned_reply_is_revised_and_released_into_review_again() {
    let returned = and(
        review_offered("sam"),
        ReturnedForRevision {
            reviewer: agent("sam"),
            note: "apologise for the delay".into(),
            at: NOW,
        },
    );
    let state = Spec::given(returned.clone())
        .when(update_draft_by("alice"))
        .then(vec![DraftUpdated {
            agent: agent("alice"),
            content: body(3),
            html: None,
            at: NOW,
        }
        .into()]);
    assert_eq!(state.revisions, 1);
    assert!(state.offered_to.is_empty(), "a new round may go to anyone");
    let again = Spec::given(returned)
        .when(release_for_review())
        .result
        .unwrap();
    assert_eq!(again.len(), 4);
}

fn update_draft_by(name: &str) -> InteractionCommand {
    InteractionCommand::UpdateDraft {
        agent: agent(name),
        content: body(3),
        html: None,
        at: NOW,
    }
}

#[test]
fn a_review_is_reassigned_by_its_reviewer_or_a_supervisor_never_to_the_author() {
    let reassign = |to: &str, by: Option<&str>| InteractionCommand::ReassignReview {
        to: agent(to),
        by: by.map(agent),
        at: NOW,
    };
    let state = Spec::given(review_offered("sam"))
        .when(reassign("rita", Some("sam")))
        .then(vec![ReviewReassigned {
            from: Some(agent("sam")),
            to: agent("rita"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status.reviewer(), Some(&agent("rita")));
    Spec::given(review_offered("sam"))
        .when(reassign("rita", Some("bob")))
        .then_reject(Rejection::NotReviewer {
            agent: agent("bob"),
        });
    Spec::given(awaiting())
        .when(reassign("rita", None))
        .then(vec![ReviewReassigned {
            from: None,
            to: agent("rita"),
            at: NOW,
        }
        .into()]);
    Spec::given(awaiting())
        .when(reassign("alice", None))
        .then_reject(Rejection::SelfReview);
    Spec::given(drafted_by("alice"))
        .when(reassign("rita", None))
        .then_reject(Rejection::InvalidState {
            command: "reassign_review",
            status: "draft",
        });
}

#[test]
fn a_reply_waiting_for_a_reviewer_can_be_stopped_not_once_one_holds_it() {
    let state = Spec::given(awaiting())
        .when(stop("user:sam", "sent by telephone instead"))
        .then(vec![InteractionStopped {
            by: "user:sam".into(),
            reason: "sent by telephone instead".into(),
            at: NOW,
        }
        .into()]);
    assert!(!state.send_due(NOW));
    Spec::given(review_offered("sam"))
        .when(stop("user:sam", "sent by telephone instead"))
        .then_reject(Rejection::InvalidState {
            command: "stop",
            status: "review_offered",
        });
}
