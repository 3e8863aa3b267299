//! The REST API (actix-web, JSON under `/api/v1`), documented by an OpenAPI document generated from
//! the handlers themselves (utoipa-actix-web collects every `service`).

pub mod admin;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod command;
pub mod connection;
pub mod contacts;
pub mod content;
pub mod deadline;
pub mod desk;
pub mod desktop;
pub mod health;
pub mod history;
pub mod idempotency;
pub mod interactions;
pub mod json;
pub mod metrics;
pub mod notes;
pub mod openapi;
pub mod problem;
pub mod queues;
pub mod rate_limit;
pub mod reply;
pub mod responses;
pub mod reviews;
pub mod routes;
pub mod server;
pub mod session;
pub mod signin;
pub mod sse;
pub mod supervise;
pub mod views;
pub mod webform;
pub mod work;

use crate::actors::Interactions;
use crate::app::receive::Receiver;
use crate::events::EventStore;
use crate::mail::imap::Statuses;
use crate::projections::ProjectionRunner;
use crate::storage::ContentStore;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, App, HttpRequest, HttpResponse};
use problem::ApiError;
use std::sync::Arc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "postroom",
        description = "Event-sourced e-mail interaction server for contact centers."
    ),
    modifiers(&BearerAuth),
    components(schemas(problem::Problem))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn json_error(err: JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let e = match &err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge(err.to_string())
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("the body must be application/json".into())
        }
        JsonPayloadError::Deserialize(de) if de.is_data() => {
            ApiError::Unprocessable(de.to_string())
        }
        other => ApiError::BadRequest(format!("the body is not valid JSON: {other}")),
    };
    e.into()
}

fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("query string: {err}")).into()
}

fn path_error(err: PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError::BadRequest(format!("path: {err}")).into()
}

/// No route answers: 405 with `Allow` when the path exists for other methods, else 404.
async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    if let Some(e) = routes::not_allowed(req.method().as_str(), req.path()) {
        return Err(e);
    }
    Err(ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}

/// The served document (with the configured limits).
struct Document(serde_json::Value);

async fn openapi_json(spec: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().json(&spec.0)
}

/// The OpenAPI document of every route `app` serves, with these web-form limits.
pub fn openapi_for(webform: &crate::settings::WebformSettings) -> serde_json::Value {
    let generated = routes(App::new().into_utoipa_app()).split_for_parts().1;
    openapi::exact(
        &generated,
        openapi::DocLimits {
            max_subject_chars: webform.max_subject_chars,
            max_name_chars: webform::MAX_NAME_CHARS,
            max_attachments: webform.max_attachments,
        },
    )
}

/// The OpenAPI document with the default configuration.
pub fn openapi() -> serde_json::Value {
    openapi_for(&Default::default())
}

fn routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(health::healthz)
        .service(health::readyz)
        .service(desktop::index)
        .service(desktop::asset)
        .service(metrics::scrape)
        .service(
            scope::scope("/api/v1")
                .service(webform::submit)
                .service(interactions::get_interaction)
                .service(history::get_history)
                .service(interactions::get_thread)
                .service(content::get_content)
                .service(content::get_attachment)
                .service(content::get_raw)
                .service(notes::get_notes)
                .service(contacts::find_contact)
                .service(contacts::get_contact)
                .service(queues::list_queues)
                .service(queues::get_queue)
                .service(queues::service_level)
                .service(queues::trend)
                .service(audit::list_events)
                .service(audit::verify)
                .service(admin::create_user)
                .service(admin::revoke_user)
                .service(admin::reload_config)
                .service(responses::create_response)
                .service(responses::list_responses)
                .service(responses::get_response)
                .service(responses::update_response)
                .service(responses::delete_response)
                .service(responses::suggested_responses)
                .service(agents::create_agent)
                .service(agents::get_agent)
                .service(agents::update_agent)
                .service(agents::delete_agent)
                .service(agents::list_agents)
                .service(agents::agent_workload)
                .service(agents::set_state)
                .service(agents::my_state)
                .service(desk::accept)
                .service(desk::reject)
                .service(desk::routing)
                .service(desk::my_interactions)
                .service(desk::categorise)
                .service(work::transfer)
                .service(work::consult)
                .service(work::contribute)
                .service(work::end_consult)
                .service(work::give_back)
                .service(work::done)
                .service(work::desktop)
                .service(reply::save_reply)
                .service(reply::get_reply)
                .service(reply::release)
                .service(sse::my_events)
                .service(supervise::bulk)
                .service(supervise::move_to)
                .service(supervise::reprioritise)
                .service(supervise::assign)
                .service(supervise::stop)
                .service(supervise::attributes)
                .service(signin::sign_in)
                .service(signin::session)
                .service(signin::sign_out)
                .service(signin::accept_invitation)
                .service(signin::set_password)
                .service(signin::invite)
                .service(reviews::list_reviews)
                .service(reviews::approve)
                .service(reviews::give_back)
                .service(reviews::edit)
                .service(reviews::reassign),
        )
}

