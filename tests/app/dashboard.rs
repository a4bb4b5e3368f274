//! The manager dashboard: each metric against hand-computed values on a small fixed data set,
//! scoping, filters, the CSV export, coaching notes and the referral math.

use axum::http::StatusCode;
use time::{Date, Duration};
use warmline::dashboard::{compute, required_weekly_asks, weeks_left_in_year};
use warmline::db::metrics::Scope;
use warmline::domain::users::UserId;

use crate::common::{PASSWORD, TestApp};

struct Org {
    manager: UserId,
    r1: UserId,
    r2: UserId,
    r3: UserId,
    admin: UserId,
    today: Date,
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::raw_sql(sql).execute(&app.pool).await.unwrap();
}

async fn contact(app: &TestApp, owner: UserId, name: &str, kind: &str, strength: i16) -> i64 {
    sqlx::query_scalar("insert into contacts (owner_id, name, kind, strength) values ($1, $2, $3, $4) returning contact_id")
        .bind(owner.0).bind(name).bind(kind).bind(strength)
        .fetch_one(&app.pool).await.unwrap()
}

/// An ask `days` ago, logged `delay` days later, with its events (kind, days ago).
async fn ask(
    app: &TestApp,
    rep: UserId,
    source: i64,
    (days, delay): (i64, i64),
    stage: &str,
    events: &[(&str, i64)],
    today: Date,
) -> i64 {
    let asked_on = today - Duration::days(days);
    let closed = matches!(
        stage,
        "won" | "lost" | "declined" | "no_one_in_mind" | "expired"
    );
    let amount = (stage == "won").then_some(1_000_000_i64);
    let id: i64 = sqlx::query_scalar(
        "insert into referral_asks (rep_id, source_contact_id, target_description, asked_on, stage, amount_won_cents, closed_at, created_at)
         values ($1, $2, 'someone', $3, $4, $5, case when $6 then now() end, $3::timestamptz + make_interval(days => $7::int) + interval '12 hours')
         returning ask_id",
    )
    .bind(rep.0).bind(source).bind(asked_on).bind(stage).bind(amount).bind(closed).bind(delay as i32)
    .fetch_one(&app.pool).await.unwrap();
    for (kind, ago) in events {
        sqlx::query(
            "insert into ask_events (ask_id, kind, actor_id, occurred_on) values ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(*kind)
        .bind(rep.0)
        .bind(today - Duration::days(*ago))
        .execute(&app.pool)
        .await
        .unwrap();
    }
    id
}

async fn org(app: &TestApp) -> Org {
    let manager = app
        .create_user("mona@example.com", "Mona Manager", "manager", None)
        .await;
    let r1 = app
        .create_user("rita@example.com", "Rita Rep", "rep", Some(manager))
        .await;
    let r2 = app
        .create_user("ron@example.com", "Ron Rep", "rep", Some(manager))
        .await;
    let other = app
        .create_user("otto@example.com", "Otto Other", "manager", None)
        .await;
    let r3 = app
        .create_user("ruth@example.com", "Ruth Rival", "rep", Some(other))
        .await;
    let admin = app
        .create_user("ada@example.com", "Ada Admin", "admin", None)
        .await;
    exec(app, "update users set time_zone = 'UTC'").await;
    let today: Date = sqlx::query_scalar("select current_date")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let s1 = contact(app, r1, "Sol Client", "client", 5).await;
    contact(app, r1, "Sue Client", "client", 4).await;
    contact(app, r1, "Weak Client", "client", 2).await;
    let s3 = contact(app, r1, "Sid Source", "referral_source", 3).await;
    let s4 = contact(app, r2, "Ray Source", "referral_source", 3).await;
    let s5 = contact(app, r3, "Rival Source", "client", 5).await;

    ask(
        app,
        r1,
        s1,
        (10, 0),
        "won",
        &[
            ("introduced", 8),
            ("source_thanked", 7),
            ("meeting_held", 6),
            ("won", 2),
        ],
        today,
    )
    .await;
    ask(
        app,
        r1,
        s1,
        (10, 0),
        "lost",
        &[("introduced", 9), ("meeting_held", 5), ("lost", 1)],
        today,
    )
    .await;
    ask(app, r1, s3, (12, 0), "declined", &[("declined", 11)], today).await;
    ask(app, r1, s3, (9, 0), "asked", &[], today).await;
    ask(
        app,
        r1,
        s3,
        (5, 0),
        "introduced",
        &[("introduced", 5), ("source_thanked", 0)],
        today,
    )
    .await;
    ask(app, r1, s3, (40, 0), "asked", &[], today).await; // outside the period, inside 90 days
    ask(
        app,
        r1,
        s1,
        (120, 0),
        "won",
        &[("introduced", 110), ("won", 100)],
        today,
    )
    .await; // long ago
    ask(app, r2, s4, (20, 2), "asked", &[], today).await;
    ask(
        app,
        r3,
        s5,
        (3, 0),
        "introduced",
        &[("introduced", 2)],
        today,
    )
    .await;

    // Promises of Rita's: kept, kept late, still open; one due later does not count yet.
    for (due, done) in [(5, Some(6)), (3, Some(0)), (2, None), (-3, None)] {
        sqlx::query(
            "insert into follow_ups (owner_id, kind, title, due_on, done_at)
             values ($1, 'promise', 'Promise', $2, $3::date::timestamptz + interval '12 hours')",
        )
        .bind(r1.0)
        .bind(today - Duration::days(due))
        .bind(done.map(|d: i64| today - Duration::days(d)))
        .execute(&app.pool)
        .await
        .unwrap();
    }
    // Overdue follow-ups: Rita 1 day and 5 days; Ruth (another team) 10 days.
    for (owner, due) in [(r1, 1), (r1, 5), (r3, 10)] {
        sqlx::query(
            "insert into follow_ups (owner_id, kind, title, due_on, overdue_since) values ($1, 'other', 'Late', $2, now())",
        )
        .bind(owner.0).bind(today - Duration::days(due))
        .execute(&app.pool).await.unwrap();
    }
    Org {
        manager,
        r1,
        r2,
        r3,
        admin,
        today,
    }
}

fn scope(viewer: UserId, rep: Option<UserId>, today: Date) -> Scope {
    Scope {
        viewer,
        rep,
        from: today - Duration::days(27),
        to: today,
        today,
    }
}

#[tokio::test]
async fn every_metric_matches_hand_computed_values() {
    let app = TestApp::spawn().await;
    let o = org(&app).await;
    let d = compute(&app.pool, &app.pool, scope(o.manager, None, o.today))
        .await
        .unwrap();
    let t = &d.totals;
    assert_eq!(
        (t.asks, t.intros, t.meetings, t.wins, t.losses),
        (6, 3, 2, 1, 1)
    );
    assert_eq!(t.ended, 4, "won, lost, declined, introduced");
    assert_eq!(t.won_cents, 1_000_000);
    assert_eq!(
        warmline::dashboard::percent(t.intros, t.ended),
        "75%",
        "ask → introduction"
    );
    assert_eq!(
        warmline::dashboard::percent(t.wins, t.wins + t.losses),
        "50%",
        "referred close ratio"
    );
    assert_eq!(d.asks_per_client_label(), "6.0");
    assert_eq!(
        d.thanked,
        (3, 2),
        "two of three introductions thanked within 7 days"
    );
    assert_eq!(
        d.promises,
        (3, 1),
        "one of three promises due so far kept on time"
    );
    assert_eq!(
        d.coverage,
        (2, 1),
        "Sol (5) asked, Sue (4) not; the weak client does not count"
    );
    assert_eq!(
        (t.active_reps, t.reps),
        (1, 2),
        "Ron logged nothing in the last 7 days"
    );
    assert_eq!(t.median_delay_days, Some(0.0));
    assert!(
        (t.target - 2.0 * 5.0 * 4.0).abs() < 1e-9,
        "two reps × 5 a week × 4 weeks"
    );

    let overdue: Vec<(String, i64, i64, i64)> = d
        .overdue
        .iter()
        .map(|o| (o.name.clone(), o.days_1_2, o.days_3_7, o.days_8_plus))
        .collect();
    assert_eq!(overdue, [("Rita Rep".to_string(), 1, 1, 0)]);
    let leaders: Vec<(String, i64, i64)> = d
        .leaderboard
        .iter()
        .map(|s| (s.name.clone(), s.intros, s.wins))
        .collect();
    assert_eq!(
        leaders,
        [
            ("Sol Client".to_string(), 2, 1),
            ("Sid Source".to_string(), 1, 0)
        ]
    );
    let load: Vec<(String, i64)> = d
        .connector_load
        .iter()
        .map(|s| (s.name.clone(), s.asks))
        .collect();
    assert_eq!(load, [("Sid Source".to_string(), 4)]);
    let rita = d.reps.iter().find(|r| r.user_id == o.r1).unwrap();
    assert_eq!(
        (rita.asks, rita.intros, rita.wins, rita.wins_this_year > 0),
        (5, 3, 1, true)
    );
    assert_eq!(d.trend.len(), 12);
    assert_eq!(
        d.trend.iter().map(|w| w.asks).sum::<i64>(),
        7,
        "the 12-week trend includes the ask 40 days ago"
    );
    assert_eq!(
        d.previous_asks, 1,
        "the ask 40 days ago is in the 4 weeks before"
    );
    assert_eq!(d.asks_change(), format!("+{}", t.asks - 1));
    assert!(!d.on_track(), "{} asks against a target of 40", t.asks);
}

#[tokio::test]
async fn a_manager_never_sees_another_subtrees_numbers_and_filters_narrow_them() {
    let app = TestApp::spawn().await;
    let o = org(&app).await;
    let admin = compute(&app.pool, &app.pool, scope(o.admin, None, o.today))
        .await
        .unwrap();
    assert_eq!(admin.totals.asks, 7, "an admin sees every team");
    assert_eq!(admin.overdue.iter().map(|r| r.days_8_plus).sum::<i64>(), 1);
    let ron = compute(&app.pool, &app.pool, scope(o.manager, Some(o.r2), o.today))
        .await
        .unwrap();
    assert_eq!((ron.totals.asks, ron.reps.len()), (1, 1));
    let week = warmline::dashboard::Filters {
        period: "week".into(),
        ..Default::default()
    };
    let (from, to) = week.range(o.today);
    assert_eq!(from.weekday(), time::Weekday::Monday);
    assert_eq!(to, o.today);

    app.login("mona@example.com", PASSWORD).await;
    let page = app.get("/dashboard").await;
    page.assert_status(StatusCode::OK)
        .assert_contains("Rita Rep")
        .assert_contains("Ron Rep")
        .assert_lacks("Ruth Rival")
        .assert_lacks("Rival Source")
        .assert_contains("<ol class=\"chart funnel\">")
        .assert_contains("<div class=\"chart trend\">")
        .assert_contains("75%");
    app.get(&format!("/dashboard?rep={}", o.r3))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/dashboard/reps/{}", o.r3))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let filtered = app.get(&format!("/dashboard?rep={}", o.r2)).await;
    filtered
        .assert_contains("Ron Rep")
        .assert_lacks(&format!("/dashboard/reps/{}?", o.r1));
    let custom = app
        .get(&format!(
            "/dashboard?period=custom&from={}&to={}",
            o.today - Duration::days(50),
            o.today - Duration::days(30)
        ))
        .await;
    custom.assert_contains(&format!(
        "{} to {}",
        o.today - Duration::days(50),
        o.today - Duration::days(30)
    ));
    app.get("/dashboard?period=custom&from=0001-01-01&to=9999-12-31")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("1900-01-01 to 2999-12-31");

    let csv = app.get("/dashboard.csv").await;
    csv.assert_status(StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let rita_row = csv
        .body
        .lines()
        .find(|l| l.starts_with("Rita Rep"))
        .unwrap();
    assert!(
        rita_row.contains(",5,20,3,2,1,1,\"10,000\",75%,50%,1,1,0,"),
        "{rita_row}"
    );
    assert!(!csv.body.contains("Ruth Rival"));

    let rep = app.new_client();
    rep.login("rita@example.com", PASSWORD).await;
    rep.get("/dashboard")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    rep.get("/dashboard.csv")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    rep.get(&format!("/dashboard/reps/{}", o.r1))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_coaching_note_becomes_the_reps_follow_up_and_shows_on_their_week() {
    let app = TestApp::spawn().await;
    let o = org(&app).await;
    app.login("mona@example.com", PASSWORD).await;
    app.get(&format!("/dashboard/reps/{}", o.r1))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Referral math");
    let bad = app
        .post_form(
            &format!("/dashboard/reps/{}/coaching", o.r1),
            &[("diagnosis", ""), ("inspect_on", "2001-01-01")],
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("What is going on?")
        .assert_contains("Pick today or a later date.");
    let inspect = (o.today + Duration::days(7)).to_string();
    app.post_form(
        &format!("/dashboard/reps/{}/coaching", o.r1),
        &[
            ("diagnosis", "Sources go unthanked"),
            ("committed_action", "Thank every source within two days"),
            ("metric", "Thanked-source rate"),
            ("inspect_on", &inspect),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    // Not for someone outside the subtree.
    app.post_form(
        &format!("/dashboard/reps/{}/coaching", o.r3),
        &[
            ("diagnosis", "x"),
            ("committed_action", "x"),
            ("metric", "x"),
            ("inspect_on", &inspect),
        ],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    let (kind, due): (String, Date) =
        sqlx::query_as("select kind, due_on from follow_ups where coaching_note_id is not null")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), due.to_string()),
        ("coaching", inspect.clone())
    );

    let rep = app.new_client();
    rep.login("rita@example.com", PASSWORD).await;
    rep.get("/")
        .await
        .assert_contains("Your coaching focus")
        .assert_contains("Thank every source within two days");
    rep.get("/notifications")
        .await
        .assert_contains("wrote you a coaching note");

    app.get(&format!("/dashboard/reps/{}", o.r1)).await;
    app.post_form(
        &format!("/dashboard/reps/{}/goal", o.r1),
        &[("annual_client_goal", "12"), ("asks_per_client", "4")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    app.post_form(
        &format!("/dashboard/reps/{}/goal", o.r1),
        &[("annual_client_goal", "a dozen"), ("asks_per_client", "0")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("Enter a whole number of clients from 0 to 10,000.")
    .assert_contains("Enter a number above 0, up to 1,000.")
    .assert_contains("value=\"a dozen\"");
    let goal: i32 = sqlx::query_scalar("select annual_client_goal from users where user_id = $1")
        .bind(o.r1.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(goal, 12, "a refused goal changes nothing");
    let page = app.get(&format!("/dashboard/reps/{}", o.r1)).await;
    let weeks_left = weeks_left_in_year(o.today);
    // Rita won the ask of 10 days ago, and the one of 120 days ago if that was this year.
    let won = 1 + i64::from((o.today - Duration::days(120)).year() == o.today.year());
    let expected = required_weekly_asks(12, won, weeks_left, 4.0);
    page.assert_contains(&format!(
        "{expected} <span class=\"muted\">asks a week needed</span>"
    ));
}

#[test]
fn the_referral_math_turns_an_annual_goal_into_weekly_asks() {
    assert_eq!(
        required_weekly_asks(12, 2, 10.0, 4.0),
        4,
        "10 clients in 10 weeks at 4 asks each"
    );
    assert_eq!(
        required_weekly_asks(10, 3, 4.3, 4.0),
        7,
        "ceil(7 ÷ 4.3 × 4) = ceil(6.51)"
    );
    assert_eq!(required_weekly_asks(12, 12, 10.0, 4.0), 0, "goal reached");
    assert_eq!(required_weekly_asks(12, 20, 10.0, 4.0), 0, "goal passed");
    assert_eq!(
        required_weekly_asks(5, 0, 0.2, 3.0),
        15,
        "less than a week left counts as one"
    );
    let christmas = Date::from_calendar_date(2026, time::Month::December, 25).unwrap();
    assert!((weeks_left_in_year(christmas) - 1.0).abs() < 1e-9);
    let new_year = Date::from_calendar_date(2026, time::Month::January, 1).unwrap();
    assert!((weeks_left_in_year(new_year) - 365.0 / 7.0).abs() < 1e-9);
}

/// A rollup table's non-zero rows, as JSON, in key order.
async fn rollup_rows(app: &TestApp, table: &str, keys: &str) -> String {
    sqlx::query_scalar(&format!(
        "select coalesce(jsonb_agg(to_jsonb(r) order by {keys}), '[]')::text from {table} r
         where exists (select 1 from jsonb_each(to_jsonb(r)) e
                       where e.key not in ('rep_id', 'asked_on', 'week', 'year', 'delay_days')
                         and e.value <> '0')"
    ))
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn all_rollups(app: &TestApp) -> Vec<String> {
    vec![
        rollup_rows(app, "ask_rollups", "rep_id, asked_on").await,
        rollup_rows(app, "ask_late_rollups", "rep_id, asked_on, delay_days").await,
        rollup_rows(app, "ask_week_rollups", "rep_id, week").await,
        rollup_rows(app, "ask_year_rollups", "rep_id, year").await,
    ]
}

#[tokio::test]
async fn the_rollups_follow_every_write_and_match_a_rebuild_from_the_asks() {
    let app = TestApp::spawn().await;
    let o = org(&app).await;
    // A late entry, then writes through the application: a new ask, its events, an edit.
    let sol: i64 = sqlx::query_scalar("select contact_id from contacts where name = 'Sol Client'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    ask(&app, o.r1, sol, (30, 12), "asked", &[], o.today).await;
    app.login("rita@example.com", PASSWORD).await;
    let week = app.get("/").await;
    let submission = crate::common::http::input_value(&week.body, "submission_id").unwrap();
    let logged = app
        .post_form(
            "/asks",
            &[
                ("source", "Sol Client"),
                ("target", "Their CFO"),
                ("reason", "Expansion"),
                ("submission_id", &submission),
            ],
        )
        .await;
    logged.assert_status(StatusCode::SEE_OTHER);
    let id = crate::common::http::logged_ask_id(logged.location());
    for kind in ["introduced", "source_thanked", "meeting_held"] {
        app.get(&format!("/asks/{id}")).await;
        app.post_form(&format!("/asks/{id}/events"), &[("kind", kind)])
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    app.get(&format!("/asks/{id}")).await;
    app.post_form(
        &format!("/asks/{id}"),
        &[
            ("reason", "Expansion plans"),
            ("channel", "phone"),
            ("asked_on", &(o.today - Duration::days(3)).to_string()),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    // And writes straight to the table: a stage change, a move to another rep, a removal.
    exec(
        &app,
        "update referral_asks set stage = 'won', amount_won_cents = 500, closed_at = now()
         where ask_id = (select min(ask_id) from referral_asks where stage = 'asked')",
    )
    .await;
    exec(
        &app,
        &format!(
            "update referral_asks set rep_id = {} where ask_id = (select max(ask_id) from referral_asks where rep_id = {})",
            o.r2.0, o.r1.0
        ),
    )
    .await;
    exec(&app, "delete from referral_asks where stage = 'declined'").await;

    // Every write above only queued its change; folding the queue brings the rollups current.
    assert!(
        app.count("select count(*) from ask_rollup_queue").await > 0,
        "the writes queued their changes"
    );
    let folded = warmline::db::metrics::fold_rollups(&app.pool)
        .await
        .unwrap();
    assert!(folded > 0);
    assert_eq!(app.count("select count(*) from ask_rollup_queue").await, 0);
    let kept = all_rollups(&app).await;
    let dashboard = compute(&app.pool, &app.pool, scope(o.admin, None, o.today))
        .await
        .unwrap();
    exec(
        &app,
        "select rebuild_ask_rollups(array(select user_id from users))",
    )
    .await;
    assert_eq!(kept, all_rollups(&app).await, "kept current = rebuilt");
    let rebuilt = compute(&app.pool, &app.pool, scope(o.admin, None, o.today))
        .await
        .unwrap();
    assert_eq!(
        format!("{:?}", dashboard.reps),
        format!("{:?}", rebuilt.reps)
    );
    assert_eq!(
        dashboard.totals.median_delay_days,
        rebuilt.totals.median_delay_days
    );
    let stale = app
        .count(
            "select count(*) from contacts c
             where coalesce(c.recent_ask_dates, '{}') <> ask_dates(c.contact_id, null)
                or coalesce(c.intro_ask_dates, '{}')
                   <> ask_dates(c.contact_id, '{introduced,meeting_scheduled,meeting_held,won,lost}')
                or coalesce(c.won_ask_dates, '{}') <> ask_dates(c.contact_id, '{won}')",
        )
        .await;
    assert_eq!(stale, 0, "every source's ask dates are current");
    let inactive = app
        .count(
            "select count(*) from users u left join rep_activity r on r.user_id = u.user_id
             where r.last_ask_logged_at is distinct from
                   (select max(a.created_at) from referral_asks a where a.rep_id = u.user_id)
               and exists (select 1 from referral_asks a where a.rep_id = u.user_id)",
        )
        .await;
    assert_eq!(inactive, 0, "every rep's last entry is current");
    let late: i64 = app.count("select sum(asks) from ask_late_rollups").await;
    assert_eq!(late, 1, "the ask logged 12 days late");

    // Any period, whatever weekdays it starts and ends on, counts the asks made in it: whole
    // weeks come from the weekly rollups, the days around them from the daily ones.
    for (back, days) in [
        (0, 0),
        (3, 2),
        (9, 6),
        (12, 7),
        (17, 13),
        (40, 30),
        (130, 129),
    ] {
        let from = o.today - Duration::days(back);
        let to = from + Duration::days(days);
        let s = Scope {
            from,
            to,
            ..scope(o.admin, None, o.today)
        };
        let d = compute(&app.pool, &app.pool, s).await.unwrap();
        let asked = app
            .count(&format!(
                "select count(*) from referral_asks where asked_on between '{from}' and '{to}'"
            ))
            .await;
        let won = app
            .count(&format!(
                "select count(*) from referral_asks where stage = 'won' and asked_on between '{from}' and '{to}'"
            ))
            .await;
        assert_eq!(
            (d.totals.asks, d.totals.wins),
            (asked, won),
            "{from} to {to}"
        );
    }
}

#[tokio::test]
async fn the_leaderboard_ranks_sources_by_introductions_then_wins_at_any_size() {
    let app = TestApp::spawn().await;
    let o = org(&app).await;
    // Twelve more sources with two to four introductions each in the period, some won, and
    // one introduction each outside it.
    for n in 0..12_i64 {
        let source = contact(&app, o.r2, &format!("Leader {n:02}"), "client", 3).await;
        for i in 0..(2 + n % 3) {
            let stage = if i < n % 2 { "won" } else { "introduced" };
            ask(
                &app,
                o.r2,
                source,
                (2 + i, 0),
                stage,
                &[("introduced", 1)],
                o.today,
            )
            .await;
        }
        ask(
            &app,
            o.r2,
            source,
            (60, 0),
            "introduced",
            &[("introduced", 50)],
            o.today,
        )
        .await;
    }
    let d = compute(&app.pool, &app.pool, scope(o.manager, None, o.today))
        .await
        .unwrap();
    let leaders: Vec<(String, i64, i64)> = d
        .leaderboard
        .iter()
        .map(|s| (s.name.clone(), s.intros, s.wins))
        .collect();
    // Four introductions: n = 2, 5, 8, 11 (won: 5, 11); three: n = 1, 4, 7, 10 (won: 1, 7);
    // then two with a win: Sol Client (the older contact) and n = 3, 9. Ties go to the older.
    let leader = |n: i64, intros: i64, wins: i64| (format!("Leader {n:02}"), intros, wins);
    let expected = vec![
        leader(5, 4, 1),
        leader(11, 4, 1),
        leader(2, 4, 0),
        leader(8, 4, 0),
        leader(1, 3, 1),
        leader(7, 3, 1),
        leader(4, 3, 0),
        leader(10, 3, 0),
        ("Sol Client".to_string(), 2, 1),
        leader(3, 2, 1),
    ];
    assert_eq!(leaders, expected);
    let by_scan = warmline::db::metrics::source_leaderboard_scan(
        &app.pool,
        &d.reps.iter().map(|r| r.user_id.0).collect::<Vec<_>>(),
        d.scope,
        10,
    )
    .await
    .unwrap();
    assert_eq!(
        format!("{:?}", d.leaderboard),
        format!("{by_scan:?}"),
        "the index path and the scan agree"
    );

    // With ten sources of three introductions or more, those alone decide the board.
    for n in 12..15_i64 {
        let source = contact(&app, o.r2, &format!("Leader {n:02}"), "client", 3).await;
        for i in 0..3 {
            ask(
                &app,
                o.r2,
                source,
                (6 + i, 0),
                "introduced",
                &[("introduced", 1)],
                o.today,
            )
            .await;
        }
    }
    let d = compute(&app.pool, &app.pool, scope(o.manager, None, o.today))
        .await
        .unwrap();
    let by_scan = warmline::db::metrics::source_leaderboard_scan(
        &app.pool,
        &d.reps.iter().map(|r| r.user_id.0).collect::<Vec<_>>(),
        d.scope,
        10,
    )
    .await
    .unwrap();
    assert_eq!(format!("{:?}", d.leaderboard), format!("{by_scan:?}"));
    assert_eq!(
        d.leaderboard.iter().map(|s| s.intros).collect::<Vec<_>>(),
        [4, 4, 4, 4, 3, 3, 3, 3, 3, 3]
    );
}

#[test]
fn a_period_is_read_as_whole_weeks_and_the_days_around_them_each_day_once() {
    use warmline::db::metrics::CohortParts;
    let day0 = Date::from_calendar_date(2026, time::Month::November, 2).unwrap(); // a Monday
    let within = |d: Date, (a, b): (Date, Date)| i64::from(a <= d && d <= b);
    for today_offset in 0..14 {
        let today = day0 + Duration::days(today_offset);
        for start in 0..14 {
            for length in 0..40 {
                let from = day0 + Duration::days(start);
                let to = from + Duration::days(length);
                let p = CohortParts::of(from, to, today);
                for d in (0..70).map(|n| day0 + Duration::days(n - 14)) {
                    let monday =
                        d - Duration::days(i64::from(d.weekday().number_days_from_monday()));
                    let weeks = within(monday, p.weeks);
                    let counted =
                        within(d, p.leading) + within(d, p.trailing) + weeks - within(d, p.beyond);
                    let expected = i64::from(from <= d && d <= to);
                    assert_eq!(
                        counted, expected,
                        "{d} in {from}..{to}, today {today}: {p:?}"
                    );
                }
            }
        }
    }
    // The last four weeks up to a Saturday: Sunday, then three whole weeks and this one.
    let saturday = day0 + Duration::days(26);
    let p = CohortParts::of(saturday - Duration::days(27), saturday, saturday);
    assert_eq!(
        p.leading,
        (day0 - Duration::days(1), day0 - Duration::days(1))
    );
    assert_eq!(p.weeks, (day0, day0 + Duration::weeks(3)));
    assert_eq!(
        p.beyond,
        (saturday + Duration::days(1), saturday + Duration::days(1))
    );
}

#[test]
fn the_median_of_a_histogram_interpolates_like_percentile_cont() {
    use warmline::db::metrics::median;
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[(3, 0)]), None);
    assert_eq!(median(&[(0, 5), (2, 1)]), Some(0.0));
    assert_eq!(median(&[(2, 1), (0, 1)]), Some(1.0));
    assert_eq!(median(&[(0, 1), (1, 1), (9, 1)]), Some(1.0));
    assert_eq!(median(&[(0, 2), (10, 2)]), Some(5.0));
    assert_eq!(median(&[(1, 1), (14, 3)]), Some(14.0));
}

#[tokio::test]
async fn managers_land_on_the_dashboard_and_picked_dates_mean_a_custom_range_or_a_field_message() {
    let app = TestApp::spawn().await;
    let manager = app
        .create_user("mona@example.com", "Mona Manager", "manager", None)
        .await;
    app.create_user("rita@example.com", "Rita Rep", "rep", Some(manager))
        .await;
    let res = app.login("mona@example.com", PASSWORD).await;
    assert_eq!(
        res.location(),
        "/dashboard",
        "managers start on the dashboard"
    );
    let rep = app.new_client();
    assert_eq!(
        rep.login("rita@example.com", PASSWORD).await.location(),
        "/",
        "reps start on My week"
    );

    // Dates with the default period: the custom range, selected in the form.
    let page = app
        .get("/dashboard?period=4w&from=2026-01-05&to=2026-01-18")
        .await;
    page.assert_status(StatusCode::OK)
        .assert_contains("2026-01-05 to 2026-01-18")
        .assert_contains("<option value=\"custom\" selected>");
    // An explicit period wins over leftover dates.
    app.get("/dashboard?period=week&from=2026-01-05&to=2026-01-18")
        .await
        .assert_status(StatusCode::OK)
        .assert_lacks("2026-01-05 to 2026-01-18");
    // A reversed range is explained, not turned into one day.
    let reversed = app
        .get("/dashboard?period=custom&from=2026-02-01&to=2026-01-01")
        .await;
    reversed
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("is before the start")
        .assert_contains("aria-invalid=\"true\"")
        .assert_lacks("2026-02-01 to 2026-02-01");
    app.get("/dashboard?from=yesterday")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Enter the dates like 2026-03-01");
}

/// Asks only queue their rollup changes; a fold that runs while an ask's transaction is still
/// open leaves that ask for the next fold, a rebuild replaces what was queued, and the
/// dashboard folds before it reads: each ask is counted exactly once, at once.
#[tokio::test]
async fn queued_rollup_changes_are_counted_once_whenever_they_are_folded() {
    let app = TestApp::spawn().await;
    let o = org(&app).await;
    let total = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            compute(&pool, &pool, scope(o.admin, None, o.today))
                .await
                .unwrap()
                .totals
                .asks
        }
    };
    let before = total(&app).await;
    let ended_before = compute(&app.pool, &app.pool, scope(o.admin, None, o.today))
        .await
        .unwrap()
        .totals
        .ended;
    assert_eq!(app.count("select count(*) from ask_rollup_queue").await, 0);
    let sid: i64 = sqlx::query_scalar("select contact_id from contacts where name = 'Sid Source'")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    // An ask committed after the last fold is on the dashboard straight away.
    ask(&app, o.r1, sid, (1, 0), "asked", &[], o.today).await;
    assert_eq!(app.count("select count(*) from ask_rollup_queue").await, 1);
    app.get("/metrics")
        .await
        .assert_contains("\nwarmline_rollup_queue_changes 1\n");
    assert_eq!(total(&app).await, before + 1);
    assert_eq!(app.count("select count(*) from ask_rollup_queue").await, 0);

    // An ask whose transaction is open while a fold runs: not counted yet, not lost either.
    let mut open = app.pool.begin().await.unwrap();
    sqlx::query(
        "insert into referral_asks (rep_id, source_contact_id, target_description, asked_on)
         values ($1, $2, 'someone', current_date)",
    )
    .bind(o.r1.0)
    .bind(sid)
    .execute(&mut *open)
    .await
    .unwrap();
    assert_eq!(
        warmline::db::metrics::fold_rollups(&app.pool)
            .await
            .unwrap(),
        0
    );
    assert_eq!(total(&app).await, before + 1);
    open.commit().await.unwrap();
    assert_eq!(total(&app).await, before + 2);

    // Queued changes and a rebuild: the rebuild's figures stand, the queue is not added twice.
    ask(&app, o.r1, sid, (2, 0), "asked", &[], o.today).await;
    exec(
        &app,
        "update referral_asks set stage = 'declined', closed_at = now()
         where ask_id = (select max(ask_id) from referral_asks)",
    )
    .await;
    assert_eq!(app.count("select count(*) from ask_rollup_queue").await, 3);
    exec(
        &app,
        "select rebuild_ask_rollups(array(select user_id from users))",
    )
    .await;
    assert_eq!(app.count("select count(*) from ask_rollup_queue").await, 0);
    let dashboard = compute(&app.pool, &app.pool, scope(o.admin, None, o.today))
        .await
        .unwrap();
    assert_eq!(dashboard.totals.asks, before + 3);
    assert_eq!(dashboard.totals.ended, ended_before + 1, "the declined ask");

    // A bulk change of many asks queues more than one fold takes at a time: all are folded.
    exec(
        &app,
        &format!(
            "insert into referral_asks (rep_id, source_contact_id, target_description, asked_on)
             select {}, {sid}, 'Prospect ' || i, current_date from generate_series(1, 12000) i",
            o.r1.0
        ),
    )
    .await;
    assert_eq!(
        warmline::db::metrics::fold_rollups(&app.pool)
            .await
            .unwrap(),
        12_000
    );
    assert_eq!(total(&app).await, before + 3 + 12_000);
}

/// The stages SQL counts as introduced are the ones the Rust side decides with.
#[tokio::test]
async fn the_stage_sets_in_sql_are_the_ones_in_rust() {
    use warmline::domain::asks::Stage;
    let app = TestApp::spawn().await;
    let mut introduced: Vec<String> =
        sqlx::query_scalar("select unnest(stages_reached_introduction())")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    introduced.sort();
    let mut rust: Vec<String> = Stage::ALL
        .into_iter()
        .filter(|s| s.reached_introduction())
        .map(|s| s.as_str().to_string())
        .collect();
    rust.sort();
    assert_eq!(introduced, rust);
}

/// The kinds of follow-up, of ask event and of stage the database accepts are the ones the
/// Rust side knows, and no more.
#[tokio::test]
async fn the_kinds_the_database_accepts_are_the_ones_in_rust() {
    use warmline::domain::asks::{Channel, EventKind, Stage};
    use warmline::domain::followups::FollowUpKind;
    use warmline::domain::notifications::NotificationKind;
    let app = TestApp::spawn().await;
    // The quoted values of a column's check constraint.
    let accepted = |table: &'static str, column: &'static str| {
        let pool = app.pool.clone();
        async move {
            let definition: String = sqlx::query_scalar(
                "select pg_get_constraintdef(c.oid) from pg_constraint c
                 join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
                 where c.conrelid = $1::regclass and c.contype = 'c' and a.attname = $2
                   and cardinality(c.conkey) = 1",
            )
            .bind(table)
            .bind(column)
            .fetch_one(&pool)
            .await
            .unwrap();
            let mut values: Vec<String> = definition
                .split('\'')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect();
            values.sort();
            values
        }
    };
    let sorted = |mut v: Vec<&str>| {
        v.sort();
        v.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(
        accepted("follow_ups", "kind").await,
        sorted(FollowUpKind::ALL.map(FollowUpKind::as_str).to_vec())
    );
    assert_eq!(
        accepted("ask_events", "kind").await,
        sorted(EventKind::ALL.map(EventKind::as_str).to_vec())
    );
    assert_eq!(
        accepted("referral_asks", "stage").await,
        sorted(Stage::ALL.map(Stage::as_str).to_vec())
    );
    assert_eq!(
        accepted("referral_asks", "channel").await,
        sorted(Channel::ALL.map(Channel::as_str).to_vec())
    );
    assert_eq!(
        accepted("notifications", "kind").await,
        sorted(NotificationKind::ALL.map(NotificationKind::as_str).to_vec())
    );
}

/// One connector window for the quick log's warning and the dashboard's connector load: a
/// source with its fourth ask exactly on the window's first day is over the limit for both,
/// and a day earlier for neither.
#[tokio::test]
async fn the_quick_log_warning_and_connector_load_share_one_window() {
    use warmline::asks::service::{CONNECTOR_LIMIT, CONNECTOR_WINDOW_DAYS};
    let app = TestApp::spawn().await;
    let o = org(&app).await;
    app.login("rita@example.com", PASSWORD).await;
    for (name, oldest) in [
        ("Edge Connie", CONNECTOR_WINDOW_DAYS),
        ("Early Eddie", CONNECTOR_WINDOW_DAYS + 1),
    ] {
        let source = contact(&app, o.r1, name, "referral_source", 3).await;
        // One ask more than the limit, the oldest on the day given.
        for days in std::iter::once(oldest).chain(1..=CONNECTOR_LIMIT) {
            ask(&app, o.r1, source, (days, 0), "asked", &[], o.today).await;
        }
        let d = compute(&app.pool, &app.pool, scope(o.manager, None, o.today))
            .await
            .unwrap();
        let listed = d.connector_load.iter().any(|s| s.name == name);
        let week = app.get("/").await;
        let submission = crate::common::http::input_value(&week.body, "submission_id").unwrap();
        let answer = app
            .post_form(
                "/asks",
                &[
                    ("source", name),
                    ("target", "Someone new"),
                    ("reason", "Reason"),
                    ("submission_id", &submission),
                ],
            )
            .await;
        let warned = answer.body.contains("Log it anyway");
        let inside = oldest == CONNECTOR_WINDOW_DAYS;
        assert_eq!(listed, inside, "{name} on the dashboard");
        assert_eq!(warned, inside, "{name} warned about");
    }
}
