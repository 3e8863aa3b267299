//! The business process: for each queue an ordered strategy of steps that a new inbound
//! interaction runs through (screen, categorise, answer automatically, acknowledge, set priority
//! or attributes, move to another queue, route to agents with given skills, stop). Pure: the
//! configuration is checked here ([`Workflow::new`]) and [`Workflow::react`] answers the commands
//! that follow from a receipt; the shells (the receive path, the sweep that finishes what waits,
//! the answering process) run them.
//!
//! A run starts in the queue the channel asks for (a mailbox's queue for malformed mail or
//! bounces) or the entry queue, and takes that queue's steps in order (the entry queue's when
//! the channel's queue has none). A `move` step, or a
//! screening rule that moves the interaction, makes the new queue its destination: when that
//! queue has a strategy of its own, the run continues with it from its first step, else with the
//! rest of the current one. `route` ends the run with the interaction queued in its destination
//! (so does the end of a strategy); `stop` ends it stopped; `auto_respond` ends it when a usable automatic response
//! of its category exists (it is then done once the answer is sent, or queued where the run
//! ended when the loop policy refuses the answer). Screening and categorisation run once per
//! run, whichever strategy asks first. All of it is recorded in the receipt's append: the
//! screening, the categories, then [`ProcessRan`] (the version and every step's outcome), then
//! the queue or the stop and the planned answer.

use crate::domain::interaction::Actor;
use crate::domain::interaction::{
    AnswerUsage, AutoAnswer, InboundStatus, Interaction, InteractionCommand, InteractionEvent,
    InteractionScreened, ProcessRan, ScreeningMatch, Status, StepOutcome,
};
use crate::domain::text::{is_key, is_line};
use crate::domain::{Millis, Principal, QueueName};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What screening and categorisation found in a new message: the rules that matched and what
/// they ask, the detected language, and the categories with their confidence (thousandths),
/// best first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The screening configuration that produced it (a digest).
    pub version: String,
    pub matched: Vec<ScreeningMatch>,
    pub stop: Option<String>,
    /// The categories rules set (certain), in rule order.
    pub rule_categories: Vec<String>,
    /// The classifier's categories above the threshold, best first.
    pub categories: Vec<(String, u16)>,
    pub priority: Option<i32>,
    pub attributes: BTreeMap<String, String>,
    /// The queue a rule moves it to.
    pub queue: Option<QueueName>,
    pub language: Option<String>,
}

/// Who screening's stops are recorded by.
pub const SCREENING: &str = "system:screening";
/// Who a `stop` step's stops are recorded by.
pub const PROCESS: &str = "system:workflow";

/// One step of a queue's strategy, as written in the configuration (`{ step = "route", skills =
/// ["billing"] }`); checked into a [`Step`] by [`Workflow::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepSpec {
    /// Apply the screening rules (their stop, move, priority, attributes and categories).
    Screen,
    /// Record the classifier's categories above the threshold.
    Categorise,
    /// Answer with the usable automatic response of its categories, if there is one.
    AutoRespond,
    /// Plan the acknowledgement (sent when the loop policy allows; only with `[smtp]`).
    Acknowledge,
    /// Set the priority and/or attributes.
    Set {
        #[serde(skip_serializing_if = "Option::is_none")]
        priority: Option<i32>,
        #[serde(default)]
        attributes: BTreeMap<String, String>,
    },
    /// Continue with another queue's strategy.
    Move { queue: String },
    /// Queue it where it is, for agents with all of these skills.
    Route {
        #[serde(default)]
        skills: Vec<String>,
    },
    /// End the process: neither queued nor answered.
    Stop { reason: String },
}

/// A checked step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Screen,
    Categorise,
    AutoRespond,
    Acknowledge,
    Set {
        priority: Option<i32>,
        attributes: BTreeMap<String, String>,
    },
    Move {
        queue: QueueName,
    },
    Route {
        skills: Vec<String>,
    },
    Stop {
        reason: String,
    },
}

impl Step {
    /// The stable name (`screen`, `route`, …), as written in the configuration.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Screen => "screen",
            Step::Categorise => "categorise",
            Step::AutoRespond => "auto_respond",
            Step::Acknowledge => "acknowledge",
            Step::Set { .. } => "set",
            Step::Move { .. } => "move",
            Step::Route { .. } => "route",
            Step::Stop { .. } => "stop",
        }
    }
}

/// The strategy of a queue the configuration gives none: route it as it is.
fn route_only() -> &'static [Step] {
    static ROUTE: std::sync::OnceLock<Vec<Step>> = std::sync::OnceLock::new();
    ROUTE.get_or_init(|| vec![Step::Route { skills: Vec::new() }])
}

