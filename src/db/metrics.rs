//! The dashboard's metrics: one set of queries shared by the page, its CSV export and the API.
//! Every query is scoped to the reps `dashboard_reps(viewer, rep)` names ([`scope_rep_ids`]).
//! Funnel figures follow the cohort of asks made in the period. Figures over asks are read from
//! rollups, so a dashboard reads a few thousand summary rows however many asks there are.
//! Triggers queue every change of asks; [`fold_rollups`] adds the queue to the rollups (see
//! the rollup queue migration for why the ask's own transaction no longer does).

use sqlx::{PgExecutor, PgPool};
use time::{Date, Duration};

use crate::domain::contacts::ContactId;
use crate::domain::rules::{CONNECTOR_LIMIT, CONNECTOR_WINDOW_DAYS};
use crate::domain::users::UserId;

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

/// Adds the queued rollup changes to the rollups, and brings the ask dates and last touches of
/// new asks' contacts current, in one transaction; returns how many changes there were. Safe to
/// run from anywhere at any time: each change is counted once. An empty queue writes nothing.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn fold_rollups(db: impl PgExecutor<'_>) -> sqlx::Result<i32> {
    sqlx::query_scalar!(r#"select fold_ask_rollups() as "folded!""#)
        .fetch_one(db)
        .await
}

/// How many rollup changes wait for the next fold (the background task folds every second).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn queued_rollup_changes(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"select count(*) as "n!" from ask_rollup_queue"#)
        .fetch_one(db)
        .await
}

/// The ids of the reps a dashboard covers, resolved once so that every metric query can use
/// the indexes on `rep_id` (a literal array plans far better than a set-returning function).
#[tracing::instrument(level = "debug", skip_all)]
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
    /// Asks with an introduction event, and how many of their sources were thanked within 7
    /// days of it.
    pub introduced: i64,
    pub thanked: i64,
    /// Logging delays in days (from the ask to its entry) and how many asks had each.
    pub delays: Vec<(i32, i64)>,
    pub median_delay_days: Option<f64>,
    /// Logged an ask in the last 7 days.
    pub active: bool,
    pub wins_this_year: i64,
}

/// A rep and what does not depend on the period.
struct RepPerson {
    user_id: UserId,
    name: String,
    weekly_ask_target: i32,
    annual_client_goal: i32,
    asks_per_client: f64,
    active: bool,
    wins_this_year: i64,
}

/// The period's asks of one rep, summed from the rollups.
struct CohortRow {
    rep_id: i64,
    asks: i64,
    intros: i64,
    meetings: i64,
    wins: i64,
    losses: i64,
    ended: i64,
    won_cents: i64,
    introduced: i64,
    thanked: i64,
    /// Asks logged 0 to 6 days after they were made.
    delays: Vec<i64>,
}

/// The period's asks of one rep logged a week or more late, by delay.
struct LateRow {
    rep_id: i64,
    delay_days: i32,
    asks: i64,
}

/// How a period is read from the rollups: whole weeks from the weekly ones, the days around
/// them from the daily ones. A period that runs to today also takes the current week whole and
/// takes away the days after its end (normally none have asks yet). Each part is a first and
/// last day; an empty part ends the day before it starts, and its scan is skipped (as is the
/// scan of days after the period when nobody has asks dated then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CohortParts {
    /// Days added before the first week.
    pub leading: (Date, Date),
    /// Days added after the last week.
    pub trailing: (Date, Date),
    /// Days of the last week after the period, taken away.
    pub beyond: (Date, Date),
    /// The Mondays of the weeks added.
    pub weeks: (Date, Date),
}

impl CohortParts {
    /// The parts of the period `from`..=`to` as of `today`.
    pub fn of(from: Date, to: Date, today: Date) -> Self {
        let monday = crate::domain::dates::week_start;
        let none = (to + Duration::days(1), to);
        let first_week = monday(from + Duration::days(6));
        let last_week_start = monday(to);
        let current = to >= today && last_week_start >= from;
        let last_week = if current {
            last_week_start
        } else {
            monday(to + Duration::days(1)) - Duration::weeks(1)
        };
        if first_week > last_week {
            return Self {
                leading: (from, to),
                trailing: none,
                beyond: none,
                weeks: none,
            };
        }
        let trailing_from = last_week + Duration::weeks(1);
        Self {
            leading: (from, first_week - Duration::days(1)),
            trailing: if current { none } else { (trailing_from, to) },
            beyond: if current {
                (to + Duration::days(1), trailing_from - Duration::days(1))
            } else {
                none
            },
            weeks: (first_week, last_week),
        }
    }
}

