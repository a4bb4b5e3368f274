//! The overdue sweeper, with pinned times: time zones, escalation, exactly-once notifications,
//! concurrent sweeps, database outages, digest e-mails, the notifications page and metrics.

use std::time::Duration;

use axum::http::StatusCode;
use time::OffsetDateTime;
use time::macros::datetime;
use warmline::config::Config;
use warmline::domain::users::UserId;
use warmline::state::AppState;
use warmline::sweeper::{self, SweepReport};

use crate::common::smtp::SmtpSink;
use crate::common::{PASSWORD, TestApp, start_cluster, temp_dir};

const TWO_DAYS: Duration = Duration::from_secs(48 * 3600);

async fn follow_up(app: &TestApp, owner: UserId, title: &str, due: &str) -> i64 {
    sqlx::query_scalar("insert into follow_ups (owner_id, kind, title, due_on) values ($1, 'other', $2, $3::date) returning follow_up_id")
        .bind(owner.0)
        .bind(title)
        .bind(due)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn sweep_at(app: &TestApp, now: OffsetDateTime) -> SweepReport {
    sweeper::sweep(&app.pool, now, TWO_DAYS).await.unwrap()
}

async fn overdue(app: &TestApp, id: i64) -> bool {
    sqlx::query_scalar("select overdue_since is not null from follow_ups where follow_up_id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_due_date_passes_at_midnight_in_the_owners_time_zone() {
    let app = TestApp::spawn().await;
    let tokyo = app
        .create_user_in("tokyo@example.com", "rep", None, "Asia/Tokyo")
        .await;
    let la = app
        .create_user_in("la@example.com", "rep", None, "America/Los_Angeles")
        .await;
    let in_tokyo = follow_up(&app, tokyo, "Tokyo follow-up", "2026-03-10").await;
    let in_la = follow_up(&app, la, "LA follow-up", "2026-03-10").await;

    // 16:00 UTC: 01:00 on the 11th in Tokyo, 09:00 on the 10th in Los Angeles.
    let report = sweep_at(&app, datetime!(2026-03-10 16:00 UTC)).await;
    assert_eq!((report.flagged, report.notified), (1, 1));
    assert!(overdue(&app, in_tokyo).await);
    assert!(!overdue(&app, in_la).await);
    let since: OffsetDateTime =
        sqlx::query_scalar("select overdue_since from follow_ups where follow_up_id = $1")
            .bind(in_tokyo)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        since,
        datetime!(2026-03-10 15:00 UTC),
        "overdue since midnight in Tokyo"
    );

    // 07:59 UTC on the 11th is 23:59 on the 10th in Los Angeles; a minute later it is overdue.
    assert_eq!(
        sweep_at(&app, datetime!(2026-03-11 06:59 UTC))
            .await
            .flagged,
        0
    );
    assert_eq!(
        sweep_at(&app, datetime!(2026-03-11 07:00 UTC))
            .await
            .flagged,
        1
    );
    assert!(overdue(&app, in_la).await);
}

#[tokio::test]
async fn an_overdue_follow_up_escalates_after_the_delay_and_only_to_the_owners_manager() {
    let app = TestApp::spawn().await;
    let manager = app
        .create_user_in("manager@example.com", "manager", None, "UTC")
        .await;
    let other_manager = app
        .create_user_in("other@example.com", "manager", None, "UTC")
        .await;
    let rep = app
        .create_user_in("rep@example.com", "rep", Some(manager), "UTC")
        .await;
    let loner = app
        .create_user_in("loner@example.com", "rep", None, "UTC")
        .await;
    follow_up(&app, rep, "Thank Sam", "2026-03-01").await;
    follow_up(&app, loner, "Call Lee", "2026-03-01").await;

    let first = sweep_at(&app, datetime!(2026-03-02 12:00 UTC)).await;
    assert_eq!((first.flagged, first.escalated), (2, 0));
    assert_eq!(
        sweep_at(&app, datetime!(2026-03-03 23:59 UTC))
            .await
            .escalated,
        0,
        "not before two days overdue"
    );
    let later = sweep_at(&app, datetime!(2026-03-04 00:00 UTC)).await;
    assert_eq!(
        later.escalated, 1,
        "the loner has no manager to escalate to"
    );

    // One summary for the manager about the rep, for the manager's day, naming the item.
    type Summary = (i64, Option<i64>, Option<i64>, Option<time::Date>, String);
    let escalations: Vec<Summary> = sqlx::query_as(
        "select user_id, follow_up_id, about_user_id, on_date, body
             from notifications where kind = 'escalated'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        escalations,
        [(
            manager.0,
            None,
            Some(rep.0),
            Some(time::macros::date!(2026 - 03 - 04)),
            "rep has 1 follow-up overdue too long: Thank Sam".to_string()
        )]
    );

    // Read, then another of the rep's items escalated the same day: the same summary, rewritten
    // with both items and unread again.
    sqlx::query("update notifications set read_at = now() where kind = 'escalated'")
        .execute(&app.pool)
        .await
        .unwrap();
    follow_up(&app, rep, "Call Dana", "2026-03-01").await;
    let again = sweep_at(&app, datetime!(2026-03-04 06:00 UTC)).await;
    assert_eq!((again.flagged, again.escalated), (1, 1));
    let summary: Vec<(String, bool)> =
        sqlx::query_as("select body, read_at is null from notifications where kind = 'escalated'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        summary,
        [(
            "rep has 2 follow-ups overdue too long: Call Dana; Thank Sam".to_string(),
            true
        )]
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from notifications where user_id = {}",
            other_manager.0
        ))
        .await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from notifications where user_id = {} and kind = 'overdue'",
            rep.0
        ))
        .await,
        2,
        "the rep hears of each overdue item"
    );
}

