//! The follow-up lifecycle as a property: random sequences of creating, sweeping at an
//! advancing clock, completing, postponing and recording ask events, against the real
//! database, with the lifecycle's rules checked after every step.
//!
//! The seed is printed; `WARMLINE_LIFECYCLE_SEED=<n>` replays one sequence and
//! `WARMLINE_LIFECYCLE_STEPS=<n>` makes the run longer.

use std::time::Duration as StdDuration;

use time::{Date, Duration, OffsetDateTime};
use warmline::asks::service::{self as asks, AskForm, Outcome};
use warmline::db;
use warmline::db::follow_ups::NewFollowUp;
use warmline::domain::asks::EventInput;
use warmline::domain::asks::{AskId, EventKind};
use warmline::domain::dates::{EARLIEST, LATEST};
use warmline::domain::error::ServiceError;
use warmline::domain::followups::FollowUpId;
use warmline::domain::followups::{Postpone, parse_due, postponed_date};
use warmline::domain::users::{User, UserId};
use warmline::followups::service;
use warmline::sweeper;

use crate::common::TestApp;

const ESCALATION_DELAY: StdDuration = StdDuration::from_secs(2 * 24 * 3600);

/// A small deterministic generator (xorshift64*), so a failing sequence replays from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len() as u64) as usize])
    }
}

