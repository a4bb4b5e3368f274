//! `/api/v1/asks`: the quick log, the ask list and an ask's events, through the asks service.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ApiError, ApiResult, Created, Page, PageParams, bad_cursor, idempotent_create, to_body,
};
use crate::asks::ListQuery;
use crate::asks::service::{self, AskForm, EditForm, NotLogged, Outcome};
use crate::db;
use crate::db::asks::{Ask, Cursor};
use crate::db::contacts::Choice;
use crate::domain::asks::{AskId, Channel, EventInput, Stage};
use crate::domain::contacts::ContactId;
use crate::domain::dates::parse_date;
use crate::domain::error::ServiceError;
use crate::domain::rules::CONNECTOR_WINDOW_DAYS;
use crate::domain::users::{User, UserId};
use crate::state::AppState;
use crate::web::auth::{ApiUser, ApiWriter};

/// A contact as an ask names it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactRef {
    pub id: ContactId,
    pub name: String,
}

/// An ask as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AskOut {
    pub id: AskId,
    pub rep_id: UserId,
    pub rep_name: String,
    /// Who was asked for the introduction.
    pub source: ContactRef,
    /// The prospect, when it is one of the rep's contacts.
    pub target_contact: Option<ContactRef>,
    /// The prospect as described, when it is not a contact.
    pub target_description: Option<String>,
    pub reason: String,
    pub channel: Channel,
    /// `YYYY-MM-DD`.
    pub asked_on: String,
    pub stage: Stage,
    pub amount_won_cents: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<time::OffsetDateTime>,
    /// An open follow-up of the ask is overdue.
    pub overdue: bool,
    /// The colleague whose network the ask went through, credited as its connector.
    pub assisted_by: Option<String>,
}

impl From<Ask> for AskOut {
    fn from(ask: Ask) -> Self {
        let target_contact = ask
            .target_contact_id
            .zip(ask.target_name)
            .map(|(id, name)| ContactRef { id, name });
        Self {
            id: ask.ask_id,
            rep_id: ask.rep_id,
            rep_name: ask.rep_name,
            source: ContactRef {
                id: ask.source_contact_id,
                name: ask.source_name,
            },
            target_contact,
            target_description: ask.target_description,
            reason: ask.reason,
            channel: ask.channel,
            asked_on: ask.asked_on.to_string(),
            stage: ask.stage,
            amount_won_cents: ask.amount_won_cents,
            closed_at: ask.closed_at,
            overdue: ask.overdue,
            assisted_by: ask.assisted_by_name,
        }
    }
}

/// Where an ask list page starts: after this date and id (newest first).
#[derive(Debug, Serialize, Deserialize)]
struct Position {
    asked_on: String,
    id: AskId,
}

/// The asks the token's user may see, newest first, with the ask list's filters (`stage`,
/// `reached`, `overdue`, `from`, `to`, `rep`).
#[utoipa::path(
    get,
    path = "/api/v1/asks",
    operation_id = "asks_list",
    tag = "asks",
    params(("stage" = Option<Stage>, Query, description = "Only asks at this stage"), ("reached" = Option<Stage>, Query, description = "Only asks that got at least this far"), ("overdue" = Option<String>, Query, description = "Non-empty: only asks with an overdue follow-up"), ("from" = Option<String>, Query, description = "Asked on or after (YYYY-MM-DD)"), ("to" = Option<String>, Query, description = "Asked on or before (YYYY-MM-DD)"), ("rep" = Option<String>, Query, description = "Only this rep's asks (a user id)"), ("limit" = Option<String>, Query, description = "Items per page, 1 to 200 (50 by default)"), ("cursor" = Option<String>, Query, description = "Where the page starts: a `next_cursor` from the page before")),
    responses((status = 200, description = "A page of asks, newest first", body = Page<AskOut>), crate::api::openapi::Problems)
)]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(query): Query<ListQuery>,
    Query(page): Query<PageParams>,
) -> ApiResult<Json<Page<AskOut>>> {
    let (limit, position) = page.parse::<Position>()?;
    let cursor = match position {
        None => None,
        Some(p) => Some(Cursor {
            asked_on: parse_date(&p.asked_on).map_err(|_| bad_cursor())?,
            id: p.id,
        }),
    };
    let rows = db::asks::list(&state.pool, user.id, &query.filter(), cursor, limit + 1).await?;
    Ok(Json(Page::of(
        rows,
        limit,
        |ask| Position {
            asked_on: ask.asked_on.to_string(),
            id: ask.ask_id,
        },
        AskOut::from,
    )))
}

