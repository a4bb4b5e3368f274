//! Possible duplicates and merging two contacts that both have asks, relationships and
//! follow-ups: everything moves, nothing is counted twice, and the derived figures match a
//! recomputation.

use axum::http::StatusCode;

use crate::common::TestApp;

async fn add_contact(app: &TestApp, fields: &[(&str, &str)]) -> i64 {
    app.get("/contacts/new").await;
    let res = app.post_form("/contacts", fields).await;
    res.assert_status(StatusCode::SEE_OTHER);
    app.get(res.location()).await;
    res.location()
        .trim_start_matches("/contacts/")
        .parse()
        .unwrap()
}

async fn log_ask(app: &TestApp, source: i64, target: Option<i64>, asked_on: &str) {
    app.get("/").await;
    let source = source.to_string();
    let target_id = target.map(|t| t.to_string()).unwrap_or_default();
    app.post_form(
        "/asks",
        &[
            ("source", "x"),
            ("source_id", &source),
            ("target", "the CFO"),
            ("target_id", &target_id),
            ("reason", "Growth"),
            ("asked_on", asked_on),
            ("confirm_load", "yes"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
}

async fn link(app: &TestApp, from: i64, to: i64, strength: &str) {
    app.get(&format!("/contacts/{from}")).await;
    app.post_form(
        &format!("/contacts/{from}/relationships"),
        &[
            ("other_id", &to.to_string()),
            ("kind", "knows"),
            ("strength", strength),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn merging_moves_asks_follow_ups_and_relationships_and_keeps_the_figures_right() {
    let app = TestApp::spawn().await;
    let lead = app.login_as_new("lead@example.com", "manager", None).await;
    let rep = app.new_client();
    rep.login_as_new("rita@example.com", "rep", Some(lead))
        .await;
    let stranger = app.new_client();
    stranger.login_as_new("sam@example.com", "rep", None).await;

    let a = add_contact(
        &rep,
        &[
            ("name", "Hugo Lund"),
            ("company", "Contoso"),
            ("email", "hugo@contoso.com"),
            ("linkedin_url", "https://www.linkedin.com/in/HugoLund"),
            ("notes", "Met at the fair"),
            ("kind", "client"),
            ("strength", "2"),
        ],
    )
    .await;
    let b = add_contact(
        &rep,
        &[
            ("name", "Hugo Lundt"),
            ("company", "Contoso GmbH"),
            ("phone", "+49 30 1234"),
            ("notes", "From the import"),
            ("kind", "referral_source"),
            ("strength", "4"),
        ],
    )
    .await;
    // The same profile written another way, as stored before addresses were kept in one form
    // (the form now refuses it as A's).
    sqlx::query("update contacts set linkedin_url = 'http://de.linkedin.com/in/hugolund/' where contact_id = $1")
        .bind(b)
        .execute(&app.pool)
        .await
        .unwrap();
    let x = add_contact(
        &rep,
        &[
            ("name", "Xenia Park"),
            ("kind", "prospect"),
            ("strength", "3"),
        ],
    )
    .await;
    let y = add_contact(
        &rep,
        &[
            ("name", "Yusuf Demir"),
            ("kind", "prospect"),
            ("strength", "3"),
        ],
    )
    .await;
    log_ask(&rep, a, None, "2026-10-01").await;
    log_ask(&rep, b, None, "2026-11-01").await;
    log_ask(&rep, b, None, "2026-11-10").await;
    log_ask(&rep, x, Some(b), "2026-11-05").await;
    link(&rep, a, x, "2").await;
    link(&rep, b, x, "5").await;
    link(&rep, b, y, "3").await;
    link(&rep, a, b, "3").await;
    rep.get("/follow-ups").await;
    rep.post_form(
        "/follow-ups",
        &[
            ("title", "Send Hugo the deck"),
            ("due_on", "2999-01-01"),
            ("contact_id", &b.to_string()),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let touch_before: Option<time::OffsetDateTime> =
        sqlx::query_scalar("select max(last_touch_at) from contacts where contact_id in ($1, $2)")
            .bind(a)
            .bind(b)
            .fetch_one(&app.pool)
            .await
            .unwrap();

    // Both the rep and their manager see the pair; nobody else does.
    rep.get("/contacts/duplicates")
        .await
        .assert_contains("Hugo Lundt")
        .assert_contains("the same LinkedIn profile")
        .assert_lacks("Xenia");
    app.get("/contacts/duplicates")
        .await
        .assert_contains("Hugo Lundt");
    stranger
        .get("/contacts/duplicates")
        .await
        .assert_lacks("Hugo");
    stranger
        .post_form(
            &format!("/contacts/{a}/merge"),
            &[("other_id", &b.to_string())],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // The manager merges B into A.
    app.get("/contacts/duplicates").await;
    let res = app
        .post_form(
            &format!("/contacts/{a}/merge"),
            &[("other_id", &b.to_string())],
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    app.get(res.location())
        .await
        .assert_contains("Merged Hugo Lundt into Hugo Lund");

    let count = |sql: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(a)
                .bind(b)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        count("select count(*) from referral_asks where source_contact_id = $1 and $2 > 0").await,
        3
    );
    assert_eq!(count("select count(*) from referral_asks where $2 in (source_contact_id, target_contact_id) and $1 > 0").await, 0);
    assert_eq!(
        count("select count(*) from referral_asks where target_contact_id = $1 and $2 > 0").await,
        1
    );
    assert_eq!(
        count("select count(*) from follow_ups where contact_id = $2 and $1 > 0").await,
        0
    );
    // One edge to Xenia (the stronger), Yusuf's moved over, none between the two.
    let edges: Vec<(i64, i16)> = sqlx::query_as(
        "select case when from_contact_id = $1 then to_contact_id else from_contact_id end, strength
         from relationships where $1 in (from_contact_id, to_contact_id) order by 1",
    )
    .bind(a)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(edges, vec![(x, 5), (y, 3)]);
    assert_eq!(count("select count(*) from relationships where $2 in (from_contact_id, to_contact_id) and $1 > 0").await, 0);

    // A kept its own values and took B's where it had none; B is archived and points at A.
    let kept: (Option<String>, Option<String>, Option<String>, String, i16, Option<time::OffsetDateTime>) =
        sqlx::query_as(
            "select email, phone, linkedin_url, notes, strength, last_touch_at from contacts where contact_id = $1",
        )
        .bind(a)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept.0.as_deref(), Some("hugo@contoso.com"));
    assert_eq!(kept.1.as_deref(), Some("+49 30 1234"));
    assert_eq!(
        kept.2.as_deref(),
        Some("https://www.linkedin.com/in/hugolund")
    );
    assert_eq!(kept.3, "Met at the fair\n\nFrom the import");
    assert_eq!(kept.4, 4);
    assert_eq!(kept.5, touch_before);
    let gone: (Option<i64>, bool) = sqlx::query_as(
        "select merged_into_id, archived_at is not null from contacts where contact_id = $1",
    )
    .bind(b)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(gone, (Some(a), true));
    // The audit log keeps B's old values.
    let old_phone: String = sqlx::query_scalar(
        "select changes -> 'old' ->> 'phone' from audit_log where entity = 'contact' and entity_id = $1 and action = 'merge'",
    )
    .bind(b)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(old_phone, "+49 30 1234");

    // The ask dates (ask coverage, connector load) and rollups match a recomputation, once the
    // queued changes are folded.
    warmline::db::metrics::fold_rollups(&app.pool)
        .await
        .unwrap();
    let stale_dates = app
        .count(
            "select count(*) from contacts where recent_ask_dates is distinct from ask_dates(contact_id, null)
               and not (coalesce(cardinality(recent_ask_dates), 0) = 0 and coalesce(cardinality(ask_dates(contact_id, null)), 0) = 0)",
        )
        .await;
    assert_eq!(stale_dates, 0);
    let asks_of_a: i64 = count(
        "select cardinality(recent_ask_dates)::int8 from contacts where contact_id = $1 and $2 > 0",
    )
    .await;
    assert_eq!(asks_of_a, 3);
    let rollup_asks = app
        .count("select coalesce(sum(asks), 0)::int8 from ask_rollups")
        .await;
    assert_eq!(
        rollup_asks,
        app.count("select count(*) from referral_asks").await
    );

    // A merged contact (archived now) cannot be merged again: a conflict with its state. Nor
    // can one merge into itself.
    app.post_form(
        &format!("/contacts/{a}/merge"),
        &[("other_id", &b.to_string())],
    )
    .await
    .assert_status(StatusCode::CONFLICT);
    app.post_form(
        &format!("/contacts/{a}/merge"),
        &[("other_id", &a.to_string())],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn contacts_of_two_people_do_not_merge() {
    let app = TestApp::spawn().await;
    let lead = app.login_as_new("lead@example.com", "manager", None).await;
    let rita = app.new_client();
    rita.login_as_new("rita@example.com", "rep", Some(lead))
        .await;
    let sam = app.new_client();
    sam.login_as_new("sam@example.com", "rep", Some(lead)).await;
    let a = add_contact(
        &rita,
        &[("name", "Hugo Lund"), ("kind", "client"), ("strength", "3")],
    )
    .await;
    let b = add_contact(
        &sam,
        &[("name", "Hugo Lund"), ("kind", "client"), ("strength", "3")],
    )
    .await;
    app.get("/contacts/duplicates").await.assert_lacks("Hugo");
    app.post_form(
        &format!("/contacts/{a}/merge"),
        &[("other_id", &b.to_string())],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("different people");
    rita.get("/contacts").await;
    rita.post_form(
        &format!("/contacts/{a}/merge"),
        &[("other_id", &b.to_string())],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("select count(*) from contacts where archived_at is not null")
            .await,
        0
    );
}

/// An archived contact does not merge until it is restored: the answer is a conflict with the
/// record's state (409, saying what to do), and both contacts stay as they were.
#[tokio::test]
async fn an_archived_contact_does_not_merge_until_restored() {
    let app = TestApp::spawn().await;
    app.login_as_new("rita@example.com", "rep", None).await;
    let a = add_contact(
        &app,
        &[("name", "Ines Roth"), ("kind", "client"), ("strength", "3")],
    )
    .await;
    let b = add_contact(
        &app,
        &[("name", "Ines Roth"), ("kind", "client"), ("strength", "2")],
    )
    .await;
    app.get(&format!("/contacts/{b}")).await;
    app.post_form(&format!("/contacts/{b}/archive"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get(&format!("/contacts/{a}")).await;
    app.post_form(
        &format!("/contacts/{a}/merge"),
        &[("other_id", &b.to_string())],
    )
    .await
    .assert_status(StatusCode::CONFLICT)
    .assert_contains("Restore an archived contact before merging it.");
    assert_eq!(
        app.count("select count(*) from contacts where name = 'Ines Roth'")
            .await,
        2
    );
    assert_eq!(
        app.count("select count(*) from audit_log where action = 'merge'")
            .await,
        0
    );
}
