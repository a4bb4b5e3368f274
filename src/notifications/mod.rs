//! `/notifications`: what the sweeper and others told the user; mark as read.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::db;
use crate::db::notifications::Notification;
use crate::domain::notifications::{NotificationId, NotificationKind};
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

/// The notification routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list_notifications))
        .route("/notifications/read-all", post(read_all_notifications))
        .route("/notifications/{id}/read", post(read_notification))
}

/// The list.
#[derive(Template)]
#[template(path = "notifications/list.html")]
struct NotificationsPage {
    ctx: PageContext,
    notifications: Vec<Notification>,
}

impl Notification {
    /// Where the notification leads, and the link's words: the follow-up on the owner's list,
    /// the ask, or for a rep's daily escalation summary, that rep's asks with overdue
    /// follow-ups. `None` for a notice about nothing in particular.
    pub fn link(&self) -> Option<(String, &'static str)> {
        if let Some(rep) = self.about_user_id {
            return Some((
                format!("/asks?rep={rep}&overdue=1"),
                "See their overdue asks",
            ));
        }
        if self.kind == NotificationKind::IntroRequest {
            return Some(("/intro-requests".into(), "Open the request"));
        }
        match (self.own_follow_up, self.follow_up_id, self.ask_id) {
            (true, Some(id), _) => {
                Some((format!("/follow-ups#follow-up-{id}"), "Open the follow-up"))
            }
            (_, _, Some(ask)) => Some((format!("/asks/{ask}"), "Open the ask")),
            _ => None,
        }
    }
}

async fn list_notifications(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
) -> AppResult<Response> {
    let notifications = db::notifications::page(&state.pool, user.id, None, 200).await?;
    render(StatusCode::OK, &NotificationsPage { ctx, notifications })
}

async fn read_notification(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<NotificationId>,
) -> AppResult<Response> {
    if !db::notifications::mark_read(&state.pool, user.id, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect_with_flash(
        "/notifications",
        FlashKind::Success,
        "Marked as read.",
    ))
}

async fn read_all_notifications(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Response> {
    let n = db::notifications::mark_all_read(&state.pool, user.id).await?;
    Ok(redirect_with_flash(
        "/notifications",
        FlashKind::Success,
        &format!("Marked {n} as read."),
    ))
}
