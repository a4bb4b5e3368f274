//! The layers every request passes: error pages, limits, headers, assets, flash messages.

use axum::http::StatusCode;

use crate::common::TestApp;

#[tokio::test]
async fn an_unknown_path_renders_the_not_found_page() {
    let app = TestApp::spawn().await;
    let res = app.get("/no/such/page").await;
    res.assert_status(StatusCode::NOT_FOUND)
        .assert_contains("<h1>Not Found</h1>")
        .assert_contains("Back to the start page");
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
}

#[tokio::test]
async fn an_unknown_api_path_answers_problem_json() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/nothing").await;
    res.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    let problem: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(problem["status"], 404);
    assert_eq!(problem["title"], "Not Found");
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413_with_a_page() {
    let app = TestApp::spawn_with(|c| c.body_limit = 1024).await;
    app.get("/setup").await;
    let res = app
        .post_raw(
            "/login",
            "application/x-www-form-urlencoded",
            vec![b'a'; 4096],
        )
        .await;
    res.assert_status(StatusCode::PAYLOAD_TOO_LARGE)
        .assert_contains("larger than this server accepts");
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));

    // Beyond anything any route takes, the body is refused before it is read.
    let huge = app
        .post_raw(
            "/login",
            "application/x-www-form-urlencoded",
            vec![b'a'; 22 * 1024 * 1024],
        )
        .await;
    huge.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_wrong_method_gets_405_and_keeps_the_allow_header() {
    let app = TestApp::spawn().await;
    let res = app.post_raw("/healthz", "text/plain", Vec::new()).await;
    res.assert_status(StatusCode::METHOD_NOT_ALLOWED)
        .assert_contains("Method Not Allowed");
    assert!(res.header("allow").is_some_and(|v| v.contains("GET")));
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    let res = app.get("/setup").await;
    res.assert_status(StatusCode::OK);
    let csp = res.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(res.header("referrer-policy"), Some("same-origin"));
    assert_eq!(res.header("x-request-id").map(str::len), Some(36));
}

#[tokio::test]
async fn a_request_id_sent_by_a_proxy_is_kept() {
    let app = TestApp::spawn().await;
    let res = app
        .get_with("/healthz", &[("x-request-id", "abc-123")])
        .await;
    assert_eq!(res.header("x-request-id"), Some("abc-123"));
}

#[tokio::test]
async fn pages_link_their_stylesheet_and_script_from_this_server() {
    let app = TestApp::spawn().await;
    let res = app.get("/setup").await;
    res.assert_status(StatusCode::OK)
        .assert_contains("/static/app.css?v=")
        .assert_contains("/static/htmx-2.0.11.min.js?v=")
        .assert_lacks("<script>")
        .assert_lacks("style=");
}

#[tokio::test]
async fn static_files_are_cached_and_revalidated_with_an_etag() {
    let app = TestApp::spawn().await;
    let res = app.get("/static/app.css").await;
    res.assert_status(StatusCode::OK).assert_contains(":root");
    assert_eq!(res.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(res.header("cache-control"), Some("public, max-age=86400"));
    let etag = res.header("etag").unwrap().to_string();

    let again = app
        .get_with("/static/app.css", &[("if-none-match", &etag)])
        .await;
    again.assert_status(StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    app.get("/static/../Cargo.toml")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/static/secret.txt")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let res = app
        .get_with("/static/htmx-2.0.11.min.js", &[("accept-encoding", "gzip")])
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
}

#[tokio::test]
async fn a_flash_message_is_shown_once_and_escaped() {
    let app = TestApp::spawn().await;
    let redirect = warmline::web::redirect_with_flash(
        "/setup",
        warmline::web::FlashKind::Success,
        "Saved <b>it</b>",
    );
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    let cookie = redirect.headers()["set-cookie"].to_str().unwrap();
    let pair = cookie.split(';').next().unwrap();

    let page = app.get_with("/setup", &[("cookie", pair)]).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("flash-success")
        .assert_contains("Saved &#60;b&#62;it&#60;/b&#62;")
        .assert_lacks("<b>it</b>");
    let cleared = page.header_all("set-cookie");
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("warmline_flash=;") && c.contains("Max-Age=0")),
        "the flash cookie is expired once shown: {cleared:?}"
    );

    // A stylesheet request does not swallow a flash before the page shows it.
    let css = app.get_with("/static/app.css", &[("cookie", pair)]).await;
    assert!(css.header_all("set-cookie").is_empty());
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern_with_latency_histograms() {
    let app = TestApp::spawn().await;
    for id in [1, 2, 3] {
        app.get(&format!("/contacts/{id}")).await;
    }
    app.get("/no/such/page").await;
    let metrics = app.get("/metrics").await;
    metrics
        .assert_status(StatusCode::OK)
        .assert_contains(
            "warmline_http_requests_total{route=\"/contacts/{id}\",method=\"GET\",status=\"3xx\"} 3",
        )
        .assert_contains("warmline_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"4xx\"} 1")
        .assert_contains(
            "warmline_http_request_duration_seconds_count{route=\"/contacts/{id}\",method=\"GET\"} 3",
        )
        .assert_contains("warmline_db_pool_in_use_connections")
        .assert_lacks("/contacts/1\"");
}

/// A log writer the test can read back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_request_span_names_the_route_pattern_and_the_service_call() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("warmline=info,tower_http=debug")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    app.get("/contacts/987654")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/no/such/page")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("route=/contacts/{id} path=/contacts/987654"),
        "{text}"
    );
    assert!(
        text.contains("route=unmatched path=/no/such/page"),
        "{text}"
    );
    // The contact page called the contacts service, in the request's span.
    assert!(
        text.contains("request.id=")
            && text.contains("}:visible: warmline::contacts::service: close"),
        "{text}"
    );
}
