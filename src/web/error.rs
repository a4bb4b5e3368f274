//! One error type for every handler, and the one place error responses are rendered: an HTML
//! page for browsers, `application/problem+json` under `/api/`.

use std::any::Any;

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::page::PageContext;
use crate::domain::error::ServiceError;
use crate::state::AppState;

/// The result of a handler.
pub type AppResult<T> = Result<T, AppError>;

/// Everything a handler can fail with. Database and internal errors are logged once, here,
/// and shown to the user only as a generic message.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The record does not exist or the caller may not see it: both answer 404.
    #[error("not found")]
    NotFound,
    /// The request is malformed; the message is safe to show.
    #[error("{0}")]
    BadRequest(String),
    /// The request is well-formed but refused; the message says why and is safe to show.
    #[error("{0}")]
    Unprocessable(String),
    /// The request collides with the record's current state; the message says how and is safe
    /// to show.
    #[error("{0}")]
    Conflict(String),
    /// The caller is not allowed to do this.
    #[error("forbidden")]
    Forbidden,
    /// A state-changing request without the session's CSRF token, or from another site.
    #[error("csrf token missing or invalid")]
    CsrfRejected,
    /// The request body is larger than this route accepts; the message says what is.
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts; try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests {
        /// Seconds until the next attempt can succeed.
        retry_after_secs: i64,
    },
    /// A database error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Anything else that went wrong on our side.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

/// A message for the user, carried from [`AppError`] to [`render_errors`].
#[derive(Debug, Clone)]
struct ErrorDetail(String);

/// Seconds a client is asked to wait when the database is unavailable.
const RETRY_AFTER_UNAVAILABLE: &str = "5";

/// What to tell the user when `error` means the database cannot be reached or cannot write
/// right now (stopped, restarting, out of connections, out of disk): the request may work
/// again later, so the answer is 503, not 500. `None` for every other error.
pub fn unavailable_detail(error: &sqlx::Error) -> Option<&'static str> {
    const BACK_SOON: &str = "The database is not reachable right now, so nothing was saved. \
                             Warmline brings it back by itself: try again in a few seconds.";
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(BACK_SOON),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("53100") => Some(
                "The database's disk is full, so nothing was saved. An administrator needs to \
                 free space; then try again.",
            ),
            Some(code)
                if code.starts_with("08")
                    || matches!(
                        code,
                        "57P01" | "57P02" | "57P03" | "53200" | "53300" | "58030"
                    ) =>
            {
                Some(BACK_SOON)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The same for any error whose cause is such a database error.
fn unavailable_cause(error: &anyhow::Error) -> Option<&'static str> {
    error
        .chain()
        .filter_map(|cause| cause.downcast_ref::<sqlx::Error>())
        .find_map(unavailable_detail)
}

/// A 503 with `Retry-After` and a message.
pub fn service_unavailable(detail: &str) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_UNAVAILABLE)],
    )
        .into_response();
    response
        .extensions_mut()
        .insert(ErrorDetail(detail.to_string()));
    response
}

impl From<ServiceError> for AppError {
    /// Field messages that a handler did not put back beside their fields read as one line.
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(errors) => Self::Unprocessable(
                errors
                    .iter()
                    .map(|(_, message)| message)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            ServiceError::NotFound => Self::NotFound,
            ServiceError::Conflict(message) => Self::Conflict(message),
            ServiceError::Refused(message) => Self::Unprocessable(message),
            ServiceError::Database(error) => Self::Database(error),
            ServiceError::Internal(error) => Self::Internal(error),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let outage = match &self {
            Self::Database(error) => unavailable_detail(error),
            Self::Internal(error) => unavailable_cause(error),
            _ => None,
        };
        if let Some(detail) = outage {
            tracing::warn!(error = %self, "database unavailable");
            return service_unavailable(detail);
        }
        let (status, detail) = match &self {
            Self::NotFound | Self::Database(sqlx::Error::RowNotFound) => {
                (StatusCode::NOT_FOUND, None)
            }
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, Some(message.clone())),
            Self::Unprocessable(message) => {
                (StatusCode::UNPROCESSABLE_ENTITY, Some(message.clone()))
            }
            Self::Conflict(message) => (StatusCode::CONFLICT, Some(message.clone())),
            Self::Forbidden => (StatusCode::FORBIDDEN, None),
            Self::TooLarge(message) => (StatusCode::PAYLOAD_TOO_LARGE, Some(message.clone())),
            Self::CsrfRejected => (
                StatusCode::FORBIDDEN,
                Some(
                    "This form has expired or did not come from Warmline. Go back, reload the \
                     page and try again."
                        .to_string(),
                ),
            ),
            Self::TooManyRequests { retry_after_secs } => {
                let minutes = (retry_after_secs + 59) / 60;
                let detail = format!(
                    "Too many failed attempts. Wait {minutes} minute{} and try again.",
                    if minutes == 1 { "" } else { "s" }
                );
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, (*retry_after_secs).max(1).to_string())],
                )
                    .into_response();
                response.extensions_mut().insert(ErrorDetail(detail));
                return response;
            }
            Self::Database(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        };
        let mut response = status.into_response();
        if let Some(detail) = detail {
            response.extensions_mut().insert(ErrorDetail(detail));
        }
        response
    }
}

