//! `/follow-ups`: everything a rep owes, by due date; done and postpone in one click.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use time::{Date, Duration};

use crate::db;
use crate::db::follow_ups::FollowUp;
use crate::domain::error::ServiceError;
use crate::domain::fields::FieldErrors;
use crate::domain::followups::FollowUpId;
use crate::domain::users::User;
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::{
    AppError, AppResult, Flash, FlashKind, PageContext, local_path, redirect_with_flash, render,
};

pub mod service;

/// The follow-up routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/follow-ups", get(list_follow_ups).post(create_follow_up))
        .route("/follow-ups/done", post(complete_selected))
        .route("/follow-ups/{id}/done", post(complete_follow_up))
        .route("/follow-ups/{id}/postpone", post(postpone_follow_up))
}

/// Open follow-ups sorted by when they are due, in the owner's time zone.
#[derive(Debug, Default)]
pub struct Groups {
    pub overdue: Vec<FollowUp>,
    pub today: Vec<FollowUp>,
    pub this_week: Vec<FollowUp>,
    pub later: Vec<FollowUp>,
}

impl Groups {
    /// Sorts follow-ups around `today`.
    pub fn of(follow_ups: Vec<FollowUp>, today: Date) -> Self {
        let mut groups = Self::default();
        for f in follow_ups {
            let group = match f.due_on {
                d if d < today => &mut groups.overdue,
                d if d == today => &mut groups.today,
                d if d <= today + Duration::days(6) => &mut groups.this_week,
                _ => &mut groups.later,
            };
            group.push(f);
        }
        groups
    }

    /// Whether nothing is open.
    pub fn is_empty(&self) -> bool {
        self.overdue.is_empty()
            && self.today.is_empty()
            && self.this_week.is_empty()
            && self.later.is_empty()
    }
}

/// The owner's open follow-ups, grouped, and their "today".
pub async fn groups_for(state: &AppState, user: &User) -> AppResult<(Groups, Date)> {
    let today = db::users::today_in(&state.pool, &user.time_zone).await?;
    let open = db::follow_ups::open_for(&state.pool, user.id).await?;
    Ok((Groups::of(open, today), today))
}

/// The follow-ups page.
#[derive(Template)]
#[template(path = "followups/list.html")]
struct FollowUpsPage {
    ctx: PageContext,
    groups: Groups,
    done: Vec<FollowUp>,
    today: Date,
    form: NewForm,
    errors: FieldErrors,
}

/// A follow-up or promise made by hand.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewForm {
    pub title: String,
    pub due_on: String,
    pub kind: String,
    pub ask_id: String,
    pub contact_id: String,
    pub return_to: String,
}

async fn list_follow_ups(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
) -> AppResult<Response> {
    page(
        &state,
        ctx,
        &user,
        NewForm::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn page(
    state: &AppState,
    ctx: PageContext,
    user: &User,
    form: NewForm,
    errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let (groups, today) = groups_for(state, user).await?;
    let done = db::follow_ups::recently_done(&state.pool, user.id, 10).await?;
    render(
        status,
        &FollowUpsPage {
            ctx,
            groups,
            done,
            today,
            form,
            errors,
        },
    )
}

/// Creates a follow-up by hand: a promise ("send the case study by Friday") or anything else
/// the rep owes, optionally tied to one of their asks or contacts. A refused form comes back
/// on this page with its messages, wherever it was sent from.
async fn create_follow_up(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Form(form): Form<NewForm>,
) -> AppResult<Response> {
    let input = service::HandInput {
        title: &form.title,
        due_on: &form.due_on,
        kind: &form.kind,
        ask_id: &form.ask_id,
        contact_id: &form.contact_id,
    };
    match service::create_by_hand(&state.pool, &user, &input).await {
        Ok(_) => Ok(redirect_with_flash(
            local_path(&form.return_to, "/follow-ups"),
            FlashKind::Success,
            "Added to what you owe.",
        )),
        Err(ServiceError::Invalid(errors)) => {
            page(
                &state,
                ctx,
                &user,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Where a one-click action returns to.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActionForm {
    return_to: String,
    /// `day`, `week`, or empty with `to`.
    by: String,
    to: String,
}

async fn complete_follow_up(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<FollowUpId>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let follow_up = service::mark_done(&state.pool, &user, id).await?;
    Ok(redirect_with_flash(
        local_path(&form.return_to, "/follow-ups"),
        FlashKind::Success,
        &format!("Done: {}.", follow_up.title),
    ))
}

/// The most follow-ups marked done in one go.
const MAX_SELECTED: usize = 500;

/// Marks the ticked follow-ups done, all of them or, when one is not the rep's own, none.
async fn complete_selected(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let mut ids = Vec::new();
    for (name, value) in &pairs {
        if name == "id" {
            ids.push(FollowUpId(
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| AppError::NotFound)?,
            ));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > MAX_SELECTED {
        let mut errors = FieldErrors::default();
        errors.add(
            "selected",
            if ids.is_empty() {
                "Tick the follow-ups you have done first.".to_string()
            } else {
                format!("Mark at most {MAX_SELECTED} done at a time.")
            },
        );
        return page(
            &state,
            ctx,
            &user,
            NewForm::default(),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if !service::complete_all(&state.pool, user.id, &ids).await? {
        return Err(AppError::NotFound);
    }
    let message = match ids.len() {
        1 => "Done: 1 follow-up.".to_string(),
        n => format!("Done: {n} follow-ups."),
    };
    Ok(redirect_with_flash(
        "/follow-ups",
        FlashKind::Success,
        &message,
    ))
}

/// Postpones by a day, a week or to a date. A refused date comes back as this page with the
/// reason, and nothing changes.
async fn postpone_follow_up(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    mut ctx: PageContext,
    Path(id): Path<FollowUpId>,
    Form(form): Form<ActionForm>,
) -> AppResult<Response> {
    let back = local_path(&form.return_to, "/follow-ups");
    let (follow_up, due_on) =
        match service::postpone_by(&state.pool, &user, id, &form.by, &form.to).await {
            Ok(moved) => moved,
            Err(ServiceError::Invalid(errors)) => {
                let title = db::follow_ups::find_own(&state.pool, user.id, id)
                    .await?
                    .map(|f| f.title)
                    .unwrap_or_default();
                ctx.flash = Some(Flash {
                    kind: FlashKind::Error,
                    message: format!(
                        "“{title}” was not moved: {}",
                        errors.get("to").unwrap_or("")
                    ),
                });
                return page(
                    &state,
                    ctx,
                    &user,
                    NewForm::default(),
                    FieldErrors::default(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            Err(ServiceError::Conflict(message)) => {
                return Ok(redirect_with_flash(back, FlashKind::Info, &message));
            }
            Err(e) => return Err(e.into()),
        };
    Ok(redirect_with_flash(
        back,
        FlashKind::Success,
        &format!("Moved to {due_on}: {}.", follow_up.title),
    ))
}
