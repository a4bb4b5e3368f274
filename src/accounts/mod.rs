//! Accounts: first-run setup, logging in and out, and the rules for users and passwords.

pub mod backend;
pub mod model;
pub mod password;
pub mod service;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::json;
use time::{Duration, OffsetDateTime};

use self::backend::Credentials;
use self::model::{Email, Role, check_password, parse_name};
use crate::db;
use crate::db::users::NewUser;
use crate::state::AppState;
use crate::web::auth::{AUTHENTICATED_AT, AuthSession, ClientAddr};
use crate::web::form::FieldErrors;
use crate::web::{
    AppError, AppResult, FlashKind, PageContext, csrf, local_path, redirect_with_flash, render,
};

/// Failed logins allowed per account and per client address within [`THROTTLE_WINDOW`].
pub const MAX_FAILED_LOGINS: i64 = 5;
/// The window failed logins are counted in.
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);

/// `/setup`, `/login`, `/logout`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/setup", get(show_setup).post(create_first_admin))
        .route("/login", get(show_login).post(log_in))
        .route("/logout", post(log_out))
}

/// The first-run form that creates the first admin.
#[derive(Template)]
#[template(path = "accounts/setup.html")]
struct SetupPage {
    ctx: PageContext,
    form: SetupForm,
    errors: FieldErrors,
    zones: Vec<String>,
}

/// What `/setup` posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    name: String,
    email: String,
    password: String,
    time_zone: String,
}

async fn show_setup(State(state): State<AppState>, ctx: PageContext) -> AppResult<Response> {
    if db::users::any_exist(&state.pool).await? {
        return Err(AppError::NotFound);
    }
    let form = SetupForm {
        time_zone: "UTC".into(),
        ..Default::default()
    };
    let zones = db::users::time_zone_names(&state.pool).await?;
    render(
        StatusCode::OK,
        &SetupPage {
            ctx,
            form,
            errors: FieldErrors::default(),
            zones,
        },
    )
}

/// Creates the first admin and logs them in. Exists only while there is no user: the check
/// and the insert happen under one lock, so two racing setups create one admin.
async fn create_first_admin(
    State(state): State<AppState>,
    mut auth: AuthSession,
    ctx: PageContext,
    Form(form): Form<SetupForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", parse_name(&form.name));
    let email = errors.check("email", Email::parse(&form.email));
    if let Some(email) = &email {
        errors.check("password", check_password(&form.password, email.as_str()));
    }
    if !db::users::is_time_zone(&state.pool, &form.time_zone).await? {
        errors.add("time_zone", "Choose a time zone from the list.");
    }
    let (Some(name), Some(email), true) = (name, email, errors.is_empty()) else {
        let zones = db::users::time_zone_names(&state.pool).await?;
        let page = SetupPage {
            ctx,
            form,
            errors,
            zones,
        };
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let hash = password::hash(form.password.clone()).await?;
    let mut tx = state.pool.begin().await?;
    db::users::lock_tree(&mut tx).await?;
    if db::users::any_exist(&mut *tx).await? {
        return Err(AppError::NotFound);
    }
    let new = NewUser {
        email: email.as_str(),
        name: &name,
        role: Role::Admin,
        manager_id: None,
        time_zone: &form.time_zone,
        weekly_ask_target: 0,
        password_hash: &hash,
    };
    let id = db::users::insert(&mut *tx, &new).await?;
    db::audit::record(
        &mut *tx,
        Some(id),
        "user",
        id.0,
        "create",
        json!({ "email": email.as_str(), "role": "admin", "via": "setup" }),
    )
    .await?;
    tx.commit().await?;
    let user = db::users::find(&state.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    start_session(&mut auth, &user).await?;
    Ok(redirect_with_flash(
        "/",
        FlashKind::Success,
        &format!("Welcome to Warmline, {name}. Add your team under Team."),
    ))
}

/// The login form.
#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    ctx: PageContext,
    email: String,
    next: String,
    error: Option<String>,
}

/// Where to go after logging in.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NextQuery {
    next: String,
}

/// What `/login` posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

async fn show_login(
    State(state): State<AppState>,
    auth: AuthSession,
    ctx: PageContext,
    Query(query): Query<NextQuery>,
) -> AppResult<Response> {
    if auth.user.is_some() {
        return Ok(Redirect::to(local_path(&query.next, "/")).into_response());
    }
    if !db::users::any_exist(&state.pool).await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    let page = LoginPage {
        ctx,
        email: String::new(),
        next: query.next,
        error: None,
    };
    render(StatusCode::OK, &page)
}

/// Checks the password, throttled per account and per client address, and starts a new
/// session (a new id and a new CSRF token) on success.
async fn log_in(
    State(state): State<AppState>,
    mut auth: AuthSession,
    ClientAddr(addr): ClientAddr,
    ctx: PageContext,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let now = OffsetDateTime::now_utc();
    let email = form.email.trim().to_string();
    let recent =
        db::login_failures::recent(&state.pool, &email, &addr, now - THROTTLE_WINDOW).await?;
    let oldest = match (
        recent.for_email >= MAX_FAILED_LOGINS,
        recent.for_addr >= MAX_FAILED_LOGINS,
    ) {
        (true, _) => recent.oldest_email,
        (false, true) => recent.oldest_addr,
        (false, false) => None,
    };
    if let Some(oldest) = oldest {
        tracing::warn!(client.addr = %addr, "login throttled");
        let retry_after_secs = (oldest + THROTTLE_WINDOW - now).whole_seconds();
        return Err(AppError::TooManyRequests { retry_after_secs });
    }
    let credentials = Credentials {
        email: email.clone(),
        password: form.password,
    };
    let user = auth
        .authenticate(credentials)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("login: {e}")))?;
    let Some(user) = user else {
        db::login_failures::insert(&state.pool, &email, &addr).await?;
        let page = LoginPage {
            ctx,
            email,
            next: form.next,
            error: Some("That e-mail address and password don't match an active account.".into()),
        };
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    db::login_failures::clear_for_email(&state.pool, &email, now - THROTTLE_WINDOW).await?;
    start_session(&mut auth, &user).await?;
    tracing::info!(user.id = %user.id, "logged in");
    Ok(Redirect::to(local_path(&form.next, "/")).into_response())
}

/// Logs out everywhere: this session is deleted from the store (so a copied cookie is
/// worthless) and the user's session epoch moves on, which ends their sessions on every other
/// device at once.
async fn log_out(State(state): State<AppState>, mut auth: AuthSession) -> AppResult<Response> {
    if let Some(user) = &auth.user {
        db::users::end_sessions(&state.pool, user.id).await?;
    }
    auth.logout()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("logout: {e}")))?;
    Ok(redirect_with_flash(
        "/login",
        FlashKind::Info,
        "You are logged out, on this and every other device.",
    ))
}

/// Logs `user` in on this session: a new session id, a new CSRF token, and the login time for
/// the absolute lifetime.
pub async fn start_session(auth: &mut AuthSession, user: &model::User) -> AppResult<()> {
    auth.login(user)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("login: {e}")))?;
    csrf::rotate(&auth.session).await?;
    auth.session
        .insert(AUTHENTICATED_AT, OffsetDateTime::now_utc().unix_timestamp())
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))?;
    Ok(())
}
