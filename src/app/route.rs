//! The routing process: every pass, offers that passed their deadline expire and offers held by
//! agents who went not ready, logged out or stopped being agents are withdrawn (both back to the
//! queue, never offered to that agent again), then every queued interaction, in the router's
//! order, is offered to the best eligible ready agent with free capacity (`domain::routing`):
//! locked, offered with a deadline, and the offer explained (how many were eligible, the rank,
//! the rule), each an event. Replies waiting for QA review are offered the same way, to agents
//! flagged reviewer only, never to their author. An agent is never offered the same interaction
//! twice; one nobody can take now waits for the next pass.

use crate::actors::{CommandEnvelope, Interactions};
use crate::domain::agent::Presence;
use crate::domain::interaction::{
    InboundStatus, Interaction, InteractionCommand, OfferExplained, ReplyStatus, Status,
};
use crate::domain::routing::{plan, Candidate, Choice, Routable};
use crate::domain::{AgentId, InteractionId, Millis, Principal, QueueName};
use crate::projections::ProjectionRunner;
use std::sync::Arc;

/// How routing offers.
#[derive(Debug, Clone)]
pub struct RoutingPolicy {
    /// How long an agent has to accept an offer.
    pub offer_secs: f64,
    /// One step of priority for every this many seconds waited (0: none).
    pub ageing_secs: u32,
    /// How long a customer's answer waits for the ready agent who handled its thread.
    pub preferred_wait_secs: f64,
    /// Expiring steps by queue: after so many seconds, only these skills (latest first).
    pub widen: Vec<(QueueName, f64, Vec<String>)>,
    /// Skills by category, added to those of the queue's `route` step.
    pub category_skills: std::collections::BTreeMap<String, Vec<String>>,
}

impl RoutingPolicy {
    /// The skills `s` needs after waiting until `now`, and the step's wait when one applies.
    fn skills(&self, s: &Interaction, now: Millis) -> (Vec<String>, Option<f64>) {
        let mut base = s
            .process
            .as_ref()
            .map(|p| p.skills.clone())
            .unwrap_or_default();
        let by_category = s
            .category
            .as_ref()
            .and_then(|c| self.category_skills.get(c));
        for skill in by_category.into_iter().flatten() {
            if !base.contains(skill) {
                base.push(skill.clone());
            }
        }
        let waited = (now.0 - s.created_at.0).max(0) as f64 / 1000.0;
        self.widen
            .iter()
            .filter(|(q, after, _)| Some(q) == s.queue.as_ref() && *after <= waited)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(_, after, skills)| (skills.clone(), Some(*after)))
            .unwrap_or((base, None))
    }
}

/// The routing process. Cheap to clone.
#[derive(Clone)]
pub struct Router {
    pub policy: RoutingPolicy,
    pub projections: Arc<ProjectionRunner>,
    pub interactions: Interactions,
    /// The log position of routing's own latest event: a pass reads the projections only once
    /// they hold it, so it never plans from a state its last offers are missing from (an agent
    /// offered past their capacity).
    pub written: Arc<std::sync::atomic::AtomicU64>,
}

/// Who routing's commands are recorded under.
pub fn principal() -> Principal {
    Principal::System("router".into())
}

