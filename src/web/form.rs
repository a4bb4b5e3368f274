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
    let json = is_json(request.headers());
    if !is_urlencoded_form(request.headers()) && !json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, state.config.body_limit).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let refusal = if json {
        first_unstorable_json(&bytes)
    } else {
        first_unstorable(&bytes)
    };
    if let Some(refusal) = refusal {
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

/// Whether a request's body is JSON.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.trim_start().to_ascii_lowercase();
            v.starts_with("application/json") || v.contains("+json")
        })
}

/// The first member of a JSON body (at any depth) whose name or text holds an unstorable
/// character. A body that is not JSON is left to the handler's own parsing.
fn first_unstorable_json(body: &[u8]) -> Option<AppError> {
    fn find(value: &serde_json::Value, at: &str) -> Option<(String, char)> {
        match value {
            serde_json::Value::String(text) => text
                .chars()
                .find(|c| is_unstorable(*c))
                .map(|c| (at.to_string(), c)),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, v)| find(v, &format!("{at}[{i}]"))),
            serde_json::Value::Object(members) => members.iter().find_map(|(name, v)| {
                let path = if at.is_empty() {
                    name.clone()
                } else {
                    format!("{at}.{name}")
                };
                match name.chars().find(|c| is_unstorable(*c)) {
                    Some(c) => Some((path, c)),
                    None => find(v, &path),
                }
            }),
            _ => None,
        }
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let (field, c) = find(&value, "")?;
    Some(refusal(&field, c))
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
    Some(refusal(field, c))
}

/// The 422 for a field holding an unstorable character.
fn refusal(field: &str, c: char) -> AppError {
    let shown: String = field
        .chars()
        .filter(|c| !is_unstorable(*c))
        .take(60)
        .collect();
    AppError::Unprocessable(format!(
        "The field “{shown}” contains a control character (U+{:04X}) that Warmline cannot \
         store. Remove it and send the form again.",
        c as u32
    ))
}
