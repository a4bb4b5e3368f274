//! Every change to the webhook endpoints: checked input, the transaction, the audit row.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore;
use serde_json::json;
use sqlx::PgPool;

use super::delivery;
use crate::db;
use crate::domain::error::{ServiceError, ServiceResult};
use crate::domain::fields::{FieldErrors, is_unstorable};
use crate::domain::users::User;
use crate::domain::webhooks::EndpointId;

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
    pub endpoint_id: EndpointId,
    pub secret: String,
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", BASE64.encode(key))
}

/// Registers an endpoint, with an audit row; the secret is returned once and kept only to sign.
#[tracing::instrument(skip_all)]
pub async fn create(pool: &PgPool, admin: &User, new: &NewEndpoint) -> ServiceResult<Created> {
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
        endpoint_id.0,
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

/// Makes the change `what` to endpoint `id` with an audit row, in one transaction. Not found
/// when there is no such endpoint (or, to enable, no such disabled one).
#[tracing::instrument(skip_all)]
pub async fn change(
    pool: &PgPool,
    admin: &User,
    id: EndpointId,
    what: Change,
) -> ServiceResult<()> {
    let mut tx = pool.begin().await?;
    let (changed, action) = match what {
        Change::Delete => (db::webhooks::delete(&mut *tx, id).await?, "delete"),
        Change::Enable => (db::webhooks::enable(&mut *tx, id).await?, "enable"),
    };
    if !changed {
        return Err(ServiceError::NotFound);
    }
    db::audit::record(
        &mut *tx,
        Some(admin.id),
        "webhook_endpoint",
        id.0,
        action,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
