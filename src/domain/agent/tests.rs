use super::*;
use crate::domain::aggregate::fold;

fn profile() -> Profile {
    Profile {
        skills: [("billing".to_string(), 7)].into_iter().collect(),
        languages: vec!["en".into()],
        ..Profile::default()
    }
}

fn run(state: Agent, cmd: AgentCommand) -> Agent {
    let events = decide(&state, &cmd).unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    fold(state, &events)
}

fn created() -> Agent {
    run(
        Agent::default(),
        AgentCommand::Create {
            profile: profile(),
            by: "user:root".into(),
            at: Millis(1_000),
        },
    )
}

fn presence(p: Presence, at: i64) -> AgentCommand {
    AgentCommand::SetPresence {
        presence: p,
        at: Millis(at),
    }
}

#[test]
fn an_agent_is_created_once_logged_out_with_five_emails_by_default() {
    let a = created();
    assert!(a.is_active());
    assert_eq!(a.presence, Presence::LoggedOut);
    assert_eq!(a.profile.as_ref().unwrap().capacity.get("email"), Some(&5));
    let again = AgentCommand::Create {
        profile: profile(),
        by: "user:root".into(),
        at: Millis(2),
    };
    assert_eq!(decide(&a, &again), Err(AgentRejection::Exists));
    // Deleted, the name may be an agent again.
    let gone = run(
        a,
        AgentCommand::Delete {
            by: "user:root".into(),
            at: Millis(3_000),
        },
    );
    assert!(!gone.is_active());
    assert!(decide(&gone, &again).is_ok());
    assert_eq!(
        decide(&gone, &presence(Presence::Ready, 4_000)),
        Err(AgentRejection::NotFound)
    );
}

#[test]
fn time_is_counted_in_each_presence_and_the_same_state_records_nothing() {
    let a = created();
    let a = run(a, presence(Presence::Ready, 3_000));
    assert!(decide(&a, &presence(Presence::Ready, 3_500))
        .unwrap()
        .is_empty());
    let a = run(
        a,
        presence(
            Presence::NotReady {
                reason: "lunch".into(),
            },
            10_000,
        ),
    );
    // Another reason is another presence.
    let a = run(
        a,
        presence(
            Presence::NotReady {
                reason: "training".into(),
            },
            12_000,
        ),
    );
    let t = a.time_in_at(Millis(15_000));
    assert_eq!(t.get("logged_out"), Some(&2_000));
    assert_eq!(t.get("ready"), Some(&7_000));
    assert_eq!(t.get("not_ready"), Some(&5_000));
}

#[test]
fn bad_profiles_and_reasons_are_refused_naming_the_field() {
    let cases: Vec<(Profile, &str)> = vec![
        (
            Profile {
                skills: [("has space".to_string(), 1)].into_iter().collect(),
                ..Profile::default()
            },
            "skills",
        ),
        (
            Profile {
                skills: [("billing".to_string(), 11)].into_iter().collect(),
                ..Profile::default()
            },
            "skills.billing",
        ),
        (
            Profile {
                languages: vec!["EN".into()],
                ..Profile::default()
            },
            "languages[0]",
        ),
        (
            Profile {
                languages: vec!["en".into(), "en".into()],
                ..Profile::default()
            },
            "languages[1]",
        ),
        (
            Profile {
                capacity: [("fax".to_string(), 1)].into_iter().collect(),
                ..Profile::default()
            },
            "capacity",
        ),
        (
            Profile {
                capacity: [("email".to_string(), 101)].into_iter().collect(),
                ..Profile::default()
            },
            "capacity.email",
        ),
    ];
    for (p, field) in cases {
        match validate(&p) {
            Err(AgentRejection::Invalid { field: f, .. }) => assert_eq!(f, field, "{p:?}"),
            other => panic!("{p:?}: {other:?}"),
        }
    }
    let a = created();
    for reason in ["", "  ", "two\nlines", &"x".repeat(101)] {
        assert!(
            matches!(
                decide(
                    &a,
                    &presence(
                        Presence::NotReady {
                            reason: reason.into()
                        },
                        2_000
                    )
                ),
                Err(AgentRejection::Invalid { .. })
            ),
            "{reason:?}"
        );
    }
}

#[test]
fn an_update_records_only_a_change_and_deleting_logs_out() {
    let a = run(created(), presence(Presence::Ready, 2_000));
    let same = AgentCommand::Update {
        profile: profile(),
        by: "user:root".into(),
        at: Millis(3_000),
    };
    assert!(decide(&a, &same).unwrap().is_empty());
    let mut changed = profile();
    changed.reviewer = true;
    let a = run(
        a,
        AgentCommand::Update {
            profile: changed,
            by: "user:root".into(),
            at: Millis(3_000),
        },
    );
    assert!(a.profile.as_ref().unwrap().reviewer);
    let a = run(
        a,
        AgentCommand::Delete {
            by: "user:root".into(),
            at: Millis(5_000),
        },
    );
    assert_eq!(a.presence, Presence::LoggedOut);
    assert_eq!(a.time_in.get("ready"), Some(&3_000));
}
