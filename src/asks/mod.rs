//! Referral asks: logging them, the list, one ask's timeline, recording what happened, and
//! the close-the-loop checklist.

pub mod service;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use time::Date;

use self::service::EditForm;
use crate::db;
use crate::db::asks::{Ask, AskFilter, Cursor, Event};
use crate::db::follow_ups::FollowUp;
use crate::domain::asks::{AskId, EventInput, EventKind, Stage, format_amount};
use crate::domain::dates::parse_date;
use crate::domain::error::ServiceError;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{User, UserId};
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

const PAGE_SIZE: i64 = 50;

/// The ask routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/asks", get(list_asks))
        .route("/asks/{id}", get(show_ask).post(update_ask))
        .route("/asks/{id}/events", post(create_event))
}

/// The list's filters.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub stage: String,
    pub reached: String,
    pub overdue: String,
    pub from: String,
    pub to: String,
    pub rep: String,
    pub after_date: String,
    pub after_id: String,
}

impl ListQuery {
    pub fn filter(&self) -> AskFilter {
        AskFilter {
            stage: Stage::parse(&self.stage),
            reached: Stage::parse(&self.reached),
            overdue: !self.overdue.is_empty(),
            from: parse_date(&self.from).ok(),
            to: parse_date(&self.to).ok(),
            rep: self.rep.trim().parse().ok().map(UserId),
            source: None,
        }
    }

    fn cursor(&self) -> Option<Cursor> {
        Some(Cursor {
            asked_on: parse_date(&self.after_date).ok()?,
            id: AskId(self.after_id.trim().parse().ok()?),
        })
    }

    /// The filters as a query string, without the page position.
    pub fn filters_query(&self) -> String {
        let pairs = [
            ("stage", &self.stage),
            ("reached", &self.reached),
            ("overdue", &self.overdue),
            ("from", &self.from),
            ("to", &self.to),
            ("rep", &self.rep),
        ];
        let kept: Vec<_> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        serde_urlencoded::to_string(kept).unwrap_or_default()
    }
}

/// The ask list.
#[derive(Template)]
#[template(path = "asks/list.html")]
struct AskListPage {
    ctx: PageContext,
    asks: Vec<Ask>,
    query: ListQuery,
    next_page: Option<String>,
    reps: Vec<(UserId, String)>,
}

async fn list_asks(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    mut ctx: PageContext,
    Query(query): Query<ListQuery>,
) -> AppResult<Response> {
    let mut asks = db::asks::list(
        ctx.read_pool(&state).await,
        user.id,
        &query.filter(),
        query.cursor(),
        PAGE_SIZE + 1,
    )
    .await?;
    let next_page = (asks.len() as i64 > PAGE_SIZE).then(|| {
        asks.truncate(PAGE_SIZE as usize);
        let last = asks.last().expect("a full page");
        let position = format!("after_date={}&after_id={}", last.asked_on, last.ask_id);
        match query.filters_query().as_str() {
            "" => format!("/asks?{position}"),
            f => format!("/asks?{f}&{position}"),
        }
    });
    let reps = db::users::filter_choices(&state.pool, &user).await?;
    render(
        StatusCode::OK,
        &AskListPage {
            ctx,
            asks,
            query,
            next_page,
            reps,
        },
    )
}

/// One ask: its timeline, what it owes, and the forms to move it along.
#[derive(Template)]
#[template(path = "asks/show.html")]
struct AskPage {
    ctx: PageContext,
    ask: Ask,
    events: Vec<Event>,
    follow_ups: Vec<FollowUp>,
    checklist: Checklist,
    is_owner: bool,
    today: Date,
    event_form: EventInput,
    errors: FieldErrors,
    edit: EditForm,
}

impl AskPage {
    /// The page's own path, where its one-click actions come back to.
    fn path(&self) -> String {
        format!("/asks/{}", self.ask.ask_id)
    }

    /// The stage bar: where the ask is along the flow.
    fn steps(&self) -> Vec<(Stage, crate::domain::asks::Step)> {
        crate::domain::asks::stage_steps(self.ask.stage)
    }

    /// The stage moves allowed from here, each a button (a win asks for its amount).
    fn moves(&self) -> Vec<EventKind> {
        crate::domain::asks::allowed_events(self.ask.stage)
            .into_iter()
            .filter(|kind| kind.stage().is_some())
            .collect()
    }

    /// What the event form offers: only what may be recorded now.
    fn choices(&self) -> Vec<EventKind> {
        crate::domain::asks::allowed_events(self.ask.stage)
    }

    /// The first open follow-up listed after position `index`: where marking one done
    /// comes back to without JavaScript.
    fn open_after(&self, index: usize) -> Option<&FollowUp> {
        self.follow_ups
            .iter()
            .skip(index)
            .find(|f| f.done_at.is_none())
    }
}

