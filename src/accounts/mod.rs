//! Accounts: first-run setup, logging in and out, and the rules for users and passwords.

pub mod backend;
pub mod password;
pub mod service;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use self::backend::Credentials;
use self::service::SetupForm;
use crate::db;
use crate::domain::error::ServiceError;
use crate::domain::fields::FieldErrors;
use crate::state::AppState;
use crate::web::auth::{AUTHENTICATED_AT, AuthSession, ClientAddr};
use crate::web::cookie_value;
use crate::web::{
    AppError, AppResult, FlashKind, PageContext, csrf, local_path, redirect_with_flash, render,
};

/// Failed logins allowed for one account from one client address within [`THROTTLE_WINDOW`]:
/// a guesser at one address is stopped, the real user elsewhere is not.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// Failed logins allowed from one client address, for any accounts, within
/// [`THROTTLE_WINDOW`]: high enough for an office behind one address, low enough to stop
/// one address trying a password on many accounts.
pub const MAX_FAILED_LOGINS_PER_ADDRESS: i64 = 30;
/// The window those two are counted in.
pub const THROTTLE_WINDOW: Duration = Duration::minutes(15);
/// Failed logins allowed for one account from all addresses together within
/// [`ACCOUNT_WINDOW`], a slower ceiling against guessing spread over many addresses. A browser
/// that has logged in to the account before (its device cookie) is exempt, so such an attack
/// cannot lock the real user out.
pub const MAX_FAILED_LOGINS_PER_ACCOUNT: i64 = 20;
/// The window the per-account ceiling is counted in.
pub const ACCOUNT_WINDOW: Duration = Duration::hours(1);
/// The cookie that marks a browser that has logged in before.
const DEVICE_COOKIE: &str = "warmline_device";

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
    let user = match service::create_first_admin(&state.pool, &form).await {
        Ok(user) => user,
        Err(ServiceError::Invalid(errors)) => {
            let zones = db::users::time_zone_names(&state.pool).await?;
            let page = SetupPage {
                ctx,
                form,
                errors,
                zones,
            };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(e) => return Err(e.into()),
    };
    start_session(&mut auth, &user).await?;
    Ok(redirect_with_flash(
        "/",
        FlashKind::Success,
        &format!(
            "Welcome to Warmline, {}. Add your team under Team.",
            user.name
        ),
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
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let now = OffsetDateTime::now_utc();
    let email = form.email.trim().to_string();
    let device = cookie_value(&headers, DEVICE_COOKIE).map(|token| service::hash_token(&token));
    let recent = db::login_failures::recent(
        &state.pool,
        &email,
        &addr,
        now - THROTTLE_WINDOW,
        now - ACCOUNT_WINDOW,
    )
    .await?;
    let known_device = match &device {
        Some(hash) => db::login_failures::is_known_device(&state.pool, hash, &email).await?,
        None => false,
    };
    let ceilings = [
        (recent.pair, MAX_FAILED_LOGINS, THROTTLE_WINDOW),
        (recent.addr, MAX_FAILED_LOGINS_PER_ADDRESS, THROTTLE_WINDOW),
        (
            recent.account,
            if known_device {
                i64::MAX
            } else {
                MAX_FAILED_LOGINS_PER_ACCOUNT
            },
            ACCOUNT_WINDOW,
        ),
    ];
    let lifts_at = ceilings
        .iter()
        .filter(|(count, max, _)| count.n >= *max)
        .filter_map(|(count, _, window)| count.oldest.map(|oldest| oldest + *window))
        .max();
    if let Some(lifts_at) = lifts_at {
        tracing::warn!(client.addr = %addr, "login throttled");
        let retry_after_secs = (lifts_at - now).whole_seconds();
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
    db::login_failures::clear_pair(&state.pool, &email, &addr, now - ACCOUNT_WINDOW).await?;
    start_session(&mut auth, &user).await?;
    tracing::info!(user.id = %user.id, "logged in");
    // Managers and admins start on the dashboard, reps on My week.
    let home = if user.role.sees_others() {
        "/dashboard"
    } else {
        "/"
    };
    let mut response = Redirect::to(local_path(&form.next, home)).into_response();
    let token = match device.filter(|_| known_device) {
        Some(hash) => {
            db::login_failures::remember_device(&state.pool, &hash, user.id).await?;
            None
        }
        None => {
            let token = cookie_value(&headers, DEVICE_COOKIE).unwrap_or_else(service::random_token);
            db::login_failures::remember_device(&state.pool, &service::hash_token(&token), user.id)
                .await?;
            Some(token)
        }
    };
    if let Some(token) = token {
        let secure = if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let value = format!(
            "{DEVICE_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Lax; Max-Age=31536000{secure}"
        );
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
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
pub async fn start_session(
    auth: &mut AuthSession,
    user: &crate::domain::users::User,
) -> AppResult<()> {
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
