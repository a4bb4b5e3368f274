//! `/healthz` and `/readyz`, including a database outage under a running application.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use warmline::config::Config;
use warmline::state::AppState;

use crate::common::{TestApp, start_cluster, temp_dir};

#[tokio::test]
async fn healthz_and_readyz_answer_200_when_all_is_well() {
    let app = TestApp::spawn().await;
    app.get("/healthz")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("ok");
    app.get("/readyz")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("ready");
}

#[tokio::test]
async fn readyz_answers_503_quickly_while_the_database_is_down_and_recovers_after() {
    // This test stops its database, so it gets a cluster of its own.
    let pg = start_cluster(&temp_dir("outage")).await;
    let pool = warmline::db::connect(&pg.url("postgres"), 5).await.unwrap();
    warmline::db::migrate(&pool).await.unwrap();
    let router = warmline::app(AppState::new(pool.clone(), Config::for_database(None)));
    let app = TestApp::over(router, pool);
    app.get("/readyz").await.assert_status(StatusCode::OK);
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/contacts/new").await.assert_status(StatusCode::OK);

    pg.stop().await.unwrap();
    // Signed-in pages and forms say the database is away: 503 with Retry-After, never 500.
    for res in [
        app.get("/").await,
        app.get("/contacts").await,
        app.post_form(
            "/contacts",
            &[("name", "Ann Lee"), ("kind", "client"), ("strength", "3")],
        )
        .await,
    ] {
        res.assert_status(StatusCode::SERVICE_UNAVAILABLE)
            .assert_contains("nothing was saved");
        assert_eq!(res.header("retry-after"), Some("5"));
    }
    for _ in 0..2 {
        let started = Instant::now();
        let res = app.get("/readyz").await;
        let took = started.elapsed();
        res.assert_status(StatusCode::SERVICE_UNAVAILABLE)
            .assert_contains("unreachable");
        assert!(
            took < Duration::from_secs(3),
            "readyz took {took:?} with the database down"
        );
        app.get("/healthz").await.assert_status(StatusCode::OK);
    }

    pg.start(Default::default()).await.unwrap();
    let mut last = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        last = app.get("/readyz").await.status;
        if last == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        last,
        StatusCode::OK,
        "readyz recovers once the database is back"
    );
    // The pool itself recovered: no restart of Warmline was needed.
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    app.get("/").await.assert_status(StatusCode::OK);
}

/// A small tmpfs, unmounted (lazily, so a cluster still on it does not stop it) when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &std::path::Path, megabytes: u32) -> Option<Self> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={megabytes}m,mode=0777"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .ok()?
            .success();
        ok.then(|| Self(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_503_saying_so_and_writes_nothing_half() {
    let dir = temp_dir("disk-full");
    let Some(disk) = SmallDisk::mount(&dir.join("small"), 160) else {
        println!("skipped: this machine does not allow mounting a tmpfs");
        return;
    };
    let pg = start_cluster(&disk.0).await;
    let pool = warmline::db::connect(&pg.url("postgres"), 3).await.unwrap();
    warmline::db::migrate(&pool).await.unwrap();
    // Write-ahead log segments are recycled, not created, from here on: a full disk then
    // refuses the table's growth (an error) rather than the log's (a crash).
    for _ in 0..4 {
        sqlx::query("insert into audit_log (entity, action) values ('warm-up', 'x')")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("select pg_switch_wal()")
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("checkpoint").execute(&pool).await.unwrap();
    let mut config = Config::for_database(None);
    config.data_dir = disk.0.clone();
    let router = warmline::app(AppState::new(pool.clone(), config));
    let app = TestApp::over(router, pool);
    app.login_as_new("admin@example.com", "admin", None).await;
    app.get("/team")
        .await
        .assert_contains("Data directory disk:")
        .assert_lacks("almost full");

    // Fill the disk to within 2 MB.
    let free = warmline::health::data_dir_space(&disk.0).await.unwrap();
    let fill = std::process::Command::new("fallocate")
        .args(["-l", &(free.free_bytes - 2 * 1024 * 1024).to_string()])
        .arg(disk.0.join("filler"))
        .status()
        .unwrap();
    assert!(fill.success());
    assert!(
        warmline::health::data_dir_space(&disk.0)
            .await
            .unwrap()
            .is_low()
    );
    app.get("/team")
        .await
        .assert_contains("disk is almost full");
    app.get("/metrics")
        .await
        .assert_contains("warmline_data_dir_free_bytes");

    // Contacts with long, incompressible notes until the disk refuses one.
    let mut saved: i64 = 0;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let refused = loop {
        let notes: String = (0..19_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'a' + (seed % 26) as u8)
            })
            .collect();
        app.get("/contacts/new").await;
        let name = format!("Person {saved}");
        let res = app
            .post_form(
                "/contacts",
                &[
                    ("name", &name),
                    ("kind", "client"),
                    ("strength", "3"),
                    ("notes", &notes),
                ],
            )
            .await;
        if res.status != StatusCode::SEE_OTHER {
            break res;
        }
        saved += 1;
        assert!(saved < 500, "the disk never filled");
    };
    refused
        .assert_status(StatusCode::SERVICE_UNAVAILABLE)
        .assert_contains("disk is full");
    assert!(refused.header("retry-after").is_some());
    // Nothing half-written: exactly the contacts that were acknowledged, each with its audit row.
    std::fs::remove_file(disk.0.join("filler")).unwrap();
    assert_eq!(app.count("select count(*) from contacts").await, saved);
    assert_eq!(
        app.count("select count(*) from audit_log where entity = 'contact'")
            .await,
        saved
    );
    pg.stop().await.unwrap();
}

#[tokio::test]
async fn a_full_server_refuses_at_once_with_503_and_retry_after_while_admitted_requests_finish() {
    let app = TestApp::spawn_with(|c| c.max_in_flight = 1).await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let second = app.same_session();
    let third = app.same_session();
    // Hold the contact list's table so that the first request stays in flight.
    let lock = hold_contacts(&app.pool).await;
    let first = app.get("/contacts");
    let waiting = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        second.get("/contacts").await
    };
    let refused = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let refused = third.get("/contacts").await;
        let took = started.elapsed();
        // Health checks and metrics still answer while the server is full.
        let health = third.get("/healthz").await;
        let metrics = third.get("/metrics").await;
        lock.rollback().await.unwrap();
        (refused, took, health, metrics)
    };
    let (first, waiting, (refused, took, health, metrics)) = tokio::join!(first, waiting, refused);
    first.assert_status(StatusCode::OK);
    waiting.assert_status(StatusCode::OK);
    refused
        .assert_status(StatusCode::SERVICE_UNAVAILABLE)
        .assert_contains("The server is busy");
    assert_eq!(refused.header("retry-after"), Some("1"));
    assert!(
        took < Duration::from_millis(500),
        "refused at once, took {took:?}"
    );
    health.assert_status(StatusCode::OK);
    metrics
        .assert_contains("warmline_requests_in_flight 1\n")
        .assert_contains("warmline_requests_waiting 1\n")
        .assert_contains("warmline_requests_refused_total 1\n");
}

