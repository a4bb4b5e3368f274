//! `/api/v1/dashboard`: the dashboard's figures, from the page's own computation.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiResult, Created, Page, idempotent_create, to_body};
use crate::dashboard::service::{self, CoachingForm, GoalForm};
use crate::dashboard::{Filters, compute, scope_for};
use crate::db;
use crate::db::coaching::Note;
use crate::db::metrics::SourceRow;
use crate::domain::contacts::ContactId;
use crate::domain::error::ServiceError;
use crate::domain::users::UserId;
use crate::state::AppState;
use crate::web::AppError;
use crate::web::auth::{ApiUser, ApiWriter};

/// The period and the rep: `from` and `to` (`YYYY-MM-DD`, the last four weeks by default)
/// and `rep` (a user id; everyone the viewer sees by default).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DashboardQuery {
    pub from: String,
    pub to: String,
    pub rep: String,
}

/// The figures of the dashboard page for a manager's or an admin's team (a rep is refused
/// with 403): totals and the funnel, each rep's figures, thank-yous, promises, coverage,
/// overdue follow-ups by age, the source leaderboard, connector load and the weekly trend.
#[utoipa::path(
    get,
    path = "/api/v1/dashboard",
    operation_id = "dashboard_show",
    tag = "dashboard",
    params(("from" = Option<String>, Query, description = "First day (YYYY-MM-DD); the last four weeks by default"), ("to" = Option<String>, Query, description = "Last day (YYYY-MM-DD)"), ("rep" = Option<String>, Query, description = "Only this rep (a user id)")),
    responses((status = 200, description = "The dashboard's figures", body = DashboardOut), crate::api::openapi::Problems)
)]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(query): Query<DashboardQuery>,
) -> ApiResult<Json<DashboardOut>> {
    if !user.role.sees_others() {
        return Err(AppError::Forbidden.into());
    }
    let filters = Filters {
        period: String::new(),
        from: query.from,
        to: query.to,
        rep: query.rep,
    }
    .with_dates_as_custom();
    if let Some(why) = filters.date_error() {
        return Err(ServiceError::field("from", why).into());
    }
    if !filters.rep.trim().is_empty() && filters.rep.trim().parse::<i64>().is_err() {
        return Err(ServiceError::field("rep", "Give a user id.").into());
    }
    let scope = scope_for(&state, &user, &filters).await?;
    let d = compute(&state.pool, &state.pool, scope).await?;
    let t = &d.totals;
    let sources = |rows: &[SourceRow]| -> Vec<SourceOut> {
        rows.iter()
            .map(|s| SourceOut {
                contact_id: s.contact_id,
                name: s.name.clone(),
                rep_name: s.rep_name.clone(),
                asks: s.asks,
                intros: s.intros,
                wins: s.wins,
            })
            .collect()
    };
    Ok(Json(DashboardOut {
        from: scope.from.to_string(),
        to: scope.to.to_string(),
        rep: scope.rep,
        totals: TotalsOut {
            asks: t.asks,
            intros: t.intros,
            meetings: t.meetings,
            wins: t.wins,
            losses: t.losses,
            ended: t.ended,
            won_cents: t.won_cents,
            ask_target: t.target,
            active_reps: t.active_reps,
            reps: t.reps,
            median_delay_days: t.median_delay_days,
        },
        previous_period_asks: d.previous_asks,
        thanked_within_7_days: Thanked {
            introduced: d.thanked.0,
            thanked: d.thanked.1,
        },
        promises_kept: Promises {
            due: d.promises.0,
            kept: d.promises.1,
        },
        ask_coverage: Coverage {
            strong_clients: d.coverage.0,
            asked_in_90_days: d.coverage.1,
        },
        reps: d
            .reps
            .iter()
            .map(|r| RepOut {
                user_id: r.user_id,
                name: r.name.clone(),
                weekly_ask_target: r.weekly_ask_target,
                asks: r.asks,
                intros: r.intros,
                meetings: r.meetings,
                wins: r.wins,
                losses: r.losses,
                won_cents: r.won_cents,
                introduced: r.introduced,
                thanked: r.thanked,
                median_delay_days: r.median_delay_days,
                active: r.active,
                wins_this_year: r.wins_this_year,
            })
            .collect(),
        overdue_by_age: d
            .overdue
            .iter()
            .map(|o| OverdueOut {
                user_id: o.user_id,
                name: o.name.clone(),
                days_1_2: o.days_1_2,
                days_3_7: o.days_3_7,
                days_8_plus: o.days_8_plus,
            })
            .collect(),
        source_leaderboard: sources(&d.leaderboard),
        connector_load: sources(&d.connector_load),
        team_assisted: TeamAssistedOut {
            asks: d.team_assisted.asks,
            intros: d.team_assisted.intros,
            wins: d.team_assisted.wins,
        },
        generous_connectors: d
            .generous
            .iter()
            .map(|g| ConnectorOut {
                user_id: g.user_id,
                name: g.name.clone(),
                asks: g.asks,
                intros: g.intros,
            })
            .collect(),
        weekly_trend: d
            .trend
            .iter()
            .map(|w| WeekOut {
                week: w.week.to_string(),
                asks: w.asks,
                intros: w.intros,
            })
            .collect(),
    }))
}

