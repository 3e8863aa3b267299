//! Automatic answers: planned by the workflow, decided once by the loop policy (suppressed with
//! a reason, or answered), and the composed outbound interaction that starts in the outbox.

use super::*;

const PLANNED_AT: Millis = Millis(2_500);

fn planned() -> Vec<InteractionEvent> {
    and(
        queued("inbound"),
        AutoAnswerPlanned {
            usage: AnswerUsage::Acknowledgement,
            at: PLANNED_AT,
        },
    )
}

#[test]
fn the_workflow_plans_an_answer_once() {
    let state = Spec::given(queued("inbound"))
        .when(plan())
        .then(vec![AutoAnswerPlanned {
            usage: AnswerUsage::Acknowledgement,
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.auto_answer,
        Some(AutoAnswer::Planned {
            usage: AnswerUsage::Acknowledgement
        })
    );
    Spec::given(planned())
        .when(plan())
        .then_reject(Rejection::AlreadyExists);
}

#[test]
fn a_planned_answer_is_decided_once_either_way() {
    let state = Spec::given(planned())
        .when(suppress("auto_submitted"))
        .then(vec![AutoAnswerSuppressed {
            code: "auto_submitted".into(),
            reason: "because auto_submitted".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.auto_answer,
        Some(AutoAnswer::Suppressed {
            code: "auto_submitted".into()
        })
    );
    let state = Spec::given(planned())
        .when(record(reply_id(1)))
        .then(vec![AutoAnswered {
            reply: reply_id(1),
            usage: AnswerUsage::Acknowledgement,
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.auto_answer,
        Some(AutoAnswer::Answered {
            usage: AnswerUsage::Acknowledgement,
            reply: reply_id(1),
            at: NOW,
        })
    );
    // The interaction itself goes on waiting for routing.
    assert_eq!(state.status, Status::Inbound(InboundStatus::Queued));
    for decided in [
        and(
            planned(),
            AutoAnswerSuppressed {
                code: "too_many".into(),
                reason: "r".into(),
                at: NOW,
            },
        ),
        and(
            planned(),
            AutoAnswered {
                reply: reply_id(1),
                usage: AnswerUsage::Acknowledgement,
                at: NOW,
            },
        ),
    ] {
        for command in [suppress("too_many"), record(reply_id(2))] {
            Spec::given(decided.clone())
                .when(command)
                .then_reject(Rejection::AlreadyExists);
        }
    }
}

#[test]
fn nothing_is_decided_that_was_not_planned() {
    for command in [suppress("too_many"), record(reply_id(1))] {
        let name = command.name();
        Spec::given(queued("inbound"))
            .when(command)
            .then_reject(Rejection::InvalidState {
                command: name,
                status: "queued",
            });
    }
    Spec::given(planned())
        .when(InteractionCommand::SuppressAutoAnswer {
            code: " ".into(),
            reason: "".into(),
            at: NOW,
        })
        .then_reject(Rejection::ReasonRequired);
}

#[test]
fn answers_belong_to_inbound_interactions() {
    for command in [plan(), suppress("x"), record(reply_id(1))] {
        let name = command.name();
        Spec::given(drafted_by("alice"))
            .when(command)
            .then_reject(Rejection::WrongKind {
                command: name,
                expected: "inbound",
            });
    }
    for command in [plan(), suppress("x"), record(reply_id(1))] {
        Spec::given(vec![])
            .when(command)
            .then_reject(Rejection::NotFound);
    }
}

#[test]
fn a_stopped_interaction_still_gets_its_decision_recorded() {
    // Screening stopped it after the plan: the answering process records why none goes out.
    let history = and(
        planned(),
        InteractionStopped {
            by: "system:screening".into(),
            reason: "spam".into(),
            at: STOPPED_AT,
        },
    );
    Spec::given(history)
        .when(suppress("stopped"))
        .then(vec![AutoAnswerSuppressed {
            code: "stopped".into(),
            reason: "because stopped".into(),
            at: NOW,
        }
        .into()]);
}

#[test]
fn a_composed_answer_starts_in_the_outbox_and_is_sent_like_any_reply() {
    let state = Spec::given(vec![])
        .when(compose())
        .then(vec![AnswerComposed {
            parent: parent_id(),
            usage: AnswerUsage::Acknowledgement,
            to: "carol@example.com".into(),
            subject: "Re: Where is my parcel? [#ABCDE]".into(),
            message: ContentRef([9; 32]),
            message_id: "a1.reply@postroom.example".into(),
            at: NOW,
        }
        .into()]);
    assert_eq!(
        state.kind,
        Kind::Reply {
            parent: parent_id()
        }
    );
    assert_eq!(state.status, Status::Reply(ReplyStatus::OutboundQueued));
    assert_eq!(state.outbound, Some(ContentRef([9; 32])));
    assert_eq!(
        state.message_id.as_deref(),
        Some("a1.reply@postroom.example")
    );
    assert_eq!(state.owner, None);
    let (state, types) = play(vec![
        compose(),
        InteractionCommand::StartSending { at: NOW },
        InteractionCommand::MarkSent {
            message_id: "a1.reply@postroom.example".into(),
            at: NOW,
        },
    ]);
    assert_eq!(types, ["AnswerComposed", "SendingStarted", "ReplySent"]);
    assert!(state.status.is_terminal());
    // Composed twice (a retry after a crash): the first stands.
    let mut history = vec![];
    history.extend(decide(&Interaction::default(), &compose()).unwrap());
    Spec::given(history)
        .when(compose())
        .then_reject(Rejection::AlreadyExists);
    Spec::given(vec![])
        .when(InteractionCommand::ComposeAnswer {
            parent: parent_id(),
            usage: AnswerUsage::Acknowledgement,
            to: customer(),
            subject: "s".into(),
            message: ContentRef([9; 32]),
            message_id: " ".into(),
            at: NOW,
        })
        .then_reject(Rejection::InvalidValue("the message id must not be empty"));
}
