//! `/`, My week: the quick "log an ask" form, what the rep owes by due date, asks this week
//! against the target, and recent introductions.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use time::{Date, Duration};
use uuid::Uuid;

use crate::asks::service::{AskForm, FOLLOW_UP_AFTER_DAYS, NotLogged, Outcome};
use crate::db;
use crate::db::asks::{Ask, Introduction};
use crate::db::coaching::Note;
use crate::db::contacts::Choice;
use crate::domain::asks::AskId;
use crate::domain::asks::Channel;
use crate::domain::contacts::ContactId;
use crate::domain::users::User;
use crate::followups::{Groups, WEEK_SIZE, groups_for};
use crate::state::AppState;
use crate::web::auth::{AuthSession, CurrentUser};
use crate::web::{AppResult, PageContext, render};

/// `/` and the contact type-ahead the quick form uses.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_week))
        // The quick log's form is on this page, and comes back to it.
        .route("/asks", post(create_ask))
        .route("/contacts/suggest", get(suggest_contacts))
}

/// A rep's week.
#[derive(Template)]
#[template(path = "week/show.html")]
struct WeekPage {
    ctx: PageContext,
    user: User,
    form: AskForm,
    not_logged: NotLogged,
    suggestions: Vec<Choice>,
    groups: Groups,
    today: Date,
    asks_this_week: i64,
    introductions: Vec<Introduction>,
    coaching: Option<Note>,
    /// The ask just logged from this page, confirmed above an empty form for the next one.
    logged: Option<Ask>,
}

impl WeekPage {
    /// Progress towards the weekly target, 0 to 100.
    fn target_percent(&self) -> i64 {
        match self.user.weekly_ask_target {
            0 => 100,
            t => (self.asks_this_week * 100 / i64::from(t)).min(100),
        }
    }
}

/// `/?logged=ID`: the ask the quick form just logged; `/?via=ID&to=ID`: an introduction to
/// ask for, from a contact's "who can introduce me" (the form comes filled in).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WeekQuery {
    logged: String,
    via: String,
    to: String,
}

/// Sends a fresh installation to setup and a visitor to the login form.
async fn show_week(
    State(state): State<AppState>,
    auth: AuthSession,
    ctx: PageContext,
    Query(query): Query<WeekQuery>,
) -> AppResult<Response> {
    let Some(user) = auth.user else {
        let to = if db::users::any_exist(&state.pool).await? {
            "/login"
        } else {
            "/setup"
        };
        return Ok(Redirect::to(to).into_response());
    };
    // Only the rep's own ask is confirmed; any other id is ignored.
    let logged = match query.logged.trim().parse().map(AskId) {
        Ok(id) => db::asks::find_visible(&state.pool, user.id, id)
            .await?
            .filter(|ask| ask.rep_id == user.id),
        Err(_) => None,
    };
    // Only the rep's own contacts fill the form in; any other id is ignored.
    let form = AskForm {
        source: own_contact_name(&state, &user, &query.via).await?,
        target: own_contact_name(&state, &user, &query.to).await?,
        ..AskForm::default()
    };
    let mut page = week_page_with(&state, ctx, &user, form, NotLogged::default()).await?;
    page.logged = logged;
    render(StatusCode::OK, &page)
}

/// The name of one of the user's own contacts, by id as typed; empty for anything else.
async fn own_contact_name(state: &AppState, user: &User, id: &str) -> AppResult<String> {
    let Ok(id) = id.trim().parse().map(ContactId) else {
        return Ok(String::new());
    };
    Ok(db::contacts::own_choice(&state.pool, user.id, id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default())
}

/// Logs an ask from the quick form on My week; a problem sends the form back there.
async fn create_ask(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Form(form): Form<AskForm>,
) -> AppResult<Response> {
    let today = db::users::today_in(&state.pool, &user.time_zone).await?;
    match crate::asks::service::log_ask(&state.pool, &user, &form, today).await? {
        // Back to an empty form, under a line naming the ask: reps often log several in a row.
        Outcome::Logged(id) => Ok(Redirect::to(&format!("/?logged={id}")).into_response()),
        Outcome::NotLogged(not_logged) => {
            let status = if not_logged.connector_load.is_some() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            week_page(&state, ctx, &user, form, not_logged, status).await
        }
    }
}

/// Renders My week, with the quick form as given (blank, or sent back with its problems).
pub async fn week_page(
    state: &AppState,
    ctx: PageContext,
    user: &User,
    form: AskForm,
    not_logged: NotLogged,
    status: StatusCode,
) -> AppResult<Response> {
    let page = week_page_with(state, ctx, user, form, not_logged).await?;
    render(status, &page)
}

async fn week_page_with(
    state: &AppState,
    ctx: PageContext,
    user: &User,
    mut form: AskForm,
    not_logged: NotLogged,
) -> AppResult<WeekPage> {
    let (groups, today) = groups_for(state, user, None, WEEK_SIZE).await?;
    if form.submission_id.is_empty() {
        form.submission_id = Uuid::new_v4().to_string();
    }
    if form.asked_on.is_empty() {
        form.asked_on = today.to_string();
    }
    if form.follow_up_on.is_empty() {
        form.follow_up_on = (today + Duration::days(FOLLOW_UP_AFTER_DAYS)).to_string();
    }
    if form.channel.is_empty() {
        form.channel = Channel::default().as_str().to_string();
    }
    let monday = crate::domain::dates::week_start(today);
    let asks_this_week =
        db::asks::count_between(&state.pool, user.id, monday, monday + Duration::days(6)).await?;
    let introductions = db::asks::recent_introductions(&state.pool, user.id, 5).await?;
    let suggestions = db::contacts::suggest(&state.pool, user.id, "", 200).await?;
    let coaching = db::coaching::for_rep(&state.pool, user.id, 1).await?.pop();
    let page = WeekPage {
        ctx,
        user: user.clone(),
        form,
        not_logged,
        suggestions,
        groups,
        today,
        asks_this_week,
        introductions,
        coaching,
        logged: None,
    };
    Ok(page)
}

/// What the type-ahead sends: the field being typed in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SuggestQuery {
    q: String,
    source: String,
    target: String,
}

/// `<option>`s for a datalist, matching what has been typed so far.
#[derive(Template)]
#[template(path = "week/suggestions.html")]
struct SuggestionsPartial {
    suggestions: Vec<Choice>,
}

async fn suggest_contacts(
    State(state): State<AppState>,
    crate::web::auth::CurrentUser(user): crate::web::auth::CurrentUser,
    Query(query): Query<SuggestQuery>,
) -> AppResult<Response> {
    let text = [query.q, query.source, query.target]
        .into_iter()
        .find(|t| !t.is_empty())
        .unwrap_or_default();
    let suggestions = db::contacts::suggest(&state.pool, user.id, &text, 20).await?;
    render(StatusCode::OK, &SuggestionsPartial { suggestions })
}
