//! The authorisation matrix, generated from the route table (`http::routes::ROUTES`): every route
//! against every caller (none, each role, admin). A role the route does not admit gets 403, no
//! token gets 401, and an admitted caller is never refused for who they are. And the table names
//! exactly the routes the OpenAPI document describes, so no endpoint goes undeclared.

use crate::helpers::spawn_app;
use postroom::domain::user::Role;
use postroom::http::routes::{Access, ROUTES};
use std::collections::BTreeSet;

/// A concrete path for a route pattern: every `{param}` filled with a value of the right shape.
fn concrete(pattern: &str) -> String {
    pattern
        .replace("{id}", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
        .replace("{n}", "0")
        .replace("{name}", "nobody")
}

#[test]
fn every_route_admits_exactly_the_roles_its_table_entry_names() {
    let app = spawn_app();
    let roles = [Role::Agent, Role::Supervisor, Role::Auditor];
    let tokens: Vec<(Role, String)> = roles
        .iter()
        .map(|r| {
            (
                *r,
                app.token_for(&format!("matrix-{}", r.as_str()), r.as_str()),
            )
        })
        .collect();
    let mut checked = 0;
    for route in ROUTES {
        // The web form and admin creation take bodies; a missing body must still not pass the
        // role check, and the role check comes first.
        let path = concrete(route.path);
        match route.access {
            Access::Public => {
                let r = app.request(route.method, &path, None);
                assert!(
                    r.status != 401 && r.status != 403,
                    "{} {} is public but answered {} without a token",
                    route.method,
                    route.path,
                    r.status
                );
            }
            Access::Roles(admitted) => {
                let r = app.request(route.method, &path, None);
                assert_eq!(
                    r.status, 401,
                    "{} {} without a token",
                    route.method, route.path
                );
                assert_eq!(r.header("content-type"), Some("application/problem+json"));
                for (role, token) in &tokens {
                    let r = app.request(route.method, &path, Some(token));
                    if admitted.contains(role) {
                        assert!(
                            r.status != 401 && r.status != 403,
                            "{} {} admits {} but answered {}: {:?}",
                            route.method,
                            route.path,
                            role.as_str(),
                            r.status,
                            r.body
                        );
                    } else {
                        assert_eq!(
                            r.status,
                            403,
                            "{} {} must refuse {}",
                            route.method,
                            route.path,
                            role.as_str()
                        );
                    }
                }
                let r = app.request(route.method, &path, Some(&app.admin_token));
                assert!(
                    r.status != 401 && r.status != 403,
                    "{} {}: admins may do everything, got {}",
                    route.method,
                    route.path,
                    r.status
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 15, "the table lists the routes");
}

#[test]
fn the_route_table_and_the_openapi_document_name_the_same_routes() {
    let doc = serde_json::to_value(postroom::http::openapi()).expect("the document serialises");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("an operation map").keys() {
            documented.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    let declared: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        // The document does not describe itself.
        .filter(|(_, p)| p != "/api/v1/openapi.json")
        .collect();
    assert_eq!(declared, documented);
}
