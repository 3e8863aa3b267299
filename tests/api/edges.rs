//! Edges an outside probe found (issue 10), one test each: each fails on the code before its fix.

use crate::helpers::spawn_app;

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app();
    // RFC 9110 §11.1: the authentication scheme is case-insensitive.
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let r = ureq::get(&app.url("/api/v1/queues"))
            .set("Authorization", &format!("{scheme} {}", app.admin_token))
            .call();
        let status = match r {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(s, _)) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(status, 200, "scheme {scheme:?}");
    }
    // Another scheme is still no token.
    let r = ureq::get(&app.url("/api/v1/queues"))
        .set("Authorization", &format!("Basic {}", app.admin_token))
        .call();
    assert!(matches!(r, Err(ureq::Error::Status(401, _))));
}

#[test]
fn the_last_admin_cannot_be_revoked_but_one_of_two_can() {
    let app = spawn_app();
    let me = app.admin_name().to_string();
    let r = app.delete(&format!("/api/v1/admin/users/{me}"), Some(&app.admin_token));
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("last admin"),
        "{:?}",
        r.body
    );
    // Still an admin.
    assert_eq!(
        app.get("/api/v1/queues", Some(&app.admin_token)).status,
        200
    );
    // With a second admin, the first may go.
    let second = app.token_for("second-admin", "admin");
    let r = app.delete(&format!("/api/v1/admin/users/{me}"), Some(&second));
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(
        app.get("/api/v1/queues", Some(&app.admin_token)).status,
        401
    );
    // And now the second is the last one.
    let r = app.delete("/api/v1/admin/users/second-admin", Some(&second));
    assert_eq!(r.status, 409, "{:?}", r.body);
}

#[test]
fn a_json_body_naming_a_key_twice_is_refused() {
    let app = spawn_app();
    let body = br#"{"from":"ann@example.com","subject":"Hi","body":"one","body":"two"}"#;
    let r = app.post_raw("/api/v1/webform", "application/json", body);
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("twice"),
        "{:?}",
        r.body
    );
    let fine = br#"{"from":"ann@example.com","subject":"Hi","body":"one"}"#;
    assert_eq!(
        app.post_raw("/api/v1/webform", "application/json", fine)
            .status,
        202
    );
}

#[test]
fn a_web_form_with_a_blank_subject_is_refused() {
    let app = spawn_app();
    for subject in ["", "   ", "\t"] {
        let r = app.submit_webform("ann@example.com", subject, "Where is my order?");
        assert_eq!(r.status, 422, "{subject:?}: {:?}", r.body);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("subject"),
            "{:?}",
            r.body
        );
    }
    assert_eq!(
        app.submit_webform("ann@example.com", "Order", "Where is it?")
            .status,
        202
    );
}

#[test]
fn readiness_tells_anyone_whether_and_a_token_holder_the_details() {
    let app = spawn_app();
    let public = app.get("/readyz", None);
    assert_eq!(public.status, 200);
    assert_eq!(public.body, serde_json::json!({"ready": true}));
    // A token that is sent must be valid.
    let r = app.get("/readyz", Some("prt_not-a-token"));
    assert_eq!(r.status, 401, "{:?}", r.body);
    // Any role sees the details.
    let agent = app.token_for("rita", "agent");
    let r = app.get("/readyz", Some(&agent));
    assert_eq!(r.status, 200);
    for field in ["log_head", "projections_lag", "interactions", "mailboxes"] {
        assert!(
            r.body["details"].get(field).is_some(),
            "{field}: {:?}",
            r.body
        );
    }
}

#[test]
fn a_mailbox_whose_login_is_refused_makes_the_server_not_ready() {
    use crate::ingest::{mailbox, wait_for, SUPPORT};
    let dovecot = crate::mailservers::Dovecot::start(&[SUPPORT]);
    let app = crate::helpers::spawn_app_with(|s| {
        let mut m = mailbox(&dovecot, "support", SUPPORT, None);
        m.password = Some("not-the-password".into());
        s.mailboxes = vec![m];
    });
    wait_for("/readyz to say not ready", || {
        app.get("/readyz", None).status == 503
    });
    let public = app.get("/readyz", None);
    assert_eq!(
        public.body,
        serde_json::json!({"ready": false, "reason": "mailbox"})
    );
    let details = app.admin_get("/readyz").body["details"].clone();
    let support = &details["mailboxes"]["support"];
    assert_eq!(support["ready"], false, "{support:?}");
    assert_eq!(support["last_error_kind"], "permanent", "{support:?}");
    let reasons = details["not_ready"].to_string();
    assert!(
        reasons.contains("mailbox support:") && reasons.contains("logging in"),
        "{reasons}"
    );
}

