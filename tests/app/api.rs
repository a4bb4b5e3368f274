//! The JSON API: what a rep and a manager do on the pages, through bearer tokens, with the
//! pages' rules and messages, the pages' scoping (a foreign record is 404), tokens that only
//! read, idempotent creates and cursor pagination.

use axum::http::StatusCode;
use serde_json::{Value, json};
use warmline::accounts::service::issue_token;
use warmline::domain::users::{TokenAccess, UserId};

use crate::common::TestApp;

async fn token(app: &TestApp, user: UserId, access: TokenAccess) -> String {
    issue_token(&app.pool, None, user, "test", access)
        .await
        .unwrap()
}

/// The `field`s of a 422 problem's `errors` list, with their messages.
fn field_errors(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list in {body}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_rep_logs_an_ask_moves_it_along_and_works_through_the_follow_ups() {
    let app = TestApp::spawn().await;
    let rep = app
        .create_user("rita@example.com", "Rita Rep", "rep", None)
        .await;
    let t = token(&app, rep, TokenAccess::ReadWrite).await;

    // The quick log: a new source by name, a described target.
    let res = app
        .api(
            "POST",
            "/api/v1/asks",
            &t,
            Some(json!({ "source": "Dana Fox", "target": "the CFO of Contoso", "reason": "Expanding to Berlin", "channel": "phone" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::CREATED);
    let ask = res.json();
    let id = ask["id"].as_i64().unwrap();
    assert_eq!(res.location(), format!("/api/v1/asks/{id}"));
    assert_eq!(ask["source"]["name"], "Dana Fox");
    assert_eq!(ask["target_description"], "the CFO of Contoso");
    assert_eq!(
        (ask["stage"].as_str(), ask["channel"].as_str()),
        (Some("asked"), Some("phone"))
    );
    assert_eq!(
        app.count("select count(*) from contacts where name = 'Dana Fox'")
            .await,
        1
    );

    // The same rules and messages as the quick form.
    let res = app
        .api(
            "POST",
            "/api/v1/asks",
            &t,
            Some(json!({ "source": "Dana Fox", "target": "someone", "reason": " ", "channel": "pigeon", "asked_on": "2999-01-01" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    let errors = field_errors(&res.json());
    assert!(errors.contains(&(
        "reason".into(),
        "Why this introduction? One line on the business reason.".into()
    )));
    assert!(errors.iter().any(|(f, _)| f == "channel"));
    assert!(errors.iter().any(|(f, _)| f == "asked_on"));
    // Unknown members are refused, not ignored.
    app.api(
        "POST",
        "/api/v1/asks",
        &t,
        Some(json!({ "source": "Dana Fox", "target": "x", "reason": "y", "colour": "red" })),
        &[],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("select count(*) from referral_asks").await, 1);

    // An event moves the ask; a move the flow refuses says why.
    let events = format!("/api/v1/asks/{id}/events");
    let res = app
        .api(
            "POST",
            &events,
            &t,
            Some(json!({ "kind": "won", "amount": 1200 })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        field_errors(&res.json())
            .iter()
            .any(|(f, m)| f == "kind" && m.contains("introduction"))
    );
    let res = app
        .api(
            "POST",
            &events,
            &t,
            Some(json!({ "kind": "introduced", "note": "by e-mail" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(res.json()["stage"], "introduced");

    // PATCH changes only what is sent.
    let res = app
        .api(
            "PATCH",
            &format!("/api/v1/asks/{id}"),
            &t,
            Some(json!({ "reason": "Opening a Berlin office" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(
        (
            res.json()["reason"].as_str(),
            res.json()["channel"].as_str()
        ),
        (Some("Opening a Berlin office"), Some("phone"))
    );

    // The introduction created a thank-you and a contact-the-prospect follow-up.
    let res = app
        .api("GET", "/api/v1/follow-ups?status=open", &t, None, &[])
        .await;
    res.assert_status(StatusCode::OK);
    let open = res.json()["items"].as_array().unwrap().clone();
    let titles: Vec<&str> = open.iter().map(|f| f["title"].as_str().unwrap()).collect();
    assert!(
        titles.contains(&"Thank Dana Fox for the introduction to the CFO of Contoso"),
        "{titles:?}"
    );
    let thank = open.iter().find(|f| f["kind"] == "thank_source").unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .api(
            "POST",
            &format!("/api/v1/follow-ups/{thank}/done"),
            &t,
            None,
            &[],
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["done"], true);
    let res = app
        .api("GET", "/api/v1/follow-ups?status=done", &t, None, &[])
        .await;
    assert!(
        res.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == thank)
    );

    // A promise by hand, then postponed; a postpone of a done item is a conflict.
    let res = app
        .api(
            "POST",
            "/api/v1/follow-ups",
            &t,
            Some(json!({ "title": "Send Dana the case study", "due_on": "2999-06-01" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::CREATED);
    let promise = res.json()["id"].as_i64().unwrap();
    assert_eq!(res.json()["kind"], "promise");
    let res = app
        .api(
            "POST",
            &format!("/api/v1/follow-ups/{promise}/postpone"),
            &t,
            Some(json!({ "by": "week" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["due_on"], "2999-06-08");
    let res = app
        .api(
            "POST",
            &format!("/api/v1/follow-ups/{thank}/postpone"),
            &t,
            Some(json!({ "by": "day" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    let res = app
        .api(
            "POST",
            &format!("/api/v1/follow-ups/{promise}/postpone"),
            &t,
            Some(json!({ "to": "2001-01-01" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&res.json())[0].0, "to");
    app.api("GET", "/api/v1/follow-ups?status=someday", &t, None, &[])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_foreign_record_is_not_found_a_manager_sees_the_team_and_a_read_token_cannot_write() {
    let app = TestApp::spawn().await;
    let lead = app
        .create_user("lead@example.com", "Lea Lead", "manager", None)
        .await;
    let rita = app
        .create_user("rita@example.com", "Rita Rep", "rep", Some(lead))
        .await;
    let sam = app
        .create_user("sam@example.com", "Sam Rep", "rep", None)
        .await;
    let rita_t = token(&app, rita, TokenAccess::ReadWrite).await;
    let sam_t = token(&app, sam, TokenAccess::ReadWrite).await;
    let lead_t = token(&app, lead, TokenAccess::ReadOnly).await;

    let res = app
        .api("POST", "/api/v1/contacts", &rita_t, Some(json!({ "name": "Hugo Lund", "kind": "client", "strength": 4, "email": "hugo@example.com" })), &[])
        .await;
    res.assert_status(StatusCode::CREATED);
    let hugo = res.json()["id"].as_i64().unwrap();
    assert_eq!(res.json()["strength"], 4);
    let ask = app
        .api(
            "POST",
            "/api/v1/asks",
            &rita_t,
            Some(json!({ "source_contact_id": hugo, "target": "a CFO", "reason": "Growth" })),
            &[],
        )
        .await;
    ask.assert_status(StatusCode::CREATED);
    let ask = ask.json()["id"].as_i64().unwrap();

    // Another rep's records answer 404, reading or writing, and nothing changes.
    for (method, path, body) in [
        ("GET", format!("/api/v1/contacts/{hugo}"), None),
        (
            "PATCH",
            format!("/api/v1/contacts/{hugo}"),
            Some(json!({ "name": "Mine now" })),
        ),
        ("POST", format!("/api/v1/contacts/{hugo}/archive"), None),
        ("GET", format!("/api/v1/contacts/{hugo}/introducers"), None),
        ("GET", format!("/api/v1/asks/{ask}"), None),
        (
            "PATCH",
            format!("/api/v1/asks/{ask}"),
            Some(json!({ "reason": "x" })),
        ),
        (
            "POST",
            format!("/api/v1/asks/{ask}/events"),
            Some(json!({ "kind": "introduced" })),
        ),
    ] {
        let res = app.api(method, &path, &sam_t, body, &[]).await;
        assert_eq!(
            res.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            res.body
        );
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
    }
    // Sam cannot log an ask through Rita's contact either: it is no contact of his.
    let res = app
        .api(
            "POST",
            "/api/v1/asks",
            &sam_t,
            Some(json!({ "source_contact_id": hugo, "target": "a CFO", "reason": "Growth" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let sam_list = app
        .api("GET", "/api/v1/asks", &sam_t, None, &[])
        .await
        .json();
    assert_eq!(sam_list["items"].as_array().unwrap().len(), 0);

    // The manager sees the report's ask and contact, read-only token and all...
    let res = app
        .api("GET", &format!("/api/v1/asks/{ask}"), &lead_t, None, &[])
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["rep_name"], "Rita Rep");
    app.api(
        "GET",
        &format!("/api/v1/contacts/{hugo}"),
        &lead_t,
        None,
        &[],
    )
    .await
    .assert_status(StatusCode::OK);
    // ...but a read-only token writes nothing: 403 before anything runs.
    for (method, path, body) in [
        (
            "POST",
            "/api/v1/contacts".to_string(),
            Some(json!({ "name": "Ida" })),
        ),
        (
            "POST",
            "/api/v1/asks".to_string(),
            Some(json!({ "source": "Ida", "target": "x", "reason": "y" })),
        ),
        (
            "PATCH",
            format!("/api/v1/asks/{ask}"),
            Some(json!({ "reason": "x" })),
        ),
        (
            "POST",
            "/api/v1/follow-ups".to_string(),
            Some(json!({ "title": "x", "due_on": "2999-01-01" })),
        ),
    ] {
        let res = app.api(method, &path, &lead_t, body, &[]).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            res.body
        );
        assert!(res.body.contains("only read"), "{}", res.body);
    }
    assert_eq!(app.count("select count(*) from contacts").await, 1);
    assert_eq!(
        app.count("select count(*) from referral_asks where reason <> 'Growth'")
            .await,
        0
    );
    // A duplicate e-mail is the page's field message.
    let res = app
        .api(
            "POST",
            "/api/v1/contacts",
            &rita_t,
            Some(json!({ "name": "Hugo Two", "email": "HUGO@example.com" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_errors(&res.json()),
        vec![(
            "email".to_string(),
            "Another of your contacts has this e-mail address.".to_string()
        )]
    );
    // A control character PostgreSQL cannot store is refused at the edge, naming the member.
    let res = app
        .api(
            "POST",
            "/api/v1/contacts",
            &rita_t,
            Some(json!({ "name": "Nul\u{0}Byte", "notes": "ok" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.body.contains("“name”") && res.body.contains("U+0000"),
        "{}",
        res.body
    );
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert_eq!(app.count("select count(*) from contacts").await, 1);
    // No token, or a revoked one: 401.
    let res = app
        .api("GET", "/api/v1/asks", "wl_nonsense", None, &[])
        .await;
    res.assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_create_repeated_with_its_idempotency_key_returns_the_first_result() {
    let app = TestApp::spawn().await;
    let rep = app
        .create_user("rita@example.com", "Rita Rep", "rep", None)
        .await;
    let t = token(&app, rep, TokenAccess::ReadWrite).await;
    let body = json!({ "source": "Dana Fox", "target": "the CFO", "reason": "Growth" });
    let key = [("idempotency-key", "7f0c3c1e-retry-1")];

    let first = app
        .api("POST", "/api/v1/asks", &t, Some(body.clone()), &key)
        .await;
    first.assert_status(StatusCode::CREATED);
    let again = app
        .api("POST", "/api/v1/asks", &t, Some(body.clone()), &key)
        .await;
    again.assert_status(StatusCode::CREATED);
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.location(), first.location());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.count("select count(*) from referral_asks").await, 1);
    assert_eq!(app.count("select count(*) from contacts").await, 1);

    // The same key for something else is refused; a new key logs a second ask.
    let other = json!({ "source": "Dana Fox", "target": "the CEO", "reason": "Growth" });
    let res = app
        .api("POST", "/api/v1/asks", &t, Some(other.clone()), &key)
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&res.json())[0].0, "Idempotency-Key");
    app.api(
        "POST",
        "/api/v1/asks",
        &t,
        Some(other),
        &[("idempotency-key", "second")],
    )
    .await
    .assert_status(StatusCode::CREATED);
    assert_eq!(app.count("select count(*) from referral_asks").await, 2);

    // A create that fails gives its key up: fixed and sent again with it, it runs.
    let key = [("idempotency-key", "contact-1")];
    app.api(
        "POST",
        "/api/v1/contacts",
        &t,
        Some(json!({ "name": "" })),
        &key,
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    app.api(
        "POST",
        "/api/v1/contacts",
        &t,
        Some(json!({ "name": "" })),
        &key,
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    // Another user's identical key is their own.
    let sam = app
        .create_user("sam@example.com", "Sam Rep", "rep", None)
        .await;
    let sam_t = token(&app, sam, TokenAccess::ReadWrite).await;
    let res = app
        .api(
            "POST",
            "/api/v1/asks",
            &sam_t,
            Some(body),
            &[("idempotency-key", "7f0c3c1e-retry-1")],
        )
        .await;
    res.assert_status(StatusCode::CREATED);
    assert_ne!(res.json()["id"], first.json()["id"]);
    assert_eq!(res.header("idempotent-replayed"), None);
}

#[tokio::test]
async fn lists_page_by_cursor_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let rep = app
        .create_user("rita@example.com", "Rita Rep", "rep", None)
        .await;
    let t = token(&app, rep, TokenAccess::ReadWrite).await;
    let names = ["Ada", "bea", "Cem", "Dov", "Eli", "Fay", "gus"];
    for name in names {
        app.api(
            "POST",
            "/api/v1/contacts",
            &t,
            Some(json!({ "name": name })),
            &[],
        )
        .await
        .assert_status(StatusCode::CREATED);
        app.api(
            "POST",
            "/api/v1/asks",
            &t,
            Some(json!({ "source": name, "target": "a CFO", "reason": "Growth" })),
            &[],
        )
        .await
        .assert_status(StatusCode::CREATED);
    }
    for list in ["/api/v1/contacts", "/api/v1/asks", "/api/v1/follow-ups"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                None => format!("{list}?limit=3"),
                Some(c) => format!("{list}?limit=3&cursor={c}"),
            };
            let page = app.api("GET", &path, &t, None, &[]).await;
            page.assert_status(StatusCode::OK);
            let page = page.json();
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 3);
            seen.extend(items.iter().map(|i| i["id"].as_i64().unwrap()));
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((seen.len(), unique.len(), pages), (7, 7, 3), "{list}");
    }
    // Contacts come alphabetically, whatever the case.
    let page = app
        .api("GET", "/api/v1/contacts?limit=200", &t, None, &[])
        .await
        .json();
    let got: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, names);
    // A bad limit or cursor says which parameter.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("cursor=bm9wZQ", "cursor"),
        ("cursor=%25%25", "cursor"),
    ] {
        let res = app
            .api("GET", &format!("/api/v1/asks?{query}"), &t, None, &[])
            .await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_errors(&res.json())[0].0, field, "{query}");
    }
}

#[tokio::test]
async fn an_ambiguous_or_overasked_source_comes_back_with_what_to_choose() {
    let app = TestApp::spawn().await;
    let rep = app
        .create_user("rita@example.com", "Rita Rep", "rep", None)
        .await;
    let t = token(&app, rep, TokenAccess::ReadWrite).await;
    for email in ["one@example.com", "two@example.com"] {
        app.api(
            "POST",
            "/api/v1/contacts",
            &t,
            Some(json!({ "name": "Jo Park", "email": email })),
            &[],
        )
        .await
        .assert_status(StatusCode::CREATED);
    }
    let res = app
        .api(
            "POST",
            "/api/v1/asks",
            &t,
            Some(json!({ "source": "Jo Park", "target": "a CFO", "reason": "Growth" })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let problem = res.json();
    assert_eq!(problem["source_choices"].as_array().unwrap().len(), 2);
    let jo = problem["source_choices"][0]["id"].as_i64().unwrap();
    // Chosen by id, the source takes four asks; the fifth in the window asks to confirm.
    for n in 0..5 {
        let res = app
            .api("POST", "/api/v1/asks", &t, Some(json!({ "source_contact_id": jo, "target": format!("CFO {n}"), "reason": "Growth" })), &[])
            .await;
        if n < 4 {
            res.assert_status(StatusCode::CREATED);
        } else {
            res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            let problem = res.json();
            assert_eq!(problem["connector_load"], 4);
            assert_eq!(field_errors(&problem)[0].0, "confirm_load");
        }
    }
    app.api("POST", "/api/v1/asks", &t, Some(json!({ "source_contact_id": jo, "target": "CFO 4", "reason": "Growth", "confirm_load": true })), &[])
        .await
        .assert_status(StatusCode::CREATED);
    assert_eq!(app.count("select count(*) from referral_asks").await, 5);
}

#[tokio::test]
async fn the_dashboard_gives_a_manager_the_pages_figures_and_refuses_a_rep() {
    let app = TestApp::spawn().await;
    let lead = app
        .create_user("lead@example.com", "Lea Lead", "manager", None)
        .await;
    let rita = app
        .create_user("rita@example.com", "Rita Rep", "rep", Some(lead))
        .await;
    let stranger = app
        .create_user("sam@example.com", "Sam Rep", "rep", None)
        .await;
    let rita_t = token(&app, rita, TokenAccess::ReadWrite).await;
    let lead_t = token(&app, lead, TokenAccess::ReadOnly).await;
    for (n, source) in ["Ada", "Bea", "Ada"].into_iter().enumerate() {
        let res = app
            .api("POST", "/api/v1/asks", &rita_t, Some(json!({ "source": source, "target": format!("CFO {n}"), "reason": "Growth", "confirm_load": true })), &[])
            .await;
        res.assert_status(StatusCode::CREATED);
        if n == 0 {
            let id = res.json()["id"].as_i64().unwrap();
            app.api(
                "POST",
                &format!("/api/v1/asks/{id}/events"),
                &rita_t,
                Some(json!({ "kind": "introduced" })),
                &[],
            )
            .await
            .assert_status(StatusCode::CREATED);
        }
    }
    let res = app
        .api("GET", "/api/v1/dashboard", &lead_t, None, &[])
        .await;
    res.assert_status(StatusCode::OK);
    let d = res.json();
    assert_eq!(
        (d["totals"]["asks"].as_i64(), d["totals"]["intros"].as_i64()),
        (Some(3), Some(1)),
        "{d}"
    );
    let rita_row = d["reps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Rita Rep")
        .unwrap()
        .clone();
    assert_eq!(rita_row["asks"], 3);
    assert_eq!(d["source_leaderboard"][0]["name"], "Ada");
    // The page shows the same totals.
    app.login("lead@example.com", crate::common::PASSWORD).await;
    app.get("/dashboard").await.assert_contains("Rita Rep");
    // Filters: the rep, and dates; someone outside the team is not found; bad input is 422.
    let res = app
        .api(
            "GET",
            &format!("/api/v1/dashboard?rep={rita}&from=2000-01-01"),
            &lead_t,
            None,
            &[],
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["from"], "2000-01-01");
    app.api(
        "GET",
        &format!("/api/v1/dashboard?rep={stranger}"),
        &lead_t,
        None,
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    let res = app
        .api(
            "GET",
            "/api/v1/dashboard?from=2026-05-01&to=2026-04-01",
            &lead_t,
            None,
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("before the start"), "{}", res.body);
    app.api("GET", "/api/v1/dashboard", &rita_t, None, &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_the_reference_page_reads_it() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/openapi.json").await;
    res.assert_status(StatusCode::OK);
    let doc = res.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, methods) in [
        ("/api/v1/me", &["get", "patch"][..]),
        ("/api/v1/contacts/duplicates", &["get"]),
        ("/api/v1/asks", &["get", "post"]),
        ("/api/v1/asks/{id}", &["get", "patch"]),
        ("/api/v1/asks/{id}/events", &["post"]),
        ("/api/v1/contacts", &["get", "post"]),
        ("/api/v1/contacts/{id}", &["get", "patch"]),
        ("/api/v1/contacts/{id}/archive", &["post"]),
        ("/api/v1/contacts/{id}/restore", &["post"]),
        ("/api/v1/contacts/{id}/relationships", &["get", "post"]),
        ("/api/v1/contacts/{id}/introducers", &["get"]),
        (
            "/api/v1/contacts/{id}/relationships/{relationship_id}",
            &["delete"],
        ),
        ("/api/v1/contacts/{id}/merge", &["post"]),
        ("/api/v1/notifications/read", &["post"]),
        ("/api/v1/reps/{id}/coaching-notes", &["get", "post"]),
        ("/api/v1/reps/{id}/goal", &["put"]),
        ("/api/v1/follow-ups", &["get", "post"]),
        ("/api/v1/follow-ups/{id}/done", &["post"]),
        ("/api/v1/follow-ups/{id}/postpone", &["post"]),
        ("/api/v1/notifications", &["get"]),
        ("/api/v1/notifications/{id}/read", &["post"]),
        ("/api/v1/dashboard", &["get"]),
        ("/api/v1/paths", &["get"]),
        ("/api/v1/intro-requests", &["post"]),
        ("/api/v1/intro-requests/{id}", &["get"]),
        ("/api/v1/webhooks", &["get", "post"]),
        ("/api/v1/webhooks/{id}", &["delete"]),
    ] {
        for method in methods {
            let op = &paths[path][*method];
            assert!(op.is_object(), "{method} {path} is not described");
            assert!(op["responses"]["422"].is_object() && op["responses"]["404"].is_object());
            operations += 1;
        }
    }
    assert_eq!(operations, 36);
    assert_eq!(
        paths
            .values()
            .map(|m| m.as_object().unwrap().len())
            .sum::<usize>(),
        36
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for name in [
        "AskOut",
        "NewAsk",
        "ContactOut",
        "FollowUpOut",
        "Problem",
        "Stage",
        "Channel",
    ] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    let page = app.get("/api/docs").await;
    page.assert_status(StatusCode::OK)
        .assert_contains("POST /api/v1/asks")
        .assert_contains("id=\"schema-NewAsk\"")
        .assert_lacks("<script src=\"http");
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("script-src 'self'")
    );
}

#[tokio::test]
async fn relationships_merges_notifications_and_coaching_work_as_on_the_pages() {
    let app = TestApp::spawn().await;
    let lead = app
        .create_user("lead@example.com", "Lea Lead", "manager", None)
        .await;
    let rita = app
        .create_user("rita@example.com", "Rita Rep", "rep", Some(lead))
        .await;
    let t = token(&app, rita, TokenAccess::ReadWrite).await;
    let lead_t = token(&app, lead, TokenAccess::ReadWrite).await;
    let mut ids = Vec::new();
    for (name, email) in [
        ("Ann Bo", "ann@x.example"),
        ("Cy Dee", "cy@x.example"),
        ("Ann Bo", "ann2@x.example"),
    ] {
        let res = app
            .api(
                "POST",
                "/api/v1/contacts",
                &t,
                Some(json!({ "name": name, "email": email })),
                &[],
            )
            .await;
        res.assert_status(StatusCode::CREATED);
        ids.push(res.json()["id"].as_i64().unwrap());
    }
    let (ann, cy, ann2) = (ids[0], ids[1], ids[2]);

    // Link Ann to Cy (a second link changes nothing), then Cy can introduce Ann.
    let link = format!("/api/v1/contacts/{ann}/relationships");
    let res = app
        .api(
            "POST",
            &link,
            &t,
            Some(json!({ "other_contact_id": cy, "kind": "worked_with", "strength": 5 })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::CREATED);
    let relationship = res.json()["items"][0]["id"].as_i64().unwrap();
    app.api(
        "POST",
        &link,
        &t,
        Some(json!({ "other_contact_id": cy })),
        &[],
    )
    .await
    .assert_status(StatusCode::OK);
    let res = app
        .api(
            "GET",
            &format!("/api/v1/contacts/{ann}/introducers"),
            &t,
            None,
            &[],
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["items"][0]["name"], "Cy Dee");
    app.api("DELETE", &format!("{link}/{relationship}"), &t, None, &[])
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let res = app.api("GET", &link, &t, None, &[]).await;
    assert_eq!(res.json()["items"].as_array().unwrap().len(), 0);
    app.api("DELETE", &format!("{link}/{relationship}"), &t, None, &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // The two Anns look like one person.
    let res = app
        .api("GET", "/api/v1/contacts/duplicates", &t, None, &[])
        .await;
    res.assert_status(StatusCode::OK);
    let pair = &res.json()["items"][0];
    assert_eq!(
        (
            pair["contact_id"].as_i64(),
            pair["other_contact_id"].as_i64()
        ),
        (Some(ann), Some(ann2))
    );

    // Archive and restore; merge the duplicate Ann into the first.
    let res = app
        .api(
            "POST",
            &format!("/api/v1/contacts/{ann2}/archive"),
            &t,
            None,
            &[],
        )
        .await;
    assert_eq!(res.json()["archived"], true);
    let res = app
        .api(
            "POST",
            &format!("/api/v1/contacts/{ann}/merge"),
            &t,
            Some(json!({ "other_contact_id": ann2 })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::CONFLICT);
    let res = app
        .api(
            "POST",
            &format!("/api/v1/contacts/{ann2}/restore"),
            &t,
            None,
            &[],
        )
        .await;
    assert_eq!(res.json()["archived"], false);
    let res = app
        .api(
            "POST",
            &format!("/api/v1/contacts/{ann}/merge"),
            &t,
            Some(json!({ "other_contact_id": ann2 })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.json()["id"], ann);
    let res = app
        .api("GET", &format!("/api/v1/contacts/{ann2}"), &t, None, &[])
        .await;
    assert_eq!(res.json()["archived"], true);

    // The manager coaches: the note's action lands on the rep's follow-ups and notifications.
    let notes = format!("/api/v1/reps/{rita}/coaching-notes");
    let res = app
        .api("POST", &notes, &lead_t, Some(json!({ "diagnosis": "Few asks", "committed_action": "Ask two clients a week", "metric": "asks", "inspect_on": "2999-01-04" })), &[])
        .await;
    res.assert_status(StatusCode::CREATED);
    assert_eq!(res.json()["committed_action"], "Ask two clients a week");
    let res = app
        .api("POST", &notes, &lead_t, Some(json!({ "diagnosis": "", "committed_action": "x", "metric": "y", "inspect_on": "2000-01-01" })), &[])
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = field_errors(&res.json())
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, ["diagnosis", "inspect_on"]);
    // A rep writes no notes, and reads only their own.
    app.api("POST", &notes, &t, Some(json!({ "diagnosis": "a", "committed_action": "b", "metric": "c", "inspect_on": "2999-01-04" })), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let res = app.api("GET", &notes, &t, None, &[]).await;
    assert_eq!(res.json()["items"].as_array().unwrap().len(), 1);
    app.api(
        "GET",
        &format!("/api/v1/reps/{lead}/coaching-notes"),
        &t,
        None,
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    let open = app
        .api("GET", "/api/v1/follow-ups", &t, None, &[])
        .await
        .json();
    assert!(
        open["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "coaching")
    );
    let list = app
        .api("GET", "/api/v1/notifications", &t, None, &[])
        .await
        .json();
    let first = &list["items"][0];
    assert_eq!(
        (first["kind"].as_str(), first["read"].as_bool()),
        (Some("coaching"), Some(false))
    );
    let id = first["id"].as_i64().unwrap();
    app.api(
        "POST",
        &format!("/api/v1/notifications/{id}/read"),
        &t,
        None,
        &[],
    )
    .await
    .assert_status(StatusCode::NO_CONTENT);
    app.api(
        "POST",
        &format!("/api/v1/notifications/{id}/read"),
        &lead_t,
        None,
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    let res = app
        .api("POST", "/api/v1/notifications/read", &t, None, &[])
        .await;
    assert_eq!(res.json()["marked"], 0);

    // The goal, as on the scorecard.
    let goal = format!("/api/v1/reps/{rita}/goal");
    app.api(
        "PUT",
        &goal,
        &lead_t,
        Some(json!({ "annual_client_goal": 12, "asks_per_client": "2,5" })),
        &[],
    )
    .await
    .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(
        app.count("select annual_client_goal::int8 from users where email = 'rita@example.com'")
            .await,
        12
    );
    let res = app
        .api(
            "PUT",
            &goal,
            &lead_t,
            Some(json!({ "annual_client_goal": -1, "asks_per_client": 0 })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&res.json()).len(), 2);
    app.api(
        "PUT",
        &goal,
        &t,
        Some(json!({ "annual_client_goal": 99, "asks_per_client": 3 })),
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn notifications_page_unread_first_then_newest_by_cursor() {
    let app = TestApp::spawn().await;
    let rep = app
        .create_user("rita@example.com", "Rita Rep", "rep", None)
        .await;
    let t = token(&app, rep, TokenAccess::ReadWrite).await;
    // Seven notices an hour apart; the 2nd, 4th and 6th are read.
    sqlx::query(
        "insert into notifications (user_id, kind, body, created_at, read_at)
         select $1, 'info', 'notice ' || i, now() - make_interval(hours => 10 - i),
                case when i % 2 = 0 then now() end
         from generate_series(1, 7) i",
    )
    .bind(rep.0)
    .execute(&app.pool)
    .await
    .unwrap();
    let mut bodies = Vec::new();
    let mut path = "/api/v1/notifications?limit=2".to_string();
    loop {
        let page = app.api("GET", &path, &t, None, &[]).await;
        page.assert_status(StatusCode::OK);
        let page = page.json();
        bodies.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["body"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/notifications?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(
        bodies,
        [
            "notice 7", "notice 5", "notice 3", "notice 1", "notice 6", "notice 4", "notice 2"
        ]
    );
}

#[tokio::test]
async fn a_user_changes_their_profile_with_the_settings_pages_rules() {
    let app = TestApp::spawn().await;
    let rep = app
        .create_user("rita@example.com", "Rita Rep", "rep", None)
        .await;
    let t = token(&app, rep, TokenAccess::ReadWrite).await;
    let res = app
        .api(
            "PATCH",
            "/api/v1/me",
            &t,
            Some(json!({ "time_zone": "America/Chicago", "quiet_from": 21 })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::OK);
    assert_eq!(
        (
            res.json()["name"].as_str(),
            res.json()["time_zone"].as_str()
        ),
        (Some("Rita Rep"), Some("America/Chicago"))
    );
    assert_eq!(
        app.count("select quiet_hours_start::int8 from users where email = 'rita@example.com'")
            .await,
        21
    );
    let res = app
        .api(
            "PATCH",
            "/api/v1/me",
            &t,
            Some(json!({ "name": " ", "time_zone": "Mars/Olympus", "quiet_until": 24 })),
            &[],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = field_errors(&res.json())
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, ["name", "quiet_hours", "time_zone"]);
    let me = app.api("GET", "/api/v1/me", &t, None, &[]).await.json();
    assert_eq!(me["time_zone"], "America/Chicago");
}

#[tokio::test]
async fn a_webhook_created_twice_with_one_key_is_one_endpoint_with_one_secret() {
    let app = TestApp::spawn().await;
    let admin = app
        .create_user("ada@example.com", "Ada Admin", "admin", None)
        .await;
    let t = token(&app, admin, TokenAccess::ReadWrite).await;
    let body =
        json!({ "url": "https://hooks.example.com/warmline", "event_types": ["ask.created"] });
    let key = [("idempotency-key", "hook-1")];
    let first = app
        .api("POST", "/api/v1/webhooks", &t, Some(body.clone()), &key)
        .await;
    first.assert_status(StatusCode::CREATED);
    let again = app
        .api("POST", "/api/v1/webhooks", &t, Some(body), &key)
        .await;
    again.assert_status(StatusCode::CREATED);
    assert_eq!(again.json()["secret"], first.json()["secret"]);
    assert!(
        first.json()["secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    assert_eq!(app.count("select count(*) from webhook_endpoints").await, 1);
    // A bad endpoint is a field-by-field 422 and frees the key it came with.
    let res = app
        .api(
            "POST",
            "/api/v1/webhooks",
            &t,
            Some(json!({ "url": "ftp://nope" })),
            &[("idempotency-key", "hook-2")],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&res.json())[0].0, "url");
    assert_eq!(
        app.count("select count(*) from api_idempotency where key = 'hook-2'")
            .await,
        0
    );
}
