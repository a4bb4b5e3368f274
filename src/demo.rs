//! `warmline demo`: a realistic demo organisation (an admin, two managers, eight reps, about
//! 600 contacts, 26 weeks of asks with plausible conversion, open and overdue follow-ups,
//! coaching notes), loaded only into an empty database, so running it twice changes nothing.

use anyhow::{Context, Result};
use sqlx::{PgPool, Postgres, Transaction};
use time::{Date, Duration, OffsetDateTime};

use crate::accounts::password;
use crate::domain::asks::{EventKind, Stage, check_move, titles};
use crate::domain::followups::FollowUpKind;

/// The password of every demo login.
pub const PASSWORD: &str = "warmline-demo-2026";

/// A demo login, printed for the user.
#[derive(Debug, Clone)]
pub struct Login {
    pub email: String,
    pub name: String,
    pub role: &'static str,
}

/// A small deterministic random number generator (xorshift), so every demo and every seed of
/// the same size is the same.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: [&str; 40] = [
    "Anna", "Ben", "Carla", "David", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira",
    "Lars", "Maya", "Nils", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara", "Uwe", "Vera", "Wim",
    "Xenia", "Yusuf", "Zoe", "Amir", "Britta", "Chen", "Dana", "Emil", "Fiona", "Gabriel", "Hanna",
    "Ivan", "Julia", "Kemal", "Lena", "Mateo", "Nora",
];
const LAST: [&str; 30] = [
    "Adler", "Berger", "Costa", "Dietrich", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova",
    "Jansen", "Keller", "Lund", "Meyer", "Novak", "Olsen", "Petrov", "Quist", "Richter", "Schmidt",
    "Tanaka", "Ulrich", "Vogel", "Weber", "Xu", "Young", "Zimmer", "Bauer", "Klein", "Wolf",
    "Brandt",
];
const COMPANIES: [&str; 24] = [
    "Northwind Logistics",
    "Acme Manufacturing",
    "Globex Retail",
    "Initech Software",
    "Umbrella Health",
    "Stark Energy",
    "Wayne Construction",
    "Hooli Media",
    "Vandelay Imports",
    "Soylent Foods",
    "Tyrell Robotics",
    "Cyberdyne Systems",
    "Wonka Confectionery",
    "Oceanic Air",
    "Gringotts Finance",
    "Pied Piper Data",
    "Massive Dynamic",
    "Aperture Labs",
    "Black Mesa Research",
    "Duff Beverages",
    "Monarch Solutions",
    "Sterling Partners",
    "Bluth Property",
    "Dunder Paper",
];
const TITLES: [&str; 8] = [
    "CEO",
    "CFO",
    "COO",
    "Head of Operations",
    "VP Sales",
    "Procurement Lead",
    "IT Director",
    "Founder",
];
const REASONS: [&str; 8] = [
    "They are opening a second warehouse and need the same setup we built for you",
    "Their finance team is replacing spreadsheets this year",
    "New CEO, reviewing all suppliers in Q3",
    "Same industry and size as you; the case study fits",
    "They mentioned growing pains at the last conference",
    "Expanding into the DACH market",
    "Their contract with our competitor ends in spring",
    "Hiring a head of operations: a good moment to talk",
];
const IDEALS: [&str; 5] = [
    "CFO of a mid-size logistics firm in Munich",
    "Head of operations at a growing e-commerce brand",
    "Founder of a 50-person SaaS company",
    "Procurement lead at a regional hospital group",
    "COO of a family-owned manufacturer",
];

