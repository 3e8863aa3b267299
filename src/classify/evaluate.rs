//! Measuring a classifier: a deterministic split of a labelled corpus into training and held-out
//! parts, and precision and recall per category on the held-out part.

use super::{Classifier, Example};
use std::collections::BTreeMap;

/// One message of a labelled corpus (a JSON line: id, lang, category, subject, body).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Labelled {
    pub id: String,
    pub lang: String,
    pub category: String,
    pub subject: String,
    pub body: String,
}

impl Labelled {
    /// What the classifier reads: the subject and the body.
    pub fn example(&self) -> Example {
        Example {
            text: format!("{}\n{}", self.subject, self.body),
            category: self.category.clone(),
        }
    }
}

/// Reads a JSON-lines corpus; an error names the line.
pub fn read_jsonl(text: &str) -> Result<Vec<Labelled>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// Every `nth` example of each category (in corpus order, from the `offset`-th) is held out;
/// the rest trains.
pub fn split(examples: &[Example], nth: usize, offset: usize) -> (Vec<Example>, Vec<Example>) {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for e in examples {
        let i = seen.entry(e.category.as_str()).or_default();
        if nth > 0 && *i % nth == offset % nth {
            held.push(e.clone());
        } else {
            train.push(e.clone());
        }
        *i += 1;
    }
    (train, held)
}

/// Precision and recall of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    pub true_positives: usize,
    pub predicted: usize,
    pub actual: usize,
}

impl Score {
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.predicted)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.actual)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// What a classifier did on held-out examples: per category, and overall accuracy of the top
/// category; with a threshold, how many it left without a category.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub per_category: BTreeMap<String, Score>,
    pub correct: usize,
    pub total: usize,
    /// Held-out examples whose best confidence was under the threshold (no category given).
    pub unsure: usize,
}

impl Report {
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct, self.total)
    }

    /// Macro-averaged precision, recall and F1.
    pub fn macro_average(&self) -> (f64, f64, f64) {
        let n = self.per_category.len().max(1) as f64;
        let sum = |f: fn(&Score) -> f64| self.per_category.values().map(f).sum::<f64>() / n;
        (sum(Score::precision), sum(Score::recall), sum(Score::f1))
    }
}

/// Scores `classifier` on `held`: the top category counts as the prediction when its confidence
/// reaches `threshold` (0 to always predict).
pub fn score(classifier: &Classifier, held: &[Example], threshold: f64) -> Report {
    let mut r = Report::default();
    for c in classifier.categories() {
        r.per_category.insert(c.clone(), Score::default());
    }
    for e in held {
        r.total += 1;
        r.per_category.entry(e.category.clone()).or_default().actual += 1;
        let best = classifier.classify(&e.text).into_iter().next();
        match best {
            Some((c, p)) if p >= threshold => {
                let s = r.per_category.entry(c.clone()).or_default();
                s.predicted += 1;
                if c == e.category {
                    s.true_positives += 1;
                    r.correct += 1;
                }
            }
            _ => r.unsure += 1,
        }
    }
    r
}