#[tokio::test]
async fn repeated_sweeps_never_notify_twice() {
    let app = TestApp::spawn().await;
    let manager = app
        .create_user_in("manager@example.com", "manager", None, "UTC")
        .await;
    let rep = app
        .create_user_in("rep@example.com", "rep", Some(manager), "UTC")
        .await;
    for i in 0..3 {
        follow_up(&app, rep, &format!("Item {i}"), "2026-03-01").await;
    }
    let mut notified = 0;
    for day in 2..=9 {
        let now = datetime!(2026-03-01 12:00 UTC) + time::Duration::days(day);
        notified += sweep_at(&app, now).await.notified;
        sweep_at(&app, now).await;
    }
    assert_eq!(
        notified, 4,
        "three overdue notices to the rep, one escalation summary to the manager"
    );
    assert_eq!(app.count("select count(*) from notifications").await, 4);
}

#[tokio::test]
async fn done_or_postponed_follow_ups_lose_their_overdue_mark() {
    let app = TestApp::spawn().await;
    let manager = app
        .create_user_in("manager@example.com", "manager", None, "UTC")
        .await;
    let rep = app
        .create_user_in("rep@example.com", "rep", Some(manager), "UTC")
        .await;
    let done = follow_up(&app, rep, "Done later", "2026-03-01").await;
    let moved = follow_up(&app, rep, "Moved later", "2026-03-01").await;
    let kept = follow_up(&app, rep, "Still late", "2026-03-01").await;
    assert_eq!(
        sweep_at(&app, datetime!(2026-03-05 12:00 UTC))
            .await
            .escalated,
        3
    );

    // Written behind the application's back, as another tool might.
    sqlx::query("update follow_ups set done_at = now() where follow_up_id = $1")
        .bind(done)
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update follow_ups set due_on = '2026-03-09' where follow_up_id = $1")
        .bind(moved)
        .execute(&app.pool)
        .await
        .unwrap();
    let report = sweep_at(&app, datetime!(2026-03-06 12:00 UTC)).await;
    assert_eq!(report.cleared, 2);
    assert!(!overdue(&app, done).await && !overdue(&app, moved).await && overdue(&app, kept).await);
    let escalated: bool = sqlx::query_scalar(
        "select escalated_at is not null from follow_ups where follow_up_id = $1",
    )
    .bind(moved)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(!escalated, "a postponed follow-up starts over");
    // Once its new date passes, it is overdue again, but no one is notified twice.
    assert_eq!(
        sweep_at(&app, datetime!(2026-03-10 12:00 UTC))
            .await
            .flagged,
        1
    );
    assert_eq!(
        app.count("select count(*) from notifications where kind = 'overdue'")
            .await,
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_sweeps_flag_each_row_exactly_once() {
    let app = TestApp::spawn().await;
    let rep = app
        .create_user_in("rep@example.com", "rep", None, "UTC")
        .await;
    sqlx::query("insert into follow_ups (owner_id, kind, title, due_on) select $1, 'other', 'Item ' || n, date '2026-03-01' - (n % 30) from generate_series(1, 12000) n")
        .bind(rep.0)
        .execute(&app.pool)
        .await
        .unwrap();
    let now = datetime!(2026-03-02 12:00 UTC);
    let (a, b) = (app.pool.clone(), app.pool.clone());
    let first = tokio::spawn(async move { sweeper::sweep(&a, now, TWO_DAYS).await.unwrap() });
    let second = tokio::spawn(async move { sweeper::sweep(&b, now, TWO_DAYS).await.unwrap() });
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!(
        first.flagged + second.flagged,
        12000,
        "{first:?} {second:?}"
    );
    assert_eq!(first.notified + second.notified, 12000);
    assert_eq!(app.count("select count(*) from notifications").await, 12000);
    assert_eq!(
        app.count("select count(*) from follow_ups where overdue_since is null")
            .await,
        0
    );
}

#[tokio::test]
async fn the_sweeper_survives_a_database_outage_and_stops_promptly() {
    let pg = start_cluster(&temp_dir("sweep-outage")).await;
    let pool = warmline::db::connect(&pg.url("postgres"), 4).await.unwrap();
    warmline::db::migrate(&pool).await.unwrap();
    let mut config = Config::for_database(None);
    config.sweep_interval_secs = 1;
    let state = AppState::new(pool.clone(), config);
    let app = TestApp::over(warmline::app(state.clone()), pool.clone());
    let rep = app
        .create_user_in("rep@example.com", "rep", None, "UTC")
        .await;
    follow_up(&app, rep, "Long overdue", "2020-01-01").await;

    pg.stop().await.unwrap();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(sweeper::run(state.clone(), stopping));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let down = state.sweep_metrics.snapshot();
    assert!(down.failures_total >= 1 && down.runs_total == 0, "{down:?}");
    app.get("/healthz").await.assert_status(StatusCode::OK);

    pg.start(Default::default()).await.unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        if state.sweep_metrics.snapshot().flagged_total == 1 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the sweeper resumes once the database is back: {:?}",
        state.sweep_metrics.snapshot()
    );
    let metrics = app.get("/metrics").await;
    metrics
        .assert_status(StatusCode::OK)
        .assert_contains("warmline_sweep_flagged_total 1")
        .assert_contains("warmline_sweep_runs_total");
    assert!(!metrics.body.contains("warmline_sweep_failures_total 0"));

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stops within 5 s")
        .unwrap();
}

#[tokio::test]
async fn a_daily_digest_goes_to_the_smtp_server_once_and_waits_out_quiet_hours() {
    let sink = SmtpSink::start().await;
    let mut app = TestApp::spawn().await;
    let mut config = Config::for_database(None);
    config.smtp_url = Some(format!("smtp://{}", sink.addr));
    config.public_url = "https://crm.example.com".into();
    let state = AppState::new(app.pool.clone(), config.clone());
    app.router = warmline::app(state.clone());
    let mailer = warmline::mail::Mailer::from_config(&config)
        .unwrap()
        .unwrap();
    let rep = app
        .create_user_in("rep@example.com", "rep", None, "Europe/Berlin")
        .await;
    follow_up(&app, rep, "Send the case study", "2026-03-01").await;

    // 22:30 in Berlin is within the default quiet hours (20 to 7): flagged, not mailed.
    let report = sweeper::tick(&state, Some(&mailer), datetime!(2026-03-02 21:30 UTC))
        .await
        .unwrap();
    assert_eq!((report.flagged, report.digests), (1, 0));
    assert!(sink.received().is_empty());

    let report = sweeper::tick(&state, Some(&mailer), datetime!(2026-03-03 08:00 UTC))
        .await
        .unwrap();
    assert_eq!(report.digests, 1);
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, ["rep@example.com"]);
    assert!(
        received[0].data.contains("Overdue: Send the case study"),
        "{}",
        received[0].data
    );
    assert!(
        received[0]
            .data
            .contains("https://crm.example.com/notifications")
    );

    // Later the same day, and with nothing new the next day: nothing more is sent.
    sweeper::tick(&state, Some(&mailer), datetime!(2026-03-03 12:00 UTC))
        .await
        .unwrap();
    sweeper::tick(&state, Some(&mailer), datetime!(2026-03-04 09:00 UTC))
        .await
        .unwrap();
    assert_eq!(sink.received().len(), 1);

    // A new overdue item goes out the next day, alone.
    follow_up(&app, rep, "Call Dana", "2026-03-04").await;
    sweeper::tick(&state, Some(&mailer), datetime!(2026-03-05 09:00 UTC))
        .await
        .unwrap();
    let received = sink.received();
    assert_eq!(received.len(), 2);
    assert!(
        received[1].data.contains("Call Dana") && !received[1].data.contains("Send the case study")
    );
}

