use super::*;
use crate::domain::interaction::{decide, evolve, Channel, Interaction};
use crate::domain::EmailAddress;

fn received() -> (Vec<InteractionEvent>, Interaction) {
    let cmd = InteractionCommand::Receive {
        channel: Channel::WebForm,
        from: EmailAddress::parse("ann@example.com").unwrap(),
        from_name: None,
        subject: "Invoice charged twice".into(),
        content: None,
        priority: 0,
        message: None,
        thread: None,
        at: Millis(1),
    };
    let events = decide(&Interaction::default(), &cmd).unwrap();
    let state = events.iter().fold(Interaction::default(), evolve);
    (events, state)
}

fn q(name: &str) -> QueueName {
    QueueName::parse(name).unwrap()
}

/// A process from TOML as the configuration writes it (`[workflow.process]`'s body).
fn process(toml_text: &str, queues: &[&str]) -> Result<Workflow, ProcessError> {
    let strategies: BTreeMap<String, Vec<StepSpec>> = toml::from_str(toml_text).unwrap();
    let queues: Vec<QueueName> = queues.iter().map(|n| q(n)).collect();
    let mut w = Workflow::new("v1".into(), q("inbound"), &queues, &strategies)?;
    w.sending = true;
    w.acknowledge = true;
    Ok(w)
}

fn default_process() -> Workflow {
    process("", &[]).unwrap()
}

fn names(commands: &[InteractionCommand]) -> Vec<&'static str> {
    commands.iter().map(|c| c.name()).collect()
}

/// Runs the commands as the receive path does: each decided on the state the previous left.
fn run(state: Interaction, commands: &[InteractionCommand]) -> Interaction {
    commands.iter().fold(state, |s, c| {
        decide(&s, c)
            .unwrap_or_else(|r| panic!("{} refused: {r:?}", c.name()))
            .iter()
            .fold(s, evolve)
    })
}

fn no_response(_: &[String]) -> Option<AutomaticResponse> {
    None
}

fn react(w: &Workflow, analysis: Option<&Analysis>) -> (Vec<InteractionCommand>, Interaction) {
    react_with(w, analysis, None, &no_response)
}

fn react_with(
    w: &Workflow,
    analysis: Option<&Analysis>,
    requested: Option<&QueueName>,
    automatic: &dyn Fn(&[String]) -> Option<AutomaticResponse>,
) -> (Vec<InteractionCommand>, Interaction) {
    let (events, state) = received();
    let facts = Facts {
        requested,
        analysis,
        automatic,
        at: Millis(2),
    };
    let c = w.react(&events, &state, &facts);
    let after = run(state, &c);
    (c, after)
}

