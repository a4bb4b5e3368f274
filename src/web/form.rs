//! Form input at the web edge: refusing characters that cannot be stored, and telling forms
//! from other bodies.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppError;
use crate::domain::fields::is_unstorable;
use crate::state::AppState;

/// Refuses, before any handler sees it, a query string or URL-encoded form whose values hold
/// a control character other than tab, line feed and carriage return. PostgreSQL cannot store
/// NUL at all, and the others only hide in names and notes; the answer is 422 naming the
/// field, and nothing is written.
pub async fn refuse_control_characters(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(refusal) = request
        .uri()
        .query()
        .and_then(|q| first_unstorable(q.as_bytes()))
    {
        return refusal.into_response();
    }
    if !is_urlencoded_form(request.headers()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, state.config.body_limit).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if let Some(refusal) = first_unstorable(&bytes) {
        return refusal.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether a request's body is a URL-encoded form.
pub fn is_urlencoded_form(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn first_unstorable(encoded: &[u8]) -> Option<AppError> {
    let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded).ok()?;
    let (field, c) = pairs.iter().find_map(|(name, value)| {
        value
            .chars()
            .chain(name.chars())
            .find(|c| is_unstorable(*c))
            .map(|c| (name, c))
    })?;
    let shown: String = field
        .chars()
        .filter(|c| !is_unstorable(*c))
        .take(60)
        .collect();
    Some(AppError::Unprocessable(format!(
        "The field “{shown}” contains a control character (U+{:04X}) that Warmline cannot \
         store. Remove it and send the form again.",
        c as u32
    )))
}
