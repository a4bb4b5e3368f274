//! `/paths`, `/intro-requests` and `/companies/{id}`: who in the team can get a rep to a
//! prospect, asking a colleague for the introduction, and the team's people at a company.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::db;
use crate::db::companies::{Company, Person};
use crate::db::intro_requests::IntroRequest;
use crate::domain::companies::{CompanyId, IntroRequestId, strength_word};
use crate::domain::error::ServiceError;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{Role, User};
use crate::state::AppState;
use crate::web::auth::CurrentUser;
use crate::web::{AppResult, FlashKind, PageContext, redirect_with_flash, render};

pub mod service;

use service::{Found, RankedPath, RequestInput};

/// The warm-path routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/paths", get(search_page))
        .route("/intro-requests", get(requests_page).post(create_request))
        .route("/intro-requests/{id}/accept", post(accept_request))
        .route("/intro-requests/{id}/decline", post(decline_request))
        .route("/companies/{id}", get(company_page))
        .route("/companies/{id}/merge", post(merge_company))
}

/// What the search box sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchQuery {
    prospect: String,
}

#[derive(Template)]
#[template(path = "paths/search.html")]
struct SearchPage {
    ctx: PageContext,
    prospect: String,
    found: Option<Found>,
    errors: FieldErrors,
}

impl RankedPath {
    /// The path in words, as the viewer may see it: a colleague's unshared contacts are
    /// "someone", with their company.
    pub fn summary(&self) -> String {
        let at = self
            .row
            .company_name
            .as_deref()
            .map(|c| format!(" at {c}"))
            .unwrap_or_default();
        let prospect = match &self.row.prospect_name {
            Some(name) => format!("{name}{at}"),
            None => format!("someone{at}"),
        };
        let holder = if self.own {
            "You".to_string()
        } else {
            self.row.holder_name.clone()
        };
        let has = if self.own { "have" } else { "has" };
        let strength = strength_word(self.strength());
        match (&self.row.connector_id, &self.row.connector_name) {
            (None, _) => format!("{holder} {has} a {strength} relationship with {prospect}"),
            (Some(_), Some(connector)) => {
                format!("{holder} → {connector} → {prospect} ({strength})")
            }
            (Some(_), None) => format!(
                "{holder} {has} a {} relationship with someone who knows {prospect}",
                strength_word(self.row.first_strength)
            ),
        }
    }

    /// Whether the searcher would ask a colleague for this path.
    pub fn requestable(&self) -> bool {
        !self.own
    }
}

async fn search_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Query(query): Query<SearchQuery>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let found = if query.prospect.trim().is_empty() {
        None
    } else {
        match service::search(&state.pool, &user, &query.prospect).await {
            Ok(found) => Some(found),
            Err(ServiceError::Invalid(e)) => {
                errors = e;
                None
            }
            Err(e) => return Err(e.into()),
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &SearchPage {
            ctx,
            prospect: query.prospect,
            found,
            errors,
        },
    )
}

#[derive(Template)]
#[template(path = "paths/requests.html")]
struct RequestsPage {
    ctx: PageContext,
    user: User,
    requests: Vec<IntroRequest>,
    errors: FieldErrors,
    /// The request a refused decline was for.
    failed: Option<IntroRequestId>,
}

impl IntroRequest {
    /// Who would introduce whom, in words, as the reader may see it.
    pub fn path_text(&self, reader: &User) -> String {
        let at = self
            .company_name
            .as_deref()
            .map(|c| format!(" at {c}"))
            .unwrap_or_default();
        let prospect = self
            .prospect_name
            .clone()
            .unwrap_or_else(|| "someone".into());
        let (holder, holders) = if self.holder_id == reader.id {
            ("you".to_string(), "your".to_string())
        } else {
            (self.holder_name.clone(), format!("{}’s", self.holder_name))
        };
        match (&self.connector_contact_id, &self.connector_name) {
            (None, _) => format!("{prospect}{at}, introduced by {holder}"),
            (Some(_), Some(c)) => format!("{prospect}{at}, through {c}, {holders} contact"),
            (Some(_), None) => format!("{prospect}{at}, through one of {holders} contacts"),
        }
    }
}