/// The dashboard's figures for a period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DashboardOut {
    /// The period's first and last day (`YYYY-MM-DD`).
    pub from: String,
    pub to: String,
    /// The one rep shown, if the dashboard was filtered to one.
    pub rep: Option<UserId>,
    pub totals: TotalsOut,
    /// Asks in the period of the same length just before.
    pub previous_period_asks: i64,
    pub thanked_within_7_days: Thanked,
    pub promises_kept: Promises,
    pub ask_coverage: Coverage,
    pub reps: Vec<RepOut>,
    /// Open overdue follow-ups now, per rep, by days past due.
    pub overdue_by_age: Vec<OverdueOut>,
    /// The sources whose asks brought the most introductions.
    pub source_leaderboard: Vec<SourceOut>,
    /// Sources asked more than three times in 90 days.
    pub connector_load: Vec<SourceOut>,
    /// Asks that went through a colleague's network.
    pub team_assisted: TeamAssistedOut,
    /// The colleagues whose paths were used most.
    pub generous_connectors: Vec<ConnectorOut>,
    pub weekly_trend: Vec<WeekOut>,
}

/// Asks that went through a colleague's network, and how far they got.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TeamAssistedOut {
    pub asks: i64,
    pub intros: i64,
    pub wins: i64,
}

/// A colleague whose paths helped.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectorOut {
    pub user_id: UserId,
    pub name: String,
    /// Asks logged through their network.
    pub asks: i64,
    /// Of those, introduced or further.
    pub intros: i64,
}

/// Sums over the reps in scope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TotalsOut {
    pub asks: i64,
    pub intros: i64,
    pub meetings: i64,
    pub wins: i64,
    pub losses: i64,
    /// Asks that reached an introduction or ended without one.
    pub ended: i64,
    pub won_cents: i64,
    /// The reps' weekly ask targets over the period.
    pub ask_target: f64,
    pub active_reps: i64,
    pub reps: i64,
    /// Days from an ask to its entry, the median.
    pub median_delay_days: Option<f64>,
}

/// Introductions in the period and how many of their sources were thanked within 7 days.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Thanked {
    pub introduced: i64,
    pub thanked: i64,
}

/// Promises due in the period (up to yesterday) and how many were kept by their due date.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Promises {
    pub due: i64,
    pub kept: i64,
}

/// Strong-relationship clients and how many were asked in the last 90 days.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub strong_clients: i64,
    pub asked_in_90_days: i64,
}

/// One rep's figures for the period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RepOut {
    pub user_id: UserId,
    pub name: String,
    pub weekly_ask_target: i32,
    pub asks: i64,
    pub intros: i64,
    pub meetings: i64,
    pub wins: i64,
    pub losses: i64,
    pub won_cents: i64,
    pub introduced: i64,
    pub thanked: i64,
    pub median_delay_days: Option<f64>,
    /// Logged an ask in the last 7 days.
    pub active: bool,
    pub wins_this_year: i64,
}

/// A rep's open overdue follow-ups by age.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OverdueOut {
    pub user_id: UserId,
    pub name: String,
    pub days_1_2: i64,
    pub days_3_7: i64,
    pub days_8_plus: i64,
}

/// A referral source and what came of asking them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceOut {
    pub contact_id: ContactId,
    pub name: String,
    pub rep_name: String,
    pub asks: i64,
    pub intros: i64,
    pub wins: i64,
}

/// Asks and introductions of one week (from its Monday, `YYYY-MM-DD`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WeekOut {
    pub week: String,
    pub asks: i64,
    pub intros: i64,
}

/// A coaching note as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CoachingNoteOut {
    pub id: i64,
    pub manager_name: String,
    /// The Monday of the week it was written (`YYYY-MM-DD`).
    pub week_of: String,
    pub diagnosis: String,
    pub committed_action: String,
    pub metric: String,
    /// When the manager looks again (`YYYY-MM-DD`).
    pub inspect_on: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

