//! Agent workloads: per agent, the interactions offered to them, assigned to them, and those they
//! are consulted on. A reply in QA review counts for its reviewer (offered, then assigned).

use crate::domain::interaction::{InboundStatus, ReplyStatus};
use crate::domain::interaction::{Interaction, Status};
use crate::domain::{AgentId, InteractionId};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct AgentWorkload {
    pub offered: BTreeSet<InteractionId>,
    pub assigned: BTreeSet<InteractionId>,
    pub consulting: BTreeSet<InteractionId>,
}

impl AgentWorkload {
    pub fn is_empty(&self) -> bool {
        self.offered.is_empty() && self.assigned.is_empty() && self.consulting.is_empty()
    }
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Workloads {
    agents: HashMap<AgentId, AgentWorkload>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Offered,
    Assigned,
    Consulting,
}

fn roles(state: &Interaction) -> Vec<(AgentId, Role)> {
    let mut out = Vec::new();
    match &state.status {
        // A reply's reviewer: offered, then reviewing it (the author is not working it).
        Status::Reply(ReplyStatus::ReviewOffered { reviewer, .. }) => {
            out.push((reviewer.clone(), Role::Offered))
        }
        Status::Reply(ReplyStatus::InReview { reviewer }) => {
            out.push((reviewer.clone(), Role::Assigned))
        }
        Status::Reply(_) => {}
        Status::Inbound(InboundStatus::Offered { agent, .. }) => {
            out.push((agent.clone(), Role::Offered))
        }
        Status::Inbound(InboundStatus::Assigned) | Status::Inbound(InboundStatus::Replied) => {
            if let Some(owner) = &state.owner {
                out.push((owner.clone(), Role::Assigned));
            }
            for c in &state.consultants {
                out.push((c.clone(), Role::Consulting));
            }
        }
        _ => {}
    }
    out
}

impl Workloads {
    pub fn update(&mut self, id: InteractionId, before: Option<&Interaction>, after: &Interaction) {
        let old = before.map(roles).unwrap_or_default();
        let new = roles(after);
        if old == new {
            return;
        }
        for (agent, role) in old {
            if let Some(w) = self.agents.get_mut(&agent) {
                set_of(w, role).remove(&id);
                if w.is_empty() {
                    self.agents.remove(&agent);
                }
            }
        }
        for (agent, role) in new {
            set_of(self.agents.entry(agent).or_default(), role).insert(id);
        }
    }

    pub fn get(&self, agent: &AgentId) -> Option<&AgentWorkload> {
        self.agents.get(agent)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&AgentId, &AgentWorkload)> {
        self.agents.iter()
    }
}

fn set_of(w: &mut AgentWorkload, role: Role) -> &mut BTreeSet<InteractionId> {
    match role {
        Role::Offered => &mut w.offered,
        Role::Assigned => &mut w.assigned,
        Role::Consulting => &mut w.consulting,
    }
}
