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
use serde_json::json;
use sqlx::PgPool;

use crate::db;
use crate::db::contacts::{Contact, PossibleDuplicate};
use crate::domain::contacts::ContactId;
use crate::domain::users::User;
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

/// Merges `drop` into `keep` for `viewer`: a rep merges their own contacts, a manager those of
/// one person in their subtree. Both must be active and have one owner. Returns the merged
/// contact's name and the other's.
pub async fn merge(
    pool: &PgPool,
    viewer: &User,
    keep: ContactId,
    drop: ContactId,
) -> AppResult<(String, String)> {
    let find = |id| async move {
        db::contacts::find_visible(pool, viewer.id, id)
            .await?
            .ok_or(AppError::NotFound)
    };
    let (kept, dropped): (Contact, Contact) = (find(keep).await?, find(drop).await?);
    if keep == drop {
        return Err(AppError::Unprocessable(
            "Choose two different contacts to merge.".into(),
        ));
    }
    if kept.owner_id != dropped.owner_id {
        return Err(AppError::Unprocessable(format!(
            "{} and {} are in different people's networks; only contacts of one person merge.",
            kept.name, dropped.name
        )));
    }
    if kept.archived_at.is_some() || dropped.archived_at.is_some() {
        return Err(AppError::Unprocessable(
            "Restore an archived contact before merging it.".into(),
        ));
    }
    let mut tx = pool.begin().await?;
    // Asks logged a moment ago have touched both contacts before their touches are compared.
    db::metrics::fold_rollups(&mut *tx).await?;
    let old = db::contacts::merge(&mut tx, keep, drop).await?;
    db::audit::record(
        &mut *tx,
        Some(viewer.id),
        "contact",
        drop.0,
        "merge",
        json!({ "into": keep, "old": old }),
    )
    .await?;
    db::audit::record(
        &mut *tx,
        Some(viewer.id),
        "contact",
        keep.0,
        "merge",
        json!({ "from": drop }),
    )
    .await?;
    tx.commit().await?;
    Ok((kept.name, dropped.name))
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
    Path(id): Path<i64>,
    Form(form): Form<MergeForm>,
) -> AppResult<Response> {
    let other = form
        .other_id
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::NotFound)?;
    let (kept, merged) = merge(&state.pool, &user, ContactId(id), ContactId(other)).await?;
    Ok(redirect_with_flash(
        &format!("/contacts/{id}"),
        FlashKind::Success,
        &format!(
            "Merged {merged} into {kept}: their asks, follow-ups and relationships are here now."
        ),
    ))
}
