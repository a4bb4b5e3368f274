//! Accounts and security: setup, login, sessions, throttling, CSRF, roles and visibility.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};

use crate::common::{PASSWORD, TestApp};

#[tokio::test]
async fn a_fresh_installation_sends_everyone_to_setup_which_creates_the_first_admin() {
    let app = TestApp::spawn().await;
    let home = app.get("/").await;
    home.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(home.location(), "/setup");
    assert_eq!(app.get("/login").await.location(), "/setup");

    app.get("/setup")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Set up Warmline");
    let res = app
        .post_form(
            "/setup",
            &[
                ("name", "Ada Admin"),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
                ("time_zone", "Europe/London"),
            ],
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/");
    app.get("/")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Ada Admin");
    let role: String = sqlx::query_scalar("select role from users where email = 'ada@example.com'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(role, "admin");
}

#[tokio::test]
async fn setup_is_404_once_a_user_exists() {
    let app = TestApp::spawn().await;
    app.create_user("first@example.com", "First", "admin", None)
        .await;
    app.get("/setup").await.assert_status(StatusCode::NOT_FOUND);
    let other = app.new_client();
    other.get("/login").await;
    other
        .post_form(
            "/setup",
            &[
                ("name", "Mallory"),
                ("email", "mallory@example.com"),
                ("password", PASSWORD),
                ("time_zone", "UTC"),
            ],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.count("select count(*) from users").await, 1);
}

#[tokio::test]
async fn setup_rejects_bad_input_field_by_field_and_creates_nobody() {
    let app = TestApp::spawn().await;
    app.get("/setup").await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("name", ""),
                ("email", "a@example.com"),
                ("password", PASSWORD),
                ("time_zone", "UTC"),
            ],
            "Enter a name.",
        ),
        (
            &[
                ("name", "A"),
                ("email", "not-an-email"),
                ("password", PASSWORD),
                ("time_zone", "UTC"),
            ],
            "Enter an e-mail address like name@example.com.",
        ),
        (
            &[
                ("name", "A"),
                ("email", "a@example.com"),
                ("password", "short"),
                ("time_zone", "UTC"),
            ],
            "Use at least 10 characters.",
        ),
        (
            &[
                ("name", "A"),
                ("email", "roberta@example.com"),
                ("password", "my-Roberta-2026"),
                ("time_zone", "UTC"),
            ],
            "Don&#39;t use your e-mail name in your password.",
        ),
        (
            &[
                ("name", "A"),
                ("email", "a@example.com"),
                ("password", PASSWORD),
                ("time_zone", "Mars/Olympus"),
            ],
            "Choose a time zone from the list.",
        ),
    ];
    for (fields, message) in cases {
        let res = app.post_form("/setup", fields).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains(message);
        res.assert_contains("aria-invalid=\"true\"");
    }
    assert_eq!(app.count("select count(*) from users").await, 0);
}

