//! Contacts: validation, scoping, search, pagination, relationships, import and export.

use axum::http::StatusCode;

use crate::common::{PASSWORD, TestApp};

/// Creates a contact through the form and returns its id, having looked at the page it
/// lands on (so its flash message is not left for the next page).
async fn add_contact(app: &TestApp, fields: &[(&str, &str)]) -> i64 {
    app.get("/contacts/new").await;
    let res = app.post_form("/contacts", fields).await;
    res.assert_status(StatusCode::SEE_OTHER);
    app.get(res.location()).await.assert_status(StatusCode::OK);
    res.location()
        .trim_start_matches("/contacts/")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_contact_form_explains_every_bad_field_and_saves_nothing() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/contacts/new").await.assert_status(StatusCode::OK);
    let res = app
        .post_form(
            "/contacts",
            &[
                ("name", "  "),
                ("email", "bob@"),
                ("linkedin_url", "not a url"),
                ("kind", "vip"),
                ("strength", "7"),
                ("touch_cadence_days", "0"),
                ("phone", "call me"),
            ],
        )
        .await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Enter a name.")
        .assert_contains("Enter an e-mail address like name@example.com.")
        .assert_contains("Enter a web address like https://www.linkedin.com/in/name.")
        .assert_contains("Choose a kind from the list.")
        .assert_contains("Strength is a whole number from 1 (weak) to 5 (strong).")
        .assert_contains("Enter a number of days from 1 to 3650")
        .assert_contains("Enter a phone number")
        .assert_contains("value=\"bob@\"");
    assert_eq!(app.count("select count(*) from contacts").await, 0);
}