/// The trace the run recorded: `queue#index step: outcome`.
fn trace(commands: &[InteractionCommand]) -> Vec<String> {
    commands
        .iter()
        .find_map(|c| match c {
            InteractionCommand::RunProcess { ran } => Some(
                ran.steps
                    .iter()
                    .map(|s| format!("{}#{} {}: {}", s.queue, s.index, s.step, s.outcome))
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn the_default_process_queues_a_message_and_plans_its_acknowledgement() {
    let (c, after) = react(&default_process(), None);
    assert_eq!(names(&c), ["run_process", "enqueue", "plan_auto_answer"]);
    assert_eq!(after.queue, Some(q("inbound")));
    let p = after.process.as_ref().unwrap();
    assert_eq!(p.version, "v1");
    assert_eq!(trace(&c).len(), 5, "{:#?}", trace(&c));
    assert!(
        trace(&c)[3].contains("acknowledge: planned"),
        "{:?}",
        trace(&c)
    );
}

#[test]
fn without_a_mail_server_nothing_is_planned_and_the_trace_says_why() {
    let mut w = default_process();
    w.sending = false;
    let (c, _) = react(&w, None);
    assert_eq!(names(&c), ["run_process", "enqueue"]);
    let t = trace(&c);
    assert!(t[3].contains("no mail server"), "{t:?}");
    w.sending = true;
    w.acknowledge = false;
    let (c, _) = react(&w, None);
    assert_eq!(names(&c), ["run_process", "enqueue"]);
    assert!(trace(&c)[3].contains("switched off"), "{:?}", trace(&c));
}

#[test]
fn screening_and_categories_are_recorded_best_last_and_a_rule_may_choose_the_queue() {
    let analysis = Analysis {
        version: "v".into(),
        categories: vec![("billing".into(), 800), ("complaint".into(), 550)],
        queue: Some(q("billing")),
        priority: Some(5),
        language: Some("eng".into()),
        ..Analysis::default()
    };
    let (c, after) = react_with(
        &default_process(),
        Some(&analysis),
        Some(&q("malformed")),
        &no_response,
    );
    assert_eq!(
        names(&c),
        [
            "screen",
            "categorise",
            "categorise",
            "run_process",
            "enqueue",
            "plan_auto_answer"
        ]
    );
    assert_eq!(after.category.as_deref(), Some("billing"));
    assert_eq!(
        after.categories,
        [("complaint".to_string(), 550), ("billing".to_string(), 800)]
    );
    // billing has no strategy of its own: the rest of inbound's runs, headed for billing.
    assert_eq!(after.queue, Some(q("billing")));
    assert_eq!(after.priority, 5);
    assert_eq!(after.language.as_deref(), Some("eng"));
}

#[test]
fn a_screening_stop_ends_the_run_neither_queued_nor_answered() {
    let analysis = Analysis {
        version: "v".into(),
        stop: Some("spam".into()),
        ..Analysis::default()
    };
    let (c, after) = react(&default_process(), Some(&analysis));
    assert_eq!(names(&c), ["screen", "run_process", "stop"]);
    assert_eq!(
        after.status,
        Status::Stopped {
            reason: "spam".into()
        }
    );
}

#[test]
fn a_rule_category_wins_over_the_classifier() {
    let analysis = Analysis {
        version: "v".into(),
        rule_categories: vec!["legal".into()],
        categories: vec![("billing".into(), 900)],
        ..Analysis::default()
    };
    let (c, after) = react(&default_process(), Some(&analysis));
    assert_eq!(after.categories, [("legal".to_string(), 1000)]);
    assert!(
        trace(&c)[1].contains("a rule set the category"),
        "{:?}",
        trace(&c)
    );
}

#[test]
fn a_usable_automatic_response_answers_instead_of_the_acknowledgement() {
    let analysis = Analysis {
        version: "v".into(),
        categories: vec![("password".into(), 900)],
        ..Analysis::default()
    };
    let id = uuid::Uuid::from_u128(5);
    let found = move |c: &[String]| {
        (c == ["password".to_string()]).then(|| AutomaticResponse {
            id,
            name: "Reset your password".into(),
        })
    };
    let (c, after) = react_with(&default_process(), Some(&analysis), None, &found);
    assert_eq!(
        names(&c),
        ["screen", "categorise", "run_process", "plan_auto_answer"]
    );
    // Not queued: done once the answer is made, queued when the loop policy refuses it.
    assert_eq!(after.status, Status::Inbound(InboundStatus::Received));
    assert_eq!(after.process.as_ref().unwrap().response, Some(id));
    let w = default_process();
    assert_eq!(w.resume(&after, Millis(3)), None);
    let planned = InteractionCommand::SuppressAutoAnswer {
        code: "too_many".into(),
        reason: "r".into(),
        at: Millis(3),
    };
    let refused = run(after.clone(), &[planned]);
    assert_eq!(
        w.resume(&refused, Millis(4)).map(|c| c.name()),
        Some("enqueue")
    );
    let answered = run(
        after,
        &[InteractionCommand::RecordAutoAnswer {
            reply: crate::domain::InteractionId::from_uuid(uuid::Uuid::from_u128(6)),
            usage: AnswerUsage::AutomaticResponse,
            at: Millis(3),
        }],
    );
    let done = w.resume(&answered, Millis(4)).unwrap();
    assert_eq!(done.name(), "mark_done");
    assert_eq!(
        run(answered, &[done]).status,
        Status::Inbound(InboundStatus::Done)
    );
}

#[test]
fn configured_steps_run_in_order_move_set_and_route_with_skills() {
    let w = process(
        r#"
        inbound = [
            { step = "set", priority = 3, attributes = { tier = "gold" } },
            { step = "move", queue = "vip" },
            { step = "acknowledge" },
        ]
        vip = [
            { step = "acknowledge" },
            { step = "route", skills = ["billing", "deu"] },
        ]
        "#,
        &[],
    )
    .unwrap();
    let (c, after) = react(&w, None);
    assert_eq!(names(&c), ["run_process", "enqueue", "plan_auto_answer"]);
    assert_eq!(after.queue, Some(q("vip")));
    assert_eq!(after.priority, 3);
    assert_eq!(
        after.attributes.get("tier").map(String::as_str),
        Some("gold")
    );
    let p = after.process.unwrap();
    assert_eq!(p.skills, ["billing", "deu"]);
    assert_eq!(
        trace(&c),
        [
            "inbound#0 set: priority 3, tier = \"gold\"",
            "inbound#1 move: moved to vip",
            "vip#0 acknowledge: planned (the loop policy decides before it is sent)",
            "vip#1 route: queued in vip for agents with billing, deu",
        ]
    );
}

#[test]
fn a_stop_step_stops_and_the_end_of_a_strategy_routes() {
    let w = process(
        r#"inbound = [{ step = "stop", reason = "closed for the holidays" }]"#,
        &[],
    )
    .unwrap();
    let (c, after) = react(&w, None);
    assert_eq!(names(&c), ["run_process", "stop"]);
    assert_eq!(
        after.status,
        Status::Stopped {
            reason: "closed for the holidays".into()
        }
    );
    let w = process(r#"inbound = [{ step = "set", priority = 1 }]"#, &[]).unwrap();
    let (c, after) = react(&w, None);
    assert_eq!(names(&c), ["run_process", "enqueue"]);
    assert_eq!(after.queue, Some(q("inbound")));
    assert!(
        trace(&c)[1].contains("end of the strategy"),
        "{:?}",
        trace(&c)
    );
}

#[test]
fn a_reply_or_a_second_receipt_runs_nothing() {
    let (events, state) = received();
    let facts = Facts {
        requested: None,
        analysis: None,
        automatic: &no_response,
        at: Millis(2),
    };
    let w = default_process();
    assert!(w.react(&[], &state, &facts).is_empty());
    let queued = run(state, &w.react(&events, &received().1, &facts));
    assert!(w.react(&events, &queued, &facts).is_empty());
}

#[test]
fn bad_processes_are_refused_naming_the_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"inbound = [{ step = "move", queue = "nowhere" }]"#,
            "workflow.process.inbound[0].queue",
            "not a queue of the process",
        ),
        (
            r#"inbound = [{ step = "move", queue = "a" }]
               a = [{ step = "move", queue = "b" }]
               b = [{ step = "screen" }, { step = "move", queue = "a" }]"#,
            "workflow.process.b[1].queue",
            "circle: a → b → a",
        ),
        (
            r#"inbound = [{ step = "route", skills = ["billing", "billing"] }]"#,
            "workflow.process.inbound[0].skills",
            "listed twice",
        ),
        (
            r#"inbound = [{ step = "route", skills = ["has space"] }]"#,
            "workflow.process.inbound[0].skills",
            "not a skill",
        ),
        (
            r#"inbound = [{ step = "stop", reason = "  " }]"#,
            "workflow.process.inbound[0].reason",
            "not blank",
        ),
        (
            r#"inbound = [{ step = "set" }]"#,
            "workflow.process.inbound[0]",
            "priority or attributes",
        ),
        (
            r#"inbound = []"#,
            "workflow.process.inbound",
            "at least one step",
        ),
        (
            r#""bad name" = [{ step = "route" }]"#,
            "workflow.process.bad name",
            "not a queue name",
        ),
    ];
    for (text, key, message) in cases {
        let e = process(text, &[]).unwrap_err();
        assert_eq!(e.key, *key, "{text}: {e}");
        assert!(e.message.contains(message), "{text}: {e}");
    }
    // A queue listed in workflow.queues is known without a strategy.
    assert!(process(
        r#"inbound = [{ step = "move", queue = "spam" }]"#,
        &["spam"]
    )
    .is_ok());
}

#[test]
fn unknown_steps_and_fields_are_refused_by_the_reader() {
    for text in [
        r#"inbound = [{ step = "scren" }]"#,
        r#"inbound = [{ step = "route", skils = ["a"] }]"#,
        r#"inbound = [{ queue = "a" }]"#,
    ] {
        assert!(
            toml::from_str::<BTreeMap<String, Vec<StepSpec>>>(text).is_err(),
            "{text}"
        );
    }
}