async fn requests_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
) -> AppResult<Response> {
    requests(
        &state,
        ctx,
        user,
        FieldErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn requests(
    state: &AppState,
    ctx: PageContext,
    user: User,
    errors: FieldErrors,
    failed: Option<IntroRequestId>,
    status: StatusCode,
) -> AppResult<Response> {
    let requests = db::intro_requests::involving(&state.pool, user.id, None).await?;
    render(
        status,
        &RequestsPage {
            ctx,
            user,
            requests,
            errors,
            failed,
        },
    )
}

/// The request form on a path card.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RequestForm {
    holder_id: String,
    connector_id: String,
    prospect_id: String,
    message: String,
    prospect: String,
}

async fn create_request(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Form(form): Form<RequestForm>,
) -> AppResult<Response> {
    let id = |text: &str| text.trim().parse::<i64>().ok();
    let input = RequestInput {
        holder_id: id(&form.holder_id).map(crate::domain::users::UserId),
        connector_id: id(&form.connector_id).map(crate::domain::contacts::ContactId),
        prospect_id: id(&form.prospect_id).map(crate::domain::contacts::ContactId),
        message: form.message.clone(),
    };
    match service::request(&state.pool, &user, &input).await {
        Ok(_) => Ok(to_requests(
            FlashKind::Success,
            "Request sent. You will be told when your colleague answers.",
        )),
        Err(ServiceError::Invalid(errors)) => {
            let found = service::search(&state.pool, &user, &form.prospect)
                .await
                .ok();
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SearchPage {
                    ctx,
                    prospect: form.prospect,
                    found,
                    errors,
                },
            )
        }
        Err(ServiceError::Conflict(message)) => Ok(to_requests(FlashKind::Info, &message)),
        Err(e) => Err(e.into()),
    }
}

/// Back to the requests, with a message about what just happened.
fn to_requests(kind: FlashKind, message: &str) -> Response {
    redirect_with_flash("/intro-requests", kind, message)
}

async fn accept_request(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<IntroRequestId>,
) -> AppResult<Response> {
    match service::accept(&state.pool, &user, id).await {
        Ok(_) => Ok(to_requests(
            FlashKind::Success,
            "Accepted. Your colleague has the details, and the ask is logged with you credited.",
        )),
        Err(ServiceError::Conflict(message)) => Ok(to_requests(FlashKind::Info, &message)),
        Err(e) => Err(e.into()),
    }
}

/// The decline form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeclineForm {
    reason: String,
}

async fn decline_request(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<IntroRequestId>,
    Form(form): Form<DeclineForm>,
) -> AppResult<Response> {
    match service::decline(&state.pool, &user, id, &form.reason).await {
        Ok(()) => Ok(to_requests(
            FlashKind::Success,
            "Declined. Your colleague has your reason.",
        )),
        Err(ServiceError::Invalid(errors)) => {
            requests(
                &state,
                ctx,
                user,
                errors,
                Some(id),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ServiceError::Conflict(message)) => Ok(to_requests(FlashKind::Info, &message)),
        Err(e) => Err(e.into()),
    }
}

impl Person {
    /// The owner's relationship with them, in a word.
    pub fn strength_text(&self) -> &'static str {
        strength_word(self.strength)
    }
}

#[derive(Template)]
#[template(path = "paths/company.html")]
struct CompanyPage {
    ctx: PageContext,
    company: Company,
    people: Vec<Person>,
    is_admin: bool,
    errors: FieldErrors,
    into: String,
}

async fn company_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<CompanyId>,
) -> AppResult<Response> {
    company(
        &state,
        ctx,
        &user,
        id,
        FieldErrors::default(),
        String::new(),
        StatusCode::OK,
    )
    .await
}

async fn company(
    state: &AppState,
    ctx: PageContext,
    user: &User,
    id: CompanyId,
    errors: FieldErrors,
    into: String,
    status: StatusCode,
) -> AppResult<Response> {
    let company = db::companies::find(&state.pool, id)
        .await?
        .ok_or(crate::web::AppError::NotFound)?;
    let people = db::companies::people(&state.pool, user.id, id).await?;
    render(
        status,
        &CompanyPage {
            ctx,
            company,
            people,
            is_admin: user.role == Role::Admin,
            errors,
            into,
        },
    )
}

/// The merge form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MergeForm {
    into: String,
}

async fn merge_company(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Path(id): Path<CompanyId>,
    Form(form): Form<MergeForm>,
) -> AppResult<Response> {
    match service::merge_companies(&state.pool, &user, id, &form.into).await {
        Ok((into, moved)) => Ok(redirect_with_flash(
            &format!("/companies/{into}"),
            FlashKind::Success,
            &format!("Merged: {moved} contacts moved here."),
        )),
        Err(ServiceError::Invalid(errors)) => {
            company(
                &state,
                ctx,
                &user,
                id,
                errors,
                form.into,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