/// The default strategy of the entry queue (the seed's flow): screening, categorisation, an
/// automatic response where one fits, else an acknowledgement, and routing.
pub fn default_strategy() -> Vec<StepSpec> {
    vec![
        StepSpec::Screen,
        StepSpec::Categorise,
        StepSpec::AutoRespond,
        StepSpec::Acknowledge,
        StepSpec::Route { skills: Vec::new() },
    ]
}

/// A configuration problem: the key it is at (`workflow.process.inbound[2].queue`) and what is
/// wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ProcessError {
    pub key: String,
    pub message: String,
}

/// The business process in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    /// A digest of everything that decides what happens (recorded with every run).
    pub version: String,
    /// Where new inbound interactions start unless their channel names a queue.
    pub entry: QueueName,
    /// Each queue's steps; a queue without its own routes as it is.
    pub strategies: BTreeMap<QueueName, Vec<Step>>,
    /// Whether anything can be sent (a mail server is configured): without, `auto_respond` and
    /// `acknowledge` steps record why nothing is planned.
    pub sending: bool,
    /// Whether acknowledgements are wanted (`[workflow] acknowledge`).
    pub acknowledge: bool,
    /// Each queue's service-level targets: due times recorded when an interaction is queued.
    pub service_levels: crate::domain::service_level::ServiceLevels,
}

/// A usable automatic response the shell found for a set of categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutomaticResponse {
    pub id: uuid::Uuid,
    pub name: String,
}

/// What a run needs besides the interaction: what the channel asks, what screening found, and
/// which automatic response would answer a set of categories (read from the standard
/// responses in force).
pub struct Facts<'a> {
    pub requested: Option<&'a QueueName>,
    pub analysis: Option<&'a Analysis>,
    pub automatic: &'a dyn Fn(&[String]) -> Option<AutomaticResponse>,
    pub at: Millis,
}

/// How a run ended.
enum End {
    Route(Vec<String>),
    Stop(String, &'static str),
    Answer(AutomaticResponse),
}

impl Workflow {
    /// Who the workflow's commands are recorded under.
    pub fn principal() -> Principal {
        Principal::System("workflow".into())
    }

    /// Checks a configured process: every queue a step names is one of `queues` (the inbound
    /// queue and every strategy's queue count as known), skills and attribute keys are keys,
    /// reasons are one line, and moves never go round in a circle. `strategies` absent for the
    /// entry queue: it gets the [`default_strategy`]. Nothing is sent until `sending` and
    /// `acknowledge` are set.
    pub fn new(
        version: String,
        entry: QueueName,
        queues: &[QueueName],
        strategies: &BTreeMap<String, Vec<StepSpec>>,
    ) -> Result<Workflow, ProcessError> {
        let err = |key: String, message: String| ProcessError { key, message };
        let mut known: BTreeSet<QueueName> = queues.iter().cloned().collect();
        known.insert(entry.clone());
        let mut checked = BTreeMap::new();
        for name in strategies.keys() {
            let q = QueueName::parse(name).map_err(|e| {
                err(
                    format!("workflow.process.{name}"),
                    format!("not a queue name: {e}"),
                )
            })?;
            known.insert(q);
        }
        for (name, specs) in strategies {
            let q = QueueName::parse(name).unwrap_or_else(|_| unreachable!("parsed above"));
            let mut steps = Vec::with_capacity(specs.len());
            for (i, spec) in specs.iter().enumerate() {
                let key = format!("workflow.process.{name}[{i}]");
                steps.push(Self::check(spec, &key, &known).map_err(|m| err(m.0, m.1))?);
            }
            if steps.is_empty() {
                return Err(err(
                    format!("workflow.process.{name}"),
                    "a strategy needs at least one step (a queue without one routes as it is)"
                        .into(),
                ));
            }
            checked.insert(q, steps);
        }
        if !checked.contains_key(&entry) {
            let steps = default_strategy()
                .iter()
                .map(|s| Self::check(s, "", &known))
                .collect::<Result<Vec<_>, _>>()
                .unwrap_or_else(|_| unreachable!("the default strategy is valid"));
            checked.insert(entry.clone(), steps);
        }
        let workflow = Workflow {
            version,
            entry,
            strategies: checked,
            sending: false,
            acknowledge: false,
            service_levels: Default::default(),
        };
        workflow.check_moves()?;
        Ok(workflow)
    }

