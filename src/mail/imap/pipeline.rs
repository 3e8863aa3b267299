//! Ingest's pipeline for one fetched batch: parse on a few threads (`mail::record`, pure), look
//! each message up in the projections (its identity, its thread, the reply a delivery report is
//! about), hand every append to the log together (one group commit) through the receive path,
//! and, once durable, answer the UIDs that may be moved.

use super::handles::IngestHandles;
use super::status::set_status;
use crate::actors::{CommandEnvelope, EngineError};
use crate::app::analyze::Analyzer;
use crate::app::now;
use crate::app::process::Process;
use crate::app::receive::{Inbound, Receiver};
use crate::domain::interaction::{
    Channel, DeliveryReported, Interaction, InteractionCommand, InteractionEvent, MailSource,
    Rejection, ThreadLink, ThreadMatch,
};
use crate::domain::threading::{normalise_message_id, referenced_ids};
use crate::domain::{InteractionId, Principal};
use crate::events::aggregate::events_of;
use crate::events::{Content, PendingAppend};
use crate::mail::ingest_plan::interaction_id_for;
use crate::mail::record::{
    content_key, content_of, prepare, requested_queue, ContentKey, Prepared,
};
use crate::mail::Limits;
use crate::settings::MailboxSettings;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

type Recording<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<u64>, String>> + 'a>>;

/// How a message is recorded: already under way (a delivery report, through its reply's actor),
/// or an append for the batch to hand to the log with the others, and what reads its answer.
enum Record<'a> {
    Ready(Recording<'a>),
    Append {
        request: crate::events::AppendRequest,
        content: Content,
        answer: Box<dyn FnOnce(PendingAppend) -> Recording<'a> + 'a>,
    },
}

/// A batch whose appends are on their way to disk.
pub(super) struct InFlight<'a> {
    recordings: Vec<(u32, Recording<'a>)>,
    failed: Vec<(u32, String)>,
    /// Its messages by Message-ID, for threading the next batch's before these are projected.
    pub(super) messages: Earlier,
}

/// Parses the batch on a few threads (pure CPU: the content is written later, by the log's
/// committer, with the appends).
pub(super) fn prepare_all(
    settings: &MailboxSettings,
    limits: &Limits,
    items: &[(u32, &[u8])],
    uidvalidity: u32,
    failures: &HashMap<u32, u32>,
    analyzer: &Analyzer,
) -> Vec<(u32, Result<Prepared, String>)> {
    let one = |(uid, raw): &(u32, &[u8])| {
        let source = MailSource {
            mailbox: settings.name.clone(),
            folder: settings.folder.clone(),
            uidvalidity,
            uid: *uid,
        };
        let attempt = failures.get(uid).copied().unwrap_or(0);
        let mut p = prepare(
            limits,
            raw,
            source,
            attempt,
            now(),
            analyzer.is_configured(),
        );
        // Screening and categorisation, here on the parse threads.
        p.analysis = p.screening.take().map(|input| analyzer.analyze(input));
        (*uid, Ok(p))
    };
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    if workers == 1 || items.len() < 16 {
        return items.iter().map(one).collect();
    }
    let chunk = items.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .filter_map(|part| {
                std::thread::Builder::new()
                    .name(format!("imap-parse-{}", settings.name))
                    .spawn_scoped(scope, move || part.iter().map(one).collect::<Vec<_>>())
                    .ok()
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                // A worker that died leaves its messages in the folder for the next pass.
                h.join().unwrap_or_else(|_| {
                    tracing::error!("an ingest worker failed; its messages are fetched again");
                    Vec::new()
                })
            })
            .collect()
    })
}

/// What the projections say about a prepared message: its id, the reply it reports on, its
/// thread.
struct Lookup {
    id: InteractionId,
    reply: Option<InteractionId>,
    thread: crate::domain::interaction::ThreadLink,
}

