//! What each agent's desktop is told as it happens: offers made to them (by routing or a
//! colleague's transfer), their offers withdrawn, expired or refused, work assigned to them,
//! consultations they are invited to or that end, contributions to their work, and their replies
//! returned for revision. Every notice carries the log position of the event it tells, so a
//! desktop that reconnects with the last position it saw misses nothing.
//!
//! One follower reads the log once for everyone and hands each notice to the connected desktops
//! of its agent. A desktop that reconnects catches up from the log itself, up to where the
//! follower stood when it joined, then takes the follower's notices: nothing is skipped and
//! nothing repeated. A desktop that cannot keep up is disconnected (it reconnects and catches
//! up from the log) rather than holding the follower back.

use crate::domain::interaction::{InteractionEvent, TransferTarget};
use crate::domain::{AgentId, InteractionId};
use crate::events::subscription::Subscription;
use crate::events::{DomainEvent, EventStore, RecordedEvent, StoreError};
use crate::projections::ProjectionRunner;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Notices waiting for one desktop before it counts as not keeping up.
const BUFFER: usize = 1024;

/// One thing an agent's desktop is told.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The log position of the event (the SSE id).
    pub position: u64,
    /// What happened: `offer`, `offer_withdrawn`, `offer_expired`, `offer_rejected`, `assigned`,
    /// `consultation`, `consultation_ended`, `contribution`, `returned_for_revision`, `approved`
    /// (your reply), `review_assigned`, `review_reassigned`, `breached` (your work is late).
    pub kind: &'static str,
    pub interaction_id: InteractionId,
    /// The event as the audit export shows it (`type`, `recorded_at`, `principal`, `data`…).
    pub event: serde_json::Value,
}

/// Who is told what about one recorded event (`owner` answers the agent working an
/// interaction, or the author of a reply).
pub fn notices(
    e: &RecordedEvent,
    owner: impl Fn(InteractionId) -> Option<AgentId>,
) -> Vec<(AgentId, Notice)> {
    let Some(id) = InteractionId::from_stream(&e.stream) else {
        return Vec::new();
    };
    let Ok(DomainEvent::Interaction(event)) = DomainEvent::from_recorded(e) else {
        return Vec::new();
    };
    use InteractionEvent as E;
    let to: Vec<(AgentId, &'static str)> = match &event {
        E::InteractionOffered(x) => vec![(x.agent.clone(), "offer")],
        E::InteractionTransferred(x) => match &x.target {
            TransferTarget::Agent { agent, .. } => vec![(agent.clone(), "offer")],
            TransferTarget::Queue { .. } => Vec::new(),
        },
        E::OfferWithdrawn(x) => vec![(x.agent.clone(), "offer_withdrawn")],
        E::OfferExpired(x) => vec![(x.agent.clone(), "offer_expired")],
        E::OfferRejected(x) => vec![(x.agent.clone(), "offer_rejected")],
        E::OfferAccepted(x) => vec![(x.agent.clone(), "assigned")],
        E::AssignedBySupervisor(x) => vec![(x.agent.clone(), "assigned")],
        E::ConsultationStarted(x) => vec![(x.consultant.clone(), "consultation")],
        E::ConsultationEnded(x) => {
            // Whoever did not end it is told.
            let mut to = Vec::new();
            if x.ended_by != x.consultant {
                to.push((x.consultant.clone(), "consultation_ended"));
            } else if let Some(o) = owner(id) {
                to.push((o, "consultation_ended"));
            }
            to
        }
        E::ConsultationContributed(_) => owner(id)
            .map(|o| vec![(o, "contribution")])
            .unwrap_or_default(),
        E::ReturnedForRevision(_) => owner(id)
            .map(|o| vec![(o, "returned_for_revision")])
            .unwrap_or_default(),
        E::ReplyApproved(_) => owner(id).map(|o| vec![(o, "approved")]).unwrap_or_default(),
        E::ReviewReassigned(x) => {
            let mut to = vec![(x.to.clone(), "review_assigned")];
            to.extend(x.from.clone().map(|f| (f, "review_reassigned")));
            to
        }
        E::ServiceLevelBreached(_) => owner(id).map(|o| vec![(o, "breached")]).unwrap_or_default(),
        _ => Vec::new(),
    };
    if to.is_empty() {
        return Vec::new();
    }
    let json = crate::events::export::to_json(e);
    to.into_iter()
        .map(|(agent, kind)| {
            let notice = Notice {
                position: e.position,
                kind,
                interaction_id: id,
                event: json.clone(),
            };
            (agent, notice)
        })
        .collect()
}

