//! Service levels as the log says they stand: every open target by its due time (what the
//! breach process reads), and every first response by queue and time with whether it was in
//! time (what a queue's service level over a window reads).

use crate::domain::interaction::{Interaction, ServiceLevel};
use crate::domain::{InteractionId, Millis, QueueName};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Which target: 0 the first response, 1 the resolution.
pub type Which = u8;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ServiceLevels {
    open: BTreeSet<(Millis, InteractionId, Which)>,
    responded: HashMap<QueueName, BTreeMap<(Millis, InteractionId), bool>>,
}

fn open_targets(s: &Interaction) -> Vec<(Millis, Which)> {
    let Some(sla) = &s.service_level else {
        return Vec::new();
    };
    if s.status.is_terminal() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if sla.first_response_at.is_none() && !sla.first_response_breached {
        out.push((sla.first_response_due, 0));
    }
    if sla.resolved_at.is_none() && !sla.resolution_breached {
        out.push((sla.resolution_due, 1));
    }
    out
}

fn response(s: &Interaction) -> Option<(QueueName, Millis, bool)> {
    let ServiceLevel {
        queue,
        first_response_at,
        first_response_due,
        ..
    } = s.service_level.as_ref()?;
    let at = (*first_response_at)?;
    Some((queue.clone(), at, at <= *first_response_due))
}

impl ServiceLevels {
    pub fn update(&mut self, id: InteractionId, before: Option<&Interaction>, after: &Interaction) {
        let (old, new) = (
            before.map(open_targets).unwrap_or_default(),
            open_targets(after),
        );
        if old != new {
            for (due, which) in old {
                self.open.remove(&(due, id, which));
            }
            for (due, which) in new {
                self.open.insert((due, id, which));
            }
        }
        let (old, new) = (before.and_then(response), response(after));
        if old != new {
            if let Some((q, at, _)) = old {
                if let Some(m) = self.responded.get_mut(&q) {
                    m.remove(&(at, id));
                }
            }
            if let Some((q, at, within)) = new {
                self.responded
                    .entry(q)
                    .or_default()
                    .insert((at, id), within);
            }
        }
    }

    /// Open targets due before `now`, oldest first (at most `limit`).
    pub fn overdue(&self, now: Millis, limit: usize) -> Vec<(InteractionId, Which)> {
        self.open
            .range(..(now, InteractionId::from_uuid(uuid::Uuid::nil()), 0))
            .take(limit)
            .map(|(_, id, w)| (*id, *w))
            .collect()
    }

    /// First responses in `queue` made in `[from, to]`: how many, and how many in time.
    pub fn answered(&self, queue: &QueueName, from: Millis, to: Millis) -> (usize, usize) {
        let Some(m) = self.responded.get(queue) else {
            return (0, 0);
        };
        let lo = (from, InteractionId::from_uuid(uuid::Uuid::nil()));
        let hi = (to, InteractionId::from_uuid(uuid::Uuid::max()));
        m.range(lo..=hi).fold((0, 0), |(n, ok), (_, within)| {
            (n + 1, ok + *within as usize)
        })
    }
}
