//! The home page: a logged-in user's week.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::db;
use crate::state::AppState;
use crate::web::auth::AuthSession;
use crate::web::{AppResult, PageContext, render};

/// `/`.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(show_home))
}

/// A user's start page.
#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageContext,
    name: String,
}

/// Sends a fresh installation to setup and a visitor to the login form.
async fn show_home(
    State(state): State<AppState>,
    auth: AuthSession,
    ctx: PageContext,
) -> AppResult<Response> {
    let Some(user) = auth.user else {
        let to = if db::users::any_exist(&state.pool).await? {
            "/login"
        } else {
            "/setup"
        };
        return Ok(Redirect::to(to).into_response());
    };
    render(
        StatusCode::OK,
        &HomePage {
            ctx,
            name: user.name,
        },
    )
}
