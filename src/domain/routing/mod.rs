//! The router's policy, pure: which queued interaction goes first and which agent it is offered
//! to, and why. The shell (the routing process) feeds it the routable interactions and the
//! agents as the projections hold them, and records what it answers as offers.
//!
//! - Order: effective priority (the interaction's priority, plus one for every `ageing_secs` it
//!   has waited), then age (older first), then id.
//! - Eligible: ready, with free capacity for the media, every required skill at level 1 or more,
//!   the interaction's language among theirs when it has one and they list any, and not an agent
//!   this interaction was already offered to.
//! - Chosen: the preferred agent (who handled the thread) when eligible; while it is reserved
//!   for them (they are ready, within the configured wait) nobody else; else the highest sum of
//!   the required skills' levels, then the least load, then the longest idle, then the name.
//!
//! Every choice says how many agents were eligible, the chosen one's rank and the rule that
//! decided, so a placement can be explained.

use crate::domain::{AgentId, InteractionId, Millis};
use std::collections::{BTreeMap, BTreeSet};

mod index;
#[cfg(test)]
mod tests;

pub use index::Matcher;

/// An agent as routing sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: AgentId,
    pub ready: bool,
    pub skills: BTreeMap<String, u8>,
    pub languages: Vec<String>,
    /// Interactions at once (the media's capacity).
    pub capacity: u32,
    /// Interactions held now (offered and assigned).
    pub load: u32,
    /// Since when they hold nothing (or since they became ready).
    pub idle_since: Millis,
}

impl Candidate {
    fn free(&self) -> bool {
        self.load < self.capacity
    }
}

/// A queued interaction waiting for an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routable {
    pub id: InteractionId,
    pub priority: i32,
    /// Since when it waits in its queue.
    pub queued_at: Millis,
    /// Skills an agent must have (level 1 or more).
    pub skills: Vec<String>,
    /// Its detected language (ISO 639-3), if any.
    pub language: Option<String>,
    /// Agents it was offered to already (rejected or expired): never again.
    pub excluded: BTreeSet<AgentId>,
    /// The agent who handled its thread, offered first when eligible.
    pub preferred: Option<AgentId>,
    /// Reserved for the preferred agent (who is ready): nobody else may take it yet.
    pub preferred_only: bool,
}

/// Why an agent was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The only eligible agent.
    Only,
    /// The agent who handled the thread.
    Preferred,
    /// The highest level in the required skills.
    SkillLevel,
    /// As skilled as the next, with fewer interactions.
    LeastLoad,
    /// As skilled and loaded as the next, idle the longest.
    LongestIdle,
    /// Equal in everything: by name.
    Name,
}

impl Rule {
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Only => "only eligible agent",
            Rule::Preferred => "preferred agent (handled the thread)",
            Rule::SkillLevel => "highest skill level",
            Rule::LeastLoad => "least load",
            Rule::LongestIdle => "longest idle",
            Rule::Name => "name order",
        }
    }
}

/// One decision: who, among how many, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub interaction: InteractionId,
    pub agent: AgentId,
    pub eligible: usize,
    /// 1: the best by the ordering (the preferred agent may have another rank).
    pub rank: usize,
    pub rule: Rule,
}

/// Whether two language codes name the same language (ISO 639-1 or 639-3, lower case).
pub fn same_language(a: &str, b: &str) -> bool {
    three(a) == three(b)
}

/// A language code as ISO 639-3 (a 639-1 code of the table translated; others as they are).
fn three(code: &str) -> &str {
    {
        const TWO_TO_THREE: &[(&str, &str)] = &[
            ("ar", "ara"),
            ("bg", "bul"),
            ("cs", "ces"),
            ("da", "dan"),
            ("de", "deu"),
            ("el", "ell"),
            ("en", "eng"),
            ("es", "spa"),
            ("et", "est"),
            ("fi", "fin"),
            ("fr", "fra"),
            ("he", "heb"),
            ("hr", "hrv"),
            ("hu", "hun"),
            ("it", "ita"),
            ("ja", "jpn"),
            ("ko", "kor"),
            ("lt", "lit"),
            ("lv", "lav"),
            ("nb", "nob"),
            ("nl", "nld"),
            ("pl", "pol"),
            ("pt", "por"),
            ("ro", "ron"),
            ("ru", "rus"),
            ("sk", "slk"),
            ("sl", "slv"),
            ("sv", "swe"),
            ("tr", "tur"),
            ("uk", "ukr"),
            ("zh", "cmn"),
        ];
        TWO_TO_THREE
            .iter()
            .find(|(two, _)| *two == code)
            .map(|(_, t)| *t)
            .unwrap_or(code)
    }
}

