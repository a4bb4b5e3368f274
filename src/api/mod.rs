//! The JSON API under `/api/v1`, for scripts and integrations: bearer-token authentication,
//! `application/problem+json` errors.

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::accounts::model::{Role, UserId};
use crate::state::AppState;
use crate::web::auth::ApiUser;

/// The API routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(show_me)).layer(
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
