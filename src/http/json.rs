//! JSON request bodies whose errors name the field at fault (`from: invalid type: …`), as 422
//! problems.

use super::problem::ApiError;
use actix_web::{web, HttpRequest};

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
