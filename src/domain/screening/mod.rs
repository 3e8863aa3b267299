//! Screening: rules that look at an incoming message and decide what happens to it before anyone
//! reads it: stop it (spam, an out-of-office), set its category, priority or attributes, or move
//! it to another queue. Pure: rules compile once (their conditions parse, their regular
//! expressions build into one `RegexSet` per field), then evaluate a message with no I/O.
//!
//! The condition language is in `expr.rs`. Every rule that matches is reported with the text it
//! matched on, in the order the rules are written; the first `stop` ends the evaluation.

pub mod expr;
pub mod text;

use expr::{Expr, Field, Test};
use regex::{Regex, RegexSet};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// A message as screening sees it.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub from: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub body: String,
    /// Every header, by lower-case name, decoded, in order.
    pub headers: Vec<(String, String)>,
    pub attachments: Vec<String>,
    /// An ISO 639-3 code (`eng`, `deu`), when detected (`classify::language`).
    pub language: Option<String>,
}

/// A rule as configured (`[[rules]]`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    /// The condition (see `expr.rs`).
    pub when: String,
    /// Stop the interaction, with this reason.
    pub stop: Option<String>,
    pub category: Option<String>,
    pub priority: Option<i32>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Move the interaction to this queue.
    pub queue: Option<String>,
}

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Stop(String),
    Category(String),
    Priority(i32),
    Attribute(String, String),
    Queue(String),
}

/// A rule that does not compile: which, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule:?}: {message}")]
pub struct RuleError {
    pub rule: String,
    pub message: String,
}

#[derive(Debug, Clone)]
struct Rule {
    name: String,
    when: Expr,
    actions: Vec<Action>,
}

/// Rules, compiled.
#[derive(Debug, Clone)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// Every `matches` pattern, compiled on its own (to show what matched) …
    regexes: Vec<Regex>,
    /// … and per field, one set of all the patterns used on that field (one pass per field).
    sets: HashMap<Field, (RegexSet, Vec<usize>)>,
}

/// Why a test held: where, and the text it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub field: String,
    pub test: String,
    pub found: String,
}

/// A rule that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub rule: String,
    pub evidence: Vec<Evidence>,
    pub actions: Vec<Action>,
}

/// The result of screening one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub matched: Vec<Matched>,
    pub stop: Option<String>,
    pub categories: Vec<String>,
    pub priority: Option<i32>,
    pub attributes: BTreeMap<String, String>,
    pub queue: Option<String>,
}

const MAX_RULES: usize = 10_000;

/// A rules file: `[[rules]]` tables (see the README).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Stop(r) => write!(f, "stop ({r})"),
            Action::Category(c) => write!(f, "category {c}"),
            Action::Priority(p) => write!(f, "priority {p}"),
            Action::Attribute(k, v) => write!(f, "attribute {k} = {v:?}"),
            Action::Queue(q) => write!(f, "move to queue {q}"),
        }
    }
}

