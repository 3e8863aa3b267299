//! The matcher routing uses: the agents who can take work now (ready, with free capacity),
//! indexed by each skill they have, kept up to date as offers fill them. A decision reads only
//! the agents holding the interaction's most selective required skill (all free agents when it
//! needs none) in one pass, instead of every agent; a full agent leaves the index at once.
//!
//! It decides exactly as [`super::choose`] (the reference, a scan of every agent): the same agent,
//! the same count of eligible agents, rank and rule. A property test holds the two together.

use super::{eligible, key, three, Candidate, Choice, Routable, Rule};
use crate::domain::AgentId;
use std::collections::{BTreeSet, HashMap};

/// Ready agents with free capacity, indexed by skill.
pub struct Matcher {
    agents: Vec<Candidate>,
    by_name: HashMap<AgentId, usize>,
    /// For each skill, the free agents holding it at level 1 or more.
    by_skill: HashMap<String, BTreeSet<usize>>,
    /// Every free agent.
    free: BTreeSet<usize>,
    /// Each agent's languages as ISO 639-3, worked out once.
    languages: Vec<Vec<String>>,
}

type Key = (std::cmp::Reverse<u32>, u32, crate::domain::Millis);

impl Matcher {
    pub fn new(agents: Vec<Candidate>) -> Matcher {
        let mut m = Matcher {
            by_name: agents
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.clone(), i))
                .collect(),
            languages: agents
                .iter()
                .map(|c| c.languages.iter().map(|l| three(l).to_string()).collect())
                .collect(),
            agents,
            by_skill: HashMap::new(),
            free: BTreeSet::new(),
        };
        for i in 0..m.agents.len() {
            m.index(i);
        }
        m
    }

    fn takes_work(c: &Candidate) -> bool {
        c.ready && c.load < c.capacity
    }

    fn index(&mut self, i: usize) {
        let c = &self.agents[i];
        if !Self::takes_work(c) {
            return;
        }
        self.free.insert(i);
        for (skill, level) in &c.skills {
            if *level > 0 {
                self.by_skill.entry(skill.clone()).or_default().insert(i);
            }
        }
    }

    fn unindex(&mut self, i: usize) {
        self.free.remove(&i);
        for (skill, level) in &self.agents[i].skills {
            if *level > 0 {
                if let Some(set) = self.by_skill.get_mut(skill) {
                    set.remove(&i);
                }
            }
        }
    }

    /// The agents, with their loads as the offers made so far left them.
    pub fn agents(&self) -> &[Candidate] {
        &self.agents
    }

    pub fn into_agents(self) -> Vec<Candidate> {
        self.agents
    }

    /// Counts an offer to agent `i` (from [`Matcher::choose`]).
    pub fn take(&mut self, i: usize) {
        self.agents[i].load += 1;
        if !Self::takes_work(&self.agents[i]) {
            self.unindex(i);
        }
    }

    /// The agents `r` could go to: those holding its rarest required skill, or every free one.
    fn pool(&self, r: &Routable) -> Option<&BTreeSet<usize>> {
        if r.skills.is_empty() {
            return Some(&self.free);
        }
        let mut smallest: Option<&BTreeSet<usize>> = None;
        for s in &r.skills {
            let set = self.by_skill.get(s)?;
            if smallest.is_none_or(|m| set.len() < m.len()) {
                smallest = Some(set);
            }
        }
        smallest
    }

    /// [`eligible`] for agent `i` of a pool (ready and free already), `language` worked out.
    fn fits(&self, i: usize, r: &Routable, language: Option<&str>) -> bool {
        let c = &self.agents[i];
        (r.excluded.is_empty() || !r.excluded.contains(&c.name))
            && r.skills
                .iter()
                .all(|s| c.skills.get(s).is_some_and(|l| *l > 0))
            && match language {
                Some(l) if !self.languages[i].is_empty() => {
                    self.languages[i].iter().any(|x| x == l)
                }
                _ => true,
            }
    }

    /// The agent `r` goes to, or `None` when nobody is eligible: as [`super::choose`] decides.
    pub fn choose(&self, r: &Routable) -> Option<(usize, Choice)> {
        let pool = self.pool(r)?;
        let ranked =
            |i: usize| -> (Key, &AgentId) { (key(&self.agents[i], r), &self.agents[i].name) };
        // The preferred agent's standing, if they are eligible.
        let preferred = r
            .preferred
            .as_ref()
            .and_then(|p| self.by_name.get(p).copied())
            .filter(|i| eligible(&self.agents[*i], r));
        let preferred_key = preferred.map(ranked);
        let mut eligible_count = 0usize;
        let mut better_than_preferred = 0usize;
        let mut best: Option<(Key, &AgentId, usize)> = None;
        let mut second: Option<(Key, &AgentId)> = None;
        let language = r.language.as_deref().map(three);
        for &i in pool {
            if !self.fits(i, r, language) {
                continue;
            }
            eligible_count += 1;
            let k = ranked(i);
            if let Some(pk) = &preferred_key {
                if k < *pk {
                    better_than_preferred += 1;
                }
            }
            match &best {
                Some((bk, bn, _)) if (&k.0, k.1) >= (bk, *bn) => {
                    if second
                        .as_ref()
                        .is_none_or(|(sk, sn)| (&k.0, k.1) < (sk, *sn))
                    {
                        second = Some(k);
                    }
                }
                _ => {
                    if let Some((bk, bn, _)) = best.take() {
                        second = Some((bk, bn));
                    }
                    best = Some((k.0, k.1, i));
                }
            }
        }
        let choice = |i: usize, rank: usize, rule: Rule| {
            (
                i,
                Choice {
                    interaction: r.id,
                    agent: self.agents[i].name.clone(),
                    eligible: eligible_count,
                    rank,
                    rule,
                },
            )
        };
        if let Some(p) = preferred {
            return Some(choice(p, better_than_preferred + 1, Rule::Preferred));
        }
        if r.preferred.is_some() && r.preferred_only {
            return None;
        }
        let (bk, _, bi) = best?;
        let rule = match second {
            None => Rule::Only,
            Some((sk, _)) => {
                if bk.0 != sk.0 {
                    Rule::SkillLevel
                } else if bk.1 != sk.1 {
                    Rule::LeastLoad
                } else if bk.2 != sk.2 {
                    Rule::LongestIdle
                } else {
                    Rule::Name
                }
            }
        };
        Some(choice(bi, 1, rule))
    }
}
