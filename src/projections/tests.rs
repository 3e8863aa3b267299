//! Threading lookups over the projections, fed with events as the log would.

use super::*;
use crate::domain::interaction::*;
use crate::domain::threading::{reply_message_id, thread_token};
use crate::domain::InteractionId;
use crate::domain::{Millis, QueueName};

fn id(n: u128) -> InteractionId {
    InteractionId::from_uuid(uuid::Uuid::from_u128(n))
}

fn at(n: i64) -> Millis {
    Millis(n)
}

/// An inbound e-mail from `from`, linked as `link` says (None: recorded before threading).
fn inbound(
    p: &mut Projections,
    i: InteractionId,
    from: &str,
    message_id: &str,
    link: Option<ThreadLinked>,
    t: i64,
) {
    p.apply_interaction(
        i,
        &InteractionReceived {
            channel: Channel::Email,
            from: from.into(),
            from_name: None,
            subject: "s".into(),
            content: None,
            priority: 0,
            at: at(t),
        }
        .into(),
    );
    p.apply_interaction(
        i,
        &MessageStored {
            identity: message_id.into(),
            message_id: Some(message_id.into()),
            in_reply_to: vec![],
            references: vec![],
            to: vec![],
            cc: vec![],
            raw: None,
            text: None,
            html: None,
            html_sanitized: None,
            attachments: vec![],
            size: 0,
            problems: vec![],
            automated: false,
            source: None,
            at: at(t),
        }
        .into(),
    );
    if let Some(l) = link {
        p.apply_interaction(i, &l.into());
    }
    p.apply_interaction(
        i,
        &InteractionQueued {
            queue: QueueName::parse("inbound").unwrap(),
            at: at(t),
        }
        .into(),
    );
}

/// Carol's first message (interaction 1, Message-ID c1@mail.example): a thread of its own.
fn carols_first(p: &mut Projections) {
    inbound(
        p,
        id(1),
        "carol@example.com",
        "c1@mail.example",
        own(id(1), 1),
        1,
    );
}

fn own(i: InteractionId, t: i64) -> Option<ThreadLinked> {
    Some(ThreadLinked {
        thread: i,
        matched_by: ThreadMatch::None,
        reference: None,
        answers: None,
        at: at(t),
    })
}

/// A reply to `parent`, sent with `message_id`.
fn sent_reply(
    p: &mut Projections,
    r: InteractionId,
    parent: InteractionId,
    message_id: &str,
    t: i64,
) {
    let agent = crate::domain::AgentId::parse("alice").unwrap();
    let events: Vec<InteractionEvent> = vec![
        ReplyDrafted {
            html: None,
            parent,
            agent: agent.clone(),
            to: "carol@example.com".into(),
            subject: "Re: s".into(),
            content: None,
            at: at(t),
        }
        .into(),
        ReplyReleased { agent, at: at(t) }.into(),
        ReplyApproved {
            reviewer: crate::domain::AgentId::parse("sam").unwrap(),
            at: at(t),
        }
        .into(),
        SendingStarted {
            attempt: 1,
            at: at(t),
        }
        .into(),
        ReplySent {
            message_id: message_id.into(),
            at: at(t),
        }
        .into(),
    ];
    for e in events {
        p.apply_interaction(r, &e);
    }
}

#[test]
fn an_answer_to_our_reply_finds_the_thread_by_header() {
    let mut p = Projections::default();
    carols_first(&mut p);
    sent_reply(&mut p, id(2), id(1), "<r2@postroom.example>", 2);
    let link = p.find_thread(
        id(3),
        &["unknown@x".into(), "r2@postroom.example".into()],
        "Re: s",
        "carol@example.com",
    );
    assert_eq!(link.thread, id(1));
    assert_eq!(link.matched_by, ThreadMatch::Header);
    assert_eq!(link.reference.as_deref(), Some("r2@postroom.example"));
    assert_eq!(link.answers, Some(id(2)));
    // From anybody who has the Message-ID (a colleague in Cc answering).
    let link = p.find_thread(
        id(3),
        &["r2@postroom.example".into()],
        "",
        "dave@example.org",
    );
    assert_eq!(link.matched_by, ThreadMatch::Header);
}

