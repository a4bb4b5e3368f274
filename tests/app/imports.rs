//! Importing the address books reps have: each known export recognised by its header and
//! mapped with no manual step, field by field into the database; dedupe across LinkedIn
//! address variants and name plus company; line numbers; files that are not contact files.

use axum::http::StatusCode;

use warmline::contacts::sources::Field;
use warmline::contacts::sources::{key, mapping, recognise};
use warmline::domain::contacts::{canonical_linkedin, person_name};

use crate::common::TestApp;
use crate::common::http::TestResponse;

/// A fixture file's bytes.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Uploads a file and returns the upload's answer (a redirect to the preview) and the preview.
async fn upload(app: &TestApp, file_name: &str, bytes: &[u8]) -> (TestResponse, TestResponse) {
    app.get("/contacts/import").await;
    let upload = app.post_file("/contacts/import", file_name, bytes).await;
    upload.assert_status(StatusCode::SEE_OTHER);
    let preview = app.get(upload.location()).await;
    preview.assert_status(StatusCode::OK);
    (upload, preview)
}

/// Commits an uploaded file with the given duplicate handling.
async fn commit(app: &TestApp, upload: &TestResponse, duplicates: &str) {
    app.post_form(
        &format!("{}/commit", upload.location()),
        &[("duplicates", duplicates)],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
}

/// What landed for one contact: name, e-mail, phone, company, title, LinkedIn URL, kind, notes.
#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct Landed {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    company: Option<String>,
    title: Option<String>,
    linkedin_url: Option<String>,
    kind: String,
    notes: String,
}

#[expect(
    clippy::too_many_arguments,
    reason = "one argument a column, as the tables above read"
)]
fn landed(
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
    company: Option<&str>,
    title: Option<&str>,
    linkedin_url: Option<&str>,
    kind: &str,
    notes: &str,
) -> Landed {
    let own = |v: Option<&str>| v.map(str::to_string);
    Landed {
        name: name.into(),
        email: own(email),
        phone: own(phone),
        company: own(company),
        title: own(title),
        linkedin_url: own(linkedin_url),
        kind: kind.into(),
        notes: notes.into(),
    }
}

