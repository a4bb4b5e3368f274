//! Webhook endpoints and their outbox (`webhook_messages`). Triggers write the outbox in the
//! transaction of each change (see the webhooks migration); this module registers endpoints
//! and lets the delivery task claim, send and settle messages.

use serde::Serialize;
use serde_json::Value;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::users::UserId;
use crate::domain::webhooks::{EndpointId, MessageId};

/// An endpoint as the admin page and the API show it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub endpoint_id: EndpointId,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub disabled_at: Option<OffsetDateTime>,
    pub disabled_reason: Option<String>,
    /// Messages not yet delivered.
    pub pending: i64,
}

/// A message as the admin page lists it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub message_id: MessageId,
    pub webhook_id: Uuid,
    pub event_type: String,
    pub created_at: OffsetDateTime,
    pub attempts: i32,
    pub next_attempt_at: OffsetDateTime,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<OffsetDateTime>,
}

/// An endpoint claimed for delivery.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub endpoint_id: EndpointId,
    pub url: String,
    pub secret: String,
    pub failing_since: Option<OffsetDateTime>,
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct Message {
    pub message_id: MessageId,
    pub webhook_id: Uuid,
    pub event_type: String,
    pub data: Value,
    pub created_at: OffsetDateTime,
    pub attempts: i32,
}

/// The outbox's figures, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct OutboxFigures {
    pub pending: i64,
    pub oldest_pending_secs: f64,
    pub endpoints_enabled: i64,
    pub endpoints_disabled: i64,
}

/// Registers an endpoint and returns its id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    url: &str,
    description: &str,
    secret: &str,
    event_types: &[String],
    created_by: UserId,
) -> sqlx::Result<EndpointId> {
    sqlx::query_scalar!(
        r#"insert into webhook_endpoints (url, description, secret, event_types, created_by)
           values ($1, $2, $3, $4, $5) returning endpoint_id as "endpoint_id: EndpointId""#,
        url,
        description,
        secret,
        event_types,
        created_by as UserId
    )
    .fetch_one(db)
    .await
}

/// Every endpoint, oldest first, with its count of undelivered messages.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Endpoint>> {
    sqlx::query_as!(
        Endpoint,
        r#"select e.endpoint_id as "endpoint_id: EndpointId", e.url, e.description, e.event_types, e.created_at, e.failing_since,
                  e.disabled_at, e.disabled_reason,
                  (select count(*) from webhook_messages m
                   where m.endpoint_id = e.endpoint_id and m.delivered_at is null) as "pending!"
           from webhook_endpoints e order by e.endpoint_id"#
    )
    .fetch_all(db)
    .await
}

/// One endpoint.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(db: impl PgExecutor<'_>, id: EndpointId) -> sqlx::Result<Option<Endpoint>> {
    sqlx::query_as!(
        Endpoint,
        r#"select e.endpoint_id as "endpoint_id: EndpointId", e.url, e.description, e.event_types, e.created_at, e.failing_since,
                  e.disabled_at, e.disabled_reason,
                  (select count(*) from webhook_messages m
                   where m.endpoint_id = e.endpoint_id and m.delivered_at is null) as "pending!"
           from webhook_endpoints e where e.endpoint_id = $1"#,
        id as EndpointId
    )
    .fetch_optional(db)
    .await
}

/// Deletes an endpoint and its messages; false when there is none.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, id: EndpointId) -> sqlx::Result<bool> {
    let n = sqlx::query!(
        "delete from webhook_endpoints where endpoint_id = $1",
        id as EndpointId
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Enables a disabled endpoint again, its undelivered messages due at once; false when there
/// is no such disabled endpoint.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn enable(db: impl PgExecutor<'_>, id: EndpointId) -> sqlx::Result<bool> {
    let n = sqlx::query!(
        "with enabled as (
             update webhook_endpoints
             set disabled_at = null, disabled_reason = null, failing_since = null
             where endpoint_id = $1 and disabled_at is not null
             returning endpoint_id
         ), due as (
             update webhook_messages m set next_attempt_at = now()
             from enabled e where m.endpoint_id = e.endpoint_id and m.delivered_at is null
         )
         select endpoint_id from enabled",
        id as EndpointId
    )
    .fetch_all(db)
    .await?
    .len();
    Ok(n == 1)
}

/// The endpoint's latest messages, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn recent_deliveries(
    db: impl PgExecutor<'_>,
    endpoint: EndpointId,
    limit: i64,
) -> sqlx::Result<Vec<Delivery>> {
    sqlx::query_as!(
        Delivery,
        r#"select message_id as "message_id: MessageId", webhook_id, event_type, created_at, attempts,
                  next_attempt_at, last_status, last_error, delivered_at
           from webhook_messages where endpoint_id = $1
           order by message_id desc limit $2"#,
        endpoint as EndpointId,
        limit
    )
    .fetch_all(db)
    .await
}

