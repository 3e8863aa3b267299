//! Service levels: due times recorded when first queued; a breach recorded once, after its due
//! time, while the target is unmet; a late first response escalates the priority.

use super::*;

fn due() -> ServiceLevelSet {
    ServiceLevelSet {
        queue: queue("inbound"),
        first_response_due: Millis(10_000),
        first_response_at_risk: Millis(8_000),
        resolution_due: Millis(20_000),
        resolution_at_risk: Millis(16_000),
        escalate_priority: 10,
        at: RECEIVED_AT,
    }
}

fn with_targets() -> Vec<InteractionEvent> {
    and(queued("inbound"), due())
}

fn breach(target: SlaTarget, at: i64) -> InteractionCommand {
    InteractionCommand::RecordBreach {
        target,
        at: Millis(at),
    }
}

#[test]
fn the_due_times_are_recorded_when_first_queued() {
    let state = Spec::given(received())
        .when(InteractionCommand::Enqueue {
            queue: queue("inbound"),
            due: Some(Box::new(due())),
            at: QUEUED_AT,
        })
        .then(vec![
            InteractionQueued {
                queue: queue("inbound"),
                at: QUEUED_AT,
            }
            .into(),
            due().into(),
        ]);
    let sla = state.service_level.unwrap();
    assert_eq!(sla.first_response_due, Millis(10_000));
    assert_eq!(sla.first_response_at, None);
}

#[test]
fn a_late_first_response_is_recorded_once_and_escalates() {
    Spec::given(with_targets())
        .when(breach(SlaTarget::FirstResponse, 10_000))
        .then_reject(Rejection::DeadlineNotReached);
    let state = Spec::given(with_targets())
        .when(breach(SlaTarget::FirstResponse, 10_001))
        .then(vec![ServiceLevelBreached {
            target: "first_response".into(),
            due: Millis(10_000),
            priority: Some(15),
            at: Millis(10_001),
        }
        .into()]);
    assert_eq!(state.priority, 15, "5 raised by 10");
    let breached = and(
        with_targets(),
        ServiceLevelBreached {
            target: "first_response".into(),
            due: Millis(10_000),
            priority: Some(15),
            at: Millis(10_001),
        },
    );
    Spec::given(breached.clone())
        .when(breach(SlaTarget::FirstResponse, 10_002))
        .then_reject(Rejection::AlreadyExists);
    // The resolution is its own target, and does not escalate.
    Spec::given(breached)
        .when(breach(SlaTarget::Resolution, 20_001))
        .then(vec![ServiceLevelBreached {
            target: "resolution".into(),
            due: Millis(20_000),
            priority: None,
            at: Millis(20_001),
        }
        .into()]);
}

#[test]
fn a_met_or_finished_target_is_never_breached() {
    let mut replied = with_targets();
    replied.extend(assigned_to("alice").into_iter().skip(2));
    replied.push(
        InteractionReplied {
            agent: agent("alice"),
            reply: reply_id(1),
            at: REPLIED_AT,
        }
        .into(),
    );
    Spec::given(replied)
        .when(breach(SlaTarget::FirstResponse, 99_000))
        .then_reject(Rejection::InvalidValue("the first response was made"));
    let stopped = and(
        with_targets(),
        InteractionStopped {
            by: "user:sam".into(),
            reason: "spam".into(),
            at: STOPPED_AT,
        },
    );
    Spec::given(stopped)
        .when(breach(SlaTarget::Resolution, 99_000))
        .then_reject(Rejection::Finished { status: "stopped" });
    Spec::given(queued("inbound"))
        .when(breach(SlaTarget::Resolution, 99_000))
        .then_reject(Rejection::InvalidValue(
            "the interaction has no service level",
        ));
}