impl RuleSet {
    pub fn empty() -> RuleSet {
        RuleSet {
            rules: Vec::new(),
            regexes: Vec::new(),
            sets: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Reads a rules file's text; an error names the rule (`rules[i]`, its name) or the TOML
    /// line.
    pub fn from_toml(text: &str) -> Result<RuleSet, String> {
        let file: RulesFile =
            toml::from_str(text).map_err(|e| e.to_string().trim().replace('\n', " "))?;
        RuleSet::compile(&file.rules).map_err(|e| {
            match file.rules.iter().position(|r| r.name == e.rule) {
                Some(i) => format!("rules[{i}] ({:?}): {}", e.rule, e.message),
                None => e.to_string(),
            }
        })
    }

    /// Every queue a rule moves interactions to, with the rule's name.
    pub fn queues(&self) -> Vec<(&str, &str)> {
        self.rules
            .iter()
            .flat_map(|r| {
                r.actions.iter().filter_map(|a| match a {
                    Action::Queue(q) => Some((r.name.as_str(), q.as_str())),
                    _ => None,
                })
            })
            .collect()
    }

    /// Compiles the rules; the first one that does not compile is the error.
    pub fn compile(specs: &[RuleSpec]) -> Result<RuleSet, RuleError> {
        if specs.len() > MAX_RULES {
            return Err(RuleError {
                rule: specs[MAX_RULES].name.clone(),
                message: format!("at most {MAX_RULES} rules"),
            });
        }
        let mut patterns = Vec::new();
        // Each pattern compiled once, as its rule is read (its error names the rule).
        let mut regexes = Vec::new();
        let mut rules = Vec::new();
        let mut names = std::collections::HashSet::new();
        for spec in specs {
            let fail = |message: String| RuleError {
                rule: spec.name.clone(),
                message,
            };
            if spec.name.trim().is_empty() {
                return Err(fail("a rule needs a name".into()));
            }
            if !names.insert(spec.name.as_str()) {
                return Err(fail("the name is used twice".into()));
            }
            let first = patterns.len();
            let when =
                expr::parse(&spec.when, &mut patterns).map_err(|e| fail(format!("when: {e}")))?;
            for p in &patterns[first..] {
                regexes.push(Regex::new(p).map_err(|e| {
                    fail(format!(
                        "when: the regular expression {p:?} does not compile: {}",
                        e.to_string().replace('\n', " ")
                    ))
                })?);
            }
            let mut actions = Vec::new();
            if let Some(r) = &spec.stop {
                actions.push(Action::Stop(r.clone()));
            }
            if let Some(c) = &spec.category {
                actions.push(Action::Category(c.clone()));
            }
            if let Some(p) = spec.priority {
                actions.push(Action::Priority(p));
            }
            for (k, v) in &spec.attributes {
                actions.push(Action::Attribute(k.clone(), v.clone()));
            }
            if let Some(q) = &spec.queue {
                actions.push(Action::Queue(q.clone()));
            }
            if actions.is_empty() {
                return Err(fail(
                    "it does nothing: give stop, category, priority, attributes or queue".into(),
                ));
            }
            rules.push(Rule {
                name: spec.name.clone(),
                when,
                actions,
            });
        }
        let mut by_field: HashMap<Field, Vec<usize>> = HashMap::new();
        for r in &rules {
            collect_matches(&r.when, &mut by_field);
        }
        let mut sets = HashMap::new();
        for (field, indexes) in by_field {
            let set =
                RegexSet::new(indexes.iter().map(|&i| &patterns[i])).map_err(|e| RuleError {
                    rule: String::new(),
                    message: e.to_string(),
                })?;
            sets.insert(field, (set, indexes));
        }
        Ok(RuleSet {
            rules,
            regexes,
            sets,
        })
    }

    /// Screens one message.
    pub fn evaluate(&self, input: &Input) -> Outcome {
        let mut view = View::new(input, self);
        let mut out = Outcome::default();
        for rule in &self.rules {
            let mut evidence = Vec::new();
            if !view.holds(&rule.when, &mut evidence) {
                continue;
            }
            for a in &rule.actions {
                match a {
                    Action::Stop(r) => out.stop = out.stop.clone().or(Some(r.clone())),
                    Action::Category(c) if !out.categories.contains(c) => {
                        out.categories.push(c.clone())
                    }
                    Action::Category(_) => {}
                    Action::Priority(p) => out.priority = Some(*p),
                    Action::Attribute(k, v) => {
                        out.attributes.insert(k.clone(), v.clone());
                    }
                    Action::Queue(q) => out.queue = Some(q.clone()),
                }
            }
            out.matched.push(Matched {
                rule: rule.name.clone(),
                evidence,
                actions: rule.actions.clone(),
            });
            if out.stop.is_some() {
                break;
            }
        }
        out
    }
}

fn collect_matches(e: &Expr, into: &mut HashMap<Field, Vec<usize>>) {
    match e {
        Expr::Test(field, Test::Matches { index, .. }) => {
            let v = into.entry(field.clone()).or_default();
            if !v.contains(index) {
                v.push(*index);
            }
        }
        Expr::Test(..) => {}
        Expr::Not(inner) => collect_matches(inner, into),
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|i| collect_matches(i, into)),
    }
}

/// Where each word of one value stands.
type WordPositions = HashMap<String, Vec<usize>>;

/// One message's fields, with what is derived from them computed once (lower case, words,
/// regex-set matches) and then only borrowed.
struct View<'a> {
    input: &'a Input,
    rules: &'a RuleSet,
    values: HashMap<Field, Vec<String>>,
    lower: HashMap<Field, Vec<String>>,
    words: HashMap<(Field, bool), Vec<Vec<String>>>,
    /// Per field and case: per value, where each word stands.
    index: HashMap<(Field, bool), Vec<WordPositions>>,
    /// Per field: per value, the pattern indexes that match it.
    set_hits: HashMap<Field, Vec<Vec<usize>>>,
}

impl<'a> View<'a> {
    fn new(input: &'a Input, rules: &'a RuleSet) -> Self {
        View {
            input,
            rules,
            values: HashMap::new(),
            lower: HashMap::new(),
            words: HashMap::new(),
            index: HashMap::new(),
            set_hits: HashMap::new(),
        }
    }

