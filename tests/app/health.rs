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

    pg.stop().await.unwrap();
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
}
