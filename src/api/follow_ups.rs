//! `/api/v1/follow-ups`: what the user owes, through the follow-ups service.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::{ApiResult, Created, Page, PageParams, bad_cursor, idempotent_create, to_body};
use crate::db;
use crate::db::follow_ups::{FollowUp, Status};
use crate::domain::asks::AskId;
use crate::domain::contacts::ContactId;
use crate::domain::dates::parse_date;
use crate::domain::error::ServiceError;
use crate::domain::followups::{FollowUpId, FollowUpKind};
use crate::followups::service::{self, HandInput};
use crate::state::AppState;
use crate::web::auth::{ApiUser, ApiWriter};

/// A follow-up as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FollowUpOut {
    pub id: FollowUpId,
    pub kind: FollowUpKind,
    pub title: String,
    pub ask_id: Option<AskId>,
    pub contact_id: Option<ContactId>,
    pub contact_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_on: String,
    pub done: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub done_at: Option<time::OffsetDateTime>,
    /// Past due as of the latest sweep.
    pub overdue: bool,
}

impl From<FollowUp> for FollowUpOut {
    fn from(f: FollowUp) -> Self {
        Self {
            id: f.follow_up_id,
            kind: f.kind,
            title: f.title,
            ask_id: f.ask_id,
            contact_id: f.contact_id,
            contact_name: f.contact_name,
            due_on: f.due_on.to_string(),
            done: f.done_at.is_some(),
            done_at: f.done_at,
            overdue: f.overdue_since.is_some() && f.done_at.is_none(),
        }
    }
}

/// Which follow-ups to list.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// `open` (the default), `overdue` or `done`.
    pub status: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Position {
    due_on: String,
    id: FollowUpId,
}

/// The user's own follow-ups of one status, by due date.
#[utoipa::path(
    get,
    path = "/api/v1/follow-ups",
    operation_id = "follow_ups_list",
    tag = "follow-ups",
    params(("status" = Option<String>, Query, description = "`open` (the default), `overdue` or `done`"), ("limit" = Option<String>, Query, description = "Items per page, 1 to 200 (50 by default)"), ("cursor" = Option<String>, Query, description = "Where the page starts: a `next_cursor` from the page before")),
    responses((status = 200, description = "A page of follow-ups by due date", body = Page<FollowUpOut>), crate::api::openapi::Problems)
)]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(query): Query<ListQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<FollowUpOut>>> {
    let status = match query.status.trim() {
        "" => Status::Open,
        text => Status::parse(text)
            .ok_or_else(|| ServiceError::field("status", "Choose open, overdue or done."))?,
    };
    let (limit, position) = page.parse::<Position>()?;
    let after = match position {
        None => None,
        Some(p) => Some((parse_date(&p.due_on).map_err(|_| bad_cursor())?, p.id)),
    };
    let rows = db::follow_ups::page_for(&state.pool, user.id, status, after, limit + 1).await?;
    Ok(Json(Page::of(
        rows,
        limit,
        |f| Position {
            due_on: f.due_on.to_string(),
            id: f.follow_up_id,
        },
        FollowUpOut::from,
    )))
}

/// A follow-up made by hand: what is owed and by when, optionally tied to one of the user's
/// asks or contacts.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewFollowUp {
    pub title: String,
    /// `YYYY-MM-DD`, today or later.
    pub due_on: String,
    /// `promise` (the default) or `other`.
    pub kind: Option<String>,
    pub ask_id: Option<AskId>,
    pub contact_id: Option<ContactId>,
}

async fn own(
    state: &AppState,
    user: &crate::domain::users::User,
    id: FollowUpId,
) -> ApiResult<FollowUpOut> {
    Ok(db::follow_ups::find_own(&state.pool, user.id, id)
        .await?
        .ok_or(ServiceError::NotFound)?
        .into())
}

/// Adds a follow-up the user owes (201).
#[utoipa::path(
    post,
    path = "/api/v1/follow-ups",
    operation_id = "follow_ups_create",
    tag = "follow-ups",
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeating a create with the same key returns the first result")),
    request_body = NewFollowUp,
    responses((status = 201, description = "The follow-up", body = FollowUpOut), crate::api::openapi::Problems)
)]
pub async fn create(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    headers: HeaderMap,
    Json(input): Json<NewFollowUp>,
) -> ApiResult<Response> {
    let create = async {
        let ask_id = input.ask_id.map(|a| a.to_string()).unwrap_or_default();
        let contact_id = input.contact_id.map(|c| c.to_string()).unwrap_or_default();
        let hand = HandInput {
            title: &input.title,
            due_on: &input.due_on,
            kind: input.kind.as_deref().unwrap_or(""),
            ask_id: &ask_id,
            contact_id: &contact_id,
        };
        let id = service::create_by_hand(&state.pool, &user, &hand).await?;
        let follow_up = own(&state, &user, id).await?;
        Ok(Created {
            location: format!("/api/v1/follow-ups/{id}"),
            body: to_body(&follow_up)?,
        })
    };
    idempotent_create(
        &state,
        &user,
        &headers,
        "POST /api/v1/follow-ups",
        &input,
        create,
    )
    .await
}

/// Marks one of the user's follow-ups done (again is fine).
#[utoipa::path(
    post,
    path = "/api/v1/follow-ups/{id}/done",
    operation_id = "follow_ups_done",
    tag = "follow-ups",
    params(("id" = i64, Path, description = "The follow-up's id")),
    responses((status = 200, description = "The follow-up, done", body = FollowUpOut), crate::api::openapi::Problems)
)]
pub async fn done(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<FollowUpId>,
) -> ApiResult<Json<FollowUpOut>> {
    service::mark_done(&state.pool, &user, id).await?;
    Ok(Json(own(&state, &user, id).await?))
}

/// How far to postpone: `by` a `day` or a `week`, or `to` a date.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PostponeBy {
    pub by: Option<String>,
    /// `YYYY-MM-DD`, today or later.
    pub to: Option<String>,
}

/// Postpones one of the user's open follow-ups; one already done answers 409.
#[utoipa::path(
    post,
    path = "/api/v1/follow-ups/{id}/postpone",
    operation_id = "follow_ups_postpone",
    tag = "follow-ups",
    params(("id" = i64, Path, description = "The follow-up's id")),
    request_body = PostponeBy,
    responses((status = 200, description = "The follow-up, moved", body = FollowUpOut), crate::api::openapi::Problems)
)]
pub async fn postpone(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<FollowUpId>,
    Json(input): Json<PostponeBy>,
) -> ApiResult<Json<FollowUpOut>> {
    let to = input.to.unwrap_or_default();
    service::postpone_by(
        &state.pool,
        &user,
        id,
        input.by.as_deref().unwrap_or(""),
        &to,
    )
    .await?;
    Ok(Json(own(&state, &user, id).await?))
}
