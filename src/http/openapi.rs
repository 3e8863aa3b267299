//! The OpenAPI document, made exact. utoipa generates it from the handlers' annotations; this file
//! then states what holds for every operation by construction, from the same sources the server
//! acts on, so the document cannot drift from the server:
//!
//! - every error is an RFC 9457 problem body served as `application/problem+json`;
//! - who may call an operation, and so its `security`, 401 and 403, come from the route table
//!   (`routes::ROUTES`), which the server checks before any handler;
//! - the answers a layer gives before the handler: 400 (a parameter or body that does not parse),
//!   408 (a body too slow), 413 and 415 (a body too large or of another type), 503 (the log cannot
//!   write now, for writes);
//! - each parameter's and field's schema is the value type it parses into (UUIDs, user names,
//!   addresses, the display-text rule, limits), with the configured limits;
//! - links from what creates a resource to the operations on it (for stateful testing).

use super::problem::Problem;
use super::routes::{access, Access};
use crate::domain::header::refused;
use serde_json::{json, Map, Value};

/// The limits the document states, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct DocLimits {
    pub max_subject_chars: usize,
    pub max_name_chars: usize,
    pub max_attachments: usize,
}

const PROBLEM: &str = "#/components/schemas/Problem";
const INT64_MAX: i64 = i64::MAX;

/// The body of a regular-expression character class (`\uXXXX-\uXXXX` ranges) holding every
/// character `holds` is true of, read from the predicate itself, so the document states the
/// server's rule and not a copy of it. Every such class here lies in the Basic Multilingual Plane
/// (`\uXXXX` is read alike by Python's `re`, Rust's `regex` and ECMAScript).
fn class_of(holds: impl Fn(char) -> bool) -> String {
    let escape = |c: u32| format!("\\u{c:04X}");
    let mut out = String::new();
    let mut run: Option<u32> = None;
    for cp in 0..=0x1_0000u32 {
        let inside = cp < 0x1_0000 && char::from_u32(cp).is_some_and(&holds);
        match (inside, run) {
            (true, None) => run = Some(cp),
            (false, Some(start)) => {
                out.push_str(&escape(start));
                if cp - 1 > start {
                    out.push('-');
                    out.push_str(&escape(cp - 1));
                }
                run = None;
            }
            _ => {}
        }
    }
    out
}

/// What display text may not hold (`domain::header::refused`) and Unicode White_Space (what
/// `str::trim` removes), computed once.
fn classes() -> &'static (String, String) {
    static CLASSES: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
    CLASSES.get_or_init(|| (class_of(refused), class_of(char::is_whitespace)))
}

/// One line of display text with something besides white space in it.
fn display_text_pattern() -> String {
    let (refused, white) = classes();
    format!("^[^{refused}]*[^{refused}{white}][^{refused}]*$")
}

/// One line of display text, possibly empty or blank.
fn display_text_or_blank_pattern() -> String {
    format!("^[^{}]*$", classes().0)
}

/// A message body: not blank, no NUL.
fn body_pattern() -> String {
    format!("^[^\\u0000]*[^\\u0000{}][^\\u0000]*$", classes().1)
}

/// A user name as `AgentId::parse` takes it (case is folded, so either case is fine).
const USER_NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$";

fn uuid() -> Value {
    json!({"type": "string", "format": "uuid"})
}

fn email() -> Value {
    json!({"type": "string", "format": "email", "maxLength": 254})
}