#[test]
fn our_own_reply_id_form_matches_before_the_mailer_recorded_it_sent() {
    let mut p = Projections::default();
    carols_first(&mut p);
    let agent = crate::domain::AgentId::parse("alice").unwrap();
    p.apply_interaction(
        id(2),
        &ReplyDrafted {
            html: None,
            parent: id(1),
            agent,
            to: "carol@example.com".into(),
            subject: "Re".into(),
            content: None,
            at: at(2),
        }
        .into(),
    );
    let mid =
        crate::domain::threading::normalise_message_id(&reply_message_id(id(2), "any.example"));
    let link = p.find_thread(id(3), &[mid], "", "carol@example.com");
    assert_eq!((link.thread, link.matched_by), (id(1), ThreadMatch::Header));
    // A made-up id of that form for an interaction that does not exist matches nothing.
    let fake = crate::domain::threading::normalise_message_id(&reply_message_id(id(99), "x"));
    let link = p.find_thread(id(3), &[fake], "", "carol@example.com");
    assert_eq!(link.matched_by, ThreadMatch::None);
    assert_eq!(link.thread, id(3));
}

#[test]
fn a_follow_up_to_a_message_of_the_thread_joins_the_first_thread() {
    let mut p = Projections::default();
    carols_first(&mut p);
    let link2 = ThreadLinked {
        thread: id(1),
        matched_by: ThreadMatch::Header,
        reference: Some("c1@mail.example".into()),
        answers: Some(id(1)),
        at: at(2),
    };
    inbound(
        &mut p,
        id(2),
        "carol@example.com",
        "c2@mail.example",
        Some(link2),
        2,
    );
    // Answering the second message finds the first thread, not a thread of the second.
    let link = p.find_thread(id(3), &["c2@mail.example".into()], "", "carol@example.com");
    assert_eq!((link.thread, link.answers), (id(1), Some(id(2))));
    assert_eq!(p.threads.members(id(1)), vec![id(1), id(2)]);
    // The second is not a thread of its own: its token names nothing.
    let t2 = thread_token(id(2));
    let link = p.find_thread(id(4), &[], &format!("[#{t2}]"), "carol@example.com");
    assert_eq!(link.matched_by, ThreadMatch::None);
}

#[test]
fn a_token_matches_only_within_the_same_contact() {
    let mut p = Projections::default();
    inbound(
        &mut p,
        id(1),
        "Carol@Example.com",
        "c1@mail.example",
        own(id(1), 1),
        1,
    );
    let subject = format!("Re: s [#{}]", thread_token(id(1)));
    let link = p.find_thread(id(3), &[], &subject, "carol@example.com");
    assert_eq!(link.thread, id(1));
    assert_eq!(link.matched_by, ThreadMatch::Token);
    assert_eq!(link.reference, Some(thread_token(id(1))));
    let stranger = p.find_thread(id(4), &[], &subject, "mallory@example.net");
    assert_eq!(stranger.matched_by, ThreadMatch::None);
    assert_eq!(stranger.thread, id(4));
}

#[test]
fn a_message_never_matches_itself() {
    let mut p = Projections::default();
    carols_first(&mut p);
    let link = p.find_thread(
        id(1),
        &["c1@mail.example".into()],
        &format!("[#{}]", thread_token(id(1))),
        "carol@example.com",
    );
    assert_eq!(link.matched_by, ThreadMatch::None);
}

