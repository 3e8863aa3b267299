//! The cost of QA review's decision per released reply and of the service-level computation per
//! queued interaction, each against the same path without it, in the same run. A released reply's
//! path is its composition (`app::compose`, the bytes the customer receives); the QA policy
//! (`domain::qa`: trainee, first replies, sensitive categories, three patterns in the screening
//! language, a 5% sample) decides on the same reply. A queued interaction's path is the business
//! process's run on its receipt (`Workflow::react`), with and without service levels (a
//! Monday-to-Friday calendar at an offset).

use postroom::app::compose::{compose, Letter};
use postroom::domain::address::NamedAddress;
use postroom::domain::interaction::{evolve, Channel, Interaction, InteractionReceived};
use postroom::domain::qa::{Policy, Reply};
use postroom::domain::screening::{RuleSet, RuleSpec};
use postroom::domain::service_level::{Calendar, ServiceLevels, Target};
use postroom::domain::workflow::{Facts, Workflow};
use postroom::domain::{InteractionId, Millis, QueueName};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

const WORDS: &[&str] = &[
    "refund", "invoice", "order", "delivery", "account", "thank", "you", "for", "your", "message",
    "we", "have", "checked", "the", "payment", "and", "it", "will", "arrive", "within", "days",
];

fn text(rng: &mut StdRng) -> String {
    let words = rng.gen_range(40..500);
    let mut t = String::from("Dear customer,\n\n");
    for i in 0..words {
        t.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
        t.push(if i % 14 == 13 { '\n' } else { ' ' });
    }
    if rng.gen_bool(0.01) {
        t.push_str("\nYour card 4111 1111 1111 1111 was charged.");
    }
    t.push_str("\n\nKind regards,\nalice");
    t
}

