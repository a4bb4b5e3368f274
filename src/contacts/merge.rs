//! Possible duplicates and merging them: two contacts for one person (one typed in the quick
//! log, one imported later) split that person's asks, relationships and history; merging puts
//! it back together in one transaction.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::service;
use crate::db;
use crate::db::contacts::PossibleDuplicate;
use crate::domain::contacts::ContactId;
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

/// Pairs listed at most.
const LISTED: i64 = 100;

/// The duplicate routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contacts/duplicates", get(list_duplicates))
        .route("/contacts/{id}/merge", post(merge_contact))
}

/// The possible duplicates page.
#[derive(Template)]
#[template(path = "contacts/duplicates.html")]
struct DuplicatesPage {
    ctx: PageContext,
    pairs: Vec<PossibleDuplicate>,
    sees_team: bool,
}

async fn list_duplicates(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
) -> AppResult<Response> {
    let pairs = db::contacts::possible_duplicates(&state.pool, user.id, LISTED).await?;
    let sees_team = user.role.sees_others();
    render(
        StatusCode::OK,
        &DuplicatesPage {
            ctx,
            pairs,
            sees_team,
        },
    )
}

/// The contact merged into the one in the path.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MergeForm {
    other_id: String,
}

async fn merge_contact(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<ContactId>,
    Form(form): Form<MergeForm>,
) -> AppResult<Response> {
    let other = form
        .other_id
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::NotFound)?;
    let (kept, merged) = service::merge(&state.pool, &user, id, ContactId(other)).await?;
    Ok(redirect_with_flash(
        &format!("/contacts/{id}"),
        FlashKind::Success,
        &format!(
            "Merged {merged} into {kept}: their asks, follow-ups and relationships are here now."
        ),
    ))
}