/// The schema of a parameter, by what it parses into.
fn parameter_schema(path: &str, name: &str) -> Option<Value> {
    Some(match name {
        "id" | "interaction" => uuid(),
        "n" | "version" => json!({
            "type": "integer", "format": "int64",
            "minimum": if name == "version" { 1 } else { 0 }, "maximum": INT64_MAX,
        }),
        "name" if path.starts_with("/api/v1/admin/users") => {
            json!({"type": "string", "pattern": USER_NAME_PATTERN})
        }
        "user" => json!({"type": "string", "pattern": USER_NAME_PATTERN}),
        "name" => json!({"type": "string"}),
        "email" => email(),
        "limit" => json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        "after" => {
            json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": INT64_MAX})
        }
        "from" | "to" | "at" => json!({"type": "string", "format": "date-time"}),
        "kind" => json!({"type": "string", "enum": ["intervention", "review"]}),
        "window_secs" => json!({"type": "integer", "minimum": 60, "maximum": 31_622_400}),
        "hours" => json!({"type": "integer", "minimum": 1, "maximum": 168}),
        "step_secs" => {
            json!({"type": "integer", "minimum": 60, "maximum": 3600, "multipleOf": 60})
        }
        "recipient" => email(),
        "principal" => json!({"type": "string", "pattern": "^(customer|user|system):"}),
        "stream" | "type" => json!({"type": "string"}),
        "usage" => {
            json!({"type": "string", "enum": ["acknowledgement", "automatic_response", "suggestion"]})
        }
        "q" | "category" => json!({"type": "string"}),
        _ => return None,
    })
}

/// The exact document: the generated one with what holds for every operation applied.
pub fn exact(generated: &utoipa::openapi::OpenApi, limits: DocLimits) -> Value {
    let mut doc = serde_json::to_value(generated).unwrap_or(Value::Null);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in item.iter_mut() {
                if let Some(op) = op.as_object_mut() {
                    operation(path, method, op);
                }
            }
        }
    }
    schemas(&mut doc, limits);
    links(&mut doc);
    doc
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": PROBLEM}}},
    })
}

fn operation(path: &str, method: &str, op: &mut Map<String, Value>) {
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut responses = responses;
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| problem_response(description));
    };
    match access(method, path) {
        Some(Access::Roles(_)) => {
            op.insert("security".into(), json!([{"bearer": []}]));
            add("401", "No valid bearer token");
            add("403", "The token's role may not call this");
        }
        Some(Access::Public) | None => {}
    }
    let has_params = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty());
    let has_body = op.contains_key("requestBody");
    if has_params || has_body {
        add("400", "A parameter or the body does not parse");
    }
    if has_body {
        add("408", "The body did not arrive in time");
        add("413", "The body is too large");
        add("415", "The body is not of a type this operation takes");
    }
    if method == "post" || method == "delete" {
        add("503", "The log cannot write now; retry later");
    }
    // Every error is a problem body.
    for (status, response) in responses.iter_mut() {
        if status.starts_with('4') || status.starts_with('5') {
            let description = response
                .get("description")
                .and_then(Value::as_str)
                .filter(|d| !d.is_empty())
                .unwrap_or("An error")
                .to_string();
            *response = problem_response(&description);
        }
    }
    op.insert("responses".into(), Value::Object(responses));
    // Parameters: the schema of the value each parses into; a query parameter that may be left
    // out is not `null`.
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for p in params {
            let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
            if let Some(schema) = parameter_schema(path, name) {
                p["schema"] = schema;
            }
        }
    }
}