fn policy() -> Policy {
    let rule = |name: &str, when: &str| RuleSpec {
        name: name.into(),
        when: when.into(),
        stop: None,
        category: None,
        priority: None,
        attributes: [("qa".to_string(), "review".to_string())].into(),
        queue: None,
    };
    Policy {
        queue: QueueName::parse("review").expect("a name"),
        trainees: true,
        first_replies: 10,
        sensitive: ["legal".to_string(), "complaint".to_string()].into(),
        sample_basis_points: 500,
        patterns: RuleSet::compile(&[
            rule("card_number", r#"body matches "\b(?:\d[ -]?){13,16}\b""#),
            rule(
                "iban",
                r#"body matches "\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b""#,
            ),
            rule("password", r#"text word "password""#),
        ])
        .expect("patterns compile"),
        digest: "bench".into(),
    }
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The QA decision beside the composition, per released reply.
fn replies(n: usize, rng: &mut StdRng) -> Result<(), String> {
    let sender = NamedAddress::parse("Support <support@example.com>")?;
    let parent = Interaction {
        from: "ann@example.org".into(),
        subject: "Refund".into(),
        message_id: Some("m1@mail.example.org".into()),
        ..Interaction::default()
    };
    let policy = policy();
    let texts: Vec<String> = (0..n).map(|_| text(rng)).collect();
    let (mut composing, mut deciding) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut reviewed = 0;
    for (i, t) in texts.iter().enumerate() {
        let id = InteractionId::from_uuid(uuid::Uuid::from_u128(i as u128 + 1));
        let started = Instant::now();
        let composed = compose(Letter {
            sender: &sender,
            parent: &parent,
            received: None,
            reply: id,
            subject: "Re: Refund",
            text: t.clone(),
            html: None,
            automatic: false,
            at: Millis(1_795_000_000_000),
        })?;
        composing.push(started.elapsed());
        std::hint::black_box(composed);
        let started = Instant::now();
        let decided = policy.decide(
            &Reply {
                id,
                trainee: i % 20 == 0,
                released_before: (i % 400) as u32,
                category: Some(if i % 50 == 0 { "legal" } else { "billing" }),
                to: "ann@example.org",
                subject: "Re: Refund",
                text: t,
                revisions: 0,
            },
            Millis(1_795_000_000_000),
        );
        deciding.push(started.elapsed());
        reviewed += decided.required as usize;
    }
    let total = |v: &[Duration]| v.iter().sum::<Duration>();
    let (c, d) = (total(&composing), total(&deciding));
    composing.sort();
    deciding.sort();
    println!(
        "  {n} replies ({:.0} characters on average), {reviewed} sent to review ({:.1}%)",
        texts.iter().map(|t| t.len()).sum::<usize>() as f64 / n as f64,
        reviewed as f64 * 100.0 / n as f64
    );
    println!(
        "  composing alone:   p50 {:.1} µs, p99 {:.1} µs, mean {:.1} µs",
        us(quantile(&composing, 0.5)),
        us(quantile(&composing, 0.99)),
        us(c) / n as f64
    );
    println!(
        "  the QA decision:   p50 {:.1} µs, p99 {:.1} µs, mean {:.1} µs",
        us(quantile(&deciding, 0.5)),
        us(quantile(&deciding, 0.99)),
        us(d) / n as f64
    );
    println!(
        "  composing with the decision costs {:.2}× composing alone (mean)",
        (c + d).as_secs_f64() / c.as_secs_f64()
    );
    Ok(())
}

/// The process's run on a receipt, with and without service levels, per queued interaction.
fn queued(n: usize) -> Result<(), String> {
    let inbound = QueueName::parse("inbound").expect("a name");
    let plain = Workflow::new(
        "bench".into(),
        inbound.clone(),
        std::slice::from_ref(&inbound),
        &Default::default(),
    )
    .map_err(|e| e.to_string())?;
    let mut timed = plain.clone();
    timed.service_levels = ServiceLevels {
        by_queue: [(
            inbound.clone(),
            Target {
                first_response_secs: 4 * 3600,
                resolution_secs: 5 * 8 * 3600,
                at_risk_percent: 80,
                escalate_priority: 10,
                calendar: Calendar::parse("mon-fri 09:00-17:00", "+01:00")?,
            },
        )]
        .into(),
    };
    let automatic = |_: &[String]| None;
    let (mut without, mut with) = (Duration::ZERO, Duration::ZERO);
    let mut set = 0;
    for round in 0..2 {
        for i in 0..n {
            let at = Millis(1_795_000_000_000 + i as i64 * 37_000);
            let received = InteractionReceived {
                channel: Channel::WebForm,
                from: "ann@example.org".into(),
                from_name: None,
                subject: "Refund".into(),
                content: None,
                priority: 0,
                at,
            };
            let events = vec![received.into()];
            let state = evolve(Interaction::default(), &events[0]);
            let facts = Facts {
                requested: None,
                analysis: None,
                automatic: &automatic,
                at,
            };
            // Alternate which runs first, so neither gains from a warm cache.
            let order: [&Workflow; 2] = if (i + round) % 2 == 0 {
                [&plain, &timed]
            } else {
                [&timed, &plain]
            };
            for w in order {
                let started = Instant::now();
                let commands = w.react(&events, &state, &facts);
                let took = started.elapsed();
                if std::ptr::eq(w, &timed) {
                    with += took;
                    set += commands.iter().any(|c| {
                        matches!(
                            c,
                            postroom::domain::interaction::InteractionCommand::Enqueue {
                                due: Some(_),
                                ..
                            }
                        )
                    }) as usize;
                } else {
                    without += took;
                }
                std::hint::black_box(commands);
            }
        }
    }
    let runs = 2 * n;
    println!(
        "  {runs} receipts: the process's run {:.2} µs without service levels, {:.2} µs with \
         ({:.2}×, +{:.2} µs per queued interaction; due times set on {set})",
        us(without) / runs as f64,
        us(with) / runs as f64,
        with.as_secs_f64() / without.as_secs_f64(),
        (us(with) - us(without)) / runs as f64
    );
    Ok(())
}

pub fn run(quick: bool) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(13);
    println!("\n## QA decision and service levels\n");
    replies(if quick { 2_000 } else { 20_000 }, &mut rng)?;
    queued(if quick { 20_000 } else { 200_000 })?;
    Ok(())
}
