//! Webhooks: endpoints an admin registers, events written to the outbox in the transaction of
//! the change, signed deliveries (Standard Webhooks) in order and at least once, retries,
//! disabling after a day of failures, and the API.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use warmline::config::Config;
use warmline::state::AppState;
use warmline::webhooks::delivery::deliver_due;

use crate::asks::{log_ask, record};
use crate::common::{TestApp, fresh_database};

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Checks the signature the way a receiver would, from the specification alone.
    fn verify(&self, secret: &str) {
        let key = BASE64
            .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
        assert!(
            self.signature.split(' ').any(|s| s == expected),
            "signature {} does not match {expected}",
            self.signature
        );
        let sent: i64 = self.timestamp.parse().unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(
            (now - sent).abs() < 60,
            "timestamp {sent} is not now ({now})"
        );
    }
}

/// A receiver on a local port: it answers each request with the next status of `answers`
/// (200 once they run out) after `delay`, and keeps what it got.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(answers: Vec<u16>, delay: Duration) -> Self {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answers = Arc::new(Mutex::new(answers.into_iter()));
        let kept = got.clone();
        let app = Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let kept = kept.clone();
                let answers = answers.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    kept.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8(body.to_vec()).unwrap(),
                    });
                    let status = answers.lock().unwrap().next().unwrap_or(200);
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, got }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// An application whose state the test keeps, to run deliveries itself; retries come fast.
async fn app_with_state() -> (TestApp, AppState) {
    let (pool, url) = fresh_database().await;
    let mut config = Config::for_database(Some(url));
    config.webhook_retry_secs = 0.2;
    let state = AppState::new(pool.clone(), config);
    (TestApp::over(warmline::app(state.clone()), pool), state)
}

/// Registers an endpoint on the admin page and returns its secret.
async fn add_endpoint(admin: &TestApp, url: &str, events: &[&str]) -> String {
    admin.get("/webhooks").await.assert_status(StatusCode::OK);
    let mut fields = vec![("url", url), ("description", "CRM sync")];
    fields.extend(events.iter().map(|e| ("event_type", *e)));
    let res = admin.post_form("/webhooks", &fields).await;
    res.assert_status(StatusCode::OK)
        .assert_contains("it will not be shown again");
    let start = res.body.find("id=\"new-secret\">").unwrap() + "id=\"new-secret\">".len();
    res.body[start..start + res.body[start..].find('<').unwrap()].to_string()
}

