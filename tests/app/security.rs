//! The holes an outside security test found, each closed: open redirects, spreadsheet formulas
//! in exports, control characters in input, dates at the end of the calendar, spoofed
//! forwarded addresses, throttling that locked real users out, sessions stored for anonymous
//! visitors, imports kept forever, cacheable pages, tokens that outlived a deactivation, and
//! another rep's import answered as "already done".

use axum::http::StatusCode;
use time::OffsetDateTime;

use crate::common::http::TestResponse;
use crate::common::{PASSWORD, TestApp};

/// Logs in from a client address (as a trusted proxy reports it).
async fn login_from(app: &TestApp, email: &str, password: &str, forwarded: &str) -> TestResponse {
    app.get("/login").await;
    app.post_form_with(
        "/login",
        &[("email", email), ("password", password)],
        &[("x-forwarded-for", forwarded)],
    )
    .await
}

async fn behind_proxy() -> TestApp {
    TestApp::spawn_with(|c| c.trust_proxy = true).await
}

#[tokio::test]
async fn redirects_after_login_and_one_click_actions_never_leave_the_site() {
    let app = TestApp::spawn().await;
    let hostile = [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\r\n/evil.example",
        " //evil.example",
        "/é",
    ];
    app.create_user("rep@example.com", "Rep", "rep", None).await;
    for next in hostile {
        let client = app.new_client();
        client.get("/login").await;
        let res = client
            .post_form(
                "/login",
                &[
                    ("email", "rep@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        res.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(res.location(), "/", "next={next:?}");
    }
    // Logged in, the login page forwards to `next` at once: only to a local path.
    app.login("rep@example.com", PASSWORD).await;
    let res = app.get("/login?next=%2F%2Fevil.example").await;
    assert_eq!(res.location(), "/");
    let res = app.get("/login?next=%2Fcontacts%3Fq%3Da").await;
    assert_eq!(res.location(), "/contacts?q=a");
    let tab = app.get("/login?next=%2F%09%2Fevil.example").await;
    assert_eq!(tab.location(), "/");
    // Other control characters are refused at the edge, with a message.
    app.get("/login?next=%2F%01")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("control character");

    let id: i64 = sqlx::query_scalar(
        "insert into follow_ups (owner_id, kind, title, due_on)
         select user_id, 'other', 'Call back', current_date + 3 from users returning follow_up_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    app.get("/follow-ups").await;
    let res = app
        .post_form(
            &format!("/follow-ups/{id}/postpone"),
            &[("by", "day"), ("return_to", "//evil.example")],
        )
        .await;
    assert_eq!(res.location(), "/follow-ups");
    app.get("/follow-ups").await;
    let res = app
        .post_form(
            &format!("/follow-ups/{id}/done"),
            &[("return_to", "/\\evil.example")],
        )
        .await;
    assert_eq!(res.location(), "/follow-ups");
}

#[tokio::test]
async fn every_csv_warmline_writes_defuses_spreadsheet_formulas_and_reads_them_back() {
    let app = TestApp::spawn().await;
    let manager = app.login_as_new("lead@example.com", "manager", None).await;
    let rep = app.new_client();
    let rep_id = rep
        .login_as_new("rep@example.com", "rep", Some(manager))
        .await;
    sqlx::query("update users set name = '=HYPERLINK(\"http://evil.example\")' where user_id = $1")
        .bind(rep_id.0)
        .execute(&app.pool)
        .await
        .unwrap();
    rep.get("/contacts/new").await;
    rep.post_form(
        "/contacts",
        &[
            ("name", "@SUM(1+1)*cmd|' /C calc'!A0"),
            ("company", "=1+2"),
            ("phone", "+1 555 0100"),
            ("title", "-2+3"),
            ("notes", "-stay close"),
            ("kind", "client"),
            ("strength", "3"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    let csv = rep.get("/contacts/export.csv").await;
    csv.assert_status(StatusCode::OK);
    for cell in [
        "'@SUM(1+1)*cmd|' /C calc'!A0",
        "'=1+2",
        "'+1 555 0100",
        "'-2+3",
        "'-stay close",
    ] {
        assert!(csv.body.contains(cell), "{cell:?} in {}", csv.body);
    }
    let dashboard = app.get("/dashboard.csv").await;
    dashboard.assert_status(StatusCode::OK);
    assert!(dashboard.body.contains("'=HYPERLINK"), "{}", dashboard.body);
    assert!(!dashboard.body.contains("\n=HYPERLINK"));

    // The importer takes the prefix off: the export goes back in as the same values, and as
    // duplicates of what is there, so nothing new appears.
    rep.get("/contacts/import").await;
    let upload = rep
        .post_file("/contacts/import", "export.csv", csv.body.as_bytes())
        .await;
    let preview = rep.get(upload.location()).await;
    preview.assert_contains("=1+2").assert_lacks("&#39;=1+2");
}

#[tokio::test]
async fn control_characters_in_any_input_are_refused_with_a_message_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    for path in [
        "/contacts?q=a%00b",
        "/contacts/suggest?q=%00",
        "/asks?q=x%07",
        "/login?next=%01",
        "/dashboard?from=%00",
    ] {
        let res = app.get(path).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("control character");
    }
    app.get("/contacts/new").await;
    for (field, value) in [
        ("name", "Ann\0Lee"),
        ("notes", "bell\x07"),
        ("company", "\x1b[31m"),
    ] {
        let mut fields = vec![("name", "Ann Lee"), ("kind", "client"), ("strength", "3")];
        fields.retain(|(f, _)| *f != field);
        fields.push((field, value));
        let res = app.post_form("/contacts", &fields).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains(&format!("The field “{field}”"));
    }
    assert_eq!(app.count("select count(*) from contacts").await, 0);
    // Tabs and line breaks are ordinary text.
    let res = app
        .post_form(
            "/contacts",
            &[
                ("name", "Ann Lee"),
                ("kind", "client"),
                ("strength", "3"),
                ("notes", "a\tb\r\nc"),
            ],
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);

    let anonymous = app.new_client();
    anonymous.get("/login").await;
    anonymous
        .post_form(
            "/login",
            &[("email", "rep\0@example.com"), ("password", "x")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("select count(*) from login_failures").await, 0);
}

#[tokio::test]
async fn dates_at_the_end_of_the_calendar_are_refused_and_never_overflow() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("rep@example.com", "rep", None).await;
    // A follow-up stored before dates were bounded.
    let id: i64 = sqlx::query_scalar(
        "insert into follow_ups (owner_id, kind, title, due_on) values ($1, 'other', 'Far off', '9999-12-31')
         returning follow_up_id",
    )
    .bind(rep.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    for fields in [
        vec![("by", "day")],
        vec![("by", "week")],
        vec![("to", "9999-12-31")],
        vec![("to", "0001-01-01")],
    ] {
        app.get("/follow-ups").await;
        let res = app
            .post_form(&format!("/follow-ups/{id}/postpone"), &fields)
            .await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("was not moved");
    }
    let due: time::Date = sqlx::query_scalar("select due_on from follow_ups")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(due.year(), 9999);

    app.get("/").await;
    let res = app
        .post_form(
            "/asks",
            &[
                ("source", "Hugo"),
                ("target", "Petra"),
                ("reason", "Growth"),
                ("follow_up_on", "9999-12-31"),
            ],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("between 1900 and 2999");
    app.get("/follow-ups").await;
    app.post_form("/follow-ups", &[("title", "Old"), ("due_on", "0001-01-01")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("between 1900 and 2999");
}

#[tokio::test]
async fn a_spoofed_forwarded_for_entry_does_not_escape_the_throttle() {
    let app = behind_proxy().await;
    app.create_user("rep@example.com", "Rep", "rep", None).await;
    let client = app.new_client();
    for i in 0..5 {
        // The client writes whatever it likes first; the proxy appends the real address.
        let forwarded = format!("10.0.0.{i}, 198.51.100.7");
        login_from(&client, "rep@example.com", "wrong password!", &forwarded)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    login_from(
        &client,
        "rep@example.com",
        "wrong password!",
        "10.9.9.9, 198.51.100.7",
    )
    .await
    .assert_status(StatusCode::TOO_MANY_REQUESTS);
    let addrs: Vec<String> = sqlx::query_scalar("select distinct client_addr from login_failures")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(addrs, ["198.51.100.7"]);

    // With two proxies in front, the client is the second entry from the right.
    let two = TestApp::spawn_with(|c| {
        c.trust_proxy = true;
        c.proxy_hops = 2;
    })
    .await;
    two.create_user("rep@example.com", "Rep", "rep", None).await;
    login_from(
        &two,
        "rep@example.com",
        "wrong password!",
        "6.6.6.6, 198.51.100.8, 10.0.0.1",
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let addr: String = sqlx::query_scalar("select client_addr from login_failures")
        .fetch_one(&two.pool)
        .await
        .unwrap();
    assert_eq!(addr, "198.51.100.8");
}

#[tokio::test]
async fn a_guesser_is_stopped_without_locking_out_the_real_user_or_the_office() {
    let app = behind_proxy().await;
    for who in ["rep", "colleague"] {
        app.create_user(&format!("{who}@example.com"), who, "rep", None)
            .await;
    }
    // The real user has logged in from this browser before.
    let laptop = app.new_client();
    login_from(&laptop, "rep@example.com", PASSWORD, "192.0.2.10")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    laptop.get("/").await;
    laptop
        .post_form("/logout", &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    // An attacker at one address: stopped after five guesses on the account...
    let attacker = app.new_client();
    for _ in 0..5 {
        login_from(
            &attacker,
            "rep@example.com",
            "guess-guess-1",
            "203.0.113.66",
        )
        .await;
    }
    login_from(&attacker, "rep@example.com", PASSWORD, "203.0.113.66")
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    // ...while the real user at another address logs in, and so does a colleague behind the
    // attacker's address (an office shares one).
    login_from(&app.new_client(), "rep@example.com", PASSWORD, "192.0.2.77")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    login_from(
        &app.new_client(),
        "colleague@example.com",
        PASSWORD,
        "203.0.113.66",
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    // Guessing spread over many addresses hits the slower per-account ceiling: a browser the
    // account has never used is turned away, the real user's own browser is not.
    for i in 0..20 {
        login_from(
            &app.new_client(),
            "rep@example.com",
            "guess-guess-2",
            &format!("198.51.100.{i}"),
        )
        .await;
    }
    let stranger = login_from(
        &app.new_client(),
        "rep@example.com",
        PASSWORD,
        "192.0.2.200",
    )
    .await;
    stranger.assert_status(StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = stranger.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry), "Retry-After {retry}");
    login_from(&laptop, "rep@example.com", PASSWORD, "192.0.2.201")
        .await
        .assert_status(StatusCode::SEE_OTHER);

    // One address trying a password on many accounts is stopped too.
    let sprayer = app.new_client();
    let mut last = StatusCode::OK;
    for i in 0..31 {
        last = login_from(
            &sprayer,
            &format!("user{i}@example.com"),
            "Winter2026!",
            "203.0.113.99",
        )
        .await
        .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_anonymous_visit_stores_no_session_and_the_login_form_still_works() {
    let app = TestApp::spawn().await;
    app.create_user("rep@example.com", "Rep", "rep", None).await;
    for _ in 0..50 {
        app.new_client()
            .get("/login")
            .await
            .assert_status(StatusCode::OK);
    }
    let sessions = app
        .count(r#"select count(*) from "tower_sessions"."session""#)
        .await;
    assert_eq!(sessions, 0);
    // The login form's token lives in a cookie of its own; a forged form is still refused.
    let visitor = app.new_client();
    visitor.get("/login").await;
    assert!(visitor.cookie("warmline_csrf").is_some());
    visitor
        .post_form_raw(
            "/login",
            &[
                ("csrf_token", "forged"),
                ("email", "rep@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
    visitor
        .login("rep@example.com", PASSWORD)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(r#"select count(*) from "tower_sessions"."session""#)
            .await,
        1
    );
    // Once logged in, the anonymous token is worthless: the session has its own.
    let anonymous = visitor.cookie("warmline_csrf").unwrap();
    visitor
        .post_form_raw(
            "/settings/sessions/end-others",
            &[("csrf_token", &anonymous)],
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pending_imports_expire_and_one_person_cannot_pile_them_up() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/contacts/import").await;
    let upload = app
        .post_file(
            "/contacts/import",
            "people.vcf",
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nEND:VCARD\r\n",
        )
        .await;
    upload.assert_status(StatusCode::SEE_OTHER);
    app.get("/contacts/import")
        .await
        .assert_contains("Waiting for your review")
        .assert_contains("people.vcf");
    // A day later the sweeper has deleted it.
    let later = OffsetDateTime::now_utc() + time::Duration::hours(25);
    let report = warmline::sweeper::sweep(&app.pool, later, std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(report.imports_expired, 1);
    app.get(upload.location())
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // Files waiting for review are capped per person.
    sqlx::query(
        "insert into contact_imports (owner_id, file_name, format, content)
         select $1, 'big.csv', 'csv', repeat('x', 20 * 1024 * 1024) from generate_series(1, 3)",
    )
    .bind(rep.0)
    .execute(&app.pool)
    .await
    .unwrap();
    app.get("/contacts/import").await;
    app.post_file("/contacts/import", "more.csv", b"Name\nAnn Lee\n")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Import or discard them");
    assert_eq!(app.count("select count(*) from contact_imports").await, 3);
}

#[tokio::test]
async fn signed_in_pages_and_exports_are_never_cached_and_features_are_switched_off() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    for path in [
        "/",
        "/settings",
        "/contacts",
        "/contacts/export.csv",
        "/contacts/export.vcf",
        "/follow-ups",
    ] {
        let res = app.get(path).await;
        res.assert_status(StatusCode::OK);
        assert_eq!(res.header("cache-control"), Some("no-store"), "{path}");
        let policy = res.header("permissions-policy").unwrap_or_default();
        assert!(policy.contains("camera=()"), "{path}: {policy}");
    }
    app.get("/settings").await;
    let token_page = app
        .post_form("/settings/tokens", &[("name", "script")])
        .await;
    assert_eq!(token_page.header("cache-control"), Some("no-store"));
    // Static files stay cacheable.
    let css = app.get("/static/app.css").await;
    assert_ne!(css.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn deactivating_a_user_revokes_their_api_tokens_for_good() {
    let app = TestApp::spawn().await;
    app.login_as_new("admin@example.com", "admin", None).await;
    let rep = app.create_user("rep@example.com", "Rep", "rep", None).await;
    let token = warmline::accounts::service::issue_token(
        &app.pool,
        None,
        rep,
        "sync",
        warmline::domain::users::TokenAccess::ReadWrite,
    )
    .await
    .unwrap();
    let bearer = format!("Bearer {token}");
    let me = || async {
        app.new_client()
            .get_with("/api/v1/me", &[("authorization", &bearer)])
            .await
            .status
    };
    assert_eq!(me().await, StatusCode::OK);
    app.get(&format!("/team/{rep}")).await;
    app.post_form(&format!("/team/{rep}/deactivate"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(me().await, StatusCode::UNAUTHORIZED);
    app.get(&format!("/team/{rep}")).await;
    app.post_form(&format!("/team/{rep}/reactivate"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(me().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("select count(*) from api_tokens where revoked_at is null")
            .await,
        0
    );
}

#[tokio::test]
async fn another_reps_import_is_not_found_and_a_second_commit_is_already_done() {
    let app = TestApp::spawn().await;
    app.login_as_new("alice@example.com", "rep", None).await;
    let bob = app.new_client();
    bob.login_as_new("bob@example.com", "rep", None).await;
    app.get("/contacts/import").await;
    let upload = app
        .post_file(
            "/contacts/import",
            "people.csv",
            b"Name,Email\nAnn Lee,ann@example.com\n",
        )
        .await;
    let preview = upload.location().to_string();
    bob.get("/contacts").await;
    for action in ["commit", "discard"] {
        bob.post_form(&format!("{preview}/{action}"), &[])
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    bob.get(&preview).await.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.count("select count(*) from contact_imports").await, 1);

    app.get(&preview).await;
    app.post_form(&format!("{preview}/commit"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get("/contacts").await;
    let again = app.post_form(&format!("{preview}/commit"), &[]).await;
    again.assert_status(StatusCode::SEE_OTHER);
    app.get(again.location())
        .await
        .assert_contains("That import was already done.");
    // Bob still gets nothing.
    bob.get("/contacts").await;
    bob.post_form(&format!("{preview}/commit"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