fn schemas(doc: &mut Value, limits: DocLimits) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(s) = schemas.get_mut("CreateUser") {
        s["additionalProperties"] = json!(false);
        s["properties"]["name"] = json!({"type": "string", "pattern": USER_NAME_PATTERN});
        s["properties"]["role"] = json!({
            "type": "string", "enum": ["agent", "supervisor", "auditor", "admin"],
        });
    }
    for form in ["WebformRequest", "WebformUpload"] {
        if let Some(s) = schemas.get_mut(form) {
            let props = &mut s["properties"];
            props["from"] = email();
            props["subject"] = json!({
                "type": "string", "pattern": display_text_pattern(),
                "maxLength": limits.max_subject_chars,
            });
            props["name"] = json!({
                "type": ["string", "null"], "pattern": display_text_or_blank_pattern(),
                "maxLength": limits.max_name_chars,
            });
            props["body"] = json!({"type": "string", "pattern": body_pattern()});
            s["required"] = json!(["from", "subject", "body"]);
        }
    }
    if let Some(s) = schemas.get_mut("ResponseBody") {
        use crate::domain::standard_response::{
            CATEGORY_PATTERN, MAX_BODY, MAX_CATEGORIES, MAX_NAME, MAX_SUBJECT,
        };
        s["additionalProperties"] = json!(false);
        let props = &mut s["properties"];
        props["name"] = json!({
            "type": "string", "pattern": display_text_pattern(), "maxLength": MAX_NAME,
        });
        props["categories"] = json!({
            "type": "array", "items": {"type": "string", "pattern": CATEGORY_PATTERN},
            "maxItems": MAX_CATEGORIES, "uniqueItems": true,
        });
        props["usage"] = json!({
            "type": "string", "enum": ["acknowledgement", "automatic_response", "suggestion"],
        });
        props["approved"] = json!({"type": "boolean"});
        for t in ["valid_from", "valid_until"] {
            props[t] = json!({"type": ["string", "null"], "format": "date-time"});
        }
        props["subject"] = json!({
            "type": "string", "pattern": display_text_or_blank_pattern(), "maxLength": MAX_SUBJECT,
            "description": "A template over the field codes (minijinja), one line",
        });
        props["text"] = json!({
            "type": "string", "pattern": body_pattern(), "maxLength": MAX_BODY,
            "description": "A template over the field codes (minijinja)",
        });
        props["html"] = json!({
            "type": ["string", "null"], "maxLength": MAX_BODY,
            "description": "A template over the field codes (minijinja); values are HTML-escaped",
        });
        s["required"] = json!(["name", "usage", "subject", "text"]);
    }
    if let Some(s) = schemas.get_mut("WebformRequest") {
        s["additionalProperties"] = json!(false);
    }
    agent_schemas(schemas);
    work_schemas(schemas);
    if let Some(s) = schemas.get_mut("CategoriseBody") {
        s["additionalProperties"] = json!(false);
        s["properties"]["category"] = json!({
            "type": "string", "pattern": crate::domain::standard_response::CATEGORY_PATTERN,
        });
    }
    if let Some(s) = schemas.get_mut("WebformUpload") {
        s["additionalProperties"] = json!(false);
        s["properties"]["attachment"] = json!({
            "type": "array", "items": {"type": "string", "format": "binary"},
            "maxItems": limits.max_attachments,
            "description": "Files, each a part named attachment with a filename (a file input's parts)",
        });
    }
    let _ = schemas.entry("Problem").or_insert_with(|| {
        serde_json::to_value(<Problem as utoipa::PartialSchema>::schema()).unwrap_or(Value::Null)
    });
}

/// The agents' bodies, from the rules `domain::agent` checks.
fn agent_schemas(schemas: &mut Map<String, Value>) {
    use crate::domain::agent::{
        LANGUAGE_PATTERN, MAX_CAPACITY, MAX_LANGUAGES, MAX_LEVEL, MAX_REASON, MAX_SKILLS,
        SKILL_PATTERN,
    };
    let profile = json!({
        "skills": {
            "type": ["object", "null"], "maxProperties": MAX_SKILLS,
            "propertyNames": {"pattern": SKILL_PATTERN},
            "additionalProperties": {"type": "integer", "minimum": 0, "maximum": MAX_LEVEL},
            "description": "Skill levels, 0 to 10, by skill",
        },
        "languages": {
            "type": ["array", "null"], "maxItems": MAX_LANGUAGES, "uniqueItems": true,
            "items": {"type": "string", "pattern": LANGUAGE_PATTERN},
            "description": "ISO 639 codes in lower case (en, deu)",
        },
        "capacity": {
            "type": ["object", "null"], "additionalProperties": false,
            "properties": {"email": {
                "type": ["integer", "null"], "minimum": 0, "maximum": MAX_CAPACITY,
            }},
        },
        "reviewer": {"type": ["boolean", "null"]},
        "trainee": {"type": ["boolean", "null"]},
    });
    if let Some(s) = schemas.get_mut("AgentPatch") {
        s["additionalProperties"] = json!(false);
        s["properties"] = profile.clone();
        s["required"] = json!([]);
    }
    if let Some(s) = schemas.get_mut("AgentBody") {
        let mut props = profile;
        props["user"] = json!({"type": "string", "pattern": USER_NAME_PATTERN});
        s["additionalProperties"] = json!(false);
        s["properties"] = props;
        s["required"] = json!(["user"]);
    }
    if schemas.contains_key("StateBody") {
        schemas.insert(
            "StateBody".into(),
            json!({"oneOf": [
                {
                    "type": "object", "additionalProperties": false, "required": ["state"],
                    "properties": {"state": {"type": "string", "enum": ["ready", "logged_out"]}},
                },
                {
                    "type": "object", "additionalProperties": false,
                    "required": ["state", "reason"],
                    "properties": {
                        "state": {"type": "string", "enum": ["not_ready"]},
                        "reason": {
                            "type": "string", "pattern": display_text_pattern(),
                            "maxLength": MAX_REASON,
                        },
                    },
                },
            ]}),
        );
    }
}