    /// Computes what `test` needs on `field`, once per message.
    fn prepare(&mut self, f: &Field, test: &Test) {
        let i = self.input;
        if !self.values.contains_key(f) {
            let v = match f {
                Field::From => vec![i.from.clone()],
                Field::To => i.to.clone(),
                Field::Cc => i.cc.clone(),
                Field::Subject => vec![i.subject.clone()],
                Field::Body => vec![i.body.clone()],
                Field::Text => vec![format!("{}\n{}", i.subject, i.body)],
                Field::Attachments => i.attachments.clone(),
                Field::Language => i.language.iter().cloned().collect(),
                Field::Header(h) => i
                    .headers
                    .iter()
                    .filter(|(n, _)| n.eq_ignore_ascii_case(h))
                    .map(|(_, v)| v.clone())
                    .collect(),
            };
            self.values.insert(f.clone(), v);
        }
        let values = &self.values[f];
        match test {
            Test::Contains { case: false, .. } if !self.lower.contains_key(f) => {
                let lower = values.iter().map(|s| s.to_lowercase()).collect();
                self.lower.insert(f.clone(), lower);
            }
            Test::Word { case, .. } | Test::Near { case, .. }
                if !self.words.contains_key(&(f.clone(), *case)) =>
            {
                let words: Vec<Vec<String>> =
                    values.iter().map(|s| text::words(s, *case)).collect();
                let index = words
                    .iter()
                    .map(|ws| {
                        let mut at = WordPositions::new();
                        for (i, w) in ws.iter().enumerate() {
                            at.entry(w.clone()).or_default().push(i);
                        }
                        at
                    })
                    .collect();
                self.words.insert((f.clone(), *case), words);
                self.index.insert((f.clone(), *case), index);
            }
            Test::Matches { .. } if !self.set_hits.contains_key(f) => {
                let hits = match self.rules.sets.get(f) {
                    Some((set, indexes)) => values
                        .iter()
                        .map(|v| set.matches(v).iter().map(|k| indexes[k]).collect())
                        .collect(),
                    None => values.iter().map(|_| Vec::new()).collect(),
                };
                self.set_hits.insert(f.clone(), hits);
            }
            _ => {}
        }
    }

    fn holds(&mut self, e: &Expr, evidence: &mut Vec<Evidence>) -> bool {
        match e {
            Expr::Test(field, test) => {
                self.prepare(field, test);
                match self.test(field, test) {
                    Some(found) => {
                        evidence.push(Evidence {
                            field: field.to_string(),
                            test: describe(test),
                            found,
                        });
                        true
                    }
                    None => false,
                }
            }
            // What a negated test saw is not evidence of anything.
            Expr::Not(inner) => !self.holds(inner, &mut Vec::new()),
            Expr::And(items) => {
                let mut mine = Vec::new();
                for i in items {
                    if !self.holds(i, &mut mine) {
                        return false;
                    }
                }
                evidence.extend(mine);
                true
            }
            Expr::Or(items) => items.iter().any(|i| self.holds(i, evidence)),
        }
    }

    /// The text a test matched, when it holds (`prepare` ran for it).
    fn test(&self, field: &Field, test: &Test) -> Option<String> {
        let values = &self.values[field];
        match test {
            Test::Exists => values.first().cloned(),
            Test::Contains { text, case: true } => values
                .iter()
                .find(|v| v.contains(text.as_str()))
                .map(|_| text.clone()),
            Test::Contains { text, case: false } => {
                self.lower[field].iter().zip(values).find_map(|(l, v)| {
                    l.find(text.as_str())
                        .map(|at| excerpt(l, v, at, text.len()))
                })
            }
            Test::Word { words, case } => {
                let key = (field.clone(), *case);
                self.words[&key]
                    .iter()
                    .zip(&self.index[&key])
                    .find_map(|(ws, at)| {
                        // Where the phrase's first word stands, then the rest in a row.
                        at.get(&words[0])?
                            .iter()
                            .find(|&&i| ws.get(i..i + words.len()) == Some(&words[..]))
                            .map(|&i| ws[i..i + words.len()].join(" "))
                    })
            }
            Test::Near { a, b, within, case } => {
                let key = (field.clone(), *case);
                self.words[&key]
                    .iter()
                    .zip(&self.index[&key])
                    .find_map(|(ws, at)| {
                        let (pa, pb) = (at.get(a)?, at.get(b)?);
                        pa.iter()
                            .flat_map(|&i| pb.iter().map(move |&j| (i, j)))
                            .find(|&(i, j)| i != j && i.abs_diff(j) <= *within)
                            .map(|(i, j)| ws[i.min(j)..=i.max(j)].join(" "))
                    })
            }
            Test::Matches { index, .. } => {
                self.set_hits[field].iter().zip(values).find_map(|(h, v)| {
                    h.contains(index)
                        .then(|| self.rules.regexes[*index].find(v))
                        .flatten()
                        .map(|m| m.as_str().to_string())
                })
            }
        }
    }
}

/// The original text at the place a lower-cased search found it (lower-casing can change
/// lengths: fall back to the lower-cased text then).
fn excerpt(lower: &str, original: &str, at: usize, len: usize) -> String {
    if lower.len() == original.len() {
        if let Some(s) = original.get(at..at + len) {
            return s.to_string();
        }
    }
    lower[at..at + len].to_string()
}

fn describe(t: &Test) -> String {
    match t {
        Test::Contains { text, case } => {
            format!("contains{} {text:?}", if *case { " case" } else { "" })
        }
        Test::Word { words, case } => {
            format!(
                "word{} {:?}",
                if *case { " case" } else { "" },
                words.join(" ")
            )
        }
        Test::Matches { pattern, .. } => format!("matches {pattern:?}"),
        Test::Near { a, b, within, case } => format!(
            "near{}({a:?}, {b:?}, {within})",
            if *case { " case" } else { "" }
        ),
        Test::Exists => "exists".into(),
    }
}

#[cfg(test)]
mod tests;
