//! The JSON API under `/api/v1`, for scripts and integrations: bearer-token authentication
//! (tokens that only read, or read and write), the same services, rules and messages as the
//! pages, `application/problem+json` errors with a field-by-field list on 422, cursor
//! pagination, and `Idempotency-Key` on creates.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db;
use crate::db::webhooks::Endpoint;
use crate::domain::error::ServiceError;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{Role, User, UserId};
use crate::domain::webhooks::EndpointId;
use crate::state::AppState;
use crate::web::auth::{ApiUser, ApiWriter};
use crate::web::{AppError, AppResult};
use crate::webhooks::{self, NewEndpoint};

mod asks;
mod contacts;
mod dashboard;
mod follow_ups;
mod notifications;
mod openapi;
mod paths;

/// The API routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi::openapi_json))
        .route("/api/docs", get(openapi::docs_page))
        .route("/api/v1/me", get(show_me).patch(update_me))
        .route("/api/v1/asks", get(asks::list).post(asks::create))
        .route("/api/v1/asks/{id}", get(asks::show).patch(asks::update))
        .route("/api/v1/asks/{id}/events", post(asks::add_event))
        .route(
            "/api/v1/contacts",
            get(contacts::list).post(contacts::create),
        )
        .route(
            "/api/v1/contacts/{id}",
            get(contacts::show).patch(contacts::update),
        )
        .route("/api/v1/contacts/{id}/archive", post(contacts::archive))
        .route("/api/v1/contacts/{id}/restore", post(contacts::restore))
        .route(
            "/api/v1/contacts/{id}/relationships",
            get(contacts::relationships).post(contacts::link),
        )
        .route(
            "/api/v1/contacts/{id}/relationships/{relationship_id}",
            delete(contacts::unlink),
        )
        .route("/api/v1/contacts/{id}/merge", post(contacts::merge))
        .route("/api/v1/contacts/duplicates", get(contacts::duplicates))
        .route(
            "/api/v1/contacts/{id}/introducers",
            get(contacts::introducers),
        )
        .route(
            "/api/v1/follow-ups",
            get(follow_ups::list).post(follow_ups::create),
        )
        .route("/api/v1/follow-ups/{id}/done", post(follow_ups::done))
        .route(
            "/api/v1/follow-ups/{id}/postpone",
            post(follow_ups::postpone),
        )
        .route("/api/v1/dashboard", get(dashboard::show))
        .route("/api/v1/paths", get(paths::search))
        .route("/api/v1/intro-requests", post(paths::create_request))
        .route("/api/v1/intro-requests/{id}", get(paths::show_request))
        .route(
            "/api/v1/reps/{id}/coaching-notes",
            get(dashboard::coaching_notes).post(dashboard::add_coaching_note),
        )
        .route(
            "/api/v1/reps/{id}/goal",
            axum::routing::put(dashboard::set_goal),
        )
        .route("/api/v1/notifications", get(notifications::list))
        .route("/api/v1/notifications/read", post(notifications::read_all))
        .route("/api/v1/notifications/{id}/read", post(notifications::read))
        .route("/api/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/api/v1/webhooks/{id}", delete(delete_webhook))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            ),
        )
}

/// Why an API call failed: a service's refusal (422 with the field list for invalid input),
/// or any other error, answered as problem+json.
#[derive(Debug)]
pub enum ApiError {
    Service(ServiceError),
    App(AppError),
    /// A response made already, such as a 422 with extra members.
    Response(Box<Response>),
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        Self::Service(error)
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::App(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::Service(ServiceError::Invalid(errors)) => {
                validation_problem_with(&errors, serde_json::Map::new())
            }
            Self::Service(error) => AppError::from(error).into_response(),
            Self::App(error) => error.into_response(),
            Self::Response(response) => *response,
        }
    }
}

/// The result of an API handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// How many items a list page holds unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

/// Where a list starts and how much of it to send: every list takes these.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageParams {
    pub limit: String,
    pub cursor: String,
}

impl PageParams {
    /// The page size and the decoded cursor (of the list's own position type), or a 422
    /// naming the parameter.
    fn parse<C: DeserializeOwned>(&self) -> ApiResult<(i64, Option<C>)> {
        let mut errors = FieldErrors::default();
        let limit = match self.limit.trim() {
            "" => Some(DEFAULT_LIMIT),
            text => errors.check(
                "limit",
                text.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or("Ask for 1 to 200 items."),
            ),
        };
        let cursor = match self.cursor.trim() {
            "" => Some(None),
            text => errors.check(
                "cursor",
                URL_SAFE_NO_PAD
                    .decode(text)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .map(Some)
                    .ok_or(BAD_CURSOR),
            ),
        };
        match (limit, cursor) {
            (Some(limit), Some(cursor)) => Ok((limit, cursor)),
            _ => Err(ServiceError::Invalid(errors).into()),
        }
    }
}

