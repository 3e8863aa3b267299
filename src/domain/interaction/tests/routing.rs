//! Enqueue, routing, and accepting, rejecting and expiring offers.

use super::*;

// ---------------------------------------------------------------------------------------------
// Enqueue and routing.
// ---------------------------------------------------------------------------------------------

#[test]
fn enqueue_puts_a_received_interaction_in_its_queue() {
    let state = Spec::given(received())
        .when(InteractionCommand::Enqueue {
            queue: queue("inbound"),
            due: None,
            at: QUEUED_AT,
        })
        .then(vec![InteractionQueued {
            queue: queue("inbound"),
            at: QUEUED_AT,
        }
        .into()]);
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
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
                due: None,
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
        Status::Inbound(InboundStatus::Locked {
            router: "router-2".into()
        })
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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
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
            explained: None,
        })
        .then(vec![InteractionOffered {
            agent: agent("alice"),
            deadline: DEADLINE,
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.status,
        Status::Inbound(InboundStatus::Offered {
            agent: agent("alice"),
            deadline: DEADLINE
        })
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
                explained: None,
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
                explained: None,
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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Assigned));
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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
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

#[test]
fn an_offer_is_explained_in_its_own_append_for_its_agent_only_and_remembered() {
    let offer = explained_offer("alice", "alice", 3, 2);
    let InteractionCommand::Offer {
        explained: Some(why),
        deadline,
        ..
    } = offer.clone()
    else {
        unreachable!()
    };
    let state = Spec::given(locked()).when(offer).then(vec![
        InteractionOffered {
            agent: agent("alice"),
            deadline,
            at: NOW,
        }
        .into(),
        (*why).into(),
    ]);
    assert_eq!(state.offered_to, [agent("alice")]);
    Spec::given(locked())
        .when(explained_offer("alice", "bob", 3, 1))
        .then_reject(Rejection::InvalidValue(
            "the explanation must name the agent offered",
        ));
    for (eligible, rank) in [(2, 3), (1, 0)] {
        Spec::given(locked())
            .when(explained_offer("alice", "alice", eligible, rank))
            .then_reject(Rejection::InvalidValue(
                "the rank must be between 1 and the number eligible",
            ));
    }
}

#[test]
fn a_withdrawn_offer_goes_back_to_the_queue_and_is_not_offered_to_that_agent_again() {
    let deadline = Millis(NOW.0 + 30_000);
    let withdraw = InteractionCommand::WithdrawOffer {
        reason: "the agent is not ready".into(),
        at: NOW,
    };
    let state = Spec::given(offered_to("alice", deadline))
        .when(withdraw.clone())
        .then(vec![OfferWithdrawn {
            agent: agent("alice"),
            reason: "the agent is not ready".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
    assert_eq!(state.offered_to, [agent("alice")]);
    Spec::given(queued("inbound"))
        .when(withdraw)
        .then_reject(Rejection::InvalidState {
            command: "withdraw_offer",
            status: "queued",
        });
    Spec::given(offered_to("alice", deadline))
        .when(InteractionCommand::WithdrawOffer {
            reason: " ".into(),
            at: NOW,
        })
        .then_reject(Rejection::ReasonRequired);
}
