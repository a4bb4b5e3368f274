//! Browser checks in headless Chromium, driven over WebDriver.

use fantoccini::Locator;

use crate::common::PASSWORD;
use crate::common::browser::Browser;

#[tokio::test]
async fn a_new_admin_walks_setup_login_and_logout_in_a_real_browser() {
    let Some(browser) = Browser::start_server_and_browser().await else {
        return;
    };
    let client = &browser.client;

    // A fresh installation opens on setup.
    client.goto(&browser.url("/")).await.unwrap();
    assert_eq!(client.title().await.unwrap(), "Set up Warmline · Warmline");
    browser.screenshot("setup").await;

    // A too-short password comes back with a field message and the typed values kept.
    browser.fill("#name", "Ada Admin").await;
    browser.fill("#email", "ada@example.com").await;
    browser.fill("#password", "short").await;
    browser
        .submit("form[action='/setup'] button[type=submit]")
        .await;
    assert_eq!(
        browser.text(".field.has-error .field-error").await,
        "Use at least 10 characters."
    );
    assert_eq!(browser.value("#email").await, "ada@example.com");
    browser.screenshot("setup-error").await;

    browser.fill("#password", PASSWORD).await;
    browser
        .submit("form[action='/setup'] button[type=submit]")
        .await;
    assert_eq!(client.title().await.unwrap(), "My week · Warmline");
    assert!(
        browser
            .text(".flash")
            .await
            .contains("Welcome to Warmline, Ada Admin")
    );
    browser.screenshot("home-desktop").await;
    browser.resize(375, 812).await;
    browser.screenshot("home-375").await;
    browser.resize(1280, 900).await;

    // Log out, then log back in.
    browser.submit("form[action='/logout'] button").await;
    assert_eq!(client.title().await.unwrap(), "Log in · Warmline");
    assert!(
        browser
            .text(".flash")
            .await
            .starts_with("You are logged out")
    );
    browser.fill("#email", "ada@example.com").await;
    browser.fill("#password", "wrong password").await;
    browser.submit("form[action='/login'] button").await;
    assert!(browser.text("[role=alert]").await.contains("don't match"));
    browser.fill("#password", PASSWORD).await;
    browser.submit("form[action='/login'] button").await;
    // Admins and managers start on the dashboard.
    assert_eq!(client.title().await.unwrap(), "Dashboard · Warmline");
    client
        .find(Locator::Css("a[href='/team']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(client.title().await.unwrap(), "Team · Warmline");
    browser.screenshot("team").await;

    // An unknown page shows the 404 page.
    client.goto(&browser.url("/nowhere")).await.unwrap();
    assert_eq!(client.title().await.unwrap(), "Not Found · Warmline");
    browser.screenshot("not-found").await;
    browser.close().await;
}

#[tokio::test]
async fn a_rep_adds_a_contact_finds_it_misspelled_and_previews_an_import_with_a_bad_row() {
    let Some(browser) = Browser::start_server_and_browser().await else {
        return;
    };
    browser
        .app
        .create_user("rep@example.com", "Rita Rep", "rep", None)
        .await;
    browser.login("rep@example.com", PASSWORD).await;
    let client = &browser.client;

    client.goto(&browser.url("/contacts/new")).await.unwrap();
    browser.fill("#name", "Margaret Hamilton").await;
    browser.fill("#company", "Apollo Guidance").await;
    browser.fill("#email", "margaret@apollo.example").await;
    browser
        .submit("form[action='/contacts'] button[type=submit]")
        .await;
    assert_eq!(
        client.title().await.unwrap(),
        "Margaret Hamilton · Warmline"
    );

    client.goto(&browser.url("/contacts")).await.unwrap();
    browser.fill("#q", "margret hamiltn").await;
    browser
        .submit("form[role=search] button[type=submit]")
        .await;
    assert!(
        browser
            .text("table.contacts")
            .await
            .contains("Margaret Hamilton")
    );
    browser.screenshot("contacts-search").await;

    let file = crate::common::temp_dir("upload").join("people.csv");
    std::fs::write(
        &file,
        "Name,Email,Company\r\nAlan Turing,alan@bletchley.example,Bletchley Park\r\nBroken Row,not-an-email,Nowhere\r\nKatherine Johnson,katherine@nasa.example,NASA\r\n",
    )
    .unwrap();
    client.goto(&browser.url("/contacts/import")).await.unwrap();
    client
        .find(Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    browser
        .submit("form[enctype='multipart/form-data'] button")
        .await;
    assert_eq!(client.title().await.unwrap(), "Import preview · Warmline");
    let rejected = browser.text("#rejected").await;
    assert!(
        rejected.contains("Broken Row") && rejected.contains("E-mail"),
        "{rejected}"
    );
    browser.screenshot("import-preview").await;
    browser.resize(375, 812).await;
    browser.screenshot("import-preview-375").await;
    browser.resize(1280, 900).await;

    browser
        .submit("form[action$='/commit'] button[type=submit]")
        .await;
    assert!(browser.text(".flash").await.contains("2 added"));
    browser.screenshot("contacts-after-import").await;
    browser.close().await;
}

#[tokio::test]
async fn a_rep_logs_an_ask_records_the_introduction_and_thanks_the_source() {
    let Some(browser) = Browser::start_server_and_browser().await else {
        return;
    };
    browser
        .app
        .create_user("rep@example.com", "Rita Rep", "rep", None)
        .await;
    browser.login("rep@example.com", PASSWORD).await;
    let client = &browser.client;
    assert_eq!(client.title().await.unwrap(), "My week · Warmline");
    browser.resize(375, 812).await;
    browser.screenshot("week-375-empty").await;
    browser.resize(1280, 900).await;

    browser.fill("#source", "Dana Client").await;
    browser
        .fill("#target", "CFO of a logistics firm in Munich")
        .await;
    browser
        .fill("#reason", "They are opening a second warehouse")
        .await;
    browser
        .submit("form[action='/asks'] button[type=submit]")
        .await;
    // Back on My week to log the next one: the ask is named and linked, the form is empty and
    // the cursor is in its first field.
    assert!(client.title().await.unwrap().starts_with("My week"));
    assert!(
        browser
            .text("#logged")
            .await
            .contains("Logged: Dana Client → CFO of a logistics firm in Munich")
    );
    assert_eq!(browser.value("#source").await, "");
    assert_eq!(
        client
            .execute("return document.activeElement.id", vec![])
            .await
            .unwrap(),
        "source"
    );
    let link = client.find(Locator::Css("#logged a")).await.unwrap();
    browser.click_and_wait(link).await;
    assert!(
        client
            .title()
            .await
            .unwrap()
            .starts_with("Ask of Dana Client")
    );

    assert_eq!(
        browser.value("#kind").await,
        "introduced",
        "the likely next step is preselected"
    );
    browser.submit("form.event-form button[type=submit]").await;
    assert!(
        browser
            .text(".flash")
            .await
            .contains("Recorded: Introduced")
    );
    browser.screenshot("ask-introduced").await;

    client.goto(&browser.url("/")).await.unwrap();
    let owed = browser.text(".owed").await;
    assert!(
        owed.contains("Thank Dana Client for the introduction"),
        "{owed}"
    );
    browser.screenshot("week-desktop").await;
    browser.resize(375, 812).await;
    browser.screenshot("week-375").await;
    browser.resize(1280, 900).await;

    let done = client
        .find(Locator::XPath(
            "//li[contains(@class,'follow-up')][contains(., 'Thank Dana Client')]//form[contains(@action,'/done')]//button",
        ))
        .await
        .unwrap();
    browser.click_and_wait(done).await;
    assert!(
        browser
            .text(".flash")
            .await
            .starts_with("Done: Thank Dana Client")
    );
    assert!(!browser.text(".owed").await.contains("Thank Dana Client"));
    browser.close().await;
}

#[tokio::test]
async fn a_manager_reads_the_demo_dashboard_filters_to_a_rep_and_coaches_them() {
    let Some(browser) = Browser::start_server_and_browser().await else {
        return;
    };
    let today = time::OffsetDateTime::now_utc().date();
    warmline::demo::load(&browser.app.pool, today)
        .await
        .unwrap()
        .expect("an empty database");
    browser
        .login("mara@demo.warmline.example", warmline::demo::PASSWORD)
        .await;
    let client = &browser.client;
    client.goto(&browser.url("/dashboard")).await.unwrap();
    assert_eq!(client.title().await.unwrap(), "Dashboard · Warmline");
    assert!(
        client
            .find(Locator::Css("ol.funnel progress"))
            .await
            .is_ok(),
        "the funnel chart is drawn"
    );
    assert!(
        client
            .find(Locator::Css(".trend svg polyline"))
            .await
            .is_ok(),
        "the trend chart is drawn"
    );
    let reps = browser.text("table.reps").await;
    assert!(
        reps.contains("Rita Rep") && !reps.contains("Viktor Vend"),
        "Mara sees her own team only: {reps}"
    );
    browser.screenshot("dashboard").await;
    // Chart text stays readable at both widths: no word or number under 12 px.
    let smallest_chart_text =
        "return Math.min(...[...document.querySelectorAll('.chart, .chart *')]
        .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => parseFloat(getComputedStyle(e).fontSize)));";
    for (width, height) in [(1280, 900), (375, 812)] {
        browser.resize(width, height).await;
        let smallest = client.execute(smallest_chart_text, vec![]).await.unwrap();
        assert!(
            smallest.as_f64().unwrap() >= 12.0,
            "chart text of {smallest} px at {width} px"
        );
    }
    // Each rate's definition shows on keyboard focus.
    let definition = client
        .find(Locator::Css(
            ".definition[aria-describedby='def-intro-rate']",
        ))
        .await
        .unwrap();
    assert!(
        !client
            .find(Locator::Id("def-intro-rate"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap()
    );
    client
        .execute(
            "arguments[0].focus();",
            vec![serde_json::to_value(&definition).unwrap()],
        )
        .await
        .unwrap();
    let tip = client.find(Locator::Id("def-intro-rate")).await.unwrap();
    assert!(tip.is_displayed().await.unwrap());
    assert!(tip.text().await.unwrap().contains("settled"));
    browser.screenshot("dashboard-375").await;
    browser.resize(1280, 900).await;

    let rita = client
        .find(Locator::XPath(
            "//select[@id='rep']/option[text()='Rita Rep']",
        ))
        .await
        .unwrap();
    rita.click().await.unwrap();
    browser
        .submit("form[action='/dashboard'] button[type=submit]")
        .await;
    let reps = browser.text("table.reps").await;
    assert!(
        reps.contains("Rita Rep") && !reps.contains("Sam Seller"),
        "{reps}"
    );

    client.find(Locator::LinkText("Rita Rep")).await.unwrap();
    browser
        .click_and_wait(client.find(Locator::LinkText("Rita Rep")).await.unwrap())
        .await;
    assert!(client.title().await.unwrap().starts_with("Rita Rep"));
    let scorecard = browser.text("main").await;
    assert!(
        !scorecard.contains("Weekly-active reps"),
        "a rep's scorecard shows the rep's own figures only"
    );
    browser
        .fill("#diagnosis", "Strong asks, but sources are rarely thanked.")
        .await;
    browser
        .fill("#committed_action", "Thank every source within two days")
        .await;
    browser.fill("#metric", "Thanked-source rate").await;
    let inspect = (today + time::Duration::days(7)).to_string();
    client
        .execute(
            "document.getElementById('inspect_on').value = arguments[0];",
            vec![serde_json::json!(inspect)],
        )
        .await
        .unwrap();
    browser
        .submit("form[action$='/coaching#coaching'] button[type=submit]")
        .await;
    assert!(browser.text(".flash").await.contains("Coaching note saved"));
    browser.screenshot("scorecard").await;
    // A goal that cannot be used comes back with the field's message.
    browser.fill("#asks_per_client", "0").await;
    browser
        .submit("form[action$='/goal#goal'] button[type=submit]")
        .await;
    assert!(
        browser
            .text(".has-error .field-error")
            .await
            .contains("Enter a number above 0"),
        "the goal form names its problem"
    );
    browser.screenshot("scorecard-goal-error").await;
    browser.resize(375, 812).await;
    browser.screenshot("scorecard-375").await;
    browser.resize(1280, 900).await;

    client.goto(&browser.url("/")).await.unwrap();
    browser.submit("form[action='/logout'] button").await;
    browser
        .login("rita@demo.warmline.example", warmline::demo::PASSWORD)
        .await;
    let focus = browser.text(".coach-card").await;
    assert!(
        focus.contains("Thank every source within two days"),
        "{focus}"
    );
    browser.screenshot("week-with-coaching").await;
    browser.close().await;
}

/// axe-core's script (npm `axe-core`): `WARMLINE_AXE_JS`, which `.ci/run` sets. Without it
/// the accessibility test says it skipped, except on CI.
fn axe_script() -> Option<String> {
    let path = std::env::var_os("WARMLINE_AXE_JS");
    let script = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
    if script.is_none() {
        let message = "the accessibility test needs axe-core: set WARMLINE_AXE_JS to its axe.min.js (npm install axe-core)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("SKIPPED: {message}");
    }
    script
}

#[tokio::test]
async fn every_page_is_accessible_and_fits_the_screen_on_a_phone_and_a_desktop() {
    let Some(axe) = axe_script() else {
        return;
    };
    let Some(browser) = Browser::start_server_and_browser().await else {
        return;
    };
    let pool = browser.app.pool.clone();
    let today = time::OffsetDateTime::now_utc().date();
    warmline::demo::load(&pool, today)
        .await
        .unwrap()
        .expect("an empty database");
    let (sam_id, ask, contact): (i64, i64, i64) = sqlx::query_as(
        "select u.user_id,
                (select min(ask_id) from referral_asks where rep_id = u.user_id),
                (select min(contact_id) from contacts where owner_id = u.user_id)
         from users u where u.email = 'sam@demo.warmline.example'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let rep_pages = vec![
        "/".to_string(),
        "/asks".into(),
        format!("/asks/{ask}"),
        "/follow-ups".into(),
        "/contacts".into(),
        format!("/contacts/{contact}"),
        "/contacts/new".into(),
        "/contacts/import".into(),
        "/contacts/duplicates".into(),
        "/notifications".into(),
        "/settings".into(),
    ];
    let manager_pages = vec![
        "/dashboard".to_string(),
        "/team".into(),
        format!("/team/{sam_id}"),
    ];
    let admin_pages = vec!["/team".to_string(), "/webhooks".into()];
    let client = &browser.client;
    let run = "const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] })
          .then(r => done(r.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
          .catch(e => done(['axe failed: ' + e]));";
    let mut problems = Vec::new();
    let mut checked = 0;
    for (email, pages) in [
        ("sam@demo.warmline.example", rep_pages),
        ("mara@demo.warmline.example", manager_pages),
        ("ada@demo.warmline.example", admin_pages),
    ] {
        client.delete_all_cookies().await.unwrap();
        browser.login(email, warmline::demo::PASSWORD).await;
        for (width, height) in [(375, 812), (1280, 900)] {
            browser.resize(width, height).await;
            for page in &pages {
                client.goto(&browser.url(page)).await.unwrap();
                let title = client.title().await.unwrap();
                assert!(!title.starts_with("Not Found"), "{page}: {title}");
                client.execute(&axe, vec![]).await.unwrap();
                let found = client.execute_async(run, vec![]).await.unwrap();
                for violation in found.as_array().unwrap() {
                    problems.push(format!("{email} {page} at {width} px: {violation}"));
                }
                // Nothing hidden off to the side: neither the page nor a table scrolls sideways.
                let sideways = client
                    .execute(
                        "const wide = e => e.scrollWidth > e.clientWidth + 1;
                         return [document.documentElement, ...document.querySelectorAll('.table-wrap')]
                           .filter(wide).map(e => e.className || e.tagName);",
                        vec![],
                    )
                    .await
                    .unwrap();
                if sideways.as_array().is_some_and(|a| !a.is_empty()) {
                    problems.push(format!(
                        "{email} {page} at {width} px scrolls sideways: {sideways}"
                    ));
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 2 * (11 + 3 + 2));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    browser.close().await;
}