async fn contacts_of(app: &TestApp, owner: &str) -> Vec<Landed> {
    sqlx::query_as(
        "select c.name, c.email, c.phone, c.company, c.title, c.linkedin_url, c.kind, c.notes
         from contacts c join users u on u.user_id = c.owner_id
         where u.email = $1 order by c.contact_id",
    )
    .bind(owner)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_known_export_imports_with_no_manual_mapping_field_by_field() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, &str, Vec<Landed>)> = vec![
        (
            "linkedin_connections.csv",
            "LinkedIn connections export",
            vec![
                landed(
                    "Ada Lovelace",
                    Some("ada@engines.example"),
                    None,
                    Some("Analytical Engines"),
                    Some("Countess"),
                    Some("https://www.linkedin.com/in/ada-lovelace"),
                    "other",
                    "Connected on LinkedIn: 2024-01-15",
                ),
                landed(
                    "Charles Babbage",
                    None,
                    None,
                    Some("Difference Ltd"),
                    Some("Inventor"),
                    Some("https://www.linkedin.com/in/charles-babbage-1791"),
                    "other",
                    "Connected on LinkedIn: 2025-02-03",
                ),
            ],
        ),
        (
            "google_contacts.csv",
            "Google Contacts CSV",
            vec![
                landed(
                    "Dr. Maria Garcia PhD",
                    Some("maria@acme.example"),
                    Some("+1 415-555-0101 ext. 12"),
                    Some("Acme Corp"),
                    Some("VP Sales"),
                    Some("https://www.linkedin.com/in/mariagarcia"),
                    "other",
                    "Met at SaaStr\nOther e-mail: maria.garcia@mail.example\nOther phone: +1 415-555-0199",
                ),
                landed(
                    "Globex Inc",
                    Some("info@globex.example"),
                    None,
                    Some("Globex Inc"),
                    None,
                    None,
                    "organisation",
                    "Website: https://globex.example",
                ),
                landed(
                    "山田 太郎",
                    None,
                    Some("+81 90-1234-5678"),
                    None,
                    None,
                    None,
                    "other",
                    "",
                ),
            ],
        ),
        (
            "google_contacts_legacy.csv",
            "Google Contacts CSV (legacy)",
            vec![landed(
                "Kenji Sato",
                Some("kenji@sato.example"),
                Some("+81 90-8765-4321"),
                Some("Sato Trading"),
                Some("Director"),
                None,
                "other",
                "Old friend from Osaka\nWebsite: https://sato.example",
            )],
        ),
        (
            "outlook_com.csv",
            "Outlook.com CSV",
            vec![
                landed(
                    "Dr. John Q. Appleseed Jr.",
                    Some("john@appleseed.example"),
                    Some("+1 408 555 0100"),
                    Some("Appleseed Farms"),
                    Some("Chief Orchardist"),
                    None,
                    "other",
                    "Prefers calls before noon\nOther phone: +1 408 555 0111",
                ),
                landed(
                    "orders@shop.example",
                    Some("orders@shop.example"),
                    None,
                    None,
                    None,
                    None,
                    "other",
                    "",
                ),
            ],
        ),
        (
            "outlook_desktop.csv",
            "Outlook CSV",
            vec![landed(
                "Ms. Jane Doe",
                Some("jane.doe@initech.example"),
                Some("+1 (212) 555-0100"),
                Some("Initech"),
                Some("Head of Procurement"),
                None,
                "other",
                "Other phone: +1 (917) 555-0111\nWebsite: https://initech.example/jane",
            )],
        ),
        (
            "hubspot_contacts.csv",
            "HubSpot contacts export",
            vec![landed(
                "Priya Patel",
                Some("priya@initrode.example"),
                Some("+44 7700 900123"),
                Some("Initrode Ltd"),
                Some("CFO"),
                None,
                "other",
                "Website: initrode.example",
            )],
        ),
        (
            "salesforce_report.csv",
            "Salesforce report",
            vec![landed(
                "Mr. Tom Becker",
                Some("tom@becker.example"),
                Some("+49 30 901820"),
                Some("Becker & Sons GmbH"),
                Some("Head of IT"),
                None,
                "other",
                "Met at the Hanover fair\nOther phone: +49 170 1234567",
            )],
        ),
        (
            "salesforce_dataloader.csv",
            "Salesforce Data Loader export",
            vec![landed(
                "Ms. Linh Nguyen",
                Some("linh@globex.example"),
                Some("(555) 010-2000"),
                Some("Globex Corporation"),
                Some("Procurement Lead"),
                None,
                "other",
                "Prefers e-mail",
            )],
        ),
        (
            "pipedrive_people.csv",
            "Pipedrive people export",
            vec![landed(
                "Olga Ivanova",
                Some("olga@rostov.example"),
                Some("+7 495 123-45-67"),
                Some("Rostov Logistics"),
                None,
                None,
                "other",
                "Other e-mail: olga.home@mail.example",
            )],
        ),
        (
            "zoho_contacts.csv",
            "Zoho CRM contacts export",
            vec![landed(
                "Mme Amélie Dubois",
                Some("amelie@dubois.example"),
                Some("+33 1 23 45 67 89"),
                Some("Dubois Conseil SARL"),
                Some("Directrice"),
                None,
                "other",
                "Introduced by Jean\nOther phone: +33 6 12 34 56 78\nOther e-mail: amelie.dubois@mail.example",
            )],
        ),
        (
            "android_2_1.vcf",
            "vCard 2.1",
            vec![
                landed(
                    "Łukasz Wiśniewski",
                    Some("lukasz@poczta.example"),
                    Some("+48 600 100 200"),
                    Some("Spółka Przykładowa"),
                    Some("Kierownik"),
                    None,
                    "other",
                    "Poznałem go na targach.\nDrugi wiersz.\nOther phone: +48 22 100 20 30",
                ),
                landed(
                    "Pizzeria Napoli",
                    None,
                    Some("+48 12 345 67 89"),
                    Some("Pizzeria Napoli"),
                    None,
                    None,
                    "organisation",
                    "",
                ),
            ],
        ),
        (
            "apple_3_0.vcf",
            "vCard 3.0",
            vec![
                landed(
                    "Dr. John Q. Appleseed Jr.",
                    Some("john@appleseed.example"),
                    Some("+1 (408) 555-0111"),
                    Some("Apple; Sons"),
                    Some("Chief Orchardist"),
                    Some("https://www.linkedin.com/in/johnappleseed"),
                    "other",
                    "Likes apples, pears; and plums.\nAsk about the orchard.\nOther e-mail: johnny@mail.example\nWebsite: https://appleseed.example",
                ),
                landed(
                    "Orchard Supply Co.",
                    Some("sales@orchard.example"),
                    None,
                    Some("Orchard Supply Co."),
                    None,
                    None,
                    "organisation",
                    "",
                ),
                landed(
                    "山田 太郎",
                    None,
                    Some("+81 90-1111-2222"),
                    None,
                    None,
                    None,
                    "other",
                    "",
                ),
            ],
        ),
        (
            "rfc6350_example.vcf",
            "vCard 4.0",
            vec![landed(
                "Simon Perreault",
                Some("simon.perreault@viagenie.ca"),
                Some("+1-418-656-9254 ext. 102"),
                Some("Viagenie"),
                None,
                None,
                "other",
                "Other phone: +1-418-262-6501\nWebsite: http://nomis80.org",
            )],
        ),
    ];
    for (i, (file, label, want)) in cases.into_iter().enumerate() {
        let owner = format!("rep{i}@example.com");
        let client = app.new_client();
        client.login_as_new(&owner, "rep", None).await;
        let (upload, preview) = upload(&client, file, &fixture(file)).await;
        preview
            .assert_contains(&format!("<span id=\"source\">{label}</span>"))
            .assert_lacks("Choose which column holds the name")
            .assert_lacks("id=\"rejected\"");
        commit(&client, &upload, "skip").await;
        assert_eq!(contacts_of(&app, &owner).await, want, "{file}");
    }
}

