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
use crate::common::temp_dir;

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
    let mut child = warmline(data_dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
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

fn postmaster_pid(cluster: &Path) -> Option<u32> {
    std::fs::read_to_string(cluster.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
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
    assert!(postmaster_pid(&cluster_dir).is_none());

    // A restart reuses the cluster and its data.
    let again = serve(&data).await;
    let (status, _) = get_url(&format!("{}/readyz", again.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count_markers(&pg).await, 1);

    // A crash of both Warmline and PostgreSQL leaves a stale postmaster.pid behind ...
    let postmaster = postmaster_pid(&cluster_dir).expect("postmaster.pid while running");
    send_signal(again.pid(), "KILL");
    send_signal(postmaster, "KILL");
    let mut again = again;
    again.child.wait().await.unwrap();
    assert!(
        postmaster_pid(&cluster_dir).is_some(),
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