/// What a cursor that no list gave out gets.
const BAD_CURSOR: &str = "This cursor is not one this list gave out: start without it.";

/// The 422 for a cursor whose position does not parse.
pub fn bad_cursor() -> ServiceError {
    ServiceError::field("cursor", BAD_CURSOR)
}

/// One page of a list, and where the next one starts (`null` on the last page).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page from `rows` fetched with `limit + 1`: the extra row only says there is more, and
    /// the next page starts after the last row kept.
    fn of<R, C: Serialize>(
        mut rows: Vec<R>,
        limit: i64,
        position: impl Fn(&R) -> C,
        item: impl Fn(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = rows.last().filter(|_| more).map(|last| {
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&position(last)).unwrap_or_default())
        });
        Self {
            items: rows.into_iter().map(item).collect(),
            next_cursor,
        }
    }
}

/// A created record: 201 with its address and its representation.
#[derive(Debug)]
pub struct Created {
    pub location: String,
    pub body: Value,
}

impl IntoResponse for Created {
    fn into_response(self) -> Response {
        (
            StatusCode::CREATED,
            [(header::LOCATION, self.location)],
            Json(self.body),
        )
            .into_response()
    }
}

/// An `Idempotency-Key` taken for one create: a repeat of the key answers with the first
/// result, the same key for a different request is refused, and a create that fails frees
/// the key for a retry.
pub enum Idempotency {
    /// No key was sent: the create simply runs.
    None,
    /// The key is claimed for this request.
    Claimed { user: UserId, key: String },
}

impl Idempotency {
    /// Claims the request's key (if any) for `request` (method and path) and `input`; a repeat
    /// returns the stored answer as the error arm, to be sent as it is.
    pub async fn begin(
        state: &AppState,
        user: &User,
        headers: &HeaderMap,
        request: &str,
        input: &impl Serialize,
    ) -> ApiResult<Self> {
        let Some(key) = headers.get("idempotency-key") else {
            return Ok(Self::None);
        };
        let key = key
            .to_str()
            .ok()
            .map(str::trim)
            .filter(|k| (1..=255).contains(&k.len()))
            .ok_or_else(|| {
                ServiceError::field(
                    "Idempotency-Key",
                    "Send a key of 1 to 255 visible characters, such as a UUID.",
                )
            })?
            .to_string();
        let digest = Sha256::digest(serde_json::to_vec(input).unwrap_or_default());
        let request = format!("{request} {}", URL_SAFE_NO_PAD.encode(digest));
        if db::idempotency::claim(&state.pool, user.id, &key, &request).await? {
            return Ok(Self::Claimed { user: user.id, key });
        }
        let stored = db::idempotency::find(&state.pool, user.id, &key)
            .await?
            .ok_or_else(|| {
                AppError::Conflict(
                    "The Idempotency-Key was just released: send the request again.".into(),
                )
            })?;
        if stored.request != request {
            return Err(ServiceError::field(
                "Idempotency-Key",
                "This key was used for a different request: use a new key for a new request.",
            )
            .into());
        }
        let (Some(status), Some(body)) = (stored.status, stored.body) else {
            return Err(AppError::Conflict(
                "A request with this Idempotency-Key is still being processed: retry in a moment."
                    .into(),
            )
            .into());
        };
        let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::CREATED);
        let mut response = (status, Json(body)).into_response();
        if let Some(location) = stored.location.and_then(|l| l.parse().ok()) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
        Err(ApiError::Response(Box::new(response)))
    }

    /// Keeps the create's answer under the key (or frees the key when it failed) and returns
    /// the answer.
    pub async fn finish(self, state: &AppState, result: ApiResult<Created>) -> ApiResult<Created> {
        let Self::Claimed { user, key } = self else {
            return result;
        };
        match &result {
            Ok(created) => {
                db::idempotency::complete(
                    &state.pool,
                    user,
                    &key,
                    StatusCode::CREATED.as_u16() as i16,
                    Some(&created.location),
                    &created.body,
                )
                .await?;
            }
            Err(_) => db::idempotency::release(&state.pool, user, &key).await?,
        }
        result
    }
}

/// Runs `create` once per `Idempotency-Key` (see [`Idempotency`]).
pub async fn idempotent_create<F>(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    request: &str,
    input: &impl Serialize,
    create: F,
) -> ApiResult<Response>
where
    F: Future<Output = ApiResult<Created>>,
{
    let claim = match Idempotency::begin(state, user, headers, request, input).await {
        Ok(claim) => claim,
        Err(ApiError::Response(replay)) => return Ok(*replay),
        Err(e) => return Err(e),
    };
    let result = create.await;
    Ok(claim.finish(state, result).await?.into_response())
}

/// Serialises a representation for a [`Created`] body.
fn to_body(value: &impl Serialize) -> ApiResult<Value> {
    serde_json::to_value(value).map_err(|e| AppError::Internal(e.into()).into())
}