#[tokio::test]
async fn linkedin_variants_and_name_with_company_find_the_contact_already_there() {
    let app = TestApp::spawn().await;
    let rep = app.login_as_new("rep@example.com", "rep", None).await;
    // Typed into the form with a share link: stored in the one form.
    app.get("/contacts/new").await;
    app.post_form(
        "/contacts",
        &[
            ("name", "Ada Lovelace"),
            ("kind", "client"),
            ("strength", "4"),
            (
                "linkedin_url",
                "fr.linkedin.com/in/Ada-Lovelace/?utm_source=share",
            ),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    // Stored by an older version, as given.
    sqlx::query(
        "insert into contacts (owner_id, name, linkedin_url) values ($1, 'Old Style', 'http://linkedin.com/in/OldStyle/')",
    )
    .bind(rep.0)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into contacts (owner_id, name, company) values ($1, 'Nameless Ned', 'Acme')",
    )
    .bind(rep.0)
    .execute(&app.pool)
    .await
    .unwrap();
    let stored: String =
        sqlx::query_scalar("select linkedin_url from contacts where name = 'Ada Lovelace'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, "https://www.linkedin.com/in/ada-lovelace");
    // The form, too, knows the profile however it is written.
    app.get("/contacts/new").await;
    app.post_form(
        "/contacts",
        &[
            ("name", "Ada Twice"),
            ("linkedin_url", "http://de.linkedin.com/in/ada-lovelace/"),
        ],
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
    .assert_contains("Another of your contacts has this LinkedIn URL.");

    let csv = "Name,LinkedIn,Company,Notes\r\n\
        Ada L.,http://www.linkedin.com/in/ada-lovelace,,\r\n\
        Ada Again,https://de.linkedin.com/in/ADA-LOVELACE#top,,\r\n\
        Old Style,https://www.linkedin.com/in/oldstyle?trk=x,,\r\n\
        Nameless Ned,,Acme,\r\n\
        Nameless Ned,,Other Co,\r\n\
        Twin Row,,Same Co,first\r\n\
        Twin Row,,Same Co,second\r\n";
    let (upload, preview) = upload(&app, "people.csv", csv.as_bytes()).await;
    preview
        .assert_contains("your contact Ada Lovelace")
        .assert_contains("your contact Old Style")
        .assert_contains("your contact Nameless Ned")
        .assert_contains("(same name and company)")
        .assert_contains("row 7 of this file");
    commit(&app, &upload, "skip").await;
    let names: Vec<String> = sqlx::query_scalar("select name from contacts order by contact_id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        names,
        [
            "Ada Lovelace",
            "Old Style",
            "Nameless Ned",
            "Nameless Ned",
            "Twin Row"
        ],
        "only the Ned at another company and one Twin Row are new"
    );
}

#[tokio::test]
async fn reimporting_your_own_csv_or_vcard_export_changes_nothing() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    import_all(&app, "google_contacts.csv").await;
    import_all(&app, "apple_3_0.vcf").await;
    import_all(&app, "salesforce_report.csv").await;
    app.get("/contacts/new").await;
    app.post_form(
        "/contacts",
        &[
            ("name", "Just A Name"),
            ("kind", "prospect"),
            ("strength", "2"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let before = contacts_of(&app, "rep@example.com").await;
    assert_eq!(before.len(), 7);
    let csv = app.get("/contacts/export.csv").await;
    let vcf = app.get("/contacts/export.vcf").await;
    for (file, body) in [("contacts.csv", csv.body), ("contacts.vcf", vcf.body)] {
        for duplicates in ["skip", "update"] {
            let (upload, preview) = upload(&app, file, body.as_bytes()).await;
            let new = &preview.body[..preview.body.find("stat-label\">new").unwrap()];
            assert!(
                new.ends_with(">0</span><span class=\""),
                "{file}: nothing new"
            );
            commit(&app, &upload, duplicates).await;
            assert_eq!(
                contacts_of(&app, "rep@example.com").await,
                before,
                "{file} {duplicates}"
            );
        }
    }
}

async fn import_all(app: &TestApp, file: &str) {
    let (upload, _) = upload(app, file, &fixture(file)).await;
    commit(app, &upload, "skip").await;
}

#[tokio::test]
async fn rejected_rows_carry_their_line_after_blank_lines_and_multi_line_values() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let csv = "Name,Email,Notes\n\
        Good One,one@example.com,\"a note\nover two lines\"\n\
        \n\
        \n\
        Bad Mail,not-an-email,\n\
        Good Two,two@example.com,\"three\r\nline\r\nnote\"\n\
        Bad Again,also bad,\n";
    let (_, preview) = upload(&app, "people.csv", csv.as_bytes()).await;
    let rejected = &preview.body[preview.body.find("id=\"rejected\"").unwrap()..];
    assert!(
        rejected.contains("<td>6</td><td>Bad Mail</td>"),
        "{rejected}"
    );
    assert!(
        rejected.contains("<td>10</td><td>Bad Again</td>"),
        "{rejected}"
    );
}

#[tokio::test]
async fn a_mapping_you_chose_is_offered_again_for_the_same_header() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    let csv = "Who,Reach,Firm\r\nLin Chen,lin@example.com,Initech\r\n";
    let (upload1, preview) = upload(&app, "people.csv", csv.as_bytes()).await;
    preview.assert_contains("Choose which column holds the name");
    app.post_form(
        &format!("{}/mapping", upload1.location()),
        &[("col_0", "name"), ("col_1", "email"), ("col_2", "company")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    commit(&app, &upload1, "skip").await;

    let next = "Who,Reach,Firm\r\nMo Diaz,mo@example.com,Globex\r\n";
    let (upload2, preview) = upload(&app, "more.csv", next.as_bytes()).await;
    preview.assert_lacks("Choose which column holds the name");
    commit(&app, &upload2, "skip").await;
    let company: String =
        sqlx::query_scalar("select company from contacts where email = 'mo@example.com'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(company, "Globex");

    // Someone else's mapping is theirs alone.
    let other = app.new_client();
    other.login_as_new("other@example.com", "rep", None).await;
    let (_, preview) = upload(&other, "people.csv", csv.as_bytes()).await;
    preview.assert_contains("Choose which column holds the name");
}

#[tokio::test]
async fn workbooks_pdfs_binary_and_utf16_without_a_byte_order_mark_get_a_clear_answer() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    for (name, bytes, message) in [
        (
            "contacts.xlsx",
            b"PK\x03\x04\x14\x00\x06\x00rest of a zip".to_vec(),
            "spreadsheet workbook",
        ),
        (
            "contacts.xls",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest".to_vec(),
            "spreadsheet workbook",
        ),
        (
            "contacts.pdf",
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj".to_vec(),
            "This is a PDF",
        ),
        (
            "photo.jpg",
            vec![
                0xFF, 0xD8, 0xFF, 0xE0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0E, 0x0F,
                0x10, 0x11,
            ],
            "binary data",
        ),
    ] {
        app.get("/contacts/import").await;
        app.post_file("/contacts/import", name, &bytes)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains(message);
    }
    assert_eq!(app.count("select count(*) from contact_imports").await, 0);

    // Odd but textual files: each gets a page, never a server error.
    let wide_header = (0..3000)
        .map(|i| format!("Column {i}"))
        .collect::<Vec<_>>()
        .join(",");
    for (name, bytes) in [
        ("quote.csv", b"\"".to_vec()),
        ("header.csv", b"Name,Email\r\n".to_vec()),
        ("ragged.csv", b"Name\r\nA,B,C\r\n\"unclosed,\r\n".to_vec()),
        ("open.vcf", b"BEGIN:VCARD\r\nFN:Never Ends\r\n".to_vec()),
        ("half.csv", vec![0xFF, 0xFE, b'N']),
        (
            "wide.csv",
            format!("{wide_header}\r\n{}\r\n", "x,".repeat(2999)).into_bytes(),
        ),
    ] {
        app.get("/contacts/import").await;
        let res = app.post_file("/contacts/import", name, &bytes).await;
        assert!(
            res.status.is_client_error() || res.status.is_redirection(),
            "{name}: {}",
            res.status
        );
        if res.status.is_redirection() {
            let preview = app.get(res.location()).await;
            assert_eq!(preview.status, StatusCode::OK, "{name}");
            let commit = app
                .post_form(&format!("{}/commit", res.location()), &[])
                .await;
            assert!(
                !commit.status.is_server_error(),
                "{name}: {}",
                commit.status
            );
        }
    }

    let text = "Name,Email\r\nNo Bom,nobom@example.com\r\n";
    let utf16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    import_bytes(&app, "le.csv", &utf16le).await;
    let text = "Name,Email\r\nBig End,bigend@example.com\r\n";
    let utf16be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    import_bytes(&app, "be.csv", &utf16be).await;
    let names: Vec<String> = sqlx::query_scalar(
        "select name from contacts where email like '%@example.com' order by contact_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(names, ["No Bom", "Big End"]);
}

async fn import_bytes(app: &TestApp, file: &str, bytes: &[u8]) {
    let (upload, _) = upload(app, file, bytes).await;
    commit(app, &upload, "skip").await;
}

#[tokio::test]
async fn another_parser_reads_back_every_field_of_the_vcard_export() {
    let app = TestApp::spawn().await;
    app.login_as_new("rep@example.com", "rep", None).await;
    app.get("/contacts/new").await;
    let fields = [
        ("name", "Zoë \"Z\" O'Brien, Jr."),
        ("email", "zoe@example.com"),
        ("phone", "+1 555 0100 ext. 7"),
        ("company", "Back\\slash; Semi, Comma & Co"),
        ("title", "Head of A, B; and C\\D"),
        ("linkedin_url", "https://www.linkedin.com/in/zoe-obrien"),
        ("kind", "referral_source"),
        ("strength", "5"),
        (
            "notes",
            "Line one; with, all\\three\nLine two: ünïcödé and a very long line that must be folded because it goes past seventy-five octets",
        ),
    ];
    app.post_form("/contacts", &fields)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let vcf = app.get("/contacts/export.vcf").await;
    let script = r#"
import sys, json, vobject
card = vobject.readOne(sys.stdin.read())
print(json.dumps({
    "name": card.fn.value,
    "email": card.email.value,
    "phone": card.tel.value,
    "company": card.org.value[0],
    "title": card.title.value,
    "linkedin_url": card.url.value,
    "notes": card.note.value,
}))
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(vcf.body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "vobject read the card: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (field, want) in fields {
        if let Some(got) = read.get(field) {
            assert_eq!(got.as_str(), Some(want), "{field}");
        }
    }
    assert_eq!(read.as_object().unwrap().len(), 7);
}

#[test]
fn linkedin_addresses_fold_to_one_form() {
    let want = Some("https://www.linkedin.com/in/ada-lovelace".to_string());
    for url in [
        "https://www.linkedin.com/in/ada-lovelace",
        "http://linkedin.com/in/ada-lovelace/",
        "https://fr.linkedin.com/in/Ada-Lovelace?utm_source=share&utm_medium=x",
        "HTTPS://WWW.LINKEDIN.COM/in/ada-lovelace#about",
        "https://www.linkedin.com/in/ada%2Dlovelace/details/experience/",
        "linkedin.com/in/ada-lovelace",
    ] {
        assert_eq!(canonical_linkedin(url), want, "{url}");
    }
    assert_eq!(
        canonical_linkedin("https://de.linkedin.com/in/j%C3%BCrgen-m%C3%BCller"),
        Some("https://www.linkedin.com/in/jürgen-müller".into())
    );
    assert_eq!(
        canonical_linkedin("https://www.linkedin.com/company/Acme/"),
        Some("https://www.linkedin.com/company/acme".into())
    );
    assert_eq!(canonical_linkedin("https://notlinkedin.com/in/x"), None);
    assert_eq!(
        canonical_linkedin("https://example.com/linkedin.com/in/x"),
        None
    );
}

#[test]
fn names_are_put_together_in_their_scripts_order() {
    assert_eq!(
        person_name("Dr.", "John", "Q.", "Appleseed", "Jr."),
        "Dr. John Q. Appleseed Jr."
    );
    assert_eq!(person_name("", "太郎", "", "山田", ""), "山田 太郎");
    assert_eq!(person_name(" ", "", "", "Solo", ""), "Solo");
}

fn header(text: &str) -> Vec<String> {
    text.split(',').map(str::to_string).collect()
}

#[test]
fn column_names_reduce_to_keys() {
    assert_eq!(key("E-mail 12 - Value"), "email#value");
    assert_eq!(key("Business Phone 2"), "businessphone#");
    assert_eq!(key("ACCOUNT.NAME"), "accountname");
    assert_eq!(key("Téléphone"), "téléphone");
}

#[test]
fn outlook_title_is_the_prefix_and_elsewhere_the_job() {
    let outlook =
        header("First Name,Middle Name,Last Name,Title,Suffix,E-mail Address,Job Title,Company");
    assert_eq!(recognise(&outlook).map(|s| s.label), Some("Outlook CSV"));
    let m = mapping(&outlook);
    assert_eq!(m[3], Field::NamePrefix);
    assert_eq!(m[6], Field::Title);
    let salesforce = header("Salutation,First Name,Last Name,Title,Account Name,Mobile,Email");
    assert_eq!(
        recognise(&salesforce).map(|s| s.label),
        Some("Salesforce report")
    );
    let m = mapping(&salesforce);
    assert_eq!(
        (m[0], m[3], m[4], m[5]),
        (
            Field::NamePrefix,
            Field::Title,
            Field::Company,
            Field::Phone
        )
    );
}

#[test]
fn unknown_headers_are_mapped_by_the_dictionary() {
    let h = header("Who,Mail,Name,Full Name,Phone,Mobile");
    assert_eq!(recognise(&h).map(|s| s.label), None);
    assert_eq!(
        mapping(&h),
        [
            Field::Ignore,
            Field::Email,
            Field::Name,
            Field::Ignore,
            Field::Phone,
            Field::Phone
        ]
    );
}