impl Router {
    /// One pass: expire, then offer.
    pub async fn run_once(&self) {
        self.caught_up().await;
        let now = super::now();
        for id in self.expired(now) {
            self.run(id, InteractionCommand::ExpireOffer { at: now })
                .await
                .ok();
        }
        for (id, reason) in self.stranded() {
            let cmd = InteractionCommand::WithdrawOffer { reason, at: now };
            self.run(id, cmd).await.ok();
        }
        self.caught_up().await;
        // Widened skills, by interaction: the explanation says so.
        let mut widened: std::collections::HashMap<InteractionId, f64> = Default::default();
        // Replies waiting for a reviewer (offered without the routing lock).
        let mut reviews: std::collections::HashSet<InteractionId> = Default::default();
        let (mut queue, mut agents) = self.projections.read(|p| {
            let agents: Vec<Candidate> = p
                .agents
                .active()
                .filter_map(|(name, a)| {
                    let profile = a.profile.as_ref()?;
                    let load = p
                        .workloads
                        .get(name)
                        .map(|w| w.offered.len() + w.assigned.len())
                        .unwrap_or(0) as u32;
                    let mut skills = profile.skills.clone();
                    if profile.reviewer {
                        skills.insert(REVIEW_SKILL.into(), 1);
                    }
                    Some(Candidate {
                        name: name.clone(),
                        ready: a.presence == Presence::Ready,
                        skills,
                        languages: profile.languages.clone(),
                        capacity: profile.capacity.get("email").copied().unwrap_or(0),
                        load,
                        idle_since: a.since,
                    })
                })
                .collect();
            let queue: Vec<Routable> = if agents.iter().any(|c| c.ready && c.load < c.capacity) {
                // What waits in the queues (not every interaction ever received).
                p.queues
                    .depths()
                    .into_iter()
                    .flat_map(|(q, _)| {
                        p.queues
                            .contents(&q)
                            .into_iter()
                            .flatten()
                            .map(|e| e.id)
                            .collect::<Vec<_>>()
                    })
                    .filter_map(|id| {
                        let s = p.cache.get(&id)?;
                        if s.status == Status::Reply(ReplyStatus::AwaitingReview) {
                            reviews.insert(id);
                            return Some(review(id, &s));
                        }
                        (s.status == Status::Inbound(InboundStatus::Queued)).then(|| {
                            let handled = handled_by(p, id, &s);
                            let ready = handled.as_ref().is_some_and(|h| {
                                p.agents
                                    .get(h)
                                    .is_some_and(|a| a.is_active() && a.presence == Presence::Ready)
                            });
                            let (skills, after) = self.policy.skills(&s, now);
                            if let Some(after) = after {
                                widened.insert(id, after);
                            }
                            self.routable(id, &s, skills, handled, ready, now)
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            (queue, agents)
        });
        if queue.is_empty() {
            return;
        }
        let offers = plan(&mut queue, &mut agents, now, self.policy.ageing_secs);
        let skills: std::collections::HashMap<InteractionId, &[String]> =
            queue.iter().map(|r| (r.id, r.skills.as_slice())).collect();
        for choice in offers {
            let id = choice.interaction;
            let skills = skills.get(&id).copied().unwrap_or_default();
            let review = reviews.contains(&id);
            if let Err(e) = self
                .offer(&choice, skills, widened.get(&id).copied(), review, now)
                .await
            {
                tracing::warn!(interaction_id = %choice.interaction, error = %e, "offer not made");
            }
        }
    }

    /// Interactions whose offer's deadline has passed.
    fn expired(&self, now: Millis) -> Vec<InteractionId> {
        self.projections.read(|p| {
            p.workloads
                .iter()
                .flat_map(|(_, w)| w.offered.iter().copied())
                .filter(|id| {
                    p.cache
                        .get(id)
                        .is_some_and(|s| s.status.offer().is_some_and(|(_, d)| d <= now))
                })
                .collect()
        })
    }

    /// Offers held by agents who can no longer take them (not ready, logged out, no longer
    /// agents), with why.
    fn stranded(&self) -> Vec<(InteractionId, String)> {
        self.projections.read(|p| {
            p.workloads
                .iter()
                .filter_map(|(name, w)| {
                    let why = match p.agents.get(name) {
                        Some(a) if a.is_active() => match &a.presence {
                            Presence::Ready => return None,
                            Presence::NotReady { .. } => "the agent is not ready",
                            Presence::LoggedOut => "the agent logged out",
                        },
                        _ => "no longer an agent",
                    };
                    (!w.offered.is_empty()).then(|| (w.offered.clone(), why))
                })
                .flat_map(|(ids, why)| ids.into_iter().map(move |id| (id, why.to_string())))
                .collect()
        })
    }

    async fn run(&self, id: InteractionId, command: InteractionCommand) -> Result<(), String> {
        let outcome = self
            .interactions
            .execute(id, CommandEnvelope::new(command, principal()))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(position) = outcome.last_position {
            self.written
                .fetch_max(position, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }

    /// Waits (a few seconds at most) until the projections hold routing's own latest event.
    async fn caught_up(&self) {
        let position = self.written.load(std::sync::atomic::Ordering::SeqCst);
        let held = self
            .projections
            .wait_for(position, std::time::Duration::from_secs(5))
            .await;
        if !held {
            tracing::warn!(position, "routing read projections that lag its own events");
        }
    }

    /// Locks, offers and explains one choice (`skills` the interaction needed; `widened`: the
    /// wait after which they were lowered; `review`: a reply offered to a reviewer, which
    /// supervisors do not move, so it needs no lock).
    async fn offer(
        &self,
        c: &Choice,
        skills: &[String],
        widened: Option<f64>,
        review: bool,
        now: Millis,
    ) -> Result<(), String> {
        let id = c.interaction;
        // The lock: nobody else moves it while it is offered (it may have moved since the read).
        if !review {
            let lock = InteractionCommand::LockForRouting {
                router: "router".into(),
                at: now,
            };
            self.run(id, lock).await?;
        }
        let deadline = Millis(now.0 + (self.policy.offer_secs * 1000.0) as i64);
        let rule = match widened {
            Some(after) => format!("{} (skills widened after {after} s)", c.rule.name()),
            None => c.rule.name().to_string(),
        };
        let explained = OfferExplained {
            agent: c.agent.clone(),
            eligible: c.eligible as u32,
            rank: c.rank as u32,
            rule,
            skills: skills.to_vec(),
            at: now,
        };
        let offer = InteractionCommand::Offer {
            agent: c.agent.clone(),
            deadline,
            at: now,
            explained: Some(Box::new(explained)),
        };
        let offered = self.run(id, offer).await;
        if offered.is_err() && !review {
            self.run(id, InteractionCommand::UnlockRouting { at: now })
                .await
                .ok();
        }
        offered
    }
}

impl Router {
    /// A queued interaction as routing sees it at `now`: the skills it needs (widened after a
    /// wait), and the agent who handled its thread (`ready`: reserved for them a while).
    fn routable(
        &self,
        id: InteractionId,
        s: &Interaction,
        skills: Vec<String>,
        handled: Option<AgentId>,
        ready: bool,
        now: Millis,
    ) -> Routable {
        let waited = (now.0 - s.created_at.0).max(0) as f64 / 1000.0;
        Routable {
            id,
            priority: s.priority,
            queued_at: s.created_at,
            skills,
            language: s.language.clone(),
            excluded: s.offered_to.iter().cloned().collect(),
            preferred_only: ready && waited < self.policy.preferred_wait_secs,
            preferred: handled,
        }
    }
}

/// The skill only reviewers hold (no configured skill can be named so): what a reply waiting
/// for review needs.
pub const REVIEW_SKILL: &str = "@review";

/// A reply waiting for a reviewer, as routing sees it: for reviewers only, never its author.
fn review(id: InteractionId, s: &Interaction) -> Routable {
    let mut excluded: std::collections::BTreeSet<AgentId> = s.offered_to.iter().cloned().collect();
    excluded.extend(s.owner.clone());
    Routable {
        id,
        priority: s.priority,
        queued_at: s.created_at,
        skills: vec![REVIEW_SKILL.to_string()],
        language: None,
        excluded,
        preferred_only: false,
        preferred: None,
    }
}

/// The agent who last worked on `id`'s thread (its latest reply's author, or the latest owner
/// of one of its messages), if any.
fn handled_by(
    p: &crate::projections::Projections,
    id: InteractionId,
    s: &Interaction,
) -> Option<AgentId> {
    let root = p.thread_of(id, s);
    p.threads
        .members(root)
        .into_iter()
        .filter(|m| *m != id)
        .filter_map(|m| p.cache.get(&m))
        .filter_map(|m| Some((m.updated_at, m.owner?)))
        .max_by_key(|(at, _)| *at)
        .map(|(_, owner)| owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interaction::ProcessState;

    #[test]
    fn skills_come_from_the_queue_and_the_category_and_widen_after_the_wait() {
        let q = |n: &str| QueueName::parse(n).unwrap();
        let policy = RoutingPolicy {
            offer_secs: 30.0,
            ageing_secs: 60,
            preferred_wait_secs: 60.0,
            widen: vec![
                (q("inbound"), 120.0, vec![]),
                (q("inbound"), 60.0, vec!["en".into()]),
            ],
            category_skills: [(
                "billing_payment".to_string(),
                vec!["billing".to_string(), "en".to_string()],
            )]
            .into_iter()
            .collect(),
        };
        let s = Interaction {
            queue: Some(q("inbound")),
            category: Some("billing_payment".into()),
            process: Some(ProcessState {
                version: "v".into(),
                queue: q("inbound"),
                skills: vec!["en".into()],
                response: None,
            }),
            created_at: Millis(0),
            ..Default::default()
        };
        assert_eq!(
            policy.skills(&s, Millis(1_000)),
            (vec!["en".to_string(), "billing".to_string()], None)
        );
        assert_eq!(
            policy.skills(&s, Millis(61_000)),
            (vec!["en".to_string()], Some(60.0))
        );
        assert_eq!(policy.skills(&s, Millis(121_000)), (vec![], Some(120.0)));
        let other = Interaction {
            category: Some("returns".into()),
            ..s
        };
        assert_eq!(
            policy.skills(&other, Millis(1_000)).0,
            vec!["en".to_string()]
        );
    }
}
