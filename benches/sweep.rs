//! The overdue sweep over 1,000,000 follow-ups, 50,000 of them newly overdue (target: under
//! 5 s), then a sweep with nothing new to do (target: under 50 ms), with the query plan that
//! shows the partial index at work.
//!
//!     cargo bench --bench sweep

mod support;

use std::time::{Duration, Instant};

use time::OffsetDateTime;

const FOLLOW_UPS: i64 = 1_000_000;
const NEWLY_OVERDUE: i64 = 50_000;

#[tokio::main]
async fn main() {
    let (_pg, pool, _) = support::database("sweep").await;
    let started = Instant::now();
    sqlx::raw_sql(&format!(
        "insert into users (email, name, role, password_hash, time_zone)
         select 'manager' || n || '@bench.example', 'Manager ' || n, 'manager', 'x',
                (array['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'America/Los_Angeles'])[1 + n % 5]
         from generate_series(1, 50) n;
         insert into users (email, name, role, password_hash, time_zone, manager_id)
         select 'rep' || n || '@bench.example', 'Rep ' || n, 'rep', 'x',
                (array['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'America/Los_Angeles'])[1 + n % 5],
                1 + n % 50
         from generate_series(1, 1000) n;
         -- Done in the past.
         insert into follow_ups (owner_id, kind, title, due_on, done_at)
         select 51 + n % 1000, 'ask_follow_up', 'Follow up ' || n, current_date - (n % 700), now() - make_interval(days => n % 700)
         from generate_series(1, 600000) n;
         -- Open and due later.
         insert into follow_ups (owner_id, kind, title, due_on)
         select 51 + n % 1000, 'thank_source', 'Thank ' || n, current_date + 2 + (n % 365)
         from generate_series(1, {open}) n;
         -- Open and past due, not yet flagged.
         insert into follow_ups (owner_id, kind, title, due_on)
         select 51 + n % 1000, 'promise', 'Promise ' || n, current_date - 2 - (n % 60)
         from generate_series(1, {overdue}) n;",
        open = FOLLOW_UPS - 600_000 - NEWLY_OVERDUE,
        overdue = NEWLY_OVERDUE,
    ))
    .execute(&pool)
    .await
    .unwrap();
    println!(
        "sweep benchmark: {FOLLOW_UPS} follow-ups, {NEWLY_OVERDUE} newly overdue (loaded in {})",
        support::secs(started.elapsed())
    );

    let delay = Duration::from_secs(48 * 3600);
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    let report = warmline::sweeper::sweep(&pool, now, delay).await.unwrap();
    let took = started.elapsed();
    assert_eq!(report.flagged, NEWLY_OVERDUE);
    println!(
        "  sweep with {} newly overdue: {} (flagged {}, escalated {}, notified {}; target: under 5 s)",
        NEWLY_OVERDUE,
        support::secs(took),
        report.flagged,
        report.escalated,
        report.notified
    );

    sqlx::raw_sql("vacuum analyze follow_ups")
        .execute(&pool)
        .await
        .unwrap();
    let mut idle = Vec::new();
    for _ in 0..9 {
        let started = Instant::now();
        let report = warmline::sweeper::sweep(&pool, now, delay).await.unwrap();
        idle.push(started.elapsed());
        assert_eq!(
            (report.flagged, report.escalated, report.cleared),
            (0, 0, 0)
        );
    }
    idle.sort();
    println!(
        "  idle sweep, nothing new: median {:.1} ms, best {:.1} ms, worst {:.1} ms (target: under 50 ms)",
        idle[4].as_secs_f64() * 1e3,
        idle[0].as_secs_f64() * 1e3,
        idle[8].as_secs_f64() * 1e3
    );

    // The flagging pass's candidate query, as db::follow_ups::flag_overdue runs it.
    let plan: Vec<String> = sqlx::query_scalar(
        "explain (analyze, buffers, costs off)
         with due as materialized (
             select follow_up_id, owner_id, due_on from follow_ups
             where done_at is null and overdue_since is null
               and due_on < ($1::timestamptz at time zone 'Pacific/Kiritimati')::date
               and (due_on, follow_up_id) > ('0001-01-01'::date, 0::int8)
             order by due_on, follow_up_id
             limit 5000
         )
         select f.follow_up_id from due d
         join follow_ups f on f.follow_up_id = d.follow_up_id
         join users u on u.user_id = d.owner_id
         where d.due_on < ($1::timestamptz at time zone u.time_zone)::date
           and u.deactivated_at is null and f.done_at is null and f.overdue_since is null
         for update of f skip locked",
    )
    .bind(now)
    .fetch_all(&pool)
    .await
    .unwrap();
    println!("  plan of the idle flagging pass:");
    for line in plan {
        println!("    {line}");
    }
}
