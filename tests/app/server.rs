//! `warmline serve` as a process: the embedded PostgreSQL's life from first start to restart,
//! refusal of a second server, orderly shutdown and recovery after a crash.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use warmline::embedded_pg::EmbeddedPg;

use crate::common::http::get_url;
use crate::common::smtp::SmtpSink;
use crate::common::{TestApp, fresh_database, temp_dir};

/// A running `warmline serve` and what it has logged so far.
struct Served {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

fn warmline(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warmline"));
    cmd.env("WARMLINE_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

async fn serve(data_dir: &Path) -> Served {
    serve_with(data_dir, &[]).await
}

/// `warmline serve` with extra environment variables.
async fn serve_with(data_dir: &Path, env: &[(&str, &str)]) -> Served {
    let mut child = warmline(data_dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .spawn()
        .expect("run warmline serve");
    let log = Arc::new(Mutex::new(String::new()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let sink = log.clone();
    tokio::spawn(async move {
        let mut tx = Some(tx);
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(addr) = line.split("listening on ").nth(1)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(addr.trim().to_string());
            }
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let base = tokio::time::timeout(Duration::from_secs(60), rx)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("warmline serve did not start:\n{}", log.lock().unwrap()));
    Served { child, base, log }
}

impl Served {
    fn pid(&self) -> u32 {
        self.child.id().expect("still running")
    }

    async fn signal_and_wait(mut self, signal: &str) -> std::process::ExitStatus {
        send_signal(self.pid(), signal);
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("no exit after SIG{signal}:\n{}", self.log.lock().unwrap()))
            .unwrap()
    }
}

fn send_signal(pid: u32, signal: &str) {
    let ok = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal} {pid}");
}

async fn count_markers(pg: &EmbeddedPg) -> i64 {
    let pool = warmline::db::connect(&pg.url("warmline"), 1).await.unwrap();
    let n = sqlx::query_scalar("select count(*) from audit_log where entity = 'test-marker'")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

#[tokio::test]
async fn serve_starts_its_own_postgres_stops_it_on_ctrl_c_and_keeps_data_across_restarts() {
    let dir = temp_dir("serve");
    let data: PathBuf = dir.join("data");
    let cluster_dir = data.join("postgres");
    let pg = EmbeddedPg::new(&cluster_dir).unwrap();
    // Whatever happens below, no cluster outlives the test run.
    pg.stop_and_remove_after(std::process::id(), &dir).unwrap();

    let first = serve(&data).await;
    let (status, body) = get_url(&format!("{}/healthz", first.base)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = get_url(&format!("{}/readyz", first.base)).await;
    assert_eq!(status, StatusCode::OK);

    let pool = warmline::db::connect(&pg.url("warmline"), 1).await.unwrap();
    sqlx::query("insert into audit_log (entity, action) values ('test-marker', 'kept')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    // A second server on the same data directory refuses, clearly.
    let second = warmline(&data)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .await
        .unwrap();
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("another Warmline process"), "{stderr}");
    assert!(stderr.contains("warmline serve"), "{stderr}");

    // Other commands use the cluster the server is running.
    let migrate = warmline(&data).arg("migrate").output().await.unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    let status = first.signal_and_wait("INT").await;
    assert!(status.success(), "Ctrl-C exits 0, got {status:?}");
    assert!(!pg.is_running(), "PostgreSQL is stopped with the server");
    assert!(pg.postmaster_pid().is_none());

    // A restart reuses the cluster and its data.
    let again = serve(&data).await;
    let (status, _) = get_url(&format!("{}/readyz", again.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count_markers(&pg).await, 1);

    // A crash of both Warmline and PostgreSQL leaves a stale postmaster.pid behind ...
    let postmaster = pg.postmaster_pid().expect("postmaster.pid while running");
    send_signal(again.pid(), "KILL");
    send_signal(postmaster, "KILL");
    let mut again = again;
    again.child.wait().await.unwrap();
    assert!(
        pg.postmaster_pid().is_some(),
        "the crash leaves postmaster.pid"
    );
    // ... which the next start recovers from.
    let recovered = serve(&data).await;
    let (status, _) = get_url(&format!("{}/readyz", recovered.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count_markers(&pg).await, 1);
    let status = recovered.signal_and_wait("TERM").await;
    assert!(status.success(), "SIGTERM exits 0, got {status:?}");
    assert!(!pg.is_running());
}

#[tokio::test]
async fn a_killed_postgres_is_restarted_and_pages_come_back_with_nothing_lost() {
    let dir = temp_dir("supervise");
    let data: PathBuf = dir.join("data");
    let cluster_dir = data.join("postgres");
    let pg = EmbeddedPg::new(&cluster_dir).unwrap();
    pg.stop_and_remove_after(std::process::id(), &dir).unwrap();
    let served = serve(&data).await;

    // An acknowledged write, then the OOM killer's way of ending PostgreSQL.
    let pool = warmline::db::connect(&pg.url("warmline"), 1).await.unwrap();
    sqlx::query("insert into audit_log (entity, action) values ('test-marker', 'acknowledged')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let postmaster = pg.postmaster_pid().expect("a running postmaster");
    send_signal(postmaster, "KILL");
    let killed_at = std::time::Instant::now();

    // While it is down, pages say so with 503 (never 500); then they are served again.
    let mut statuses = Vec::new();
    let mut seen_down = false;
    let recovered = loop {
        let (ready, _) = get_url(&format!("{}/readyz", served.base)).await;
        let (login, _) = get_url(&format!("{}/setup", served.base)).await;
        statuses.push(login);
        // Backends may serve their open connections for a moment after the postmaster dies:
        // the outage counts from the first failed check or the new postmaster.
        seen_down |= ready != StatusCode::OK || pg.postmaster_pid() != Some(postmaster);
        if ready == StatusCode::OK && seen_down {
            // The pool has let go of the connections the crash broke: the first page after
            // recovery works.
            assert_eq!(login, StatusCode::OK, "{statuses:?}");
            break killed_at.elapsed();
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(30),
            "not back after 30 s; statuses {statuses:?}\n{}",
            served.log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!("the embedded PostgreSQL was back {recovered:?} after kill -9");
    assert!(
        recovered < Duration::from_secs(10),
        "back after {recovered:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    assert_ne!(pg.postmaster_pid(), Some(postmaster));
    assert_eq!(count_markers(&pg).await, 1);
    let (_, metrics) = get_url(&format!("{}/metrics", served.base)).await;
    assert!(
        metrics.contains("warmline_db_restarts_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("warmline_data_dir_free_bytes"),
        "{metrics}"
    );
    let log = served.log.lock().unwrap().clone();
    assert!(
        log.contains("PostgreSQL has stopped; restarting it"),
        "{log}"
    );
    let status = served.signal_and_wait("TERM").await;
    assert!(status.success(), "SIGTERM exits 0, got {status:?}");
}

#[tokio::test]
async fn a_vanished_data_directory_stops_the_server_with_one_clear_error() {
    let dir = temp_dir("vanished");
    let data: PathBuf = dir.join("data");
    let cluster_dir = data.join("postgres");
    let pg = EmbeddedPg::new(&cluster_dir).unwrap();
    pg.stop_and_remove_after(std::process::id(), &dir).unwrap();
    let mut served = serve(&data).await;
    let postmaster = pg.postmaster_pid().expect("a running postmaster");
    // The cluster's directory is moved away (a botched clean-up), then PostgreSQL dies.
    let moved = dir.join("moved-away");
    std::fs::rename(&cluster_dir, &moved).unwrap();
    send_signal(postmaster, "KILL");
    let status = tokio::time::timeout(Duration::from_secs(30), served.child.wait())
        .await
        .unwrap_or_else(|_| panic!("still running:\n{}", served.log.lock().unwrap()))
        .unwrap();
    assert!(!status.success(), "exits non-zero");
    let log = served.log.lock().unwrap().clone();
    assert!(log.contains("has gone missing"), "{log}");
    // Nothing was re-created in its place, and the moved data is untouched.
    assert!(!cluster_dir.join("PG_VERSION").exists());
    assert!(moved.join("PG_VERSION").exists());
}

async fn counts(pg: &EmbeddedPg) -> Vec<i64> {
    let pool = warmline::db::connect(&pg.url("warmline"), 1).await.unwrap();
    let mut out = Vec::new();
    for table in [
        "users",
        "contacts",
        "relationships",
        "referral_asks",
        "ask_events",
        "follow_ups",
        "notifications",
        "coaching_notes",
        "audit_log",
    ] {
        out.push(
            sqlx::query_scalar(&format!("select count(*) from {table}"))
                .fetch_one(&pool)
                .await
                .unwrap(),
        );
    }
    pool.close().await;
    out
}

#[tokio::test]
async fn a_backup_of_a_running_demo_restores_into_a_new_data_directory() {
    let dir = temp_dir("backup");
    let (first, second) = (dir.join("first"), dir.join("second"));
    let (pg1, pg2) = (
        EmbeddedPg::new(&first.join("postgres")).unwrap(),
        EmbeddedPg::new(&second.join("postgres")).unwrap(),
    );
    pg1.stop_and_remove_after(std::process::id(), &dir).unwrap();
    pg2.stop_and_remove_after(std::process::id(), &dir).unwrap();
    let demo = warmline(&first).arg("demo").output().await.unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let served = serve(&first).await;
    // serve takes its first daily backup at once.
    let daily = first.join("backups");
    let took = warmline::embedded_pg::wait_until(Duration::from_secs(30), || async {
        std::fs::read_dir(&daily)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().ends_with(".dump"))
            })
            .unwrap_or(false)
    })
    .await;
    assert!(
        took,
        "no daily backup in {}:\n{}",
        daily.display(),
        served.log.lock().unwrap()
    );

    let file = dir.join("team.dump");
    let backup = warmline(&first)
        .args(["backup", "--out"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(String::from_utf8_lossy(&backup.stdout).contains("team.dump"));
    let expected = counts(&pg1).await;
    let status = served.signal_and_wait("TERM").await;
    assert!(status.success());

    let restore = warmline(&second)
        .arg("restore")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let restored = serve(&second).await;
    assert_eq!(counts(&pg2).await, expected);
    assert!(expected[0] > 5 && expected[3] > 100, "{expected:?}");

    // A database with data is not replaced without --force.
    let again = warmline(&second)
        .arg("restore")
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let forced = warmline(&second)
        .args(["restore", "--force"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_eq!(counts(&pg2).await, expected);

    // The restored team logs in.
    let pool = warmline::db::connect(&pg2.url("warmline"), 2)
        .await
        .unwrap();
    let app = crate::common::TestApp::over(
        warmline::app(warmline::state::AppState::new(
            pool.clone(),
            warmline::config::Config::for_database(None),
        )),
        pool,
    );
    let login = app
        .login("ada@demo.warmline.example", warmline::demo::PASSWORD)
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let status = restored.signal_and_wait("TERM").await;
    assert!(status.success());
}

#[test]
fn only_the_newest_daily_backups_are_kept() {
    let dir = temp_dir("prune");
    for day in 1..=9 {
        std::fs::write(
            dir.join(format!("warmline-2026120{day}T030000Z.dump")),
            b"x",
        )
        .unwrap();
    }
    std::fs::write(dir.join("team.dump"), b"kept: not an automatic backup").unwrap();
    assert_eq!(warmline::backup::prune(&dir, 7).unwrap(), 2);
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left.len(), 8);
    assert_eq!(left[0], "team.dump");
    assert_eq!(left[1], "warmline-20261203T030000Z.dump");
}

#[tokio::test]
async fn two_instances_on_one_database_share_sessions_and_sweep_and_mail_each_thing_once() {
    let (pool, url) = fresh_database().await;
    let sink = SmtpSink::start().await;
    let setup = TestApp::over(axum::Router::new(), pool.clone());
    let manager = setup
        .create_user_in("boss@example.com", "manager", None, "UTC")
        .await;
    let mut reps = Vec::new();
    for i in 0..3 {
        let rep = setup
            .create_user_in(&format!("rep{i}@example.com"), "rep", Some(manager), "UTC")
            .await;
        reps.push(rep);
    }
    // The servers run on the wall clock: no quiet hours, so the digests go out at any hour.
    sqlx::query("update users set quiet_hours_start = 0, quiet_hours_end = 0")
        .execute(&pool)
        .await
        .unwrap();
    // Aged data: 60 follow-ups overdue for weeks, due for escalation to the manager.
    for (i, rep) in reps.iter().cycle().take(60).enumerate() {
        sqlx::query(
            "insert into follow_ups (owner_id, kind, title, due_on) values ($1, 'other', $2, current_date - 21)",
        )
        .bind(rep.0)
        .bind(format!("Old promise {i}"))
        .execute(&pool)
        .await
        .unwrap();
    }
    let smtp = format!("smtp://{}", sink.addr);
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("WARMLINE_SWEEP_INTERVAL_SECS", "1"),
        ("WARMLINE_ESCALATION_DELAY_HOURS", "0"),
        ("WARMLINE_SMTP_URL", smtp.as_str()),
    ];
    let (dir_a, dir_b) = (temp_dir("instance-a"), temp_dir("instance-b"));
    let (a, b) = tokio::join!(serve_with(&dir_a, &env), serve_with(&dir_b, &env));

    // Sessions live in the database: signed in on one, signed in on the other.
    let on_a = TestApp::remote(&a.base, pool.clone());
    on_a.login("rep0@example.com", crate::common::PASSWORD)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let on_b = TestApp::remote(&b.base, pool.clone());
    *on_b.jar.lock().unwrap() = on_a.jar.lock().unwrap().clone();
    on_b.get("/follow-ups")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Old promise 0");

    // Both sweep every second; each row is flagged, escalated and notified once (the manager
    // once a rep), and each person gets one digest.
    let all_done = async {
        loop {
            let escalated: i64 = sqlx::query_scalar(
                "select count(*) from follow_ups where escalated_at is not null",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            if escalated == 60 && sink.received().len() >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all_done)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "not all swept:\n{}\n{}",
                a.log.lock().unwrap(),
                b.log.lock().unwrap()
            )
        });
    // Several more sweeps of both find nothing new.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let by_kind: Vec<(String, i64)> =
        sqlx::query_as("select kind, count(*) from notifications group by kind order by kind")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        by_kind,
        [("escalated".to_string(), 3), ("overdue".to_string(), 60)],
        "one escalation summary per rep"
    );
    let mut recipients: Vec<String> = sink.received().into_iter().flat_map(|m| m.to).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        [
            "boss@example.com",
            "rep0@example.com",
            "rep1@example.com",
            "rep2@example.com"
        ],
        "one digest each, from whichever instance sent it"
    );
    let swept_by_both = a.log.lock().unwrap().contains("sweep done")
        && b.log.lock().unwrap().contains("sweep done");
    assert!(swept_by_both, "both instances ran their sweeper");

    // Asks logged while both fold the rollup queue every second: with no page read, the queue
    // empties and every ask is counted once.
    let source: i64 = sqlx::query_scalar(
        "insert into contacts (owner_id, name) values ($1, 'Steady Source') returning contact_id",
    )
    .bind(reps[0].0)
    .fetch_one(&pool)
    .await
    .unwrap();
    for batch in 0..20 {
        sqlx::query(
            "insert into referral_asks (rep_id, source_contact_id, target_description, asked_on)
             select $1, $2, 'Prospect ' || ($3 * 10 + i), current_date from generate_series(1, 10) i",
        )
        .bind(reps[batch % 3].0)
        .bind(source)
        .bind(batch as i32)
        .execute(&pool)
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let folded = warmline::embedded_pg::wait_until(Duration::from_secs(10), || async {
        let queued: i64 = sqlx::query_scalar("select count(*) from ask_rollup_queue")
            .fetch_one(&pool)
            .await
            .unwrap();
        queued == 0
    })
    .await;
    assert!(folded, "the background tasks folded the queue");
    let (rolled, dates): (i64, i32) = sqlx::query_as(
        "select (select sum(asks)::int8 from ask_rollups),
                (select cardinality(recent_ask_dates) from contacts where contact_id = $1)",
    )
    .bind(source)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(rolled, 200, "each ask rolled up once");
    assert_eq!(dates, 12, "the source's ask dates came with the fold");

    // Signing out on one ends the session on the other.
    on_b.get("/follow-ups").await;
    on_b.post_form("/logout", &[]).await;
    let after = on_a.get("/follow-ups").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert!(after.location().starts_with("/login"));
    assert!(a.signal_and_wait("TERM").await.success());
    assert!(b.signal_and_wait("TERM").await.success());
}

/// Makes `replica_dir` a streaming standby of `primary` with `pg_basebackup -R`, as the
/// cluster's system user.
async fn base_backup(primary: &EmbeddedPg, replica_dir: &Path) {
    let url = primary.url("postgres");
    let socket = url.split("host=").nth(1).expect("a socket directory");
    let bindir = warmline::embedded_pg::find_bindir().unwrap();
    let backup = bindir.join("pg_basebackup");
    let args = [
        "-D",
        &replica_dir.display().to_string(),
        "-R",
        "-X",
        "stream",
        "--checkpoint=fast",
        "-h",
        socket,
        "-p",
        &warmline::embedded_pg::PORT.to_string(),
        "-U",
        "postgres",
    ]
    .map(str::to_string);
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let output = if as_root {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&backup)
            .args(&args)
            .output()
            .await
    } else {
        Command::new(&backup).args(&args).output().await
    }
    .unwrap();
    assert!(
        output.status.success(),
        "pg_basebackup: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The primary keeps its socket in its data directory: the copy has the socket's lock file,
    // which names the primary's (running) postmaster.
    let _ = std::fs::remove_file(
        replica_dir.join(format!(".s.PGSQL.{}.lock", warmline::embedded_pg::PORT)),
    );
}

#[tokio::test]
async fn dashboards_and_lists_read_from_a_streaming_replica_and_say_how_far_behind_it_is() {
    let dir = temp_dir("replica");
    let primary = crate::common::start_cluster(&dir.join("primary")).await;
    primary.ensure_database("warmline").await.unwrap();
    let pool = warmline::db::connect(&primary.url("warmline"), 2)
        .await
        .unwrap();
    warmline::db::migrate(&pool).await.unwrap();
    let setup = TestApp::over(axum::Router::new(), pool.clone());
    let manager = setup
        .create_user_in("boss@example.com", "manager", None, "UTC")
        .await;
    let rep = setup
        .create_user_in("rep@example.com", "rep", Some(manager), "UTC")
        .await;
    sqlx::query("insert into contacts (owner_id, name) values ($1, 'Before The Copy')")
        .bind(rep.0)
        .execute(&pool)
        .await
        .unwrap();

    let replica_dir = dir.join("replica");
    let parent_owner = dir.join("primary");
    std::fs::create_dir_all(&replica_dir).unwrap();
    // The standby's directory belongs to the cluster's user, like the primary's.
    let owner = std::fs::metadata(parent_owner.join("pg"))
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap();
    std::os::unix::fs::chown(&replica_dir, Some(owner), None).unwrap();
    std::fs::set_permissions(
        &replica_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    base_backup(&primary, &replica_dir).await;
    let replica = EmbeddedPg::new(&replica_dir).unwrap();
    replica
        .stop_and_remove_after(std::process::id(), &replica_dir)
        .unwrap();
    replica
        .start(warmline::embedded_pg::ClusterOptions { ephemeral: true })
        .await
        .unwrap();
    let standby = warmline::db::connect(&replica.url("warmline"), 1)
        .await
        .unwrap();
    let in_recovery: bool = sqlx::query_scalar("select pg_is_in_recovery()")
        .fetch_one(&standby)
        .await
        .unwrap();
    assert!(in_recovery, "the copy runs as a standby");

    let primary_url = primary.url("warmline");
    let replica_url = replica.url("warmline");
    let served = serve_with(
        &temp_dir("replica-server"),
        &[
            ("DATABASE_URL", primary_url.as_str()),
            ("DATABASE_READ_URL", replica_url.as_str()),
        ],
    )
    .await;
    let app = TestApp::remote(&served.base, pool.clone());
    app.login("rep@example.com", crate::common::PASSWORD)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let up_to_date = warmline::embedded_pg::wait_until(Duration::from_secs(10), || async {
        let page = app.get("/contacts").await;
        page.status == StatusCode::OK
            && page.body.contains("Before The Copy")
            && page.body.contains("Read from a replica, up to date.")
    })
    .await;
    assert!(
        up_to_date,
        "the list reads the replica and says it is up to date"
    );

    // With replay paused, a new contact is on the primary (its own page) but not yet in the
    // list, and the list says how far behind it is.
    sqlx::query("select pg_wal_replay_pause()")
        .execute(&standby)
        .await
        .unwrap();
    app.get("/contacts/new").await;
    let created = app
        .post_form("/contacts", &[("name", "After The Pause")])
        .await;
    created.assert_status(StatusCode::SEE_OTHER);
    app.get(created.location())
        .await
        .assert_contains("After The Pause");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    app.get("/contacts")
        .await
        .assert_lacks("After The Pause")
        .assert_contains("s behind: your latest changes may not show yet.");
    let (_, metrics) = get_url(&format!("{}/metrics", served.base)).await;
    assert!(
        metrics.contains("warmline_db_replica_lag_seconds"),
        "{metrics}"
    );

    sqlx::query("select pg_wal_replay_resume()")
        .execute(&standby)
        .await
        .unwrap();
    let caught_up = warmline::embedded_pg::wait_until(Duration::from_secs(10), || async {
        app.get("/contacts").await.body.contains("After The Pause")
    })
    .await;
    assert!(caught_up, "the replica caught up");
    app.get("/asks")
        .await
        .assert_contains("Read from a replica");

    let boss = TestApp::remote(&served.base, pool.clone());
    boss.login("boss@example.com", crate::common::PASSWORD)
        .await;
    boss.get("/dashboard")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Read from a replica");
    assert!(served.signal_and_wait("TERM").await.success());
    standby.close().await;
    pool.close().await;
}

/// Runs a one-off `warmline` command on a data directory: success, stdout, stderr.
async fn command(data_dir: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut cmd = warmline(data_dir);
    cmd.args(args);
    crate::common::output_of(cmd, stdin).await
}

/// A data directory whose embedded cluster (stopped) holds an admin and `contacts` contacts:
/// the directory it lives in (removed after the test) and the data directory.
async fn embedded_with_data(label: &str, contacts: i64) -> (PathBuf, PathBuf) {
    let dir = temp_dir(label);
    let data = dir.join("data");
    let pg = EmbeddedPg::new(&data.join("postgres")).unwrap();
    pg.stop_and_remove_after(std::process::id(), &dir).unwrap();
    let (ok, _, err) = command(
        &data,
        &[
            "user",
            "add",
            "--email",
            "admin@example.com",
            "--name",
            "Ada Admin",
            "--role",
            "admin",
            "--password-stdin",
        ],
        crate::common::PASSWORD,
    )
    .await;
    assert!(ok, "{err}");
    pg.start(warmline::embedded_pg::ClusterOptions::default())
        .await
        .unwrap();
    let pool = warmline::db::connect(&pg.url("warmline"), 1).await.unwrap();
    sqlx::query(
        "insert into contacts (owner_id, name) select 1, 'Contact ' || i from generate_series(1, $1) i",
    )
    .bind(contacts)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    pg.stop().await.unwrap();
    (dir, data)
}

#[tokio::test]
async fn upgrade_db_rebuilds_the_cluster_from_a_backup_keeping_the_old_one_and_explains_a_version_it_cannot_run()
 {
    let (_dir, data) = embedded_with_data("upgrade", 25).await;
    let cluster_dir = data.join("postgres");
    let version = std::fs::read_to_string(cluster_dir.join("PG_VERSION"))
        .unwrap()
        .trim()
        .to_string();

    // On the newest PostgreSQL installed there is nothing to do.
    let (ok, out, err) = command(&data, &["upgrade-db"], "").await;
    assert!(ok && out.contains("nothing to do"), "{out}{err}");

    // --rebuild takes the whole way: backup, new cluster, restore, switch, old one kept.
    let (ok, out, err) = command(&data, &["upgrade-db", "--rebuild"], "").await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("from PostgreSQL {version} to {version}"))
            && out.contains("backup taken first"),
        "{out}"
    );
    let backups: Vec<_> = std::fs::read_dir(data.join("backups")).unwrap().collect();
    assert_eq!(backups.len(), 1);
    let kept: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("postgres.old-{version}-")))
        .collect();
    assert_eq!(kept.len(), 1, "the old cluster is kept");
    assert!(!data.join("postgres.new").exists());
    let counts = |pg: EmbeddedPg| async move {
        pg.start(warmline::embedded_pg::ClusterOptions::default())
            .await
            .unwrap();
        let pool = warmline::db::connect(&pg.url("warmline"), 1).await.unwrap();
        let n: (i64, i64) =
            sqlx::query_as("select (select count(*) from users), (select count(*) from contacts)")
                .fetch_one(&pool)
                .await
                .unwrap();
        pool.close().await;
        pg.stop().await.unwrap();
        n
    };
    assert_eq!(
        counts(EmbeddedPg::new(&cluster_dir).unwrap()).await,
        (1, 25)
    );

    // A cluster made by an older PostgreSQL whose binaries are gone: every command says which
    // versions and what to run, and upgrade-db says what to install; nothing is touched.
    let older = (version.parse::<u32>().unwrap() - 1).to_string();
    std::fs::write(cluster_dir.join("PG_VERSION"), format!("{older}\n")).unwrap();
    let (ok, _, err) = command(&data, &["migrate"], "").await;
    assert!(!ok);
    assert!(
        err.contains(&format!("made by PostgreSQL {older}"))
            && err.contains(&format!("newest PostgreSQL installed is {version}"))
            && err.contains("warmline upgrade-db"),
        "{err}"
    );
    let (ok, _, err) = command(&data, &["upgrade-db"], "").await;
    assert!(!ok);
    assert!(
        err.contains(&format!("install PostgreSQL {older}'s server package")),
        "{err}"
    );
    assert!(!data.join("postgres.new").exists());
    std::fs::write(cluster_dir.join("PG_VERSION"), format!("{version}\n")).unwrap();
    assert_eq!(
        counts(EmbeddedPg::new(&cluster_dir).unwrap()).await,
        (1, 25)
    );
}

/// The server binaries of a newer PostgreSQL major version than the packaged one, for the
/// upgrade test: `WARMLINE_NEXT_PG_BINDIR` (`.ci/run` installs them).
fn next_postgres() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("WARMLINE_NEXT_PG_BINDIR")?);
    dir.join("postgres").is_file().then_some(dir)
}

#[tokio::test]
async fn upgrade_db_moves_a_cluster_to_a_newer_major_version_and_keeps_the_old_one() {
    let Some(next_bindir) = next_postgres() else {
        eprintln!(
            "skipped: set WARMLINE_NEXT_PG_BINDIR to a newer PostgreSQL's server binaries (see .ci/run)"
        );
        return;
    };
    let next = warmline::embedded_pg::major_version_of(&next_bindir).unwrap();
    let (dir, data) = embedded_with_data("upgrade-major", 40).await;
    let cluster_dir = data.join("postgres");
    let old = std::fs::read_to_string(cluster_dir.join("PG_VERSION"))
        .unwrap()
        .trim()
        .to_string();
    assert_ne!(
        old, next,
        "the newer PostgreSQL must be another major version"
    );

    // The newer major is "installed": its pg_config comes first on PATH, as a package's would.
    let shims = dir.join("shims");
    std::fs::create_dir_all(&shims).unwrap();
    let pg_config = shims.join("pg_config");
    std::fs::write(
        &pg_config,
        format!("#!/bin/sh\necho '{}'\n", next_bindir.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &pg_config,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        shims.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let with_next = |args: &[&str]| {
        let mut cmd = warmline(&data);
        cmd.env("PATH", &path).args(args);
        crate::common::output_of(cmd, "")
    };

    // Both majors installed: the old cluster still runs on its own version's binaries.
    let (ok, out, err) = with_next(&["migrate"]).await;
    assert!(ok, "{out}{err}");

    let (ok, out, err) = with_next(&["upgrade-db"]).await;
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("from PostgreSQL {old} to {next}")),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(cluster_dir.join("PG_VERSION"))
            .unwrap()
            .trim(),
        next
    );
    let kept: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("postgres.old-{old}-"))
        })
        .collect();
    assert_eq!(kept.len(), 1, "the old cluster is kept");
    assert_eq!(
        std::fs::read_to_string(kept[0].join("PG_VERSION"))
            .unwrap()
            .trim(),
        old
    );
    assert_eq!(
        std::fs::read_dir(data.join("backups")).unwrap().count(),
        1,
        "a backup was taken first"
    );

    // The upgraded cluster serves everything that was there, on the new version.
    let (ok, out, err) = with_next(&["migrate"]).await;
    assert!(ok, "{out}{err}");
    let upgraded = EmbeddedPg::with_bindir(&cluster_dir, next_bindir.clone()).unwrap();
    upgraded
        .start(warmline::embedded_pg::ClusterOptions::default())
        .await
        .unwrap();
    let pool = warmline::db::connect(&upgraded.url("warmline"), 1)
        .await
        .unwrap();
    let (server, contacts): (String, i64) = sqlx::query_as(
        "select current_setting('server_version_num'), (select count(*) from contacts)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(server.starts_with(&next), "{server}");
    assert_eq!(contacts, 40);
    pool.close().await;
    upgraded.stop().await.unwrap();

    // Without the newer binaries, the upgraded cluster is refused with both versions named,
    // and left as it is.
    let (ok, _, err) = command(&data, &["migrate"], "").await;
    assert!(!ok);
    assert!(
        err.contains(&format!("made by PostgreSQL {next}")) && err.contains(&old),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(cluster_dir.join("PG_VERSION"))
            .unwrap()
            .trim(),
        next
    );
}

/// schemathesis (PyPI) against a live `warmline serve` over the demo data, with the demo
/// admin's read-write token: every operation of `/api/openapi.json`, with the checks the API
/// promises (no server error, documented status codes and content types, responses matching
/// their schemas), for at most a minute. A fixed seed makes a run repeatable. Skipped where schemathesis is not
/// installed, except on CI, which installs it.
#[tokio::test]
async fn schemathesis_finds_no_server_error_and_every_response_matches_the_document() {
    let installed = std::process::Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        let message = "schemathesis is not installed (pip install schemathesis): skipped";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("{message}");
        return;
    }
    let dir = temp_dir("schemathesis");
    let data = dir.join("data");
    EmbeddedPg::new(&data.join("postgres"))
        .unwrap()
        .stop_and_remove_after(std::process::id(), &dir)
        .unwrap();
    let (ok, _, stderr) = command(&data, &["demo"], "").await;
    assert!(ok, "{stderr}");
    let (ok, token, stderr) = command(
        &data,
        &[
            "token",
            "create",
            "--email",
            "ada@demo.warmline.example",
            "--name",
            "schemathesis",
        ],
        "",
    )
    .await;
    assert!(ok, "{stderr}");
    let served = serve(&data).await;
    let run = tokio::process::Command::new("schemathesis")
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .args([
            "run",
            &format!("{}/api/openapi.json", served.base),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "-H",
            &format!("Authorization: Bearer {}", token.trim()),
            "--max-examples",
            "25",
            "--seed",
            "20261203",
            "--generation-database",
            "none",
            "--max-time",
            "60",
        ])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(420), run)
        .await
        .expect("schemathesis finished within 7 minutes")
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    // The summary (operations, phases, test cases) shows in the test's output.
    println!("{report}");
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        served.log.lock().unwrap()
    );
    assert!(report.contains("Tested: 36"), "{report}");
    assert!(served.signal_and_wait("TERM").await.success());
}