#[test]
fn invisible_reordering_and_unfolded_characters_are_refused_in_web_form_identities() {
    let app = spawn_app();
    for from in [
        "a\u{200b}nn@example.com",
        "\u{202e}ann@example.com",
        "\u{212a}im@example.com",
        "ann@exa\u{200d}mple.com",
        "\"ann lee\"@example.com",
        "ann@[192.0.2.1]",
    ] {
        let r = app.submit_webform(from, "Order", "Where is it?");
        assert_eq!(r.status, 422, "{from:?}: {:?}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains("from"));
    }
    // Display text: no bidi embedding, override or isolate.
    let r = app.post_json(
        "/api/v1/webform",
        None,
        serde_json::json!({"from": "ann@example.com", "name": "Ann \u{202e}eeL",
            "subject": "Order", "body": "Where is it?"}),
    );
    assert_eq!(r.status, 422, "{:?}", r.body);
    let r = app.submit_webform("ann@example.com", "Order \u{2067}5\u{2069}", "Where is it?");
    assert_eq!(r.status, 422, "{:?}", r.body);
    // A right-to-left mark belongs to the text; an internationalised address is fine.
    let r = app.submit_webform(
        "ann@example.com",
        "\u{05D4}\u{05D6}\u{05DE}\u{05E0}\u{05D4} 5\u{200F}",
        "?",
    );
    assert_eq!(r.status, 202, "{:?}", r.body);
    let r = app.submit_webform("jürgen@bücher.de", "Bestellung", "Wo ist sie?");
    assert_eq!(r.status, 202, "{:?}", r.body);
}

#[test]
fn user_names_are_one_restricted_set_without_case() {
    let app = spawn_app();
    for bad in [
        "u\u{0430}dmin",
        "..",
        ".",
        "-x",
        "a\u{200b}b",
        " rita",
        "rita smith",
    ] {
        let r = app.create_user(bad, "agent");
        assert_eq!(r.status, 422, "{bad:?}: {:?}", r.body);
    }
    assert_eq!(app.create_user("uadmin", "agent").status, 201);
    // The same name in other case is the same user.
    let r = app.create_user("UAdmin", "agent");
    assert_eq!(r.status, 409, "{:?}", r.body);
    let r = app.delete("/api/v1/admin/users/UADMIN", Some(&app.admin_token));
    assert_eq!(r.status, 204, "{:?}", r.body);
}

#[test]
fn a_kelvin_sign_sender_does_not_join_kims_contact_or_thread() {
    use crate::ingest::{interactions, mailbox, wait_for, SUPPORT};
    let dovecot = crate::mailservers::Dovecot::start(&[SUPPORT]);
    dovecot.append(
        SUPPORT,
        "INBOX",
        &[
            b"From: Kim <kim@example.com>\r\nSubject: Order 5\r\nMessage-ID: <k1@example.com>\r\n\r\nWhere?\r\n".to_vec(),
            "From: Kim <\u{212a}im@example.com>\r\nSubject: Re: Order 5\r\nMessage-ID: <k2@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMe again.\r\n"
                .as_bytes()
                .to_vec(),
        ],
    );
    let app = crate::helpers::spawn_app_with(|s| {
        s.mailboxes = vec![mailbox(&dovecot, "support", SUPPORT, Some("Processed"))];
    });
    wait_for("2 interactions", || interactions(&app) == 2);
    let kim = app.get(
        "/api/v1/contacts?email=kim@example.com",
        Some(&app.admin_token),
    );
    assert_eq!(kim.status, 200, "{:?}", kim.body);
    let listed = kim.body["interactions"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "only Kim's own message: {:?}", kim.body);
    // Looking Kim up with a Kelvin sign does not find Kim.
    let kelvin = app.get(
        "/api/v1/contacts?email=%E2%84%AAim@example.com",
        Some(&app.admin_token),
    );
    assert_ne!(kelvin.status, 200, "{:?}", kelvin.body);
    // The other message has a contact of its own and does not join Kim's thread by subject and
    // sender (Unicode lower-casing made it Kim's).
    let first = listed[0]["interaction_id"].as_str().unwrap();
    let thread = app.get(
        &format!("/api/v1/interactions/{first}/thread"),
        Some(&app.admin_token),
    );
    assert_eq!(
        thread.body["interactions"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        thread.body
    );
}

#[test]
fn a_path_asked_with_another_method_answers_405_with_allow_and_head_is_get() {
    let app = spawn_app();
    for (method, path, allow) in [
        ("TRACE", "/healthz", "GET, HEAD"),
        ("OPTIONS", "/api/v1/webform", "POST"),
        (
            "PUT",
            "/api/v1/interactions/0190f5b2-6c1e-7c3a-9d2e-5b7a1c9e0f11",
            "GET, HEAD",
        ),
        ("PATCH", "/api/v1/admin/users/rita", "DELETE"),
        ("HEAD", "/api/v1/webform", "POST"),
    ] {
        let r = app.request(method, path, Some(&app.admin_token));
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
        if method != "HEAD" {
            assert_eq!(r.body["status"], 405, "{method} {path}");
        }
    }
    assert_eq!(app.request("GET", "/nowhere", None).status, 404);
    // HEAD is GET without the body, with GET's access.
    let r = app.request("HEAD", "/readyz", None);
    assert_eq!((r.status, &r.body), (200, &serde_json::Value::Null));
    assert_eq!(app.request("HEAD", "/api/v1/queues", None).status, 401);
    assert_eq!(
        app.request("HEAD", "/api/v1/queues", Some(&app.admin_token))
            .status,
        200
    );
}

#[test]
fn the_document_states_what_the_server_does() {
    let doc = postroom::http::openapi();
    let op = |path: &str, method: &str| doc["paths"][path][method].clone();
    // Every error of every operation is a problem body.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object().unwrap();
                    assert_eq!(
                        content.keys().collect::<Vec<_>>(),
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
            if op.get("requestBody").is_some() {
                for status in ["408", "413", "415"] {
                    assert!(
                        op["responses"].get(status).is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    let params = |path: &str, method: &str| {
        op(path, method)["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap().to_string(), p["schema"].clone()))
            .collect::<std::collections::HashMap<_, _>>()
    };
    let audit = params("/api/v1/audit/events", "get");
    assert_eq!(audit["after"]["maximum"], i64::MAX);
    assert_eq!(audit["limit"]["minimum"], 1);
    assert_eq!(audit["limit"]["maximum"], 1000);
    assert_eq!(audit["interaction"]["format"], "uuid");
    assert_eq!(
        params("/api/v1/interactions/{id}", "get")["id"]["format"],
        "uuid"
    );
    assert_eq!(
        params("/api/v1/contacts", "get")["email"]["format"],
        "email"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["CreateUser"]["properties"]["role"]["enum"],
        serde_json::json!(["agent", "supervisor", "auditor", "admin"])
    );
    assert_eq!(
        schemas["WebformRequest"]["properties"]["from"]["format"],
        "email"
    );
    let required = schemas["WebformUpload"]["required"].as_array().unwrap();
    assert!(!required.iter().any(|r| r == "attachment"), "{required:?}");
    // Stateful testing follows the web form to the interaction.
    assert_eq!(
        op("/api/v1/webform", "post")["responses"]["202"]["links"]["GetInteraction"]["parameters"]
            ["id"],
        "$response.body#/interaction_id"
    );
}

#[test]
fn users_recorded_before_the_name_rule_stay_reachable_and_unique() {
    use postroom::domain::user::Role;
    let app = spawn_app();
    // Names the API no longer takes, as an older log holds them.
    let legacy =
        |n: &str| serde_json::from_str::<postroom::domain::AgentId>(&format!("{n:?}")).unwrap();
    crate::helpers::add_user_direct(&app.engine, &legacy("Bob"), Role::Agent);
    crate::helpers::add_user_direct(&app.engine, &legacy("Jürgen"), Role::Agent);
    // The same name without case cannot be created beside it.
    let r = app.create_user("bob", "agent");
    assert_eq!(r.status, 409, "{:?}", r.body);
    // Both can be revoked, by their name in any ASCII case.
    let r = app.delete("/api/v1/admin/users/bob", Some(&app.admin_token));
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = app.delete("/api/v1/admin/users/J%C3%BCrgen", Some(&app.admin_token));
    assert_eq!(r.status, 204, "{:?}", r.body);
    // Once revoked, the name may be taken again under today's rule.
    assert_eq!(app.create_user("bob", "agent").status, 201);
}

#[test]
fn addresses_differing_in_non_ascii_case_are_two_contacts() {
    let app = spawn_app();
    assert_eq!(
        app.submit_webform("Ülla@example.com", "Order", "Where is it?")
            .status,
        202
    );
    assert_eq!(
        app.submit_webform("ülla@example.com", "Order", "Where is it?")
            .status,
        202
    );
    // ASCII case still folds: the same contact as the first.
    assert_eq!(
        app.submit_webform("Ülla@EXAMPLE.com", "Again", "Still waiting")
            .status,
        202
    );
    for (query, n) in [("%C3%9Clla@example.com", 2), ("%C3%BClla@example.com", 1)] {
        let c = app.get(
            &format!("/api/v1/contacts?email={query}"),
            Some(&app.admin_token),
        );
        assert_eq!(c.status, 200, "{query}: {:?}", c.body);
        assert_eq!(
            c.body["interactions"].as_array().map(Vec::len),
            Some(n),
            "{query}: {:?}",
            c.body
        );
    }
}
