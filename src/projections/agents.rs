//! Agents as the API and routing read them: every agent by name, rebuilt from its events (the
//! projection snapshot keeps them).

use crate::domain::agent::{evolve, Agent, AgentEvent};
use crate::domain::AgentId;
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Agents {
    by_name: BTreeMap<AgentId, Agent>,
}

impl Agents {
    pub fn apply(&mut self, name: AgentId, event: &AgentEvent) {
        let before = self.by_name.remove(&name).unwrap_or_default();
        self.by_name.insert(name, evolve(before, event));
    }

    /// An agent, deleted or not.
    pub fn get(&self, name: &AgentId) -> Option<&Agent> {
        self.by_name.get(name)
    }

    /// Every agent not deleted, by name.
    pub fn active(&self) -> impl Iterator<Item = (&AgentId, &Agent)> {
        self.by_name.iter().filter(|(_, a)| a.is_active())
    }

    /// For the projection snapshot.
    pub fn for_snapshot(&self) -> Vec<(AgentId, Agent)> {
        self.by_name
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn from_snapshot(items: Vec<(AgentId, Agent)>) -> Agents {
        Agents {
            by_name: items.into_iter().collect(),
        }
    }
}
