//! `warmline seed`: bulk synthetic data for benchmarks, through COPY. The same shape as the
//! demo (managers with ten reps each, contacts of every kind, asks over the last two years with
//! their events and follow-ups, some overdue), at any size.

use std::fmt::Write;

use anyhow::{Context, Result, bail};
use sqlx::{PgConnection, PgPool};
use time::{Date, Duration};

use crate::accounts::password;
use crate::demo::Rng;

/// The e-mail domain of seeded users: anything else in the database is real data.
pub const DOMAIN: &str = "seed.warmline.example";
/// The password of every seeded user.
pub const PASSWORD: &str = "seeded-password-1";
/// Rows sent to COPY at a time.
const CHUNK: usize = 50_000;

/// What the paused triggers would have done to the seeded reps' contacts: their last touch
/// (the latest ask or event involving them) and what their asks as a source came to.
const TOUCH_CONTACTS: &str = "
    with touches as (
        select id, max(day)::timestamptz as at
        from (
            select source_contact_id as id, asked_on as day from referral_asks where rep_id = any($1)
            union all
            select target_contact_id, asked_on from referral_asks
            where rep_id = any($1) and target_contact_id is not null
            union all
            select a.source_contact_id, e.occurred_on
            from ask_events e join referral_asks a using (ask_id) where a.rep_id = any($1)
            union all
            select a.target_contact_id, e.occurred_on
            from ask_events e join referral_asks a using (ask_id)
            where a.rep_id = any($1) and a.target_contact_id is not null
        ) s
        group by id
    )
    update contacts c
    set last_touch_at = greatest(c.last_touch_at, t.at),
        recent_ask_dates = ask_dates(c.contact_id, null),
        intro_ask_dates = ask_dates(c.contact_id, '{introduced,meeting_scheduled,meeting_held,won,lost}'),
        won_ask_dates = ask_dates(c.contact_id, '{won}')
    from touches t
    where c.contact_id = t.id";

/// How much to create.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub reps: usize,
    pub contacts: usize,
    pub asks: usize,
}

/// What was created.
#[derive(Debug, Clone, Copy, Default)]
pub struct Report {
    pub users: u64,
    pub contacts: u64,
    pub asks: u64,
    pub events: u64,
    pub follow_ups: u64,
}