/// Loads the demo organisation into an empty database and returns its logins; `None` when the
/// database already holds users (then nothing is changed).
pub async fn load(pool: &PgPool, today: Date) -> Result<Option<Vec<Login>>> {
    let hash = password::hash(PASSWORD.to_string()).await?;
    let mut tx = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock(hashtext('warmline.demo'))")
        .execute(&mut *tx)
        .await?;
    let existing: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        return Ok(None);
    }
    let mut rng = Rng(0x5eed_2026_cafe_f00d);
    let mut logins = Vec::new();
    let admin = add_user(
        &mut tx,
        &hash,
        "ada@demo.warmline.example",
        "Ada Admin",
        "admin",
        None,
        &mut logins,
    )
    .await?;
    let _ = admin;
    let managers = [
        add_user(
            &mut tx,
            &hash,
            "mara@demo.warmline.example",
            "Mara Manager",
            "manager",
            None,
            &mut logins,
        )
        .await?,
        add_user(
            &mut tx,
            &hash,
            "milo@demo.warmline.example",
            "Milo Manager",
            "manager",
            None,
            &mut logins,
        )
        .await?,
    ];
    let rep_names = [
        "Rita Rep",
        "Sam Seller",
        "Tom Trader",
        "Uma Upsell",
        "Viktor Vend",
        "Wanda Win",
        "Xaver Xchange",
        "Yara Yield",
    ];
    let mut reps = Vec::new();
    for (i, name) in rep_names.iter().enumerate() {
        let email = format!(
            "{}@demo.warmline.example",
            name.split(' ').next().unwrap_or("rep").to_lowercase()
        );
        reps.push(
            add_user(
                &mut tx,
                &hash,
                &email,
                name,
                "rep",
                Some(managers[i / 4]),
                &mut logins,
            )
            .await?,
        );
    }
    for (i, rep) in reps.iter().enumerate() {
        load_rep(&mut tx, &mut rng, *rep, i, today).await?;
    }
    for (i, rep) in reps.iter().enumerate() {
        let manager = managers[i / 4];
        let (action, metric) = *rng.pick(&[
            (
                "Ask your three strongest clients for an introduction this week",
                "Asks logged",
            ),
            (
                "Thank every source within two days of an introduction",
                "Thanked-source rate",
            ),
            (
                "Close the loop on all open asks older than 30 days",
                "Overdue follow-ups",
            ),
            (
                "Prepare one specific ideal-prospect description before each client meeting",
                "Ask to introduction rate",
            ),
        ]);
        let inspect_on = today + Duration::days(3 + rng.below(7) as i64);
        let week_of = crate::domain::dates::week_start(today);
        let note_id: i64 = sqlx::query_scalar(
            "insert into coaching_notes (manager_id, rep_id, week_of, diagnosis, committed_action, metric, inspect_on)
             values ($1, $2, $3, $4, $5, $6, $7) returning coaching_note_id",
        )
        .bind(manager)
        .bind(rep)
        .bind(week_of)
        .bind("Good activity, but asks are vague and introductions stall after the first meeting.")
        .bind(action)
        .bind(metric)
        .bind(inspect_on)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "insert into follow_ups (owner_id, kind, title, coaching_note_id, due_on, created_by)
             values ($1, 'coaching', $2, $3, $4, $5)",
        )
        .bind(rep)
        .bind(format!("Coaching: {action}"))
        .bind(note_id)
        .bind(inspect_on)
        .bind(manager)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "update users set annual_client_goal = 12, weekly_ask_target = 5 where role = 'rep'",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await.context("could not save the demo data")?;
    // Mark what is overdue now, as the running server would within a minute.
    crate::sweeper::sweep(
        pool,
        OffsetDateTime::now_utc(),
        std::time::Duration::from_secs(48 * 3600),
    )
    .await?;
    Ok(Some(logins))
}

async fn add_user(
    tx: &mut Transaction<'_, Postgres>,
    hash: &str,
    email: &str,
    name: &str,
    role: &'static str,
    manager: Option<i64>,
    logins: &mut Vec<Login>,
) -> Result<i64> {
    let id = sqlx::query_scalar(
        "insert into users (email, name, role, manager_id, time_zone, weekly_ask_target, password_hash)
         values ($1, $2, $3, $4, 'Europe/Berlin', 5, $5) returning user_id",
    )
    .bind(email)
    .bind(name)
    .bind(role)
    .bind(manager)
    .bind(hash)
    .fetch_one(&mut **tx)
    .await?;
    logins.push(Login {
        email: email.into(),
        name: name.into(),
        role,
    });
    Ok(id)
}

