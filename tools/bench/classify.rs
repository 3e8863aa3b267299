//! Categorisation and screening: the classifier's precision and recall per category on the
//! held-out part of the labelled corpus (`tests/fixtures/categories/*.jsonl`: every 4th message
//! of each category held out, the rest trains), a 4-fold cross-validation of the same, and the
//! throughput of screening plus categorisation with 1,000 rules against the same messages with
//! no rules, in the same run.

use postroom::classify::evaluate::{read_jsonl, score, split, Labelled};
use postroom::classify::{Classifier, Training};
use postroom::domain::screening::{Input, RuleSet, RuleSpec};
use std::path::Path;
use std::time::Instant;

fn corpus(dir: &Path) -> Result<Vec<Labelled>, String> {
    let mut all = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        all.extend(read_jsonl(&text).map_err(|e| format!("{}: {e}", f.display()))?);
    }
    if all.is_empty() {
        return Err(format!("no labelled messages under {}", dir.display()));
    }
    Ok(all)
}

/// 1,000 rules of the kinds a contact center writes: regular expressions, words, substrings and
/// proximity over subject, body and headers, each setting an attribute (none stops).
pub fn thousand_rules() -> Vec<RuleSpec> {
    (0..1000)
        .map(|i| {
            let when = match i % 4 {
                0 => {
                    format!(r#"subject matches "(?i)\bref-{i}\b" || body matches "(?i)case {i}\b""#)
                }
                1 => format!(r#"text word "product{i}" && !header("list-id") exists"#),
                2 => {
                    format!(r#"body contains "code-{i}-" || from contains "@customer{i}.example""#)
                }
                _ => format!(r#"body near("order{i}", "late", 5)"#),
            };
            RuleSpec {
                name: format!("rule-{i}"),
                when,
                stop: None,
                category: None,
                priority: None,
                attributes: [("matched".to_string(), format!("{i}"))].into(),
                queue: None,
            }
        })
        .collect()
}

pub fn run(dir: &Path, quick: bool) -> Result<(), String> {
    let messages = corpus(dir)?;
    let examples: Vec<_> = messages.iter().map(Labelled::example).collect();
    println!(
        "\n## Categorisation: {} labelled messages ({} English, {} German) from {}",
        messages.len(),
        messages.iter().filter(|m| m.lang == "en").count(),
        messages.iter().filter(|m| m.lang == "de").count(),
        dir.display()
    );
    let (train, held) = split(&examples, 4, 0);
    let started = Instant::now();
    let c = Classifier::train(&train, Training::default()).map_err(|e| e.to_string())?;
    println!(
        "trained on {} in {:.2} s ({} features); held out {}",
        train.len(),
        started.elapsed().as_secs_f64(),
        c.features(),
        held.len()
    );
    let report = score(&c, &held, 0.0);
    println!("| category | precision | recall | F1 | held out |");
    println!("|---|---|---|---|---|");
    for (cat, s) in &report.per_category {
        println!(
            "| {cat} | {:.2} | {:.2} | {:.2} | {} |",
            s.precision(),
            s.recall(),
            s.f1(),
            s.actual
        );
    }
    let (p, r, f) = report.macro_average();
    println!(
        "| **macro average** | {p:.2} | {r:.2} | {f:.2} | {} |",
        report.total
    );
    println!("accuracy (top category): {:.3}", report.accuracy());
    for threshold in [0.3, 0.5] {
        let t = score(&c, &held, threshold);
        println!(
            "with a confidence threshold of {threshold}: {} of {} left without a category; precision of the rest {:.3}",
            t.unsure,
            t.total,
            t.correct as f64 / (t.total - t.unsure).max(1) as f64
        );
    }
    if !quick {
        let mut folds = Vec::new();
        for k in 0..4 {
            let (train, held) = split(&examples, 4, k);
            let c = Classifier::train(&train, Training::default()).map_err(|e| e.to_string())?;
            folds.push(score(&c, &held, 0.0).macro_average().2);
        }
        let mean = folds.iter().sum::<f64>() / folds.len() as f64;
        println!(
            "4-fold cross-validation, macro F1 per fold: {} (mean {mean:.3})",
            folds
                .iter()
                .map(|f| format!("{f:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    // Screening plus categorisation, with no rules and with 1,000, over the same messages.
    let inputs: Vec<Input> = messages
        .iter()
        .map(|m| Input {
            from: format!("{}@example.com", m.id),
            subject: m.subject.clone(),
            body: m.body.clone(),
            headers: vec![("message-id".into(), format!("<{}@example.com>", m.id))],
            ..Input::default()
        })
        .collect();
    let rounds = if quick { 1 } else { 5 };
    let measure = |rules: &RuleSet| {
        let started = Instant::now();
        let mut matched = 0usize;
        for _ in 0..rounds {
            for i in &inputs {
                matched += rules.evaluate(i).matched.len();
                let text = format!("{}\n{}", i.subject, i.body);
                matched += c.categories_above(&text, 0.5).len();
            }
        }
        let n = (inputs.len() * rounds) as f64;
        (n / started.elapsed().as_secs_f64(), matched)
    };
    let none = RuleSet::empty();
    let thousand = RuleSet::compile(&thousand_rules()).map_err(|e| e.to_string())?;
    let (without, _) = measure(&none);
    let (with, _) = measure(&thousand);
    println!(
        "screening + categorisation: {without:.0} messages/s with no rules, {with:.0} with 1,000 rules ({:.2} of it)",
        with / without
    );
    Ok(())
}
