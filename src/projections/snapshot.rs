//! Projection snapshots on disk: `MAGIC ++ bincode(SnapshotV2) ++ sha256`, written to a temporary
//! file, synced and renamed, so a crash leaves the old snapshot or the new one, never half of one.
//!
//! The snapshot stores the cache and the users; queues and workloads are derived from the cache
//! when it loads. It also stores a fingerprint of the cached state's layout: after an upgrade that
//! changes it, the snapshot is ignored and the projections are rebuilt from the log.

use super::all::Projections;
use super::cache::InteractionCache;
use super::users::Users;
use crate::domain::interaction::Interaction;
use crate::domain::interaction::{InboundStatus, ReplyStatus};
use crate::domain::user::User;
use crate::domain::{AgentId, InteractionId};
use crate::events::codec;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// Version 2 added the queues' depth over time (a version 1 snapshot is ignored: rebuilt from
/// the log).
const MAGIC: &[u8; 8] = b"PRSNAP2\n";

#[derive(Serialize, Deserialize)]
struct SnapshotV2 {
    fingerprint: [u8; 32],
    checkpoint: u64,
    checkpoint_hash: [u8; 32],
    undecodable: u64,
    /// Each state as the cache keeps it: its bincode encoding.
    interactions: Vec<(InteractionId, Vec<u8>)>,
    users: Vec<(AgentId, User)>,
    responses: Vec<(
        crate::domain::standard_response::ResponseId,
        crate::domain::standard_response::StandardResponse,
    )>,
    corrections: Vec<(InteractionId, String)>,
    agents: Vec<(AgentId, crate::domain::agent::Agent)>,
    trend: super::trend::QueueTrend,
}

/// The projection snapshot's layout: users in every state and role, and the cached state.
fn fingerprint() -> [u8; 32] {
    use crate::domain::user::Role;
    let name =
        AgentId::parse("fingerprint").unwrap_or_else(|_| unreachable!("a valid literal name"));
    let mut users: Vec<(AgentId, User)> =
        [Role::Agent, Role::Supervisor, Role::Auditor, Role::Admin]
            .into_iter()
            .map(|role| {
                (
                    name.clone(),
                    User::Active {
                        role,
                        token_sha256: [3; 32],
                    },
                )
            })
            .collect();
    users.push((name.clone(), User::Revoked));
    users.push((name, User::Absent));
    let mut bytes = codec::encode(&users);
    bytes.extend(layout_fingerprint());
    // The snapshot keeps people's category corrections (from this layout on).
    bytes.extend(b"corrections:v1");
    // And the agents (every presence, a full profile).
    let agent = crate::domain::agent::Agent {
        profile: Some(crate::domain::agent::Profile {
            skills: [("s".to_string(), 3)].into_iter().collect(),
            languages: vec!["en".into()],
            reviewer: true,
            trainee: true,
            ..Default::default()
        }),
        presence: crate::domain::agent::Presence::NotReady { reason: "r".into() },
        time_in: [("ready".to_string(), 5)].into_iter().collect(),
        ..Default::default()
    };
    bytes.extend(codec::encode(&agent));
    // The standard responses' layout too (every variant of what they hold).
    let response = crate::domain::standard_response::StandardResponse {
        fields: Some(crate::domain::standard_response::ResponseFields {
            name: "n".into(),
            categories: vec!["c".into()],
            usage: crate::domain::standard_response::Usage::Suggestion,
            approved: true,
            valid_from: Some(crate::domain::Millis(1)),
            valid_until: Some(crate::domain::Millis(2)),
            subject: "s".into(),
            text: "t".into(),
            html: Some("h".into()),
        }),
        deleted: true,
        created_at: crate::domain::Millis(3),
        updated_at: crate::domain::Millis(4),
        updated_by: "u".into(),
        version: 5,
    };
    bytes.extend(codec::encode(&response));
    codec::sha256(&bytes)
}