/// One rep's network and 26 weeks of asking.
async fn load_rep(
    tx: &mut Transaction<'_, Postgres>,
    rng: &mut Rng,
    rep: i64,
    index: usize,
    today: Date,
) -> Result<()> {
    let mut sources = Vec::new();
    let mut prospects = Vec::new();
    for n in 0..75 {
        let kind = match n {
            0..20 => "client",
            20..35 => "referral_source",
            35..60 => "prospect",
            60..65 => "partner",
            _ => "other",
        };
        let first = FIRST[(n * 7 + index * 3) % FIRST.len()];
        let last = LAST[(n * 11 + index * 5) % LAST.len()];
        let company = *rng.pick(&COMPANIES);
        let domain: String = company
            .split(' ')
            .next()
            .unwrap_or("example")
            .to_lowercase();
        let email = format!(
            "{}.{}.{}@{domain}.example",
            first.to_lowercase(),
            last.to_lowercase(),
            rep * 100 + n as i64
        );
        let cadence: Option<i32> = (kind == "referral_source" || kind == "client").then_some(90);
        let id: i64 = sqlx::query_scalar(
            "insert into contacts (owner_id, name, email, company, title, kind, strength, touch_cadence_days, last_touch_at, created_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, now() - make_interval(days => $9), now() - interval '210 days')
             returning contact_id",
        )
        .bind(rep)
        .bind(format!("{first} {last}"))
        .bind(email)
        .bind(company)
        .bind(*rng.pick(&TITLES))
        .bind(kind)
        .bind(1 + rng.below(5) as i16)
        .bind(cadence)
        .bind(rng.below(200) as i32)
        .fetch_one(&mut **tx)
        .await?;
        match kind {
            "client" | "referral_source" | "partner" => sources.push(id),
            "prospect" => prospects.push(id),
            _ => {}
        }
    }
    for &prospect in &prospects {
        for _ in 0..(1 + rng.below(2)) {
            let source = *rng.pick(&sources);
            sqlx::query(
                "insert into relationships (owner_id, from_contact_id, to_contact_id, kind, strength)
                 values ($1, $2, $3, $4, $5) on conflict do nothing",
            )
            .bind(rep)
            .bind(source)
            .bind(prospect)
            .bind(*rng.pick(&["knows", "colleague", "friend", "worked_with", "client_of"]))
            .bind(1 + rng.below(5) as i16)
            .execute(&mut **tx)
            .await?;
        }
    }
    // Some reps ask more than others; everyone asks a little less in the oldest weeks.
    let drive = [6, 4, 5, 3, 5, 2, 4, 6][index % 8];
    for week in 0..26i64 {
        let asks = rng.below(drive + 2) + u64::from(week < 8);
        for _ in 0..asks {
            let asked_on = today - Duration::days(week * 7 + rng.below(7) as i64);
            ask(tx, rng, rep, &sources, &prospects, asked_on, today).await?;
        }
    }
    Ok(())
}

