//! Webhooks, per the Standard Webhooks specification: admins register endpoints (on
//! `/webhooks` or through the API), the database's triggers write each event to an outbox in
//! the transaction of the change, and [`delivery`] sends the outbox, signed, at least once and
//! in order per endpoint.

pub mod delivery;
pub mod metrics;
pub mod service;

pub use service::{Change, Created, EVENT_TYPES, NewEndpoint, change, create};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};

use crate::db;
use crate::db::webhooks::{Delivery, Endpoint};
use crate::domain::fields::FieldErrors;
use crate::domain::webhooks::EndpointId;
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::{AppResult, FlashKind, PageContext, redirect_with_flash, render};

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
    Path(id): Path<EndpointId>,
) -> AppResult<Response> {
    change(&state.pool, &admin, id, Change::Delete).await?;
    Ok(redirect_with_flash(
        "/webhooks",
        FlashKind::Success,
        "The endpoint is deleted; its undelivered messages are dropped.",
    ))
}

async fn enable_endpoint(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<EndpointId>,
) -> AppResult<Response> {
    change(&state.pool, &admin, id, Change::Enable).await?;
    Ok(redirect_with_flash(
        "/webhooks",
        FlashKind::Success,
        "The endpoint is enabled; its waiting messages are being sent.",
    ))
}