/// Seeds the database. Refuses one that holds users other than seeded ones, unless `force`.
pub async fn seed(pool: &PgPool, size: Size, today: Date, force: bool) -> Result<Report> {
    let foreign: i64 =
        sqlx::query_scalar("select count(*) from users where email not like '%@' || $1")
            .bind(DOMAIN)
            .fetch_one(pool)
            .await?;
    if foreign > 0 && !force {
        bail!(
            "the database holds {foreign} users that are not seed data; seeding would mix synthetic data \
             into it. Use an empty database, or pass --force to add seed data anyway."
        );
    }
    let hash = password::hash(PASSWORD.to_string()).await?;
    let mut tx = pool.begin().await?;
    let mut report = Report::default();
    let run: i64 = sqlx::query_scalar("select coalesce(max(user_id), 0) from users")
        .fetch_one(&mut *tx)
        .await?;
    let managers = size.reps.div_ceil(10).max(1);
    report.users = sqlx::query(
        "insert into users (email, name, role, password_hash, time_zone)
         select 'manager' || ($1 + n) || '@' || $2, 'Manager ' || ($1 + n), 'manager', $3,
                (array['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'])[1 + n % 4]
         from generate_series(1, $4::int) n",
    )
    .bind(run)
    .bind(DOMAIN)
    .bind(&hash)
    .bind(managers as i32)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    report.users += sqlx::query(
        "insert into users (email, name, role, password_hash, time_zone, manager_id, weekly_ask_target, annual_client_goal)
         select 'rep' || ($1 + n) || '@' || $2, 'Rep ' || ($1 + n), 'rep', $3,
                (array['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'UTC'])[1 + n % 4],
                (select user_id from users where email = 'manager' || ($1 + 1 + (n - 1) / 10) || '@' || $2), 5, 12
         from generate_series(1, $4::int) n",
    )
    .bind(run)
    .bind(DOMAIN)
    .bind(&hash)
    .bind(size.reps as i32)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let reps: Vec<i64> = sqlx::query_scalar("select user_id from users where email like 'rep%@' || $1 and user_id > $2 order by user_id")
        .bind(DOMAIN)
        .bind(run)
        .fetch_all(&mut *tx)
        .await?;
    let mut rng = Rng(0x5eed_0000_0000_0001 ^ run as u64);

    report.contacts = copy_contacts(&mut tx, &mut rng, &reps, size.contacts).await?;
    let contacts: Vec<(i64, i64, String)> = sqlx::query_as(
        "select contact_id, owner_id, kind from contacts where owner_id = any($1) order by contact_id",
    )
    .bind(&reps)
    .fetch_all(&mut *tx)
    .await?;
    let mut sources: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    let mut prospects: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for (id, owner, kind) in contacts {
        let bucket = if kind == "prospect" {
            &mut prospects
        } else {
            &mut sources
        };
        bucket.entry(owner).or_default().push(id);
    }
    // Explicit ask ids let events and follow-ups refer to their ask within the same COPY run.
    // The triggers that keep contacts' touches and the dashboard rollups current work per
    // statement; for a bulk load they are paused and their work is done once, set-based, below.
    sqlx::raw_sql(
        "alter table referral_asks alter column ask_id set generated by default;
         alter table referral_asks disable trigger user;
         alter table ask_events disable trigger user;
         alter table follow_ups disable trigger user;",
    )
    .execute(&mut *tx)
    .await?;
    let first_ask: i64 =
        sqlx::query_scalar("select coalesce(max(ask_id), 0) + 1 from referral_asks")
            .fetch_one(&mut *tx)
            .await?;
    let (asks, events, follow_ups) = copy_asks(
        &mut tx, &mut rng, &reps, &sources, &prospects, first_ask, size.asks, today,
    )
    .await?;
    report.asks = asks;
    report.events = events;
    report.follow_ups = follow_ups;
    sqlx::raw_sql(
        "alter table referral_asks alter column ask_id set generated always;
         alter table referral_asks enable trigger user;
         alter table ask_events enable trigger user;
         alter table follow_ups enable trigger user;",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query(TOUCH_CONTACTS)
        .bind(&reps)
        .execute(&mut *tx)
        .await?;
    sqlx::query("select rebuild_ask_rollups($1)")
        .bind(&reps)
        .execute(&mut *tx)
        .await?;
    sqlx::query("select setval(pg_get_serial_sequence('referral_asks', 'ask_id'), (select max(ask_id) from referral_asks))")
        .execute(&mut *tx)
        .await?;
    tx.commit()
        .await
        .context("could not commit the seed data")?;
    for table in [
        "users",
        "contacts",
        "referral_asks",
        "ask_events",
        "follow_ups",
        "ask_rollups",
        "ask_week_rollups",
        "ask_year_rollups",
    ] {
        sqlx::query(&format!("analyze {table}"))
            .execute(pool)
            .await?;
    }
    Ok(report)
}

async fn copy(conn: &mut PgConnection, statement: &str, rows: &str) -> Result<u64> {
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(rows.as_bytes()).await?;
    Ok(copy.finish().await?)
}

async fn copy_contacts(
    conn: &mut PgConnection,
    rng: &mut Rng,
    reps: &[i64],
    total: usize,
) -> Result<u64> {
    const KINDS: [&str; 5] = ["client", "referral_source", "prospect", "partner", "other"];
    const WEIGHTS: [u64; 5] = [30, 20, 35, 5, 10];
    let statement = "copy contacts (owner_id, name, email, company, kind, strength, touch_cadence_days) from stdin";
    let mut done = 0;
    let mut rows = String::new();
    for n in 0..total {
        let owner = reps[n % reps.len()];
        let mut pick = rng.below(100);
        let kind = KINDS
            .iter()
            .zip(WEIGHTS)
            .find(|(_, w)| {
                let hit = pick < *w;
                pick = pick.saturating_sub(*w);
                hit
            })
            .map_or("other", |(k, _)| k);
        let cadence = if kind == "client" || kind == "referral_source" {
            "90"
        } else {
            "\\N"
        };
        let _ = writeln!(
            rows,
            "{owner}\tPerson {n} Seed\tperson{n}@company{}.example\tCompany {}\t{kind}\t{}\t{cadence}",
            n % 5000,
            n % 5000,
            1 + rng.below(5)
        );
        if (n + 1) % CHUNK == 0 {
            done += copy(conn, statement, &rows).await?;
            rows.clear();
        }
    }
    if !rows.is_empty() {
        done += copy(conn, statement, &rows).await?;
    }
    Ok(done)
}

#[expect(clippy::too_many_arguments, reason = "the seed's inputs, passed once")]
async fn copy_asks(
    conn: &mut PgConnection,
    rng: &mut Rng,
    reps: &[i64],
    sources: &std::collections::HashMap<i64, Vec<i64>>,
    prospects: &std::collections::HashMap<i64, Vec<i64>>,
    first_id: i64,
    total: usize,
    today: Date,
) -> Result<(u64, u64, u64)> {
    let ask_sql = "copy referral_asks (ask_id, rep_id, source_contact_id, target_contact_id, target_description, reason, \
                   channel, asked_on, stage, amount_won_cents, closed_at, created_at, introduced_on, thanked_on) from stdin";
    let event_sql =
        "copy ask_events (ask_id, kind, actor_id, occurred_on, amount_cents) from stdin";
    // done_on: the owner's local date of done_at (09:00 UTC is the same date in every seeded zone).
    let follow_sql = "copy follow_ups (owner_id, kind, title, ask_id, contact_id, due_on, done_at, done_on, overdue_since) from stdin";
    let (mut asks, mut events, mut follows) = (String::new(), String::new(), String::new());
    let mut counts = (0, 0, 0);
    let empty = Vec::new();
    for n in 0..total {
        let id = first_id + n as i64;
        let rep = reps[n % reps.len()];
        let rep_sources = sources.get(&rep).unwrap_or(&empty);
        let rep_prospects = prospects.get(&rep).unwrap_or(&empty);
        let Some(&source) = rep_sources.get(rng.below(rep_sources.len() as u64) as usize) else {
            continue;
        };
        let target = rep_prospects
            .get(rng.below(rep_prospects.len() as u64) as usize)
            .copied();
        let asked_on = today - Duration::days(rng.below(730) as i64);
        let age = (today - asked_on).whole_days();
        let mut at = asked_on;
        let mut trail: Vec<(&str, Date, Option<i64>)> = Vec::new();
        let mut step = |rng: &mut Rng, min: i64, spread: u64| {
            at += Duration::days(min + rng.below(spread) as i64);
            (at <= today).then_some(at)
        };
        if rng.chance(15) && age > 5 {
            if let Some(on) = step(rng, 2, 6) {
                trail.push(("declined", on, None));
            }
        } else if rng.chance(62) && age > 3 {
            if let Some(on) = step(rng, 1, 8) {
                trail.push(("introduced", on, None));
                if rng.chance(75) && on + Duration::days(2) <= today {
                    trail.push(("source_thanked", on + Duration::days(2), None));
                }
                if rng.chance(60)
                    && let Some(on) = step(rng, 3, 12)
                {
                    trail.push(("meeting_held", on, None));
                    if let Some(on) = step(rng, 7, 25) {
                        if rng.chance(55) {
                            trail.push((
                                "won",
                                on,
                                Some((5_000 + rng.below(60) as i64 * 1_000) * 100),
                            ));
                        } else {
                            trail.push(("lost", on, None));
                        }
                    }
                }
            }
        } else if age > 70
            && rng.chance(70)
            && let Some(on) = step(rng, 60, 10)
        {
            trail.push(("expired", on, None));
        }
        let last = trail.iter().rev().find(|(k, _, _)| *k != "source_thanked");
        let stage = last.map_or("asked", |(k, _, _)| *k);
        let closed = matches!(stage, "won" | "lost" | "declined" | "expired");
        let amount = trail
            .iter()
            .find(|(k, _, _)| *k == "won")
            .and_then(|(_, _, a)| *a);
        let nul = |v: Option<String>| v.unwrap_or_else(|| "\\N".into());
        let (target_id, description) = match target {
            Some(t) if rng.chance(70) => (t.to_string(), "\\N".to_string()),
            _ => (
                "\\N".to_string(),
                "CFO of a mid-size logistics firm".to_string(),
            ),
        };
        let created = asked_on
            + Duration::days(rng.below(3) as i64)
                .min(Duration::days((today - asked_on).whole_days()));
        let first = |kind: &str| {
            nul(trail
                .iter()
                .find(|(k, _, _)| *k == kind)
                .map(|(_, on, _)| on.to_string()))
        };
        let _ = writeln!(
            asks,
            "{id}\t{rep}\t{source}\t{target_id}\t{description}\tExpansion plans\tin_person\t{asked_on}\t{stage}\t{}\t{}\t{created} 10:00:00+00\t{}\t{}",
            nul(amount.map(|a| a.to_string())),
            nul(last
                .filter(|_| closed)
                .map(|(_, on, _)| format!("{on} 17:00:00+00"))),
            first("introduced"),
            first("source_thanked"),
        );
        for (kind, on, amount) in &trail {
            let _ = writeln!(
                events,
                "{id}\t{kind}\t{rep}\t{on}\t{}",
                nul(amount.map(|a| a.to_string()))
            );
            counts.1 += 1;
        }
        // The first follow-up: done once something happened (or, mostly, when old).
        let due = asked_on + Duration::days(7);
        let open = stage == "asked" && (age < 14 || rng.chance(5));
        let overdue = open && due < today;
        let done = |on: Option<Date>| {
            on.map_or("\\N\t\\N".to_string(), |on| {
                format!("{on} 09:00:00+00\t{on}")
            })
        };
        let _ = writeln!(
            follows,
            "{rep}\task_follow_up\tFollow up on the introduction\t{id}\t{source}\t{due}\t{}\t{}",
            done((!open).then(|| due.min(today))),
            if overdue {
                format!("{} 00:00:00+00", due + Duration::days(1))
            } else {
                "\\N".into()
            },
        );
        counts.2 += 1;
        if rng.chance(2) {
            // Promises: most of those due are done, three in four of them by the due date.
            let due = today + Duration::days(rng.below(30) as i64 - 10);
            let late = if rng.chance(75) {
                0
            } else {
                1 + rng.below(2) as i64
            };
            let done_on = (due < today && rng.chance(80))
                .then(|| (due + Duration::days(late - rng.below(2) as i64)).min(today));
            let _ = writeln!(
                follows,
                "{rep}\tpromise\tSend the case study\t{id}\t{source}\t{due}\t{}\t\\N",
                done(done_on)
            );
            counts.2 += 1;
        }
        if (n + 1) % CHUNK == 0 {
            counts.0 += copy(conn, ask_sql, &asks).await?;
            copy(conn, event_sql, &events).await?;
            copy(conn, follow_sql, &follows).await?;
            asks.clear();
            events.clear();
            follows.clear();
        }
    }
    if !asks.is_empty() {
        counts.0 += copy(conn, ask_sql, &asks).await?;
        copy(conn, event_sql, &events).await?;
        copy(conn, follow_sql, &follows).await?;
    }
    Ok(counts)
}
