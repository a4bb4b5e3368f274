//! `/api/v1/paths` and `/api/v1/intro-requests`: warm paths through the team's networks and
//! requests for them, with the pages' scoping: a colleague's unshared contact comes without
//! name, e-mail or phone.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::{ApiResult, Created, idempotent_create, to_body};
use crate::db;
use crate::db::intro_requests::IntroRequest;
use crate::domain::asks::AskId;
use crate::domain::companies::{CompanyId, IntroRequestId};
use crate::domain::contacts::ContactId;
use crate::domain::error::ServiceError;
use crate::domain::users::{User, UserId};
use crate::paths::service::{self, RankedPath, RequestInput};
use crate::state::AppState;
use crate::web::auth::{ApiUser, ApiWriter};

/// The prospect to search for.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PathsQuery {
    /// A contact id, a company name, a LinkedIn URL or a person's name.
    pub prospect: String,
}

/// A company.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CompanyOut {
    pub id: CompanyId,
    pub name: String,
}

/// A contact on a path. A colleague's contact the caller may not see has `withheld` set and
/// no name, title, e-mail or phone.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PathContact {
    pub contact_id: ContactId,
    pub withheld: bool,
    pub name: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// One ranked path.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PathOut {
    /// The team member whose network it goes through.
    pub holder_id: UserId,
    pub holder_name: String,
    /// Whether that is the caller.
    pub own: bool,
    /// The holder's contact who knows the prospect; absent on a direct path.
    pub connector: Option<PathContact>,
    pub prospect: PathContact,
    pub company: Option<CompanyOut>,
    /// The weakest hop's strength, 1–5.
    pub strength: i16,
    /// Higher ranks first.
    pub score: i64,
    /// Why it ranks where it does.
    pub reasons: Vec<String>,
    /// The path in words, as the pages show it.
    pub summary: String,
}

impl From<RankedPath> for PathOut {
    fn from(path: RankedPath) -> Self {
        let summary = path.summary();
        let strength = path.strength();
        let row = path.row;
        let withheld = !row.visible;
        Self {
            holder_id: row.holder_id,
            holder_name: row.holder_name,
            own: path.own,
            connector: row.connector_id.map(|id| PathContact {
                contact_id: id,
                withheld,
                name: row.connector_name,
                title: None,
                email: None,
                phone: None,
            }),
            prospect: PathContact {
                contact_id: row.prospect_id,
                withheld,
                name: row.prospect_name,
                title: row.prospect_title,
                email: row.prospect_email,
                phone: row.prospect_phone,
            },
            company: row
                .company_id
                .zip(row.company_name)
                .map(|(id, name)| CompanyOut { id, name }),
            strength,
            score: path.rank.score,
            reasons: path.rank.reasons,
            summary,
        }
    }
}

/// What a search found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PathsOut {
    /// The company the prospect is or works at, when known.
    pub company: Option<CompanyOut>,
    /// At most 25, warmest first.
    pub paths: Vec<PathOut>,
}

/// Ranked paths of at most two hops from anyone in the team to a prospect.
#[utoipa::path(
    get,
    path = "/api/v1/paths",
    operation_id = "paths_search",
    tag = "paths",
    params(("prospect" = String, Query, description = "A contact id, a company name, a LinkedIn URL or a person's name")),
    responses((status = 200, description = "The paths, warmest first", body = PathsOut), crate::api::openapi::Problems)
)]
pub async fn search(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Query(query): Query<PathsQuery>,
) -> ApiResult<Json<PathsOut>> {
    let found = service::search(&state.pool, &user, &query.prospect).await?;
    Ok(Json(PathsOut {
        company: found.company.map(|c| CompanyOut {
            id: c.company_id,
            name: c.name,
        }),
        paths: found.paths.into_iter().map(PathOut::from).collect(),
    }))
}

/// A request to a colleague for an introduction along one of their paths.
#[derive(Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewIntroRequest {
    /// The colleague (a path's `holder_id`).
    pub holder_id: Option<UserId>,
    /// The path's connector, if it has one.
    pub connector_id: Option<ContactId>,
    /// The path's prospect.
    pub prospect_id: Option<ContactId>,
    /// Why it matters, for the colleague (up to 2,000 characters).
    pub message: String,
}

/// A request as its requester or colleague sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntroRequestOut {
    pub id: IntroRequestId,
    pub requester_id: UserId,
    pub holder_id: UserId,
    pub holder_name: String,
    pub connector_id: Option<ContactId>,
    pub prospect_id: ContactId,
    /// Withheld from the requester until the colleague accepts.
    pub prospect_name: Option<String>,
    pub company: Option<String>,
    pub message: String,
    /// `pending`, `accepted` or `declined`.
    pub status: String,
    pub decline_reason: Option<String>,
    /// The ask logged on acceptance.
    pub ask_id: Option<AskId>,
}

impl From<IntroRequest> for IntroRequestOut {
    fn from(r: IntroRequest) -> Self {
        Self {
            id: r.request_id,
            requester_id: r.requester_id,
            holder_id: r.holder_id,
            holder_name: r.holder_name,
            connector_id: r.connector_contact_id,
            prospect_id: r.prospect_contact_id,
            prospect_name: r.prospect_name,
            company: r.company_name,
            message: r.message,
            status: r.status,
            decline_reason: r.decline_reason,
            ask_id: r.ask_id,
        }
    }
}

async fn involving(
    state: &AppState,
    user: &User,
    id: IntroRequestId,
) -> ApiResult<IntroRequestOut> {
    Ok(
        db::intro_requests::involving(&state.pool, user.id, Some(id))
            .await?
            .pop()
            .ok_or(ServiceError::NotFound)?
            .into(),
    )
}

/// Asks a colleague for an introduction along a path a search returned (201). They get a
/// follow-up and a notification; accepting shares the contacts and logs the ask.
#[utoipa::path(
    post,
    path = "/api/v1/intro-requests",
    operation_id = "intro_requests_create",
    tag = "paths",
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeating a create with the same key returns the first result")),
    request_body = NewIntroRequest,
    responses((status = 201, description = "The request", body = IntroRequestOut), crate::api::openapi::Problems)
)]
pub async fn create_request(
    State(state): State<AppState>,
    ApiWriter(user): ApiWriter,
    headers: HeaderMap,
    Json(input): Json<NewIntroRequest>,
) -> ApiResult<Response> {
    let create = async {
        let request = RequestInput {
            holder_id: input.holder_id,
            connector_id: input.connector_id,
            prospect_id: input.prospect_id,
            message: input.message.clone(),
        };
        let id = service::request(&state.pool, &user, &request).await?;
        let out = involving(&state, &user, id).await?;
        Ok(Created {
            location: format!("/api/v1/intro-requests/{id}"),
            body: to_body(&out)?,
        })
    };
    idempotent_create(
        &state,
        &user,
        &headers,
        "POST /api/v1/intro-requests",
        &input,
        create,
    )
    .await
}

/// A request the caller made or was asked.
#[utoipa::path(
    get,
    path = "/api/v1/intro-requests/{id}",
    operation_id = "intro_requests_show",
    tag = "paths",
    params(("id" = i64, Path, description = "The request's id")),
    responses((status = 200, description = "The request", body = IntroRequestOut), crate::api::openapi::Problems)
)]
pub async fn show_request(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<IntroRequestId>,
) -> ApiResult<Json<IntroRequestOut>> {
    Ok(Json(involving(&state, &user, id).await?))
}