#[tokio::test]
async fn notifications_show_an_unread_count_link_to_the_follow_up_and_can_be_marked_read() {
    let app = TestApp::spawn().await;
    let manager = app
        .create_user("manager@example.com", "Mona Manager", "manager", None)
        .await;
    let rep = app
        .login_as_new("rep@example.com", "rep", Some(manager))
        .await;
    let id = follow_up(&app, rep, "Thank Sam", "2020-01-01").await;
    sweep_at(&app, OffsetDateTime::now_utc()).await;

    let week = app.get("/").await;
    week.assert_contains("aria-label=\"1 unread\"");
    let list = app.get("/notifications").await;
    list.assert_contains("Overdue: Thank Sam")
        .assert_contains(&format!("/follow-ups#follow-up-{id}"));
    let nid: i64 =
        sqlx::query_scalar("select notification_id from notifications where user_id = $1")
            .bind(rep.0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    app.post_form(&format!("/notifications/{nid}/read"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get("/").await.assert_lacks("unread\"");

    // The manager's escalation is theirs alone.
    let boss = app.new_client();
    boss.login("manager@example.com", PASSWORD).await;
    boss.get("/notifications")
        .await
        .assert_contains("escalated")
        .assert_contains("has 1 follow-up overdue too long: Thank Sam")
        .assert_contains(&format!("href=\"/asks?rep={}&#38;overdue=1\"", rep.0));
    boss.post_form(&format!("/notifications/{nid}/read"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    boss.post_form("/notifications/read-all", &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(&format!(
            "select count(*) from notifications where user_id = {} and read_at is null",
            manager.0
        ))
        .await,
        0
    );
}