/// Serialises the projections (under whatever lock the caller holds).
pub fn encode(p: &Projections) -> Vec<u8> {
    let snap = SnapshotV2 {
        fingerprint: fingerprint(),
        checkpoint: p.checkpoint,
        checkpoint_hash: p.checkpoint_hash,
        undecodable: p.undecodable,
        interactions: p.cache.raw().map(|(k, v)| (*k, v.to_vec())).collect(),
        users: p.users.events_for_snapshot(),
        responses: p.responses.for_snapshot(),
        corrections: p.corrections.iter().map(|(k, v)| (*k, v.clone())).collect(),
        agents: p.agents.for_snapshot(),
        trend: p.trend.clone(),
    };
    let body = codec::encode(&snap);
    let mut out = Vec::with_capacity(MAGIC.len() + body.len() + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&body);
    out.extend_from_slice(&codec::sha256(&body));
    out
}

/// Writes a snapshot atomically.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("snap.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        // Make the rename itself durable.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Reads a snapshot; `None` (with the reason logged) when absent, damaged or of another layout.
pub fn read(path: &Path) -> Option<Projections> {
    let bytes = std::fs::read(path).ok()?;
    let why = match decode(&bytes) {
        Ok(p) => return Some(p),
        Err(why) => why,
    };
    tracing::warn!(path = %path.display(), why, "projection snapshot ignored; rebuilding from the log");
    None
}

fn decode(bytes: &[u8]) -> Result<Projections, String> {
    if bytes.len() < MAGIC.len() + 32 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a postroom snapshot".into());
    }
    let (body, sum) = bytes[MAGIC.len()..].split_at(bytes.len() - MAGIC.len() - 32);
    if codec::sha256(body) != sum {
        return Err("checksum mismatch".into());
    }
    // The checksum above vouches for the bytes; the snapshot may exceed the codec's input limit.
    let snap: SnapshotV2 = codec::decode_verified(body)?;
    if snap.fingerprint != fingerprint() {
        return Err("written by a build with another state layout".into());
    }
    let mut cache = InteractionCache::default();
    for (id, state) in snap.interactions {
        cache.insert_raw(id, state);
    }
    let mut p = Projections {
        cache,
        users: Users::from_snapshot(snap.users),
        responses: super::responses::Responses::from_snapshot(snap.responses),
        corrections: snap.corrections.into_iter().collect(),
        agents: super::agents::Agents::from_snapshot(snap.agents),
        trend: snap.trend,
        checkpoint: snap.checkpoint,
        checkpoint_hash: snap.checkpoint_hash,
        undecodable: snap.undecodable,
        ..Projections::default()
    };
    p.reindex();
    Ok(p)
}

/// Changes whenever the layout of `Interaction` changes, so stale snapshots (projection and
/// aggregate) are never misread: the bincode of a sample in every variant of every enum it holds
/// (so reordered or changed variants show too), computed once.
pub fn layout_fingerprint() -> [u8; 32] {
    static FINGERPRINT: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    *FINGERPRINT.get_or_init(compute_layout_fingerprint)
}

