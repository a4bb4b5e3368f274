//! Overload: a rep's contact list (5,000 contacts) requested over real sockets by 32 and then
//! 256 connections at once, each sending its next request as soon as the last is answered,
//! with admission control as shipped and with it switched off, side by side in one run.
//! Prints, for each, the answers per second, how many were admitted and refused (503), the
//! admitted requests' p50/p99 and the slowest answer of all.
//!
//!     cargo bench --bench overload
//!
//! Target: at 256 connections the admitted p99 is within 2x the 32-connection p99, and no
//! answer takes longer than the request timeout. Clients that wait as `Retry-After` asks are
//! the target's case; clients that send again at once are measured too (the load generator
//! runs on the same cores, so their refusals take CPU from the admitted requests).

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use warmline::config::Config;
use warmline::state::AppState;

const CONTACTS: i64 = 5_000;
const RUN: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() {
    let (_pg, pool, url) = support::database("overload").await;
    let rep = support::add_rep(&pool).await;
    sqlx::query(
        "insert into contacts (owner_id, name, company, email)
         select $1, 'Contact ' || i, 'Company ' || (i % 400), 'c' || i || '@bench.example'
         from generate_series(1, $2) as i",
    )
    .bind(rep.0)
    .bind(CONTACTS)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("vacuum analyze contacts")
        .execute(&pool)
        .await
        .unwrap();
    let timeout = Config::for_database(None).request_timeout();
    println!(
        "overload benchmark: GET /contacts of a rep with {CONTACTS} contacts, {RUN:?} per run, pool of 10, request timeout {timeout:?}"
    );
    for (label, limit, patient) in [
        (
            "admission control on (20 in flight), clients wait Retry-After after a 503",
            0,
            true,
        ),
        (
            "admission control on (20 in flight), clients retry at once after a 503",
            0,
            false,
        ),
        ("admission control off", 100_000, false),
    ] {
        println!("{label}:");
        let mut config = Config::for_database(Some(url.clone()));
        config.max_in_flight = limit;
        let router = warmline::app(AppState::new(pool.clone(), config));
        let cookie = {
            let client =
                support::Client::login(router.clone(), "rep@bench.example", support::PASSWORD)
                    .await;
            client.cookie_header()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let mut p99_at_32 = None;
        for connections in [32, 256] {
            let run = load(addr, &cookie, connections, patient).await;
            run.print(connections);
            if connections == 32 {
                p99_at_32 = run.admitted_p99();
            } else if let (Some(base), Some(high)) = (p99_at_32, run.admitted_p99()) {
                println!(
                    "    admitted p99 at 256 / at 32: {:.2}x (target ≤ 2x); slowest answer {} (limit {timeout:?})",
                    high.as_secs_f64() / base.as_secs_f64().max(1e-6),
                    support::secs(run.slowest()),
                );
            }
        }
        server.abort();
    }
}

/// The answers of one run: status and time taken of each.
struct Run {
    answers: Vec<(u16, Duration)>,
    elapsed: Duration,
}

impl Run {
    fn admitted(&self) -> Vec<Duration> {
        let mut admitted: Vec<Duration> = self
            .answers
            .iter()
            .filter(|(status, _)| *status != 503)
            .map(|(_, took)| *took)
            .collect();
        admitted.sort_unstable();
        admitted
    }

    fn admitted_p99(&self) -> Option<Duration> {
        percentile(&self.admitted(), 0.99)
    }

    fn slowest(&self) -> Duration {
        self.answers
            .iter()
            .map(|(_, took)| *took)
            .max()
            .unwrap_or_default()
    }

    fn print(&self, connections: usize) {
        let admitted = self.admitted();
        let refused = self.answers.iter().filter(|(s, _)| *s == 503).count();
        let other: Vec<u16> = self
            .answers
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| *s != 200 && *s != 503)
            .collect();
        let show = |d: Option<Duration>| d.map_or("-".to_string(), support::secs);
        println!(
            "  {connections:>3} connections: {:.0} answers/s; {} admitted ({:.0}/s), {refused} refused with 503, {} other; admitted p50 {}, p99 {}, slowest answer {}",
            self.answers.len() as f64 / self.elapsed.as_secs_f64(),
            admitted.len(),
            admitted.len() as f64 / self.elapsed.as_secs_f64(),
            other.len(),
            show(percentile(&admitted, 0.5)),
            show(percentile(&admitted, 0.99)),
            support::secs(self.slowest()),
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// `connections` clients, each requesting the list again as soon as it is answered; after a
/// 503 a `patient` client first waits as long as its `Retry-After` says, as the header asks
/// (an impatient one, a client that hammers, sends again at once).
async fn load(addr: SocketAddr, cookie: &str, connections: usize, patient: bool) -> Run {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build_http();
    let started = Instant::now();
    let deadline = started + RUN;
    let mut workers = Vec::new();
    for _ in 0..connections {
        let client = client.clone();
        let cookie = cookie.to_string();
        workers.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            while Instant::now() < deadline {
                let request = hyper::Request::get(format!("http://{addr}/contacts"))
                    .header("cookie", &cookie)
                    .body(Empty::new())
                    .unwrap();
                let sent = Instant::now();
                let Ok(response) = client.request(request).await else {
                    answers.push((0, sent.elapsed()));
                    continue;
                };
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                let _ = response.into_body().collect().await;
                answers.push((status, sent.elapsed()));
                if let (true, 503, Some(secs)) = (patient, status, retry_after) {
                    let until = (Instant::now() + Duration::from_secs(secs)).min(deadline);
                    tokio::time::sleep_until(until.into()).await;
                }
            }
            answers
        }));
    }
    let mut answers = Vec::new();
    for worker in workers {
        answers.extend(worker.await.unwrap());
    }
    Run {
        answers,
        elapsed: started.elapsed(),
    }
}
