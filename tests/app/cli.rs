//! The command line: `warmline user add` and `warmline token create`.

use axum::http::StatusCode;
use tokio::process::Command;
use warmline::config::Config;
use warmline::state::AppState;

use crate::common::{PASSWORD, TestApp, fresh_database};

async fn warmline(url: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warmline"));
    cmd.args(args).env("DATABASE_URL", url);
    crate::common::output_of(cmd, stdin).await
}

#[tokio::test]
async fn user_add_reads_the_password_from_stdin_and_token_create_prints_a_working_token() {
    let (pool, url) = fresh_database().await;
    let app = TestApp::over(
        warmline::app(AppState::new(
            pool.clone(),
            Config::for_database(Some(url.clone())),
        )),
        pool,
    );

    let (ok, stdout, stderr) = warmline(
        &url,
        &[
            "user",
            "add",
            "--email",
            "mia@example.com",
            "--name",
            "Mia Manager",
            "--role",
            "manager",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("added user"), "{stdout}");

    let (ok, _, stderr) = warmline(
        &url,
        &[
            "user",
            "add",
            "--email",
            "rob@example.com",
            "--name",
            "Rob Rep",
            "--role",
            "rep",
            "--manager",
            "MIA@example.com",
            "--time-zone",
            "America/Los_Angeles",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(ok, "{stderr}");
    let (manager, tz): (String, String) = sqlx::query_as(
        "select m.email, u.time_zone from users u join users m on m.user_id = u.manager_id where u.email = 'rob@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (manager.as_str(), tz.as_str()),
        ("mia@example.com", "America/Los_Angeles")
    );

    // Bad input is refused field by field and adds nobody.
    let (ok, _, stderr) = warmline(
        &url,
        &[
            "user",
            "add",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--role",
            "boss",
            "--password-stdin",
        ],
        "short\n",
    )
    .await;
    assert!(!ok);
    assert!(
        stderr.contains("role: Choose a role.")
            && stderr.contains("password: Use at least 10 characters."),
        "{stderr}"
    );
    let (ok, _, stderr) = warmline(
        &url,
        &[
            "user",
            "add",
            "--email",
            "y@example.com",
            "--name",
            "Y",
            "--role",
            "rep",
            "--manager",
            "ghost@example.com",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(
        !ok && stderr.contains("no user has the e-mail address ghost@example.com"),
        "{stderr}"
    );
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 2);

    let (ok, stdout, stderr) = warmline(
        &url,
        &[
            "token",
            "create",
            "--email",
            "rob@example.com",
            "--name",
            "crm sync",
        ],
        "",
    )
    .await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("shown once"));
    let token = stdout.trim();
    let me = app
        .get_with(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    me.assert_status(StatusCode::OK)
        .assert_contains("rob@example.com");
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where actor_id is null and entity in ('user', 'api_token') and action = 'create'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        audited, 3,
        "the CLI's user and token creations are audited, with no actor"
    );

    // --read-only makes a token that reads and cannot write.
    let (ok, stdout, stderr) = warmline(
        &url,
        &[
            "token",
            "create",
            "--email",
            "rob@example.com",
            "--name",
            "bi",
            "--read-only",
        ],
        "",
    )
    .await;
    assert!(ok, "{stderr}");
    let reader = stdout.trim();
    app.api("GET", "/api/v1/asks", reader, None, &[])
        .await
        .assert_status(StatusCode::OK);
    app.api(
        "POST",
        "/api/v1/contacts",
        reader,
        Some(serde_json::json!({ "name": "Ida" })),
        &[],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);

    // A database failure reaches the command line with the command's context over its cause.
    sqlx::query("alter table api_tokens add constraint no_more_tokens check (false) not valid")
        .execute(&app.pool)
        .await
        .unwrap();
    let (ok, stdout, stderr) = warmline(
        &url,
        &[
            "token",
            "create",
            "--email",
            "rob@example.com",
            "--name",
            "second",
        ],
        "",
    )
    .await;
    assert!(!ok && stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("error: the token was not created: database error: ")
            && stderr.contains("no_more_tokens"),
        "{stderr}"
    );
}

#[tokio::test]
async fn sweep_runs_once_and_prints_what_it_did() {
    let (pool, url) = fresh_database().await;
    let app = TestApp::over(
        warmline::app(AppState::new(
            pool.clone(),
            Config::for_database(Some(url.clone())),
        )),
        pool,
    );
    let manager = app
        .create_user("m@example.com", "Manager", "manager", None)
        .await;
    let rep = app
        .create_user("r@example.com", "Rep", "rep", Some(manager))
        .await;
    sqlx::query("insert into follow_ups (owner_id, kind, title, due_on) values ($1, 'other', 'Late', current_date - 10)")
        .bind(rep.0)
        .execute(&app.pool)
        .await
        .unwrap();
    let (ok, stdout, stderr) = warmline(&url, &["sweep"], "").await;
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("flagged 1 overdue") && stdout.contains("escalated 1"),
        "{stdout}"
    );
    let (ok, stdout, _) = warmline(&url, &["sweep"], "").await;
    assert!(
        ok && stdout.contains("flagged 0 overdue") && stdout.contains("wrote 0 notifications"),
        "{stdout}"
    );
}

#[tokio::test]
async fn demo_loads_a_realistic_organisation_once_and_a_second_run_changes_nothing() {
    let (pool, url) = fresh_database().await;
    let (ok, stdout, stderr) = warmline(&url, &["demo"], "").await;
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("ada@demo.warmline.example") && stdout.contains(warmline::demo::PASSWORD),
        "{stdout}"
    );
    let shape: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from users where role = 'admin'), (select count(*) from users where role = 'manager'),
                (select count(*) from users where role = 'rep'), (select count(*) from contacts),
                (select count(*) from referral_asks), (select count(*) from follow_ups where overdue_since is not null),
                (select count(*) from coaching_notes)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((shape.0, shape.1, shape.2, shape.3), (1, 2, 8, 600));
    assert!(shape.4 > 400, "26 weeks of asks: {}", shape.4);
    assert!(
        shape.5 > 0 && shape.6 >= 8,
        "some overdue follow-ups and coaching notes: {shape:?}"
    );
    let (won, lost, asked): (i64, i64, i64) = sqlx::query_as(
        "select count(*) filter (where stage = 'won'), count(*) filter (where stage = 'lost'), count(*) from referral_asks",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        won > 0 && lost > 0 && won * 5 < asked,
        "plausible conversion: {won} won, {lost} lost of {asked}"
    );

    let before: i64 = sqlx::query_scalar("select count(*) from referral_asks")
        .fetch_one(&pool)
        .await
        .unwrap();
    let (ok, stdout, _) = warmline(&url, &["demo"], "").await;
    assert!(ok && stdout.contains("nothing changed"), "{stdout}");
    let after: i64 = sqlx::query_scalar("select count(*) from referral_asks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn seed_fills_an_empty_database_through_copy_and_refuses_real_data_without_force() {
    let (pool, url) = fresh_database().await;
    let keys =
        "select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                from pg_constraint where contype = 'f' and convalidated order by 1";
    let keys_before: Vec<String> = sqlx::query_scalar(keys).fetch_all(&pool).await.unwrap();
    let (ok, stdout, stderr) = warmline(
        &url,
        &[
            "seed",
            "--reps",
            "12",
            "--contacts",
            "600",
            "--asks",
            "3000",
            "--relationships",
            "2000",
        ],
        "",
    )
    .await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("3000 asks"), "{stdout}");
    assert!(
        stdout.contains("600 contacts at 600 companies, 2000 relationships"),
        "{stdout}"
    );
    // Where the time went, phase by phase.
    assert!(
        stdout.contains(", relationships ") && stdout.contains("vacuum analyze"),
        "{stdout}"
    );
    let within_networks: i64 = sqlx::query_scalar(
        "select count(*) from relationships r join contacts a on a.contact_id = r.from_contact_id
         join contacts b on b.contact_id = r.to_contact_id
         where a.owner_id = r.owner_id and b.owner_id = r.owner_id and a.company_id is not null",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        within_networks, 2000,
        "every relationship inside one network"
    );
    let shape: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from users where role = 'manager'), (select count(*) from users where role = 'rep'),
                (select count(*) from contacts), (select count(*) from referral_asks),
                (select count(*) from ask_events), (select count(*) from follow_ups where done_at is null and due_on < current_date)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((shape.0, shape.1, shape.2, shape.3), (2, 12, 600, 3000));
    assert!(
        shape.4 > 3000 && shape.5 > 0,
        "events and some overdue follow-ups: {shape:?}"
    );
    let span: (time::Date, time::Date) =
        sqlx::query_as("select min(asked_on), max(asked_on) from referral_asks")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        (span.1 - span.0).whole_days() > 600,
        "spread over two years: {span:?}"
    );
    // The foreign keys dropped for the load are back, checked, under their own names.
    let keys_after: Vec<String> = sqlx::query_scalar(keys).fetch_all(&pool).await.unwrap();
    assert_eq!(keys_before, keys_after);
    assert!(
        keys_after
            .iter()
            .any(|k| k.starts_with("referral_asks referral_asks_source_contact_id_fkey ")),
        "{keys_after:?}"
    );
    // Left in steady state: vacuumed (the visibility map covers every page, so index-only
    // scans skip the heap) and analysed.
    let unsteady: Vec<(String, i32, i32)> = sqlx::query_as(
        "select c.relname::text, c.relpages, c.relallvisible
         from pg_class c join pg_stat_user_tables s on s.relid = c.oid
         where c.relname in ('users', 'contacts', 'referral_asks', 'ask_events', 'follow_ups',
                             'ask_rollups', 'ask_week_rollups', 'ask_year_rollups')
           and (c.relpages = 0 or c.relallvisible < c.relpages
                or (s.last_analyze is null and s.last_autoanalyze is null))",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        unsteady.is_empty(),
        "(table, pages, all-visible): {unsteady:?}"
    );
    // And kept so as the team works: the tables the dashboard counts with index-only scans are
    // vacuumed after a fixed number of changed rows, not a fifth of the table.
    let kept: Vec<String> = sqlx::query_scalar(
        "select relname::text from pg_class
         where 'autovacuum_vacuum_scale_factor=0' = any(reloptions) order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for table in ["ask_rollups", "ask_week_rollups", "follow_ups"] {
        assert!(kept.iter().any(|t| t == table), "{table}: {kept:?}");
    }
    // New asks still get ids after the seeded ones.
    let next: i64 = sqlx::query_scalar(
        "insert into referral_asks (rep_id, source_contact_id, target_description, asked_on)
         select rep_id, source_contact_id, 'x', current_date from referral_asks limit 1 returning ask_id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(next, 3001);

    // Seeding again adds to seed data; real users make it refuse unless forced.
    TestApp::over(
        warmline::app(AppState::new(
            pool.clone(),
            Config::for_database(Some(url.clone())),
        )),
        pool.clone(),
    )
    .create_user("real@example.com", "Real Person", "rep", None)
    .await;
    let (ok, _, stderr) = warmline(
        &url,
        &["seed", "--reps", "2", "--contacts", "10", "--asks", "10"],
        "",
    )
    .await;
    assert!(
        !ok && stderr.contains("not seed data") && stderr.contains("--force"),
        "{stderr}"
    );
    let (ok, _, stderr) = warmline(
        &url,
        &[
            "seed",
            "--reps",
            "2",
            "--contacts",
            "10",
            "--asks",
            "10",
            "--force",
        ],
        "",
    )
    .await;
    assert!(ok, "{stderr}");
    let asks: i64 = sqlx::query_scalar("select count(*) from referral_asks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(asks, 3011);
}