/// Hands each prepared message's append to the log (without waiting for it). The projections are
/// read once for the whole batch. `before` is the previous batch's messages, which may not be in
/// the projections yet (its appends may still be on their way to disk).
pub(super) fn submit<'a>(
    handles: &'a IngestHandles,
    settings: &'a MailboxSettings,
    prepared: Vec<(u32, Result<Prepared, String>)>,
    before: &Earlier,
    process: &Arc<Process>,
) -> InFlight<'a> {
    type Looked = (u32, Result<(Prepared, Lookup), String>);
    let mut earlier = before.clone();
    let mut own: Earlier = HashMap::new();
    let looked: Vec<Looked> = handles.projections.read(|proj| {
        // The messages of this batch and the one before are not in the projections yet: an
        // answer to one of them (a customer's own follow-up) is matched against them.
        prepared
            .into_iter()
            .map(|(uid, p)| {
                let looked = p.map(|p| {
                    let l = look_up(handles, proj, &p, &earlier);
                    // A report is recorded on its reply, not as an interaction of its own.
                    if let Some(m) = p.message.message_id.as_ref().filter(|_| l.reply.is_none()) {
                        let entry = (l.id, l.thread.thread);
                        let m = normalise_message_id(m);
                        own.entry(m.clone()).or_insert(entry);
                        earlier.entry(m).or_insert(entry);
                    }
                    (p, l)
                });
                (uid, looked)
            })
            .collect()
    });
    let mut in_flight = InFlight {
        recordings: Vec::new(),
        failed: Vec::new(),
        messages: own,
    };
    // The batch's appends go to the log together: one group commit, not a first few that start
    // a flush of their own while the rest are still being built.
    let mut appends = Vec::new();
    let mut answers = Vec::new();
    for (uid, looked) in looked {
        match looked.and_then(|(p, l)| record(handles, settings, p, l, process)) {
            Ok(Record::Ready(r)) => in_flight.recordings.push((uid, r)),
            Ok(Record::Append {
                request,
                content,
                answer,
            }) => {
                appends.push((request, content));
                answers.push((uid, answer));
            }
            Err(e) => in_flight.failed.push((uid, e)),
        }
    }
    let mut pending = handles.receiver.append_all(appends).into_iter();
    for (uid, answer) in answers {
        // A store answers each append; one it did not is tried again with the next pass.
        match pending.next() {
            Some(p) => in_flight.recordings.push((uid, answer(p))),
            None => in_flight
                .failed
                .push((uid, "the log did not answer this append".into())),
        }
    }
    in_flight
}

/// The batch's earlier messages by Message-ID: their interaction and thread.
pub(super) type Earlier = HashMap<String, (InteractionId, InteractionId)>;

fn look_up(
    handles: &IngestHandles,
    proj: &crate::projections::Projections,
    p: &Prepared,
    earlier: &Earlier,
) -> Lookup {
    let mut id: InteractionId = interaction_id_for(&p.key);
    // The same Message-ID and sender with other content (a fixed Message-ID, a resent draft) is
    // another message: it gets an interaction of its own, not silence. (Only an id the
    // projections know can hold something; the append's no-stream check covers the rest.)
    if proj.cache.contains(&id) {
        if let Some(stored) = stored_content(handles, id) {
            let ours = content_key(&p.message, content_of(&p.content));
            if stored != ours {
                id = interaction_id_for(&format!("{}\0{}", p.key, ours.digest()));
            }
        }
    }
    // A delivery report about one of our replies belongs to that reply.
    let reply = p
        .report
        .as_ref()
        .and_then(|r| r.original_message_id.as_deref())
        .and_then(|m| proj.reply_for_report(m));
    let referenced = referenced_ids(&p.message.in_reply_to, &p.message.references);
    let mut thread = proj.find_thread(id, &referenced, &p.subject, &p.from.normalised());
    if thread.matched_by == ThreadMatch::None && reply.is_none() {
        let in_batch = referenced
            .iter()
            .find_map(|m| earlier.get(m).map(|v| (m, *v)))
            .filter(|(_, (answers, _))| *answers != id);
        if let Some((m, (answers, root))) = in_batch {
            thread = ThreadLink {
                thread: root,
                matched_by: ThreadMatch::Header,
                reference: Some(m.clone()),
                answers: Some(answers),
            };
        }
    }
    Lookup { id, reply, thread }
}