/// The fallback route.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// Answers a panic with a bare 500; [`render_errors`] gives it its page.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "a handler panicked");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: PageContext,
    status: u16,
    title: String,
    detail: Option<String>,
}

/// Gives every error response that is not already a page (from [`AppError`], the router's
/// 404 and 405, the body limit's 413, the timeout's 503, a panic's 500) its proper body.
/// Responses that carry their own HTML or JSON, such as a re-rendered form, pass untouched.
pub async fn render_errors(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let wants_json = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && response.extensions().get::<ErrorDetail>().is_none()
        && !database_answers(&state).await
    {
        // A layer below us (the session store) failed on its own; with the database away,
        // that is an outage to wait out, not a fault.
        tracing::warn!("a request failed while the database is unreachable");
        response = service_unavailable(
            "The database is not reachable right now, so nothing was saved. Warmline brings \
             it back by itself: try again in a few seconds.",
        );
    }
    let status = response.status();
    if status == StatusCode::SERVICE_UNAVAILABLE
        && !response.headers().contains_key(header::RETRY_AFTER)
    {
        // Overload, a timeout, an outage: every 503 says when to come back.
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    if !(status.is_client_error() || status.is_server_error()) || has_own_body(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Our own message first, then our wording for the status, then an extractor's rejection.
    let detail = match (
        parts.extensions.get::<ErrorDetail>(),
        default_detail(status),
    ) {
        (Some(ErrorDetail(detail)), _) => Some(detail.clone()),
        (None, Some(default)) => Some(default.to_string()),
        (None, None) => rejection_text(status, &parts.headers, body).await,
    };
    // Keep headers such as Allow and Retry-After; the body and its type are replaced.
    parts.headers.remove(header::CONTENT_LENGTH);
    let (content_type, body) = error_body(status, detail, wants_json);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Response::from_parts(parts, Body::from(body))
}

/// An error's body and its content type: problem+json for the API, else the error page.
pub(super) fn error_body(
    status: StatusCode,
    detail: Option<String>,
    json: bool,
) -> (&'static str, String) {
    let title = status.canonical_reason().unwrap_or("Error").to_string();
    if json {
        let problem = json!({ "type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail });
        return ("application/problem+json", problem.to_string());
    }
    let page = ErrorPage {
        ctx: PageContext::default(),
        status: status.as_u16(),
        title,
        detail,
    };
    let html = page.render().unwrap_or_else(|error| {
        tracing::error!(%error, "could not render the error page");
        "Something went wrong.".to_string()
    });
    ("text/html; charset=utf-8", html)
}

/// The 503 page and problem+json of a server too busy to take a request, made once.
pub(super) fn busy_bodies() -> [(&'static str, String); 2] {
    let detail = default_detail(StatusCode::SERVICE_UNAVAILABLE).map(str::to_string);
    [false, true].map(|json| error_body(StatusCode::SERVICE_UNAVAILABLE, detail.clone(), json))
}

/// Whether the database answers a trivial query within a second.
async fn database_answers(state: &AppState) -> bool {
    let ping = sqlx::query_scalar!(r#"select 1 as "one!""#).fetch_one(&state.pool);
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(1), ping).await,
        Ok(Ok(_))
    )
}

fn has_own_body(response: &Response) -> bool {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    !content_type.is_empty() && !content_type.starts_with("text/plain")
}

/// A client error's plain-text body: an extractor's rejection, which describes the request,
/// not our internals. Server errors never show their body.
async fn rejection_text(status: StatusCode, headers: &HeaderMap, body: Body) -> Option<String> {
    if status.is_server_error() || !is_plain_text(headers) {
        return None;
    }
    let bytes = axum::body::to_bytes(body, 4096).await.ok()?;
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn is_plain_text(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"))
}

fn default_detail(status: StatusCode) -> Option<&'static str> {
    Some(match status {
        StatusCode::NOT_FOUND => {
            "There is nothing here. The link may be old, or the record may not be yours to see."
        }
        StatusCode::PAYLOAD_TOO_LARGE => "What you sent is larger than this server accepts.",
        StatusCode::SERVICE_UNAVAILABLE => {
            "The server is busy or could not finish in time. Please try again in a moment."
        }
        StatusCode::INTERNAL_SERVER_ERROR => {
            "Something went wrong on our side. It has been logged; please try again."
        }
        StatusCode::METHOD_NOT_ALLOWED => "That action is not available here.",
        StatusCode::FORBIDDEN => "You are not allowed to do that.",
        _ => return None,
    })
}
