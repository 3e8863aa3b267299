//! An agent's work: transfer, consultation, return to a queue, replies, categories.

use super::*;

// ---------------------------------------------------------------------------------------------
// Transfer.
// ---------------------------------------------------------------------------------------------

fn transfer_to_agent(from: &str, to: &str, deadline: Millis) -> InteractionCommand {
    InteractionCommand::Transfer {
        note: String::new(),
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
        note: String::new(),
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
            note: String::new(),
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
        Status::Inbound(InboundStatus::Offered {
            agent: agent("bob"),
            deadline
        })
    );
    assert_eq!(state.owner, None);
}

#[test]
fn a_colleague_accepts_a_transfer_and_owns_the_interaction() {
    let deadline = Millis(NOW.0 + 30_000);
    let history = and(
        assigned_to("alice"),
        InteractionTransferred {
            note: String::new(),
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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Assigned));
    assert_eq!(state.owner, Some(agent("bob")));
}

#[test]
fn the_owner_transfers_to_a_queue_and_it_is_queued_there() {
    let state = Spec::given(assigned_to("alice"))
        .when(transfer_to_queue("alice", "billing"))
        .then(vec![InteractionTransferred {
            note: String::new(),
            from_agent: agent("alice"),
            target: TransferTarget::Queue {
                queue: queue("billing"),
            },
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
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
        note: String::new(),
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
            note: String::new(),
            owner: agent("alice"),
            consultant: agent("bob"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.consultants, vec![agent("bob")]);
    assert_eq!(state.status, Status::Inbound(InboundStatus::Assigned));
    assert_eq!(state.owner, Some(agent("alice")));
}

#[test]
fn the_owner_may_consult_several_colleagues() {
    let state = Spec::given(consulting("alice", "bob"))
        .when(start_consultation("alice", "carol"))
        .then(vec![ConsultationStarted {
            note: String::new(),
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
            note: String::new(),
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
            note: String::new(),
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
        reason: "back to the queue".into(),
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
            reason: "back to the queue".into(),
            agent: agent("alice"),
            queue: queue("inbound"),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
    assert_eq!(state.queue, Some(queue("inbound")));
    assert_eq!(state.owner, None);
}

#[test]
fn the_owner_returns_the_interaction_to_another_queue() {
    let state = Spec::given(assigned_to("alice"))
        .when(return_to_queue("alice", Some("billing")))
        .then(vec![ReturnedToQueue {
            reason: "back to the queue".into(),
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
            reason: "back to the queue".into(),
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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Replied));
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
            disposition: Some("resolved".into()),
            by: "user:alice".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Inbound(InboundStatus::Done));
    assert!(state.status.is_terminal());
}

#[test]
fn the_owner_may_finish_without_replying() {
    let state = Spec::given(assigned_to("alice"))
        .when(mark_done_by("alice"))
        .then(vec![InteractionDone {
            disposition: Some("resolved".into()),
            by: "user:alice".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Inbound(InboundStatus::Done));
}

#[test]
fn a_component_finishes_an_interaction_that_waits_in_the_system() {
    for history in [received(), queued("inbound")] {
        Spec::given(history)
            .when(mark_done_by_system())
            .then(vec![InteractionDone {
                disposition: None,
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
            disposition: None,
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
// Contributions, reasons and dispositions.
// ---------------------------------------------------------------------------------------------

fn contribute(by: &str, text: &str) -> InteractionCommand {
    InteractionCommand::Contribute {
        consultant: agent(by),
        text: text.into(),
        at: NOW,
    }
}

#[test]
fn a_consultant_contributes_and_nobody_else_can() {
    Spec::given(consulting("alice", "bob"))
        .when(contribute("bob", "  They were refunded on 3 May.  "))
        .then(vec![ConsultationContributed {
            consultant: agent("bob"),
            text: "They were refunded on 3 May.".into(),
            at: NOW,
        }
        .into()]);
    // The owner is not a consultant; a stranger neither.
    for who in ["alice", "carol"] {
        Spec::given(consulting("alice", "bob"))
            .when(contribute(who, "hello"))
            .then_reject(Rejection::NotConsulted { agent: agent(who) });
    }
    Spec::given(consulting("alice", "bob"))
        .when(contribute("bob", "   "))
        .then_reject(Rejection::InvalidValue(
            "the contribution must not be empty",
        ));
    Spec::given(consulting("alice", "bob"))
        .when(contribute("bob", &"x".repeat(10_001)))
        .then_reject(Rejection::InvalidValue(
            "the contribution must be at most 10000 characters",
        ));
}

#[test]
fn returning_work_needs_a_reason_and_records_it() {
    let back = |reason: &str| InteractionCommand::ReturnToQueue {
        agent: agent("alice"),
        queue: None,
        reason: reason.into(),
        at: NOW,
    };
    Spec::given(assigned_to("alice"))
        .when(back(" "))
        .then_reject(Rejection::ReasonRequired);
    let state = Spec::given(assigned_to("alice"))
        .when(back("needs a German speaker"))
        .then(vec![ReturnedToQueue {
            agent: agent("alice"),
            queue: queue("inbound"),
            reason: "needs a German speaker".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
}

#[test]
fn an_agent_finishes_with_a_disposition_code_a_component_without() {
    let done = |code: Option<&str>| InteractionCommand::MarkDone {
        by: Actor::Agent(agent("alice")),
        disposition: code.map(str::to_string),
        at: NOW,
    };
    for bad in [None, Some(""), Some("Resolved"), Some("two words")] {
        Spec::given(assigned_to("alice"))
            .when(done(bad))
            .then_reject(Rejection::InvalidValue(
                "a disposition code is required (a-z, 0-9, _ - ., at most 64)",
            ));
    }
    Spec::given(assigned_to("alice"))
        .when(done(Some("resolved")))
        .then(vec![InteractionDone {
            by: "user:alice".into(),
            disposition: Some("resolved".into()),
            at: NOW,
        }
        .into()]);
    Spec::given(queued("inbound"))
        .when(InteractionCommand::MarkDone {
            by: Actor::System("workflow".into()),
            disposition: Some("ignored".into()),
            at: NOW,
        })
        .then(vec![InteractionDone {
            by: "system:workflow".into(),
            disposition: None,
            at: NOW,
        }
        .into()]);
}
