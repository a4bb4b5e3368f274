//! Protection against cross-site request forgery: every state-changing request carries a
//! token bound to the session (a hidden form field, an `X-CSRF-Token` header from htmx, or the
//! query string of a multipart form), and a request from another origin is refused outright.
//! Without both, the answer is 403 and the handler never runs.
//!
//! Before there is a session worth keeping (the login and setup forms), the token lives in a
//! cookie of its own instead (double submit), so an anonymous visit stores nothing on the
//! server. Logging in replaces it with a token in the new session.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::AppError;
use super::page::cookie_value;
use crate::state::AppState;

/// The form field and query parameter that carry the token.
pub const FIELD: &str = "csrf_token";
/// The header htmx sends it in.
pub const HEADER: &str = "x-csrf-token";
const SESSION_KEY: &str = "csrf_token";

/// The cookie that carries an anonymous visitor's token.
const ANONYMOUS_COOKIE: &str = "warmline_csrf";

/// An anonymous visitor's token, put in the request by [`verify_csrf`].
#[derive(Debug, Clone)]
struct AnonymousToken(String);

/// The token this request's forms carry: the session's, or else the anonymous visitor's.
pub async fn token(parts: &Parts) -> Result<String, AppError> {
    if let Some(session) = parts.extensions.get::<Session>()
        && let Some(token) = session.get::<String>(SESSION_KEY).await.map_err(internal)?
    {
        return Ok(token);
    }
    Ok(parts
        .extensions
        .get::<AnonymousToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default())
}

/// Replaces the session's token (at login, so a token seen before login is worthless after).
pub async fn rotate(session: &Session) -> Result<String, AppError> {
    let token = crate::accounts::service::random_token();
    session
        .insert(SESSION_KEY, &token)
        .await
        .map_err(internal)?;
    Ok(token)
}

/// Refuses unsafe requests that come from another origin or lack the token; gives an
/// anonymous visitor a token cookie on the way.
pub async fn verify_csrf(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let anonymous = cookie_value(request.headers(), ANONYMOUS_COOKIE);
    let new_cookie = anonymous.is_none();
    let anonymous = anonymous.unwrap_or_else(crate::accounts::service::random_token);
    request
        .extensions_mut()
        .insert(AnonymousToken(anonymous.clone()));
    let mut response = if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        next.run(request).await
    } else {
        match check(&state, request, &anonymous).await {
            Ok(request) => next.run(request).await,
            Err(response) => response,
        }
    };
    if new_cookie {
        let secure = if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let cookie =
            format!("{ANONYMOUS_COOKIE}={anonymous}; Path=/; HttpOnly; SameSite=Strict{secure}");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

async fn check(state: &AppState, request: Request, anonymous: &str) -> Result<Request, Response> {
    if is_cross_origin(&request) {
        return Err(AppError::CsrfRejected.into_response());
    }
    let session = request
        .extensions()
        .get::<Session>()
        .cloned()
        .ok_or_else(|| AppError::CsrfRejected.into_response())?;
    let in_session = session
        .get::<String>(SESSION_KEY)
        .await
        .map_err(|e| internal(e).into_response())?;
    let expected = match in_session {
        Some(token) => token,
        // A logged-in session always has its own token; the cookie is for visitors only.
        None if session.id().is_none() => anonymous.to_string(),
        None => return Err(AppError::CsrfRejected.into_response()),
    };
    let (request, submitted) = submitted_token(state, request).await?;
    match submitted {
        Some(token) if bool::from(token.as_bytes().ct_eq(expected.as_bytes())) => Ok(request),
        _ => Err(AppError::CsrfRejected.into_response()),
    }
}

/// A browser names the page's origin on every unsafe request; it must be ours.
fn is_cross_origin(request: &Request) -> bool {
    let headers = request.headers();
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return true;
    }
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST))
    else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("");
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    origin == "null" || origin_host.as_bytes() != host.as_bytes()
}

/// Finds the token in the header, the query string, or a URL-encoded form body (which is
/// read here and handed on intact).
async fn submitted_token(
    state: &AppState,
    request: Request,
) -> Result<(Request, Option<String>), Response> {
    if let Some(token) = request.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
        let token = token.to_string();
        return Ok((request, Some(token)));
    }
    if let Some(token) = request.uri().query().and_then(|q| field_of(q.as_bytes())) {
        return Ok((request, Some(token)));
    }
    if !super::form::is_urlencoded_form(request.headers()) {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, state.config.body_limit)
        .await
        .map_err(|_| axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
    let token = field_of(&bytes);
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

fn field_of(encoded: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded)
        .ok()?
        .into_iter()
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value)
}

fn internal(error: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("session store: {error}"))
}
