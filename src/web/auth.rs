//! Who is asking: the session's user, role checks, API tokens, the client address, and the
//! session's absolute lifetime.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use time::OffsetDateTime;

use super::page::{NavUser, PageContext, read_flash};
use super::{AppError, csrf};
use crate::accounts::backend::Backend;
use crate::accounts::service;
use crate::db;
use crate::domain::users::{Role, TokenAccess, User};
use crate::state::AppState;

/// The login session of a request.
pub type AuthSession = axum_login::AuthSession<Backend>;

/// Session key: when the user logged in (Unix seconds), for the absolute lifetime.
pub const AUTHENTICATED_AT: &str = "authenticated_at";

/// The logged-in user. Without one, pages redirect to the login form.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

/// A logged-in manager or admin; anyone else gets 404.
#[derive(Debug, Clone)]
pub struct Manager(pub User);

/// A logged-in admin; anyone else gets 404.
#[derive(Debug, Clone)]
pub struct Admin(pub User);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        let user = parts
            .extensions
            .get::<AuthSession>()
            .and_then(|auth| auth.user.clone());
        match user {
            Some(user) => Ok(Self(user)),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Err(Redirect::to(&format!("/login?{query}")).into_response())
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Manager {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.role.sees_others() {
            Ok(Self(user))
        } else {
            Err(AppError::NotFound.into_response())
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.role == Role::Admin {
            Ok(Self(user))
        } else {
            Err(AppError::NotFound.into_response())
        }
    }
}

/// The user behind an API request's `Authorization: Bearer` token (of either access).
#[derive(Debug, Clone)]
pub struct ApiUser(pub User);

/// The user behind an API request whose token may write: a read-only token is refused with
/// 403 before anything changes.
#[derive(Debug, Clone)]
pub struct ApiWriter(pub User);

impl<S> FromRequestParts<S> for ApiUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let (user, _) = token_user(parts, &AppState::from_ref(state)).await?;
        Ok(Self(user))
    }
}

impl<S> FromRequestParts<S> for ApiWriter
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let (user, access) = token_user(parts, &AppState::from_ref(state)).await?;
        if !access.can_write() {
            return Err(problem(
                StatusCode::FORBIDDEN,
                "This token may only read. Create a token with write access to change things.",
            ));
        }
        Ok(Self(user))
    }
}

/// The active user a request's bearer token belongs to, and what the token may do.
async fn token_user(parts: &Parts, state: &AppState) -> Result<(User, TokenAccess), Response> {
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| unauthorized("Send an API token as 'Authorization: Bearer <token>'."))?;
    let (user_id, access) = db::tokens::authenticate(&state.pool, &service::hash_token(token))
        .await
        .map_err(|e| AppError::from(e).into_response())?
        .ok_or_else(|| unauthorized("The API token is unknown or has been revoked."))?;
    let user = db::users::find(&state.pool, user_id)
        .await
        .map_err(|e| AppError::from(e).into_response())?
        .filter(User::is_active)
        .ok_or_else(|| unauthorized("The API token's user is deactivated."))?;
    Ok((user, access))
}

/// A problem+json response with the status's own title.
fn problem(status: StatusCode, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = json!({ "type": "about:blank", "title": title, "status": status.as_u16(), "detail": detail });
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        )],
        body.to_string(),
    )
        .into_response()
}

fn unauthorized(detail: &str) -> Response {
    let mut response = problem(StatusCode::UNAUTHORIZED, detail);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// The client's address, for throttling: the socket's peer, or with trusted proxies in front,
/// the `X-Forwarded-For` entry the nearest of them appended for the client (see
/// `Config::proxy_hops`). Entries further left come from the client and prove nothing.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub String);

impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let forwarded = state
            .config
            .trust_proxy
            .then(|| forwarded_client(&parts.headers, state.config.proxy_hops))
            .flatten();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(Self(
            forwarded.or(peer).unwrap_or_else(|| "unknown".to_string()),
        ))
    }
}

/// The entry `hops` places from the right of all `X-Forwarded-For` headers together (a proxy
/// may add a header rather than extend one); the leftmost when there are fewer.
fn forwarded_client(headers: &axum::http::HeaderMap, hops: usize) -> Option<String> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let index = entries.len().saturating_sub(hops.max(1));
    entries
        .get(index)
        .filter(|e| !e.is_empty())
        .map(|e| e.to_string())
}

/// Logs out a session older than the absolute lifetime, whatever its activity.
pub async fn enforce_absolute_lifetime(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    if let Some(auth) = request.extensions().get::<AuthSession>().cloned()
        && auth.user.is_some()
    {
        let since: Option<i64> = auth
            .session
            .get(AUTHENTICATED_AT)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let age = OffsetDateTime::now_utc().unix_timestamp() - since.unwrap_or(0);
        if age > state.config.session_absolute_lifetime().whole_seconds() {
            let mut auth = auth;
            auth.logout()
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("logout: {e}")))?;
            request.extensions_mut().insert(auth);
        }
    }
    Ok(next.run(request).await)
}

/// Every page's context, read from the request: the user (with their unread count), the
/// CSRF token, the flash message and the path.
impl<S> FromRequestParts<S> for PageContext
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let user = parts
            .extensions
            .get::<AuthSession>()
            .and_then(|auth| auth.user.as_ref());
        let unread = match user {
            Some(u) => {
                let state = AppState::from_ref(state);
                crate::db::notifications::unread_count(&state.pool, u.id).await?
            }
            None => 0,
        };
        let user = user.map(|u| NavUser {
            name: u.name.clone(),
            role: u.role,
        });
        let csrf_token = csrf::token(parts).await?;
        Ok(Self {
            flash: read_flash(&parts.headers),
            user,
            csrf_token,
            path: parts.uri.path().to_string(),
            unread,
            replica_note: None,
        })
    }
}
