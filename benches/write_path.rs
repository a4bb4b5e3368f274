//! The write path and long lists, side by side in one run. Seeds 4 reps (and their manager),
//! 100,000 contacts and 100,000 asks, then:
//!
//! - S1, logging an ask: 32 clients post the quick-log form through the application for 10 s,
//!   spread over the 4 reps, then all on one rep, with the background task folding the rollup
//!   queue every second as `serve` does. Asks per second, p50 and p99, errors, and a check that
//!   every acknowledged ask is in the database and, once folded, in the rollups. Beside it, the
//!   anchor: pgbench running `benches/logask_min.pgb` (the durable statements one log needs,
//!   triggers off) with 32 clients. Three rounds of anchor and both phases, closed by a last
//!   anchor; each phase is compared with the anchors on either side of it, and the median over
//!   the rounds is the figure. Target: at least 0.6× the anchor, p99 ≤ 100 ms, 0 errors.
//! - S5, the contact list: page 1 and a late page for the manager (100,000 contacts) and for a
//!   rep (25,000), each against one contact's page. Target: at most 3×.
//!
//!     cargo bench --bench write_path

mod support;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use sqlx::PgPool;

const CLIENTS: usize = 32;
const RUN: Duration = Duration::from_secs(10);
/// Rounds of S1 (anchor, then Warmline's two phases); a last anchor closes them.
const ROUNDS: usize = 3;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn rep_email(n: usize) -> String {
    format!("rep{n}@{}", warmline::seed::DOMAIN)
}

/// What one S1 phase measured.
struct Phase {
    acked: u64,
    errors: u64,
    per_sec: f64,
    p50: Duration,
    p99: Duration,
}