#[tokio::test]
async fn a_contact_is_created_edited_archived_and_restored_with_an_audit_trail() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let id = add_contact(
        &app,
        &[
            ("name", "Grace Hopper"),
            ("email", "grace@navy.example"),
            ("company", "US Navy"),
            ("kind", "client"),
            ("strength", "5"),
            ("linkedin_url", "linkedin.com/in/grace"),
        ],
    )
    .await;
    let page = app.get(&format!("/contacts/{id}")).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("Grace Hopper")
        .assert_contains("https://www.linkedin.com/in/grace")
        .assert_contains("Client");

    app.get(&format!("/contacts/{id}/edit"))
        .await
        .assert_contains("value=\"Grace Hopper\"");
    app.post_form(
        &format!("/contacts/{id}"),
        &[
            ("name", "Grace M. Hopper"),
            ("email", "grace@navy.example"),
            ("kind", "referral_source"),
            ("strength", "4"),
            ("touch_cadence_days", "90"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    app.get(&format!("/contacts/{id}"))
        .await
        .assert_contains("Grace M. Hopper")
        .assert_contains("every 90 days");

    app.post_form(&format!("/contacts/{id}/archive"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get("/contacts").await.assert_lacks("Grace M. Hopper");
    app.get("/contacts?archived=1")
        .await
        .assert_contains("Grace M. Hopper");
    app.post_form(&format!("/contacts/{id}/restore"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get("/contacts")
        .await
        .assert_contains("Grace M. Hopper");

    let actions: Vec<String> = sqlx::query_scalar("select action from audit_log where entity = 'contact' and entity_id = $1 order by audit_id")
        .bind(id)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(actions, ["create", "update", "archive", "restore"]);

    // A second contact with the same e-mail is refused with a field message.
    let dup = app
        .post_form(
            "/contacts",
            &[("name", "Someone Else"), ("email", "GRACE@navy.example")],
        )
        .await;
    dup.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Another of your contacts has this e-mail address.");
}

#[tokio::test]
async fn a_rep_cannot_read_edit_or_export_another_reps_contacts_but_their_manager_can_read_them() {
    let app = TestApp::spawn().await;
    let manager = app
        .create_user("boss@example.com", "Boss", "manager", None)
        .await;
    let alice = app.new_client();
    alice
        .login_as_new("alice@example.com", "rep", Some(manager))
        .await;
    let secret = add_contact(
        &alice,
        &[
            ("name", "Alice Secret Client"),
            ("email", "secret@client.example"),
        ],
    )
    .await;

    let bob = app.new_client();
    bob.login_as_new("bob@example.com", "rep", Some(manager))
        .await;
    bob.get(&format!("/contacts/{secret}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    bob.get(&format!("/contacts/{secret}/edit"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    bob.get(&format!("/contacts/{secret}/vcard"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    bob.get("/contacts").await;
    bob.post_form(&format!("/contacts/{secret}"), &[("name", "Stolen")])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    bob.post_form(&format!("/contacts/{secret}/archive"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    bob.get("/contacts?q=secret")
        .await
        .assert_lacks("Alice Secret Client");
    bob.get("/contacts/export.csv")
        .await
        .assert_status(StatusCode::OK)
        .assert_lacks("secret@client.example");
    bob.get("/contacts/export.vcf")
        .await
        .assert_lacks("secret@client.example");
    assert_eq!(app.count( "select count(*) from contacts where name = 'Alice Secret Client' and archived_at is null").await, 1);

    let boss = app.new_client();
    boss.login("boss@example.com", PASSWORD).await;
    boss.get(&format!("/contacts/{secret}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Alice Secret Client");
    boss.get("/contacts")
        .await
        .assert_contains("Alice Secret Client")
        .assert_contains("alice");
    boss.get(&format!("/contacts/{secret}/edit"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    boss.get("/contacts/export.csv")
        .await
        .assert_contains("secret@client.example");
}

#[tokio::test]
async fn search_forgives_typos_and_finds_partial_names_companies_and_emails() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    add_contact(
        &app,
        &[
            ("name", "Jonathan Whitaker"),
            ("company", "Acme Corporation"),
            ("email", "jw@acme.example"),
        ],
    )
    .await;
    add_contact(
        &app,
        &[
            ("name", "Priya Raman"),
            ("company", "Globex"),
            ("email", "priya@globex.example"),
        ],
    )
    .await;
    for (query, found, not_found) in [
        ("whitacker", "Jonathan Whitaker", "Priya Raman"),
        ("jonathon", "Jonathan Whitaker", "Priya Raman"),
        ("acme corp", "Jonathan Whitaker", "Priya Raman"),
        ("globx", "Priya Raman", "Jonathan Whitaker"),
        ("priya@glo", "Priya Raman", "Jonathan Whitaker"),
    ] {
        let res = app
            .get(&format!(
                "/contacts?q={}",
                query.replace(' ', "+").replace('@', "%40")
            ))
            .await;
        res.assert_status(StatusCode::OK)
            .assert_contains(found)
            .assert_lacks(not_found);
    }
    app.get("/contacts?q=zzzzqqq")
        .await
        .assert_contains("No contacts match.");
}

#[tokio::test]
async fn filters_by_kind_strength_and_time_since_last_touch() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    add_contact(
        &app,
        &[
            ("name", "Strong Client"),
            ("kind", "client"),
            ("strength", "5"),
        ],
    )
    .await;
    add_contact(
        &app,
        &[
            ("name", "Weak Prospect"),
            ("kind", "prospect"),
            ("strength", "1"),
        ],
    )
    .await;
    let fresh = add_contact(
        &app,
        &[
            ("name", "Fresh Source"),
            ("kind", "referral_source"),
            ("strength", "4"),
            ("touch_cadence_days", "30"),
        ],
    )
    .await;
    let stale = add_contact(
        &app,
        &[
            ("name", "Stale Source"),
            ("kind", "referral_source"),
            ("strength", "4"),
            ("touch_cadence_days", "30"),
        ],
    )
    .await;
    sqlx::query(
        "update contacts set last_touch_at = now() - interval '1 day' where contact_id = $1",
    )
    .bind(fresh)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "update contacts set last_touch_at = now() - interval '100 days' where contact_id = $1",
    )
    .bind(stale)
    .execute(&app.pool)
    .await
    .unwrap();

    let kind = app.get("/contacts?kind=client").await;
    kind.assert_contains("Strong Client")
        .assert_lacks("Weak Prospect")
        .assert_lacks("Fresh Source");
    let strong = app.get("/contacts?strength=4").await;
    strong
        .assert_contains("Strong Client")
        .assert_contains("Fresh Source")
        .assert_lacks("Weak Prospect");
    let untouched = app.get("/contacts?untouched=90").await;
    untouched
        .assert_contains("Stale Source")
        .assert_contains("Weak Prospect")
        .assert_lacks("Fresh Source");
    let due = app.get("/contacts?due=1").await;
    due.assert_contains("Stale Source")
        .assert_lacks("Fresh Source")
        .assert_lacks("Strong Client");
}

#[tokio::test]
async fn the_list_pages_by_keyset_without_gaps_or_repeats() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("rep@example.com", "rep", None).await;
    sqlx::query("insert into contacts (owner_id, name) select $1, 'Person ' || lpad(n::text, 3, '0') from generate_series(1, 120) n")
        .bind(rep.0)
        .execute(&app.pool)
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut path = "/contacts".to_string();
    for page in 1..=10 {
        assert!(page < 10, "the pages never end");
        let res = app.get(&path).await;
        res.assert_status(StatusCode::OK);
        let names: Vec<String> = res
            .body
            .match_indices(">Person ")
            .map(|(i, _)| res.body[i + 1..i + 11].to_string())
            .collect();
        assert!(names.len() <= 50, "page {page} has {} rows", names.len());
        seen.extend(names);
        let Some(start) = res.body.find("rel=\"next\"") else {
            break;
        };
        let href_start = res.body[..start].rfind("href=\"").unwrap() + 6;
        let href_end = href_start + res.body[href_start..].find('"').unwrap();
        path = res.body[href_start..href_end].replace("&#38;", "&");
    }
    let expected: Vec<String> = (1..=120).map(|n| format!("Person {n:03}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn relationships_show_both_ways_and_rank_who_can_introduce_me() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("rep@example.com", "rep", None).await;
    let prospect = add_contact(&app, &[("name", "Pat Prospect"), ("kind", "prospect")]).await;
    let ann = add_contact(&app, &[("name", "Ann Acquaintance"), ("kind", "client")]).await;
    let bea = add_contact(&app, &[("name", "Bea Bestfriend"), ("kind", "client")]).await;
    let cal = add_contact(
        &app,
        &[("name", "Cal Connector"), ("kind", "referral_source")],
    )
    .await;

    // Linked from either side.
    app.get(&format!("/contacts/{ann}/link?q=pat"))
        .await
        .assert_contains("Pat Prospect");
    app.post_form(
        &format!("/contacts/{ann}/relationships"),
        &[
            ("other_id", &prospect.to_string()),
            ("kind", "knows"),
            ("strength", "3"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    app.post_form(
        &format!("/contacts/{prospect}/relationships"),
        &[
            ("other_id", &bea.to_string()),
            ("kind", "friend"),
            ("strength", "5"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    app.post_form(
        &format!("/contacts/{cal}/relationships"),
        &[
            ("other_id", &prospect.to_string()),
            ("kind", "worked_with"),
            ("strength", "3"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    // The same pair again, either way round, is one relationship.
    let again = app
        .post_form(
            &format!("/contacts/{prospect}/relationships"),
            &[
                ("other_id", &ann.to_string()),
                ("kind", "knows"),
                ("strength", "3"),
            ],
        )
        .await;
    app.get(again.location())
        .await
        .assert_contains("already linked");
    assert_eq!(app.count("select count(*) from relationships").await, 3);

    app.get(&format!("/contacts/{ann}"))
        .await
        .assert_contains("Pat Prospect");
    app.get(&format!("/contacts/{bea}"))
        .await
        .assert_contains("Pat Prospect");

    // Cal has introduced people before; Ann has not; Bea knows Pat best.
    sqlx::query(
        "with a as (insert into referral_asks (rep_id, source_contact_id, target_description, asked_on, stage)
                    values ($1, $2, 'someone', current_date - 30, 'introduced') returning ask_id)
         insert into ask_events (ask_id, kind, actor_id, occurred_on) select ask_id, 'introduced', $1, current_date - 20 from a",
    )
    .bind(rep.0)
    .bind(cal)
    .execute(&app.pool)
    .await
    .unwrap();
    let page = app.get(&format!("/contacts/{prospect}")).await;
    let order: Vec<usize> = ["Bea Bestfriend", "Cal Connector", "Ann Acquaintance"]
        .iter()
        .map(|n| {
            page.body[page.body.find("Who can introduce me?").unwrap()..]
                .find(n)
                .unwrap()
        })
        .collect();
    assert!(
        order[0] < order[1] && order[1] < order[2],
        "ranked by strength, then past introductions: {order:?}"
    );
    page.assert_contains("1 past introduction");

    // Another rep cannot link to my contacts.
    let other = app.new_client();
    other.login_as_new("other@example.com", "rep", None).await;
    let theirs = add_contact(&other, &[("name", "Their Contact")]).await;
    other
        .post_form(
            &format!("/contacts/{theirs}/relationships"),
            &[
                ("other_id", &prospect.to_string()),
                ("kind", "knows"),
                ("strength", "3"),
            ],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(app.count("select count(*) from relationships").await, 3);
}

const LINKEDIN: &str = "Notes:\r\n\"When exporting your connection data, you may notice that some of the email addresses are missing.\"\r\n\r\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\r\nAda,Lovelace,https://www.linkedin.com/in/ada,ada@engine.example,Analytical Engines,Countess,01 Jan 2024\r\nCharles,Babbage,https://www.linkedin.com/in/babbage,,Difference Ltd,Inventor,02 Jan 2024\r\nBroken,Row,https://www.linkedin.com/in/broken,not-an-email,Nowhere,Nobody,03 Jan 2024\r\nAda,Again,https://www.linkedin.com/in/ada-again,ADA@engine.example,Engines Two,CEO,04 Jan 2024\r\nKnown,Person,https://www.linkedin.com/in/known,known@old.example,New Company,New Title,05 Jan 2024\r\n";

#[tokio::test]
async fn a_linkedin_export_imports_with_its_broken_row_listed_and_duplicates_chosen() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let known = add_contact(
        &app,
        &[
            ("name", "Known Person"),
            ("email", "known@old.example"),
            ("company", "Old Company"),
            ("kind", "client"),
            ("strength", "5"),
        ],
    )
    .await;

    app.get("/contacts/import")
        .await
        .assert_status(StatusCode::OK);
    let upload = app
        .post_file("/contacts/import", "Connections.csv", LINKEDIN.as_bytes())
        .await;
    upload.assert_status(StatusCode::SEE_OTHER);
    let preview = app.get(upload.location()).await;
    preview
        .assert_status(StatusCode::OK)
        .assert_contains("LinkedIn connections export")
        .assert_contains("E-mail: Enter an e-mail address like name@example.com.")
        .assert_contains("your contact Known Person")
        .assert_contains("row 5 of this file");
    // The broken row is reported by its line in the file (after four note lines and the header).
    let rejected = &preview.body[preview.body.find("id=\"rejected\"").unwrap()..];
    assert!(rejected.contains("<td>7</td>"), "line 7 is the broken row");
    assert_eq!(
        app.count("select count(*) from contacts").await,
        1,
        "a preview changes nothing"
    );

    let commit_path = format!("{}/commit", upload.location());
    let res = app
        .post_form(&commit_path, &[("duplicates", "skip"), ("dup_9", "update")])
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    app.get("/contacts")
        .await
        .assert_contains("2 added, 1 updated, 1 skipped, 1 not imported");

    let names: Vec<String> = sqlx::query_scalar("select name from contacts order by name")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(names, ["Ada Lovelace", "Charles Babbage", "Known Person"]);
    let (company, title, kind, strength): (String, String, String, i16) =
        sqlx::query_as("select company, title, kind, strength from contacts where contact_id = $1")
            .bind(known)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (company.as_str(), title.as_str()),
        ("New Company", "New Title"),
        "updated from the file"
    );
    assert_eq!(
        (kind.as_str(), strength),
        ("client", 5),
        "what the file does not say is kept"
    );

    // Committing the same import again does nothing.
    let again = app
        .post_form(&commit_path, &[("duplicates", "update")])
        .await;
    app.get(again.location())
        .await
        .assert_contains("already done");
    assert_eq!(app.count("select count(*) from contacts").await, 3);
}

#[tokio::test]
async fn windows_1252_and_utf8_with_bom_are_read_correctly() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/contacts/import").await;
    // "Jürgen Müller", "Café Crème" in Windows-1252.
    let mut cp1252 = b"Name,Company\r\n".to_vec();
    cp1252.extend_from_slice(b"J\xfcrgen M\xfcller,Caf\xe9 Cr\xe8me \x80\r\n");
    let upload = app
        .post_file("/contacts/import", "legacy.csv", &cp1252)
        .await;
    app.post_form(&format!("{}/commit", upload.location()), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    app.get("/contacts/import").await;
    let bom = "\u{feff}Name,Email\r\nZoë Ångström,zoe@example.com\r\n"
        .as_bytes()
        .to_vec();
    let upload = app.post_file("/contacts/import", "bom.csv", &bom).await;
    app.post_form(&format!("{}/commit", upload.location()), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("select name, company from contacts order by name")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            (
                "Jürgen Müller".to_string(),
                Some("Café Crème €".to_string())
            ),
            ("Zoë Ångström".to_string(), None)
        ]
    );
}

#[tokio::test]
async fn a_generic_csv_needs_its_columns_mapped_before_it_imports() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/contacts/import").await;
    let csv = "Who,Mail,Employer Name\r\nLin Chen,lin@example.com,Initech\r\n";
    let upload = app
        .post_file("/contacts/import", "people.csv", csv.as_bytes())
        .await;
    let preview = app.get(upload.location()).await;
    preview
        .assert_contains("Choose which column holds the name")
        .assert_contains("disabled>Import");
    let id = upload.location().rsplit('/').next().unwrap().to_string();
    app.post_form(
        &format!("/contacts/import/{id}/mapping"),
        &[("col_0", "name"), ("col_1", "email"), ("col_2", "company")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let preview = app.get(upload.location()).await;
    preview
        .assert_lacks("Choose which column holds the name")
        .assert_contains("Lin Chen")
        .assert_contains("Initech");
    app.post_form(&format!("/contacts/import/{id}/commit"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let company: String =
        sqlx::query_scalar("select company from contacts where email = 'lin@example.com'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(company, "Initech");
}

#[tokio::test]
async fn a_file_over_20_mb_gets_413_and_a_clear_page() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/contacts/import").await;
    let mut big = b"Name\r\n".to_vec();
    big.resize(20 * 1024 * 1024 + 10, b'a');
    let res = app.post_file("/contacts/import", "big.csv", &big).await;
    res.assert_status(StatusCode::PAYLOAD_TOO_LARGE)
        .assert_contains("over 20 MB");
    assert_eq!(app.count("select count(*) from contact_imports").await, 0);
}

#[tokio::test]
async fn an_upload_that_is_not_a_contact_file_is_refused_clearly() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/contacts/import").await;
    let res = app.post_file("/contacts/import", "empty.csv", b"").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Choose a CSV or vCard file");
    let res = app
        .post_file("/contacts/import", "cards.vcf", b"this is not a vcard")
        .await;
    let preview = app.get(res.location()).await;
    preview.assert_contains("No vCard was found in the file.");
}

/// Imports `bytes` as the given client and commits, skipping duplicates.
async fn import(app: &TestApp, file_name: &str, bytes: &[u8]) {
    app.get("/contacts/import").await;
    let upload = app.post_file("/contacts/import", file_name, bytes).await;
    upload.assert_status(StatusCode::SEE_OTHER);
    app.get(upload.location()).await;
    app.post_form(&format!("{}/commit", upload.location()), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

fn without_owner_column(csv: &str) -> Vec<String> {
    csv.lines()
        .map(|l| {
            l.rsplit_once(',')
                .map(|(rest, _)| rest.to_string())
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn a_csv_export_imports_back_unchanged() {
    let app = TestApp::spawn().await;
    app.login_as_new("alice@example.com", "rep", None).await;
    add_contact(
        &app,
        &[
            ("name", "Quoted \"Q\" Person"),
            ("email", "q@example.com"),
            ("company", "Commas, Inc."),
            ("title", "VP; Sales"),
            ("kind", "referral_source"),
            ("strength", "4"),
            ("touch_cadence_days", "60"),
            ("notes", "Line one\nLine two"),
            ("linkedin_url", "https://www.linkedin.com/in/q"),
            ("phone", "+1 (555) 010-0000"),
        ],
    )
    .await;
    add_contact(
        &app,
        &[
            ("name", "Émile Zola"),
            ("kind", "prospect"),
            ("strength", "2"),
        ],
    )
    .await;
    let first = app.get("/contacts/export.csv").await;
    first.assert_status(StatusCode::OK);
    assert_eq!(
        first.header("content-type"),
        Some("text/csv; charset=utf-8")
    );

    let bob = app.new_client();
    bob.login_as_new("bob@example.com", "rep", None).await;
    import(&bob, "contacts.csv", first.body.as_bytes()).await;
    let second = bob.get("/contacts/export.csv").await;
    assert_eq!(
        without_owner_column(&first.body),
        without_owner_column(&second.body)
    );
}

#[tokio::test]
async fn a_vcard_export_imports_back_unchanged() {
    let app = TestApp::spawn().await;
    app.login_as_new("alice@example.com", "rep", None).await;
    let long_note = "A very long note that goes on and on, with commas; semicolons\nand a second line, long enough to need folding at seventy-five octets — ünïcödé too.";
    let id = add_contact(
        &app,
        &[
            ("name", "Vera Card"),
            ("email", "vera@example.com"),
            ("company", "Cards, Ltd"),
            ("title", "Head of Things"),
            ("kind", "partner"),
            ("strength", "2"),
            ("touch_cadence_days", "45"),
            ("notes", long_note),
            ("linkedin_url", "https://www.linkedin.com/in/vera"),
            ("phone", "+44 20 7946 0000"),
        ],
    )
    .await;
    let card = app.get(&format!("/contacts/{id}/vcard")).await;
    card.assert_status(StatusCode::OK)
        .assert_contains("BEGIN:VCARD\r\nVERSION:4.0\r\n")
        .assert_contains("FN:Vera Card\r\n");
    assert!(
        card.body.lines().all(|l| l.len() <= 75),
        "lines are folded at 75 octets"
    );
    let all = app.get("/contacts/export.vcf").await;

    let bob = app.new_client();
    bob.login_as_new("bob@example.com", "rep", None).await;
    import(&bob, "contacts.vcf", all.body.as_bytes()).await;
    let row: (String, String, String, String, String, String, i16, i32, String, String) = sqlx::query_as(
        "select c.name, c.email, c.company, c.title, c.linkedin_url, c.kind, c.strength, c.touch_cadence_days, c.notes, c.phone
         from contacts c join users u on u.user_id = c.owner_id where u.email = 'bob@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "Vera Card".into(),
            "vera@example.com".into(),
            "Cards, Ltd".into(),
            "Head of Things".into(),
            "https://www.linkedin.com/in/vera".into(),
            "partner".into(),
            2,
            45,
            long_note.into(),
            "+44 20 7946 0000".into()
        )
    );
}

#[tokio::test]
async fn the_last_touch_moves_with_asks_events_and_done_follow_ups() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("rep@example.com", "rep", None).await;
    let source = add_contact(
        &app,
        &[("name", "Sam Source"), ("touch_cadence_days", "30")],
    )
    .await;
    let target = add_contact(&app, &[("name", "Tia Target")]).await;
    let other = add_contact(&app, &[("name", "Oli Other")]).await;
    // As the contact pages read it: after folding what new asks queued.
    let touch = |id: i64| {
        let pool = app.pool.clone();
        async move {
            warmline::db::metrics::fold_rollups(&pool).await.unwrap();
            sqlx::query_scalar::<_, Option<time::Date>>("select (last_touch_at at time zone 'UTC')::date from contacts where contact_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(touch(source).await, None);
    sqlx::query(
        "update contacts set created_at = now() - interval '60 days' where contact_id = $1",
    )
    .bind(source)
    .execute(&app.pool)
    .await
    .unwrap();
    app.get("/contacts?due=1")
        .await
        .assert_contains("Sam Source");

    let ask: i64 = sqlx::query_scalar(
        "insert into referral_asks (rep_id, source_contact_id, target_contact_id, asked_on) values ($1, $2, $3, '2026-03-01') returning ask_id",
    )
    .bind(rep.0).bind(source).bind(target)
    .fetch_one(&app.pool).await.unwrap();
    // The page folds before it reads: the ask just logged is its last touch.
    app.get(&format!("/contacts/{source}"))
        .await
        .assert_contains("<dt>Last touch</dt><dd>2026-03-01");
    let day = |s: &str| {
        Some(time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE).unwrap())
    };
    assert_eq!(touch(source).await, day("2026-03-01"));
    assert_eq!(touch(target).await, day("2026-03-01"));

    sqlx::query("insert into ask_events (ask_id, kind, actor_id, occurred_on) values ($1, 'introduced', $2, '2026-03-05')")
        .bind(ask).bind(rep.0).execute(&app.pool).await.unwrap();
    assert_eq!(touch(source).await, day("2026-03-05"));
    assert_eq!(touch(target).await, day("2026-03-05"));

    let follow_up: i64 = sqlx::query_scalar(
        "insert into follow_ups (owner_id, kind, title, contact_id, due_on) values ($1, 'stay_in_touch', 'Call Oli', $2, current_date) returning follow_up_id",
    )
    .bind(rep.0).bind(other).fetch_one(&app.pool).await.unwrap();
    assert_eq!(
        touch(other).await,
        None,
        "an open follow-up is no touch yet"
    );
    sqlx::query("update follow_ups set done_at = now() where follow_up_id = $1")
        .bind(follow_up)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        touch(other).await,
        Some(time::OffsetDateTime::now_utc().date())
    );

    // An older event does not move the last touch back.
    sqlx::query("insert into ask_events (ask_id, kind, actor_id, occurred_on) values ($1, 'note', $2, '2026-02-01')")
        .bind(ask).bind(rep.0).execute(&app.pool).await.unwrap();
    assert_eq!(touch(source).await, day("2026-03-05"));
    app.get("/contacts?due=1")
        .await
        .assert_contains("Sam Source");

    // Touched today, Sam is no longer due.
    sqlx::query("insert into ask_events (ask_id, kind, actor_id, occurred_on) values ($1, 'note', $2, current_date)")
        .bind(ask).bind(rep.0).execute(&app.pool).await.unwrap();
    app.get("/contacts?due=1").await.assert_lacks("Sam Source");
}

#[tokio::test]
async fn utf16_files_and_semicolon_separated_csv_import_with_their_columns() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    // Excel's "Unicode text": UTF-16 little-endian with a byte order mark, tab-separated.
    let text = "Name\tEmail\tCompany\r\nÅsa Lindqvist\tasa@example.se\tNordlys AB\r\n";
    let mut utf16le = vec![0xFF, 0xFE];
    utf16le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    import(&app, "contacts.txt", &utf16le).await;
    // The same in big-endian, comma-separated.
    let text = "Name,Email\n山田 太郎,taro@example.jp\n";
    let mut utf16be = vec![0xFE, 0xFF];
    utf16be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    import(&app, "contacts.csv", &utf16be).await;
    // German Excel: semicolons, a quoted field holding one.
    let german = "Name;E-Mail;Firma\nJürgen Groß;juergen@example.de;\"Groß; Söhne GmbH\"\n";
    import(&app, "kontakte.csv", german.as_bytes()).await;
    let rows: Vec<(String, Option<String>, Option<String>)> =
        sqlx::query_as("select name, email, company from contacts order by name")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "Jürgen Groß".into(),
                Some("juergen@example.de".into()),
                Some("Groß; Söhne GmbH".into())
            ),
            (
                "Åsa Lindqvist".into(),
                Some("asa@example.se".into()),
                Some("Nordlys AB".into())
            ),
            ("山田 太郎".into(), Some("taro@example.jp".into()), None),
        ]
    );
}

/// Name, e-mail, phone, company and LinkedIn URL of an imported contact.
type ImportedCard = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[tokio::test]
async fn vcards_from_android_apple_and_rfc_6350_import_field_by_field() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    // Android's vCard 2.1: QUOTED-PRINTABLE in UTF-8, with a soft line break.
    let android = "BEGIN:VCARD\r\nVERSION:2.1\r\n\
        N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Wi=C5=9Bniewski;=C5=81ukasz;;;\r\n\
        FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C5=81ukasz Wi=C5=9B=\r\nniewski\r\n\
        TEL;CELL:+48 600 100 200\r\nEND:VCARD\r\n";
    // RFC 6350's own example (section 8), with a tel: URI and an extension.
    let rfc = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Simon Perreault\r\nN:Perreault;Simon;;;ing. jr,M.Sc.\r\n\
        BDAY:--0203\r\nGENDER:M\r\nLANG;PID=1;PREF=1;TYPE=work:fr\r\n\
        ORG;TYPE=work:Viagenie\r\nADR;TYPE=work:;Suite D2-630;2875 Laurier;Quebec;QC;G1V 2M2;Canada\r\n\
        TEL;VALUE=uri;TYPE=\"work,voice\";PREF=1:tel:+1-418-656-9254;ext=102\r\n\
        EMAIL;TYPE=work:simon.perreault@viagenie.ca\r\nURL;TYPE=home:http://nomis80.org\r\nEND:VCARD\r\n";
    // Apple's vCard 3.0: N before FN, a home page, the LinkedIn profile as X-SOCIALPROFILE,
    // an escaped semicolon in ORG.
    let apple = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Appleseed;John;Q.;Dr.;Jr.\r\nFN:Dr. John Q. Appleseed Jr.\r\n\
        ORG:Apple\\; Sons;Engineering\r\nitem1.URL:https://appleseed.example\r\n\
        X-SOCIALPROFILE;type=linkedin:https://www.linkedin.com/in/johnappleseed\r\nEND:VCARD\r\n\
        BEGIN:VCARD\r\nVERSION:3.0\r\nN:山田;太郎;;;\r\nEND:VCARD\r\n";
    let all = format!("{android}{rfc}{apple}");
    app.get("/contacts/import").await;
    let upload = app
        .post_file("/contacts/import", "cards.vcf", all.as_bytes())
        .await;
    upload.assert_status(StatusCode::SEE_OTHER);
    app.get(upload.location()).await;
    app.post_form(&format!("{}/commit", upload.location()), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let rows: Vec<ImportedCard> = sqlx::query_as(
        "select name, email, phone, company, linkedin_url from contacts order by contact_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "Łukasz Wiśniewski".into(),
                None,
                Some("+48 600 100 200".into()),
                None,
                None
            ),
            (
                "Simon Perreault".into(),
                Some("simon.perreault@viagenie.ca".into()),
                Some("+1-418-656-9254 ext. 102".into()),
                Some("Viagenie".into()),
                None
            ),
            (
                "Dr. John Q. Appleseed Jr.".into(),
                None,
                None,
                Some("Apple; Sons".into()),
                Some("https://www.linkedin.com/in/johnappleseed".into())
            ),
            ("山田 太郎".into(), None, None, None, None),
        ]
    );
}

#[tokio::test]
async fn a_contacts_page_tells_its_history_and_starts_an_ask_through_someone_who_knows_them() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let hugo = add_contact(&app, &[("name", "Hugo Lund"), ("kind", "client")]).await;
    let petra = add_contact(&app, &[("name", "Petra Krause"), ("kind", "prospect")]).await;
    app.post_form(
        &format!("/contacts/{hugo}/relationships"),
        &[
            ("other_id", &petra.to_string()),
            ("kind", "worked_with"),
            ("strength", "4"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    // "Ask Hugo for an intro" on Petra's page opens the quick log filled in.
    let page = app.get(&format!("/contacts/{petra}")).await;
    page.assert_contains(&format!(
        "href=\"/?via={hugo}&amp;to={petra}#log\">Ask Hugo Lund for an intro"
    ));
    let week = app.get(&format!("/?via={hugo}&to={petra}")).await;
    week.assert_status(StatusCode::OK)
        .assert_contains("name=\"source\" type=\"text\" value=\"Hugo Lund\"")
        .assert_contains("name=\"target\" type=\"text\" value=\"Petra Krause\"");
    let submission = crate::common::http::input_value(&week.body, "submission_id").unwrap();
    let res = app
        .post_form(
            "/asks",
            &[
                ("source", "Hugo Lund"),
                ("target", "Petra Krause"),
                ("reason", "They worked together at Contoso"),
                ("submission_id", &submission),
            ],
        )
        .await;
    res.assert_status(StatusCode::SEE_OTHER);
    let ask = crate::common::http::logged_ask_id(res.location());
    app.get(&format!("/asks/{ask}")).await;
    app.post_form(
        &format!("/asks/{ask}/events"),
        &[("kind", "introduced"), ("note", "Lunch on Friday")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    // Hugo's history: the ask he was asked, what came of it, what is owed him, the link.
    let history = |html: &str| html[html.find("id=\"history\"").unwrap()..].to_string();
    let hugo_page = history(&app.get(&format!("/contacts/{hugo}")).await.body);
    for line in [
        "Asked for an introduction to Petra Krause",
        "Introduced</a>",
        "Hugo Lund → Petra Krause",
        "Lunch on Friday",
        "Due: Thank Hugo Lund for the introduction to Petra Krause",
        "Linked to <a href=\"/contacts/",
        "Added to Warmline",
    ] {
        assert!(hugo_page.contains(line), "{line} missing from {hugo_page}");
    }
    assert!(
        hugo_page.find("Introduced</a>").unwrap() < hugo_page.find("Added to Warmline").unwrap(),
        "newest first"
    );
    // Petra's: she was the target.
    let petra_page = history(&app.get(&format!("/contacts/{petra}")).await.body);
    assert!(
        petra_page.contains("Hugo Lund was asked to introduce them"),
        "{petra_page}"
    );
    assert!(
        petra_page.contains("Due: Contact Petra Krause"),
        "{petra_page}"
    );

    // Someone else's contacts fill nothing in.
    let other = app.new_client();
    other.login_as_new("other@example.com", "rep", None).await;
    other
        .get(&format!("/?via={hugo}&to={petra}"))
        .await
        .assert_contains("name=\"source\" type=\"text\" value=\"\"")
        .assert_lacks("Hugo Lund");
}

#[tokio::test]
async fn linking_says_whom_it_linked_and_a_second_link_changes_nothing() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    // Names that look like format placeholders stay as typed.
    let ann = add_contact(&app, &[("name", "Ann {} Braces")]).await;
    let pat = add_contact(&app, &[("name", "Pat Prospect")]).await;
    let (path, other) = (format!("/contacts/{ann}/relationships"), pat.to_string());
    let fields = [("other_id", other.as_str()), ("kind", "knows")];
    let link = || app.post_form(&path, &fields);
    let first = link().await;
    first.assert_status(StatusCode::SEE_OTHER);
    app.get(first.location())
        .await
        .assert_contains("Linked Ann {} Braces and Pat Prospect.");
    let second = link().await;
    second.assert_status(StatusCode::SEE_OTHER);
    app.get(second.location())
        .await
        .assert_contains("Ann {} Braces and Pat Prospect are already linked.");
    assert_eq!(app.count("select count(*) from relationships").await, 1);
    assert_eq!(
        app.count("select count(*) from audit_log where entity = 'relationship'")
            .await,
        1
    );
    // Linking a contact to itself is refused and writes nothing.
    app.post_form(
        &format!("/contacts/{ann}/relationships"),
        &[("other_id", &ann.to_string())],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("select count(*) from relationships").await, 1);
}