#[test]
fn delivery_reports_find_replies_only() {
    let mut p = Projections::default();
    carols_first(&mut p);
    sent_reply(&mut p, id(2), id(1), "<r2@postroom.example>", 2);
    assert_eq!(p.reply_for_report("<r2@postroom.example>"), Some(id(2)));
    assert_eq!(p.reply_for_report("c1@mail.example"), None);
    assert_eq!(p.reply_for_report("nobody@x"), None);
}

#[test]
fn threads_rebuilt_from_the_cache_equal_the_live_ones() {
    let mut p = Projections::default();
    inbound(
        &mut p,
        id(5),
        "carol@example.com",
        "c1@mail.example",
        own(id(5), 1),
        1,
    );
    sent_reply(&mut p, id(2), id(5), "<r2@postroom.example>", 2);
    let link = ThreadLinked {
        thread: id(5),
        matched_by: ThreadMatch::Header,
        reference: Some("r2@postroom.example".into()),
        answers: Some(id(2)),
        at: at(3),
    };
    inbound(
        &mut p,
        id(3),
        "carol@example.com",
        "c3@mail.example",
        Some(link),
        3,
    );
    inbound(
        &mut p,
        id(4),
        "dave@example.org",
        "d1@mail.example",
        None,
        4,
    );
    let live = p.threads.clone();
    p.reindex();
    assert_eq!(p.threads, live);
    assert_eq!(p.threads.members(id(5)), vec![id(5), id(2), id(3)]);
}

#[test]
fn a_reply_to_a_later_message_of_a_thread_is_in_that_thread() {
    let mut p = Projections::default();
    carols_first(&mut p);
    let link = ThreadLinked {
        thread: id(1),
        matched_by: ThreadMatch::Header,
        reference: Some("c1@mail.example".into()),
        answers: Some(id(1)),
        at: at(2),
    };
    inbound(
        &mut p,
        id(2),
        "carol@example.com",
        "c2@mail.example",
        Some(link),
        2,
    );
    sent_reply(&mut p, id(7), id(2), "<r7@postroom.example>", 3);
    let reply = p.cache.get(&id(7)).unwrap();
    assert_eq!(
        p.thread_of(id(7), &reply),
        id(1),
        "the thread, not the parent"
    );
    assert_eq!(p.threads.members(id(1)), vec![id(1), id(2), id(7)]);
    // An answer to that reply joins the same thread.
    let link = p.find_thread(
        id(8),
        &["r7@postroom.example".into()],
        "",
        "carol@example.com",
    );
    assert_eq!((link.thread, link.answers), (id(1), Some(id(7))));
}

#[test]
fn an_unknown_address_shared_by_several_messages_borrows_no_name() {
    let mut p = Projections::default();
    let received = |from: &str, name: &str, t: i64| -> InteractionEvent {
        InteractionReceived {
            channel: Channel::Email,
            from: from.into(),
            from_name: Some(name.into()),
            subject: "s".into(),
            content: None,
            priority: 0,
            at: at(t),
        }
        .into()
    };
    // One message of its own: its name is the contact's.
    p.apply_interaction(
        id(1),
        &received("unknown-0123456789abcdef@invalid", "Whomever", 1),
    );
    let name =
        |p: &Projections, e: &str| p.contacts.by_email(e).and_then(|c| c.display_name.clone());
    assert_eq!(
        name(&p, "unknown-0123456789abcdef@invalid").as_deref(),
        Some("Whomever")
    );
    // A log from before shares one unknown contact among strangers: nobody's name is shown.
    p.apply_interaction(id(2), &received("unknown-sender@invalid", "Alice", 2));
    p.apply_interaction(id(3), &received("unknown-sender@invalid", "Bob", 3));
    assert_eq!(name(&p, "unknown-sender@invalid"), None);
    // A known address keeps the latest name it wrote with.
    p.apply_interaction(id(4), &received("ann@example.com", "Ann", 4));
    p.apply_interaction(id(5), &received("ann@example.com", "Ann Lee", 5));
    assert_eq!(name(&p, "ann@example.com").as_deref(), Some("Ann Lee"));
}
