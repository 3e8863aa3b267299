use super::*;
use proptest::prelude::*;

fn agent(name: &str, skills: &[(&str, u8)], capacity: u32, load: u32, idle: i64) -> Candidate {
    Candidate {
        name: AgentId::parse(name).unwrap(),
        ready: true,
        skills: skills.iter().map(|(s, l)| (s.to_string(), *l)).collect(),
        languages: vec![],
        capacity,
        load,
        idle_since: Millis(idle),
    }
}

fn routable(n: u128, priority: i32, skills: &[&str]) -> Routable {
    Routable {
        id: InteractionId::from_uuid(uuid::Uuid::from_u128(n)),
        priority,
        queued_at: Millis(n as i64),
        skills: skills.iter().map(|s| s.to_string()).collect(),
        language: None,
        excluded: BTreeSet::new(),
        preferred: None,
        preferred_only: false,
    }
}

#[test]
fn the_best_is_chosen_and_the_rule_that_decided_is_named() {
    let agents = [
        agent("ann", &[("billing", 5)], 5, 0, 10),
        agent("bob", &[("billing", 8)], 5, 3, 10),
        agent("cem", &[("billing", 8)], 5, 1, 20),
        agent("dee", &[("billing", 8)], 5, 1, 5),
        agent("eve", &[], 5, 0, 0),
    ];
    let r = routable(1, 0, &["billing"]);
    let (_, c) = choose(agents.iter(), &r).unwrap();
    // bob, cem and dee are level 8; cem and dee carry 1; dee idles longest.
    assert_eq!(c.agent.as_str(), "dee");
    assert_eq!((c.eligible, c.rank, c.rule), (4, 1, Rule::LongestIdle));

    let only_skilled = [agent("ann", &[("billing", 5)], 5, 0, 0), agents[4].clone()];
    let (_, c) = choose(only_skilled.iter(), &r).unwrap();
    assert_eq!((c.agent.as_str(), c.rule), ("ann", Rule::Only));

    let mut r2 = r.clone();
    r2.preferred = AgentId::parse("ann").ok();
    let (_, c) = choose(agents.iter(), &r2).unwrap();
    assert_eq!(
        (c.agent.as_str(), c.rank, c.rule),
        ("ann", 4, Rule::Preferred)
    );

    // Reserved for ann: while she is full, nobody else takes it; once not reserved, the best.
    let mut r4 = r2.clone();
    r4.preferred_only = true;
    let mut full = agents.clone();
    for a in full.iter_mut().filter(|a| a.name.as_str() == "ann") {
        a.load = a.capacity;
    }
    assert!(choose(full.iter(), &r4).is_none());
    r4.preferred_only = false;
    let (_, c) = choose(full.iter(), &r4).unwrap();
    assert_eq!(c.agent.as_str(), "dee");

    let mut r3 = r.clone();
    r3.excluded = ["dee", "cem", "bob", "ann"]
        .iter()
        .map(|n| AgentId::parse(n).unwrap())
        .collect();
    assert!(choose(agents.iter(), &r3).is_none());
}

#[test]
fn not_ready_full_or_other_language_agents_are_not_eligible() {
    let mut busy = agent("ann", &[], 2, 2, 0);
    assert!(!eligible(&busy, &routable(1, 0, &[])));
    busy.load = 1;
    assert!(eligible(&busy, &routable(1, 0, &[])));
    busy.ready = false;
    assert!(!eligible(&busy, &routable(1, 0, &[])));
    let mut german = agent("bob", &[], 2, 0, 0);
    german.languages = vec!["de".into()];
    let mut r = routable(1, 0, &[]);
    r.language = Some("deu".into());
    assert!(eligible(&german, &r));
    r.language = Some("eng".into());
    assert!(!eligible(&german, &r));
    // Zero is no skill.
    assert!(!eligible(
        &agent("cem", &[("billing", 0)], 2, 0, 0),
        &routable(1, 0, &["billing"])
    ));
}

#[test]
fn ageing_lifts_an_old_interaction_over_a_newer_higher_one() {
    let mut q = vec![routable(2, 1, &[]), routable(1, 0, &[])];
    q[1].queued_at = Millis(0);
    q[0].queued_at = Millis(100_000);
    order(&mut q, Millis(120_000), 0);
    assert_eq!(q[0].priority, 1);
    // Waited 120 s with a boost every 60 s: effective 2 against 1 (waited 20 s).
    order(&mut q, Millis(120_000), 60);
    assert_eq!(q[0].priority, 0);
}

fn skill_set() -> impl Strategy<Value = Vec<String>> {
    prop::sample::subsequence(vec!["a", "b", "c"], 0..=2)
        .prop_map(|v| v.into_iter().map(String::from).collect())
}