/// Asks made in a past period by the reps in `ids` (the comparison with the period before),
/// summed from the daily rollups.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn asks_made(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    from: Date,
    to: Date,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select coalesce(sum(asks), 0)::int8 as "asks!" from ask_rollups
           where rep_id = any($1) and asked_on between $2 and $3"#,
        ids,
        from,
        to
    )
    .fetch_one(db)
    .await
}

/// Per-rep figures, by name: the cohort of asks made in the period, read from the rollups.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn rep_stats(db: &PgPool, ids: &[i64], s: Scope) -> sqlx::Result<Vec<RepStats>> {
    let people = sqlx::query_as!(
        RepPerson,
        r#"select u.user_id as "user_id!: UserId", u.name, u.weekly_ask_target, u.annual_client_goal,
                  u.asks_per_client,
                  coalesce(a.last_ask_logged_at > now() - interval '7 days', false) as "active!",
                  coalesce(y.wins, 0)::int8 as "wins_this_year!"
           from users u
           left join rep_activity a on a.user_id = u.user_id
           left join ask_year_rollups y on y.rep_id = u.user_id and y.year = extract(year from $2::date)::int
           where u.user_id = any($1)
           order by lower(u.name), u.user_id"#,
        ids,
        s.today
    )
    .fetch_all(db);
    let parts = CohortParts::of(s.from, s.to, s.today);
    let cohorts = sqlx::query_as!(
        CohortRow,
        r#"with days as (
               select 1 as sign, rep_id, asks, intros, meetings, wins, losses, ended, won_cents, introduced,
                      thanked, delay_0, delay_1, delay_2, delay_3, delay_4, delay_5, delay_6
               from ask_rollups
               where $2::date <= $3::date and rep_id = any($1) and asked_on between $2 and $3
               union all
               select 1, rep_id, asks, intros, meetings, wins, losses, ended, won_cents, introduced,
                      thanked, delay_0, delay_1, delay_2, delay_3, delay_4, delay_5, delay_6
               from ask_rollups
               where $4::date <= $5::date and rep_id = any($1) and asked_on between $4 and $5
               union all
               select -1, rep_id, asks, intros, meetings, wins, losses, ended, won_cents, introduced,
                      thanked, delay_0, delay_1, delay_2, delay_3, delay_4, delay_5, delay_6
               from ask_rollups
               where $6::date <= $7::date
                 and exists (select 1 from referral_asks x where x.asked_on between $6 and $7)
                 and rep_id = any($1) and asked_on between $6 and $7
           ), parts as (
               select rep_id, sign * asks as asks, sign * intros as intros, sign * meetings as meetings,
                      sign * wins as wins, sign * losses as losses, sign * ended as ended,
                      sign * won_cents as won_cents, sign * introduced as introduced,
                      sign * thanked as thanked, sign * delay_0 as delay_0, sign * delay_1 as delay_1,
                      sign * delay_2 as delay_2, sign * delay_3 as delay_3, sign * delay_4 as delay_4,
                      sign * delay_5 as delay_5, sign * delay_6 as delay_6
               from days
               union all
               select rep_id, asks, intros, meetings, wins, losses, ended, won_cents, introduced, thanked,
                      delay_0, delay_1, delay_2, delay_3, delay_4, delay_5, delay_6
               from ask_week_rollups
               where $8::date <= $9::date and rep_id = any($1) and week between $8 and $9
           )
           select rep_id as "rep_id!", sum(asks) as "asks!", sum(intros) as "intros!",
                  sum(meetings) as "meetings!", sum(wins) as "wins!", sum(losses) as "losses!",
                  sum(ended) as "ended!", sum(won_cents)::int8 as "won_cents!",
                  sum(introduced) as "introduced!", sum(thanked) as "thanked!",
                  array[sum(delay_0), sum(delay_1), sum(delay_2), sum(delay_3), sum(delay_4),
                        sum(delay_5), sum(delay_6)] as "delays!"
           from parts
           group by rep_id"#,
        ids,
        parts.leading.0,
        parts.leading.1,
        parts.trailing.0,
        parts.trailing.1,
        parts.beyond.0,
        parts.beyond.1,
        parts.weeks.0,
        parts.weeks.1
    )
    .fetch_all(db);
    let late = sqlx::query_as!(
        LateRow,
        r#"select rep_id, delay_days, sum(asks) as "asks!"
           from ask_late_rollups
           where $2::date <= $3::date and rep_id = any($1) and asked_on between $2 and $3
           group by rep_id, delay_days"#,
        ids,
        s.from,
        s.to
    )
    .fetch_all(db);
    let (people, cohorts, late) = tokio::try_join!(people, cohorts, late)?;
    Ok(people
        .into_iter()
        .map(|p| {
            let mut r = RepStats {
                user_id: p.user_id,
                name: p.name,
                weekly_ask_target: p.weekly_ask_target,
                annual_client_goal: p.annual_client_goal,
                asks_per_client: p.asks_per_client,
                asks: 0,
                intros: 0,
                meetings: 0,
                wins: 0,
                losses: 0,
                ended: 0,
                won_cents: 0,
                introduced: 0,
                thanked: 0,
                delays: Vec::new(),
                median_delay_days: None,
                active: p.active,
                wins_this_year: p.wins_this_year,
            };
            if let Some(c) = cohorts.iter().find(|c| c.rep_id == p.user_id.0) {
                r.asks = c.asks;
                r.intros = c.intros;
                r.meetings = c.meetings;
                r.wins = c.wins;
                r.losses = c.losses;
                r.ended = c.ended;
                r.won_cents = c.won_cents;
                r.introduced = c.introduced;
                r.thanked = c.thanked;
                r.delays = (0..).zip(c.delays.iter().copied()).collect();
            }
            r.delays.extend(
                late.iter()
                    .filter(|l| l.rep_id == p.user_id.0)
                    .map(|l| (l.delay_days, l.asks)),
            );
            r.median_delay_days = median(&r.delays);
            r
        })
        .collect())
}