impl From<Note> for CoachingNoteOut {
    fn from(n: Note) -> Self {
        Self {
            id: n.coaching_note_id,
            manager_name: n.manager_name,
            week_of: n.week_of.to_string(),
            diagnosis: n.diagnosis,
            committed_action: n.committed_action,
            metric: n.metric,
            inspect_on: n.inspect_on.to_string(),
            created_at: n.created_at,
        }
    }
}

/// How many notes a rep's list shows: the scorecard's.
const NOTES: i64 = 50;

#[utoipa::path(
    get,
    path = "/api/v1/reps/{id}/coaching-notes",
    operation_id = "coaching_notes_list",
    tag = "dashboard",
    params(("id" = i64, Path, description = "The rep's user id: the token's own, or a report's")),
    responses((status = 200, description = "The rep's latest coaching notes, newest first", body = Page<CoachingNoteOut>), crate::api::openapi::Problems)
)]
/// A rep's coaching notes: a rep reads their own, a manager those of their reports.
pub async fn coaching_notes(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(rep): Path<UserId>,
) -> ApiResult<Json<Page<CoachingNoteOut>>> {
    if rep != user.id && !db::users::can_see(&state.pool, user.id, rep).await? {
        return Err(ServiceError::NotFound.into());
    }
    let notes = db::coaching::for_rep(&state.pool, rep, NOTES).await?;
    Ok(Json(Page {
        items: notes.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }))
}

/// A coaching note as sent: what is going on, the one action the rep commits to, the one
/// number to watch, and when to look again.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewCoachingNote {
    pub diagnosis: String,
    pub committed_action: String,
    pub metric: String,
    /// `YYYY-MM-DD`, today or later.
    pub inspect_on: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/reps/{id}/coaching-notes",
    operation_id = "coaching_notes_create",
    tag = "dashboard",
    params(("id" = i64, Path, description = "The rep's user id (one of the manager's reports)"), ("Idempotency-Key" = Option<String>, Header, description = "Repeating a create with the same key returns the first result")),
    request_body = NewCoachingNote,
    responses((status = 201, description = "The note; its action is on the rep's follow-ups", body = CoachingNoteOut), crate::api::openapi::Problems)
)]
/// Writes a coaching note for one of the manager's reports, as the scorecard does: the
/// committed action becomes a follow-up for the rep, due on the inspect-on date.
pub async fn add_coaching_note(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    headers: HeaderMap,
    Path(rep): Path<UserId>,
    Json(input): Json<NewCoachingNote>,
) -> ApiResult<Response> {
    let request = format!("POST /api/v1/reps/{rep}/coaching-notes");
    let create = async {
        if !user.role.sees_others() {
            return Err(ServiceError::NotFound.into());
        }
        let form = CoachingForm {
            diagnosis: input.diagnosis.clone(),
            committed_action: input.committed_action.clone(),
            metric: input.metric.clone(),
            inspect_on: input.inspect_on.clone(),
        };
        let id = service::add_note(&state.pool, &user, rep, &form).await?;
        let note = db::coaching::for_rep(&state.pool, rep, NOTES)
            .await?
            .into_iter()
            .find(|n| n.coaching_note_id == id)
            .map(CoachingNoteOut::from)
            .ok_or(ServiceError::NotFound)?;
        Ok(Created {
            location: format!("/api/v1/reps/{rep}/coaching-notes"),
            body: to_body(&note)?,
        })
    };
    idempotent_create(&state, &user, &headers, &request, &input, create).await
}

/// A rep's referral math: clients to win this year and asks it takes per client.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Goal {
    /// 0 to 10,000.
    pub annual_client_goal: Option<Value>,
    /// Above 0, up to 1,000.
    pub asks_per_client: Option<Value>,
}

#[utoipa::path(
    put,
    path = "/api/v1/reps/{id}/goal",
    operation_id = "goal_set",
    tag = "dashboard",
    params(("id" = i64, Path, description = "The rep's user id (one of the manager's reports)")),
    request_body = Goal,
    responses((status = 204, description = "Saved"), crate::api::openapi::Problems)
)]
/// Sets a report's annual client goal and asks per client, as the scorecard does.
pub async fn set_goal(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(rep): Path<UserId>,
    Json(input): Json<Goal>,
) -> ApiResult<axum::http::StatusCode> {
    if !user.role.sees_others() {
        return Err(ServiceError::NotFound.into());
    }
    let text = |v: &Option<Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => other.to_string(),
    };
    let form = GoalForm {
        annual_client_goal: text(&input.annual_client_goal),
        asks_per_client: text(&input.asks_per_client),
    };
    service::set_client_goal(&state.pool, &user, rep, &form).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