/// The world the sequence runs in: a manager with reps across the date line.
struct World {
    app: TestApp,
    reps: Vec<User>,
    now: OffsetDateTime,
    asks: Vec<(UserId, AskId)>,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let manager = app
            .create_user("lead@example.com", "Lea Lead", "manager", None)
            .await;
        let mut reps = Vec::new();
        for (email, zone) in [
            ("kiri@example.com", "Pacific/Kiritimati"),
            ("la@example.com", "America/Los_Angeles"),
            ("tokyo@example.com", "Asia/Tokyo"),
        ] {
            let id = app.create_user_in(email, "rep", Some(manager), zone).await;
            reps.push(db::users::find(&app.pool, id).await.unwrap().unwrap());
        }
        Self {
            app,
            reps,
            now: OffsetDateTime::now_utc(),
            asks: Vec::new(),
        }
    }

    /// A rep's local date at the world's clock.
    async fn today(&self, user: &User) -> Date {
        sqlx::query_scalar("select ($1::timestamptz at time zone $2)::date")
            .bind(self.now)
            .bind(&user.time_zone)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    /// Some follow-up ids with their owners and due dates: open ones, and now and then a done
    /// one.
    async fn follow_ups(&self, open_only: bool) -> Vec<(i64, UserId, Date)> {
        sqlx::query_as::<_, (i64, i64, Date)>(
            "select follow_up_id, owner_id, due_on from follow_ups
             where $1 = false or done_at is null order by follow_up_id",
        )
        .bind(open_only)
        .fetch_all(&self.app.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, owner, due)| (id, UserId(owner), due))
        .collect()
    }

    fn rep(&self, id: UserId) -> &User {
        self.reps.iter().find(|r| r.id == id).expect("a rep")
    }

    async fn step(&mut self, rng: &mut Rng) -> String {
        let rep = rng.pick(&self.reps).unwrap().clone();
        let today = self.today(&rep).await;
        match rng.below(8) {
            0 | 1 => {
                // A follow-up typed by hand: a date the form accepts, or one it refuses.
                let offset = rng.between(-5, 20);
                let typed = (today + Duration::days(offset)).to_string();
                match parse_due(&typed, today) {
                    Ok(due_on) => {
                        assert!(offset >= 0, "{typed} accepted before today {today}");
                        let new = NewFollowUp {
                            owner: rep.id,
                            kind: warmline::domain::followups::FollowUpKind::Promise,
                            title: "Send the case study",
                            ask: None,
                            contact: None,
                            due_on,
                            created_by: Some(rep.id),
                        };
                        let mut tx = self.app.pool.begin().await.unwrap();
                        service::add(&mut tx, Some(rep.id), &new).await.unwrap();
                        tx.commit().await.unwrap();
                        format!("create for {} due {due_on}", rep.email)
                    }
                    Err(_) => {
                        assert!(offset < 0, "{typed} refused on {today}");
                        format!("refused a follow-up due {typed}")
                    }
                }
            }
            2 => {
                let hours = rng.between(0, 96);
                self.now += Duration::hours(hours);
                sweeper::sweep(&self.app.pool, self.now, ESCALATION_DELAY)
                    .await
                    .unwrap();
                format!("sweep at {}", self.now)
            }
            3 => {
                let all = self.follow_ups(false).await;
                let Some(&(id, owner, _)) = rng.pick(&all) else {
                    return "nothing to complete".into();
                };
                // Now and then someone else tries: nothing may change.
                let by = if rng.below(5) == 0 { rep.id } else { owner };
                let mut tx = self.app.pool.begin().await.unwrap();
                let done = service::complete(&mut tx, by, FollowUpId(id))
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                if by != owner {
                    assert!(!done, "{by} completed {owner}'s follow-up {id}");
                }
                format!("complete {id} as {by}: {done}")
            }
            4 | 5 => {
                let open = self.follow_ups(true).await;
                let Some(&(id, owner, due_on)) = rng.pick(&open) else {
                    return "nothing to postpone".into();
                };
                let owner_today = self.today(self.rep(owner)).await;
                let by = match rng.below(4) {
                    0 => Postpone::Day,
                    1 => Postpone::Week,
                    2 => Postpone::To(owner_today + Duration::days(rng.between(-10, 30))),
                    _ => {
                        let span = (LATEST - EARLIEST).whole_days();
                        Postpone::To(EARLIEST + Duration::days(rng.between(0, span)))
                    }
                };
                match postponed_date(due_on, by, owner_today) {
                    Ok(to) => {
                        assert!(to >= owner_today, "postponed into the past: {to}");
                        let mut tx = self.app.pool.begin().await.unwrap();
                        service::postpone(&mut tx, owner, FollowUpId(id), due_on, to)
                            .await
                            .unwrap();
                        tx.commit().await.unwrap();
                        format!("postpone {id} {by:?} to {to}")
                    }
                    Err(why) => format!("postpone {id} {by:?} refused: {why}"),
                }
            }
            _ => self.event(rng, &rep, today).await,
        }
    }

    /// Records a random event on one of the rep's open asks (logging a new one when there is
    /// none): the move may be refused, the database may never be.
    async fn event(&mut self, rng: &mut Rng, rep: &User, today: Date) -> String {
        let open: Vec<AskId> = sqlx::query_scalar(
            "select ask_id from referral_asks where rep_id = $1 and closed_at is null",
        )
        .bind(rep.id.0)
        .fetch_all(&self.app.pool)
        .await
        .unwrap()
        .into_iter()
        .map(AskId)
        .collect();
        let Some(&ask) = rng.pick(&open) else {
            let form = AskForm {
                source: format!("Source {}", rng.below(1000)),
                target: "CFO of a logistics firm".into(),
                reason: "Opening a warehouse".into(),
                ..Default::default()
            };
            let Outcome::Logged(id) = asks::log_ask(&self.app.pool, rep, &form, today)
                .await
                .unwrap()
            else {
                panic!("a valid ask was not logged");
            };
            self.asks.push((rep.id, id));
            return format!("log ask {id:?} for {}", rep.email);
        };
        let kind = *rng.pick(&EventKind::ALL).unwrap();
        let form = EventInput {
            kind: kind.as_str().into(),
            occurred_on: String::new(),
            amount: "1200".into(),
            note: "noted".into(),
        };
        let outcome = asks::record_event(&self.app.pool, rep, ask, &form, today).await;
        // A move the stage flow refuses is fine; anything else (not found, a failure) is not.
        let recorded = match outcome {
            Ok(_) => true,
            Err(ServiceError::Invalid(_)) => false,
            Err(e) => panic!("event on the rep's own ask {ask:?}: {e:?}"),
        };
        format!("event {kind:?} on {ask:?}: {recorded}")
    }

    /// The lifecycle's rules, over every follow-up.
    async fn check(&self, history: &[String]) {
        let pool = &self.app.pool;
        let wrong_overdue: Vec<(i64, Date, bool, bool)> = sqlx::query_as(
            "select f.follow_up_id, f.due_on, f.done_at is not null, f.overdue_since is not null
             from follow_ups f join users u on u.user_id = f.owner_id
             where (f.done_at is null and f.due_on < ($1::timestamptz at time zone u.time_zone)::date)
                   <> (f.overdue_since is not null)",
        )
        .bind(self.now)
        .fetch_all(pool)
        .await
        .unwrap();
        assert!(
            wrong_overdue.is_empty(),
            "overdue exactly when open and past due, broken by (id, due, done, overdue) {wrong_overdue:?} after {history:#?}"
        );
        let wrong_escalated: i64 = sqlx::query_scalar(
            "select count(*) from follow_ups where escalated_at is not null and overdue_since is null",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(wrong_escalated, 0, "escalated while not overdue");
        // Every overdue item has told its owner once, and every escalated item is in its
        // manager's one summary about the owner for the day it was escalated.
        let unnotified: i64 = sqlx::query_scalar(
            "select count(*) from follow_ups f join users u on u.user_id = f.owner_id
             where (f.overdue_since is not null and 1 <> (select count(*) from notifications n
                      where n.follow_up_id = f.follow_up_id and n.user_id = f.owner_id and n.kind = 'overdue'))
                or (f.escalated_at is not null and 1 <> (select count(*) from notifications n
                      join users m on m.user_id = n.user_id
                      where n.user_id = u.manager_id and n.about_user_id = f.owner_id and n.kind = 'escalated'
                        and n.on_date = (f.escalated_at at time zone m.time_zone)::date))",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(unnotified, 0, "a flag without exactly one notification");
        let repeated: i64 = sqlx::query_scalar(
            "select count(*) from (select 1 from notifications where follow_up_id is not null
             group by user_id, follow_up_id, kind having count(*) > 1
             union all select 1 from notifications where about_user_id is not null
             group by user_id, about_user_id, on_date, kind having count(*) > 1) r",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(repeated, 0, "a notification written twice");
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

#[tokio::test]
async fn random_sequences_of_follow_up_changes_keep_the_lifecycle_rules() {
    let seed = env_number("WARMLINE_LIFECYCLE_SEED")
        .unwrap_or_else(|| OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 | 1);
    let steps = env_number("WARMLINE_LIFECYCLE_STEPS").unwrap_or(250);
    println!(
        "follow-up lifecycle: seed {seed}, {steps} steps (WARMLINE_LIFECYCLE_SEED={seed} replays it)"
    );
    let mut rng = Rng(seed);
    let mut world = World::new().await;
    let mut history = Vec::new();
    for _ in 0..steps {
        let step = world.step(&mut rng).await;
        history.push(step);
        world.check(&history).await;
    }
    let escalated: i64 = world
        .app
        .count("select count(*) from notifications where kind = 'escalated'")
        .await;
    let done: i64 = world
        .app
        .count("select count(*) from follow_ups where done_at is not null")
        .await;
    println!(
        "follow-up lifecycle: {} asks logged, {done} follow-ups done, {escalated} escalations",
        world.asks.len()
    );
}

#[tokio::test]
async fn an_escalated_follow_up_can_be_done_postponed_or_settled_by_an_event() {
    let mut world = World::new().await;
    let rep = world.reps[1].clone();
    let today = world.today(&rep).await;
    let form = AskForm {
        source: "Hugo Lund".into(),
        target: "Petra Krause".into(),
        reason: "Expanding to Hamburg".into(),
        ..Default::default()
    };
    let Outcome::Logged(ask) = asks::log_ask(&world.app.pool, &rep, &form, today)
        .await
        .unwrap()
    else {
        panic!("a valid ask was not logged");
    };
    let mut ids = Vec::new();
    for title in ["By hand", "Postponed"] {
        let new = NewFollowUp {
            owner: rep.id,
            kind: warmline::domain::followups::FollowUpKind::Promise,
            title,
            ask: None,
            contact: None,
            due_on: today,
            created_by: Some(rep.id),
        };
        let mut tx = world.app.pool.begin().await.unwrap();
        ids.push(service::add(&mut tx, Some(rep.id), &new).await.unwrap());
        tx.commit().await.unwrap();
    }
    // Three weeks on, every item is overdue and escalated.
    world.now += Duration::days(21);
    let report = sweeper::sweep(&world.app.pool, world.now, ESCALATION_DELAY)
        .await
        .unwrap();
    assert_eq!(report.escalated, 3, "{report:?}");

    let mut tx = world.app.pool.begin().await.unwrap();
    assert!(service::complete(&mut tx, rep.id, ids[0]).await.unwrap());
    let later = world.today(&rep).await + Duration::days(1);
    assert!(
        service::postpone(&mut tx, rep.id, ids[1], today, later)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let event = EventInput {
        kind: "introduced".into(),
        ..Default::default()
    };
    let now_today = world.today(&rep).await;
    asks::record_event(&world.app.pool, &rep, ask, &event, now_today)
        .await
        .unwrap();
    let still_flagged = world
        .app
        .count("select count(*) from follow_ups where escalated_at is not null or overdue_since is not null")
        .await;
    assert_eq!(still_flagged, 0);
    world.check(&[]).await;
}

#[tokio::test]
async fn a_follow_up_at_the_end_of_the_calendar_cannot_be_moved_past_it() {
    assert!(postponed_date(LATEST, Postpone::Day, LATEST).is_err());
    assert!(postponed_date(LATEST, Postpone::Week, LATEST).is_err());
    let far = time::macros::date!(9999 - 12 - 31);
    assert!(postponed_date(far, Postpone::Day, LATEST).is_err());
    assert!(warmline::domain::dates::parse_date("9999-12-31").is_err());
    assert!(warmline::domain::dates::parse_date("0001-01-01").is_err());
}