/// The token's user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Me {
    id: UserId,
    email: String,
    name: String,
    role: Role,
    time_zone: String,
}

/// Who the token belongs to: the simplest check that a token works.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "show_me",
    tag = "me",
    responses((status = 200, description = "The token's user", body = Me), crate::api::openapi::Problems)
)]
async fn show_me(ApiUser(user): ApiUser) -> Json<Me> {
    Json(Me {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        time_zone: user.time_zone,
    })
}

/// The profile fields a user changes on the settings page; what is left out stays.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct ProfileChange {
    name: Option<String>,
    /// An IANA time zone, such as `Europe/Berlin`.
    time_zone: Option<String>,
    /// Quiet hours for e-mail (no digests from `quiet_from` to `quiet_until`), 0 to 23.
    quiet_from: Option<i16>,
    quiet_until: Option<i16>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/me",
    operation_id = "me_update",
    tag = "me",
    request_body = ProfileChange,
    responses((status = 200, description = "The token's user, as changed", body = Me), crate::api::openapi::Problems)
)]
/// Changes the token's user's own name, time zone or quiet hours, as the settings page does.
async fn update_me(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Json(change): Json<ProfileChange>,
) -> ApiResult<Json<Me>> {
    let (from, until) = db::users::quiet_hours(&state.pool, user.id).await?;
    let form = crate::accounts::service::ProfileInput {
        name: change.name.unwrap_or_else(|| user.name.clone()),
        time_zone: change.time_zone.unwrap_or_else(|| user.time_zone.clone()),
        quiet_from: change.quiet_from.unwrap_or(from).to_string(),
        quiet_until: change.quiet_until.unwrap_or(until).to_string(),
    };
    crate::accounts::service::update_profile(&state.pool, &user, &form).await?;
    let user = db::users::find(&state.pool, user.id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(Json(Me {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        time_zone: user.time_zone,
    }))
}

/// A 422 problem whose `errors` list says what is wrong with each field, with `extra`
/// members (such as the contacts to choose from).
fn validation_problem_with(
    errors: &FieldErrors,
    extra: serde_json::Map<String, Value>,
) -> Response {
    let list: Vec<_> = errors
        .iter()
        .map(|(field, message)| json!({ "field": field, "message": message }))
        .collect();
    let mut problem = json!({
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "Some fields are not valid; see errors.",
        "errors": list,
    });
    if let Some(members) = problem.as_object_mut() {
        members.extend(extra);
    }
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        [(header::CONTENT_TYPE, "application/problem+json")],
        problem.to_string(),
    )
        .into_response()
}

/// Webhooks are an admin's: anyone else is refused.
fn admin_only(user: &User) -> AppResult<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The endpoints.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct EndpointList {
    items: Vec<Endpoint>,
}

#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    operation_id = "list_webhooks",
    tag = "webhooks",
    responses((status = 200, description = "Every endpoint", body = EndpointList), crate::api::openapi::Problems)
)]
async fn list_webhooks(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> AppResult<Json<EndpointList>> {
    admin_only(&user)?;
    Ok(Json(EndpointList {
        items: db::webhooks::list(&state.pool).await?,
    }))
}

/// A new endpoint: its address, an optional description, and the events it wants (all of
/// them when left out).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    #[serde(default)]
    description: String,
    event_types: Option<Vec<String>>,
}

/// The new endpoint, with its signing secret: the only time the secret is shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CreatedWebhook {
    #[serde(flatten)]
    endpoint: Endpoint,
    secret: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    operation_id = "create_webhook",
    tag = "webhooks",
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeating a create with the same key returns the first result")),
    request_body = NewWebhook,
    responses((status = 201, description = "The endpoint, with its secret (shown this once)", body = CreatedWebhook), crate::api::openapi::Problems)
)]
async fn create_webhook(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    headers: HeaderMap,
    Json(input): Json<NewWebhook>,
) -> ApiResult<Response> {
    admin_only(&user)?;
    let create = async {
        let new = NewEndpoint::parse(&input.url, &input.description, input.event_types.as_deref())
            .map_err(ServiceError::Invalid)?;
        let created = webhooks::create(&state.pool, &user, &new).await?;
        let endpoint = db::webhooks::find(&state.pool, created.endpoint_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        Ok(Created {
            location: format!("/api/v1/webhooks/{}", created.endpoint_id),
            body: to_body(&CreatedWebhook {
                endpoint,
                secret: created.secret,
            })?,
        })
    };
    idempotent_create(
        &state,
        &user,
        &headers,
        "POST /api/v1/webhooks",
        &input,
        create,
    )
    .await
}

#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses((status = 204, description = "Deleted, with its undelivered messages"), crate::api::openapi::Problems)
)]
async fn delete_webhook(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<EndpointId>,
) -> AppResult<StatusCode> {
    admin_only(&user)?;
    webhooks::change(&state.pool, &user, id, webhooks::Change::Delete).await?;
    Ok(StatusCode::NO_CONTENT)
}
