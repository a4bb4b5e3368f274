//! `/settings`: a user's own name, time zone, password, sessions and API tokens.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::accounts::service::ProfileInput;
use crate::accounts::{password, service, start_session};
use crate::db;
use crate::db::tokens::TokenSummary;
use crate::domain::error::ServiceError;
use crate::domain::fields::FieldErrors;
use crate::domain::users::{TokenAccess, TokenId, User, UserId, check_password};
use crate::state::AppState;
use crate::web::auth::{AuthSession, CurrentUser};
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

/// The settings routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings", get(show_settings))
        .route("/settings/profile", post(update_profile))
        .route("/settings/password", post(change_password))
        .route("/settings/sessions/end-others", post(end_other_sessions))
        .route("/settings/tokens", post(create_token))
        .route("/settings/calendar", post(update_calendar))
        .route("/settings/tokens/{id}/revoke", post(revoke_token))
}

/// Everything on the settings page; each form keeps its own input and errors.
#[derive(Template)]
#[template(path = "settings/show.html")]
struct SettingsPage {
    ctx: PageContext,
    user: User,
    zones: Vec<String>,
    profile: ProfileInput,
    tokens: Vec<TokenSummary>,
    new_token: Option<String>,
    token_name: String,
    errors: FieldErrors,
    /// The full address of the user's calendar feed, when it is on.
    calendar_url: Option<String>,
}

/// Current and new password.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

/// A new API token's name.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenForm {
    name: String,
    /// `read` or `write` (which includes read).
    access: String,
}

/// What differs between renderings of the settings page.
#[derive(Default)]
struct PageState {
    profile: Option<ProfileInput>,
    new_token: Option<String>,
    token_name: String,
    errors: FieldErrors,
}

async fn settings_page(
    state: &AppState,
    ctx: PageContext,
    user: User,
    page: PageState,
    status: StatusCode,
) -> AppResult<Response> {
    let zones = db::users::time_zone_names(&state.pool).await?;
    let tokens = db::tokens::list_active(&state.pool, user.id).await?;
    let calendar_url = db::calendar::secret_of(&state.pool, user.id)
        .await?
        .map(|secret| {
            let base = state.config.public_url.trim_end_matches('/');
            format!("{base}{}", crate::calendar::feed_path(&secret))
        });
    let profile = match page.profile {
        Some(profile) => profile,
        None => {
            let (from, until) = db::users::quiet_hours(&state.pool, user.id).await?;
            ProfileInput {
                name: user.name.clone(),
                time_zone: user.time_zone.clone(),
                quiet_from: from.to_string(),
                quiet_until: until.to_string(),
            }
        }
    };
    render(
        status,
        &SettingsPage {
            ctx,
            user,
            zones,
            profile,
            tokens,
            new_token: page.new_token,
            token_name: page.token_name,
            errors: page.errors,
            calendar_url,
        },
    )
}

/// Turns the calendar feed on with a new secret address (revoking any old one), or off.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CalendarForm {
    /// `new` or `off`.
    action: String,
}

async fn update_calendar(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Form(form): Form<CalendarForm>,
) -> AppResult<Response> {
    let (on, message) = match form.action.as_str() {
        "new" => (
            true,
            "Your calendar address is ready; the old one, if any, no longer works.",
        ),
        "off" => (
            false,
            "The calendar feed is off; its address no longer works.",
        ),
        _ => {
            return Err(AppError::BadRequest(
                "Choose a new address or turn the feed off.".into(),
            ));
        }
    };
    service::set_calendar_feed(&state.pool, user.id, on).await?;
    Ok(redirect_with_flash(
        "/settings#calendar",
        FlashKind::Success,
        message,
    ))
}

async fn show_settings(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
) -> AppResult<Response> {
    settings_page(&state, ctx, user, PageState::default(), StatusCode::OK).await
}

async fn update_profile(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Form(form): Form<ProfileInput>,
) -> AppResult<Response> {
    if let Err(e) = service::update_profile(&state.pool, &user, &form).await {
        let ServiceError::Invalid(errors) = e else {
            return Err(e.into());
        };
        let page = PageState {
            profile: Some(form),
            errors,
            ..Default::default()
        };
        return settings_page(&state, ctx, user, page, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    Ok(redirect_with_flash(
        "/settings",
        FlashKind::Success,
        "Profile saved.",
    ))
}

/// Changes the password after checking the current one. Every other session of the user ends
/// at once; this one continues under the new epoch.
async fn change_password(
    State(state): State<AppState>,
    mut auth: AuthSession,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let stored = db::users::password_hash(&state.pool, user.id).await?;
    if !password::verify(form.current_password, Some(stored)).await? {
        errors.add("current_password", "That is not your current password.");
    }
    errors.check(
        "new_password",
        check_password(&form.new_password, &user.email),
    );
    if !errors.is_empty() {
        let page = PageState {
            errors,
            ..Default::default()
        };
        return settings_page(&state, ctx, user, page, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    service::change_password(&state.pool, Some(user.id), user.id, form.new_password).await?;
    renew_session(&state, &mut auth, user.id).await?;
    Ok(redirect_with_flash(
        "/settings",
        FlashKind::Success,
        "Password changed. You are logged out everywhere else.",
    ))
}

async fn end_other_sessions(
    State(state): State<AppState>,
    mut auth: AuthSession,
    CurrentUser(user): CurrentUser,
) -> AppResult<Response> {
    db::users::end_sessions(&state.pool, user.id).await?;
    renew_session(&state, &mut auth, user.id).await?;
    Ok(redirect_with_flash(
        "/settings",
        FlashKind::Success,
        "You are logged out everywhere else.",
    ))
}

/// After the session epoch moved on, stamps this session with the new one.
async fn renew_session(state: &AppState, auth: &mut AuthSession, id: UserId) -> AppResult<()> {
    let user = db::users::find(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    start_session(auth, &user).await
}

/// Creates a token and shows it once; only its hash is stored.
async fn create_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ctx: PageContext,
    Form(form): Form<TokenForm>,
) -> AppResult<Response> {
    let name = form.name.trim();
    let access = TokenAccess::parse(&form.access);
    let mut errors = FieldErrors::default();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add(
            "token_name",
            "Name the token (up to 100 characters), e.g. after the script that uses it.",
        );
    }
    if access.is_none() {
        errors.add("token_access", "Choose read only, or read and write.");
    }
    let (Some(access), true) = (access, errors.is_empty()) else {
        let page = PageState {
            errors,
            token_name: form.name,
            ..Default::default()
        };
        return settings_page(&state, ctx, user, page, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let token = service::issue_token(&state.pool, Some(user.id), user.id, name, access).await?;
    let page = PageState {
        new_token: Some(token),
        ..Default::default()
    };
    settings_page(&state, ctx, user, page, StatusCode::OK).await
}

async fn revoke_token(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<TokenId>,
) -> AppResult<Response> {
    service::revoke_token(&state.pool, user.id, id).await?;
    Ok(redirect_with_flash(
        "/settings",
        FlashKind::Success,
        "Token revoked.",
    ))
}
