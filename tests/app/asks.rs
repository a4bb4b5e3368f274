//! Referral asks: the quick log form, the stage flow, follow-ups, scoping and consistency.

use axum::http::StatusCode;

use crate::common::TestApp;
use crate::common::http::{input_value, logged_ask_id};

/// Logs an ask through My week's quick form; returns the ask's id.
pub async fn log_ask(app: &TestApp, source: &str, target: &str, reason: &str) -> i64 {
    let week = app.get("/").await;
    let submission = input_value(&week.body, "submission_id").expect("a submission id");
    let res = app
        .post_form(
            "/asks",
            &[
                ("source", source),
                ("target", target),
                ("reason", reason),
                ("submission_id", &submission),
            ],
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    let id = logged_ask_id(res.location());
    app.get(res.location())
        .await
        .assert_status(StatusCode::OK)
        .assert_contains(&format!("href=\"/asks/{id}\""));
    id
}

pub async fn record(
    app: &TestApp,
    ask: i64,
    fields: &[(&str, &str)],
) -> crate::common::http::TestResponse {
    app.get(&format!("/asks/{ask}")).await;
    app.post_form(&format!("/asks/{ask}/events"), fields).await
}

async fn stage(app: &TestApp, ask: i64) -> String {
    sqlx::query_scalar("select stage from referral_asks where ask_id = $1")
        .bind(ask)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn open_follow_ups(app: &TestApp, ask: i64) -> Vec<String> {
    sqlx::query_scalar(
        "select kind from follow_ups where ask_id = $1 and done_at is null order by kind",
    )
    .bind(ask)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn logging_an_ask_costs_three_typed_fields_and_one_submit() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let week = app.get("/").await;
    week.assert_status(StatusCode::OK);
    let start = week.body.find("action=\"/asks\"").unwrap();
    let form = &week.body[start..start + week.body[start..].find("</form>").unwrap()];
    assert_eq!(
        form.matches(" required").count(),
        3,
        "three required inputs:\n{form}"
    );
    assert_eq!(
        form.matches("type=\"submit\"").count(),
        1,
        "one submit button"
    );
    let typed = ["id=\"source\"", "id=\"target\"", "id=\"reason\""];
    assert!(typed.iter().all(|t| form.contains(t)));

    let ask = log_ask(
        &app,
        "Dana Client",
        "CFO of a logistics firm in Munich",
        "They are opening a second warehouse",
    )
    .await;
    let row: (String, Option<i64>, Option<String>, String, time::Date) = sqlx::query_as(
        "select s.name, a.target_contact_id, a.target_description, a.channel, a.asked_on
         from referral_asks a join contacts s on s.contact_id = a.source_contact_id where a.ask_id = $1",
    )
    .bind(ask)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+1))
        .date();
    assert_eq!(row.0, "Dana Client", "a new name becomes a contact");
    assert_eq!(
        (row.1, row.2.as_deref(), row.3.as_str()),
        (None, Some("CFO of a logistics firm in Munich"), "in_person")
    );
    assert!(
        (row.4 - today).whole_days().abs() <= 1,
        "asked today, in the rep's time zone"
    );
    let due: time::Date = sqlx::query_scalar(
        "select due_on from follow_ups where ask_id = $1 and kind = 'ask_follow_up'",
    )
    .bind(ask)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        due - row.4,
        time::Duration::days(7),
        "the follow-up defaults to a week later"
    );
    // The audit trail names what was written, each row pointing at its record.
    let audit: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "select l.entity || ' ' || l.action, l.changes from audit_log l
         where (l.entity, l.entity_id) in (('ask', $1),
                                           ('follow_up', (select follow_up_id from follow_ups where ask_id = $1)),
                                           ('contact', (select source_contact_id from referral_asks where ask_id = $1)))
         order by l.audit_id",
    )
    .bind(ask)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let entries: Vec<&str> = audit.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        entries,
        ["contact create", "follow_up create", "ask create"],
        "{audit:?}"
    );
    assert_eq!(audit[0].1["name"], "Dana Client");
    assert_eq!(audit[1].1["ask"], ask, "{audit:?}");
    assert_eq!(audit[1].1["kind"], "ask_follow_up");
    assert_eq!(
        audit[1].1["due_on"],
        (row.4 + time::Duration::days(7)).to_string()
    );
    assert_eq!(
        audit[2].1["target_description"],
        "CFO of a logistics firm in Munich"
    );
    app.get("/")
        .await
        .assert_contains("1 <span class=\"muted\">of 5 asks</span>");

    // A known contact's name links the ask to that contact.
    let again = log_ask(&app, "dana client", "Dana Client", "Her own team needs us").await;
    let (sources, target): (i64, Option<i64>) = sqlx::query_as(
        "select (select count(*) from contacts where lower(name) = 'dana client'), target_contact_id from referral_asks where ask_id = $1",
    )
    .bind(again)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(sources, 1);
    assert!(target.is_some());
}