/// 32 clients log asks for `run`, client `i` as rep `reps[i % reps.len()]`. `phase` keeps
/// the submission ids of different phases apart.
async fn log_asks(app: &axum::Router, reps: &[usize], phase: u16, run: Duration) -> Phase {
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let email = rep_email(reps[i % reps.len()]);
        clients.push(support::Client::login(app.clone(), &email, warmline::seed::PASSWORD).await);
    }
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, mut client) in clients.into_iter().enumerate() {
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut n: u64 = 0;
            while started.elapsed() < run {
                n += 1;
                let submission = format!("{i:08x}-{phase:04x}-4000-9000-{n:012x}");
                let source = format!("Bench Source {phase}-{i}-{n}");
                let body = serde_urlencoded::to_string([
                    ("csrf_token", client.csrf.as_str()),
                    ("source", source.as_str()),
                    ("target", "CFO of a Munich logistics firm"),
                    ("reason", "They are opening a second warehouse"),
                    ("submission_id", submission.as_str()),
                ])
                .unwrap();
                let sent = Instant::now();
                let (status, location, _) = client
                    .post(
                        "/asks",
                        "application/x-www-form-urlencoded",
                        body.into_bytes(),
                    )
                    .await;
                if status == StatusCode::SEE_OTHER && location.contains("logged=") {
                    times.push(sent.elapsed());
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            times
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    times.sort();
    Phase {
        acked: times.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        per_sec: times.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
    }
}

/// Asks written by phase `phase` of S1.
async fn written(pool: &PgPool, phase: u16) -> i64 {
    sqlx::query_scalar("select count(*) from referral_asks where submission_id::text like $1")
        .bind(format!("%-{phase:04x}-4000-9000-%"))
        .fetch_one(pool)
        .await
        .unwrap()
}

/// What one anchor run measured: transactions per second, and the p50 and p99 of its
/// transactions' latencies (from pgbench's per-transaction log), the bare SQL's own tail on
/// this machine's disk at that moment.
struct Anchor {
    tps: f64,
    p50: Duration,
    p99: Duration,
}

/// pgbench with the anchor script for [`RUN`].
fn anchor(pg: &warmline::embedded_pg::EmbeddedPg, session: &str, rep: i64, tz: &str) -> Anchor {
    let pgbench = warmline::embedded_pg::find_tool("pgbench").expect("pgbench");
    let url = url::Url::parse(&pg.url("bench")).unwrap();
    let socket = url
        .query_pairs()
        .find(|(k, _)| k == "host")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/logask_min.pgb");
    let logs = std::env::temp_dir().join(format!("warmline-anchor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).unwrap();
    let output = Command::new(pgbench)
        .args(["-n", "-M", "prepared", "-c", "32", "-j", "2"])
        .arg("-l")
        .arg(format!("--log-prefix={}", logs.join("tx").display()))
        .args(["-T", &RUN.as_secs().to_string()])
        .args(["-h", &socket, "-p", &url.port().unwrap().to_string()])
        .args(["-U", url.username(), "-f", script])
        .args(["-D", &format!("sid={session}")])
        .args(["-D", &format!("rep={rep}"), "-D", &format!("tz={tz}")])
        .arg("bench")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tps = stdout
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no tps in {stdout}"));
    let failed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("number of failed transactions: "))
        .and_then(|v| v.split_whitespace().next());
    assert_eq!(failed, Some("0"), "pgbench reported failures: {stdout}");
    // Each line: client, transaction, latency in microseconds, ….
    let mut latencies = Vec::new();
    for file in std::fs::read_dir(&logs).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        latencies.extend(text.lines().filter_map(|l| {
            let micros: u64 = l.split_whitespace().nth(2)?.parse().ok()?;
            Some(Duration::from_micros(micros))
        }));
    }
    std::fs::remove_dir_all(&logs).unwrap();
    latencies.sort();
    Anchor {
        tps,
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
    }
}

/// Median time of 21 `GET path` after 5 warm-up requests.
async fn time_get(client: &mut support::Client, path: &str) -> Duration {
    for _ in 0..5 {
        let (status, _) = client.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let mut runs = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let (status, _) = client.get(path).await;
        runs.push(started.elapsed());
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    median(runs)
}

/// S5 for one viewer: page 1, a late page and one contact's page.
async fn lists(pool: &PgPool, app: &axum::Router, email: &str, label: &str) {
    let mut client = support::Client::login(app.clone(), email, warmline::seed::PASSWORD).await;
    // The cursor of a late page: the contact at position 90% of what this viewer sees.
    let (visible, name, id): (i64, String, i64) = sqlx::query_as(
        "with seen as (
             select c.name, c.contact_id, row_number() over (order by lower(c.name), c.contact_id) as n,
                    count(*) over () as total
             from contacts c join users u on u.user_id = c.owner_id
             where c.archived_at is null
               and c.owner_id in (select visible_user_ids((select user_id from users where email = $1)))
         )
         select total, name, contact_id from seen where n = greatest(1, total * 9 / 10)",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap();
    let late = format!(
        "/contacts?{}",
        serde_urlencoded::to_string([("after_name", name.as_str()), ("after_id", &id.to_string())])
            .unwrap()
    );
    let single = time_get(&mut client, &format!("/contacts/{id}")).await;
    let first = time_get(&mut client, "/contacts").await;
    let deep = time_get(&mut client, &late).await;
    let ratio = |d: Duration| d.as_secs_f64() / single.as_secs_f64();
    println!(
        "  {label} ({visible} contacts): page 1 {} ({:.2}x), late page {} ({:.2}x), one contact {} (target: pages at most 3x)",
        ms(first),
        ratio(first),
        ms(deep),
        ratio(deep),
        ms(single)
    );
}

#[tokio::main]
async fn main() {
    let (pg, pool, url) = support::database("write_path").await;
    let today = time::OffsetDateTime::now_utc().date();
    let size = warmline::seed::Size {
        reps: 4,
        contacts: 100_000,
        asks: 100_000,
        relationships: 0,
    };
    let started = Instant::now();
    warmline::seed::seed(&pool, size, today, false)
        .await
        .unwrap();
    println!(
        "write path benchmark: seeded 4 reps, 100,000 contacts and 100,000 asks in {}",
        support::secs(started.elapsed())
    );
    // The seed's writes are flushed before anything is timed, so no checkpoint lands in one
    // measurement and not in another.
    sqlx::query("checkpoint").execute(&pool).await.unwrap();
    let app = support::app(&pool, &url);

    println!(
        "S1, logging an ask ({CLIENTS} clients, {} s each):",
        RUN.as_secs()
    );
    let session_holder =
        support::Client::login(app.clone(), &rep_email(1), warmline::seed::PASSWORD).await;
    let session = session_holder
        .cookie("warmline_session")
        .expect("a session cookie")
        .to_string();
    let (rep, tz): (i64, String) =
        sqlx::query_as("select user_id, time_zone from users where email = $1")
            .bind(rep_email(1))
            .fetch_one(&pool)
            .await
            .unwrap();
    // Warm-up, as a running server would be: every pooled connection has prepared its
    // statements and the tables' pages are cached.
    log_asks(&app, &[1, 2, 3, 4], 9, Duration::from_secs(3)).await;
    warmline::db::metrics::fold_rollups(&pool).await.unwrap();
    let rolled_up = || async {
        sqlx::query_scalar::<_, i64>("select coalesce(sum(asks), 0)::int8 from ask_rollups")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    // The anchor's asks bypass the triggers: only what Warmline logs is rolled up.
    let rolled_before = rolled_up().await;
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let folder = tokio::spawn(warmline::dashboard::fold_continuously(
        pool.clone(),
        stopping,
    ));
    // Rounds of anchor, Warmline over 4 reps, Warmline on one rep, closed by a last anchor:
    // each Warmline phase is compared with the mean of the anchors just before and after it,
    // so that the machine's drift during the run does not favour either side.
    let phases = [
        ("over 4 reps", vec![1, 2, 3, 4]),
        ("all on one rep", vec![1]),
    ];
    let mut anchors = Vec::new();
    let mut runs: Vec<(usize, usize, Phase, i64)> = Vec::new();
    for round in 0..ROUNDS {
        // Nothing queued is left for the anchor's time.
        warmline::db::metrics::fold_rollups(&pool).await.unwrap();
        anchors.push(anchor(&pg, &session, rep, &tz));
        for (p, (_, reps)) in phases.iter().enumerate() {
            let phase = (round * phases.len() + p + 1) as u16;
            let result = log_asks(&app, reps, phase, RUN).await;
            let stored = written(&pool, phase).await;
            assert_eq!(
                stored as u64, result.acked,
                "every acknowledged ask is written"
            );
            runs.push((round, p, result, stored));
        }
    }
    stop.send(true).unwrap();
    folder.await.unwrap();
    let left = warmline::db::metrics::fold_rollups(&pool).await.unwrap();
    let rolled = rolled_up().await - rolled_before;
    let acked: u64 = runs.iter().map(|(_, _, r, _)| r.acked).sum();
    anchors.push(anchor(&pg, &session, rep, &tz));
    println!(
        "  anchor, pgbench logask_min.pgb, before each round and after the last: {} tps (p50/p99 {})",
        anchors
            .iter()
            .map(|a| format!("{:.0}", a.tps))
            .collect::<Vec<_>>()
            .join(", "),
        anchors
            .iter()
            .map(|a| format!("{}/{}", ms(a.p50), ms(a.p99)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut ratios = vec![Vec::new(); phases.len()];
    for (round, p, result, stored) in &runs {
        let anchor_tps = (anchors[*round].tps + anchors[round + 1].tps) / 2.0;
        let ratio = result.per_sec / anchor_tps;
        ratios[*p].push(ratio);
        println!(
            "  round {}, Warmline {}: {:.0} asks/s ({ratio:.2}x the anchors around it), p50 {}, p99 {}, {} errors, {} acknowledged, {} written",
            round + 1,
            phases[*p].0,
            result.per_sec,
            ms(result.p50),
            ms(result.p99),
            result.errors,
            result.acked,
            stored
        );
    }
    for (p, (label, _)) in phases.iter().enumerate() {
        let mut r = ratios[p].clone();
        r.sort_by(f64::total_cmp);
        let worst_p99 = runs
            .iter()
            .filter(|(_, q, _, _)| *q == p)
            .map(|(_, _, result, _)| result.p99)
            .max()
            .unwrap_or_default();
        let errors: u64 = runs
            .iter()
            .filter(|(_, q, _, _)| *q == p)
            .map(|(_, _, result, _)| result.errors)
            .sum();
        println!(
            "  Warmline {label}: median {:.2}x the anchor over {ROUNDS} rounds (lowest {:.2}x), worst p99 {}, {errors} errors (target: 0.6x, p99 at most 100 ms, 0 errors)",
            r[r.len() / 2],
            r[0],
            ms(worst_p99)
        );
    }
    println!(
        "  rollups, folded every second while logging: {rolled} asks rolled up of {acked} acknowledged, {left} left for the last fold"
    );
    assert_eq!(
        rolled as u64, acked,
        "every logged ask is in the rollups once"
    );

    println!("S5, the contact list (median of 21):");
    lists(
        &pool,
        &app,
        &format!("manager1@{}", warmline::seed::DOMAIN),
        "manager",
    )
    .await;
    lists(&pool, &app, &rep_email(2), "rep").await;
}
