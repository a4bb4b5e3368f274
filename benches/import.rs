//! Imports 50,000 rows of a LinkedIn connections export through the web application (upload,
//! preview, commit) and prints how long each step took. Target: under 10 s in all.
//!
//!     cargo bench --bench import

mod support;

use std::time::Instant;

use axum::http::StatusCode;

const ROWS: usize = 50_000;

fn linkedin_export(rows: usize) -> String {
    let mut csv = String::from(
        "Notes:\r\n\"When exporting your connection data, you may notice that some of the email addresses are missing.\"\r\n\r\n\
         First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n",
    );
    for i in 0..rows {
        // Every fifth connection shares no e-mail, as in real exports.
        let email = if i % 5 == 0 {
            String::new()
        } else {
            format!("person{i}@company{}.example", i % 997)
        };
        csv.push_str(&format!(
            "Person{i},Lastname{},https://www.linkedin.com/in/person-{i},{email},\"Company {}, Inc.\",Head of Sales,{:02} Mar 2024\r\n",
            i % 1000,
            i % 997,
            i % 28 + 1
        ));
    }
    csv
}

#[tokio::main]
async fn main() {
    let (_pg, pool, url) = support::database("import").await;
    support::add_rep(&pool).await;
    let mut client = support::Client::login(
        support::app(&pool, &url),
        "rep@bench.example",
        support::PASSWORD,
    )
    .await;
    let csv = linkedin_export(ROWS);
    println!(
        "import benchmark: {ROWS} LinkedIn rows, {:.1} MB",
        csv.len() as f64 / 1e6
    );

    let boundary = "bench-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Connections.csv\"\r\nContent-Type: text/csv\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(csv.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());

    let started = Instant::now();
    let path = format!("/contacts/import?csrf_token={}", client.csrf);
    let (status, preview, _) = client
        .post(
            &path,
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "upload");
    let uploaded = started.elapsed();

    let (status, page) = client.get(&preview).await;
    assert_eq!(status, StatusCode::OK, "preview");
    assert!(
        page.contains(&format!(
            "<span class=\"stat-value\">{ROWS}</span><span class=\"stat-label\">new</span>"
        )),
        "all rows are new"
    );
    let previewed = started.elapsed();

    let form =
        serde_urlencoded::to_string([("csrf_token", client.csrf.as_str()), ("duplicates", "skip")])
            .unwrap();
    let (status, _, _) = client
        .post(
            &format!("{preview}/commit"),
            "application/x-www-form-urlencoded",
            form.into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "commit");
    let committed = started.elapsed();

    let count: i64 = sqlx::query_scalar("select count(*) from contacts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count as usize, ROWS);
    println!(
        "  upload (decode, detect, store): {}",
        support::secs(uploaded)
    );
    println!(
        "  preview (parse, validate, de-duplicate): {}",
        support::secs(previewed - uploaded)
    );
    println!(
        "  commit (one transaction): {}",
        support::secs(committed - previewed)
    );
    println!("  total: {} (target: under 10 s)", support::secs(committed));
}
