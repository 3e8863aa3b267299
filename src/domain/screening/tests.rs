use super::*;

fn message() -> Input {
    Input {
        from: "Ann Lee <ann@example.com>".into(),
        to: vec!["support@shop.test".into(), "sales@shop.test".into()],
        cc: vec![],
        subject: "Re: Invoice 2026-118 is WRONG".into(),
        body: "Hello,\nI was charged, sadly, twice for order #A-48213.\nRegards, Ann".into(),
        headers: vec![
            ("auto-submitted".into(), "no".into()),
            ("x-mailer".into(), "Thunderbird".into()),
        ],
        attachments: vec!["invoice.pdf".into(), "photo.JPG".into()],
        language: Some("en".into()),
    }
}

fn rule(when: &str) -> RuleSpec {
    RuleSpec {
        name: "r".into(),
        when: when.into(),
        stop: None,
        category: Some("billing".into()),
        priority: None,
        attributes: Default::default(),
        queue: None,
    }
}

fn holds(when: &str) -> bool {
    let set = RuleSet::compile(&[rule(when)]).unwrap_or_else(|e| panic!("{when}: {e}"));
    !set.evaluate(&message()).matched.is_empty()
}

#[test]
fn each_test_and_operator_on_each_field() {
    let table: &[(&str, bool)] = &[
        (r#"subject contains "invoice""#, true),
        (r#"subject contains case "invoice""#, false),
        (r#"subject contains case "WRONG""#, true),
        (r#"body word "charged""#, true),
        (r#"body word "charge""#, false),
        (r#"body contains "charge""#, true),
        (r#"body word "charged sadly twice""#, true),
        (r#"body word "charged twice""#, false),
        (r#"body near("charged", "twice", 2)"#, true),
        (r#"body near("charged", "twice", 1)"#, false),
        (r#"body near("twice", "charged", 3)"#, true),
        (r#"subject matches "(?i)invoice \d{4}-\d+""#, true),
        (r#"subject matches "invoice \d{4}""#, false),
        (r#"text word "regards" && text word "invoice""#, true),
        (r#"from contains "@example.com""#, true),
        (r#"to contains "sales@""#, true),
        (r#"cc exists"#, false),
        (r#"header("Auto-Submitted") contains "no""#, true),
        (r#"header("X-MAILER") word "thunderbird""#, true),
        (r#"header("list-id") exists"#, false),
        (r#"attachments matches "(?i)\.jpe?g$""#, true),
        (r#"attachments contains ".exe""#, false),
        (r#"language word "en""#, true),
        (r#"!subject contains "invoice""#, false),
        (r#"!(cc exists)"#, true),
        (
            r#"subject contains "refund" || body contains "twice""#,
            true,
        ),
        (
            r#"subject contains "refund" && body contains "twice""#,
            false,
        ),
        (
            r#"(subject contains "refund" || body contains "twice") && !header("list-id") exists"#,
            true,
        ),
        (r#"body word "a 48213""#, true),
    ];
    for (when, want) in table {
        assert_eq!(holds(when), *want, "{when}");
    }
}

#[test]
fn conditions_that_do_not_parse_say_where_and_what() {
    let deep_not = format!("{}subject exists", "!".repeat(100_000));
    let deep_parens = format!("{}subject exists{}", "(".repeat(1000), ")".repeat(1000));
    let table: Vec<(&str, &str)> = vec![
        (r#"subject contains"#, "expected a string after contains"),
        (r#"subjet contains "x""#, "expected a field"),
        (
            r#"subject has "x""#,
            "contains, word, matches, near or exists",
        ),
        (r#"subject contains "x" &&"#, "expected a field"),
        (r#"subject contains "x" & body exists"#, "expected &&"),
        (r#"(subject exists"#, "expected \")\""),
        (r#"subject contains "x"#, "not closed"),
        (r#"subject contains "x\""#, "not closed"),
        (r#"body near("a", "b")"#, "expected \",\""),
        (r#"body near("a b", "c", 3)"#, "two single words"),
        (
            r#"subject exists subject exists"#,
            "after a complete condition",
        ),
        (&deep_not, "levels"),
        (&deep_parens, "levels"),
    ];
    for (when, says) in table {
        let e = RuleSet::compile(&[rule(when)]).expect_err(when);
        assert!(e.to_string().contains(says), "{when}: {e}");
        assert!(e.to_string().contains("rule \"r\""), "{e}");
    }
    let bad_regex = RuleSet::compile(&[rule(r#"subject matches "(unclosed""#)]).unwrap_err();
    assert!(
        bad_regex.to_string().contains("does not compile"),
        "{bad_regex}"
    );
    let mut idle = rule("subject exists");
    idle.category = None;
    assert!(RuleSet::compile(&[idle])
        .unwrap_err()
        .to_string()
        .contains("does nothing"));
}

#[test]
fn matched_rules_report_their_evidence_and_the_first_stop_ends() {
    let specs = vec![
        RuleSpec {
            name: "billing".into(),
            when: r#"subject word "invoice" && body near("charged", "twice", 3)"#.into(),
            category: Some("billing".into()),
            priority: Some(5),
            attributes: [("topic".to_string(), "money".to_string())].into(),
            ..rule("x")
        },
        RuleSpec {
            name: "photos".into(),
            when: r#"attachments matches "(?i)\.jpe?g$""#.into(),
            category: None,
            queue: Some("media".into()),
            ..rule("x")
        },
        RuleSpec {
            name: "auto".into(),
            when: r#"header("auto-submitted") exists && !header("auto-submitted") contains "no""#
                .into(),
            category: None,
            stop: Some("automatic mail".into()),
            ..rule("x")
        },
        RuleSpec {
            name: "ann-is-nice".into(),
            when: r#"from contains "ann@""#.into(),
            category: None,
            stop: Some("never".into()),
            ..rule("x")
        },
        RuleSpec {
            name: "after-stop".into(),
            when: r#"subject exists"#.into(),
            category: Some("late".into()),
            ..rule("x")
        },
    ];
    let set = RuleSet::compile(&specs).unwrap();
    let out = set.evaluate(&message());
    let names: Vec<&str> = out.matched.iter().map(|m| m.rule.as_str()).collect();
    assert_eq!(names, ["billing", "photos", "ann-is-nice"]);
    assert_eq!(out.stop.as_deref(), Some("never"));
    assert_eq!(out.categories, ["billing"]);
    assert_eq!(out.priority, Some(5));
    assert_eq!(out.queue.as_deref(), Some("media"));
    assert_eq!(out.attributes["topic"], "money");
    assert_eq!(
        out.matched[0].evidence,
        [
            Evidence {
                field: "subject".into(),
                test: "word \"invoice\"".into(),
                found: "invoice".into()
            },
            Evidence {
                field: "body".into(),
                test: "near(\"charged\", \"twice\", 3)".into(),
                found: "charged sadly twice".into()
            },
        ]
    );
    assert_eq!(
        out.matched[1].evidence[0].found,
        "photo.JPG"[5..].to_string()
    );
}

#[test]
fn many_regex_rules_share_one_pass_per_field() {
    let specs: Vec<RuleSpec> = (0..1000)
        .map(|i| RuleSpec {
            name: format!("r{i}"),
            when: format!(r#"subject matches "(?i)\bcode{i}\b" || body matches "ticket-{i}\b""#),
            ..rule("x")
        })
        .collect();
    let set = RuleSet::compile(&specs).unwrap();
    assert_eq!(set.sets.len(), 2, "one set per field");
    let mut m = message();
    m.subject = "About CODE417".into();
    m.body = "see ticket-9 and ticket-990".into();
    let names: Vec<String> = set
        .evaluate(&m)
        .matched
        .into_iter()
        .map(|x| x.rule)
        .collect();
    assert_eq!(names, ["r9", "r417", "r990"]);
}
