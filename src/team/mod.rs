//! `/team`: a manager's view of the people below them, and an admin's tools for everyone:
//! adding people, and setting roles, managers, targets and who is active.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};

use crate::accounts::service::{self, AssignmentInput, NewUserInput};
use crate::db;
use crate::db::users::TeamMember;
use crate::domain::error::ServiceError;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{Role, User, UserId};
use crate::health::DiskSpace;
use crate::state::AppState;
use crate::web::auth::{Admin, Manager};
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

/// The team routes: managers read their subtree, admins change anyone; a rep gets 404.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/team", get(list_team).post(create_member))
        .route("/team/{id}", get(show_member).post(update_member))
        .route("/team/{id}/deactivate", post(deactivate_member))
        .route("/team/{id}/reactivate", post(reactivate_member))
}

/// A manager to choose in a select box.
struct ManagerOption {
    id: UserId,
    name: String,
}

/// The team list with the form to add a person.
#[derive(Template)]
#[template(path = "team/list.html")]
struct TeamPage {
    ctx: PageContext,
    members: Vec<TeamMember>,
    managers: Vec<ManagerOption>,
    zones: Vec<String>,
    form: NewUserInput,
    errors: FieldErrors,
    can_edit: bool,
    /// The data directory's disk, for admins.
    disk: Option<DiskSpace>,
}

/// One person's role, manager and target.
#[derive(Template)]
#[template(path = "team/member.html")]
struct MemberPage {
    ctx: PageContext,
    member: User,
    managers: Vec<ManagerOption>,
    form: AssignmentInput,
    errors: FieldErrors,
    is_self: bool,
    can_edit: bool,
}

async fn list_team(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    ctx: PageContext,
) -> AppResult<Response> {
    let form = NewUserInput {
        role: "rep".into(),
        weekly_ask_target: "5".into(),
        time_zone: "UTC".into(),
        ..Default::default()
    };
    team_page(
        &state,
        ctx,
        &viewer,
        form,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn team_page(
    state: &AppState,
    ctx: PageContext,
    viewer: &User,
    form: NewUserInput,
    errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let members = db::users::list_team(&state.pool, viewer.id).await?;
    let managers = manager_options(&members, None);
    let zones = db::users::time_zone_names(&state.pool).await?;
    let can_edit = viewer.role == Role::Admin;
    let disk = match can_edit {
        true => crate::health::data_dir_space(&state.config.data_dir).await,
        false => None,
    };
    render(
        status,
        &TeamPage {
            ctx,
            members,
            managers,
            zones,
            form,
            errors,
            can_edit,
            disk,
        },
    )
}

async fn create_member(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ctx: PageContext,
    Form(form): Form<NewUserInput>,
) -> AppResult<Response> {
    match service::add_user(&state.pool, Some(admin.id), &form).await {
        Ok(_) => Ok(redirect_with_flash(
            "/team",
            FlashKind::Success,
            &format!(
                "Added {}. Give them their e-mail address and password to log in.",
                form.name.trim()
            ),
        )),
        Err(ServiceError::Invalid(errors)) => {
            team_page(
                &state,
                ctx,
                &admin,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn show_member(
    State(state): State<AppState>,
    Manager(viewer): Manager,
    ctx: PageContext,
    Path(id): Path<UserId>,
) -> AppResult<Response> {
    let member = visible_member(&state, &viewer, id).await?;
    let form = AssignmentInput {
        role: member.role.as_str().into(),
        manager_id: member.manager_id.map(|m| m.to_string()).unwrap_or_default(),
        weekly_ask_target: member.weekly_ask_target.to_string(),
    };
    member_page(
        &state,
        ctx,
        &viewer,
        member,
        form,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// A user the viewer may see; anyone else is "not found".
async fn visible_member(state: &AppState, viewer: &User, id: UserId) -> AppResult<User> {
    if !db::users::can_see(&state.pool, viewer.id, id).await? {
        return Err(AppError::NotFound);
    }
    db::users::find(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn member_page(
    state: &AppState,
    ctx: PageContext,
    viewer: &User,
    member: User,
    form: AssignmentInput,
    errors: FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let members = db::users::list_team(&state.pool, viewer.id).await?;
    let managers = manager_options(&members, Some(member.id));
    let is_self = member.id == viewer.id;
    let can_edit = viewer.role == Role::Admin;
    render(
        status,
        &MemberPage {
            ctx,
            member,
            managers,
            form,
            errors,
            is_self,
            can_edit,
        },
    )
}

async fn update_member(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ctx: PageContext,
    Path(id): Path<UserId>,
    Form(form): Form<AssignmentInput>,
) -> AppResult<Response> {
    let member = db::users::find(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    match service::change_assignment(&state.pool, admin.id, &member, &form).await {
        Ok(()) => Ok(redirect_with_flash(
            &format!("/team/{id}"),
            FlashKind::Success,
            &format!("Saved {}.", member.name),
        )),
        Err(ServiceError::Invalid(errors)) => {
            member_page(
                &state,
                ctx,
                &admin,
                member,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn deactivate_member(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<UserId>,
) -> AppResult<Response> {
    let member = db::users::find(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if member.id == admin.id {
        return Err(AppError::Unprocessable(
            "You cannot deactivate your own account: another admin has to.".into(),
        ));
    }
    service::set_active(&state.pool, admin.id, member.id, false).await?;
    Ok(redirect_with_flash(
        "/team",
        FlashKind::Success,
        &format!("Deactivated {}. Their sessions have ended.", member.name),
    ))
}

async fn reactivate_member(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<UserId>,
) -> AppResult<Response> {
    let member = db::users::find(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    service::set_active(&state.pool, admin.id, member.id, true).await?;
    Ok(redirect_with_flash(
        "/team",
        FlashKind::Success,
        &format!("Reactivated {}.", member.name),
    ))
}

/// Active managers and admins, except `excluding` (nobody manages themselves).
fn manager_options(members: &[TeamMember], excluding: Option<UserId>) -> Vec<ManagerOption> {
    members
        .iter()
        .filter(|m| {
            m.role.sees_others() && m.deactivated_at.is_none() && Some(m.user_id) != excluding
        })
        .map(|m| ManagerOption {
            id: m.user_id,
            name: m.name.clone(),
        })
        .collect()
}
