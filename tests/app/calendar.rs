//! The calendar feed: what it holds for a rep and a manager, RFC 5545 validity as an
//! independent parser (Python's `icalendar`) reads it, conditional requests, scoping and
//! revocation.

use axum::http::StatusCode;

use crate::common::TestApp;
use crate::common::http::TestResponse;

/// Turns the feed on (or renews it) through Settings and returns its path.
async fn new_feed(app: &TestApp) -> String {
    app.get("/settings").await;
    app.post_form("/settings/calendar", &[("action", "new")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = app.get("/settings").await;
    let marker = "id=\"calendar-url\">";
    let start = page.body.find(marker).expect("the feed's address") + marker.len();
    let url = &page.body[start..start + page.body[start..].find('<').unwrap()];
    let path = &url[url.find("/calendar/").expect("a calendar path")..];
    assert!(path.ends_with(".ics"), "{path}");
    path.to_string()
}

/// The feed's events as Python's `icalendar` reads them: (uid, summary, start, description),
/// or `None` where that parser is not installed (CI installs it).
fn parse_with_icalendar(feed: &str) -> Option<Vec<(String, String, String, String)>> {
    const SCRIPT: &str = r#"
import json, sys
import icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
assert cal.get("VERSION") == "2.0" and cal.get("PRODID"), "VERSION and PRODID are required"
events = []
for e in cal.walk("VEVENT"):
    for required in ("UID", "DTSTAMP", "DTSTART"):
        assert e.get(required) is not None, required
    events.append([str(e["UID"]), str(e["SUMMARY"]), e.decoded("DTSTART").isoformat(), str(e["DESCRIPTION"])])
print(json.dumps(events))
"#;
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(feed.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("No module named 'icalendar'") {
        assert!(
            std::env::var("CI").is_err(),
            "CI installs Python's icalendar (see .ci/run)"
        );
        println!("skipped the independent parse: pip install icalendar");
        return None;
    }
    assert!(
        out.status.success(),
        "icalendar refused the feed: {stderr}\n{feed}"
    );
    Some(serde_json::from_slice(&out.stdout).expect("the script's JSON"))
}

#[track_caller]
fn assert_lines_are_folded(feed: &str) {
    assert!(feed.ends_with("\r\n"));
    for line in feed.split("\r\n") {
        assert!(line.len() <= 75, "a content line over 75 octets: {line:?}");
        assert!(!line.contains('\n'), "a bare line feed in {line:?}");
    }
}

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    // Calendar apps send no cookies: a client with an empty jar.
    app.new_client().get_with(path, headers).await
}

#[tokio::test]
async fn the_feed_lists_open_follow_ups_and_inspections_and_an_independent_parser_reads_it() {
    let app = TestApp::spawn().await;
    let lead = app.login_as_new("lead@example.com", "manager", None).await;
    let rep = app.new_client();
    let rep_id = rep
        .login_as_new("rita@example.com", "rep", Some(lead))
        .await;
    let other = app.new_client();
    other
        .login_as_new("otto@example.com", "rep", Some(lead))
        .await;

    rep.get("/").await;
    rep.post_form(
        "/asks",
        &[
            ("source", "Hugo Lund"),
            ("target", "Petra Krause, CFO; Contoso"),
            ("reason", "Expanding to Hamburg"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    rep.get("/follow-ups").await;
    let long = format!(
        "Send Dana the case study 🤝 {}",
        "and the pricing sheet ".repeat(8)
    );
    for (title, due) in [(long.as_str(), "2999-01-15"), ("Done soon", "2999-01-16")] {
        rep.post_form("/follow-ups", &[("title", title), ("due_on", due)])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        rep.get("/follow-ups").await;
    }
    // A follow-up about a contact whose title does not name them gets their name.
    let hugo: i64 = sqlx::query_scalar("select contact_id from contacts where name = 'Hugo Lund'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    rep.post_form(
        "/follow-ups",
        &[
            ("title", "Send the pricing"),
            ("due_on", "2999-01-20"),
            ("contact_id", &hugo.to_string()),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    rep.get("/follow-ups").await;
    other.get("/follow-ups").await;
    other
        .post_form(
            "/follow-ups",
            &[("title", "Otto's secret"), ("due_on", "2999-02-01")],
        )
        .await;
    app.get(&format!("/dashboard/reps/{rep_id}")).await;
    app.post_form(
        &format!("/dashboard/reps/{rep_id}/coaching"),
        &[
            ("diagnosis", "Few asks to clients"),
            ("committed_action", "Ask three clients this week"),
            ("metric", "asks"),
            ("inspect_on", "2999-03-01"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    let rep_feed = new_feed(&rep).await;
    let res = fetch(&app, &rep_feed, &[]).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(
        res.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    assert!(
        res.header("set-cookie").is_none(),
        "no cookie for a calendar app"
    );
    assert_lines_are_folded(&res.body);
    res.assert_lacks("Otto's secret");
    // The ask's follow-up names the people; the coaching commitment is on the rep's list.
    let events = parse_with_icalendar(&res.body);
    if let Some(events) = &events {
        let summaries: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
        assert!(
            summaries.contains(
                &"Follow up with Hugo Lund about an introduction to Petra Krause, CFO; Contoso"
            ),
            "{summaries:?}"
        );
        assert!(summaries.contains(&long.trim()), "{summaries:?}");
        assert!(summaries.contains(&"Done soon"));
        assert!(
            summaries
                .iter()
                .any(|s| s.contains("Ask three clients this week"))
        );
        assert!(
            summaries.contains(&"Send the pricing (Hugo Lund)"),
            "{summaries:?}"
        );
        assert_eq!(events.len(), 5, "{events:?}");
        let long_event = events.iter().find(|e| e.1 == long.trim()).unwrap();
        assert_eq!(long_event.2, "2999-01-15");
        assert!(
            long_event
                .3
                .contains("http://127.0.0.1:3000/follow-ups#follow-up-"),
            "{long_event:?}"
        );
    }

    // The manager's own feed has the day they will inspect the commitment.
    let lead_feed = new_feed(&app).await;
    let res = fetch(&app, &lead_feed, &[]).await;
    res.assert_contains("DTSTART;VALUE=DATE:29990301")
        .assert_lacks("Otto's secret");
    if let Some(events) = parse_with_icalendar(&res.body) {
        assert_eq!(events.len(), 1, "{events:?}");
        assert!(
            events[0].1.starts_with("Inspect rita’s commitment"),
            "{events:?}"
        );
    }

    // Done and postponed items change the feed on the next fetch; UIDs stay put.
    let first = fetch(&app, &rep_feed, &[]).await;
    let etag = first.header("etag").unwrap().to_string();
    let last_modified = first.header("last-modified").unwrap().to_string();
    assert!(
        last_modified.ends_with(" GMT"),
        "an HTTP date: {last_modified}"
    );
    fetch(&app, &rep_feed, &[("if-none-match", &etag)])
        .await
        .assert_status(StatusCode::NOT_MODIFIED);
    fetch(&app, &rep_feed, &[("if-modified-since", &last_modified)])
        .await
        .assert_status(StatusCode::NOT_MODIFIED);
    let ids: Vec<i64> = sqlx::query_scalar(
        "select follow_up_id from follow_ups where owner_id = $1 and title in ('Done soon') or title like 'Send Dana%' order by due_on",
    )
    .bind(rep_id.0)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    // Seconds are the resolution of Last-Modified.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    rep.get("/follow-ups").await;
    rep.post_form(&format!("/follow-ups/{}/done", ids[1]), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    rep.get("/follow-ups").await;
    rep.post_form(
        &format!("/follow-ups/{}/postpone", ids[0]),
        &[("to", "2999-06-30")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let changed = fetch(&app, &rep_feed, &[("if-none-match", &etag)]).await;
    changed.assert_status(StatusCode::OK);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    fetch(&app, &rep_feed, &[("if-modified-since", &last_modified)])
        .await
        .assert_status(StatusCode::OK);
    changed
        .assert_lacks("SUMMARY:Done soon")
        .assert_contains(&format!("UID:follow-up-{}@127.0.0.1:3000", ids[0]))
        .assert_contains("DTSTART;VALUE=DATE:29990630");
}

#[tokio::test]
async fn a_new_or_revoked_address_makes_the_old_one_answer_404() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    fetch(&app, "/calendar/not-a-real-secret-at-all-not-one.ics", &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let first = new_feed(&app).await;
    fetch(&app, &first, &[]).await.assert_status(StatusCode::OK);
    let second = new_feed(&app).await;
    assert_ne!(first, second);
    fetch(&app, &first, &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    fetch(&app, &second, &[])
        .await
        .assert_status(StatusCode::OK);
    fetch(&app, &second.replace(".ics", ""), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/settings").await;
    app.post_form("/settings/calendar", &[("action", "off")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    fetch(&app, &second, &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/settings")
        .await
        .assert_contains("Create my calendar address");
}
