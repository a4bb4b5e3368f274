//! Test support: one throwaway PostgreSQL cluster per test run, a fresh database per test,
//! and helpers to send requests and check responses.

pub mod browser;
pub mod http;
pub mod smtp;

use http::TestResponse;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use sqlx::PgPool;
use tokio::sync::OnceCell;
use warmline::accounts::service::{self, NewUserInput};
use warmline::config::Config;
use warmline::domain::users::UserId;
use warmline::embedded_pg::{ClusterOptions, EmbeddedPg};
use warmline::state::AppState;

/// The migrated database every test database is copied from.
const TEMPLATE: &str = "warmline_template";

/// The run's cluster, started on first use and stopped by a watchdog when the run ends.
pub struct TestCluster {
    pub pg: EmbeddedPg,
}

static CLUSTER: OnceCell<TestCluster> = OnceCell::const_new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// Runs a command with `stdin` as its input: success, standard output, standard error.
pub async fn output_of(mut cmd: tokio::process::Command, stdin: &str) -> (bool, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the command");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh directory under the system's temporary directory, reachable by the `postgres`
/// system user when the tests run as root.
pub fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "warmline-test-{label}-{}-{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

/// Starts a throwaway cluster under `dir` that is stopped and deleted once this test process
/// exits, even if it panics or is killed.
pub async fn start_cluster(dir: &std::path::Path) -> EmbeddedPg {
    let pg = EmbeddedPg::new(&dir.join("pg")).expect("PostgreSQL server binaries");
    pg.stop_and_remove_after(std::process::id(), dir)
        .expect("watchdog");
    pg.start(ClusterOptions { ephemeral: true })
        .await
        .expect("start a throwaway PostgreSQL cluster");
    pg
}

async fn cluster() -> &'static TestCluster {
    CLUSTER
        .get_or_init(|| async {
            let pg = start_cluster(&temp_dir("cluster")).await;
            pg.ensure_database(TEMPLATE)
                .await
                .expect("template database");
            let pool = warmline::db::connect(&pg.url(TEMPLATE), 2)
                .await
                .expect("connect to the template");
            warmline::db::migrate(&pool)
                .await
                .expect("migrate the template");
            pool.close().await;
            TestCluster { pg }
        })
        .await
}

/// A fresh, migrated database of its own for one test.
pub async fn fresh_database() -> (PgPool, String) {
    let cluster = cluster().await;
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed)
    );
    let admin = warmline::db::connect(&cluster.pg.url("postgres"), 1)
        .await
        .expect("connect to the cluster");
    sqlx::query(&format!("create database {name} template {TEMPLATE}"))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    let url = cluster.pg.url(&name);
    let pool = warmline::db::connect(&url, 5)
        .await
        .expect("connect to the test database");
    (pool, url)
}

/// The application wired to its own database, driven without a socket (or, for a server
/// running as a process, over one). It is also a browser of sorts: it keeps cookies and the
/// last CSRF token a page showed it.
pub struct TestApp {
    pub router: Router,
    pub pool: PgPool,
    pub jar: Mutex<Jar>,
    /// The base URL of a running server to send requests to instead of the router.
    pub remote: Option<String>,
}

/// Cookies and the CSRF token last seen.
#[derive(Debug, Default, Clone)]
pub struct Jar {
    pub cookies: BTreeMap<String, String>,
    pub csrf_token: Option<String>,
}

/// The password test users are created with.
pub const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// A new application over a fresh database, with default settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A new application whose configuration `adjust` may change first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let (pool, url) = fresh_database().await;
        let mut config = Config::for_database(Some(url.clone()));
        adjust(&mut config);
        let router = warmline::app(AppState::new(pool.clone(), config));
        Self::over(router, pool)
    }

    /// A client over an existing router and pool.
    pub fn over(router: Router, pool: PgPool) -> Self {
        Self {
            router,
            pool,
            jar: Mutex::default(),
            remote: None,
        }
    }

    /// A client of a server running as a process at `base` (`http://127.0.0.1:port`), whose
    /// database `pool` reaches.
    pub fn remote(base: &str, pool: PgPool) -> Self {
        Self {
            remote: Some(base.trim_end_matches('/').to_string()),
            ..Self::over(Router::new(), pool)
        }
    }

    /// Another client of the same application, with an empty cookie jar: another person, or
    /// the same person on another device.
    pub fn new_client(&self) -> Self {
        Self::over(self.router.clone(), self.pool.clone())
    }

    /// Another client of the same application in this client's session: a second tab.
    pub fn same_session(&self) -> Self {
        let tab = self.new_client();
        *tab.jar.lock().unwrap() = self.jar.lock().unwrap().clone();
        tab
    }

    /// Adds a user with [`PASSWORD`] and returns their id.
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        role: &str,
        manager: Option<UserId>,
    ) -> UserId {
        let input = NewUserInput {
            email: email.into(),
            name: name.into(),
            role: role.into(),
            manager_id: manager.map(|m| m.to_string()).unwrap_or_default(),
            weekly_ask_target: "5".into(),
            time_zone: "Europe/Berlin".into(),
            password: PASSWORD.into(),
        };
        service::add_user(&self.pool, None, &input)
            .await
            .unwrap_or_else(|e| panic!("test user not added: {e:?}"))
    }

    /// Adds a user living in time zone `zone` and returns their id.
    pub async fn create_user_in(
        &self,
        email: &str,
        role: &str,
        manager: Option<UserId>,
        zone: &str,
    ) -> UserId {
        let id = self
            .create_user(email, email.split('@').next().unwrap(), role, manager)
            .await;
        sqlx::query("update users set time_zone = $2 where user_id = $1")
            .bind(id.0)
            .bind(zone)
            .execute(&self.pool)
            .await
            .unwrap();
        id
    }

    /// Logs in through the login form (fetching it first for its CSRF token). On success it
    /// follows the redirect, as a browser would, and so picks up the new session's token.
    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.get("/login").await;
        let res = self
            .post_form("/login", &[("email", email), ("password", password)])
            .await;
        if res.status == axum::http::StatusCode::SEE_OTHER {
            self.get(res.location()).await;
        }
        res
    }

    /// Adds an open follow-up for `owner`, due `days` after their local today; its id.
    pub async fn owe(&self, owner: UserId, title: &str, days: i32) -> i64 {
        sqlx::query_scalar(
            "insert into follow_ups (owner_id, kind, title, due_on)
             select $1, 'other', $2, (now() at time zone time_zone)::date + $3
             from users where user_id = $1 returning follow_up_id",
        )
        .bind(owner.0)
        .bind(title)
        .bind(days)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }

    /// The single number a `select count(*) …` returns.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap()
    }

    /// Creates a user and logs this client in as them.
    pub async fn login_as_new(&self, email: &str, role: &str, manager: Option<UserId>) -> UserId {
        let id = self
            .create_user(email, email.split('@').next().unwrap(), role, manager)
            .await;
        self.login(email, PASSWORD)
            .await
            .assert_status(axum::http::StatusCode::SEE_OTHER);
        id
    }
}