prop_compose! {
    fn candidate(i: usize)(
        ready in prop::bool::weighted(0.8),
        a in 0u8..=10, b in 0u8..=10, c in 0u8..=10,
        capacity in 0u32..=4, load in 0u32..=4, idle in 0i64..1000,
    ) -> Candidate {
        Candidate {
            name: AgentId::parse(&format!("agent{i}")).unwrap(),
            ready,
            skills: [("a", a), ("b", b), ("c", c)]
                .into_iter()
                .map(|(k, l)| (k.to_string(), l))
                .collect(),
            languages: vec![],
            capacity,
            load: load.min(capacity),
            idle_since: Millis(idle),
        }
    }
}

fn agents() -> impl Strategy<Value = Vec<Candidate>> {
    (0usize..12).prop_flat_map(|n| (0..n).map(candidate).collect::<Vec<_>>())
}

prop_compose! {
    fn interaction(i: u128)(
        priority in -2i32..=3, waited in 0i64..600_000, skills in skill_set(),
        excluded in prop::collection::btree_set(0usize..12, 0..3),
    ) -> Routable {
        Routable {
            id: InteractionId::from_uuid(uuid::Uuid::from_u128(i + 1)),
            priority,
            queued_at: Millis(1_000_000 - waited),
            skills,
            language: None,
            excluded: excluded
                .into_iter()
                .map(|n| AgentId::parse(&format!("agent{n}")).unwrap())
                .collect(),
            preferred: None,
            preferred_only: false,
        }
    }
}

fn queue() -> impl Strategy<Value = Vec<Routable>> {
    (0u128..30).prop_flat_map(|n| (0..n).map(interaction).collect::<Vec<_>>())
}

prop_compose! {
    /// An interaction with a language, a preferred agent and a reservation, any of them.
    fn varied(i: u128)(
        r in interaction(i),
        preferred in prop::option::of(0usize..12),
        only in prop::bool::ANY,
        language in prop::option::of(prop::sample::select(vec!["en", "de", "eng"])),
    ) -> Routable {
        Routable {
            preferred: preferred.map(|n| AgentId::parse(&format!("agent{n}")).unwrap()),
            preferred_only: only,
            language: language.map(String::from),
            ..r
        }
    }
}

fn varied_queue() -> impl Strategy<Value = Vec<Routable>> {
    (0u128..40).prop_flat_map(|n| (0..n).map(varied).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_index_decides_exactly_as_a_scan_of_every_agent(
        q in varied_queue(), mut a in agents(),
    ) {
        for (i, c) in a.iter_mut().enumerate() {
            c.languages = match i % 3 {
                0 => vec![],
                1 => vec!["en".into()],
                _ => vec!["deu".into(), "fr".into()],
            };
        }
        let (mut q1, mut a1) = (q.clone(), a.clone());
        let (mut q2, mut a2) = (q, a);
        let indexed = plan(&mut q1, &mut a1, Millis(1_000_000), 60);
        let scanned = plan_by_scan(&mut q2, &mut a2, Millis(1_000_000), 60);
        prop_assert_eq!(indexed, scanned);
        prop_assert_eq!(a1, a2);
    }

    #[test]
    fn capacity_is_never_exceeded_and_no_excluded_agent_is_offered(
        mut q in queue(), mut a in agents(),
    ) {
        let before: BTreeMap<AgentId, u32> = a.iter().map(|c| (c.name.clone(), c.load)).collect();
        let offers = plan(&mut q, &mut a, Millis(1_000_000), 60);
        for c in &a {
            prop_assert!(c.load <= c.capacity, "{} holds {} of {}", c.name, c.load, c.capacity);
            let given = offers.iter().filter(|o| o.agent == c.name).count() as u32;
            prop_assert_eq!(c.load, before[&c.name] + given);
        }
        let by_id: BTreeMap<_, _> = q.iter().map(|r| (r.id, r)).collect();
        let mut seen = BTreeSet::new();
        for o in &offers {
            prop_assert!(seen.insert(o.interaction), "one offer per interaction and round");
            let r = by_id[&o.interaction];
            prop_assert!(!r.excluded.contains(&o.agent), "offered again to {}", o.agent);
            prop_assert!(o.rank >= 1 && o.rank <= o.eligible);
        }
    }

    #[test]
    fn a_higher_priority_never_waits_behind_a_lower_one_with_the_same_skills(
        mut q in queue(), mut a in agents(),
    ) {
        // Without exclusions or ageing, the same skills mean the same agents.
        for r in q.iter_mut() {
            r.excluded.clear();
        }
        let offers = plan(&mut q, &mut a, Millis(1_000_000), 0);
        let offered: BTreeSet<_> = offers.iter().map(|o| o.interaction).collect();
        for low in q.iter().filter(|r| offered.contains(&r.id)) {
            for high in q.iter().filter(|r| r.skills == low.skills && r.priority > low.priority) {
                prop_assert!(
                    offered.contains(&high.id),
                    "priority {} waits while {} was offered", high.priority, low.priority
                );
            }
        }
    }
}