    fn check(
        spec: &StepSpec,
        key: &str,
        known: &BTreeSet<QueueName>,
    ) -> Result<Step, (String, String)> {
        Ok(match spec {
            StepSpec::Screen => Step::Screen,
            StepSpec::Categorise => Step::Categorise,
            StepSpec::AutoRespond => Step::AutoRespond,
            StepSpec::Acknowledge => Step::Acknowledge,
            StepSpec::Set {
                priority,
                attributes,
            } => {
                if priority.is_none() && attributes.is_empty() {
                    return Err((
                        key.to_string(),
                        "a set step needs a priority or attributes".into(),
                    ));
                }
                for (k, v) in attributes {
                    if !is_key(k) {
                        return Err((
                            format!("{key}.attributes"),
                            format!("{k:?} is not a key (letters, digits, _ - ., at most 64)"),
                        ));
                    }
                    if v.chars().count() > 200 || v.chars().any(char::is_control) {
                        return Err((
                            format!("{key}.attributes.{k}"),
                            "must be one line of at most 200 characters".into(),
                        ));
                    }
                }
                Step::Set {
                    priority: *priority,
                    attributes: attributes.clone(),
                }
            }
            StepSpec::Move { queue } => {
                let q = QueueName::parse(queue)
                    .map_err(|e| (format!("{key}.queue"), format!("not a queue name: {e}")))?;
                if !known.contains(&q) {
                    return Err((
                        format!("{key}.queue"),
                        format!(
                            "{queue:?} is not a queue of the process (list it in workflow.queues \
                             or give it a strategy under [workflow.process])"
                        ),
                    ));
                }
                Step::Move { queue: q }
            }
            StepSpec::Route { skills } => {
                let mut seen = BTreeSet::new();
                for s in skills {
                    if !is_key(s) {
                        return Err((
                            format!("{key}.skills"),
                            format!("{s:?} is not a skill (letters, digits, _ - ., at most 64)"),
                        ));
                    }
                    if !seen.insert(s) {
                        return Err((format!("{key}.skills"), format!("{s:?} is listed twice")));
                    }
                }
                Step::Route {
                    skills: skills.clone(),
                }
            }
            StepSpec::Stop { reason } => {
                if !is_line(reason, 200) {
                    return Err((
                        format!("{key}.reason"),
                        "must be one line of at most 200 characters, not blank".into(),
                    ));
                }
                Step::Stop {
                    reason: reason.clone(),
                }
            }
        })
    }

    /// Refuses strategies whose moves lead back to themselves before anything ends the run.
    fn check_moves(&self) -> Result<(), ProcessError> {
        for start in self.strategies.keys() {
            let mut path = vec![start.clone()];
            let mut queue = start;
            while let Some((i, next)) = self.first_exit(queue) {
                let Some(next) = next else { break };
                if let Some(at) = path.iter().position(|q| q == next) {
                    let circle: Vec<&str> = path[at..]
                        .iter()
                        .chain(std::iter::once(next))
                        .map(|q| q.as_str())
                        .collect();
                    return Err(ProcessError {
                        key: format!("workflow.process.{queue}[{i}].queue"),
                        message: format!("moves go round in a circle: {}", circle.join(" → ")),
                    });
                }
                path.push(next.clone());
                queue = next;
            }
        }
        Ok(())
    }

    /// The first step of `queue`'s strategy that leaves it unconditionally: a move to a queue
    /// with a strategy (with that queue) or a route or stop (`None`). Screening moves depend on
    /// the message, so they never make a circle here; a run is bounded anyway.
    fn first_exit(&self, queue: &QueueName) -> Option<(usize, Option<&QueueName>)> {
        let steps = self.strategies.get(queue)?;
        steps.iter().enumerate().find_map(|(i, s)| match s {
            Step::Move { queue } if self.strategies.contains_key(queue) => Some((i, Some(queue))),
            Step::Route { .. } | Step::Stop { .. } => Some((i, None)),
            _ => None,
        })
    }

    /// The steps of `queue`.
    pub fn strategy(&self, queue: &QueueName) -> &[Step] {
        self.strategies
            .get(queue)
            .map(Vec::as_slice)
            .unwrap_or(route_only())
    }

    /// The commands that follow from `events`, recorded on an interaction now in state `after`:
    /// for a new customer message, the whole run of the process.
    pub fn react(
        &self,
        events: &[InteractionEvent],
        after: &Interaction,
        facts: &Facts<'_>,
    ) -> Vec<InteractionCommand> {
        let received = events
            .iter()
            .any(|e| matches!(e, InteractionEvent::InteractionReceived(_)));
        if !received || after.is_reply() || after.status != Status::Inbound(InboundStatus::Received)
        {
            return Vec::new();
        }
        self.run(after, facts)
    }

