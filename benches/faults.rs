//! Faults under load: `warmline serve` (with its embedded PostgreSQL) takes the quick-log form
//! from 32 connections while PostgreSQL is restarted (a fast shutdown, after which Warmline's
//! supervisor starts it again), and then while the server itself gets SIGTERM. For each it
//! prints the asks acknowledged against those written, the answers by status, and how long
//! until asks were acknowledged again (or how long the server took to exit).
//!
//!     cargo bench --bench faults
//!
//! Targets: nothing acknowledged is lost; no 500; service back within a few seconds of the
//! restart; SIGTERM exits 0 promptly.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use warmline::embedded_pg::{ClusterOptions, EmbeddedPg};

const CONNECTIONS: usize = 32;
const PASSWORD: &str = "fault bench password 1";

type Http = Client<HttpConnector, Full<Bytes>>;

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("warmline-bench-faults-{}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let cluster_dir = data.join("postgres");
    let pg = EmbeddedPg::new(&cluster_dir).expect("PostgreSQL server binaries");
    pg.stop_and_remove_after(std::process::id(), &dir).unwrap();

    let mut server = Server::start(&data).await;
    add_rep(&data).await;
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(CONNECTIONS)
        .build_http();
    let session = Session::login(&http, &server.base, "rep@fault.example").await;
    println!("fault benchmark: the quick-log form from {CONNECTIONS} connections, one rep");

    // 1. PostgreSQL restarted under load.
    let load = Load::start(&http, &server.base, &session, Duration::from_secs(15));
    tokio::time::sleep(Duration::from_secs(5)).await;
    let postmaster = pg.postmaster_pid().expect("a running postmaster");
    let fault = Instant::now();
    signal(postmaster, "INT"); // PostgreSQL's fast shutdown; Warmline starts it again.
    let answers = load.finish().await;
    let stored = written(&pg, &answers).await;
    println!("PostgreSQL restarted under load (fast shutdown, started again by the supervisor):");
    report(&answers, stored);
    match recovery(&answers, fault) {
        Some((first, back)) => println!(
            "  first refused answer {:.2} s after the shutdown; asks acknowledged again after {:.2} s",
            first.as_secs_f64(),
            back.as_secs_f64()
        ),
        None => println!("  no answer was refused"),
    }

    // 2. SIGTERM under load.
    let load = Load::start(&http, &server.base, &session, Duration::from_secs(6));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stopping = Instant::now();
    signal(server.child.id().expect("running"), "TERM");
    let status = tokio::time::timeout(Duration::from_secs(60), server.child.wait())
        .await
        .expect("exit within 60 s")
        .unwrap();
    let took = stopping.elapsed();
    let answers = load.finish().await;
    pg.start(ClusterOptions::default()).await.unwrap();
    let stored = written(&pg, &answers).await;
    println!("SIGTERM under load:");
    println!(
        "  exit {} after {:.2} s",
        status
            .code()
            .map_or("by signal".to_string(), |c| c.to_string()),
        took.as_secs_f64()
    );
    report(&answers, stored);
    pg.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A running `warmline serve`.
struct Server {
    child: Child,
    base: String,
}

fn warmline(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warmline"));
    cmd.env("WARMLINE_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .env("WARMLINE_BACKUP_KEEP", "0")
        .env("RUST_LOG", "warn,warmline=info")
        .kill_on_drop(true);
    cmd
}

impl Server {
    async fn start(data: &Path) -> Self {
        let mut child = warmline(data)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run warmline serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut tx = Some(tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(addr) = line.split("listening on ").nth(1)
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.trim().to_string());
                }
            }
        });
        let base = tokio::time::timeout(Duration::from_secs(120), rx)
            .await
            .expect("warmline serve started")
            .unwrap();
        Self { child, base }
    }
}