/// The bodies of the desktop's work on an interaction (`http::work`), from the rules the
/// interaction's decider checks.
fn work_schemas(schemas: &mut Map<String, Value>) {
    let agent = json!({"type": "string", "pattern": USER_NAME_PATTERN});
    let queue = json!({"type": "string", "minLength": 1, "maxLength": 64});
    let note = json!({"type": ["string", "null"], "maxLength": 2000});
    let not_blank = |max: usize| json!({"type": "string", "pattern": "\\S", "maxLength": max});
    let object = |properties: Value, required: Value| {
        json!({
            "type": "object", "additionalProperties": false,
            "properties": properties, "required": required,
        })
    };
    let mut set = |name: &str, schema: Value| {
        if schemas.contains_key(name) {
            schemas.insert(name.into(), schema);
        }
    };
    set(
        "TransferBody",
        json!({"oneOf": [
            object(json!({"agent": agent, "note": note}), json!(["agent"])),
            object(json!({"queue": queue, "note": note}), json!(["queue"])),
        ]}),
    );
    set(
        "ConsultBody",
        object(json!({"agent": agent, "note": note}), json!(["agent"])),
    );
    set(
        "ContributionBody",
        object(json!({"text": not_blank(10_000)}), json!(["text"])),
    );
    set(
        "EndConsultBody",
        object(
            json!({"agent": {"type": ["string", "null"], "pattern": USER_NAME_PATTERN}}),
            json!([]),
        ),
    );
    set(
        "ReturnBody",
        object(
            json!({"reason": not_blank(500), "queue": {"type": ["string", "null"], "minLength": 1, "maxLength": 64}}),
            json!(["reason"]),
        ),
    );
    set(
        "ReplyBody",
        json!({"oneOf": [
            object(
                json!({
                    "text": {"type": "string", "pattern": body_pattern(), "maxLength": crate::app::reply::MAX_TEXT},
                    "html": {"type": ["string", "null"], "pattern": "^[^\\u0000]*$", "maxLength": crate::app::reply::MAX_HTML},
                }),
                json!(["text"]),
            ),
            object(
                json!({"standard_response_id": uuid()}),
                json!(["standard_response_id"]),
            ),
        ]}),
    );
    set(
        "MoveBody",
        object(json!({"queue": queue}), json!(["queue"])),
    );
    set(
        "PriorityBody",
        object(
            json!({"priority": {"type": "integer", "minimum": -1000, "maximum": 1000}}),
            json!(["priority"]),
        ),
    );
    set(
        "AssignBody",
        object(json!({"agent": agent}), json!(["agent"])),
    );
    let reason = json!({"type": "string", "pattern": display_text_pattern(), "maxLength": 500});
    set(
        "StopBody",
        object(json!({"reason": reason}), json!(["reason"])),
    );
    set(
        "AttributesBody",
        json!({
            "type": "object", "minProperties": 1, "maxProperties": 50,
            "propertyNames": {"pattern": "^[A-Za-z0-9_.-]{1,64}$"},
            "additionalProperties": {
                "type": ["string", "null"], "pattern": display_text_pattern(), "maxLength": 200,
            },
        }),
    );
    let ids = json!({"type": "array", "minItems": 1, "maxItems": 500, "items": uuid()});
    set(
        "BulkBody",
        json!({"oneOf": [
            object(json!({"action": {"const": "move"}, "ids": ids, "queue": queue}), json!(["action", "ids", "queue"])),
            object(json!({"action": {"const": "priority"}, "ids": ids, "priority": {"type": "integer", "minimum": -1000, "maximum": 1000}}), json!(["action", "ids", "priority"])),
            object(json!({"action": {"const": "assign"}, "ids": ids, "agent": agent}), json!(["action", "ids", "agent"])),
            object(json!({"action": {"const": "stop"}, "ids": ids, "reason": reason}), json!(["action", "ids", "reason"])),
        ]}),
    );
    let password = json!({"type": "string", "minLength": crate::app::signin::MIN_PASSWORD, "maxLength": crate::app::signin::MAX_PASSWORD});
    set(
        "SignInBody",
        object(
            json!({"name": {"type": "string", "maxLength": 256}, "password": {"type": "string", "maxLength": crate::app::signin::MAX_PASSWORD}}),
            json!(["name", "password"]),
        ),
    );
    set(
        "PasswordBody",
        object(json!({"password": password}), json!(["password"])),
    );
    set(
        "AcceptBody",
        object(
            json!({"token": {"type": "string", "maxLength": 256}, "password": password}),
            json!(["token", "password"]),
        ),
    );
    set(
        "RevisionBody",
        object(json!({"comment": not_blank(10_000)}), json!(["comment"])),
    );
    set(
        "EditBody",
        object(
            json!({
                "text": {"type": "string", "pattern": body_pattern(), "maxLength": crate::app::reply::MAX_TEXT},
                "html": {"type": ["string", "null"], "pattern": "^[^\\u0000]*$", "maxLength": crate::app::reply::MAX_HTML},
            }),
            json!(["text"]),
        ),
    );
    set(
        "ReassignBody",
        object(json!({"reviewer": agent}), json!(["reviewer"])),
    );
    set(
        "DoneBody",
        object(
            json!({"disposition": {"type": "string", "pattern": crate::domain::text::CODE_PATTERN}}),
            json!(["disposition"]),
        ),
    );
}

