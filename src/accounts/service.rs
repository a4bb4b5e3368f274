//! Changes to users, shared by the web pages and the command line: validation, the write, and
//! its audit row in one transaction.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::password;
use crate::db;
use crate::db::users::NewUser;
use crate::domain::error::{ServiceError, ServiceResult};
use crate::domain::fields::FieldErrors;
use crate::domain::users::{
    Email, Role, TokenAccess, TokenId, User, UserId, check_password, parse_name,
    parse_weekly_target,
};

/// A new user as typed into a form or given on the command line.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct NewUserInput {
    pub email: String,
    pub name: String,
    pub role: String,
    /// The manager's user id, or empty for none.
    pub manager_id: String,
    pub weekly_ask_target: String,
    pub time_zone: String,
    pub password: String,
}

/// Creates a user, or returns what is wrong with the input field by field.
#[tracing::instrument(skip_all)]
pub async fn add_user(
    pool: &PgPool,
    actor: Option<UserId>,
    input: &NewUserInput,
) -> ServiceResult<UserId> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", parse_name(&input.name));
    let email = errors.check("email", Email::parse(&input.email));
    let role = errors.check("role", Role::parse(&input.role).ok_or("Choose a role."));
    let target = errors.check(
        "weekly_ask_target",
        parse_weekly_target(&input.weekly_ask_target),
    );
    if let Some(email) = &email {
        errors.check("password", check_password(&input.password, email.as_str()));
    }
    if !db::users::is_time_zone(pool, &input.time_zone).await? {
        errors.add("time_zone", "Choose a time zone from the list.");
    }
    let manager_id = check_manager(pool, &input.manager_id, &mut errors).await?;
    let (Some(name), Some(email), Some(role), Some(target), true) =
        (name, email, role, target, errors.is_empty())
    else {
        return Err(ServiceError::Invalid(errors));
    };
    let hash = password::hash(input.password.clone()).await?;
    let mut tx = pool.begin().await?;
    let new = NewUser {
        email: email.as_str(),
        name: &name,
        role,
        manager_id,
        time_zone: &input.time_zone,
        weekly_ask_target: target,
        password_hash: &hash,
    };
    let id = match db::users::insert(&mut *tx, &new).await {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e, db::users::EMAIL_KEY) => {
            errors.add(
                "email",
                "Someone already has an account with this e-mail address.",
            );
            return Err(ServiceError::Invalid(errors));
        }
        Err(e) => return Err(e.into()),
    };
    let changes = json!({
        "email": email.as_str(), "name": name, "role": role.as_str(),
        "manager_id": manager_id, "weekly_ask_target": target, "time_zone": input.time_zone,
    });
    db::audit::record(&mut *tx, actor, "user", id.0, "create", changes).await?;
    tx.commit().await?;
    tracing::info!(user.id = %id, "user created");
    Ok(id)
}

/// What an admin changes about a user.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct AssignmentInput {
    pub role: String,
    pub manager_id: String,
    pub weekly_ask_target: String,
}

