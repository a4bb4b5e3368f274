//! `/api/v1/notifications`: what the sweeper and others told the user.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{ApiResult, Page, PageParams, bad_cursor};
use crate::db;
use crate::db::notifications::{After, Notification};
use crate::domain::asks::AskId;
use crate::domain::error::ServiceError;
use crate::domain::followups::FollowUpId;
use crate::domain::notifications::{NotificationId, NotificationKind};
use crate::state::AppState;
use crate::web::auth::{ApiUser, ApiWriter};

/// A notification as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationOut {
    pub id: NotificationId,
    pub kind: NotificationKind,
    pub body: String,
    pub follow_up_id: Option<FollowUpId>,
    pub ask_id: Option<AskId>,
    pub read: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl From<Notification> for NotificationOut {
    fn from(n: Notification) -> Self {
        Self {
            id: n.notification_id,
            kind: n.kind,
            body: n.body,
            follow_up_id: n.follow_up_id,
            ask_id: n.ask_id,
            read: n.read_at.is_some(),
            created_at: n.created_at,
        }
    }
}

/// The user's latest notifications, unread first (one page of up to 200).
/// Where a page starts.
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    read: bool,
    created_at: String,
    id: NotificationId,
}

#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    operation_id = "notifications_list",
    tag = "notifications",
    params(("limit" = Option<String>, Query, description = "Items per page, 1 to 200 (50 by default)"), ("cursor" = Option<String>, Query, description = "Where the page starts: a `next_cursor` from the page before")),
    responses((status = 200, description = "The user's notifications, unread first, newest first", body = Page<NotificationOut>), crate::api::openapi::Problems)
)]
/// The user's notifications, unread first, newest first.
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<NotificationOut>>> {
    let (limit, position) = page.parse::<Position>()?;
    let after = match position {
        None => None,
        Some(p) => Some(After {
            read: p.read,
            created_at: OffsetDateTime::parse(&p.created_at, &Rfc3339).map_err(|_| bad_cursor())?,
            id: p.id,
        }),
    };
    let rows = db::notifications::page(&state.pool, user.id, after, limit + 1).await?;
    Ok(Json(Page::of(
        rows,
        limit,
        |n| Position {
            read: n.read_at.is_some(),
            created_at: n.created_at.format(&Rfc3339).unwrap_or_default(),
            id: n.notification_id,
        },
        NotificationOut::from,
    )))
}

#[utoipa::path(
    post,
    path = "/api/v1/notifications/{id}/read",
    operation_id = "notifications_read",
    tag = "notifications",
    params(("id" = i64, Path, description = "The notification's id")),
    responses((status = 204, description = "Marked read"), crate::api::openapi::Problems)
)]
pub async fn read(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<NotificationId>,
) -> ApiResult<axum::http::StatusCode> {
    if !db::notifications::mark_read(&state.pool, user.id, id).await? {
        return Err(ServiceError::NotFound.into());
    }
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/notifications/read",
    operation_id = "notifications_read_all",
    tag = "notifications",
    responses((status = 200, description = "How many were marked read", body = ReadAll), crate::api::openapi::Problems)
)]
/// Marks all of the user's notifications read.
pub async fn read_all(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
) -> ApiResult<Json<ReadAll>> {
    let marked = db::notifications::mark_all_read(&state.pool, user.id).await?;
    Ok(Json(ReadAll { marked }))
}

/// What marking all read did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadAll {
    pub marked: u64,
}
