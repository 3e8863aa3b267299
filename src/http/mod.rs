//! The REST API (actix-web, JSON under `/api/v1`), documented by an OpenAPI document generated from
//! the handlers themselves (utoipa-actix-web collects every `service`).

pub mod admin;
pub mod audit;
pub mod auth;
pub mod contacts;
pub mod content;
pub mod health;
pub mod interactions;
pub mod problem;
pub mod queues;
pub mod rate_limit;
pub mod views;
pub mod webform;

use crate::startup::Engine;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{web, App, HttpRequest, HttpResponse};
use problem::ApiError;
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

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "no route for {} {}",
        req.method(),
        req.path()
    )))
}

async fn openapi_json(spec: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(spec.get_ref())
}

/// The OpenAPI document of every route `app` serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes(App::new().into_utoipa_app()).split_for_parts().1
}

fn routes<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.openapi(ApiDoc::openapi())
        .service(health::healthz)
        .service(health::readyz)
        .service(
            scope::scope("/api/v1")
                .service(webform::submit)
                .service(interactions::get_interaction)
                .service(interactions::get_history)
                .service(interactions::get_thread)
                .service(content::get_content)
                .service(content::get_attachment)
                .service(content::get_raw)
                .service(contacts::find_contact)
                .service(contacts::get_contact)
                .service(queues::list_queues)
                .service(queues::get_queue)
                .service(audit::list_events)
                .service(admin::create_user)
                .service(admin::revoke_user),
        )
}

/// The application: routes, error shapes, and the OpenAPI document at `/api/v1/openapi.json`.
pub fn app(
    engine: web::Data<Engine>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let json_limit = engine.settings.webform.max_body_bytes * 6 + 64 * 1024;
    // Registered before the `/api/v1` scope, which would otherwise answer it with a 404.
    let base = App::new()
        .app_data(engine)
        .app_data(web::Data::new(openapi()))
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
            srv.call(req).instrument(span)
        })
}

/// A JSON body whose errors name the field at fault (`from: invalid type: …`).
pub struct JsonBody<T>(pub T);

impl<T: serde::de::DeserializeOwned> actix_web::FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            serde_path_to_error::deserialize(value)
                .map(JsonBody)
                .map_err(|e| {
                    let path = e.path().to_string();
                    let inner = e.into_inner();
                    let detail = if path == "." {
                        inner.to_string()
                    } else {
                        format!("{path}: {inner}")
                    };
                    ApiError::Unprocessable(detail).into()
                })
        })
    }
}
