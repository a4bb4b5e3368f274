//! The dashboard's metrics: one set of queries shared by the page, its CSV export and the API.
//! Every query is scoped to the reps `dashboard_reps(viewer, rep)` names ([`scope_rep_ids`]). Funnel figures follow the cohort of
//! asks made in the period.

use sqlx::PgExecutor;
use time::Date;

use crate::accounts::model::UserId;
use crate::contacts::model::ContactId;

/// What a dashboard covers.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub viewer: UserId,
    pub rep: Option<UserId>,
    pub from: Date,
    pub to: Date,
    /// Today in the viewer's time zone.
    pub today: Date,
}

/// The ids of the reps a dashboard covers, resolved once so that every metric query can use
/// the indexes on `rep_id` (a literal array plans far better than a set-returning function).
pub async fn scope_rep_ids(db: impl PgExecutor<'_>, s: Scope) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        r#"select r as "r!" from dashboard_reps($1, $2) r order by r"#,
        s.viewer as UserId,
        s.rep.map(|r| r.0)
    )
    .fetch_all(db)
    .await
}

/// One rep's figures for the period.
#[derive(Debug, Clone)]
pub struct RepStats {
    pub user_id: UserId,
    pub name: String,
    pub weekly_ask_target: i32,
    pub annual_client_goal: i32,
    pub asks_per_client: f64,
    pub asks: i64,
    pub intros: i64,
    pub meetings: i64,
    pub wins: i64,
    pub losses: i64,
    /// Asks that reached an introduction or ended without one.
    pub ended: i64,
    pub won_cents: i64,
    pub median_delay_days: Option<f64>,
    /// Logged an ask in the last 7 days.
    pub active: bool,
    pub wins_this_year: i64,
}

/// Per-rep figures, by name.
pub async fn rep_stats(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
) -> sqlx::Result<Vec<RepStats>> {
    sqlx::query_as!(
        RepStats,
        r#"select u.user_id as "user_id!: UserId", u.name as "name!", u.weekly_ask_target as "weekly_ask_target!",
                  u.annual_client_goal as "annual_client_goal!", u.asks_per_client as "asks_per_client!",
                  count(a.ask_id) as "asks!",
                  count(a.ask_id) filter (where a.stage in ('introduced', 'meeting_scheduled', 'meeting_held', 'won', 'lost')) as "intros!",
                  count(a.ask_id) filter (where a.stage in ('meeting_held', 'won', 'lost')) as "meetings!",
                  count(a.ask_id) filter (where a.stage = 'won') as "wins!",
                  count(a.ask_id) filter (where a.stage = 'lost') as "losses!",
                  count(a.ask_id) filter (where a.stage <> 'asked' and a.stage <> 'promised_intro') as "ended!",
                  coalesce(sum(a.amount_won_cents) filter (where a.stage = 'won'), 0)::int8 as "won_cents!",
                  percentile_cont(0.5) within group (order by (a.created_at::date - a.asked_on)) as median_delay_days,
                  exists (select 1 from referral_asks x where x.rep_id = u.user_id and x.created_at > now() - interval '7 days') as "active!",
                  (select count(*) from referral_asks y where y.rep_id = u.user_id and y.stage = 'won'
                     and y.asked_on >= date_trunc('year', $4::date)::date) as "wins_this_year!"
           from users u
           left join referral_asks a on a.rep_id = u.user_id and a.asked_on between $2 and $3
           where u.user_id = any($1)
           group by u.user_id
           order by lower(u.name), u.user_id"#,
        ids,
        s.from,
        s.to,
        s.today
    )
    .fetch_all(db)
    .await
}

/// Introductions in the period and how many of their sources were thanked within 7 days.
pub async fn thanked_sources(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) as "intros!",
                  count(*) filter (where exists (
                      select 1 from ask_events t where t.ask_id = a.ask_id and t.kind = 'source_thanked'
                        and t.occurred_on <= i.occurred_on + 7)) as "thanked!"
           from referral_asks a join ask_events i on i.ask_id = a.ask_id and i.kind = 'introduced'
           where a.rep_id = any($1) and a.asked_on between $2 and $3"#,
        ids,
        s.from,
        s.to
    )
    .fetch_one(db)
    .await?;
    Ok((row.intros, row.thanked))
}

/// Promises due in the period (up to yesterday) and how many were done by their due date.
pub async fn promises_kept(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) as "due!",
                  count(*) filter (where f.done_at is not null
                                     and (f.done_at at time zone u.time_zone)::date <= f.due_on) as "kept!"
           from follow_ups f join users u on u.user_id = f.owner_id
           where f.owner_id = any($1) and f.kind = 'promise'
             and f.due_on between $2 and least($3::date, $4::date - 1)"#,
        ids,
        s.from,
        s.to,
        s.today
    )
    .fetch_one(db)
    .await?;
    Ok((row.due, row.kept))
}

/// A rep's open overdue follow-ups by age in days.
#[derive(Debug, Clone)]
pub struct OverdueByAge {
    pub user_id: UserId,
    pub name: String,
    pub days_1_2: i64,
    pub days_3_7: i64,
    pub days_8_plus: i64,
}