/// The median of values given as (value, how many), interpolated between the two middle
/// values as PostgreSQL's `percentile_cont(0.5)` does. The values need not be sorted.
pub fn median(counts: &[(i32, i64)]) -> Option<f64> {
    let mut counts: Vec<_> = counts.iter().filter(|(_, n)| *n > 0).copied().collect();
    counts.sort_unstable();
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    let nth = |k: i64| {
        let mut seen = 0;
        counts
            .iter()
            .find(|(_, n)| {
                seen += n;
                seen > k
            })
            .map_or(0, |(v, _)| *v)
    };
    let position = (total - 1) as f64 / 2.0;
    let (low, high) = (nth(position.floor() as i64), nth(position.ceil() as i64));
    Some(f64::from(low) + (f64::from(high) - f64::from(low)) * position.fract())
}

/// Promises due in the period (up to yesterday) and how many were done by their due date.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn promises_kept(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) as "due!", count(*) filter (where f.done_on <= f.due_on) as "kept!"
           from follow_ups f
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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn overdue_by_age(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
) -> sqlx::Result<Vec<OverdueByAge>> {
    sqlx::query_as!(
        OverdueByAge,
        r#"select u.user_id as "user_id!: UserId", u.name as "name!", o.days_1_2 as "days_1_2!",
                  o.days_3_7 as "days_3_7!", o.days_8_plus as "days_8_plus!"
           from (
               select f.owner_id, count(*) as total,
                      count(*) filter (where $2::date - f.due_on <= 2) as days_1_2,
                      count(*) filter (where $2::date - f.due_on between 3 and 7) as days_3_7,
                      count(*) filter (where $2::date - f.due_on >= 8) as days_8_plus
               from follow_ups f
               where f.owner_id = any($1) and f.done_at is null and f.overdue_since is not null
               group by f.owner_id
           ) o
           join users u on u.user_id = o.owner_id
           order by o.total desc, lower(u.name)"#,
        ids,
        s.today
    )
    .fetch_all(db)
    .await
}

/// Strong-relationship clients (strength 4 or 5) and how many were asked in the last 90 days.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn ask_coverage(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) as "clients!",
                  count(*) filter (where c.last_asked_on > $2::date - 90) as "covered!"
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

