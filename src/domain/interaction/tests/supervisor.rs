//! The supervisor lock rule.

use super::*;

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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
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
    assert_eq!(state.status, Status::Inbound(InboundStatus::Assigned));
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

fn edit(changes: &[(&str, Option<&str>)]) -> InteractionCommand {
    InteractionCommand::EditAttributes {
        supervisor: agent("sam"),
        changes: changes
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect(),
        at: NOW,
    }
}

#[test]
fn supervisor_sets_and_removes_attributes_of_waiting_work_only() {
    let state = Spec::given(queued("inbound"))
        .when(edit(&[("tier", Some("gold")), ("gone", None)]))
        .then(vec![AttributesEdited {
            supervisor: agent("sam"),
            set: [("tier".to_string(), "gold".to_string())]
                .into_iter()
                .collect(),
            removed: vec![],
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.attributes.get("tier").map(String::as_str),
        Some("gold")
    );
    let history = and(
        queued("inbound"),
        AttributesEdited {
            supervisor: agent("sam"),
            set: [("tier".to_string(), "gold".to_string())]
                .into_iter()
                .collect(),
            removed: vec![],
            at: NOW,
        },
    );
    // The same value again changes nothing; removing it is recorded.
    Spec::given(history.clone())
        .when(edit(&[("tier", Some("gold"))]))
        .then(vec![]);
    let state = Spec::given(history)
        .when(edit(&[("tier", None)]))
        .then(vec![AttributesEdited {
            supervisor: agent("sam"),
            set: Default::default(),
            removed: vec!["tier".into()],
            at: NOW,
        }
        .into()]);
    assert!(state.attributes.is_empty());
    for bad in [
        edit(&[]),
        edit(&[("a b", Some("x"))]),
        edit(&[("k", Some(" "))]),
    ] {
        let state = queued("inbound")
            .iter()
            .fold(Interaction::default(), evolve);
        assert!(matches!(
            decide(&state, &bad),
            Err(Rejection::InvalidValue(_))
        ));
    }
    refused_while_routing_holds_the_lock(edit(&[("tier", Some("gold"))]));
    refused_while_an_agent_works_it(edit(&[("tier", Some("gold"))]));
    refused_once_finished(edit(&[("tier", Some("gold"))]));
}
