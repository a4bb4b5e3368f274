//! Warm paths across the team: companies as records, path search, introduction requests and
//! the privacy between reps.

use axum::http::StatusCode;
use serde_json::{Value, json};
use warmline::accounts::service::issue_token;
use warmline::domain::users::{TokenAccess, UserId};

use crate::common::{PASSWORD, TestApp};

/// Adds a contact straight into `owner`'s network; its id.
async fn contact(
    app: &TestApp,
    owner: UserId,
    name: &str,
    email: Option<&str>,
    company: Option<&str>,
    strength: i16,
) -> i64 {
    sqlx::query_scalar(
        "insert into contacts (owner_id, name, email, phone, company, strength)
         values ($1, $2, $3, 'tel-' || lower(replace($2, ' ', '')), $4, $5) returning contact_id",
    )
    .bind(owner.0)
    .bind(name)
    .bind(email)
    .bind(company)
    .bind(strength)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn relate(app: &TestApp, owner: UserId, a: i64, b: i64, strength: i16) {
    sqlx::query(
        "insert into relationships (owner_id, from_contact_id, to_contact_id, strength) values ($1, $2, $3, $4)",
    )
    .bind(owner.0)
    .bind(a)
    .bind(b)
    .bind(strength)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// Mara's network in these tests: Lee Link (very strong), who knows Dana Prospect at Contoso
/// Ltd (Mara's own line to Dana is weak). Their ids.
async fn connector_and_prospect(app: &TestApp, owner: UserId) -> (i64, i64) {
    let lee = contact(
        app,
        owner,
        "Lee Link",
        Some("lee@linkco.com"),
        Some("LinkCo"),
        5,
    )
    .await;
    let dana = contact(
        app,
        owner,
        "Dana Prospect",
        Some("dana@contoso.com"),
        Some("Contoso Ltd"),
        2,
    )
    .await;
    relate(app, owner, lee, dana, 4).await;
    (lee, dana)
}

async fn company_of(app: &TestApp, contact: i64) -> Option<i64> {
    sqlx::query_scalar("select company_id from contacts where contact_id = $1")
        .bind(contact)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The colleague's secrets that must never reach the other rep before sharing.
const SECRETS: [&str; 6] = [
    "Dana Prospect",
    "dana@contoso.com",
    "Lee Link",
    "lee@linkco.com",
    "tel-danaprospect",
    "tel-leelink",
];

/// Mara, a rep, and her strong contact Dana Prospect at Contoso.
async fn mara_knows_dana(app: &TestApp) -> (UserId, i64) {
    let mara = app
        .create_user("mara@example.com", "Mara", "rep", None)
        .await;
    let dana = contact(
        app,
        mara,
        "Dana Prospect",
        Some("dana@contoso.com"),
        Some("Contoso"),
        4,
    )
    .await;
    (mara, dana)
}

/// The signed-in user asks `holder` (who signs in as mara@example.com) for an introduction to
/// their contact `prospect`; the request's id, and a client signed in as the holder.
async fn request_direct_path(app: &TestApp, holder: UserId, prospect: i64) -> (i64, TestApp) {
    app.post_form(
        "/intro-requests",
        &[
            ("holder_id", &holder.to_string()),
            ("prospect_id", &prospect.to_string()),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let request: i64 = sqlx::query_scalar("select request_id from intro_requests")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let holder_client = app.new_client();
    holder_client.login("mara@example.com", PASSWORD).await;
    (request, holder_client)
}

fn assert_no_secrets(body: &str, place: &str) {
    for secret in SECRETS {
        assert!(!body.contains(secret), "{place} shows “{secret}”");
    }
}

#[tokio::test]
async fn companies_are_matched_by_normalised_name_and_e_mail_domain_and_an_admin_merges_them() {
    let app = TestApp::spawn().await;
    let admin = app.login_as_new("admin@example.com", "admin", None).await;
    let rep = app.create_user("rep@example.com", "Rep", "rep", None).await;
    let a = contact(
        &app,
        rep,
        "Ann",
        Some("ann@contoso.com"),
        Some("Contoso Ltd."),
        3,
    )
    .await;
    let b = contact(&app, admin, "Bob", None, Some("CONTOSO, Inc"), 3).await;
    let c = contact(&app, rep, "Cy", Some("cy@contoso.com"), None, 3).await;
    let d = contact(&app, rep, "Di", Some("di@gmail.com"), None, 3).await;
    let e = contact(&app, rep, "Ed", None, Some("Contoso Europe GmbH"), 3).await;
    let contoso = company_of(&app, a).await.expect("matched");
    assert_eq!(
        company_of(&app, b).await,
        Some(contoso),
        "case, punctuation and suffix aside"
    );
    assert_eq!(
        company_of(&app, c).await,
        Some(contoso),
        "by the e-mail domain"
    );
    assert_eq!(
        company_of(&app, d).await,
        None,
        "a free mail domain names no company"
    );
    let europe = company_of(&app, e).await.expect("matched");
    assert_ne!(europe, contoso);

    // The admin sees everyone at the company; merging moves the other company's people over.
    app.get(&format!("/companies/{contoso}"))
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Ann")
        .assert_contains("Bob");
    app.post_form(
        &format!("/companies/{europe}/merge"),
        &[("into", "nobody at all")],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("No company goes by that name.");
    let merged = app
        .post_form(
            &format!("/companies/{europe}/merge"),
            &[("into", "contoso")],
        )
        .await;
    merged.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(merged.location(), format!("/companies/{contoso}"));
    assert_eq!(company_of(&app, e).await, Some(contoso));
    app.get(&format!("/companies/{europe}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // The merged company's name finds the one kept from now on.
    let later = contact(&app, rep, "Flo", None, Some("Contoso Europe"), 3).await;
    assert_eq!(company_of(&app, later).await, Some(contoso));

    // Only an admin merges.
    let rep_client = app.new_client();
    rep_client.login("rep@example.com", PASSWORD).await;
    rep_client
        .post_form(
            &format!("/companies/{contoso}/merge"),
            &[("into", "contoso")],
        )
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_rep_finds_a_colleagues_path_requests_it_and_sees_the_details_only_once_accepted() {
    let app = TestApp::spawn().await;
    let sam = app.login_as_new("sam@example.com", "rep", None).await;
    let mara = app
        .create_user("mara@example.com", "Mara", "rep", None)
        .await;
    let (lee, dana) = connector_and_prospect(&app, mara).await;
    // Sam's own weak line into the company.
    let own = contact(&app, sam, "Owen Own", None, Some("contoso"), 1).await;

    let found = app.get("/paths?prospect=Contoso").await;
    found
        .assert_status(StatusCode::OK)
        .assert_contains(
            "Mara has a very strong relationship with someone who knows someone at Contoso Ltd",
        )
        .assert_contains("Mara has a weak relationship with someone at Contoso Ltd")
        .assert_contains("You have a slight relationship with Owen Own at Contoso Ltd")
        .assert_contains("Request an intro path from Mara");
    assert_no_secrets(&found.body, "the search");
    // The strongest path ranks first, and says why.
    let first = found.body.find("Mara has a very strong").unwrap();
    assert!(first < found.body.find("You have a slight").unwrap());
    assert!(found.body.contains(
        "Very strong relationship to the connector, strong from the connector to the prospect"
    ));

    let company = company_of(&app, dana).await.unwrap();
    let page = app.get(&format!("/companies/{company}")).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("Mara has a weak relationship with someone at Contoso Ltd")
        .assert_contains("Owen Own");
    assert_no_secrets(&page.body, "the company page");
    // Mara's contacts stay out of Sam's pages, exports and API.
    app.get(&format!("/contacts/{dana}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    for path in [
        "/contacts",
        "/contacts/export.csv",
        "/contacts/export.vcf",
        "/contacts?q=dana",
    ] {
        assert_no_secrets(&app.get(path).await.body, path);
    }

    // A forged request for a path that is not there changes nothing.
    let forged = app
        .post_form(
            "/intro-requests",
            &[
                ("holder_id", &mara.to_string()),
                ("prospect_id", &own.to_string()),
                ("prospect", "Contoso"),
            ],
        )
        .await;
    forged.assert_status(StatusCode::NOT_FOUND);
    let message = "They are choosing a supplier this quarter <script>";
    app.post_form(
        "/intro-requests",
        &[
            ("holder_id", &mara.to_string()),
            ("connector_id", &lee.to_string()),
            ("prospect_id", &dana.to_string()),
            ("message", message),
            ("prospect", "Contoso"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    // The same request twice is one request.
    app.post_form(
        "/intro-requests",
        &[
            ("holder_id", &mara.to_string()),
            ("connector_id", &lee.to_string()),
            ("prospect_id", &dana.to_string()),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.count("select count(*) from intro_requests").await, 1);
    let waiting = app.get("/intro-requests").await;
    waiting
        .assert_contains("You asked Mara")
        .assert_contains("waiting");
    assert_no_secrets(&waiting.body, "the requester's list");

    // Mara has a follow-up and a notification, and sees her own contacts by name.
    let mara_client = app.new_client();
    mara_client.login("mara@example.com", PASSWORD).await;
    mara_client
        .get("/follow-ups")
        .await
        .assert_contains("sam asks for an introduction to Dana Prospect through Lee Link");
    mara_client
        .get("/notifications")
        .await
        .assert_contains("Open the request");
    let asked = mara_client.get("/intro-requests").await;
    asked
        .assert_contains("sam asks: Dana Prospect at Contoso Ltd, through Lee Link, your contact")
        .assert_contains("They are choosing a supplier this quarter &#60;script&#62;");
    let request: i64 = sqlx::query_scalar("select request_id from intro_requests")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    // Sam cannot answer it; Mara accepts.
    app.post_form(&format!("/intro-requests/{request}/accept"), &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    mara_client
        .post_form(&format!("/intro-requests/{request}/accept"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    mara_client
        .post_form(&format!("/intro-requests/{request}/accept"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("select count(*) from referral_asks").await,
        1,
        "accepting twice logs one ask"
    );
    let (rep, assisted, source, target): (i64, Option<i64>, String, String) = sqlx::query_as(
        "select a.rep_id, a.assisted_by_id, s.name, t.name from referral_asks a
         join contacts s on s.contact_id = a.source_contact_id join contacts t on t.contact_id = a.target_contact_id",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((rep, assisted), (sam.0, Some(mara.0)));
    assert_eq!(
        (source.as_str(), target.as_str()),
        ("Lee Link", "Dana Prospect")
    );
    assert_eq!(
        app.count(
            "select count(*) from follow_ups where kind = 'intro_request' and done_at is null"
        )
        .await,
        0,
        "Mara's follow-up is done"
    );
    // Now Sam has the details, in his own contacts.
    app.get("/contacts?q=dana")
        .await
        .assert_contains("Dana Prospect");
    app.get("/intro-requests")
        .await
        .assert_contains("accepted")
        .assert_contains("Dana Prospect");
    app.get("/notifications")
        .await
        .assert_contains("Mara accepted");

    // The dashboard counts the team-assisted ask and credits Mara on her scorecard.
    let admin_id = app
        .create_user("admin@example.com", "Admin", "admin", None)
        .await;
    let admin = app.new_client();
    admin.login("admin@example.com", PASSWORD).await;
    let dashboard = admin.get("/dashboard").await;
    dashboard.assert_status(StatusCode::OK);
    let assisted = &dashboard.body[dashboard.body.find("id=\"team-assisted\"").unwrap()..];
    assert!(assisted.contains("<dt>Asks</dt><dd>1</dd>"), "{assisted}");
    let generous = &dashboard.body[dashboard.body.find("id=\"generous\"").unwrap()..];
    assert!(generous.contains("<td>Mara</td><td data-label=\"Asks helped\">1</td>"));
    admin
        .get(&format!("/dashboard/reps/{mara}"))
        .await
        .assert_contains("1</strong> colleagues’ asks went through Mara’s network");
    let token = issue_token(&app.pool, None, admin_id, "t", TokenAccess::ReadOnly)
        .await
        .unwrap();
    let api = admin
        .api("GET", "/api/v1/dashboard", &token, None, &[])
        .await
        .json();
    assert_eq!(api["team_assisted"]["asks"], 1);
    assert_eq!(api["generous_connectors"][0]["name"], "Mara");
}

#[tokio::test]
async fn a_declined_request_needs_a_reason_and_tells_the_requester() {
    let app = TestApp::spawn().await;
    app.login_as_new("sam@example.com", "rep", None).await;
    let (mara, dana) = mara_knows_dana(&app).await;
    // A message too long for a request comes back beside the field, on an open card.
    let long = "x".repeat(10_000);
    app.post_form(
        "/intro-requests",
        &[
            ("holder_id", &mara.to_string()),
            ("prospect_id", &dana.to_string()),
            ("message", &long),
            ("prospect", "Contoso"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("Keep the message under 2,000 characters.")
    .assert_contains("<details class=\"request\" open>");
    let nul = app
        .post_form(
            "/intro-requests",
            &[
                ("holder_id", &mara.to_string()),
                ("prospect_id", &dana.to_string()),
                ("message", "a\0b"),
            ],
        )
        .await;
    assert!(nul.status.is_client_error(), "{}", nul.status);
    assert_eq!(app.count("select count(*) from intro_requests").await, 0);
    let (request, mara_client) = request_direct_path(&app, mara, dana).await;
    for (reason, message) in [
        ("  ", "Give a short reason"),
        (long.as_str(), "Keep the reason under 500 characters."),
    ] {
        mara_client
            .post_form(
                &format!("/intro-requests/{request}/decline"),
                &[("reason", reason)],
            )
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains(message);
    }
    assert_eq!(
        app.count("select count(*) from intro_requests where status = 'pending'")
            .await,
        1
    );
    mara_client
        .post_form(
            &format!("/intro-requests/{request}/decline"),
            &[("reason", "We are in a dispute with them.")],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get("/notifications").await.assert_contains(
        "Mara declined your introduction request: “We are in a dispute with them.”",
    );
    let mine = app.get("/intro-requests").await;
    mine.assert_contains("declined")
        .assert_contains("We are in a dispute with them.");
    assert_no_secrets(&mine.body, "a declined request");
    assert_eq!(app.count("select count(*) from referral_asks").await, 0);
    // Answered is answered.
    mara_client
        .post_form(&format!("/intro-requests/{request}/accept"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(app.count("select count(*) from referral_asks").await, 0);
}

#[tokio::test]
async fn the_api_returns_ranked_paths_with_a_colleagues_details_withheld_and_takes_requests() {
    let app = TestApp::spawn().await;
    let sam = app.create_user("sam@example.com", "Sam", "rep", None).await;
    let manager = app
        .create_user("boss@example.com", "Boss", "manager", None)
        .await;
    let mara = app
        .create_user("mara@example.com", "Mara", "rep", Some(manager))
        .await;
    let (lee, dana) = connector_and_prospect(&app, mara).await;
    let sam_token = issue_token(&app.pool, None, sam, "test", TokenAccess::ReadWrite)
        .await
        .unwrap();
    let boss_token = issue_token(&app.pool, None, manager, "test", TokenAccess::ReadOnly)
        .await
        .unwrap();

    let found = app
        .api(
            "GET",
            "/api/v1/paths?prospect=contoso%20ltd.",
            &sam_token,
            None,
            &[],
        )
        .await;
    found.assert_status(StatusCode::OK);
    assert_no_secrets(&found.body, "the API's paths");
    let body = found.json();
    assert_eq!(body["company"]["name"], "Contoso Ltd");
    let paths = body["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 2);
    assert_eq!(paths[0]["holder_name"], "Mara");
    assert_eq!(paths[0]["connector"]["contact_id"], lee);
    assert_eq!(paths[0]["connector"]["withheld"], true);
    assert_eq!(paths[0]["prospect"]["name"], Value::Null);
    assert_eq!(paths[0]["prospect"]["email"], Value::Null);
    assert_eq!(paths[0]["prospect"]["phone"], Value::Null);
    assert!(paths[0]["score"].as_i64() > paths[1]["score"].as_i64());
    assert!(!paths[0]["reasons"].as_array().unwrap().is_empty());

    // Mara's manager sees her contacts, so nothing is withheld from him.
    let boss = app
        .api(
            "GET",
            "/api/v1/paths?prospect=Contoso",
            &boss_token,
            None,
            &[],
        )
        .await
        .json();
    assert_eq!(boss["paths"][0]["prospect"]["name"], "Dana Prospect");
    assert_eq!(boss["paths"][0]["prospect"]["email"], "dana@contoso.com");

    // Nor does any other list the API gives Sam.
    for path in [
        "/api/v1/contacts",
        "/api/v1/contacts?q=dana",
        "/api/v1/contacts/duplicates",
        "/api/v1/asks",
        "/api/v1/follow-ups",
        "/api/v1/notifications",
    ] {
        let answer = app.api("GET", path, &sam_token, None, &[]).await;
        answer.assert_status(StatusCode::OK);
        assert_no_secrets(&answer.body, path);
    }
    app.api(
        "GET",
        &format!("/api/v1/contacts/{dana}"),
        &sam_token,
        None,
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);

    // Nothing to search for is a 422 naming the field.
    let empty = app
        .api("GET", "/api/v1/paths?prospect=%20", &sam_token, None, &[])
        .await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.json()["errors"][0]["field"], "prospect");

    let request = json!({ "holder_id": mara, "connector_id": lee, "prospect_id": dana, "message": "Budget this quarter" });
    let created = app
        .api(
            "POST",
            "/api/v1/intro-requests",
            &sam_token,
            Some(request.clone()),
            &[("idempotency-key", "req-1")],
        )
        .await;
    created.assert_status(StatusCode::CREATED);
    assert_no_secrets(&created.body, "the created request");
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(created.json()["status"], "pending");
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/intro-requests/{id}").as_str())
    );
    let again = app
        .api(
            "POST",
            "/api/v1/intro-requests",
            &sam_token,
            Some(request),
            &[("idempotency-key", "req-1")],
        )
        .await;
    again.assert_status(StatusCode::CREATED);
    assert_eq!(again.json()["id"], id);
    assert_eq!(app.count("select count(*) from intro_requests").await, 1);
    // A read-only token cannot ask; a path that is not Mara's is not found.
    app.api(
        "POST",
        "/api/v1/intro-requests",
        &boss_token,
        Some(json!({ "holder_id": mara, "prospect_id": dana })),
        &[],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    app.api(
        "POST",
        "/api/v1/intro-requests",
        &sam_token,
        Some(json!({ "holder_id": manager, "prospect_id": dana })),
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    app.api(
        "GET",
        &format!("/api/v1/intro-requests/{id}"),
        &boss_token,
        None,
        &[],
    )
    .await
    .assert_status(StatusCode::NOT_FOUND);
    app.api(
        "GET",
        &format!("/api/v1/intro-requests/{id}"),
        &sam_token,
        None,
        &[],
    )
    .await
    .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_prospect_is_found_by_linkedin_address_by_name_or_as_one_of_my_contacts() {
    let app = TestApp::spawn().await;
    let sam = app.login_as_new("sam@example.com", "rep", None).await;
    let mara = app
        .create_user("mara@example.com", "Mara", "rep", None)
        .await;
    let dana: i64 = sqlx::query_scalar(
        "insert into contacts (owner_id, name, email, company, linkedin_url, strength)
         values ($1, 'Dana Prospect', 'dana@contoso.com', 'Contoso', 'https://www.linkedin.com/in/dana-p/', 4)
         returning contact_id",
    )
    .bind(mara.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    // Sam has the same person, met at a fair, by e-mail only.
    let mine = contact(&app, sam, "D. Prospect", Some("DANA@contoso.com"), None, 1).await;
    let expected = "Mara has a strong relationship with someone at Contoso";
    for prospect in [
        "https://www.linkedin.com/in/dana-p".to_string(),
        "HTTPS://WWW.LINKEDIN.COM/IN/DANA-P/".to_string(),
        "dana prospect".to_string(),
        mine.to_string(),
    ] {
        let query = serde_urlencoded::to_string([("prospect", prospect.as_str())]).unwrap();
        let page = app.get(&format!("/paths?{query}")).await;
        page.assert_status(StatusCode::OK).assert_contains(expected);
        assert_no_secrets(&page.body, &prospect);
    }
    // Searching for one of Sam's contacts finds his own line too.
    app.get(&format!("/paths?prospect={mine}"))
        .await
        .assert_contains("You have a slight relationship with D. Prospect at Contoso");
    // A contact number Sam cannot see names nobody, and says so.
    app.get(&format!("/paths?prospect={dana}"))
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("None of the contacts you can see has that number.");
    app.get("/paths?prospect=Nobody+Known")
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("No paths");
}

#[tokio::test]
async fn accepting_reuses_the_contact_the_requester_already_has_even_merged_away() {
    let app = TestApp::spawn().await;
    let sam = app.login_as_new("sam@example.com", "rep", None).await;
    let (mara, dana) = mara_knows_dana(&app).await;
    // Sam once had Dana by e-mail, and merged that card into a newer one.
    let old = contact(
        &app,
        sam,
        "Dana (old card)",
        Some("dana@contoso.com"),
        None,
        2,
    )
    .await;
    let kept = contact(&app, sam, "Dana P.", None, None, 3).await;
    sqlx::query(
        "update contacts set merged_into_id = $2, archived_at = now() where contact_id = $1",
    )
    .bind(old)
    .bind(kept)
    .execute(&app.pool)
    .await
    .unwrap();
    let (request, mara_client) = request_direct_path(&app, mara, dana).await;
    mara_client
        .post_form(&format!("/intro-requests/{request}/accept"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let (target, source_name): (i64, String) = sqlx::query_as(
        "select a.target_contact_id, s.name from referral_asks a join contacts s on s.contact_id = a.source_contact_id
         where a.rep_id = $1",
    )
    .bind(sam.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(target, kept, "the card Sam kept, not a copy");
    assert_eq!(source_name, "Mara", "Mara introduces Dana herself");
    assert_eq!(
        app.count("select count(*) from contacts where name = 'Dana Prospect'")
            .await,
        1,
        "no copy was made"
    );
}
