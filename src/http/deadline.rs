//! Deadlines for request bodies, on every route: the whole body must arrive within `whole` of its
//! head, and each part within `per_read` of the previous one. A body that misses either ends with
//! a timed-out read; whatever the handler then answers, the caller gets 408 with a problem body,
//! and the connection closes (its body was not read to the end).

use super::problem::ApiError;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::Stream;
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{sleep, Instant, Sleep};

/// How long a body may take.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline {
    pub whole: Duration,
    pub per_read: Duration,
}

/// Set when a request's body missed its deadline.
#[derive(Clone, Default)]
pub struct Expired(Rc<Cell<bool>>);

impl BodyDeadline {
    /// Puts the deadlines on the request's body (if it has one).
    pub fn guard(&self, req: &mut ServiceRequest) -> Expired {
        let expired = Expired::default();
        let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
            || req
                .headers()
                .get(header::CONTENT_LENGTH)
                .is_some_and(|v| v.as_bytes() != b"0");
        if has_body {
            let timed = Timed {
                inner: req.take_payload(),
                whole: Box::pin(sleep(self.whole)),
                read: Box::pin(sleep(self.per_read)),
                per_read: self.per_read,
                expired: expired.clone(),
                whole_secs: self.whole.as_secs_f64(),
                done: false,
            };
            req.set_payload(Payload::Stream {
                payload: Box::pin(timed),
            });
        }
        expired
    }
}

impl Expired {
    /// The response to send: a 408 problem if the body missed its deadline and the handler
    /// failed; else the handler's own.
    pub fn answer<B>(
        &self,
        res: ServiceResponse<B>,
    ) -> ServiceResponse<actix_web::body::EitherBody<B>> {
        let failed = res.status().is_client_error() || res.status().is_server_error();
        if self.0.get() && failed {
            let (req, _) = res.into_parts();
            let answer = actix_web::ResponseError::error_response(&ApiError::RequestTimeout(
                "the request body did not arrive in time".into(),
            ));
            ServiceResponse::new(req, answer).map_into_right_body()
        } else {
            res.map_into_left_body()
        }
    }
}

struct Timed {
    inner: Payload,
    whole: Pin<Box<Sleep>>,
    read: Pin<Box<Sleep>>,
    per_read: Duration,
    expired: Expired,
    whole_secs: f64,
    /// The body has ended (or failed): no deadline applies any more.
    done: bool,
}

impl Timed {
    fn timed_out(&mut self, what: String) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.expired.0.set(true);
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            what,
        )))))
    }
}

impl Stream for Timed {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired.0.get() || this.done {
            return Poll::Ready(None);
        }
        // The whole deadline first: a body dripping in keeps every single read in time.
        if this.whole.as_mut().poll(cx).is_ready() {
            let secs = this.whole_secs;
            return this.timed_out(format!("the request body took longer than {secs} s"));
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                let next = Instant::now() + this.per_read;
                this.read.as_mut().reset(next);
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(other) => {
                this.done = true;
                Poll::Ready(other)
            }
            Poll::Pending => {
                if this.read.as_mut().poll(cx).is_ready() {
                    let secs = this.per_read.as_secs_f64();
                    this.timed_out(format!("no part of the request body came for {secs} s"))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}
