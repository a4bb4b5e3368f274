//! Webhooks, per the Standard Webhooks specification: admins register endpoints (on
//! `/webhooks` or through the API), the database's triggers write each event to an outbox in
//! the transaction of the change, and [`delivery`] sends the outbox, signed, at least once and
//! in order per endpoint.

pub mod delivery;
pub mod metrics;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use serde_json::json;
use sqlx::PgPool;

use crate::db;
use crate::db::webhooks::{Delivery, Endpoint};
use crate::domain::fields::FieldErrors;
use crate::domain::users::User;
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::form::is_unstorable;
use crate::web::{AppError, AppResult, FlashKind, PageContext, redirect_with_flash, render};

/// Every event an endpoint can subscribe to, with what it means.
pub const EVENT_TYPES: [(&str, &str); 5] = [
    ("ask.created", "A referral ask is logged."),
    (
        "ask.stage_changed",
        "An ask moves to another stage (introduced, meeting, won …).",
    ),
    (
        "follow_up.overdue",
        "A follow-up passes its due date without being done.",
    ),
    (
        "follow_up.escalated",
        "An overdue follow-up is escalated to the owner's manager.",
    ),
    ("follow_up.done", "A follow-up is marked done."),
];

/// The longest endpoint address.
const MAX_URL: usize = 2000;
/// The longest description.
const MAX_DESCRIPTION: usize = 200;

/// An endpoint to register, checked.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
}

impl NewEndpoint {
    /// Checks raw input: an `http(s)` address with a host, a short description, and at least
    /// one known event (none named means all of them, for API callers that leave it out).
    pub fn parse(
        url: &str,
        description: &str,
        event_types: Option<&[String]>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let url = url.trim();
        if let Err(message) = delivery::Target::parse(url) {
            errors.add("url", message);
        } else if url.chars().count() > MAX_URL {
            errors.add(
                "url",
                format!("Use an address of at most {MAX_URL} characters."),
            );
        }
        let description = description.trim();
        if description.chars().count() > MAX_DESCRIPTION {
            errors.add(
                "description",
                format!("Keep the description to {MAX_DESCRIPTION} characters."),
            );
        } else if description.chars().any(|c| is_unstorable(c) || c == '\n') {
            errors.add("description", "Write the description on one line.");
        }
        let event_types = match event_types {
            None => EVENT_TYPES.iter().map(|(t, _)| t.to_string()).collect(),
            Some(chosen) => {
                let mut known = Vec::new();
                for t in chosen {
                    if !EVENT_TYPES.iter().any(|(k, _)| k == t) {
                        errors.add(
                            "event_types",
                            format!(
                                "Unknown event {t:?}: choose from {}.",
                                EVENT_TYPES.map(|(k, _)| k).join(", ")
                            ),
                        );
                    } else if !known.contains(t) {
                        known.push(t.clone());
                    }
                }
                if known.is_empty() {
                    errors.add("event_types", "Choose at least one event to send.");
                }
                known
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            url: url.to_string(),
            description: description.to_string(),
            event_types,
        })
    }
}

/// A registered endpoint and its signing secret, shown this once.
#[derive(Debug, Clone)]
pub struct Created {
    pub endpoint_id: i64,
    pub secret: String,
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", BASE64.encode(key))
}

/// Registers an endpoint, with an audit row; the secret is returned once and kept only to sign.
pub async fn create(pool: &PgPool, admin: &User, new: &NewEndpoint) -> sqlx::Result<Created> {
    let secret = new_secret();
    let mut tx = pool.begin().await?;
    let endpoint_id = db::webhooks::insert(
        &mut *tx,
        &new.url,
        &new.description,
        &secret,
        &new.event_types,
        admin.id,
    )
    .await?;
    db::audit::record(
        &mut *tx,
        Some(admin.id),
        "webhook_endpoint",
        endpoint_id,
        "create",
        json!({ "url": new.url, "event_types": new.event_types }),
    )
    .await?;
    tx.commit().await?;
    Ok(Created {
        endpoint_id,
        secret,
    })
}

/// A change an admin makes to an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Delete it and its undelivered messages.
    Delete,
    /// Enable a disabled endpoint again; its waiting messages go out at once.
    Enable,
}