    fn run(&self, after: &Interaction, facts: &Facts<'_>) -> Vec<InteractionCommand> {
        let at = facts.at;
        let mut commands = Vec::new();
        let mut trace: Vec<StepOutcome> = Vec::new();
        // The queue whose steps run, and the queue the interaction is headed for.
        // A channel's queue without a strategy of its own is the destination of the entry
        // queue's.
        let mut queue = facts.requested.unwrap_or(&self.entry).clone();
        let mut owner = if self.strategies.contains_key(&queue) {
            queue.clone()
        } else {
            self.entry.clone()
        };
        let (mut screened, mut categorised, mut acknowledged) = (false, false, false);
        let mut categories: Vec<String> = Vec::new();
        let mut priority = None;
        let mut attributes = BTreeMap::new();
        let mut hops = 0;
        let mut start = 0;
        let end = 'run: loop {
            let mut next = None;
            for (i, step) in self.strategy(&owner).iter().enumerate().skip(start) {
                let mut note = |outcome: String| {
                    trace.push(StepOutcome {
                        queue: owner.clone(),
                        index: i.min(u16::MAX as usize) as u16,
                        step: step.name().into(),
                        outcome,
                    })
                };
                match step {
                    Step::Screen if screened => note("already screened in this run".into()),
                    Step::Screen => {
                        screened = true;
                        let Some(a) = facts.analysis else {
                            note("nothing to screen with (no rules or examples configured)".into());
                            continue;
                        };
                        commands.push(InteractionCommand::Screen {
                            screened: Box::new(InteractionScreened {
                                version: a.version.clone(),
                                matched: a.matched.clone(),
                                language: a.language.clone(),
                                priority: a.priority,
                                attributes: a.attributes.clone(),
                                at,
                            }),
                        });
                        for c in a.rule_categories.iter().rev() {
                            commands.push(InteractionCommand::Categorise {
                                category: c.clone(),
                                confidence_permille: 1000,
                                at,
                            });
                        }
                        categories.extend(a.rule_categories.iter().cloned());
                        let rules = a.matched.len();
                        if let Some(reason) = &a.stop {
                            note(format!("{rules} rule(s) matched; stopped: {reason}"));
                            break 'run End::Stop(reason.clone(), SCREENING);
                        }
                        if let Some(q) = a.queue.as_ref().filter(|q| **q != queue) {
                            note(format!("{rules} rule(s) matched; moved to {q}"));
                            next = Some((q.clone(), i));
                            break;
                        }
                        note(format!("{rules} rule(s) matched"));
                    }
                    Step::Categorise if categorised => {
                        note("already categorised in this run".into())
                    }
                    Step::Categorise => {
                        categorised = true;
                        let found = facts.analysis.map(|a| &a.categories[..]).unwrap_or(&[]);
                        if facts.analysis.is_none() {
                            note("no classifier configured".into());
                        } else if !categories.is_empty() {
                            note(format!(
                                "a rule set the category: {}",
                                categories.join(", ")
                            ));
                        } else if found.is_empty() {
                            note("no category above the threshold".into());
                        } else {
                            // Recorded lowest confidence first: the state's category is the
                            // latest, the best.
                            for (c, confidence) in found.iter().rev() {
                                commands.push(InteractionCommand::Categorise {
                                    category: c.clone(),
                                    confidence_permille: *confidence,
                                    at,
                                });
                            }
                            categories.extend(found.iter().map(|(c, _)| c.clone()));
                            let list: Vec<String> = found
                                .iter()
                                .map(|(c, p)| format!("{c} ({}.{:03})", p / 1000, p % 1000))
                                .collect();
                            note(list.join(", "));
                        }
                    }
                    Step::AutoRespond => {
                        if acknowledged || after.auto_answer.is_some() {
                            note("an automatic answer is already planned".into());
                        } else if !self.sending {
                            note("nothing is sent: no mail server is configured".into());
                        } else if categories.is_empty() {
                            note("no category to answer for".into());
                        } else if let Some(r) = (facts.automatic)(&categories) {
                            note(format!("answered with {:?}", r.name));
                            break 'run End::Answer(r);
                        } else {
                            note(format!(
                                "no usable automatic response for {}",
                                categories.join(", ")
                            ));
                        }
                    }
                    Step::Acknowledge => {
                        if acknowledged || after.auto_answer.is_some() {
                            note("an automatic answer is already planned".into());
                        } else if !self.sending {
                            note("nothing is sent: no mail server is configured".into());
                        } else if !self.acknowledge {
                            note("acknowledgements are switched off (workflow.acknowledge)".into());
                        } else {
                            acknowledged = true;
                            note("planned (the loop policy decides before it is sent)".into());
                        }
                    }
                    Step::Set {
                        priority: p,
                        attributes: a,
                    } => {
                        let mut said = Vec::new();
                        if let Some(p) = p {
                            priority = Some(*p);
                            said.push(format!("priority {p}"));
                        }
                        for (k, v) in a {
                            attributes.insert(k.clone(), v.clone());
                            said.push(format!("{k} = {v:?}"));
                        }
                        note(said.join(", "));
                    }
                    Step::Move { queue: q } => {
                        note(format!("moved to {q}"));
                        next = Some((q.clone(), i));
                        break;
                    }
                    Step::Route { skills } => {
                        note(if skills.is_empty() {
                            format!("queued in {queue}")
                        } else {
                            format!("queued in {queue} for agents with {}", skills.join(", "))
                        });
                        break 'run End::Route(skills.clone());
                    }
                    Step::Stop { reason } => {
                        note(format!("stopped: {reason}"));
                        break 'run End::Stop(reason.clone(), PROCESS);
                    }
                }
            }
            match next {
                // Bounded: configured moves never circle (checked at load) and screening moves
                // once per run, so this only guards against what nobody foresaw.
                Some((q, at_step)) if hops < 32 => {
                    hops += 1;
                    if self.strategies.contains_key(&q) {
                        owner = q.clone();
                        start = 0;
                    } else {
                        start = at_step + 1;
                    }
                    queue = q;
                }
                _ => {
                    trace.push(StepOutcome {
                        queue: owner.clone(),
                        index: self.strategy(&owner).len().min(u16::MAX as usize) as u16,
                        step: "route".into(),
                        outcome: format!("end of the strategy: queued in {queue}"),
                    });
                    break End::Route(Vec::new());
                }
            }
        };
        let (skills, response) = match &end {
            End::Route(skills) => (skills.clone(), None),
            End::Answer(r) => (Vec::new(), Some(r.id)),
            End::Stop(..) => (Vec::new(), None),
        };
        commands.push(InteractionCommand::RunProcess {
            ran: Box::new(ProcessRan {
                version: self.version.clone(),
                steps: trace,
                queue: queue.clone(),
                skills,
                priority,
                attributes,
                response,
                at,
            }),
        });
        match end {
            End::Route(_) => commands.push(InteractionCommand::Enqueue {
                due: self.service_levels.due(&queue, at, at).map(Box::new),
                queue,
                at,
            }),
            End::Stop(reason, by) => commands.push(InteractionCommand::Stop {
                by: by.into(),
                reason,
                at,
            }),
            End::Answer(_) => commands.push(InteractionCommand::PlanAutoAnswer {
                usage: AnswerUsage::AutomaticResponse,
                at,
            }),
        }
        if acknowledged {
            commands.push(InteractionCommand::PlanAutoAnswer {
                usage: AnswerUsage::Acknowledgement,
                at,
            });
        }
        commands
    }