#[tokio::test]
async fn the_session_cookie_changes_at_login() {
    let app = TestApp::spawn().await;
    app.create_user("rep@example.com", "Rep", "rep", None).await;
    app.get("/login").await.assert_status(StatusCode::OK);
    assert_eq!(app.cookie("warmline_session"), None, "nothing to keep yet");
    app.login("rep@example.com", PASSWORD)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let first = app
        .cookie("warmline_session")
        .expect("a session after login");
    app.post_form("/logout", &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.login("rep@example.com", PASSWORD)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let second = app
        .cookie("warmline_session")
        .expect("a session after the second login");
    assert_ne!(first, second);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = TestApp::spawn().await;
    app.create_user("rep@example.com", "Rep", "rep", None).await;
    let res = app.login("rep@example.com", PASSWORD).await;
    let cookie = res
        .header_all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("warmline_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "not Secure unless configured: {cookie}"
    );

    let secure = TestApp::spawn_with(|c| c.secure_cookies = true).await;
    secure
        .create_user("rep@example.com", "Rep", "rep", None)
        .await;
    let cookies = secure
        .login("rep@example.com", PASSWORD)
        .await
        .header_all("set-cookie");
    assert!(
        cookies
            .iter()
            .filter(|c| c.starts_with("warmline_session=") || c.starts_with("warmline_device="))
            .all(|c| c.contains("Secure")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn an_unknown_email_and_a_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.create_user("rep@example.com", "Rep", "rep", None).await;
    let wrong = app.login("rep@example.com", "not the password").await;
    let unknown = app.login("nobody@example.com", "not the password").await;
    wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    unknown.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let message = "That e-mail address and password don&#39;t match an active account.";
    wrong.assert_contains(message);
    unknown.assert_contains(message);
    // Neither logged in.
    assert_eq!(app.get("/settings").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_sixth_wrong_password_in_a_row_gets_429_with_retry_after() {
    let app = TestApp::spawn().await;
    app.create_user("rep@example.com", "Rep", "rep", None).await;
    for _ in 0..5 {
        app.login("rep@example.com", "wrong password!")
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let sixth = app.login("rep@example.com", "wrong password!").await;
    sixth
        .assert_status(StatusCode::TOO_MANY_REQUESTS)
        .assert_contains("Too many failed attempts");
    let retry: i64 = sixth.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    // Even the right password waits now at this address (the test client has none, so every
    // client shares it), from a device that has never logged in to the account.
    app.new_client()
        .login("rep@example.com", PASSWORD)
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn one_client_address_trying_many_accounts_is_throttled_too() {
    let app = TestApp::spawn().await;
    app.create_user("someone@example.com", "Someone", "rep", None)
        .await;
    let addr: SocketAddr = "203.0.113.7:40000".parse().unwrap();
    app.get("/login").await;
    let mut last = StatusCode::OK;
    for i in 0..=warmline::accounts::MAX_FAILED_LOGINS_PER_ADDRESS {
        let body = format!(
            "csrf_token={}&email=user{i}%40example.com&password=guess-guess-guess",
            app.csrf_token().unwrap()
        );
        let mut request = Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(addr));
        last = app.send(request).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_gets_403_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.login_as_new("admin@example.com", "admin", None).await;
    let users_before = app.count("select count(*) from users").await;
    let new_user = [
        ("name", "Eve"),
        ("email", "eve@example.com"),
        ("password", PASSWORD),
        ("role", "rep"),
        ("manager_id", ""),
        ("weekly_ask_target", "5"),
        ("time_zone", "UTC"),
    ];

    app.post_form_raw("/team", &new_user)
        .await
        .assert_status(StatusCode::FORBIDDEN)
        .assert_contains("did not come from Warmline");
    let mut forged = vec![("csrf_token", "forged-token")];
    forged.extend_from_slice(&new_user);
    app.post_form_raw("/team", &forged)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.count("select count(*) from users").await, users_before);

    // A valid token from another site's page is refused by origin.
    let token = app.csrf_token().unwrap();
    let body = format!(
        "{}&csrf_token={token}",
        serde_urlencoded::to_string(new_user).unwrap()
    );
    let request = Request::post("/team")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "warmline.example.com")
        .header("origin", "https://evil.example.net")
        .body(Body::from(body))
        .unwrap();
    app.send(request).await.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.count("select count(*) from users").await, users_before);

    // The same form with the session's token works.
    app.get("/team").await;
    app.post_form("/team", &new_user)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("select count(*) from users").await,
        users_before + 1
    );
}

#[tokio::test]
async fn logout_needs_csrf_and_ends_the_users_sessions_on_the_server() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let phone = app.new_client();
    phone.login("rep@example.com", PASSWORD).await;
    phone.get("/settings").await.assert_status(StatusCode::OK);
    let cookie = app.cookie("warmline_session").unwrap();
    app.post_form_raw("/logout", &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.get("/settings").await.assert_status(StatusCode::OK);
    let res = app.post_form("/logout", &[]).await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login");
    // The old cookie, replayed, no longer logs anyone in.
    let replay = app
        .new_client()
        .get_with(
            "/settings",
            &[("cookie", &format!("warmline_session={cookie}"))],
        )
        .await;
    replay.assert_status(StatusCode::SEE_OTHER);
    assert!(replay.location().starts_with("/login"));
    // The user's other sessions ended with it.
    phone
        .get("/settings")
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn pages_need_a_login_and_come_back_after_it() {
    let app = TestApp::spawn().await;
    app.create_user("rep@example.com", "Rep", "rep", None).await;
    let res = app.get("/settings").await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login?next=%2Fsettings");
    app.get("/login?next=%2Fsettings").await;
    let res = app
        .post_form(
            "/login",
            &[
                ("email", "REP@example.com"),
                ("password", PASSWORD),
                ("next", "/settings"),
            ],
        )
        .await;
    assert_eq!(
        res.location(),
        "/settings",
        "e-mail is case-insensitive; next is followed"
    );

    let other = app.new_client();
    other.get("/login").await;
    let res = other
        .post_form(
            "/login",
            &[
                ("email", "rep@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example.net/"),
            ],
        )
        .await;
    assert_eq!(res.location(), "/", "never redirects to another site");
}

#[tokio::test]
async fn a_rep_gets_404_for_the_team_pages_and_other_peoples_records() {
    let app = TestApp::spawn().await;
    let other = app
        .create_user("other@example.com", "Other Rep", "rep", None)
        .await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/team").await.assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/team/{other}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post_form(&format!("/team/{other}/deactivate"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("select count(*) from users where deactivated_at is not null")
            .await,
        0
    );
}

#[tokio::test]
async fn a_manager_sees_exactly_their_subtree_recursively_and_an_admin_sees_all() {
    let app = TestApp::spawn().await;
    let boss = app
        .create_user("boss@example.com", "Boss", "manager", None)
        .await;
    let lead = app
        .create_user("lead@example.com", "Team Lead", "manager", Some(boss))
        .await;
    let near = app
        .create_user("near@example.com", "Near Rep", "rep", Some(boss))
        .await;
    let deep = app
        .create_user("deep@example.com", "Deep Rep", "rep", Some(lead))
        .await;
    let rival = app
        .create_user("rival@example.com", "Rival Manager", "manager", None)
        .await;
    let outsider = app
        .create_user("outsider@example.com", "Outsider Rep", "rep", Some(rival))
        .await;

    let visible = warmline::db::users::visible_user_ids(&app.pool, boss)
        .await
        .unwrap();
    assert_eq!(visible, vec![boss, lead, near, deep]);
    let visible = warmline::db::users::visible_user_ids(&app.pool, lead)
        .await
        .unwrap();
    assert_eq!(visible, vec![lead, deep]);
    let visible = warmline::db::users::visible_user_ids(&app.pool, near)
        .await
        .unwrap();
    assert_eq!(visible, vec![near]);

    app.login("boss@example.com", PASSWORD).await;
    let team = app.get("/team").await;
    team.assert_status(StatusCode::OK);
    for name in ["Boss", "Team Lead", "Near Rep", "Deep Rep"] {
        team.assert_contains(name);
    }
    team.assert_lacks("Rival Manager")
        .assert_lacks("Outsider Rep")
        .assert_lacks("Add a person");
    app.get(&format!("/team/{deep}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Deep Rep");
    app.get(&format!("/team/{outsider}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // Managers read; only admins change.
    app.post_form(
        &format!("/team/{deep}"),
        &[
            ("role", "manager"),
            ("manager_id", ""),
            ("weekly_ask_target", "9"),
        ],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);

    let admin = app.new_client();
    admin.login_as_new("admin@example.com", "admin", None).await;
    let team = admin.get("/team").await;
    for name in [
        "Boss",
        "Team Lead",
        "Near Rep",
        "Deep Rep",
        "Rival Manager",
        "Outsider Rep",
    ] {
        team.assert_contains(name);
    }
    team.assert_contains("Add a person");
}

#[tokio::test]
async fn a_reports_to_cycle_is_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let top = app
        .create_user("top@example.com", "Top", "manager", None)
        .await;
    let middle = app
        .create_user("middle@example.com", "Middle", "manager", Some(top))
        .await;
    let _bottom = app
        .create_user("bottom@example.com", "Bottom", "manager", Some(middle))
        .await;
    let bottom = warmline::db::users::id_by_email(&app.pool, "bottom@example.com")
        .await
        .unwrap()
        .unwrap();
    app.login_as_new("admin@example.com", "admin", None).await;
    app.get(&format!("/team/{top}")).await;

    let res = app
        .post_form(
            &format!("/team/{top}"),
            &[
                ("role", "manager"),
                ("manager_id", &bottom.to_string()),
                ("weekly_ask_target", "5"),
            ],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("would create a loop");
    let res = app
        .post_form(
            &format!("/team/{top}"),
            &[
                ("role", "manager"),
                ("manager_id", &top.to_string()),
                ("weekly_ask_target", "5"),
            ],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Nobody can report to themselves.");
    let manager: Option<i64> =
        sqlx::query_scalar("select manager_id from users where user_id = $1")
            .bind(top.0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(manager, None, "nothing changed");

    // A change that keeps the tree a tree is saved and audited.
    let res = app
        .post_form(
            &format!("/team/{bottom}"),
            &[
                ("role", "manager"),
                ("manager_id", &top.to_string()),
                ("weekly_ask_target", "7"),
            ],
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    let changes: serde_json::Value = sqlx::query_scalar(
        "select changes from audit_log where entity = 'user' and entity_id = $1 and action = 'update'",
    )
    .bind(bottom.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(changes["manager_id"], serde_json::json!([middle.0, top.0]));
    assert_eq!(changes["weekly_ask_target"], serde_json::json!([5, 7]));
}

#[tokio::test]
async fn a_deactivated_users_open_session_and_tokens_are_refused_on_their_next_request() {
    let app = TestApp::spawn().await;
    let rep_client = app.new_client();
    let rep = rep_client
        .login_as_new("rep@example.com", "rep", None)
        .await;
    let token = warmline::accounts::service::issue_token(
        &app.pool,
        None,
        rep,
        "script",
        warmline::domain::users::TokenAccess::ReadWrite,
    )
    .await
    .unwrap();
    rep_client
        .get("/settings")
        .await
        .assert_status(StatusCode::OK);
    app.new_client()
        .get_with(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await
        .assert_status(StatusCode::OK);

    app.login_as_new("admin@example.com", "admin", None).await;
    app.get(&format!("/team/{rep}")).await;
    app.post_form(&format!("/team/{rep}/deactivate"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    let res = rep_client.get("/settings").await;
    res.assert_status(StatusCode::SEE_OTHER);
    assert!(res.location().starts_with("/login"));
    rep_client
        .login("rep@example.com", PASSWORD)
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    app.new_client()
        .get_with(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("select count(*) from audit_log where action = 'deactivate'")
            .await,
        1
    );
}

#[tokio::test]
async fn changing_the_password_ends_the_users_other_sessions_but_not_this_one() {
    let app = TestApp::spawn().await;
    let laptop = app.new_client();
    laptop.login_as_new("rep@example.com", "rep", None).await;
    let phone = app.new_client();
    phone
        .login("rep@example.com", PASSWORD)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    phone.get("/settings").await.assert_status(StatusCode::OK);

    laptop.get("/settings").await;
    let wrong = laptop
        .post_form(
            "/settings/password",
            &[
                ("current_password", "nope nope nope"),
                ("new_password", "a brand new secret"),
            ],
        )
        .await;
    wrong
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("That is not your current password.");
    laptop
        .post_form(
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new secret"),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);

    laptop
        .get("/settings")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Password changed");
    phone
        .get("/settings")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.new_client()
        .login("rep@example.com", "a brand new secret")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("select count(*) from audit_log where action = 'change_password'")
            .await,
        1
    );
}

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_and_revocable() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/settings").await;
    let res = app
        .post_form("/settings/tokens", &[("name", "weekly export")])
        .await;
    res.assert_status(StatusCode::OK)
        .assert_contains("it will not be shown again");
    let start = res.body.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token = &res.body[start..start + res.body[start..].find('<').unwrap()];
    assert!(token.starts_with("wl_") && token.len() > 40, "{token}");

    let stored: i64 = sqlx::query_scalar(
        "select count(*) from api_tokens where token_hash = sha256($1::text::bytea)",
    )
    .bind(token)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 1, "stored as its SHA-256 only");
    let plain: i64 = sqlx::query_scalar(
        "select count(*) from api_tokens where encode(token_hash, 'escape') like '%' || $1 || '%'",
    )
    .bind(&token[3..20])
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(plain, 0);
    app.get("/settings")
        .await
        .assert_lacks(token)
        .assert_contains("weekly export");

    let bearer = format!("Bearer {token}");
    let me = app
        .new_client()
        .get_with("/api/v1/me", &[("authorization", &bearer)])
        .await;
    me.assert_status(StatusCode::OK)
        .assert_contains("rep@example.com");
    let none = app.new_client().get("/api/v1/me").await;
    none.assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.header("content-type"),
        Some("application/problem+json")
    );

    let id: i64 = sqlx::query_scalar("select token_id from api_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.post_form(&format!("/settings/tokens/{id}/revoke"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.new_client()
        .get_with("/api/v1/me", &[("authorization", &bearer)])
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where entity = 'api_token' order by audit_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(actions, ["create", "revoke"]);

    // Someone else's token id is not found, and stays active.
    let other = app.new_client();
    let owner = other.login_as_new("other@example.com", "rep", None).await;
    warmline::accounts::service::issue_token(
        &app.pool,
        None,
        owner,
        "theirs",
        warmline::domain::users::TokenAccess::ReadWrite,
    )
    .await
    .unwrap();
    let theirs: i64 = sqlx::query_scalar("select token_id from api_tokens where name = 'theirs'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.get("/settings").await;
    app.post_form(&format!("/settings/tokens/{theirs}/revoke"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("select count(*) from api_tokens where name = 'theirs' and revoked_at is null")
            .await,
        1
    );
}

#[tokio::test]
async fn user_creation_and_profile_changes_are_audited_with_actor_and_time() {
    let app = TestApp::spawn().await;
    let admin = app.login_as_new("admin@example.com", "admin", None).await;
    app.get("/team").await;
    app.post_form(
        "/team",
        &[
            ("name", "Rita Rep"),
            ("email", "rita@example.com"),
            ("password", PASSWORD),
            ("role", "rep"),
            ("manager_id", &admin.to_string()),
            ("weekly_ask_target", "6"),
            ("time_zone", "America/Chicago"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let row: (Option<i64>, String, bool) = sqlx::query_as(
        "select actor_id, changes->>'email', at > now() - interval '1 minute' from audit_log
         where entity = 'user' and action = 'create' and changes->>'email' = 'rita@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(row, (Some(admin.0), "rita@example.com".to_string(), true));

    // The same e-mail in other letters is the same account.
    let dup = app
        .post_form(
            "/team",
            &[
                ("name", "Rita Again"),
                ("email", "RITA@example.com"),
                ("password", PASSWORD),
                ("role", "rep"),
                ("manager_id", ""),
                ("weekly_ask_target", "6"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    dup.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("already has an account");

    app.get("/settings").await;
    app.post_form(
        "/settings/profile",
        &[
            ("name", "Ada Admin"),
            ("time_zone", "Asia/Tokyo"),
            ("quiet_from", "21"),
            ("quiet_until", "6"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let quiet: (i16, i16) =
        sqlx::query_as("select quiet_hours_start, quiet_hours_end from users where user_id = $1")
            .bind(admin.0)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(quiet, (21, 6));
    let tz: String = sqlx::query_scalar("select time_zone from users where user_id = $1")
        .bind(admin.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(tz, "Asia/Tokyo");
    let bad = app
        .post_form(
            "/settings/profile",
            &[
                ("name", ""),
                ("time_zone", "Nowhere/Else"),
                ("quiet_from", "25"),
            ],
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Enter a name.")
        .assert_contains("Choose a time zone from the list.")
        .assert_contains("Choose the hours from the lists.");
}

/// A token's access is chosen on the settings page: a read-only one reads and is refused
/// every write with 403; the list says which is which; a made-up access is refused.
#[tokio::test]
async fn a_read_only_token_made_on_the_settings_page_reads_but_cannot_write() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/settings").await;
    let res = app
        .post_form(
            "/settings/tokens",
            &[("name", "bi export"), ("access", "read")],
        )
        .await;
    res.assert_status(StatusCode::OK);
    let start = res.body.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token = res.body[start..start + res.body[start..].find('<').unwrap()].to_string();
    app.get("/settings").await.assert_contains("Read only");
    app.api("GET", "/api/v1/asks", &token, None, &[])
        .await
        .assert_status(StatusCode::OK);
    app.api(
        "POST",
        "/api/v1/contacts",
        &token,
        Some(serde_json::json!({ "name": "Ida" })),
        &[],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(app.count("select count(*) from contacts").await, 0);
    app.post_form("/settings/tokens", &[("name", "odd"), ("access", "admin")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Choose read only, or read and write.");
    assert_eq!(app.count("select count(*) from api_tokens").await, 1);
}
