//! What the benchmarks share: a throwaway PostgreSQL cluster and a client that drives the
//! application through its router, cookies and CSRF token included.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;
use warmline::config::Config;
use warmline::embedded_pg::{ClusterOptions, EmbeddedPg};
use warmline::state::AppState;

/// A fresh cluster with a migrated database, removed when the benchmark exits.
pub async fn database(label: &str) -> (EmbeddedPg, PgPool, String) {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("warmline-bench-{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = EmbeddedPg::new(&dir.join("pg")).expect("PostgreSQL server binaries");
    pg.stop_and_remove_after(std::process::id(), &dir).unwrap();
    // Durable settings, as in production: the benchmark measures real commits.
    pg.start(ClusterOptions::default()).await.unwrap();
    pg.ensure_database("bench").await.unwrap();
    let url = pg.url("bench");
    let pool = warmline::db::connect(&url, 10).await.unwrap();
    warmline::db::migrate(&pool).await.unwrap();
    (pg, pool, url)
}

/// The password of the benchmarks' rep.
pub const PASSWORD: &str = "bench password 1";

/// Adds the rep the benchmarks sign in as (`rep@bench.example`, [`PASSWORD`]).
pub async fn add_rep(pool: &PgPool) -> warmline::domain::users::UserId {
    let input = warmline::accounts::service::NewUserInput {
        email: "rep@bench.example".into(),
        name: "Bench Rep".into(),
        role: "rep".into(),
        weekly_ask_target: "5".into(),
        time_zone: "UTC".into(),
        password: PASSWORD.into(),
        ..Default::default()
    };
    warmline::accounts::service::add_user(pool, None, &input)
        .await
        .unwrap()
}

/// The application over `pool`.
pub fn app(pool: &PgPool, url: &str) -> Router {
    warmline::app(AppState::new(
        pool.clone(),
        Config::for_database(Some(url.to_string())),
    ))
}

/// A logged-in browser of sorts.
pub struct Client {
    pub router: Router,
    /// Every cookie the server set (the session, and before it the anonymous CSRF cookie).
    cookies: std::collections::BTreeMap<String, String>,
    pub csrf: String,
}

impl Client {
    /// Logs in through the login form.
    pub async fn login(router: Router, email: &str, password: &str) -> Self {
        let mut client = Self {
            router,
            cookies: Default::default(),
            csrf: String::new(),
        };
        client.get("/login").await;
        let body = serde_urlencoded::to_string([
            ("csrf_token", client.csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .unwrap();
        let (status, _, _) = client
            .post(
                "/login",
                "application/x-www-form-urlencoded",
                body.into_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "login");
        client.get("/").await;
        client
    }

    /// `GET path`: status and body.
    pub async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let request = Request::get(path)
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = self.send(request).await;
        (status, body)
    }

    /// `POST path`: status, Location and body.
    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, String, String) {
        let request = Request::post(path)
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// The value of the cookie `name`, if the server set it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// The cookies as a `Cookie` header.
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: Request<Body>) -> (StatusCode, String, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        for cookie in response.headers().get_all(header::SET_COOKIE) {
            let pair = cookie.to_str().unwrap().split(';').next().unwrap();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let body =
            String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes())
                .into_owned();
        if let Some(start) = body.find("name=\"csrf_token\" value=\"") {
            let start = start + "name=\"csrf_token\" value=\"".len();
            self.csrf = body[start..start + body[start..].find('"').unwrap()].to_string();
        }
        (status, location, body)
    }
}

/// Seconds with milliseconds, for printing.
pub fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}
