//! `/api/v1/notifications`: what the sweeper and others told the user.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use super::{ApiResult, Page};
use crate::db;
use crate::db::notifications::Notification;
use crate::domain::asks::AskId;
use crate::domain::error::ServiceError;
use crate::domain::followups::FollowUpId;
use crate::domain::notifications::{NotificationId, NotificationKind};
use crate::state::AppState;
use crate::web::auth::{ApiUser, ApiWriter};

/// The most notifications the list returns: the same as the page's.
const LIMIT: i64 = 200;

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
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    operation_id = "notifications_list",
    tag = "notifications",
    responses((status = 200, description = "The latest notifications, unread first", body = Page<NotificationOut>), crate::api::openapi::Problems)
)]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<Page<NotificationOut>>> {
    let rows = db::notifications::list(&state.pool, user.id, LIMIT).await?;
    Ok(Json(Page {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }))
}

/// Marks one of the user's notifications read (again is fine).
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
