//! Sends the webhook outbox: a background task claims one endpoint at a time (a lease in the
//! database, so several instances never send one endpoint's messages side by side), posts its
//! undelivered messages oldest first, and stops at the first failure, which is retried after an
//! exponentially growing pause. Messages therefore arrive in order per endpoint, and at least
//! once: a process that dies after the receiver answered but before it recorded the answer
//! sends that message again, with the same `webhook-id`. An endpoint that has failed for
//! [`DISABLE_AFTER`] is disabled and the admins are told.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::json;
use sha2::Sha256;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::db;
use crate::db::webhooks::{Claimed, Message};
use crate::state::AppState;

/// How long a receiver has to answer one message.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages sent per claim before the endpoint is given back (and other endpoints get a turn).
const BATCH: i64 = 5;
/// How long a claim on an endpoint lasts: longer than a whole batch of attempts that each
/// time out, so no other process can claim the endpoint while this one still sends.
const LEASE_SECS: f64 = 60.0;
const _: () = assert!((BATCH as f64) * (ATTEMPT_TIMEOUT.as_secs() as f64 + 1.0) < LEASE_SECS);
/// How often the task looks for due messages.
const POLL: Duration = Duration::from_secs(1);
/// The longest pause between two attempts at one message.
const MAX_RETRY: Duration = Duration::from_secs(3600);
/// An endpoint failing this long is disabled.
pub const DISABLE_AFTER: time::Duration = time::Duration::hours(24);

/// Where a message goes: a parsed `http` or `https` address.
#[derive(Debug, Clone)]
pub struct Target {
    https: bool,
    host: String,
    port: u16,
    /// Path and query, as sent in the request line.
    path: String,
    /// The `Host` header.
    authority: String,
}

impl Target {
    /// Parses an endpoint address; the message says what is wrong with it.
    pub fn parse(url: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|_| {
            "Enter the full address the receiver listens on, e.g. https://hooks.example.com/warmline."
                .to_string()
        })?;
        let https = match parsed.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err("Use an http:// or https:// address.".to_string()),
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| "The address needs a host name.".to_string())?
            .to_string();
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(
                "Leave user names and passwords out of the address: messages are signed instead."
                    .to_string(),
            );
        }
        let port = parsed.port_or_known_default().unwrap_or(80);
        let path = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_string(),
        };
        let authority = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        Ok(Self {
            https,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            path,
            authority,
        })
    }
}

/// The `webhook-signature` header's value: `v1,` and the base64 HMAC-SHA256, keyed with the
/// secret's decoded bytes, of `id.timestamp.body`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .context("the endpoint's secret is not base64")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).context("the secret is unusable")?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

/// A message's body: its type, when the event happened, and its data. The same on every attempt.
pub fn body(message: &Message) -> Result<Vec<u8>> {
    let timestamp = message
        .created_at
        .format(&Rfc3339)
        .context("formatting the event's time")?;
    Ok(serde_json::to_vec(&json!({
        "type": message.event_type,
        "timestamp": timestamp,
        "data": message.data,
    }))?)
}

/// How long to wait after the `attempts`-th failed attempt: `base`, doubled each time, at most
/// an hour.
pub fn retry_pause(base_secs: f64, attempts: i32) -> Duration {
    let exponent = attempts.clamp(1, 30) - 1;
    Duration::from_secs_f64(base_secs.max(0.0) * 2f64.powi(exponent)).min(MAX_RETRY)
}

/// What one attempt came to.
enum Outcome {
    /// A 2xx answer, with its status.
    Delivered(u16),
    /// Another answer, or none; the status when there was one.
    Failed(Option<u16>, String),
}

/// Posts one message.
async fn send(target: &Target, secret: &str, message: &Message) -> Outcome {
    match tokio::time::timeout(ATTEMPT_TIMEOUT, post(target, secret, message)).await {
        Err(_) => Outcome::Failed(None, format!("no answer within {ATTEMPT_TIMEOUT:?}")),
        Ok(Err(error)) => Outcome::Failed(None, format!("{error:#}")),
        Ok(Ok(status)) if (200..300).contains(&status) => Outcome::Delivered(status),
        Ok(Ok(status)) => Outcome::Failed(Some(status), format!("the receiver answered {status}")),
    }
}