#[tokio::test]
async fn the_quick_form_comes_back_with_field_messages_and_logs_nothing() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/").await;
    let res = app
        .post_form(
            "/asks",
            &[
                ("source", " "),
                ("target", ""),
                ("reason", ""),
                ("asked_on", "2999-01-01"),
            ],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Who did you ask?")
        .assert_contains("Whom should they introduce you to?")
        .assert_contains("business reason")
        .assert_contains("That date is in the future");
    assert_eq!(app.count("select count(*) from referral_asks").await, 0);
    assert_eq!(app.count("select count(*) from contacts").await, 0);
}

#[tokio::test]
async fn two_contacts_with_the_typed_name_are_offered_as_a_choice() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("rep@example.com", "rep", None).await;
    sqlx::query("insert into contacts (owner_id, name, company) values ($1, 'Sam Lee', 'Acme'), ($1, 'Sam Lee', 'Globex')")
        .bind(rep.0)
        .execute(&app.pool)
        .await
        .unwrap();
    let week = app.get("/").await;
    let submission = input_value(&week.body, "submission_id").unwrap();
    let fields = [
        ("source", "Sam Lee"),
        ("target", "Their CTO"),
        ("reason", "Platform rebuild"),
        ("submission_id", submission.as_str()),
    ];
    let res = app.post_form("/asks", &fields).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("pick one")
        .assert_contains("Sam Lee · Globex");
    let globex: i64 =
        sqlx::query_scalar("select contact_id from contacts where company = 'Globex'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let mut chosen = fields.to_vec();
    let id = globex.to_string();
    chosen.push(("source_id", &id));
    app.post_form("/asks", &chosen)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let source: i64 = sqlx::query_scalar("select source_contact_id from referral_asks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(source, globex);
}

#[tokio::test]
async fn every_impossible_move_is_refused_with_a_message_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let ask = log_ask(&app, "Sam Source", "Tia Target", "Expansion").await;
    let asked_on: time::Date =
        sqlx::query_scalar("select asked_on from referral_asks where ask_id = $1")
            .bind(ask)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let before = (asked_on - time::Duration::days(1)).to_string();

    let refused: [(&[(&str, &str)], &str); 6] = [
        (&[("kind", "meeting_held")], "Record the introduction first"),
        (
            &[("kind", "won"), ("amount", "5000")],
            "Record the introduction first",
        ),
        (
            &[("kind", "introduced"), ("occurred_on", "2999-01-01")],
            "That date is in the future",
        ),
        (
            &[("kind", "introduced"), ("occurred_on", &before)],
            "before the ask was made",
        ),
        (
            &[("kind", "introduced"), ("amount", "-5")],
            "An amount cannot be negative.",
        ),
        (&[("kind", "note")], "Write the note."),
    ];
    for (fields, message) in refused {
        record(&app, ask, fields)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains(message);
    }
    assert_eq!(stage(&app, ask).await, "asked");
    assert_eq!(app.count("select count(*) from ask_events").await, 0);

    record(&app, ask, &[("kind", "introduced")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let refused: [(&[(&str, &str)], &str); 4] = [
        (&[("kind", "promised_intro")], "it can only move forward"),
        (&[("kind", "introduced")], "it can only move forward"),
        (&[("kind", "declined")], "The introduction already happened"),
        (&[("kind", "won")], "A win needs its amount."),
    ];
    for (fields, message) in refused {
        record(&app, ask, fields)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains(message);
    }
    assert_eq!(stage(&app, ask).await, "introduced");
    assert_eq!(app.count("select count(*) from ask_events").await, 1);

    record(&app, ask, &[("kind", "won"), ("amount", "12,500.50")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let (stage_now, amount, closed): (String, Option<i64>, bool) =
        sqlx::query_as("select stage, amount_won_cents, closed_at is not null from referral_asks where ask_id = $1")
            .bind(ask)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (stage_now.as_str(), amount, closed),
        ("won", Some(1_250_050), true)
    );
    for kind in ["lost", "meeting_held", "expired"] {
        record(&app, ask, &[("kind", kind)])
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("This ask has ended");
    }
    // Closing the loop is still welcome after the end.
    record(&app, ask, &[("kind", "source_thanked")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(stage(&app, ask).await, "won");
    assert_eq!(app.count("select count(*) from ask_events").await, 3);
}

#[tokio::test]
async fn events_create_the_next_follow_ups_and_complete_the_ones_they_satisfy() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let ask = log_ask(&app, "Sam Source", "Tia Target", "Expansion").await;
    assert_eq!(open_follow_ups(&app, ask).await, ["ask_follow_up"]);

    record(&app, ask, &[("kind", "introduced")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        open_follow_ups(&app, ask).await,
        ["contact_prospect", "thank_source"]
    );
    app.get("/")
        .await
        .assert_contains("Thank Sam Source for the introduction to Tia Target");

    record(&app, ask, &[("kind", "source_thanked")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(open_follow_ups(&app, ask).await, ["contact_prospect"]);
    record(&app, ask, &[("kind", "meeting_held")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(open_follow_ups(&app, ask).await, ["update_source"]);
    record(
        &app,
        ask,
        &[("kind", "lost"), ("note", "Went with a competitor")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        open_follow_ups(&app, ask).await,
        ["report_outcome", "update_source"]
    );
    let page = app.get(&format!("/asks/{ask}")).await;
    page.assert_contains("✓ Thanked Sam Source")
        .assert_contains("○ Reported the outcome");
    record(&app, ask, &[("kind", "source_updated")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(open_follow_ups(&app, ask).await.is_empty());
    app.get(&format!("/asks/{ask}"))
        .await
        .assert_contains("✓ Reported the outcome")
        .assert_contains("Went with a competitor");

    // An overdue follow-up that an event satisfies loses its overdue flag with it.
    let other = log_ask(&app, "Ola Other", "Pia Prospect", "Growth").await;
    sqlx::query("update follow_ups set overdue_since = now() where ask_id = $1")
        .bind(other)
        .execute(&app.pool)
        .await
        .unwrap();
    record(&app, other, &[("kind", "introduced")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(&format!(
            "select count(*) from follow_ups where ask_id = {other} and overdue_since is not null"
        ))
        .await,
        0
    );
    let audited = app
        .count("select count(*) from audit_log where entity in ('ask', 'ask_event', 'follow_up')")
        .await;
    assert!(
        audited >= 12,
        "asks, events and follow-ups are audited ({audited})"
    );
}

#[tokio::test]
async fn a_rep_cannot_see_or_change_another_reps_asks_and_a_manager_sees_the_subtrees() {
    let app = TestApp::spawn().await;
    let boss = app
        .create_user("boss@example.com", "Boss", "manager", None)
        .await;
    let alice = app.new_client();
    alice
        .login_as_new("alice@example.com", "rep", Some(boss))
        .await;
    let ask = log_ask(&alice, "Alice Source", "Alice Target", "Alice's reason").await;

    let bob = app.new_client();
    bob.login_as_new("bob@example.com", "rep", None).await;
    bob.get(&format!("/asks/{ask}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    bob.get("/asks").await.assert_lacks("Alice Source");
    bob.get("/").await;
    bob.post_form(&format!("/asks/{ask}/events"), &[("kind", "introduced")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    bob.post_form(
        &format!("/asks/{ask}"),
        &[
            ("reason", "hijacked"),
            ("channel", "phone"),
            ("asked_on", "2026-01-01"),
        ],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    let alices_follow_up: i64 =
        sqlx::query_scalar("select follow_up_id from follow_ups where ask_id = $1")
            .bind(ask)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    bob.post_form(&format!("/follow-ups/{alices_follow_up}/done"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(stage(&app, ask).await, "asked");
    assert_eq!(
        app.count("select count(*) from follow_ups where done_at is not null")
            .await,
        0
    );

    let manager = app.new_client();
    manager
        .login("boss@example.com", crate::common::PASSWORD)
        .await;
    manager.get("/asks").await.assert_contains("Alice Source");
    manager
        .get(&format!("/asks/{ask}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Alice&#39;s reason");
    manager
        .post_form(&format!("/asks/{ask}/events"), &[("kind", "introduced")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_double_submitted_log_form_creates_one_ask() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let week = app.get("/").await;
    let submission = input_value(&week.body, "submission_id").unwrap();
    let fields = [
        ("source", "Brand New Source"),
        ("target", "A prospect"),
        ("reason", "Because"),
        ("submission_id", submission.as_str()),
    ];
    // Twice at the same moment, then once more after.
    let (first, second) = tokio::join!(
        app.post_form("/asks", &fields),
        app.post_form("/asks", &fields)
    );
    let third = app.post_form("/asks", &fields).await;
    for res in [&first, &second, &third] {
        res.assert_status(StatusCode::SEE_OTHER);
    }
    assert_eq!(first.location(), second.location());
    assert_eq!(first.location(), third.location());
    assert_eq!(app.count("select count(*) from referral_asks").await, 1);
    assert_eq!(
        app.count("select count(*) from contacts").await,
        1,
        "the new source is created once"
    );
    assert_eq!(app.count("select count(*) from follow_ups").await, 1);
}

#[tokio::test]
async fn two_concurrent_event_writes_leave_one_consistent_stage_and_history() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    for round in 0..5 {
        let ask = log_ask(&app, &format!("Source {round}"), "Target", "Reason").await;
        app.get(&format!("/asks/{ask}")).await;
        let path = format!("/asks/{ask}/events");
        let (a, b) = tokio::join!(
            app.post_form(&path, &[("kind", "introduced")]),
            app.post_form(&path, &[("kind", "declined")]),
        );
        let accepted = [a.status, b.status]
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count();
        let refused = [a.status, b.status]
            .iter()
            .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
            .count();
        assert_eq!(
            (accepted, refused),
            (1, 1),
            "exactly one of two conflicting events wins"
        );
        let events: Vec<String> =
            sqlx::query_scalar("select kind from ask_events where ask_id = $1")
                .bind(ask)
                .fetch_all(&app.pool)
                .await
                .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(
            stage(&app, ask).await,
            events[0],
            "the stage is the latest stage event"
        );
    }
}

#[tokio::test]
async fn asking_one_source_more_than_three_times_in_90_days_warns_before_saving() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    for i in 0..4 {
        log_ask(&app, "Connie Connector", &format!("Prospect {i}"), "Reason").await;
    }
    let week = app.get("/").await;
    let submission = input_value(&week.body, "submission_id").unwrap();
    let fields = [
        ("source", "Connie Connector"),
        ("target", "Prospect 5"),
        ("reason", "Reason"),
        ("submission_id", submission.as_str()),
    ];
    let warned = app.post_form("/asks", &fields).await;
    warned
        .assert_status(StatusCode::OK)
        .assert_contains("4 times in the last 90 days")
        .assert_contains("Log it anyway");
    assert_eq!(app.count("select count(*) from referral_asks").await, 4);
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirm_load", "1"));
    app.post_form("/asks", &confirmed)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.count("select count(*) from referral_asks").await, 5);
}

#[tokio::test]
async fn follow_ups_are_done_or_postponed_in_one_click_and_promises_are_kept_on_the_list() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let ask = log_ask(&app, "Sam Source", "Tia Target", "Expansion").await;
    let id: i64 = sqlx::query_scalar("select follow_up_id from follow_ups where ask_id = $1")
        .bind(ask)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let due = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, time::Date>(
                "select due_on from follow_ups where follow_up_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let first = due(&app).await;
    app.get("/follow-ups")
        .await
        .assert_contains("Follow up with Sam Source");
    app.post_form(
        &format!("/follow-ups/{id}/postpone"),
        &[("by", "day"), ("return_to", "/follow-ups")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(due(&app).await - first, time::Duration::days(1));
    app.get("/follow-ups").await;
    app.post_form(&format!("/follow-ups/{id}/postpone"), &[("by", "week")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(due(&app).await - first, time::Duration::days(8));
    app.get("/follow-ups").await;
    app.post_form(
        &format!("/follow-ups/{id}/postpone"),
        &[("to", "2999-12-31")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(due(&app).await.year(), 2999);
    app.post_form(
        &format!("/follow-ups/{id}/postpone"),
        &[("to", "2001-01-01"), ("return_to", "/follow-ups")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("Pick today or a later date.");
    assert_eq!(due(&app).await.year(), 2999);

    // A promise tied to the ask.
    app.get(&format!("/asks/{ask}")).await;
    let promise = app
        .post_form(
            "/follow-ups",
            &[
                ("title", "Send Tia the case study"),
                ("due_on", "2999-01-15"),
                ("kind", "promise"),
                ("ask_id", &ask.to_string()),
                ("return_to", &format!("/asks/{ask}")),
            ],
        )
        .await;
    promise.assert_status(StatusCode::SEE_OTHER);
    app.get(promise.location())
        .await
        .assert_contains("Send Tia the case study");
    let bad = app
        .post_form("/follow-ups", &[("title", ""), ("due_on", "someday")])
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("What do you owe?")
        .assert_contains("Enter a date like");

    app.get("/follow-ups").await;
    app.post_form(&format!("/follow-ups/{id}/done"), &[("return_to", "/")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(&format!(
            "select count(*) from follow_ups where follow_up_id = {id} and done_at is not null"
        ))
        .await,
        1
    );
    let kinds: Vec<String> = sqlx::query_scalar("select action from audit_log where entity = 'follow_up' and entity_id = $1 order by audit_id")
        .bind(id)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        kinds,
        ["create", "postpone", "postpone", "postpone", "done"]
    );
}

#[tokio::test]
async fn the_ask_list_filters_by_stage_and_overdue_and_pages_by_keyset() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("rep@example.com", "rep", None).await;
    let source: i64 = sqlx::query_scalar(
        "insert into contacts (owner_id, name) values ($1, 'Bulk Source') returning contact_id",
    )
    .bind(rep.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into referral_asks (rep_id, source_contact_id, target_description, asked_on)
         select $1, $2, 'Target ' || lpad(n::text, 3, '0'), date '2026-01-01' + n from generate_series(1, 75) n",
    )
    .bind(rep.0).bind(source).execute(&app.pool).await.unwrap();
    let first = app.get("/asks").await;
    first
        .assert_contains("Target 075")
        .assert_lacks("Target 025");
    let start = first.body.find("rel=\"next\"").expect("a next page");
    let href_start = first.body[..start].rfind("href=\"").unwrap() + 6;
    let next = first.body[href_start..href_start + first.body[href_start..].find('"').unwrap()]
        .replace("&#38;", "&");
    let second = app.get(&next).await;
    second
        .assert_contains("Target 025")
        .assert_contains("Target 001")
        .assert_lacks("Target 026")
        .assert_lacks("rel=\"next\"");

    let logged = log_ask(&app, "Sam Source", "Tia Target", "Expansion").await;
    record(&app, logged, &[("kind", "introduced")]).await;
    app.get("/asks?stage=introduced")
        .await
        .assert_contains("Tia Target")
        .assert_lacks("Target 075");
    sqlx::query("update follow_ups set overdue_since = now() where ask_id = $1")
        .bind(logged)
        .execute(&app.pool)
        .await
        .unwrap();
    app.get("/asks?overdue=1")
        .await
        .assert_contains("Tia Target")
        .assert_lacks("Target 075");
    app.get("/asks?from=2026-03-01&to=2026-03-05")
        .await
        .assert_contains("Target 060")
        .assert_lacks("Target 064")
        .assert_lacks("Target 058");
}

#[tokio::test]
async fn thanking_the_source_through_its_follow_up_ticks_thanked_on_the_ask_once() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let ask = log_ask(&app, "Sam Source", "Tia Target", "Expansion").await;
    record(&app, ask, &[("kind", "introduced")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let thank: i64 = sqlx::query_scalar(
        "select follow_up_id from follow_ups where ask_id = $1 and kind = 'thank_source'",
    )
    .bind(ask)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let thanked = || {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from ask_events where ask_id = $1 and kind = 'source_thanked'",
            )
            .bind(ask)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(thanked().await, 0);
    app.get("/follow-ups").await;
    app.post_form(&format!("/follow-ups/{thank}/done"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        thanked().await,
        1,
        "the follow-up done is the source thanked"
    );
    app.get(&format!("/asks/{ask}"))
        .await
        .assert_contains("Done from the follow-up: Thank Sam Source");
    // Done again (a second tab): still one fact.
    app.post_form(&format!("/follow-ups/{thank}/done"), &[])
        .await;
    assert_eq!(thanked().await, 1);
    // The other way round is unchanged: recording the update on the ask settles its follow-up.
    record(&app, ask, &[("kind", "meeting_held")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(
        open_follow_ups(&app, ask)
            .await
            .contains(&"update_source".to_string())
    );
    record(&app, ask, &[("kind", "source_updated")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(
        !open_follow_ups(&app, ask)
            .await
            .contains(&"update_source".to_string())
    );
}

#[tokio::test]
async fn several_follow_ups_are_marked_done_at_once_and_a_foreign_one_spoils_none() {
    let app = TestApp::spawn().await;
    let other = app.new_client();
    other.login_as_new("other@example.com", "rep", None).await;
    let foreign_ask = log_ask(&other, "Olga Source", "Their CTO", "Knows the team").await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let mut asks = Vec::new();
    for name in ["Ann", "Ben", "Cat"] {
        asks.push(log_ask(&app, &format!("{name} Source"), "A prospect", "Growth").await);
    }
    let follow_up = |ask: i64| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select follow_up_id from follow_ups where ask_id = $1")
                .bind(ask)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let (a, b, c) = (
        follow_up(asks[0]).await.to_string(),
        follow_up(asks[1]).await.to_string(),
        follow_up(asks[2]).await.to_string(),
    );
    let foreign = follow_up(foreign_ask).await.to_string();
    let page = app.get("/follow-ups").await;
    page.assert_contains(&format!("name=\"id\" value=\"{a}\" form=\"bulk-done\""))
        .assert_contains("Follow up with Ann Source about an introduction to A prospect");

    let open = || app.count("select count(*) from follow_ups where done_at is null");
    app.post_form("/follow-ups/done", &[])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Tick the follow-ups you have done first.");
    app.post_form("/follow-ups/done", &[("id", &a), ("id", &foreign)])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post_form("/follow-ups/done", &[("id", &a), ("id", "x1")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(open().await, 4, "a refused selection changes nothing");

    let res = app
        .post_form("/follow-ups/done", &[("id", &a), ("id", &b), ("id", &a)])
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    app.get(res.location())
        .await
        .assert_contains("Done: 2 follow-ups.");
    assert_eq!(open().await, 2);
    let still_open: i64 = sqlx::query_scalar(
        "select count(*) from follow_ups where follow_up_id = $1::text::int8 and done_at is null",
    )
    .bind(&c)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(still_open, 1);
    assert_eq!(
        app.count("select count(*) from audit_log where entity = 'follow_up' and action = 'done'")
            .await,
        2
    );
}

/// The values of the event form's options on an ask's page.
fn offered_events(html: &str) -> Vec<String> {
    let select = &html[html.find("<select id=\"kind\"").unwrap()..];
    let select = &select[..select.find("</select>").unwrap()];
    select
        .split("<option value=\"")
        .skip(1)
        .map(|o| o[..o.find('"').unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn the_ask_page_shows_its_stage_and_offers_only_the_moves_allowed_from_there() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let ask = log_ask(&app, "Sam Source", "Tia Target", "Growth").await;
    let page = app.get(&format!("/asks/{ask}")).await;
    page.assert_contains("<li class=\"current \" aria-current=\"step\">Asked</li>")
        .assert_contains("<li class=\"ahead ok\">Won</li>")
        .assert_contains(
            "value=\"introduced\" class=\"secondary small-button\" data-undo=\"Recorded: Introduced\">Introduced</button>",
        )
        .assert_contains("value=\"declined\" class=\"secondary small-button\"")
        .assert_lacks("value=\"meeting_held\" class=\"secondary small-button\"")
        .assert_lacks("Won…");
    let offered = offered_events(&page.body);
    assert!(offered.contains(&"introduced".to_string()) && offered.contains(&"note".to_string()));
    assert!(
        !offered.contains(&"won".to_string()) && !offered.contains(&"meeting_held".to_string())
    );

    // One click on a move records it, dated today.
    app.post_form(&format!("/asks/{ask}/events"), &[("kind", "introduced")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(stage(&app, ask).await, "introduced");
    let page = app.get(&format!("/asks/{ask}")).await;
    page.assert_contains("<li class=\"done \">Asked</li>")
        .assert_contains("<li class=\"current warn\" aria-current=\"step\">Introduced</li>")
        .assert_contains("Won…")
        .assert_contains("value=\"lost\" class=\"secondary small-button\"")
        .assert_lacks("value=\"declined\" class=\"secondary small-button\"");
    let offered = offered_events(&page.body);
    assert!(offered.contains(&"won".to_string()));
    assert!(
        !offered.contains(&"declined".to_string())
            && !offered.contains(&"promised_intro".to_string())
    );

    // A win needs its amount; then the ask has ended and only the loop with the source is left.
    app.post_form(&format!("/asks/{ask}/events"), &[("kind", "won")])
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    app.post_form(
        &format!("/asks/{ask}/events"),
        &[("kind", "won"), ("amount", "12,500")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let page = app.get(&format!("/asks/{ask}")).await;
    page.assert_contains("<li class=\"current ok\" aria-current=\"step\">Won</li>")
        .assert_lacks("id=\"moves\"");
    assert_eq!(
        offered_events(&page.body),
        ["source_thanked", "source_updated", "note"]
    );
}

#[tokio::test]
async fn without_javascript_done_and_postpone_come_back_to_the_same_place_in_the_list() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("rep@example.com", "rep", None).await;
    let a = app.owe(rep, "Call Ana", 1).await;
    let b = app.owe(rep, "Call Ben", 2).await;
    let c = app.owe(rep, "Call Cy", 3).await;
    for (page, list) in [("/", "owed"), ("/follow-ups", "open")] {
        let body = app.get(page).await.body;
        // Done comes back to the item after it, or to the list after the last one; a postponed
        // item is still there, so postpone comes back to it. The browser keeps the form's
        // fragment across the redirect.
        for expected in [
            format!("action=\"/follow-ups/{a}/done#follow-up-{b}\""),
            format!("action=\"/follow-ups/{b}/done#follow-up-{c}\""),
            format!("action=\"/follow-ups/{c}/done#{list}\""),
            format!("action=\"/follow-ups/{a}/postpone#follow-up-{a}\""),
        ] {
            assert!(body.contains(&expected), "{page}: {expected}");
        }
        assert!(body.contains(&format!("id=\"{list}\"")), "{page}");
    }
    let done = app
        .post_form(
            &format!("/follow-ups/{a}/done"),
            &[("return_to", "/follow-ups")],
        )
        .await;
    done.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/follow-ups");
    let body = app.get("/follow-ups").await.body;
    assert!(body.contains(&format!("id=\"follow-up-{b}\"")));
    assert!(!body.contains(&format!("id=\"follow-up-{a}\"")));
}

#[tokio::test]
async fn a_source_named_for_the_first_time_is_written_once_with_its_ask_facts() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let ask = log_ask(
        &app,
        "Nina New",
        "A buyer at a brewery",
        "They are expanding",
    )
    .await;
    let source: i64 =
        sqlx::query_scalar("select source_contact_id from referral_asks where ask_id = $1")
            .bind(ask)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // The row's version and whether its facts are what the fold computes from the asks.
    let state = || async {
        warmline::db::metrics::fold_rollups(&app.pool)
            .await
            .unwrap();
        sqlx::query_as::<_, (String, bool, i32)>(
            "select xmin::text,
                    recent_ask_dates = ask_dates(contact_id, null)
                    and intro_ask_dates = ask_dates(contact_id, stages_reached_introduction())
                    and won_ask_dates = ask_dates(contact_id, '{won}')
                    and last_touch_at = last_asked_on::timestamptz,
                    cardinality(recent_ask_dates)
             from contacts where contact_id = $1",
        )
        .bind(source)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let (version, current, asks) = state().await;
    assert!(current, "the new source carries its ask facts");
    assert_eq!(asks, 1);
    let before_fold: String =
        sqlx::query_scalar("select xmin::text from referral_asks where ask_id = $1")
            .bind(ask)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        version, before_fold,
        "the fold left the source as the quick log wrote it"
    );

    // A second ask of the same source is folded into the row.
    log_ask(&app, "Nina New", "Her neighbour's firm", "Same street").await;
    let (again, current, asks) = state().await;
    assert!(current);
    assert_eq!(asks, 2);
    assert_ne!(again, version, "the second ask changed the source's facts");
}

#[tokio::test]
async fn a_long_list_of_follow_ups_pages_by_due_date_and_my_week_shows_the_soonest() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("busy@example.com", "rep", None).await;
    // 40 overdue, 5 due today, 18 later this week and 187 after it: 250 open, 2 done.
    sqlx::query(
        "insert into follow_ups (owner_id, kind, title, due_on)
         select $1, 'other', 'Owed #' || lpad(n::text, 4, '0'),
                (now() at time zone u.time_zone)::date
                  + case when n <= 40 then -n when n <= 45 then 0
                         when n <= 63 then 1 + n % 6 else 7 + n % 90 end
         from generate_series(1, 250) n, users u where u.user_id = $1",
    )
    .bind(rep.0)
    .execute(&app.pool)
    .await
    .unwrap();
    let done = app.owe(rep, "Already done", 0).await;
    app.post_form(&format!("/follow-ups/{done}/done"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    // Each item names its title more than once (its buttons' labels): the distinct titles.
    let owed = |html: &str| -> std::collections::BTreeSet<String> {
        html.match_indices("Owed #")
            .map(|(at, _)| html[at..at + 10].to_string())
            .collect()
    };
    let next = |html: &str| -> Option<String> {
        let end = html.find(r#"" rel="next""#)?;
        let start = html[..end].rfind("href=\"")? + 6;
        Some(html[start..end].replace("&#38;", "&").replace("&amp;", "&"))
    };
    let mut seen = Vec::new();
    let mut path = "/follow-ups".to_string();
    let mut pages = 0;
    loop {
        let page = app.get(&path).await;
        page.assert_status(StatusCode::OK)
            .assert_contains("of 250 open")
            .assert_lacks("Already done</span>");
        let titles = owed(&page.body);
        assert!(titles.len() <= 100, "a page lists at most 100");
        seen.extend(titles);
        pages += 1;
        match next(&page.body) {
            Some(link) if pages < 10 => path = link,
            Some(link) => panic!("still a next page after ten: {link}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    // The first page holds the 40 overdue and counts each group in full.
    app.get("/follow-ups")
        .await
        .assert_contains("Overdue <span class=\"count\">40</span>")
        .assert_contains("Later <span class=\"count\">187</span>");
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 250, "every open follow-up is listed");
    assert_eq!(seen.len(), 250, "and none on two pages");

    // A malformed position is the first page, not an error.
    app.get("/follow-ups?after_due=yesterday&after_id=x")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Owed #0040");

    // My week lists the soonest due and counts the rest of the week.
    let week = app.get("/").await;
    week.assert_status(StatusCode::OK)
        .assert_contains("Overdue <span class=\"count\">40</span>")
        .assert_contains("33 more due by the end of the week");
    assert_eq!(owed(&week.body).len(), 30);
}

/// A quick log's new name waits in the name index's pending list until the background task
/// merges it, so the log that would find the list full never merges everyone's entries itself;
/// search finds the name before and after.
#[tokio::test]
async fn the_background_task_merges_new_names_into_the_search_index() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    sqlx::query("create extension pageinspect")
        .execute(&app.pool)
        .await
        .unwrap();
    let pending = || async {
        sqlx::query_scalar::<_, i64>(
            "select (gin_metapage_info(get_raw_page('contacts_name_trgm_idx', 0))).n_pending_tuples",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let app = &app;
    let found = |query: &'static str| async move {
        app.get(&format!("/contacts?q={query}"))
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("Quincy Newcombe");
    };
    log_ask(app, "Quincy Newcombe", "Their CFO", "Expanding").await;
    assert!(pending().await > 0, "the new name is pending");
    found("quincy").await;

    let (stop, stopping) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(warmline::dashboard::fold_continuously(
        app.pool.clone(),
        stopping,
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while pending().await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the background task merges the pending names"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    task.await.unwrap();
    found("newcomb").await;
    assert_eq!(
        warmline::db::contacts::merge_pending_search_entries(&app.pool)
            .await
            .unwrap(),
        0,
        "nothing is left to merge"
    );
}