/// Whether `c` may be offered `r`.
pub fn eligible(c: &Candidate, r: &Routable) -> bool {
    c.ready
        && c.free()
        && !r.excluded.contains(&c.name)
        && r.skills
            .iter()
            .all(|s| c.skills.get(s).is_some_and(|l| *l > 0))
        && match &r.language {
            Some(l) if !c.languages.is_empty() => c.languages.iter().any(|x| same_language(x, l)),
            _ => true,
        }
}

/// The ordering key of an eligible agent for `r`: smaller is better.
fn key(c: &Candidate, r: &Routable) -> (std::cmp::Reverse<u32>, u32, Millis) {
    let level: u32 = r
        .skills
        .iter()
        .map(|s| u32::from(c.skills.get(s).copied().unwrap_or(0)))
        .sum();
    (std::cmp::Reverse(level), c.load, c.idle_since)
}

/// The agent `r` goes to among `agents`, or `None` when nobody is eligible.
pub fn choose<'a>(
    agents: impl IntoIterator<Item = &'a Candidate>,
    r: &Routable,
) -> Option<(usize, Choice)> {
    let mut ranked: Vec<(usize, &Candidate)> = agents
        .into_iter()
        .enumerate()
        .filter(|(_, c)| eligible(c, r))
        .collect();
    ranked.sort_by(|(_, a), (_, b)| key(a, r).cmp(&key(b, r)).then(a.name.cmp(&b.name)));
    let eligible = ranked.len();
    let choice = |pos: usize, rule: Rule| {
        let (index, c) = ranked[pos];
        (
            index,
            Choice {
                interaction: r.id,
                agent: c.name.clone(),
                eligible,
                rank: pos + 1,
                rule,
            },
        )
    };
    if let Some(p) = &r.preferred {
        if let Some(pos) = ranked.iter().position(|(_, c)| &c.name == p) {
            return Some(choice(pos, Rule::Preferred));
        }
        if r.preferred_only {
            // It waits for them (their capacity frees, or the reservation ends).
            return None;
        }
    }
    let rule = match ranked.as_slice() {
        [] => return None,
        [_] => Rule::Only,
        [(_, a), (_, b), ..] => {
            let (ka, kb) = (key(a, r), key(b, r));
            if ka.0 != kb.0 {
                Rule::SkillLevel
            } else if ka.1 != kb.1 {
                Rule::LeastLoad
            } else if ka.2 != kb.2 {
                Rule::LongestIdle
            } else {
                Rule::Name
            }
        }
    };
    Some(choice(0, rule))
}

/// The order interactions are routed in at `now`: effective priority (priority plus one per
/// `ageing_secs` waited; 0: no ageing), then the oldest, then the id.
pub fn order(queue: &mut [Routable], now: Millis, ageing_secs: u32) {
    let effective = |r: &Routable| -> i64 {
        let boost = if ageing_secs == 0 {
            0
        } else {
            (now.0 - r.queued_at.0).max(0) / (i64::from(ageing_secs) * 1000)
        };
        i64::from(r.priority) + boost
    };
    queue.sort_by(|a, b| {
        effective(b)
            .cmp(&effective(a))
            .then(a.queued_at.cmp(&b.queued_at))
            .then(a.id.cmp(&b.id))
    });
}

/// One round: every routable interaction in order, each offered to the best eligible agent,
/// whose load then counts it. Answers the offers made. Decides through the [`Matcher`]'s index.
pub fn plan(
    queue: &mut [Routable],
    agents: &mut [Candidate],
    now: Millis,
    ageing_secs: u32,
) -> Vec<Choice> {
    order(queue, now, ageing_secs);
    let mut matcher = Matcher::new(agents.to_vec());
    let mut offers = Vec::new();
    for r in queue.iter() {
        if let Some((index, choice)) = matcher.choose(r) {
            matcher.take(index);
            offers.push(choice);
        }
    }
    agents.clone_from_slice(matcher.agents());
    offers
}

/// [`plan`] as a scan of every agent for every decision: the reference the index is held to
/// (and the benchmark's baseline).
pub fn plan_by_scan(
    queue: &mut [Routable],
    agents: &mut [Candidate],
    now: Millis,
    ageing_secs: u32,
) -> Vec<Choice> {
    order(queue, now, ageing_secs);
    let mut offers = Vec::new();
    for r in queue.iter() {
        if let Some((index, choice)) = choose(agents.iter(), r) {
            agents[index].load += 1;
            offers.push(choice);
        }
    }
    offers
}
