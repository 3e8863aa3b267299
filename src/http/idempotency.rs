//! `Idempotency-Key` on every authenticated POST, PUT, PATCH and DELETE: a request repeated with
//! the same key (by the same user, to the same method and path) answers what the first one
//! answered, status, body and all, without doing anything again; `Idempotent-Replayed: true`
//! says so. The same key with another body is 422; while the first is still being answered,
//! 409. Answers kept are those below 500 (a server error may be retried), for 24 hours, the
//! latest 10,000, in memory (a restart forgets them).

use super::auth::Caller;
use super::problem::ApiError;
use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an answer is kept.
const KEEP: Duration = Duration::from_secs(24 * 3600);
/// How many answers are kept.
const CAPACITY: usize = 10_000;
/// The largest body a keyed request may have.
const MAX_BODY: usize = 8 * 1024 * 1024;

type Kept = (HashMap<Key, Entry>, VecDeque<(Instant, Key)>);

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    user: String,
    method: String,
    path: String,
    key: String,
}

enum Entry {
    InFlight { fingerprint: [u8; 32] },
    Done(Box<Answer>),
}

struct Answer {
    fingerprint: [u8; 32],
    status: StatusCode,
    headers: Vec<(header::HeaderName, header::HeaderValue)>,
    body: Bytes,
    at: Instant,
}

/// The answers kept by key.
#[derive(Default)]
pub struct Answers {
    inner: Mutex<Kept>,
}

impl Answers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn problem(req: ServiceRequest, e: ApiError) -> ServiceResponse<BoxBody> {
    req.error_response(e).map_into_boxed_body()
}

/// The middleware (`actix_web::middleware::from_fn`), inside the route check.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let keyed = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    let value = req.headers().get("Idempotency-Key").cloned();
    let caller = req.extensions().get::<Caller>().map(|c| c.name.to_string());
    let (Some(value), Some(user), true) = (value, caller, keyed) else {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    };
    let Some(given) = value
        .to_str()
        .ok()
        .filter(|v| (1..=255).contains(&v.len()) && v.bytes().all(|b| (0x21..0x7f).contains(&b)))
        .map(str::to_string)
    else {
        return Ok(problem(
            req,
            ApiError::BadRequest(
                "Idempotency-Key: 1 to 255 visible ASCII characters, no spaces".into(),
            ),
        ));
    };
    let Some(answers) = req.app_data::<actix_web::web::Data<Answers>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_boxed_body());
    };
    // The body, read once to fingerprint it and handed on unchanged.
    let mut payload = req.take_payload();
    let mut body = actix_web::web::BytesMut::new();
    {
        use futures_util::StreamExt;
        while let Some(chunk) = payload.next().await {
            match chunk {
                Ok(c) if body.len() + c.len() <= MAX_BODY => body.extend_from_slice(&c),
                Ok(_) => {
                    return Ok(problem(
                        req,
                        ApiError::PayloadTooLarge(format!(
                            "a request with an Idempotency-Key is at most {MAX_BODY} bytes"
                        )),
                    ))
                }
                Err(e) => {
                    return Ok(problem(
                        req,
                        ApiError::BadRequest(format!("the body could not be read: {e}")),
                    ))
                }
            }
        }
    }
    let body = body.freeze();
    let fingerprint = crate::events::codec::sha256(&body);
    req.set_payload(actix_web::dev::Payload::from(body));
    let key = Key {
        user,
        method: req.method().to_string(),
        path: req.path().to_string(),
        key: given,
    };
    {
        let mut guard = answers.lock();
        let (map, order) = &mut *guard;
        // Forget what is too old or too many.
        while let Some((at, k)) = order.front() {
            if at.elapsed() < KEEP && map.len() <= CAPACITY {
                break;
            }
            let (at, k) = (*at, k.clone());
            order.pop_front();
            // Only the answer this entry kept (the key may have been answered again since).
            if matches!(map.get(&k), Some(Entry::Done(a)) if a.at == at) {
                map.remove(&k);
            }
        }
        match map.get(&key) {
            Some(Entry::Done(a)) if a.at.elapsed() < KEEP => {
                if a.fingerprint != fingerprint {
                    drop(guard);
                    return Ok(problem(
                        req,
                        ApiError::Unprocessable(
                            "Idempotency-Key was used before with another request body".into(),
                        ),
                    ));
                }
                let mut res = HttpResponse::build(a.status);
                for (n, v) in &a.headers {
                    res.insert_header((n.clone(), v.clone()));
                }
                res.insert_header(("Idempotent-Replayed", "true"));
                let res = res.body(a.body.clone());
                drop(guard);
                return Ok(req.into_response(res));
            }
            Some(Entry::InFlight { fingerprint: f }) => {
                let other = *f != fingerprint;
                drop(guard);
                return Ok(problem(
                    req,
                    if other {
                        ApiError::Unprocessable(
                            "Idempotency-Key was used before with another request body".into(),
                        )
                    } else {
                        ApiError::Conflict(
                            "a request with this Idempotency-Key is still being answered".into(),
                        )
                    },
                ));
            }
            _ => {
                map.insert(key.clone(), Entry::InFlight { fingerprint });
            }
        }
    }
    let res = next.call(req).await;
    let forget = || {
        answers.lock().0.remove(&key);
    };
    let res = match res {
        Ok(r) => r,
        Err(e) => {
            forget();
            return Err(e);
        }
    };
    if res.status().is_server_error() {
        forget();
        return Ok(res.map_into_boxed_body());
    }
    let (request, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            forget();
            return Err(actix_web::error::ErrorInternalServerError(
                "the answer could not be read",
            ));
        }
    };
    let headers: Vec<_> = head
        .headers()
        .iter()
        .filter(|(n, _)| *n == header::CONTENT_TYPE || *n == header::LOCATION || *n == header::ETAG)
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    {
        let mut guard = answers.lock();
        let (map, order) = &mut *guard;
        let now = Instant::now();
        map.insert(
            key.clone(),
            Entry::Done(Box::new(Answer {
                fingerprint,
                status: head.status(),
                headers,
                body: bytes.clone(),
                at: now,
            })),
        );
        order.push_back((now, key));
    }
    let response = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(request, response))
}