async fn visible(state: &AppState, user: &User, id: AskId) -> ApiResult<Ask> {
    db::asks::find_visible(&state.pool, user.id, id)
        .await?
        .ok_or(ServiceError::NotFound.into())
}

/// One ask the token's user may see.
#[utoipa::path(
    get,
    path = "/api/v1/asks/{id}",
    operation_id = "asks_show",
    tag = "asks",
    params(("id" = i64, Path, description = "The ask's id")),
    responses((status = 200, description = "The ask", body = AskOut), crate::api::openapi::Problems)
)]
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<AskId>,
) -> ApiResult<Json<AskOut>> {
    Ok(Json(visible(&state, &user, id).await?.into()))
}

/// What the quick log takes: the source by name or id, the target by description or id, the
/// reason, and optionally how and when.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewAsk {
    /// Who was asked: one of the user's contacts by name, or a new name.
    pub source: Option<String>,
    /// Who was asked, by contact id (instead of `source`).
    pub source_contact_id: Option<ContactId>,
    /// Whom to be introduced to: a contact by name, or a description.
    pub target: Option<String>,
    /// Whom to be introduced to, by contact id (instead of `target`).
    pub target_contact_id: Option<ContactId>,
    pub reason: String,
    /// `in_person` (the default), `phone`, `email`, `video`, `linkedin`, `text` or `other`.
    pub channel: Option<String>,
    /// `YYYY-MM-DD`, today by default.
    pub asked_on: Option<String>,
    /// `YYYY-MM-DD`, a week on by default.
    pub follow_up_on: Option<String>,
    /// Log it even though the source was asked often lately.
    pub confirm_load: bool,
}

/// Logs an ask, with its first follow-up (201). What stands in the way comes back as 422:
/// field messages, the contacts to choose from when a name is ambiguous, and the source's
/// recent asks when it was asked often (send `confirm_load: true` to log anyway).
#[utoipa::path(
    post,
    path = "/api/v1/asks",
    operation_id = "asks_create",
    tag = "asks",
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeating a create with the same key returns the first result")),
    request_body = NewAsk,
    responses((status = 201, description = "The ask, logged with its first follow-up", body = AskOut), crate::api::openapi::Problems)
)]
pub async fn create(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    headers: HeaderMap,
    Json(input): Json<NewAsk>,
) -> ApiResult<Response> {
    let create = async {
        let form = AskForm {
            source: input.source.clone().unwrap_or_default(),
            source_id: input
                .source_contact_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            target: input.target.clone().unwrap_or_default(),
            target_id: input
                .target_contact_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            reason: input.reason.clone(),
            channel: input.channel.clone().unwrap_or_default(),
            asked_on: input.asked_on.clone().unwrap_or_default(),
            follow_up_on: input.follow_up_on.clone().unwrap_or_default(),
            submission_id: String::new(),
            confirm_load: if input.confirm_load {
                "1".into()
            } else {
                String::new()
            },
        };
        let today = db::users::today_in(&state.pool, &user.time_zone).await?;
        match service::log_ask(&state.pool, &user, &form, today).await? {
            Outcome::Logged(id) => {
                let ask = AskOut::from(visible(&state, &user, id).await?);
                Ok(Created {
                    location: format!("/api/v1/asks/{id}"),
                    body: to_body(&ask)?,
                })
            }
            Outcome::NotLogged(not_logged) => Err(not_logged_problem(not_logged, &form.source)),
        }
    };
    idempotent_create(&state, &user, &headers, "POST /api/v1/asks", &input, create).await
}