#[derive(Default)]
struct Desktops {
    /// The position the follower has handed out up to.
    position: u64,
    by_agent: HashMap<AgentId, Vec<mpsc::Sender<Arc<Notice>>>>,
    closed: bool,
}

/// The follower and the desktops connected to it. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    desktops: Arc<Mutex<Desktops>>,
    store: Arc<dyn EventStore>,
    projections: Arc<ProjectionRunner>,
}

/// A connected desktop: its catch-up from the log, then the follower's notices.
pub struct Connection {
    pub catch_up: Vec<Notice>,
    pub live: mpsc::Receiver<Arc<Notice>>,
    /// Notices at or before this position were in the catch-up (or asked to be skipped).
    pub after: u64,
}

impl Notifier {
    /// A notifier following the log from its current head.
    pub fn new(store: Arc<dyn EventStore>, projections: Arc<ProjectionRunner>) -> Notifier {
        let position = store.head();
        Notifier {
            desktops: Arc::new(Mutex::new(Desktops {
                position,
                ..Default::default()
            })),
            store,
            projections,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Desktops> {
        self.desktops.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn owner(&self, id: InteractionId) -> Option<AgentId> {
        self.projections
            .read(|p| p.cache.get(&id).and_then(|s| s.owner))
    }

    /// Follows the log until the store closes or `close` is called.
    pub async fn run(&self) {
        let start = self.lock().position;
        let mut subscription = Subscription::new(self.store.clone(), start);
        loop {
            let batch = match subscription.next_batch(512).await {
                Ok(b) => b,
                Err(StoreError::Unavailable) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "the desktop notifier cannot read the log; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    continue;
                }
            };
            let mut found = Vec::new();
            for e in &batch {
                found.extend(notices(e, |id| self.owner(id)));
            }
            let mut d = self.lock();
            if d.closed {
                break;
            }
            for (agent, notice) in found {
                let notice = Arc::new(notice);
                if let Some(senders) = d.by_agent.get_mut(&agent) {
                    // A desktop that is gone or cannot keep up is dropped (it reconnects and
                    // catches up from the log).
                    senders.retain(|s| s.try_send(notice.clone()).is_ok());
                }
            }
            d.by_agent.retain(|_, s| !s.is_empty());
            if let Some(last) = batch.last() {
                d.position = last.position;
            }
        }
        self.close();
    }

    /// Ends every desktop's stream (the server is stopping).
    pub fn close(&self) {
        let mut d = self.lock();
        d.closed = true;
        d.by_agent.clear();
    }

    /// Connects `agent`'s desktop; with `last_seen`, everything after that position is told
    /// first from the log.
    pub fn connect(
        &self,
        agent: &AgentId,
        last_seen: Option<u64>,
    ) -> Result<Connection, StoreError> {
        let (tx, live) = mpsc::channel(BUFFER);
        let joined = {
            let mut d = self.lock();
            if d.closed {
                return Err(StoreError::Unavailable);
            }
            d.by_agent.entry(agent.clone()).or_default().push(tx);
            d.position
        };
        let mut catch_up = Vec::new();
        let after = match last_seen {
            Some(seen) if seen < joined => {
                let mut next = seen + 1;
                while next <= joined {
                    let batch = self.store.read_all(next, 512)?;
                    let Some(last) = batch.last() else { break };
                    next = last.position + 1;
                    for e in batch.iter().filter(|e| e.position <= joined) {
                        catch_up.extend(
                            notices(e, |id| self.owner(id))
                                .into_iter()
                                .filter(|(a, _)| a == agent)
                                .map(|(_, n)| n),
                        );
                    }
                }
                joined
            }
            Some(seen) => seen,
            None => joined,
        };
        Ok(Connection {
            catch_up,
            live,
            after,
        })
    }

    /// Desktops connected now.
    pub fn connected(&self) -> usize {
        self.lock().by_agent.values().map(Vec::len).sum()
    }
}
