//! Creation, existence and kind.

use super::*;

// ---------------------------------------------------------------------------------------------
// Creation, existence and kind.
// ---------------------------------------------------------------------------------------------

#[test]
fn receiving_a_message_creates_the_interaction() {
    let state = Spec::given(vec![]).when(receive()).then(received());
    assert_eq!(
        state,
        Interaction {
            kind: Kind::Inbound,
            status: Status::Inbound(InboundStatus::Received),
            channel: Some(Channel::Email),
            from: "carol@example.com".into(),
            from_name: Some("Carol Customer".into()),
            subject: "Where is my parcel?".into(),
            content: body(1),
            priority: PRIORITY,
            created_at: RECEIVED_AT,
            updated_at: RECEIVED_AT,
            version: 1,
            ..Interaction::default()
        }
    );
}

fn stored_message(problems: Vec<String>) -> MessageStored {
    MessageStored {
        identity: "m1@example.com".into(),
        message_id: Some("m1@example.com".into()),
        in_reply_to: vec![],
        references: vec![],
        to: vec!["support@example.test".into()],
        cc: vec![],
        raw: body(2),
        text: body(1),
        html: None,
        html_sanitized: None,
        attachments: vec![],
        size: 1234,
        problems,
        automated: false,
        source: None,
        // The decider stamps the command's time.
        at: Millis(0),
    }
}

#[test]
fn receiving_a_message_with_its_content_records_both_in_one_decision() {
    let mut cmd = receive();
    if let InteractionCommand::Receive { message, .. } = &mut cmd {
        *message = Some(Box::new(stored_message(vec![])));
    }
    let mut expected = received();
    expected.push(
        MessageStored {
            at: RECEIVED_AT,
            ..stored_message(vec![])
        }
        .into(),
    );
    let state = Spec::given(vec![]).when(cmd).then(expected);
    assert_eq!(state.version, 2);
    assert!(!state.malformed);
}

#[test]
fn a_message_with_problems_marks_the_interaction_malformed() {
    let mut cmd = receive();
    if let InteractionCommand::Receive { message, .. } = &mut cmd {
        *message = Some(Box::new(stored_message(vec!["no From address".into()])));
    }
    let events = decide(&Interaction::default(), &cmd).unwrap();
    let state = events.iter().fold(Interaction::default(), evolve);
    assert!(state.malformed);
}

#[test]
fn receiving_twice_is_refused_as_already_exists() {
    Spec::given(received())
        .when(receive())
        .then_reject(Rejection::AlreadyExists);
    Spec::given(done())
        .when(receive())
        .then_reject(Rejection::AlreadyExists);
}

#[test]
fn drafting_a_reply_creates_a_reply_owned_by_its_author() {
    let state = Spec::given(vec![])
        .when(draft_reply("alice"))
        .then(drafted_by("alice"));
    assert_eq!(
        state.kind,
        Kind::Reply {
            parent: parent_id()
        }
    );
    assert_eq!(state.status, Status::Reply(ReplyStatus::Draft));
    assert_eq!(state.owner, Some(agent("alice")));
    assert_eq!(state.from, "carol@example.com");
    assert_eq!(state.subject, "Re: Where is my parcel?");
    assert_eq!(state.content, body(2));
    assert_eq!(state.created_at, DRAFTED_AT);
    assert!(state.is_reply());
}

#[test]
fn drafting_a_reply_twice_is_refused_as_already_exists() {
    Spec::given(drafted_by("alice"))
        .when(draft_reply("alice"))
        .then_reject(Rejection::AlreadyExists);
    Spec::given(sent())
        .when(draft_reply("bob"))
        .then_reject(Rejection::AlreadyExists);
}

#[test]
fn a_stream_of_one_kind_cannot_be_created_again_as_the_other() {
    Spec::given(drafted_by("alice"))
        .when(receive())
        .then_reject(Rejection::AlreadyExists);
    Spec::given(received())
        .when(draft_reply("alice"))
        .then_reject(Rejection::AlreadyExists);
}

#[test]
fn every_other_command_on_a_new_stream_is_not_found() {
    let commands = inbound_commands()
        .into_iter()
        .chain(reply_commands())
        .chain([stop("user:sam", "spam")]);
    for command in commands {
        Spec::given(vec![])
            .when(command)
            .then_reject(Rejection::NotFound);
    }
}

#[test]
fn inbound_commands_on_a_reply_are_wrong_kind() {
    // Offers apply to both kinds: a reply is offered to reviewers (`tests/review.rs`).
    let offers = [
        "offer",
        "accept_offer",
        "reject_offer",
        "expire_offer",
        "explain_offer",
        "withdraw_offer",
    ];
    for history in [drafted_by("alice"), in_review_by("sam"), sent()] {
        for command in inbound_commands()
            .into_iter()
            .filter(|c| !offers.contains(&c.name()))
        {
            let expected = Rejection::WrongKind {
                command: command.name(),
                expected: "inbound",
            };
            Spec::given(history.clone())
                .when(command)
                .then_reject(expected);
        }
    }
}

#[test]
fn reply_commands_on_an_inbound_interaction_are_wrong_kind() {
    for history in [queued("inbound"), assigned_to("alice"), done()] {
        for command in reply_commands() {
            let expected = Rejection::WrongKind {
                command: command.name(),
                expected: "reply",
            };
            Spec::given(history.clone())
                .when(command)
                .then_reject(expected);
        }
    }
}

#[test]
fn every_command_on_a_done_interaction_is_finished() {
    for command in inbound_commands()
        .into_iter()
        .chain([stop("user:sam", "spam"), mark_done_by_system()])
    {
        Spec::given(done())
            .when(command)
            .then_reject(Rejection::Finished { status: "done" });
    }
}

#[test]
fn every_command_on_a_stopped_interaction_is_finished() {
    for command in inbound_commands()
        .into_iter()
        .chain([stop("user:sam", "spam"), mark_done_by_system()])
    {
        Spec::given(stopped())
            .when(command)
            .then_reject(Rejection::Finished { status: "stopped" });
    }
}

#[test]
fn every_command_on_a_stopped_reply_is_finished() {
    for command in reply_commands()
        .into_iter()
        .chain([stop("user:sam", "spam")])
    {
        Spec::given(reply_stopped())
            .when(command)
            .then_reject(Rejection::Finished { status: "stopped" });
    }
}

#[test]
fn a_sent_reply_is_finished_and_the_mailer_is_told_it_was_already_sent() {
    for command in reply_commands()
        .into_iter()
        .chain([stop("user:sam", "spam")])
    {
        let expected = match command {
            InteractionCommand::StartSending { .. }
            | InteractionCommand::MarkSent { .. }
            | InteractionCommand::MarkSendFailed { .. } => Rejection::AlreadySent,
            _ => Rejection::Finished { status: "sent" },
        };
        Spec::given(sent()).when(command).then_reject(expected);
    }
}