fn compute_layout_fingerprint() -> [u8; 32] {
    use crate::domain::interaction::{
        AnswerUsage, AutoAnswer, Channel, DeliveryNote, Kind, Status, ThreadMatch,
    };
    use crate::domain::{AgentId, ContentRef, Millis, QueueName};
    let agent = AgentId::parse("fingerprint").ok();
    let a = || {
        agent
            .clone()
            .unwrap_or_else(|| unreachable!("a valid literal name"))
    };
    let statuses = vec![
        Status::New,
        Status::Inbound(InboundStatus::Received),
        Status::Inbound(InboundStatus::Queued),
        Status::Inbound(InboundStatus::Locked { router: "r".into() }),
        Status::Inbound(InboundStatus::Offered {
            agent: a(),
            deadline: Millis(1),
        }),
        Status::Inbound(InboundStatus::Assigned),
        Status::Inbound(InboundStatus::Replied),
        Status::Inbound(InboundStatus::Done),
        Status::Stopped { reason: "s".into() },
        Status::Reply(ReplyStatus::Draft),
        Status::Reply(ReplyStatus::Released),
        Status::Reply(ReplyStatus::OutboundQueued),
        Status::Reply(ReplyStatus::AwaitingReview),
        Status::Reply(ReplyStatus::ReviewOffered {
            reviewer: a(),
            deadline: Millis(4),
        }),
        Status::Reply(ReplyStatus::InReview { reviewer: a() }),
        Status::Reply(ReplyStatus::Approved),
        Status::Reply(ReplyStatus::Sending { attempt: 2 }),
        Status::Reply(ReplyStatus::Sent {
            message_id: "m".into(),
        }),
        Status::Reply(ReplyStatus::Failed {
            attempt: 3,
            retry_at: Some(Millis(9)),
        }),
    ];
    let kinds = [
        Kind::Inbound,
        Kind::Reply {
            parent: InteractionId::from_uuid(uuid::Uuid::from_u128(7)),
        },
    ];
    let mut bytes = Vec::new();
    for (i, status) in statuses.into_iter().enumerate() {
        let sample = Interaction {
            kind: kinds[i % 2].clone(),
            status,
            channel: Some(if i % 2 == 0 {
                Channel::Email
            } else {
                Channel::WebForm
            }),
            from: "f".into(),
            from_name: Some("n".into()),
            subject: "s".into(),
            content: Some(ContentRef([5; 32])),
            queue: QueueName::parse("q").ok(),
            priority: -4,
            category: Some("c".into()),
            categories: vec![("c".into(), 700)],
            screened: Some("v".into()),
            language: Some("eng".into()),
            attributes: [("k".to_string(), "v".to_string())].into_iter().collect(),
            owner: agent.clone(),
            consultants: agent.clone().into_iter().collect(),
            replies: vec![InteractionId::from_uuid(uuid::Uuid::from_u128(8))],
            attempts: 2,
            revisions: 1,
            malformed: i % 3 == 0,
            thread: Some(InteractionId::from_uuid(uuid::Uuid::from_u128(9))),
            thread_match: Some([ThreadMatch::Header, ThreadMatch::Token, ThreadMatch::None][i % 3]),
            message_id: Some("m@x".into()),
            delivery: vec![DeliveryNote {
                identity: "i".into(),
                action: "failed".into(),
                status: Some("5.1.1".into()),
                recipient: Some("r".into()),
                at: Millis(13),
            }],
            raw: Some(ContentRef([6; 32])),
            offered_to: agent.clone().into_iter().collect(),
            process: Some(crate::domain::interaction::ProcessState {
                version: "p".into(),
                queue: QueueName::parse("q2").unwrap_or_else(|_| unreachable!("a valid name")),
                skills: vec!["s".into()],
                response: Some(uuid::Uuid::from_u128(11)),
            }),
            auto_answer: Some(
                [
                    AutoAnswer::Planned {
                        usage: AnswerUsage::Acknowledgement,
                    },
                    AutoAnswer::Suppressed { code: "c".into() },
                    AutoAnswer::Answered {
                        usage: AnswerUsage::AutomaticResponse,
                        reply: InteractionId::from_uuid(uuid::Uuid::from_u128(10)),
                        at: Millis(14),
                    },
                ][i % 3]
                    .clone(),
            ),
            outbound: Some(ContentRef([7; 32])),
            last_error: Some("e".into()),
            service_level: Some(crate::domain::interaction::ServiceLevel {
                queue: QueueName::parse("q3").unwrap_or_else(|_| unreachable!("a valid name")),
                first_response_due: Millis(15),
                first_response_at_risk: Millis(16),
                resolution_due: Millis(17),
                resolution_at_risk: Millis(18),
                escalate_priority: 3,
                first_response_at: Some(Millis(19)),
                resolved_at: Some(Millis(20)),
                first_response_breached: i % 2 == 0,
                resolution_breached: i % 3 == 0,
            }),
            created_at: Millis(10),
            updated_at: Millis(11),
            version: 12,
        };
        bytes.extend(codec::encode(&sample));
    }
    codec::sha256(&bytes)
}