/// Open overdue follow-ups now, per rep, by age (1–2, 3–7, 8+ days past due).
pub async fn overdue_by_age(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
) -> sqlx::Result<Vec<OverdueByAge>> {
    sqlx::query_as!(
        OverdueByAge,
        r#"select u.user_id as "user_id!: UserId", u.name as "name!",
                  count(*) filter (where $2::date - f.due_on <= 2) as "days_1_2!",
                  count(*) filter (where $2::date - f.due_on between 3 and 7) as "days_3_7!",
                  count(*) filter (where $2::date - f.due_on >= 8) as "days_8_plus!"
           from follow_ups f join users u on u.user_id = f.owner_id
           where f.owner_id = any($1)
             and f.done_at is null and f.overdue_since is not null
           group by u.user_id
           order by count(*) desc, lower(u.name)"#,
        ids,
        s.today
    )
    .fetch_all(db)
    .await
}

/// Strong-relationship clients (strength 4 or 5) and how many were asked in the last 90 days.
pub async fn ask_coverage(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) as "clients!",
                  count(*) filter (where exists (
                      select 1 from referral_asks a where a.source_contact_id = c.contact_id
                        and a.asked_on > $2::date - 90)) as "covered!"
           from contacts c
           where c.owner_id = any($1)
             and c.kind = 'client' and c.strength >= 4 and c.archived_at is null"#,
        ids,
        s.today
    )
    .fetch_one(db)
    .await?;
    Ok((row.clients, row.covered))
}

/// A referral source and what came of asking them.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub contact_id: ContactId,
    pub name: String,
    pub rep_name: String,
    pub asks: i64,
    pub intros: i64,
    pub wins: i64,
}

/// The sources that produced the most introductions from asks made in the period.
pub async fn source_leaderboard(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
    limit: i64,
) -> sqlx::Result<Vec<SourceRow>> {
    sqlx::query_as!(
        SourceRow,
        r#"with per_source as (
               select a.source_contact_id, count(*) as asks,
                      count(*) filter (where a.stage in ('introduced', 'meeting_scheduled', 'meeting_held', 'won', 'lost')) as intros,
                      count(*) filter (where a.stage = 'won') as wins
               from referral_asks a
               where a.rep_id = any($1) and a.asked_on between $2 and $3
               group by a.source_contact_id
           )
           select c.contact_id as "contact_id!: ContactId", c.name as "name!", u.name as "rep_name!",
                  p.asks as "asks!", p.intros as "intros!", p.wins as "wins!"
           from (select * from per_source where intros > 0 order by intros desc, wins desc limit $4) p
           join contacts c on c.contact_id = p.source_contact_id
           join users u on u.user_id = c.owner_id
           order by p.intros desc, p.wins desc, lower(c.name)"#,
        ids,
        s.from,
        s.to,
        limit
    )
    .fetch_all(db)
    .await
}

/// Sources asked more than `above` times in the 90 days up to today: connector load.
pub async fn connector_load(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
    above: i64,
    limit: i64,
) -> sqlx::Result<Vec<SourceRow>> {
    sqlx::query_as!(
        SourceRow,
        r#"with per_source as (
               select a.source_contact_id, count(*) as asks
               from referral_asks a
               where a.rep_id = any($1) and a.asked_on > $2::date - 90
               group by a.source_contact_id
               having count(*) > $3
               order by count(*) desc
               limit $4
           )
           select c.contact_id as "contact_id!: ContactId", c.name as "name!", u.name as "rep_name!",
                  p.asks as "asks!", 0::int8 as "intros!", 0::int8 as "wins!"
           from per_source p
           join contacts c on c.contact_id = p.source_contact_id
           join users u on u.user_id = c.owner_id
           order by p.asks desc, lower(c.name)"#,
        ids,
        s.today,
        above,
        limit
    )
    .fetch_all(db)
    .await
}

/// Asks and introductions per week (weeks start on Monday).
#[derive(Debug, Clone)]
pub struct WeekRow {
    pub week: Date,
    pub asks: i64,
    pub intros: i64,
}

/// Weekly asks and introductions from `since` (a Monday) on.
pub async fn weekly_trend(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    since: Date,
) -> sqlx::Result<Vec<WeekRow>> {
    sqlx::query_as!(
        WeekRow,
        r#"select date_trunc('week', a.asked_on)::date as "week!", count(*) as "asks!",
                  count(*) filter (where a.stage in ('introduced', 'meeting_scheduled', 'meeting_held', 'won', 'lost')) as "intros!"
           from referral_asks a
           where a.rep_id = any($1) and a.asked_on >= $2
           group by 1 order by 1"#,
        ids,
        since
    )
    .fetch_all(db)
    .await
}

/// The median logging delay (days from an ask to its entry) of the asks made in the period.
pub async fn median_logging_delay(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
) -> sqlx::Result<Option<f64>> {
    sqlx::query_scalar!(
        r#"select percentile_cont(0.5) within group (order by (a.created_at::date - a.asked_on)) as median
           from referral_asks a
           where a.rep_id = any($1) and a.asked_on between $2 and $3"#,
        ids,
        s.from,
        s.to
    )
    .fetch_one(db)
    .await
}