#[tokio::test]
async fn events_are_signed_delivered_in_order_and_a_failed_delivery_is_retried() {
    let (app, state) = app_with_state().await;
    let receiver = Receiver::start(vec![500], Duration::ZERO).await;
    let admin = app.new_client();
    admin.login_as_new("admin@example.com", "admin", None).await;
    let secret = add_endpoint(
        &admin,
        &receiver.url,
        &["ask.created", "ask.stage_changed", "follow_up.done"],
    )
    .await;
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    admin.get("/webhooks").await.assert_lacks(&secret);

    app.login_as_new("rep@example.com", "rep", None).await;
    let ask = log_ask(&app, "Dana Client", "Someone at Contoso", "Knows their CFO").await;
    record(&app, ask, &[("kind", "introduced"), ("note", "")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    // The ask's own follow-up, marked done on its page.
    let follow_up: i64 = sqlx::query_scalar(
        "select follow_up_id from follow_ups where ask_id = $1 and done_at is null order by follow_up_id limit 1",
    )
    .bind(ask)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    app.get("/follow-ups").await;
    app.post_form(&format!("/follow-ups/{follow_up}/done"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let queued: Vec<String> =
        sqlx::query_scalar("select event_type from webhook_messages order by message_id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(queued[0], "ask.created");
    assert_eq!(queued[1], "ask.stage_changed");
    assert!(
        queued[2..].iter().all(|t| t == "follow_up.done"),
        "{queued:?}"
    );
    assert!(queued.len() >= 3, "{queued:?}");

    // First round: the receiver answers 500 to the first message; nothing behind it goes out.
    assert_eq!(deliver_due(&state).await.unwrap(), 0);
    assert_eq!(receiver.got().len(), 1);
    let (attempts, status, delivered): (i32, Option<i32>, Option<time::OffsetDateTime>) =
        sqlx::query_as(
            "select attempts, last_status, delivered_at from webhook_messages order by message_id limit 1",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!((attempts, status, delivered), (1, Some(500), None));
    // Not yet due again.
    assert_eq!(deliver_due(&state).await.unwrap(), 0);
    assert_eq!(receiver.got().len(), 1);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(deliver_due(&state).await.unwrap(), queued.len() as u64);
    let got = receiver.got();
    assert_eq!(got.len(), queued.len() + 1);
    for r in &got {
        r.verify(&secret);
    }
    assert_eq!(got[0].id, got[1].id, "a retry keeps its webhook-id");
    assert_eq!(got[0].body, got[1].body, "and its body");
    let types: Vec<String> = got[1..]
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, queued, "in the order they happened");
    let created = got[0].json();
    assert_eq!(created["data"]["ask_id"], ask);
    assert_eq!(created["data"]["target_description"], "Someone at Contoso");
    let moved = got[2].json();
    assert_eq!(moved["data"]["stage"], "introduced");
    assert_eq!(moved["data"]["previous_stage"], "asked");
    // Recording the introduction completed the ask's first follow-up; the page did the other.
    let done: Vec<Value> = got[3..].iter().map(|r| r.json()["data"].clone()).collect();
    assert!(done.iter().all(|d| d["done_at"].is_string()), "{done:?}");
    assert_eq!(done.last().unwrap()["follow_up_id"], follow_up);

    let metrics = app.get("/metrics").await;
    metrics
        .assert_contains(&format!(
            "warmline_webhook_deliveries_total {}",
            queued.len()
        ))
        .assert_contains("warmline_webhook_failed_attempts_total 1")
        .assert_contains("warmline_webhook_outbox_pending 0")
        .assert_contains("warmline_webhook_endpoints_enabled 1")
        .assert_contains("warmline_db_pool_waiting 0");
    admin
        .get("/webhooks")
        .await
        .assert_contains("Delivered (200)")
        .assert_contains("0 waiting");

    // A change that rolls back sends nothing.
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query("update referral_asks set stage = 'meeting_scheduled' where ask_id = $1")
        .bind(ask)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        app.count("select count(*) from webhook_messages").await,
        queued.len() as i64
    );
}

#[tokio::test]
async fn an_endpoint_failing_for_a_day_is_disabled_with_a_notice_and_can_be_enabled_again() {
    let (app, state) = app_with_state().await;
    // A port nothing listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let admin = app.new_client();
    admin.login_as_new("admin@example.com", "admin", None).await;
    add_endpoint(&admin, &url, &["follow_up.overdue", "follow_up.escalated"]).await;

    // The sweeper's changes enqueue too: a rep's follow-up overdue and then escalated.
    let manager = app
        .create_user("boss@example.com", "Boss", "manager", None)
        .await;
    let rep = app
        .create_user("rep@example.com", "Rep", "rep", Some(manager))
        .await;
    sqlx::query(
        "insert into follow_ups (owner_id, kind, title, due_on) values ($1, 'other', 'Call Dana', current_date - 10)",
    )
    .bind(rep.0)
    .execute(&app.pool)
    .await
    .unwrap();
    let now = time::OffsetDateTime::now_utc();
    warmline::sweeper::sweep(&app.pool, now, Duration::ZERO)
        .await
        .unwrap();
    warmline::sweeper::sweep(&app.pool, now + time::Duration::seconds(1), Duration::ZERO)
        .await
        .unwrap();
    let queued: Vec<String> =
        sqlx::query_scalar("select event_type from webhook_messages order by message_id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(queued, ["follow_up.overdue", "follow_up.escalated"]);

    assert_eq!(deliver_due(&state).await.unwrap(), 0);
    let (disabled, error): (Option<time::OffsetDateTime>, Option<String>) = sqlx::query_as(
        "select e.disabled_at, m.last_error from webhook_endpoints e join webhook_messages m using (endpoint_id) order by m.message_id limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(disabled.is_none(), "one failure does not disable");
    assert!(error.unwrap().contains("connecting to"));

    // A day of failures later, the next failure disables the endpoint and tells the admins.
    sqlx::query(
        "with due as (update webhook_messages set next_attempt_at = now())
         update webhook_endpoints set failing_since = now() - interval '25 hours'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    deliver_due(&state).await.unwrap();
    assert_eq!(
        app.count("select count(*) from webhook_endpoints where disabled_at is not null")
            .await,
        1
    );
    let notices: Vec<String> = sqlx::query_scalar(
        "select n.body from notifications n join users u using (user_id) where u.role = 'admin'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].contains(&url) && notices[0].contains("disabled"));
    // Disabled: nothing is attempted, and new events are not queued for it.
    let attempts = app
        .count("select sum(attempts) from webhook_messages")
        .await;
    deliver_due(&state).await.unwrap();
    assert_eq!(
        app.count("select sum(attempts) from webhook_messages")
            .await,
        attempts
    );
    let page = admin.get("/webhooks").await;
    page.assert_contains("Disabled")
        .assert_contains("Enable again");
    app.get("/metrics")
        .await
        .assert_contains("warmline_webhook_endpoints_disabled 1")
        .assert_contains("warmline_webhook_outbox_pending 2");

    let id: i64 = sqlx::query_scalar("select endpoint_id from webhook_endpoints")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    admin
        .post_form(&format!("/webhooks/{id}/enable"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("select count(*) from webhook_endpoints where disabled_at is null and failing_since is null")
            .await,
        1
    );
    // Only an admin sees or changes webhooks.
    let rep_client = app.new_client();
    rep_client
        .login("rep@example.com", crate::common::PASSWORD)
        .await;
    rep_client
        .get("/webhooks")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    rep_client
        .post_form(&format!("/webhooks/{id}/delete"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    admin
        .post_form("/webhooks/999999/delete", &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    admin
        .post_form(&format!("/webhooks/{id}/delete"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.count("select count(*) from webhook_messages").await, 0);
}

#[tokio::test]
async fn the_endpoint_form_refuses_bad_input_and_writes_nothing() {
    let (app, _) = app_with_state().await;
    app.login_as_new("admin@example.com", "admin", None).await;
    app.get("/webhooks").await;
    for (fields, message) in [
        (
            vec![
                ("url", "ftp://example.com/x"),
                ("event_type", "ask.created"),
            ],
            "http:// or https://",
        ),
        (
            vec![("url", "not a url"), ("event_type", "ask.created")],
            "full address",
        ),
        (vec![("url", "https://example.com/h")], "at least one event"),
        (
            vec![
                ("url", "https://example.com/h"),
                ("event_type", "ask.deleted"),
            ],
            "Unknown event",
        ),
        (
            vec![
                ("url", "https://user:pw@example.com/h"),
                ("event_type", "ask.created"),
            ],
            "passwords",
        ),
    ] {
        app.post_form("/webhooks", &fields)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains(message);
    }
    let long = format!("https://example.com/{}", "a".repeat(2100));
    app.post_form(
        "/webhooks",
        &[("url", &long), ("event_type", "ask.created")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("select count(*) from webhook_endpoints").await, 0);
}

/// Creates an API token on the settings page and returns it.
async fn api_token(app: &TestApp) -> String {
    app.get("/settings").await;
    let res = app
        .post_form("/settings/tokens", &[("name", "script")])
        .await;
    let start = res.body.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    format!(
        "Bearer {}",
        &res.body[start..start + res.body[start..].find('<').unwrap()]
    )
}

async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    bearer: &str,
    body: &str,
) -> (StatusCode, String, HeaderMap) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", bearer)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.new_client().send(request).await;
    (res.status, res.body, res.headers)
}

#[tokio::test]
async fn admins_manage_webhooks_through_the_api() {
    let (app, _) = app_with_state().await;
    app.login_as_new("admin@example.com", "admin", None).await;
    let admin = api_token(&app).await;
    let rep_client = app.new_client();
    rep_client
        .login_as_new("rep@example.com", "rep", None)
        .await;
    let rep = api_token(&rep_client).await;

    let (status, body, headers) = api(&app, "GET", "/api/v1/webhooks", &rep, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");

    let (status, body, _) = api(
        &app,
        "POST",
        "/api/v1/webhooks",
        &admin,
        r#"{"url": "mailto:x@example.com", "event_types": ["ask.created", "nope"]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = serde_json::from_str(&body).unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["event_types", "url"]);
    let (status, _, headers) = api(&app, "POST", "/api/v1/webhooks", &admin, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(app.count("select count(*) from webhook_endpoints").await, 0);

    let (status, body, headers) = api(
        &app,
        "POST",
        "/api/v1/webhooks",
        &admin,
        r#"{"url": "https://hooks.example.com/warmline", "description": "BI"}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let id = created["endpoint_id"].as_i64().unwrap();
    assert_eq!(headers["location"], format!("/api/v1/webhooks/{id}"));
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        created["event_types"].as_array().unwrap().len(),
        5,
        "all events when none are named"
    );

    let (status, body, _) = api(&app, "GET", "/api/v1/webhooks", &admin, "").await;
    assert_eq!(status, StatusCode::OK);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        list["items"][0]["url"],
        "https://hooks.example.com/warmline"
    );
    assert!(!body.contains("whsec_"), "the secret is shown once: {body}");

    let path = format!("/api/v1/webhooks/{id}");
    assert_eq!(
        api(&app, "DELETE", &path, &rep, "").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api(&app, "DELETE", &path, &admin, "").await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api(&app, "DELETE", &path, &admin, "").await.0,
        StatusCode::NOT_FOUND
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where entity = 'webhook_endpoint' order by audit_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(actions, ["create", "delete"]);
}

#[tokio::test]
async fn two_instances_deliver_each_message_once_and_in_order() {
    let (app, state) = app_with_state().await;
    let other = AppState::new(app.pool.clone(), state.config.clone());
    let receiver = Receiver::start(Vec::new(), Duration::from_millis(20)).await;
    app.login_as_new("admin@example.com", "admin", None).await;
    let secret = add_endpoint(&app, &receiver.url, &["ask.created"]).await;
    let rep = app.new_client();
    rep.login_as_new("rep@example.com", "rep", None).await;
    let mut asks = Vec::new();
    for i in 0..12 {
        asks.push(
            log_ask(
                &rep,
                &format!("Source {i}"),
                &format!("Prospect {i}"),
                "Knows them well",
            )
            .await,
        );
    }
    let (a, b) = tokio::join!(deliver_due(&state), deliver_due(&other));
    assert_eq!(a.unwrap() + b.unwrap(), 12);
    let got = receiver.got();
    assert_eq!(got.len(), 12, "each message once");
    let order: Vec<i64> = got
        .iter()
        .map(|r| {
            r.verify(&secret);
            r.json()["data"]["ask_id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(order, asks);
}