/// Under load, clients give up while their request waits for a turn (a browser tab closed, a
/// load balancer's timeout). Each one must leave the queue: a lost place is never given back,
/// and once the queue is full of them every request beyond the running ones is refused.
#[tokio::test]
async fn a_client_that_gives_up_while_waiting_leaves_its_place_in_the_queue() {
    let app = TestApp::spawn_with(|c| c.max_in_flight = 1).await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let second = app.same_session();
    let lock = hold_contacts(&app.pool).await;
    let first = app.get("/contacts");
    let rest = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // The only turn is taken: the second request waits, and its client gives up.
        let gave_up =
            tokio::time::timeout(Duration::from_millis(300), second.get("/contacts")).await;
        assert!(gave_up.is_err(), "the second request waited for a turn");
        let metrics = second.get("/metrics").await;
        // The next request takes the free place, waits, and is served once the turn is free.
        let release = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            lock.rollback().await.unwrap();
        };
        let (waited, ()) = tokio::join!(second.get("/contacts"), release);
        (metrics, waited)
    };
    let (first, (metrics, waited)) = tokio::join!(first, rest);
    first.assert_status(StatusCode::OK);
    metrics
        .assert_contains("warmline_requests_in_flight 1\n")
        .assert_contains("warmline_requests_waiting 0\n");
    waited.assert_status(StatusCode::OK);
    app.get("/metrics")
        .await
        .assert_contains("warmline_requests_waiting 0\n")
        .assert_contains("warmline_requests_refused_total 0\n");
}

#[tokio::test]
async fn connections_ended_by_an_administrator_or_a_pool_that_times_out_answer_503_not_500() {
    // The application on a pool of one connection, with no admission limit to stop requests
    // before they wait on it; the test keeps a pool of its own.
    let (pool, url) = crate::common::fresh_database().await;
    let mut config = Config::for_database(Some(url.clone()));
    config.max_in_flight = 1000;
    let one = warmline::db::connect(&url, 1).await.unwrap();
    let app = TestApp::over(warmline::app(AppState::new(one, config)), pool);
    app.login_as_new("rep@example.com", "rep", None).await;
    let other = app.same_session();

    // The pool's only connection is busy (the contact list waits on a lock): the next request
    // waits for it, gives up after the acquire timeout and says to come back.
    let lock = hold_contacts(&app.pool).await;
    let busy = app.get("/contacts");
    let starved = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let res = other.get("/follow-ups").await;
        lock.rollback().await.unwrap();
        res
    };
    let (busy, starved) = tokio::join!(busy, starved);
    busy.assert_status(StatusCode::OK);
    starved
        .assert_status(StatusCode::SERVICE_UNAVAILABLE)
        .assert_contains("try again in a few seconds");
    assert!(starved.header("retry-after").is_some());

    // An administrator ends every connection of the application: the next requests answer
    // 200 or 503, never 500, and pages work again at once.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let ended: Vec<bool> = sqlx::query_scalar(
            "select pg_terminate_backend(pid) from pg_stat_activity
             where datname = current_database() and application_name = 'warmline' and pid <> pg_backend_pid()",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap_or_default();
        let _ = ended;
        statuses.push(app.get("/contacts").await.status);
    }
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    app.get("/contacts").await.assert_status(StatusCode::OK);
}

/// A transaction holding the contacts table: every contact list waits until it ends.
async fn hold_contacts(pool: &sqlx::PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut lock = pool.begin().await.unwrap();
    sqlx::query("lock table contacts in access exclusive mode")
        .execute(&mut *lock)
        .await
        .unwrap();
    lock
}

#[test]
fn requests_may_wait_for_a_connection_only_when_the_pool_is_spent() {
    use warmline::health::pool_waiting_bound;
    assert_eq!(pool_waiting_bound(10, 10, 0, 14), 4);
    assert_eq!(pool_waiting_bound(10, 10, 0, 7), 0);
    assert_eq!(pool_waiting_bound(10, 10, 1, 14), 0, "a connection is idle");
    assert_eq!(
        pool_waiting_bound(6, 10, 0, 14),
        0,
        "the pool may still open one"
    );
}