/// Waits for a batch's appends and answers the UIDs now durable (to move or flag).
pub(super) fn finish(
    batch: InFlight<'_>,
    handles: &IngestHandles,
    rt: &tokio::runtime::Runtime,
    settings: &MailboxSettings,
    failures: &mut HashMap<u32, u32>,
) -> Vec<u32> {
    let statuses = &handles.statuses;
    let (uids, recordings): (Vec<u32>, Vec<Recording<'_>>) = batch.recordings.into_iter().unzip();
    let results = rt.block_on(futures_util::future::join_all(recordings));
    let mut stored = Vec::new();
    let mut last_position = None;
    let failed = uids
        .into_iter()
        .zip(results)
        .filter_map(|(uid, r)| match r {
            Ok(position) => {
                last_position = last_position.max(position);
                stored.push(uid);
                None
            }
            Err(e) => Some((uid, e)),
        })
        .chain(batch.failed);
    // One message that cannot be recorded must not hold up the others: only the ones recorded
    // are moved; a failing one is tried again, and after a few tries recorded raw and flagged.
    for (uid, e) in failed {
        let n = failures.entry(uid).or_insert(0);
        *n += 1;
        tracing::warn!(mailbox = %settings.name, uid, attempt = *n, error = %e, "a message could not be recorded");
        set_status(statuses, &settings.name, |st| {
            st.last_error = Some(e.clone())
        });
    }
    for uid in &stored {
        failures.remove(uid);
    }
    if let Some(p) = last_position {
        rt.block_on(handles.projections.wait_for(p, Duration::from_secs(2)));
    }
    stored
}

/// Starts recording one message: a delivery report about one of our replies on that reply;
/// anything else as a new interaction, received and queued in one append. The answer is
/// `Ok` also when the message was recorded before.
fn record<'a>(
    handles: &'a IngestHandles,
    settings: &'a MailboxSettings,
    p: Prepared,
    lookup: Lookup,
    process: &Arc<Process>,
) -> Result<Record<'a>, String> {
    let queue = requested_queue(settings, &p);
    let Prepared {
        key: _,
        from,
        from_name,
        subject,
        message,
        content,
        report,
        malformed: _,
        screening: _,
        analysis,
    } = p;
    let Lookup { id, reply, thread } = lookup;
    let at = now();
    // A delivery report about one of our replies belongs to that reply, not in a queue as
    // customer mail. One about a message we do not know is kept as an interaction (flagged
    // automated) for a person to look at.
    if let (Some(reply), Some(report)) = (reply, report.clone()) {
        let command = InteractionCommand::RecordDeliveryReport {
            report: Box::new(DeliveryReported {
                identity: message.identity.clone(),
                action: report
                    .action
                    .map(|a| a.chars().take(40).collect())
                    .unwrap_or_else(|| "unknown".into()),
                status: report.status.map(|s| s.chars().take(40).collect()),
                recipient: report
                    .final_recipient
                    .map(|r| r.chars().take(300).collect()),
                raw: message.raw.clone(),
                source: message.source.clone(),
                at,
            }),
        };
        let envelope = CommandEnvelope::new(command, Principal::System("mail-ingest".into()));
        // The reply's actor writes the report's content with its event, in one flush.
        return Ok(Record::Ready(Box::pin(async move {
            match handles
                .interactions
                .execute_with_content(reply, envelope, content)
                .await
            {
                Ok(o) => Ok(o.last_position),
                // Recorded before (fetched again after a crash before its move).
                Err(EngineError::Rejected(Rejection::AlreadyExists)) => Ok(None),
                Err(e) => Err(format!("recording a delivery report on reply {reply}: {e}")),
            }
        })));
    }
    let key = content_key(&message, content_of(&content));
    let receive = CommandEnvelope::new(
        InteractionCommand::Receive {
            channel: Channel::Email,
            from: from.clone(),
            from_name,
            subject,
            content: message.text.clone(),
            priority: 0,
            message: Some(Box::new(message)),
            thread: Some(thread),
            at,
        },
        Principal::Customer(from.as_str().to_string()),
    );
    let (request, content) = handles
        .receiver
        .prepare(Inbound {
            id,
            receive,
            queue,
            analysis,
            process: process.clone(),
            content,
            at,
        })
        .map_err(|e| format!("recording interaction {id}: {e}"))?;
    let answer = move |pending: PendingAppend| -> Recording<'a> {
        Box::pin(async move {
            match Receiver::answer(pending).await {
                Ok(position) => Ok(Some(position)),
                // Recorded by an earlier pass (a crash before the move) or through another of our
                // mailboxes: exactly once. Unless what holds this id is other content that came in
                // the same batch: that one is tried again, and gets an id of its own.
                Err(EngineError::Rejected(Rejection::AlreadyExists)) => {
                    match stored_content(handles, id) {
                        Some(stored) if stored != key => Err(format!(
                            "interaction {id} holds another message with this Message-ID \
                             and sender; trying again"
                        )),
                        _ => Ok(None),
                    }
                }
                Err(e) => Err(format!("recording interaction {id}: {e}")),
            }
        })
    };
    Ok(Record::Append {
        request,
        content,
        answer: Box::new(answer),
    })
}

/// The content key an interaction was recorded with, if it exists.
fn stored_content(handles: &IngestHandles, id: InteractionId) -> Option<ContentKey> {
    events_of::<Interaction>(handles.log.as_ref(), &id)
        .ok()?
        .into_iter()
        .find_map(|e| match e {
            InteractionEvent::MessageStored(m) => {
                Some(content_key(&m, |r| handles.content.get(r).ok().flatten()))
            }
            _ => None,
        })
}