/// The sources that produced the most introductions from asks made in the period (ties: more
/// wins first, then the older contact). A rep asks only their own contacts, so the sources of
/// the scope's asks are the contacts its reps own.
///
/// When at least `limit` sources had three (or else two) introductions in the period, the
/// leaders are among them: an index finds the contacts whose third (or second) latest
/// introduction falls after the period's start, and each is counted from the introduction and
/// win dates kept on the contact. Otherwise (a small team, a quiet period) every introduced
/// ask of the period is grouped by source.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn source_leaderboard(
    db: &PgPool,
    ids: &[i64],
    s: Scope,
    limit: i64,
) -> sqlx::Result<Vec<SourceRow>> {
    for least in [3, 2] {
        let leaders = leaders_with(db, ids, s, limit, least).await?;
        if leaders.len() as i64 >= limit {
            return Ok(leaders);
        }
    }
    source_leaderboard_scan(db, ids, s, limit).await
}

/// The leaderboard found by grouping every introduced ask of the period by source: what
/// [`source_leaderboard`] falls back to.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn source_leaderboard_scan(
    db: &PgPool,
    ids: &[i64],
    s: Scope,
    limit: i64,
) -> sqlx::Result<Vec<SourceRow>> {
    leaders_with(db, ids, s, limit, 0).await
}

/// The leaders among the sources with at least `least` introductions in the period, found
/// from the dates kept on contacts (`least` 2 or 3), or among all sources by grouping the
/// period's introduced asks (`least` 0).
async fn leaders_with(
    db: &PgPool,
    ids: &[i64],
    s: Scope,
    limit: i64,
    least: i32,
) -> sqlx::Result<Vec<SourceRow>> {
    sqlx::query_as!(
        SourceRow,
        r#"with pool as (
               select c.contact_id from contacts c
               where $5 = 3 and c.owner_id = any($1) and c.third_intro_asked_on >= $2
               union all
               select c.contact_id from contacts c
               where $5 = 2 and c.owner_id = any($1) and c.second_intro_asked_on >= $2
           ), candidates as materialized (
               select c.contact_id,
                      case when cardinality(c.intro_ask_dates) < 12 or c.intro_ask_dates[12] < $2
                           then dates_between(c.intro_ask_dates, $2, $3)
                           else (select count(*) from referral_asks a
                                 where a.source_contact_id = c.contact_id and a.asked_on between $2 and $3
                                   and a.stage = any(stages_reached_introduction()))
                      end as intros,
                      case when cardinality(c.won_ask_dates) < 12 or c.won_ask_dates[12] < $2
                           then dates_between(c.won_ask_dates, $2, $3)
                           else (select count(*) from referral_asks a
                                 where a.source_contact_id = c.contact_id and a.asked_on between $2 and $3
                                   and a.stage = 'won')
                      end as wins
               from pool p join contacts c on c.contact_id = p.contact_id
               union all
               select a.source_contact_id, count(*), count(*) filter (where a.stage = 'won')
               from referral_asks a
               where $5 = 0 and a.rep_id = any($1) and a.asked_on between $2 and $3
                 and a.stage = any(stages_reached_introduction())
               group by a.source_contact_id
           ), top as (
               select * from candidates where intros >= $5
               order by intros desc, wins desc, contact_id
               limit $4
           )
           select c.contact_id as "contact_id!: ContactId", c.name as "name!", u.name as "rep_name!",
                  (select count(*) from referral_asks x
                   where x.source_contact_id = t.contact_id and x.asked_on between $2 and $3) as "asks!",
                  t.intros as "intros!", t.wins as "wins!"
           from top t
           join contacts c on c.contact_id = t.contact_id
           join users u on u.user_id = c.owner_id
           order by t.intros desc, t.wins desc, t.contact_id"#,
        ids,
        s.from,
        s.to,
        limit,
        least
    )
    .fetch_all(db)
    .await
}