/// The quick log's answer when it did not log, as a 422 problem.
fn not_logged_problem(mut not_logged: NotLogged, source: &str) -> ApiError {
    let choices = |list: &[Choice]| -> Value {
        list.iter()
            .map(|c| json!({ "id": c.contact_id, "name": c.name, "company": c.company }))
            .collect()
    };
    let mut extra = serde_json::Map::new();
    if !not_logged.source_choices.is_empty() {
        extra.insert("source_choices".into(), choices(&not_logged.source_choices));
    }
    if !not_logged.target_choices.is_empty() {
        extra.insert("target_choices".into(), choices(&not_logged.target_choices));
    }
    if let Some(load) = not_logged.connector_load {
        extra.insert("connector_load".into(), json!(load));
        not_logged.errors.add(
            "confirm_load",
            format!(
                "You have asked {} {load} times in the last {CONNECTOR_WINDOW_DAYS} days. \
                 Good connectors get tired of being asked: send confirm_load: true to log \
                 this ask anyway.",
                source.trim()
            ),
        );
    }
    ApiError::Response(Box::new(super::validation_problem_with(
        &not_logged.errors,
        extra,
    )))
}

/// An ask's editable details; what is left out stays as it is.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AskChange {
    pub reason: Option<String>,
    pub channel: Option<String>,
    pub asked_on: Option<String>,
}

/// Changes the reason, channel or date of one of the user's own asks.
#[utoipa::path(
    patch,
    path = "/api/v1/asks/{id}",
    operation_id = "asks_update",
    tag = "asks",
    params(("id" = i64, Path, description = "The ask's id")),
    request_body = AskChange,
    responses((status = 200, description = "The ask as changed", body = AskOut), crate::api::openapi::Problems)
)]
pub async fn update(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    Path(id): Path<AskId>,
    Json(change): Json<AskChange>,
) -> ApiResult<Json<AskOut>> {
    let ask = visible(&state, &user, id).await?;
    let form = EditForm {
        reason: change.reason.unwrap_or_else(|| ask.reason.clone()),
        channel: change
            .channel
            .unwrap_or_else(|| ask.channel.as_str().to_string()),
        asked_on: change.asked_on.unwrap_or_else(|| ask.asked_on.to_string()),
    };
    service::update_details(&state.pool, &user, &ask, &form).await?;
    Ok(Json(visible(&state, &user, id).await?.into()))
}

/// An event on an ask: what happened, on which day, a note, and for a win or a loss the
/// amount (a number, or text such as `12,500.50`).
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewEvent {
    pub kind: String,
    /// `YYYY-MM-DD`, today by default.
    pub on: Option<String>,
    pub note: Option<String>,
    pub amount: Option<Value>,
}

/// Records an event on one of the user's own asks, moving it along the stage flow: 201 with
/// the ask as it now stands.
#[utoipa::path(
    post,
    path = "/api/v1/asks/{id}/events",
    operation_id = "asks_add_event",
    tag = "asks",
    params(("id" = i64, Path, description = "The ask's id"), ("Idempotency-Key" = Option<String>, Header, description = "Repeating a create with the same key returns the first result")),
    request_body = NewEvent,
    responses((status = 201, description = "The ask after the event", body = AskOut), crate::api::openapi::Problems)
)]
pub async fn add_event(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    headers: HeaderMap,
    Path(id): Path<AskId>,
    Json(input): Json<NewEvent>,
) -> ApiResult<Response> {
    let request = format!("POST /api/v1/asks/{id}/events");
    let create = async {
        let ask = visible(&state, &user, id).await?;
        let event = EventInput {
            kind: input.kind.clone(),
            occurred_on: input.on.clone().unwrap_or_default(),
            amount: match &input.amount {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
            },
            note: input.note.clone().unwrap_or_default(),
        };
        let today = db::users::today_in(&state.pool, &user.time_zone).await?;
        service::record_event(&state.pool, &user, ask.ask_id, &event, today).await?;
        let ask = AskOut::from(visible(&state, &user, id).await?);
        Ok(Created {
            location: format!("/api/v1/asks/{id}"),
            body: to_body(&ask)?,
        })
    };
    idempotent_create(&state, &user, &headers, &request, &input, create).await
}