/// One ask and what came of it, by its age.
async fn ask(
    tx: &mut Transaction<'_, Postgres>,
    rng: &mut Rng,
    rep: i64,
    sources: &[i64],
    prospects: &[i64],
    asked_on: Date,
    today: Date,
) -> Result<()> {
    let source = *rng.pick(sources);
    let (target, description) = if rng.chance(70) {
        (Some(*rng.pick(prospects)), None)
    } else {
        (None, Some(*rng.pick(&IDEALS)))
    };
    let delay = Duration::days(rng.below(3) as i64);
    let logged_on = (asked_on + delay).min(today);
    let mut events: Vec<(EventKind, Date, Option<i64>)> = Vec::new();
    let age = (today - asked_on).whole_days();
    let mut at = asked_on;
    let mut step = |rng: &mut Rng, min: i64, spread: u64| {
        at += Duration::days(min + rng.below(spread) as i64);
        (at <= today).then_some(at)
    };
    if rng.chance(15) && age > 5 {
        if let Some(on) = step(rng, 2, 6) {
            events.push((
                if rng.chance(50) {
                    EventKind::Declined
                } else {
                    EventKind::NoOneInMind
                },
                on,
                None,
            ));
        }
    } else if rng.chance(62) && age > 3 {
        if rng.chance(30)
            && let Some(on) = step(rng, 1, 3)
        {
            events.push((EventKind::PromisedIntro, on, None));
        }
        if let Some(on) = step(rng, 1, 8) {
            events.push((EventKind::Introduced, on, None));
            if rng.chance(72)
                && let Some(thanked) =
                    Some(on + Duration::days(rng.below(6) as i64)).filter(|d| *d <= today)
            {
                events.push((EventKind::SourceThanked, thanked, None));
            }
            if rng.chance(60)
                && let Some(on) = step(rng, 3, 12)
            {
                events.push((EventKind::MeetingHeld, on, None));
                if let Some(on) = step(rng, 7, 25) {
                    if rng.chance(55) {
                        let amount = (5_000 + rng.below(60) as i64 * 1_000) * 100;
                        events.push((EventKind::Won, on, Some(amount)));
                    } else {
                        events.push((EventKind::Lost, on, None));
                    }
                    if rng.chance(60)
                        && let Some(told) =
                            Some(on + Duration::days(rng.below(5) as i64)).filter(|d| *d <= today)
                    {
                        events.push((EventKind::SourceUpdated, told, None));
                    }
                }
            }
        }
    } else if age > 70
        && rng.chance(70)
        && let Some(on) = step(rng, 60, 10)
    {
        events.push((EventKind::Expired, on, None));
    }
    // The stage and its end follow from the events by the product's own stage flow.
    let mut stage = Stage::Asked;
    let mut closed_at = None;
    for (kind, on, _) in &events {
        check_move(stage, *kind).map_err(|why| anyhow::anyhow!("demo ask: {why}"))?;
        if let Some(next) = kind.stage() {
            stage = next;
            closed_at = next.is_final().then_some(*on);
        }
    }
    let closed = stage.is_final();
    let amount = events
        .iter()
        .find(|(k, _, _)| *k == EventKind::Won)
        .and_then(|(_, _, a)| *a);
    let ask_id: i64 = sqlx::query_scalar(
        "insert into referral_asks (rep_id, source_contact_id, target_contact_id, target_description, reason, channel,
                                    asked_on, stage, amount_won_cents, closed_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::date::timestamptz + interval '17 hours',
                 $11::date::timestamptz + interval '9 hours')
         returning ask_id",
    )
    .bind(rep)
    .bind(source)
    .bind(target)
    .bind(description)
    .bind(*rng.pick(&REASONS))
    .bind(*rng.pick(&["in_person", "phone", "email", "video", "linkedin"]))
    .bind(asked_on)
    .bind(stage.as_str())
    .bind(amount)
    .bind(closed_at)
    .bind(logged_on)
    .fetch_one(&mut **tx)
    .await?;
    for (kind, on, amount) in &events {
        sqlx::query("insert into ask_events (ask_id, kind, actor_id, occurred_on, amount_cents) values ($1, $2, $3, $4, $5)")
            .bind(ask_id)
            .bind(kind.as_str())
            .bind(rep)
            .bind(*on)
            .bind(*amount)
            .execute(&mut **tx)
            .await?;
    }
    // What the rep still owes on this ask, titled as the product titles it.
    let (source_name, target_label): (String, String) = sqlx::query_as(
        "select s.name, coalesce(t.name, a.target_description, '')
         from referral_asks a join contacts s on s.contact_id = a.source_contact_id
         left join contacts t on t.contact_id = a.target_contact_id where a.ask_id = $1",
    )
    .bind(ask_id)
    .fetch_one(&mut **tx)
    .await?;
    let has = |kind: EventKind| events.iter().any(|(k, _, _)| *k == kind);
    let introduced = events
        .iter()
        .find(|(k, _, _)| *k == EventKind::Introduced)
        .map(|(_, on, _)| *on);
    let mut owed: Vec<(FollowUpKind, String, Date, bool)> = Vec::new();
    // Most reps follow up eventually; a few things slip (and show as overdue).
    let followed_up = introduced.is_some() || closed || (age > 14 && rng.chance(90));
    owed.push((
        FollowUpKind::AskFollowUp,
        titles::ask_follow_up(&source_name, &target_label),
        asked_on + Duration::days(7),
        followed_up,
    ));
    if let Some(on) = introduced {
        let thanked = has(EventKind::SourceThanked) || rng.chance(85);
        owed.push((
            FollowUpKind::ThankSource,
            titles::thank_source(&source_name, &target_label),
            on + Duration::days(1),
            thanked,
        ));
    }
    if closed && (has(EventKind::Won) || has(EventKind::Lost)) {
        let on = closed_at.unwrap_or(today);
        owed.push((
            FollowUpKind::ReportOutcome,
            titles::report_outcome(&source_name, &target_label),
            on + Duration::days(3),
            has(EventKind::SourceUpdated),
        ));
    }
    for (kind, title, due_on, done) in owed {
        sqlx::query(
            "insert into follow_ups (owner_id, kind, title, ask_id, contact_id, due_on, done_at, created_by)
             values ($1, $2, $3, $4, $5, $6, case when $7 then least($6::timestamptz + interval '10 hours', now()) end, $1)",
        )
        .bind(rep)
        .bind(kind.as_str())
        .bind(title)
        .bind(ask_id)
        .bind(source)
        .bind(due_on)
        .bind(done)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