/// Claims one enabled endpoint whose oldest undelivered message is due and that no other
/// process holds, leasing it for `lease_secs`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim(db: impl PgExecutor<'_>, lease_secs: f64) -> sqlx::Result<Option<Claimed>> {
    sqlx::query_as!(
        Claimed,
        r#"update webhook_endpoints e set leased_until = now() + make_interval(secs => $1)
           where e.endpoint_id = (
               select c.endpoint_id from webhook_endpoints c
               where c.disabled_at is null and (c.leased_until is null or c.leased_until < now())
                 and (select m.next_attempt_at from webhook_messages m
                      where m.endpoint_id = c.endpoint_id and m.delivered_at is null
                      order by m.message_id limit 1) <= now()
               order by c.endpoint_id
               limit 1
               for update skip locked
           )
           returning e.endpoint_id as "endpoint_id: EndpointId", e.url, e.secret, e.failing_since"#,
        lease_secs
    )
    .fetch_optional(db)
    .await
}

/// Gives a claimed endpoint back.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn release(db: impl PgExecutor<'_>, endpoint: EndpointId) -> sqlx::Result<()> {
    sqlx::query!(
        "update webhook_endpoints set leased_until = null where endpoint_id = $1",
        endpoint as EndpointId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The endpoint's oldest undelivered messages, in order.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn pending(
    db: impl PgExecutor<'_>,
    endpoint: EndpointId,
    limit: i64,
) -> sqlx::Result<Vec<Message>> {
    sqlx::query_as!(
        Message,
        r#"select message_id as "message_id: MessageId", webhook_id, event_type, data, created_at, attempts
           from webhook_messages where endpoint_id = $1 and delivered_at is null
           order by message_id limit $2"#,
        endpoint as EndpointId,
        limit
    )
    .fetch_all(db)
    .await
}

/// Records a successful delivery, and that the endpoint works.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_delivered(
    db: impl PgExecutor<'_>,
    message: MessageId,
    status: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "with delivered as (
             update webhook_messages
             set delivered_at = now(), last_attempt_at = now(), attempts = attempts + 1,
                 last_status = $2, last_error = null
             where message_id = $1
             returning endpoint_id
         )
         update webhook_endpoints e set failing_since = null
         from delivered d where e.endpoint_id = d.endpoint_id",
        message as MessageId,
        status
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt: the message is retried after `retry_secs`, and the endpoint's
/// run of failures starts now if it has not already. Returns when that run began.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    message: MessageId,
    status: Option<i32>,
    error: &str,
    retry_secs: f64,
) -> sqlx::Result<OffsetDateTime> {
    sqlx::query_scalar!(
        r#"with failed as (
               update webhook_messages
               set last_attempt_at = now(), attempts = attempts + 1, last_status = $2,
                   last_error = left($3, 500), next_attempt_at = now() + make_interval(secs => $4)
               where message_id = $1
               returning endpoint_id
           )
           update webhook_endpoints e set failing_since = coalesce(e.failing_since, now())
           from failed f where e.endpoint_id = f.endpoint_id
           returning e.failing_since as "failing_since!""#,
        message as MessageId,
        status,
        error,
        retry_secs
    )
    .fetch_one(db)
    .await
}

/// Disables an endpoint that has failed for too long and tells every active admin, once.
/// Returns whether this call disabled it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn disable(
    db: impl PgExecutor<'_>,
    endpoint: EndpointId,
    reason: &str,
) -> sqlx::Result<bool> {
    let row = sqlx::query!(
        r#"with disabled as (
               update webhook_endpoints
               set disabled_at = now(), disabled_reason = left($2, 500), leased_until = null
               where endpoint_id = $1 and disabled_at is null
               returning url
           ), notified as (
               insert into notifications (user_id, kind, body)
               select u.user_id, 'info',
                      left('Webhook endpoint ' || d.url || ' was disabled: ' || $2, 2000)
               from disabled d cross join users u
               where u.role = 'admin' and u.deactivated_at is null
           )
           select count(*) as "n!" from disabled"#,
        endpoint as EndpointId,
        reason
    )
    .fetch_one(db)
    .await?;
    Ok(row.n == 1)
}

/// The outbox's size and age.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn figures(db: impl PgExecutor<'_>) -> sqlx::Result<OutboxFigures> {
    let row = sqlx::query!(
        r#"select (select count(*) from webhook_messages where delivered_at is null) as "pending!",
                  coalesce((select extract(epoch from now() - min(created_at))::float8
                            from webhook_messages where delivered_at is null), 0) as "oldest!",
                  (select count(*) from webhook_endpoints where disabled_at is null) as "enabled!",
                  (select count(*) from webhook_endpoints where disabled_at is not null) as "disabled!""#
    )
    .fetch_one(db)
    .await?;
    Ok(OutboxFigures {
        pending: row.pending,
        oldest_pending_secs: row.oldest,
        endpoints_enabled: row.enabled,
        endpoints_disabled: row.disabled,
    })
}
