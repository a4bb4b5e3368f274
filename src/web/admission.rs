//! Admission control: a bound on the requests being worked on, so that overload is answered
//! at once with 503 and `Retry-After` instead of making every request wait on the database pool
//! until all of them are slow.
//!
//! At most `limit` requests run at a time and at most `limit` more wait for a turn, for at most
//! [`QUEUE_WAIT`]. Anything beyond is refused before it touches the session store or the pool.
//! The limit defaults to twice the pool size: enough to keep every connection busy while the
//! next requests parse and render, few enough that an admitted request waits for at most about
//! one other in front of it. Health checks, `/metrics` and static files are never refused, so
//! monitoring sees an overloaded server as it is.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::Semaphore;

/// The longest an admitted request waits for its turn.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// The permits, the queue, and the refusal made ready in advance: turning a request away must
/// cost next to nothing, or refusing becomes the overload.
#[derive(Debug)]
pub struct Admission {
    running: Arc<Semaphore>,
    limit: usize,
    /// Places to wait for a turn.
    queue: Semaphore,
    refused: AtomicU64,
    /// The 503 page and the API's problem+json, with their content types.
    busy: [(&'static str, Bytes); 2],
}

impl Admission {
    /// Room for `limit` requests at a time and `limit` waiting.
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            running: Arc::new(Semaphore::new(limit)),
            limit,
            queue: Semaphore::new(limit),
            refused: AtomicU64::new(0),
            busy: super::error::busy_bodies().map(|(kind, body)| (kind, Bytes::from(body))),
        }
    }

    /// The answer to a request turned away.
    fn refusal(&self, api: bool) -> Response {
        self.refused.fetch_add(1, Ordering::Relaxed);
        let (content_type, body) = &self.busy[usize::from(api)];
        let mut response = Response::new(Body::from(body.clone()));
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }

    /// Requests being worked on now.
    pub fn in_flight(&self) -> usize {
        self.limit - self.running.available_permits()
    }

    /// Requests waiting for a turn now.
    pub fn waiting(&self) -> usize {
        self.limit - self.queue.available_permits()
    }

    /// Requests refused since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// The most requests worked on at a time.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Paths that are always let through: health, metrics, static files.
fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/static/")
}

/// The middleware: admits the request, lets it wait briefly, or refuses it with 503.
pub async fn admit(
    State(admission): State<Arc<Admission>>,
    request: Request,
    next: Next,
) -> Response {
    if exempt(request.uri().path()) {
        return next.run(request).await;
    }
    let permit = match admission.running.clone().try_acquire_owned() {
        Ok(permit) => Some(permit),
        // The place in the queue is a permit too, so it is given back however the wait ends:
        // with a turn, timed out, or dropped because the client went away. (A count decremented
        // after the `await` lost a place for every client that gave up, until the queue stayed
        // full and every request beyond the running ones was refused.)
        Err(_) => match admission.queue.try_acquire() {
            Ok(_place) => {
                tokio::time::timeout(QUEUE_WAIT, admission.running.clone().acquire_owned())
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
            Err(_) => None,
        },
    };
    let Some(_permit) = permit else {
        return admission.refusal(request.uri().path().starts_with("/api/"));
    };
    next.run(request).await
}