async fn add_rep(data: &Path) {
    let mut child = warmline(data)
        .args([
            "user",
            "add",
            "--email",
            "rep@fault.example",
            "--name",
            "Fault Rep",
            "--role",
            "rep",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(PASSWORD.as_bytes()).await.unwrap();
    drop(stdin);
    assert!(child.wait().await.unwrap().success(), "user add");
}

/// A signed-in browser: its cookies and CSRF token.
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

/// One request: status, Set-Cookie pairs, Location and body.
async fn send(
    http: &Http,
    method: &str,
    url: &str,
    cookie: &str,
    form: Option<String>,
) -> Result<(u16, Vec<String>, String, String), hyper_util::client::legacy::Error> {
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("cookie", cookie);
    if form.is_some() {
        request = request.header("content-type", "application/x-www-form-urlencoded");
    }
    let request = request
        .body(Full::new(Bytes::from(form.unwrap_or_default())))
        .unwrap();
    let response = http.request(request).await?;
    let status = response.status().as_u16();
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
        .unwrap_or_default();
    Ok((status, cookies, location, body))
}

fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a CSRF token") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

impl Session {
    async fn login(http: &Http, base: &str, email: &str) -> Self {
        let mut jar: BTreeMap<String, String> = BTreeMap::new();
        let remember = |jar: &mut BTreeMap<String, String>, cookies: Vec<String>| {
            for pair in cookies {
                if let Some((k, v)) = pair.split_once('=') {
                    jar.insert(k.to_string(), v.to_string());
                }
            }
        };
        let header = |jar: &BTreeMap<String, String>| {
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let (_, cookies, _, page) = send(http, "GET", &format!("{base}/login"), "", None)
            .await
            .unwrap();
        remember(&mut jar, cookies);
        let form = serde_urlencoded::to_string([
            ("csrf_token", csrf_in(&page).as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .unwrap();
        let (status, cookies, _, _) = send(
            http,
            "POST",
            &format!("{base}/login"),
            &header(&jar),
            Some(form),
        )
        .await
        .unwrap();
        assert_eq!(status, 303, "login");
        remember(&mut jar, cookies);
        let (_, _, _, page) = send(http, "GET", &format!("{base}/"), &header(&jar), None)
            .await
            .unwrap();
        Self {
            cookie: header(&jar),
            csrf: csrf_in(&page),
        }
    }
}

/// One answer to the quick-log form: when it was sent, its status (0: no answer at all) and
/// the ask it acknowledged.
#[derive(Debug, Clone, Copy)]
struct Answer {
    sent: Instant,
    status: u16,
    ask: Option<i64>,
}

/// Workers posting the quick-log form until the time is up (or the server is gone).
struct Load {
    workers: Vec<tokio::task::JoinHandle<Vec<Answer>>>,
}

impl Load {
    fn start(http: &Http, base: &str, session: &Session, run: Duration) -> Self {
        let deadline = Instant::now() + run;
        let session = Arc::new(session.clone());
        let workers = (0..CONNECTIONS)
            .map(|worker| {
                let (http, base, session) = (http.clone(), base.to_string(), session.clone());
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    let mut n = 0;
                    while Instant::now() < deadline {
                        n += 1;
                        let source = format!("Source {worker}-{n}-{}", std::process::id());
                        let form = serde_urlencoded::to_string([
                            ("csrf_token", session.csrf.as_str()),
                            ("source", source.as_str()),
                            ("target", "their CFO"),
                            ("reason", "Expansion"),
                        ])
                        .unwrap();
                        let sent = Instant::now();
                        let answer = send(
                            &http,
                            "POST",
                            &format!("{base}/asks"),
                            &session.cookie,
                            Some(form),
                        )
                        .await;
                        let (status, ask) = match answer {
                            Ok((status, _, location, _)) => (
                                status,
                                location
                                    .strip_prefix("/?logged=")
                                    .and_then(|id| id.split('#').next())
                                    .and_then(|id| id.parse().ok()),
                            ),
                            Err(_) => {
                                // Connection refused while the server is gone: do not spin.
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                (0, None)
                            }
                        };
                        answers.push(Answer { sent, status, ask });
                        if status == 503 {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                    answers
                })
            })
            .collect();
        Self { workers }
    }

    async fn finish(self) -> Vec<Answer> {
        let mut answers = Vec::new();
        for worker in self.workers {
            answers.extend(worker.await.unwrap());
        }
        answers.sort_by_key(|a| a.sent);
        answers
    }
}

/// How many of the acknowledged asks are in the database.
async fn written(pg: &EmbeddedPg, answers: &[Answer]) -> i64 {
    let ids: Vec<i64> = answers.iter().filter_map(|a| a.ask).collect();
    let pool = warmline::db::connect(&pg.url("warmline"), 1).await.unwrap();
    let n = sqlx::query_scalar("select count(*) from referral_asks where ask_id = any($1)")
        .bind(&ids)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

fn report(answers: &[Answer], written: i64) {
    let acknowledged = answers.iter().filter(|a| a.ask.is_some()).count() as i64;
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for a in answers {
        *by_status.entry(a.status).or_default() += 1;
    }
    let mut by_status: Vec<_> = by_status.into_iter().collect();
    by_status.sort();
    let statuses: Vec<String> = by_status
        .iter()
        .map(|(status, n)| match status {
            0 => format!("no answer (connection refused or closed) ×{n}"),
            s => format!("{s} ×{n}"),
        })
        .collect();
    println!(
        "  acknowledged {acknowledged}, written {written} ({} lost)",
        acknowledged - written
    );
    println!("  answers: {}", statuses.join(", "));
}

/// After the fault: when the first request was refused, and when asks were acknowledged again
/// for good (the first success after the last refusal).
fn recovery(answers: &[Answer], fault: Instant) -> Option<(Duration, Duration)> {
    let after: Vec<&Answer> = answers.iter().filter(|a| a.sent >= fault).collect();
    let first = after.iter().position(|a| a.ask.is_none())?;
    let last = after.iter().rposition(|a| a.ask.is_none())?;
    let back = after[last..].iter().find(|a| a.ask.is_some())?;
    Some((after[first].sent - fault, back.sent.duration_since(fault)))
}

fn signal(pid: u32, signal: &str) {
    let ok = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{signal} {pid}");
}
