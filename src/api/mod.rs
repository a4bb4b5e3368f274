//! The JSON API under `/api/v1`, for scripts and integrations: bearer-token authentication,
//! `application/problem+json` errors.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db;
use crate::db::webhooks::Endpoint;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{Role, User, UserId};
use crate::domain::webhooks::EndpointId;
use crate::state::AppState;
use crate::web::auth::ApiUser;
use crate::web::{AppError, AppResult};
use crate::webhooks::{self, NewEndpoint};

/// The API routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(show_me))
        .route("/api/v1/webhooks", get(list_webhooks).post(create_webhook))
        .route("/api/v1/webhooks/{id}", delete(delete_webhook))
        .layer(
            tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            ),
        )
}

/// The token's user.
#[derive(Debug, Serialize)]
struct Me {
    id: UserId,
    email: String,
    name: String,
    role: Role,
    time_zone: String,
}

/// Who the token belongs to: the simplest check that a token works.
async fn show_me(ApiUser(user): ApiUser) -> Json<Me> {
    Json(Me {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        time_zone: user.time_zone,
    })
}

/// A 422 problem whose `errors` list says what is wrong with each field.
fn validation_problem(errors: &FieldErrors) -> Response {
    let list: Vec<_> = errors
        .iter()
        .map(|(field, message)| json!({ "field": field, "message": message }))
        .collect();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json!({
            "type": "about:blank",
            "title": "Unprocessable Entity",
            "status": 422,
            "detail": "Some fields are not valid; see errors.",
            "errors": list,
        })
        .to_string(),
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
#[derive(Debug, Serialize)]
struct EndpointList {
    items: Vec<Endpoint>,
}

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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewWebhook {
    url: String,
    #[serde(default)]
    description: String,
    event_types: Option<Vec<String>>,
}

/// The new endpoint, with its signing secret: the only time the secret is shown.
#[derive(Debug, Serialize)]
struct CreatedWebhook {
    #[serde(flatten)]
    endpoint: Endpoint,
    secret: String,
}

async fn create_webhook(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Json(input): Json<NewWebhook>,
) -> AppResult<Response> {
    admin_only(&user)?;
    let new = match NewEndpoint::parse(&input.url, &input.description, input.event_types.as_deref())
    {
        Ok(new) => new,
        Err(errors) => return Ok(validation_problem(&errors)),
    };
    let created = webhooks::create(&state.pool, &user, &new).await?;
    let endpoint = db::webhooks::find(&state.pool, created.endpoint_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let location = format!("/api/v1/webhooks/{}", created.endpoint_id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(CreatedWebhook {
            endpoint,
            secret: created.secret,
        }),
    )
        .into_response())
}

async fn delete_webhook(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<EndpointId>,
) -> AppResult<StatusCode> {
    admin_only(&user)?;
    webhooks::change(&state.pool, &user, id, webhooks::Change::Delete).await?;
    Ok(StatusCode::NO_CONTENT)
}
