//! Table tests for the standard-response decider.

use super::*;

const AT: Millis = Millis(1_000);

fn fields() -> ResponseFields {
    ResponseFields {
        name: "Parcel delayed".into(),
        categories: vec!["order_status".into()],
        usage: Usage::Suggestion,
        approved: true,
        valid_from: None,
        valid_until: None,
        subject: "Re: {{ subject }}".into(),
        text: "Dear {{ contact_name }},\nyour parcel is on its way. {{ thread_token }}".into(),
        html: Some("<p>Dear {{ contact_name }}</p>".into()),
    }
}

fn created() -> StandardResponse {
    let cmd = ResponseCommand::Create {
        fields: fields(),
        by: "user:ada".into(),
        at: AT,
    };
    decide(&StandardResponse::default(), &cmd)
        .unwrap()
        .iter()
        .fold(StandardResponse::default(), evolve)
}

fn with(change: impl FnOnce(&mut ResponseFields)) -> ResponseFields {
    let mut f = fields();
    change(&mut f);
    f
}

#[test]
fn a_response_is_created_updated_and_deleted() {
    let s = created();
    assert_eq!(s.fields, Some(fields()));
    assert_eq!(s.version, 1);
    let update = ResponseCommand::Update {
        fields: with(|f| f.name = "Parcel late".into()),
        by: "user:bob".into(),
        at: Millis(2_000),
    };
    let s = decide(&s, &update).unwrap().iter().fold(s, evolve);
    assert_eq!(s.fields.as_ref().unwrap().name, "Parcel late");
    assert_eq!(
        (s.updated_by.as_str(), s.updated_at),
        ("user:bob", Millis(2_000))
    );
    // Saved unchanged: nothing recorded.
    assert_eq!(decide(&s, &update), Ok(vec![]));
    let delete = ResponseCommand::Delete {
        by: "user:ada".into(),
        at: Millis(3_000),
    };
    let s = decide(&s, &delete).unwrap().iter().fold(s, evolve);
    assert!(s.deleted);
    assert_eq!(decide(&s, &delete), Err(ResponseRejection::Deleted));
    assert_eq!(decide(&s, &update), Err(ResponseRejection::Deleted));
}

#[test]
fn commands_need_the_response_to_exist_or_not() {
    let update = ResponseCommand::Update {
        fields: fields(),
        by: "user:ada".into(),
        at: AT,
    };
    assert_eq!(
        decide(&StandardResponse::default(), &update),
        Err(ResponseRejection::NotFound)
    );
    let create = ResponseCommand::Create {
        fields: fields(),
        by: "user:ada".into(),
        at: AT,
    };
    assert_eq!(
        decide(&created(), &create),
        Err(ResponseRejection::AlreadyExists)
    );
}

#[test]
fn what_is_refused_when_saved_names_the_field() {
    let cases: Vec<(ResponseFields, &str)> = vec![
        (with(|f| f.name = "  ".into()), "name"),
        (with(|f| f.name = "a\nb".into()), "name"),
        (with(|f| f.name = "x".repeat(201)), "name"),
        (
            with(|f| f.categories = vec!["a".into(), "a".into()]),
            "categories",
        ),
        (with(|f| f.categories = vec![" a".into()]), "categories"),
        (with(|f| f.categories = vec!["a b".into()]), "categories"),
        (with(|f| f.text = "a\0b".into()), "text"),
        (with(|f| f.subject = "s".repeat(999)), "subject"),
        (
            with(|f| f.categories = (0..51).map(|i| format!("c{i}")).collect()),
            "categories",
        ),
        (
            with(|f| f.subject = "Re: {{ subject }}\r\nBcc: x@y".into()),
            "subject",
        ),
        (with(|f| f.subject = "Re: {{ subjekt }}".into()), "subject"),
        (with(|f| f.text = "Dear {{ nmae }}".into()), "text"),
        (with(|f| f.text = "Dear {{ contact_name ".into()), "text"),
        (with(|f| f.text = " ".into()), "text"),
        (with(|f| f.text = "x".repeat(MAX_BODY + 1)), "text"),
        (with(|f| f.html = Some("{% for x in %}".into())), "html"),
    ];
    for (f, field) in cases {
        let cmd = ResponseCommand::Create {
            fields: f.clone(),
            by: "user:ada".into(),
            at: AT,
        };
        match decide(&StandardResponse::default(), &cmd) {
            Err(ResponseRejection::Invalid { field: got, .. }) => {
                assert_eq!(got, field, "{f:?}")
            }
            other => panic!("{f:?}: expected a refusal of {field}, got {other:?}"),
        }
    }
    // An unknown field code says which.
    let cmd = ResponseCommand::Create {
        fields: with(|f| f.text = "Dear {{ nmae }}".into()),
        by: "user:ada".into(),
        at: AT,
    };
    let err = decide(&StandardResponse::default(), &cmd)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("text: ") && err.contains("nmae"), "{err}");
}

#[test]
fn usable_means_approved_not_deleted_and_within_validity() {
    let at = |f: ResponseFields, t: i64| {
        let s = StandardResponse {
            fields: Some(f),
            ..StandardResponse::default()
        };
        s.usable_at(Millis(t))
    };
    assert!(at(fields(), 0));
    assert!(!at(with(|f| f.approved = false), 0));
    let window = |f: &mut ResponseFields| {
        f.valid_from = Some(Millis(10));
        f.valid_until = Some(Millis(20));
    };
    assert!(!at(with(window), 9));
    assert!(at(with(window), 10));
    assert!(at(with(window), 19));
    assert!(!at(with(window), 20));
    let mut deleted = created();
    deleted.deleted = true;
    assert!(!deleted.usable_at(AT));
}

#[test]
fn suggestions_are_usable_suggestions_of_the_categories_best_overlap_first() {
    let make = |name: &str, cats: &[&str], usage: Usage, approved: bool| StandardResponse {
        fields: Some(ResponseFields {
            name: name.into(),
            categories: cats.iter().map(|c| c.to_string()).collect(),
            usage,
            approved,
            ..fields()
        }),
        ..StandardResponse::default()
    };
    let id = |n: u128| ResponseId(uuid::Uuid::from_u128(n));
    let all = [
        (id(1), make("Zeta", &["billing"], Usage::Suggestion, true)),
        (
            id(2),
            make("Alpha", &["billing", "refund"], Usage::Suggestion, true),
        ),
        (id(3), make("Beta", &["billing"], Usage::Suggestion, false)),
        (
            id(4),
            make("Gamma", &["billing"], Usage::AutomaticResponse, true),
        ),
        (id(5), make("Delta", &["shipping"], Usage::Suggestion, true)),
        (
            id(6),
            make("Epsilon", &["billing"], Usage::Suggestion, true),
        ),
    ];
    let cats = vec!["billing".to_string(), "refund".to_string()];
    let got = suggested(all.iter().map(|(i, r)| (*i, r)), &cats, AT);
    assert_eq!(got, [id(2), id(6), id(1)]);
    assert!(suggested(all.iter().map(|(i, r)| (*i, r)), &[], AT).is_empty());
}