/// Makes the change `what` to endpoint `id` with an audit row, in one transaction; false when there
/// is no such endpoint (or, to enable, no such disabled one).
pub async fn change(pool: &PgPool, admin: &User, id: i64, what: Change) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let (changed, action) = match what {
        Change::Delete => (db::webhooks::delete(&mut *tx, id).await?, "delete"),
        Change::Enable => (db::webhooks::enable(&mut *tx, id).await?, "enable"),
    };
    if !changed {
        return Ok(false);
    }
    db::audit::record(
        &mut *tx,
        Some(admin.id),
        "webhook_endpoint",
        id,
        action,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The admin's webhook routes; anyone else gets 404.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(show_webhooks).post(create_endpoint))
        .route("/webhooks/{id}/delete", post(delete_endpoint))
        .route("/webhooks/{id}/enable", post(enable_endpoint))
}

/// An endpoint with its latest deliveries.
struct EndpointView {
    endpoint: Endpoint,
    deliveries: Vec<Delivery>,
}

/// The webhooks page: the endpoints, their deliveries, and the form to add one.
#[derive(Template)]
#[template(path = "webhooks/list.html")]
struct WebhooksPage {
    ctx: PageContext,
    endpoints: Vec<EndpointView>,
    /// Each event with its meaning and whether the form has it ticked.
    choices: Vec<(&'static str, &'static str, bool)>,
    /// The form's input after a refusal.
    url: String,
    description: String,
    errors: FieldErrors,
    /// A new endpoint's secret, shown once.
    created: Option<Created>,
}

/// Deliveries listed per endpoint.
const RECENT_DELIVERIES: i64 = 10;

async fn webhooks_page(
    state: &AppState,
    ctx: PageContext,
    form: Option<(NewEndpointForm, FieldErrors)>,
    created: Option<Created>,
    status: StatusCode,
) -> AppResult<Response> {
    let mut endpoints = Vec::new();
    for endpoint in db::webhooks::list(&state.pool).await? {
        let deliveries =
            db::webhooks::recent_deliveries(&state.pool, endpoint.endpoint_id, RECENT_DELIVERIES)
                .await?;
        endpoints.push(EndpointView {
            endpoint,
            deliveries,
        });
    }
    let (form, errors) = form.unwrap_or_default();
    // A fresh form offers every event; a refused one keeps what was ticked.
    let fresh = errors.is_empty();
    let choices = EVENT_TYPES
        .iter()
        .map(|&(kind, meaning)| {
            (
                kind,
                meaning,
                fresh || form.event_types.iter().any(|t| t == kind),
            )
        })
        .collect();
    render(
        status,
        &WebhooksPage {
            ctx,
            endpoints,
            choices,
            url: form.url,
            description: form.description,
            errors,
            created,
        },
    )
}

async fn show_webhooks(
    State(state): State<AppState>,
    Admin(_): Admin,
    ctx: PageContext,
) -> AppResult<Response> {
    webhooks_page(&state, ctx, None, None, StatusCode::OK).await
}

/// The add-an-endpoint form, read from its pairs: the events are repeated checkboxes.
#[derive(Debug, Default)]
struct NewEndpointForm {
    url: String,
    description: String,
    event_types: Vec<String>,
}

impl NewEndpointForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "url" => form.url = value,
                "description" => form.description = value,
                "event_type" => form.event_types.push(value),
                _ => {}
            }
        }
        form
    }
}

async fn create_endpoint(
    State(state): State<AppState>,
    Admin(admin): Admin,
    ctx: PageContext,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let form = NewEndpointForm::from_pairs(pairs);
    match NewEndpoint::parse(&form.url, &form.description, Some(&form.event_types)) {
        Err(errors) => {
            webhooks_page(
                &state,
                ctx,
                Some((form, errors)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Ok(new) => {
            let created = create(&state.pool, &admin, &new).await?;
            webhooks_page(&state, ctx, None, Some(created), StatusCode::OK).await
        }
    }
}

async fn delete_endpoint(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if !change(&state.pool, &admin, id, Change::Delete).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect_with_flash(
        "/webhooks",
        FlashKind::Success,
        "The endpoint is deleted; its undelivered messages are dropped.",
    ))
}

async fn enable_endpoint(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    if !change(&state.pool, &admin, id, Change::Enable).await? {
        return Err(AppError::NotFound);
    }
    Ok(redirect_with_flash(
        "/webhooks",
        FlashKind::Success,
        "The endpoint is enabled; its waiting messages are being sent.",
    ))
}