/// The scope's sources asked more than [`CONNECTOR_LIMIT`] times in the
/// [`CONNECTOR_WINDOW_DAYS`] up to today: connector load. A source qualifies when the fourth of
/// its latest ask dates falls in the window, which an index answers; the most recently
/// overloaded come first, and the asks are counted for the few shown.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn connector_load(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    s: Scope,
    limit: i64,
) -> sqlx::Result<Vec<SourceRow>> {
    sqlx::query_as!(
        SourceRow,
        r#"with flagged as (
               select c.contact_id, c.fourth_last_asked_on
               from contacts c
               where c.owner_id = any($1) and c.fourth_last_asked_on >= $2::date - $4::int
               order by c.fourth_last_asked_on desc, c.contact_id
               limit $3
           )
           select c.contact_id as "contact_id!: ContactId", c.name as "name!", u.name as "rep_name!",
                  (select count(*) from referral_asks a
                   where a.source_contact_id = c.contact_id and a.asked_on >= $2::date - $4::int) as "asks!",
                  0::int8 as "intros!", 0::int8 as "wins!"
           from flagged f
           join contacts c on c.contact_id = f.contact_id
           join users u on u.user_id = c.owner_id
           order by 4 desc, f.fourth_last_asked_on desc, lower(c.name)"#,
        ids,
        s.today,
        limit,
        CONNECTOR_WINDOW_DAYS as i32
    )
    .fetch_all(db)
    .await
}

// "More than three" is "a fourth latest ask date": see `contacts.fourth_last_asked_on`.
const _: () = assert!(CONNECTOR_LIMIT == 3);

/// Asks and introductions per week (weeks start on Monday).
#[derive(Debug, Clone)]
pub struct WeekRow {
    pub week: Date,
    pub asks: i64,
    pub intros: i64,
}

/// Weekly asks and introductions from `since` (a Monday) on.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn weekly_trend(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    since: Date,
) -> sqlx::Result<Vec<WeekRow>> {
    sqlx::query_as!(
        WeekRow,
        r#"select week, sum(asks)::int8 as "asks!", sum(intros)::int8 as "intros!"
           from ask_week_rollups
           where rep_id = any($1) and week >= $2
           group by week order by week"#,
        ids,
        since
    )
    .fetch_all(db)
    .await
}

/// Asks that went through a colleague's network, and how far they got.
#[derive(Debug, Clone, Copy, Default)]
pub struct TeamAssisted {
    pub asks: i64,
    pub intros: i64,
    pub wins: i64,
}

/// A colleague whose network helped reps in scope.
#[derive(Debug, Clone)]
pub struct Connector {
    pub user_id: UserId,
    pub name: String,
    pub asks: i64,
    pub intros: i64,
}

/// The period's asks of reps in scope that a colleague's path made possible, and the team
/// members whose paths they used most: one query over the assisted asks' partial index, whose
/// window sums give the totals over every connector before the limit cuts the list.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn team_assisted(
    db: &PgPool,
    ids: &[i64],
    s: Scope,
    limit: i64,
) -> sqlx::Result<(TeamAssisted, Vec<Connector>)> {
    let rows = sqlx::query!(
        r#"select u.user_id as "user_id!: UserId", u.name as "name!", count(*) as "asks!",
                  count(*) filter (where a.stage = any(stages_reached_introduction())) as "intros!",
                  (sum(count(*)) over ())::int8 as "total_asks!",
                  (sum(count(*) filter (where a.stage = any(stages_reached_introduction()))) over ())::int8 as "total_intros!",
                  (sum(count(*) filter (where a.stage = 'won')) over ())::int8 as "total_wins!"
           from referral_asks a join users u on u.user_id = a.assisted_by_id
           where a.assisted_by_id is not null and a.rep_id = any($1) and a.asked_on between $2 and $3
           group by u.user_id, u.name
           order by count(*) desc, 4 desc, u.name
           limit $4"#,
        ids,
        s.from,
        s.to,
        limit
    )
    .fetch_all(db)
    .await?;
    let totals = rows
        .first()
        .map_or_else(TeamAssisted::default, |r| TeamAssisted {
            asks: r.total_asks,
            intros: r.total_intros,
            wins: r.total_wins,
        });
    let connectors = rows
        .into_iter()
        .map(|r| Connector {
            user_id: r.user_id,
            name: r.name,
            asks: r.asks,
            intros: r.intros,
        })
        .collect();
    Ok((totals, connectors))
}

/// The period's asks of colleagues that went through `helper`'s network: the helper's credit.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn paths_shared(db: &PgPool, helper: UserId, s: Scope) -> sqlx::Result<TeamAssisted> {
    sqlx::query_as!(
        TeamAssisted,
        r#"select count(*) as "asks!",
                  count(*) filter (where stage = any(stages_reached_introduction())) as "intros!",
                  count(*) filter (where stage = 'won') as "wins!"
           from referral_asks
           where assisted_by_id = $1 and asked_on between $2 and $3"#,
        helper as UserId,
        s.from,
        s.to
    )
    .fetch_one(db)
    .await
}