    /// What an inbound interaction still waiting in the process needs next: one left received
    /// (by a crash, or a request that failed half way) is queued where its process ended (the
    /// entry queue if none ran); one answered automatically is done once its answer is made,
    /// and queued for an agent when the loop policy refused it.
    pub fn resume(&self, state: &Interaction, at: Millis) -> Option<InteractionCommand> {
        if state.status != Status::Inbound(InboundStatus::Received) || state.is_reply() {
            return None;
        }
        let enqueue = |queue: &QueueName| InteractionCommand::Enqueue {
            queue: queue.clone(),
            due: self
                .service_levels
                .due(queue, state.created_at, at)
                .map(Box::new),
            at,
        };
        match &state.process {
            None => Some(enqueue(&self.entry)),
            Some(p) if p.response.is_some() => match &state.auto_answer {
                Some(AutoAnswer::Planned { .. }) => None,
                Some(AutoAnswer::Answered { .. }) => Some(InteractionCommand::MarkDone {
                    by: Actor::System("workflow".into()),
                    disposition: None,
                    at,
                }),
                Some(AutoAnswer::Suppressed { .. }) | None => Some(enqueue(&p.queue)),
            },
            Some(p) => Some(enqueue(&p.queue)),
        }
    }
}

#[cfg(test)]
mod tests;