/// What a created resource leads to: the web form's interaction, a created user.
fn links(doc: &mut Value) {
    let interaction = |op: &str| json!({"operationId": op, "parameters": {"id": "$response.body#/interaction_id"}});
    let web_form = json!({
        "GetInteraction": interaction("get_interaction"),
        "GetThread": interaction("get_thread"),
        "GetHistory": interaction("get_history"),
        "GetContent": interaction("get_content"),
        "GetSuggestedResponses": interaction("suggested_responses"),
    });
    if let Some(r) = doc.pointer_mut("/paths/~1api~1v1~1webform/post/responses/202") {
        r["links"] = web_form;
    }
    if let Some(r) = doc.pointer_mut("/paths/~1api~1v1~1admin~1users/post/responses/201") {
        r["links"] = json!({
            "RevokeUser": {"operationId": "revoke_user", "parameters": {"name": "$response.body#/name"}},
        });
    }
    if let Some(r) = doc.pointer_mut("/paths/~1api~1v1~1standard-responses/post/responses/201") {
        let response =
            |op: &str| json!({"operationId": op, "parameters": {"id": "$response.body#/id"}});
        r["links"] = json!({
            "GetResponse": response("get_response"),
            "UpdateResponse": response("update_response"),
            "DeleteResponse": response("delete_response"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_patterns_say_what_the_server_checks_for_every_character() {
        let blank_ok = regex::Regex::new(&display_text_or_blank_pattern()).unwrap();
        let visible = regex::Regex::new(&display_text_pattern()).unwrap();
        let body = regex::Regex::new(&body_pattern()).unwrap();
        for c in (0..0x1_0000u32).filter_map(char::from_u32) {
            let one = c.to_string();
            let header_ok = crate::domain::header::HeaderText::parse(&one).is_ok();
            assert_eq!(blank_ok.is_match(&one), header_ok, "U+{:04X}", c as u32);
            assert_eq!(
                visible.is_match(&one),
                header_ok && !one.trim().is_empty(),
                "U+{:04X}",
                c as u32
            );
            assert_eq!(
                body.is_match(&one),
                c != '\0' && !one.trim().is_empty(),
                "U+{:04X}",
                c as u32
            );
        }
    }
}