async fn post(target: &Target, secret: &str, message: &Message) -> Result<u16> {
    let body = body(message)?;
    let id = format!("msg_{}", message.webhook_id.simple());
    let timestamp = OffsetDateTime::now_utc().unix_timestamp();
    let request = hyper::Request::post(&target.path)
        .header(hyper::header::HOST, &target.authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(hyper::header::USER_AGENT, "Warmline-Webhooks/1")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature(secret, &id, timestamp, &body)?,
        )
        .body(Full::new(Bytes::from(body)))?;
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .with_context(|| format!("connecting to {}", target.authority))?;
    tcp.set_nodelay(true)?;
    if target.https {
        let tls = tls_connector()
            .connect(
                rustls::pki_types::ServerName::try_from(target.host.clone())?,
                tcp,
            )
            .await
            .context("TLS handshake")?;
        exchange(tls, request).await
    } else {
        exchange(tcp, request).await
    }
}

/// One request on a fresh connection; the answer's body is read and dropped.
async fn exchange<S>(stream: S, request: hyper::Request<Full<Bytes>>) -> Result<u16>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP handshake")?;
    let driver = tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .context("sending the message")?;
    let status = response.status().as_u16();
    // Read (at most a little of) the answer so the receiver is not cut off mid-write.
    let _ = tokio::time::timeout(Duration::from_secs(1), response.into_body().collect()).await;
    driver.abort();
    Ok(status)
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    static CONFIG: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|error| {
            // The ring provider supports the default versions; this cannot happen.
            panic!("TLS configuration: {error}")
        });
        Arc::new(config)
    });
    tokio_rustls::TlsConnector::from(Arc::clone(config))
}

/// Delivers the due messages of one claimed endpoint, in order, until one fails or the batch
/// is done. Returns how many were delivered.
async fn deliver_endpoint(state: &AppState, endpoint: &Claimed) -> Result<u64> {
    let metrics = &state.webhook_metrics;
    let target = match Target::parse(&endpoint.url) {
        Ok(target) => target,
        Err(message) => bail!("endpoint {}: {message}", endpoint.endpoint_id),
    };
    let mut delivered = 0;
    for message in db::webhooks::pending(&state.pool, endpoint.endpoint_id, BATCH).await? {
        match send(&target, &endpoint.secret, &message).await {
            Outcome::Delivered(status) => {
                db::webhooks::mark_delivered(&state.pool, message.message_id, i32::from(status))
                    .await?;
                metrics.delivered.fetch_add(1, Ordering::Relaxed);
                delivered += 1;
            }
            Outcome::Failed(status, error) => {
                metrics.failed.fetch_add(1, Ordering::Relaxed);
                let pause = retry_pause(state.config.webhook_retry_secs, message.attempts + 1);
                let failing_since = db::webhooks::mark_failed(
                    &state.pool,
                    message.message_id,
                    status.map(i32::from),
                    &error,
                    pause.as_secs_f64(),
                )
                .await?;
                tracing::warn!(
                    endpoint = endpoint.endpoint_id.0,
                    message = message.message_id.0,
                    attempt = message.attempts + 1,
                    retry_in_secs = pause.as_secs_f64(),
                    %error,
                    "webhook delivery failed"
                );
                if OffsetDateTime::now_utc() - failing_since >= DISABLE_AFTER {
                    let reason = format!(
                        "every delivery failed for 24 hours (last: {error}); enable it again on the Webhooks page once the receiver works"
                    );
                    if db::webhooks::disable(&state.pool, endpoint.endpoint_id, &reason).await? {
                        metrics.disabled.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(
                            endpoint = endpoint.endpoint_id.0,
                            "webhook endpoint disabled"
                        );
                    }
                }
                break;
            }
        }
    }
    Ok(delivered)
}

/// Delivers everything due now, one endpoint after another. Returns the messages delivered.
pub async fn deliver_due(state: &AppState) -> Result<u64> {
    let mut delivered = 0;
    while let Some(endpoint) = db::webhooks::claim(&state.pool, LEASE_SECS)
        .await
        .context("claiming an endpoint")?
    {
        let outcome = deliver_endpoint(state, &endpoint).await;
        let released = db::webhooks::release(&state.pool, endpoint.endpoint_id).await;
        delivered += outcome?;
        released.context("releasing an endpoint")?;
    }
    Ok(delivered)
}

/// Sends due messages every second until `shutdown` turns true; a failure is logged and the
/// next round tries again. A message being sent when shutdown comes is sent again later.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            outcome = deliver_due(&state) => {
                if let Err(error) = outcome {
                    tracing::error!(error = %format!("{error:#}"), "webhook delivery round failed");
                }
            }
            _ = shutdown.changed() => break,
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => break,
        }
    }
    tracing::info!("webhook delivery stopped");
}
