//! Request counts and latency histograms by matched route, for `/metrics`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Requests by route and method: a count per status class, and latencies.
#[derive(Debug, Default)]
pub struct RequestMetrics {
    routes: Mutex<BTreeMap<(String, String), Route>>,
}

#[derive(Debug, Default, Clone)]
struct Route {
    /// Requests by status class (`2xx` … `5xx`).
    by_status: BTreeMap<&'static str, u64>,
    /// Requests at or below each bucket's bound.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_secs: f64,
}

impl RequestMetrics {
    fn record(&self, route: String, method: String, status: u16, secs: f64) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let r = routes.entry((route, method)).or_default();
        *r.by_status.entry(class).or_default() += 1;
        for (bucket, bound) in r.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *bucket += 1;
            }
        }
        r.count += 1;
        r.sum_secs += secs;
    }

    /// The figures in the Prometheus text format.
    pub fn render(&self) -> String {
        let routes = self
            .routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut out = String::from(
            "# HELP warmline_http_requests_total Requests by matched route, method and status class.\n\
             # TYPE warmline_http_requests_total counter\n",
        );
        for ((route, method), r) in &routes {
            for (class, n) in &r.by_status {
                out.push_str(&format!(
                    "warmline_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{class}\"}} {n}\n"
                ));
            }
        }
        out.push_str(
            "# HELP warmline_http_request_duration_seconds Time to answer, by matched route and method.\n\
             # TYPE warmline_http_request_duration_seconds histogram\n",
        );
        for ((route, method), r) in &routes {
            let labels = format!("route=\"{route}\",method=\"{method}\"");
            for (n, bound) in r.buckets.iter().zip(BUCKETS) {
                out.push_str(&format!(
                    "warmline_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}\n"
                ));
            }
            out.push_str(&format!(
                "warmline_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 warmline_http_request_duration_seconds_sum{{{labels}}} {:.6}\n\
                 warmline_http_request_duration_seconds_count{{{labels}}} {}\n",
                r.count, r.sum_secs, r.count
            ));
        }
        out
    }
}

/// Times each request and records it under its route's pattern (`/contacts/{id}`), so ids do
/// not multiply the series; requests no route matched count as `unmatched`.
pub async fn record_requests(
    State(metrics): State<Arc<RequestMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record(
        route,
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
