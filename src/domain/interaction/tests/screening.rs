//! Screening, the workflow's first step: recorded once on a received interaction, before it is
//! placed; it sets the language, the priority and attributes the rules ask for.

use super::*;

#[test]
fn a_received_interaction_is_screened_once() {
    let InteractionCommand::Screen { screened } = screen() else {
        unreachable!()
    };
    let state = Spec::given(received())
        .when(screen())
        .then(vec![(*screened).clone().into()]);
    assert_eq!(state.screened.as_deref(), Some("v1"));
    assert_eq!(state.language.as_deref(), Some("eng"));
    assert_eq!(state.priority, 10);
    assert_eq!(
        state.attributes.get("risk").map(String::as_str),
        Some("low")
    );
    let again = and(received(), (*screened).clone());
    Spec::given(again)
        .when(screen())
        .then_reject(Rejection::AlreadyExists);
}

#[test]
fn screening_comes_before_placement_and_only_for_inbound_mail() {
    Spec::given(queued("inbound"))
        .when(screen())
        .then_reject(Rejection::InvalidState {
            command: "screen",
            status: "queued",
        });
    Spec::given(drafted_by("alice"))
        .when(screen())
        .then_reject(Rejection::WrongKind {
            command: "screen",
            expected: "inbound",
        });
    Spec::given(vec![])
        .when(screen())
        .then_reject(Rejection::NotFound);
}

#[test]
fn no_priority_from_the_rules_keeps_the_one_received() {
    let state = Spec::given(received()).when(InteractionCommand::Screen {
        screened: Box::new(InteractionScreened {
            version: "v1".into(),
            matched: vec![],
            language: None,
            priority: None,
            attributes: Default::default(),
            at: NOW,
        }),
    });
    let state = state.then(vec![InteractionScreened {
        version: "v1".into(),
        matched: vec![],
        language: None,
        priority: None,
        attributes: Default::default(),
        at: NOW,
    }
    .into()]);
    assert_eq!(state.priority, PRIORITY);
}

#[test]
fn the_process_run_is_recorded_once_before_placement_and_sets_what_its_steps_set() {
    let InteractionCommand::RunProcess { ran } = run_process() else {
        unreachable!()
    };
    let state = Spec::given(and(received(), (*screen_event()).clone()))
        .when(run_process())
        .then(vec![(*ran).clone().into()]);
    let p = state.process.as_ref().unwrap();
    assert_eq!((p.version.as_str(), p.queue.as_str()), ("p1", "vip"));
    assert_eq!(p.skills, ["billing"]);
    // A set step applies after screening's priority.
    assert_eq!(state.priority, 7);
    assert_eq!(state.attributes.len(), 2);
    Spec::given(and(received(), (*ran).clone()))
        .when(run_process())
        .then_reject(Rejection::AlreadyExists);
    Spec::given(queued("inbound"))
        .when(run_process())
        .then_reject(Rejection::InvalidState {
            command: "run_process",
            status: "queued",
        });
    Spec::given(drafted_by("alice"))
        .when(run_process())
        .then_reject(Rejection::WrongKind {
            command: "run_process",
            expected: "inbound",
        });
}

fn screen_event() -> Box<InteractionScreened> {
    let InteractionCommand::Screen { screened } = screen() else {
        unreachable!()
    };
    screened
}
