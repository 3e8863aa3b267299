//! Routing decisions at scale: 10,000 agents and 100,000 queued interactions (by default), each
//! decision timed on its own. The router's matcher (`domain::routing::Matcher`: free agents
//! indexed by skill) decides the whole queue; the reference, a scan of every agent for every
//! decision (`domain::routing::choose`), decides the first interactions of the same queue, and
//! the matcher the same ones again from the same start, in the same run, for the ratio.

use postroom::domain::routing::{choose, order, Candidate, Matcher, Routable};
use postroom::domain::{AgentId, InteractionId, Millis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::time::Instant;

const SKILLS: usize = 40;

fn skill(i: usize) -> String {
    format!("skill{i:02}")
}

fn agents(n: usize, rng: &mut StdRng) -> Vec<Candidate> {
    (0..n)
        .map(|i| {
            let skills = (0..3)
                .map(|_| (skill(rng.gen_range(0..SKILLS)), rng.gen_range(1..=10u8)))
                .collect();
            let languages = match rng.gen_range(0..10) {
                0..=6 => vec!["en".to_string()],
                7 | 8 => vec!["de".to_string()],
                _ => vec!["en".to_string(), "de".to_string()],
            };
            Candidate {
                name: AgentId::parse(&format!("agent{i}")).expect("a name"),
                ready: rng.gen_bool(0.9),
                skills,
                languages,
                capacity: 5,
                load: rng.gen_range(0..3),
                idle_since: Millis(rng.gen_range(0..3_600_000)),
            }
        })
        .collect()
}

fn queue(n: usize, agents: usize, rng: &mut StdRng) -> Vec<Routable> {
    (0..n)
        .map(|i| {
            let skills = match rng.gen_range(0..10) {
                0 => vec![],
                1 | 2 => vec![
                    skill(rng.gen_range(0..SKILLS)),
                    skill(rng.gen_range(0..SKILLS)),
                ],
                _ => vec![skill(rng.gen_range(0..SKILLS))],
            };
            Routable {
                id: InteractionId::from_uuid(uuid::Uuid::from_u128(i as u128 + 1)),
                priority: rng.gen_range(0..4),
                queued_at: Millis(rng.gen_range(0..3_600_000)),
                skills,
                language: Some(if rng.gen_bool(0.8) { "eng" } else { "deu" }.to_string()),
                excluded: BTreeSet::new(),
                preferred: rng
                    .gen_bool(0.05)
                    .then(|| AgentId::parse(&format!("agent{}", rng.gen_range(0..agents))))
                    .and_then(Result::ok),
                preferred_only: false,
            }
        })
        .collect()
}

/// p50 and p99 of `ns`, in microseconds.
fn percentiles(ns: &mut [u64]) -> (f64, f64) {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 * q) as usize).min(ns.len() - 1)] as f64 / 1000.0;
    (at(0.50), at(0.99))
}

struct Run {
    decisions: usize,
    offers: usize,
    secs: f64,
    times: Vec<u64>,
}

fn by_matcher(queue: &[Routable], agents: &[Candidate]) -> Run {
    let mut m = Matcher::new(agents.to_vec());
    let mut times = Vec::with_capacity(queue.len());
    let mut offers = 0;
    let start = Instant::now();
    for r in queue {
        let t = Instant::now();
        if let Some((i, _)) = m.choose(r) {
            m.take(i);
            offers += 1;
        }
        times.push(t.elapsed().as_nanos() as u64);
    }
    Run {
        decisions: queue.len(),
        offers,
        secs: start.elapsed().as_secs_f64(),
        times,
    }
}

fn by_scan(queue: &[Routable], agents: &[Candidate]) -> Run {
    let mut agents = agents.to_vec();
    let mut times = Vec::with_capacity(queue.len());
    let mut offers = 0;
    let start = Instant::now();
    for r in queue {
        let t = Instant::now();
        if let Some((i, _)) = choose(agents.iter(), r) {
            agents[i].load += 1;
            offers += 1;
        }
        times.push(t.elapsed().as_nanos() as u64);
    }
    Run {
        decisions: queue.len(),
        offers,
        secs: start.elapsed().as_secs_f64(),
        times,
    }
}

fn report(name: &str, mut run: Run) -> (f64, f64, f64) {
    let (p50, p99) = percentiles(&mut run.times);
    let per_sec = run.decisions as f64 / run.secs;
    println!(
        "  {name:<34} {:>7} decisions {:>7} offers  p50 {p50:>8.2} µs  p99 {p99:>8.2} µs  {per_sec:>10.0} decisions/s",
        run.decisions, run.offers
    );
    (p50, p99, per_sec)
}

pub fn run(agents_n: usize, queued_n: usize, quick: bool) -> Result<(), String> {
    let (agents_n, queued_n, sample) = if quick {
        (1_000, 10_000, 500)
    } else {
        (agents_n, queued_n, 3_000)
    };
    let mut rng = StdRng::seed_from_u64(20261127);
    let agents = agents(agents_n, &mut rng);
    let mut queue = queue(queued_n, agents_n, &mut rng);
    order(&mut queue, Millis(3_600_000), 60);
    let free: u32 = agents
        .iter()
        .filter(|a| a.ready)
        .map(|a| a.capacity - a.load)
        .sum();
    println!(
        "\nRouting decisions: {agents_n} agents ({free} free places), {queued_n} queued, {SKILLS} skills (3 per agent; 1, 2 or none per interaction), languages en/de"
    );
    report("matcher (index), whole queue", by_matcher(&queue, &agents));
    let head = &queue[..sample.min(queue.len())];
    let (s50, s99, s_rate) = report("scan of every agent, first part", by_scan(head, &agents));
    let (m50, m99, m_rate) = report(
        "matcher (index), same first part",
        by_matcher(head, &agents),
    );
    println!(
        "  ratio scan / matcher on the same decisions: p50 {:.1}×, p99 {:.1}×, decisions/s {:.1}×",
        s50 / m50,
        s99 / m99,
        m_rate / s_rate
    );
    Ok(())
}