/// What the handlers use, each handed to them on its own (a handler asks for the few it needs).
#[derive(Clone)]
pub struct Handles {
    pub log: Arc<dyn EventStore>,
    pub content: Arc<dyn ContentStore>,
    pub projections: Arc<ProjectionRunner>,
    pub interactions: Interactions,
    pub receiver: Receiver,
    /// Reloads the business process.
    pub reloader: crate::app::reload::Reloader,
    /// Full-text search over the standard responses.
    pub search: Arc<crate::projections::response_search::ResponseSearch>,
    pub webform: Arc<webform::WebformPolicy>,
    pub queues: Arc<queues::ConfiguredQueues>,
    /// What the desktop's actions need from the configuration.
    pub desk: work::DeskPolicy,
    /// Answers kept for `Idempotency-Key` (one store for every worker).
    pub idempotency: Arc<idempotency::Answers>,
    /// Agents' desktop events (`GET /me/events`).
    pub notifier: crate::app::notify::Notifier,
    /// Agents' replies: drafts and their release.
    pub replies: crate::app::reply::Replies,
    /// Browser sign-in: passwords, invitations, the record of sessions.
    pub signin: crate::app::signin::SignIn,
    /// Browser sessions (one store for every worker).
    pub sessions: Arc<session::Sessions>,
    pub mailboxes: Statuses,
    /// Whether mail goes out, for `/readyz`.
    pub sending: health::Sending,
    /// Deadlines for every request's body (a middleware, not a handler's).
    pub body_deadline: deadline::BodyDeadline,
    /// The process's metrics recorder, rendered by `GET /metrics`.
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

/// The application: routes, error shapes, and the OpenAPI document at `/api/v1/openapi.json`.
pub fn app(
    handles: Handles,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let json_limit = handles.webform.limits.max_body_bytes * 6 + 64 * 1024;
    let body_deadline = handles.body_deadline;
    let document = Document(openapi_for(&handles.webform.limits));
    // Registered before the `/api/v1` scope, which would otherwise answer it with a 404.
    let base = App::new()
        .app_data(web::Data::from(handles.log))
        .app_data(web::Data::from(handles.content))
        .app_data(web::Data::from(handles.projections))
        .app_data(web::Data::new(handles.interactions))
        .app_data(web::Data::new(handles.receiver))
        .app_data(web::Data::new(handles.sending))
        .app_data(web::Data::new(handles.reloader))
        .app_data(web::Data::from(handles.search))
        .app_data(web::Data::from(handles.webform))
        .app_data(web::Data::from(handles.queues))
        .app_data(web::Data::new(handles.desk))
        .app_data(web::Data::new(handles.replies))
        .app_data(web::Data::new(handles.signin))
        .app_data(web::Data::from(handles.sessions))
        .app_data(web::Data::new(handles.notifier))
        .app_data(web::Data::from(handles.idempotency))
        .app_data(web::Data::new(handles.mailboxes))
        .app_data(web::Data::new(handles.metrics))
        .app_data(web::Data::new(document))
        .app_data(
            web::JsonConfig::default()
                .limit(json_limit)
                .error_handler(json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .route("/api/v1/openapi.json", web::get().to(openapi_json));
    routes(base.into_utoipa_app())
        .into_app()
        .default_service(web::to(not_found))
        // Inside the route check: keyed by the caller it found.
        .wrap(actix_web::middleware::from_fn(idempotency::idempotency))
        .wrap_fn(|req, srv| {
            // Every request is checked against the route table before its handler runs.
            use actix_web::dev::Service;
            use futures_util::future::{ready, Either, FutureExt};
            match routes::authorize(&req) {
                Ok(()) => {
                    Either::Left(srv.call(req).map(|r| r.map(|res| res.map_into_left_body())))
                }
                Err(e) => Either::Right(ready(Ok(req.error_response(e).map_into_right_body()))),
            }
        })
        .wrap_fn(|mut req, srv| {
            // HEAD is GET without the body (RFC 9110 §9.3.2): routed, authorised and answered as
            // GET; the HTTP/1 codec, which saw HEAD, leaves the body out.
            use actix_web::dev::Service;
            if req.method() == actix_web::http::Method::HEAD
                && routes::methods_for(req.path()).contains(&"GET")
            {
                req.head_mut().method = actix_web::http::Method::GET;
            }
            srv.call(req)
        })
        .wrap_fn(move |mut req, srv| {
            use actix_web::dev::Service;
            use futures_util::future::FutureExt;
            let expired = body_deadline.guard(&mut req);
            srv.call(req).map(move |r| r.map(|res| expired.answer(res)))
        })
        .wrap_fn(|req, srv| {
            // One span per request; authentication records the user into it.
            let span = tracing::info_span!(
                "request",
                method = %req.method(),
                path = %req.path(),
                user = tracing::field::Empty,
            );
            use actix_web::dev::Service;
            use tracing::Instrument;
            // Entered while the inner layers are called: the route check records the user.
            let call = {
                let _entered = span.enter();
                srv.call(req)
            };
            call.instrument(span)
        })
}