/// Closing the loop with the person who made the introduction.
pub struct Checklist {
    /// Relevant once the source has introduced someone.
    pub applies: bool,
    pub thanked: bool,
    pub updated: bool,
    /// Relevant once the ask ended in a win or a loss.
    pub outcome_due: bool,
    pub outcome_reported: bool,
}

impl Checklist {
    fn of(ask: &Ask, events: &[Event]) -> Self {
        let has = |kind: EventKind| events.iter().any(|e| e.kind == kind);
        let closed_on = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Won | EventKind::Lost))
            .map(|e| e.occurred_on)
            .max();
        Self {
            applies: ask.stage.reached_introduction(),
            thanked: has(EventKind::SourceThanked),
            updated: has(EventKind::SourceUpdated),
            outcome_due: closed_on.is_some(),
            outcome_reported: closed_on.is_some_and(|closed| {
                events
                    .iter()
                    .any(|e| e.kind == EventKind::SourceUpdated && e.occurred_on >= closed)
            }),
        }
    }
}

/// The forms on an ask's page as they are shown: blank, or sent back with errors.
#[derive(Default)]
struct Forms {
    event: EventInput,
    edit: Option<EditForm>,
    errors: FieldErrors,
}

async fn ask_page(
    state: &AppState,
    ctx: PageContext,
    user: &User,
    ask: Ask,
    forms: Forms,
    status: StatusCode,
) -> AppResult<Response> {
    let Forms {
        event: mut event_form,
        edit,
        errors,
    } = forms;
    let events = db::asks::events_of(&state.pool, ask.ask_id).await?;
    let follow_ups = db::follow_ups::of_ask(&state.pool, ask.ask_id).await?;
    let checklist = Checklist::of(&ask, &events);
    let today = db::users::today_in(&state.pool, &user.time_zone).await?;
    let edit = edit.unwrap_or_else(|| EditForm {
        reason: ask.reason.clone(),
        channel: ask.channel.as_str().to_string(),
        asked_on: ask.asked_on.to_string(),
    });
    if event_form.kind.is_empty() {
        event_form.kind = next_step(ask.stage).as_str().to_string();
    }
    if event_form.occurred_on.is_empty() {
        event_form.occurred_on = today.to_string();
    }
    let is_owner = ask.rep_id == user.id;
    let page = AskPage {
        ctx,
        ask,
        events,
        follow_ups,
        checklist,
        is_owner,
        today,
        event_form,
        errors,
        edit,
    };
    render(status, &page)
}

/// What most likely happens next, preselected in the event form.
fn next_step(stage: Stage) -> EventKind {
    match stage {
        Stage::Asked | Stage::PromisedIntro => EventKind::Introduced,
        Stage::Introduced => EventKind::MeetingScheduled,
        Stage::MeetingScheduled => EventKind::MeetingHeld,
        Stage::MeetingHeld => EventKind::Won,
        _ => EventKind::SourceThanked,
    }
}

async fn visible_ask(state: &AppState, user: &User, id: AskId) -> AppResult<Ask> {
    db::asks::find_visible(&state.pool, user.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn show_ask(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<AskId>,
) -> AppResult<Response> {
    let ask = visible_ask(&state, &user, id).await?;
    ask_page(&state, ctx, &user, ask, Forms::default(), StatusCode::OK).await
}

async fn create_event(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<AskId>,
    Form(form): Form<EventInput>,
) -> AppResult<Response> {
    let ask = visible_ask(&state, &user, id).await?;
    let today = db::users::today_in(&state.pool, &user.time_zone).await?;
    match service::record_event(&state.pool, &user, ask.ask_id, &form, today).await {
        Ok(kind) => Ok(redirect_with_flash(
            &format!("/asks/{id}"),
            FlashKind::Success,
            &format!("Recorded: {}.", kind.label()),
        )),
        Err(ServiceError::Invalid(errors)) => {
            ask_page(
                &state,
                ctx,
                &user,
                ask,
                Forms {
                    event: form,
                    errors,
                    ..Default::default()
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn update_ask(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<AskId>,
    Form(form): Form<EditForm>,
) -> AppResult<Response> {
    let ask = visible_ask(&state, &user, id).await?;
    match service::update_details(&state.pool, &user, &ask, &form).await {
        Ok(()) => {}
        Err(ServiceError::Invalid(errors)) => {
            let forms = Forms {
                edit: Some(form),
                errors,
                ..Default::default()
            };
            return ask_page(
                &state,
                ctx,
                &user,
                ask,
                forms,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(redirect_with_flash(
        &format!("/asks/{id}"),
        FlashKind::Success,
        "Saved.",
    ))
}

/// Template helpers.
impl Ask {
    /// The won amount, formatted.
    pub fn amount_label(&self) -> Option<String> {
        self.amount_won_cents.map(format_amount)
    }
}

impl Event {
    /// The amount, formatted.
    pub fn amount_label(&self) -> Option<String> {
        self.amount_cents.map(format_amount)
    }
}
