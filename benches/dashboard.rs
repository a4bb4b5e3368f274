//! Seeds 200 reps, 200,000 contacts at 4,001 companies, 1,000,000 relationships and 1,000,000
//! asks (target: under 2 minutes), then times, in one run: the admin's whole-organisation
//! dashboard (default view, the full HTTP request), a 10-rep manager's dashboard, PostgreSQL's
//! `select count(*) from referral_asks`, and a rep's warm-path search for a company with 50
//! known people across the team. Targets: the whole-organisation dashboard under half of that
//! count's time; the 10-rep dashboard under 50 ms median; path search under 100 ms median.
//!
//!     cargo bench --bench dashboard

mod support;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use sqlx::{Connection, PgConnection};
use warmline::accounts::service::{self, NewUserInput};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    let (_pg, pool, url) = support::database("dashboard").await;
    let today = time::OffsetDateTime::now_utc().date();
    let size = warmline::seed::Size {
        reps: 200,
        contacts: 200_000,
        asks: 1_000_000,
        relationships: 1_000_000,
    };
    let started = Instant::now();
    let report = warmline::seed::seed(&pool, size, today, false)
        .await
        .unwrap();
    println!(
        "dashboard benchmark: seeded {} users, {} contacts at {} companies, {} relationships, {} asks, {} events, {} follow-ups in {} (target: under 120 s)",
        report.users,
        report.contacts,
        report.companies,
        report.relationships,
        report.asks,
        report.events,
        report.follow_ups,
        support::secs(started.elapsed())
    );
    println!("  seed phases: {}", report.phases_text());
    // Straight after the seed, as a newcomer's first look would be: the seed itself leaves
    // the tables vacuumed and analysed, and that time is in the figure above.

    let admin = NewUserInput {
        email: "admin@bench.example".into(),
        name: "Bench Admin".into(),
        role: "admin".into(),
        weekly_ask_target: "0".into(),
        time_zone: "UTC".into(),
        password: "bench password 1".into(),
        ..Default::default()
    };
    service::add_user(&pool, None, &admin).await.unwrap();
    let app = support::app(&pool, &url);
    let mut admin =
        support::Client::login(app.clone(), "admin@bench.example", "bench password 1").await;
    let mut manager = support::Client::login(
        app,
        &format!("manager1@{}", warmline::seed::DOMAIN),
        warmline::seed::PASSWORD,
    )
    .await;

    let time_page = async |client: &mut support::Client, runs: usize| {
        // Warm-up: every pooled connection has prepared the statements, as in a running server.
        for _ in 0..10 {
            let (status, _) = client.get("/dashboard").await;
            assert_eq!(status, StatusCode::OK);
        }
        let mut times = Vec::new();
        for _ in 0..runs {
            let started = Instant::now();
            let (status, body) = client.get("/dashboard").await;
            times.push(started.elapsed());
            assert_eq!(status, StatusCode::OK);
            assert!(body.contains("chart funnel"));
        }
        median(times)
    };
    let whole = time_page(&mut admin, 21).await;
    // Where the whole-organisation dashboard's database time goes: each query alone.
    {
        use warmline::db::metrics as m;
        let viewer: i64 =
            sqlx::query_scalar("select user_id from users where email = 'admin@bench.example'")
                .fetch_one(&pool)
                .await
                .unwrap();
        let scope = m::Scope {
            viewer: warmline::domain::users::UserId(viewer),
            rep: None,
            from: today - time::Duration::days(27),
            to: today,
            today,
        };
        let ids = m::scope_rep_ids(&pool, scope).await.unwrap();
        let since = today - time::Duration::weeks(12);
        let mut parts = Vec::new();
        macro_rules! timed {
            ($label:expr, $call:expr) => {{
                let mut runs = Vec::new();
                for _ in 0..21 {
                    let started = Instant::now();
                    $call.await.unwrap();
                    runs.push(started.elapsed());
                }
                parts.push(format!("{} {}", $label, ms(median(runs))));
            }};
        }
        timed!("fold", m::fold_rollups(&pool));
        timed!("reps", m::scope_rep_ids(&pool, scope));
        timed!("rep figures", m::rep_stats(&pool, &ids, scope));
        timed!(
            "previous period",
            m::asks_made(
                &pool,
                &ids,
                scope.from - time::Duration::days(28),
                scope.from - time::Duration::days(1)
            )
        );
        timed!("trend", m::weekly_trend(&pool, &ids, since));
        timed!("promises", m::promises_kept(&pool, &ids, scope));
        timed!("leaderboard", m::source_leaderboard(&pool, &ids, scope, 10));
        timed!("connector load", m::connector_load(&pool, &ids, scope, 10));
        timed!("coverage", m::ask_coverage(&pool, &ids, scope));
        timed!("overdue", m::overdue_by_age(&pool, &ids, scope));
        timed!("team-assisted", m::team_assisted(&pool, &ids, scope, 5));
        println!("  its queries one at a time: {}", parts.join(", "));
    }
    let team = time_page(&mut manager, 21).await;
    // The count runs on a plain connection with the cluster's own settings (the application's
    // pool turns parallel workers off; a lone count(*) is where they help most).
    let mut plain = PgConnection::connect(&url).await.unwrap();
    let mut counts = Vec::new();
    for _ in 0..22 {
        let started = Instant::now();
        let n: i64 = sqlx::query_scalar("select count(*) from referral_asks")
            .fetch_one(&mut plain)
            .await
            .unwrap();
        counts.push(started.elapsed());
        assert_eq!(n, 1_000_000);
    }
    let count = median(counts[1..].to_vec());
    println!(
        "  select count(*) from referral_asks: {} (median of 21)",
        ms(count)
    );
    println!(
        "  whole-organisation dashboard (admin, last 4 weeks, HTTP): {} median of 21; target under {} (half the count): {}",
        ms(whole),
        ms(count / 2),
        if whole < count / 2 { "met" } else { "NOT met" }
    );
    println!(
        "  10-rep manager dashboard (HTTP): {} median of 21; target under 50 ms: {}",
        ms(team),
        if team < Duration::from_millis(50) {
            "met"
        } else {
            "NOT met"
        }
    );

    // Warm paths: a rep searches for a company 50 people in the team know, through every
    // network, two hops deep; the service call alone, and the page over HTTP.
    let rep_email = format!("rep1@{}", warmline::seed::DOMAIN);
    let rep_id: i64 = sqlx::query_scalar("select user_id from users where email = $1")
        .bind(&rep_email)
        .fetch_one(&pool)
        .await
        .unwrap();
    let rep = warmline::db::users::find(&pool, warmline::domain::users::UserId(rep_id))
        .await
        .unwrap()
        .unwrap();
    let known: i64 = sqlx::query_scalar(
        "select count(*) from contacts c join company_aliases a on a.company_id = c.company_id
         where a.key = company_key('Company 7')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let mut searches = Vec::new();
    let mut found = 0;
    for run in 0..26 {
        let started = Instant::now();
        let result = warmline::paths::service::search(&pool, &rep, "Company 7")
            .await
            .unwrap();
        if run >= 5 {
            searches.push(started.elapsed());
        }
        found = result.paths.len();
    }
    let search = median(searches);
    let mut rep_client = support::Client::login(
        support::app(&pool, &url),
        &rep_email,
        warmline::seed::PASSWORD,
    )
    .await;
    let mut pages = Vec::new();
    for run in 0..26 {
        let started = Instant::now();
        let (status, body) = rep_client.get("/paths?prospect=Company+7").await;
        if run >= 5 {
            pages.push(started.elapsed());
        }
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("warmest first"));
    }
    let page = median(pages);
    println!(
        "  path search (a rep, \"Company 7\": {known} people known across the team, {found} paths shown): {} median of 21; the page over HTTP {}; target under 100 ms: {}",
        ms(search),
        ms(page),
        if page < Duration::from_millis(100) {
            "met"
        } else {
            "NOT met"
        }
    );
}