/// Sets a user's role, manager and weekly target. A manager change that would close a loop
/// in the reports-to tree is refused.
#[tracing::instrument(skip_all)]
pub async fn change_assignment(
    pool: &PgPool,
    actor: UserId,
    user: &crate::domain::users::User,
    input: &AssignmentInput,
) -> ServiceResult<()> {
    let mut errors = FieldErrors::default();
    let role = errors.check("role", Role::parse(&input.role).ok_or("Choose a role."));
    let target = errors.check(
        "weekly_ask_target",
        parse_weekly_target(&input.weekly_ask_target),
    );
    let manager_id = check_manager(pool, &input.manager_id, &mut errors).await?;
    if user.id == actor && role.is_some_and(|r| r != crate::domain::users::Role::Admin) {
        errors.add("role", "You cannot take away your own admin role.");
    }
    let (Some(role), Some(target), true) = (role, target, errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let mut tx = pool.begin().await?;
    db::users::lock_tree(&mut tx).await?;
    if let Some(manager) = manager_id
        && db::users::would_create_cycle(&mut tx, user.id, manager).await?
    {
        errors.add(
            "manager_id",
            if manager == user.id {
                "Nobody can report to themselves."
            } else {
                "That manager already reports to this person (directly or further down), so this would create a loop."
            },
        );
        return Err(ServiceError::Invalid(errors));
    }
    db::users::update_assignment(&mut *tx, user.id, role, manager_id, target).await?;
    let mut changes = serde_json::Map::new();
    if role != user.role {
        changes.insert("role".into(), json!([user.role.as_str(), role.as_str()]));
    }
    if manager_id != user.manager_id {
        changes.insert("manager_id".into(), json!([user.manager_id, manager_id]));
    }
    if target != user.weekly_ask_target {
        changes.insert(
            "weekly_ask_target".into(),
            json!([user.weekly_ask_target, target]),
        );
    }
    if !changes.is_empty() {
        db::audit::record(
            &mut *tx,
            Some(actor),
            "user",
            user.id.0,
            "update",
            changes.into(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deactivates (ending all the user's sessions at once and revoking their API tokens) or
/// reactivates a user.
#[tracing::instrument(skip_all)]
pub async fn set_active(
    pool: &PgPool,
    actor: UserId,
    user: UserId,
    active: bool,
) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    db::users::set_active(&mut *tx, user, active).await?;
    let (action, changes) = if active {
        ("reactivate", json!({}))
    } else {
        let revoked = db::tokens::revoke_all(&mut *tx, user).await?;
        ("deactivate", json!({ "api_tokens_revoked": revoked }))
    };
    db::audit::record(&mut *tx, Some(actor), "user", user.0, action, changes).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password (ending every session of the user) and returns the new session epoch.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    pool: &PgPool,
    actor: Option<UserId>,
    user: UserId,
    new_password: String,
) -> ServiceResult<i32> {
    let hash = password::hash(new_password).await?;
    let mut tx = pool.begin().await?;
    let epoch = db::users::set_password(&mut *tx, user, &hash).await?;
    db::audit::record(
        &mut *tx,
        actor,
        "user",
        user.0,
        "change_password",
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(epoch)
}

/// Creates a token for `user` with `access` and returns it in full; it cannot be shown again.
/// `actor` is who asked: the user on the settings page, `None` on the command line.
#[tracing::instrument(skip_all)]
pub async fn issue_token(
    pool: &sqlx::PgPool,
    actor: Option<UserId>,
    user: UserId,
    name: &str,
    access: TokenAccess,
) -> ServiceResult<String> {
    let token = format!("wl_{}", random_token());
    let prefix: String = token.chars().take(10).collect();
    let mut tx = pool.begin().await?;
    let hash = hash_token(&token);
    let id = db::tokens::insert(&mut *tx, user, name, &hash, &prefix, access).await?;
    db::audit::record(
        &mut *tx,
        actor,
        "api_token",
        id.0,
        "create",
        json!({ "name": name, "user_id": user, "scopes": access.scopes() }),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// 32 random bytes from the operating system, URL-safe base64: API tokens, device cookies and
/// CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 of an API token, as stored. Tokens are long and random, so a fast hash is
/// enough; the plain token is shown once and never stored.
pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Parses the manager field: empty for none, else an active manager or admin.
async fn check_manager(
    pool: &PgPool,
    text: &str,
    errors: &mut FieldErrors,
) -> ServiceResult<Option<UserId>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let Ok(id) = text.parse::<i64>() else {
        errors.add("manager_id", "Choose a manager from the list.");
        return Ok(None);
    };
    let manager = db::users::find(pool, UserId(id)).await?;
    match manager {
        Some(m) if m.is_active() && m.role.sees_others() => Ok(Some(m.id)),
        _ => {
            errors.add("manager_id", "Choose an active manager or admin.");
            Ok(None)
        }
    }
}

/// A user's name, time zone and quiet hours, as typed on the settings page.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProfileInput {
    pub name: String,
    pub time_zone: String,
    pub quiet_from: String,
    pub quiet_until: String,
}

/// Saves a user's own profile; every field that does not validate has its message.
#[tracing::instrument(skip_all)]
pub async fn update_profile(pool: &PgPool, user: &User, form: &ProfileInput) -> ServiceResult<()> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", parse_name(&form.name));
    if !db::users::is_time_zone(pool, &form.time_zone).await? {
        errors.add("time_zone", "Choose a time zone from the list.");
    }
    let hour = |text: &str| {
        text.trim()
            .parse::<i16>()
            .ok()
            .filter(|h| (0..24).contains(h))
    };
    let quiet = hour(&form.quiet_from).zip(hour(&form.quiet_until));
    if quiet.is_none() {
        errors.add("quiet_hours", "Choose the hours from the lists.");
    }
    let (Some(name), Some(quiet), true) = (name, quiet, errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let mut tx = pool.begin().await?;
    db::users::update_profile(&mut *tx, user.id, &name, &form.time_zone, quiet).await?;
    let changes =
        json!({ "name": [&user.name, &name], "time_zone": [&user.time_zone, &form.time_zone] });
    db::audit::record(
        &mut *tx,
        Some(user.id),
        "user",
        user.id.0,
        "update_profile",
        changes,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Turns a user's calendar feed on with a new secret address (the old one, if any, stops
/// working), or off.
#[tracing::instrument(skip_all)]
pub async fn set_calendar_feed(pool: &PgPool, user: UserId, on: bool) -> ServiceResult<()> {
    let secret = on.then(random_token);
    let mut tx = pool.begin().await?;
    db::calendar::set_secret(&mut *tx, user, secret.as_deref()).await?;
    let action = if on { "calendar_new" } else { "calendar_off" };
    db::audit::record(&mut *tx, Some(user), "user", user.0, action, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes one of a user's own API tokens.
#[tracing::instrument(skip_all)]
pub async fn revoke_token(pool: &PgPool, user: UserId, token: TokenId) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    if !db::tokens::revoke(&mut *tx, user, token).await? {
        return Err(ServiceError::NotFound);
    }
    db::audit::record(
        &mut *tx,
        Some(user),
        "api_token",
        token.0,
        "revoke",
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What `/setup` posts.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SetupForm {
    pub name: String,
    pub email: String,
    pub password: String,
    pub time_zone: String,
}

/// Creates the first admin. Exists only while there is no user (`NotFound` after): the check
/// and the insert happen under one lock, so two racing setups create one admin.
#[tracing::instrument(skip_all)]
pub async fn create_first_admin(pool: &PgPool, form: &SetupForm) -> ServiceResult<User> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", parse_name(&form.name));
    let email = errors.check("email", Email::parse(&form.email));
    if let Some(email) = &email {
        errors.check("password", check_password(&form.password, email.as_str()));
    }
    if !db::users::is_time_zone(pool, &form.time_zone).await? {
        errors.add("time_zone", "Choose a time zone from the list.");
    }
    let (Some(name), Some(email), true) = (name, email, errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let hash = password::hash(form.password.clone()).await?;
    let mut tx = pool.begin().await?;
    db::users::lock_tree(&mut tx).await?;
    if db::users::any_exist(&mut *tx).await? {
        return Err(ServiceError::NotFound);
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
    db::users::find(pool, id)
        .await?
        .ok_or(ServiceError::NotFound)
}
