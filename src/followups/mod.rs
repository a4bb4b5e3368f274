//! `/follow-ups`: everything a rep owes, by due date; done and postpone in one click.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use time::{Date, Duration};

use crate::db;
use crate::db::follow_ups::{FollowUp, OpenCounts, Status};
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

/// How many open follow-ups the follow-ups page lists at a time.
pub const PAGE_SIZE: i64 = 100;

/// How many open follow-ups My week lists: the soonest due; the follow-ups page has the rest.
pub const WEEK_SIZE: i64 = 30;

/// Open follow-ups sorted by when they are due, in the owner's time zone: one page of them,
/// with every group's full count and where the next page starts.
#[derive(Debug, Default)]
pub struct Groups {
    pub overdue: Vec<FollowUp>,
    pub today: Vec<FollowUp>,
    pub this_week: Vec<FollowUp>,
    pub later: Vec<FollowUp>,
    /// How many are open in each group, listed here or not.
    pub counts: OpenCounts,
    /// How many this page lists.
    pub listed: usize,
    /// The query string of the next page, when there are more.
    pub next_page: Option<String>,
}

impl Groups {
    /// Sorts follow-ups around `today`.
    pub fn of(follow_ups: Vec<FollowUp>, today: Date) -> Self {
        let mut groups = Self {
            listed: follow_ups.len(),
            ..Self::default()
        };
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
        self.counts.total() == 0
    }

    /// How many are open and due by the end of the week (overdue ones included).
    pub fn due_this_week(&self) -> i64 {
        self.counts.overdue + self.counts.today + self.counts.this_week
    }

    /// How many of those this page does not list.
    pub fn unlisted_this_week(&self) -> i64 {
        let listed = self.overdue.len() + self.today.len() + self.this_week.len();
        self.due_this_week() - listed as i64
    }
}

/// Where a page of open follow-ups starts, as it appears in the query string: after the
/// follow-up due on `after_due` with id `after_id`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    pub after_due: String,
    pub after_id: String,
}

impl PageQuery {
    /// The position, or the first page when either half is missing or malformed.
    fn position(&self) -> Option<(Date, FollowUpId)> {
        let due = crate::domain::dates::parse_date(self.after_due.trim()).ok()?;
        let id = self.after_id.trim().parse().ok()?;
        Some((due, FollowUpId(id)))
    }
}

/// One page of the owner's open follow-ups, soonest due first, grouped, and their "today".
/// The list reads through the owner's open-follow-up index from `after`, so every page costs
/// the same however many are open.
pub async fn groups_for(
    state: &AppState,
    user: &User,
    after: Option<(Date, FollowUpId)>,
    limit: i64,
) -> AppResult<(Groups, Date)> {
    let today = db::users::today_in(&state.pool, &user.time_zone).await?;
    let mut open =
        db::follow_ups::page_for(&state.pool, user.id, Status::Open, after, limit + 1).await?;
    let more = open.len() as i64 > limit;
    open.truncate(limit as usize);
    let next_page = more.then(|| open.last()).flatten().map(|last| {
        serde_urlencoded::to_string([
            ("after_due", last.due_on.to_string()),
            ("after_id", last.follow_up_id.to_string()),
        ])
        .unwrap_or_default()
    });
    let counts = db::follow_ups::open_counts(&state.pool, user.id, today).await?;
    let mut groups = Groups::of(open, today);
    groups.counts = counts;
    groups.next_page = next_page;
    Ok((groups, today))
}

/// The follow-ups page.
#[derive(Template)]
#[template(path = "followups/list.html")]
struct FollowUpsPage {
    ctx: PageContext,
    groups: Groups,
    /// Whether this is a later page of the open list.
    later_page: bool,
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
    Query(query): Query<PageQuery>,
) -> AppResult<Response> {
    page(
        &state,
        ctx,
        &user,
        query.position(),
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
    after: Option<(Date, FollowUpId)>,
    form: NewForm,
    errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let (groups, today) = groups_for(state, user, after, PAGE_SIZE).await?;
    let done = db::follow_ups::recently_done(&state.pool, user.id, 10).await?;
    render(
        status,
        &FollowUpsPage {
            ctx,
            groups,
            later_page: after.is_some(),
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
                None,
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
            None,
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
                    None,
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
