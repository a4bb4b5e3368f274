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
    browser.viewport(375, 812).await;
    // On a phone the quick-log button and the first thing owed are both on the first screen,
    // above the tab bar.
    let place = client
        .execute(
            "window.scrollTo(0, 0);
             const top = e => Math.round(e.getBoundingClientRect().top);
             const button = document.querySelector(\"form[action='/asks'] button[type=submit]\");
             const owed = document.querySelector('.owed li.follow-up');
             const tabbar = document.querySelector('.tabbar').getBoundingClientRect().top;
             return [top(button), Math.round(button.getBoundingClientRect().bottom), top(owed),
                     Math.round(tabbar), window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let place: Vec<i64> = serde_json::from_value(place).unwrap();
    println!(
        "My week at 375x812: quick-log button at {} px, first owed item at {} px, tab bar from {} px",
        place[0], place[2], place[3]
    );
    assert_eq!(place[4], 812, "the viewport is a phone's");
    assert!(
        place[1] <= place[3] && place[2] + 48 <= place[3] && place[3] <= place[4],
        "both on the first screen: {place:?}"
    );
    browser.screenshot("week-375").await;
    browser.resize(1280, 900).await;

    // Done applies in place, with a moment to undo it; then the item is gone for good.
    client
        .execute("window.__samePage = true;", vec![])
        .await
        .unwrap();
    client
        .find(Locator::XPath(
            "//li[contains(@class,'follow-up')][contains(., 'Thank Dana Client')]//form[contains(@action,'/done')]//button",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&browser, DONE_SAVED, "Done: Thank Dana Client").await;
    assert!(!browser.text(".owed").await.contains("Thank Dana Client"));
    assert_eq!(
        client
            .execute("return window.__samePage === true", vec![])
            .await
            .unwrap(),
        true,
        "no page load"
    );
    browser.close().await;
}

/// Clicks the button of the follow-up titled `title` whose text is `label`.
async fn click_follow_up_button(browser: &Browser, title: &str, label: &str) {
    let xpath = format!(
        "//li[contains(@class,'follow-up')][contains(., '{title}')]//button[normalize-space()='{label}']"
    );
    click(browser, Locator::XPath(&xpath)).await;
}

/// Finds the element at `locator` and clicks it, scrolled into view.
async fn click(browser: &Browser, locator: Locator<'_>) {
    let element = browser
        .client
        .find(locator)
        .await
        .unwrap_or_else(|e| panic!("{locator:?}: {e}"));
    click_in_view(browser, element).await;
}

/// Scrolls `element` to the middle of the screen, clear of the phone's tab bar, and clicks it.
async fn click_in_view(browser: &Browser, element: fantoccini::elements::Element) {
    browser
        .client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&element).unwrap()],
        )
        .await
        .unwrap();
    element.click().await.unwrap();
}

#[tokio::test]
async fn done_postpone_and_stage_moves_apply_in_place_with_undo_and_nothing_is_lost() {
    let Some(browser) = Browser::start_server_and_browser().await else {
        return;
    };
    let pool = browser.app.pool.clone();
    let rep = browser
        .app
        .create_user("rep@example.com", "Rita Rep", "rep", None)
        .await;
    let dana = browser.app.owe(rep, "Call Dana about the pilot", 0).await;
    let ben = browser.app.owe(rep, "Send Ben the case study", 0).await;
    let cy = browser.app.owe(rep, "Book lunch with Cy", 1).await;
    let open = |id: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, bool>(
                "select done_at is null from follow_ups where follow_up_id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    browser.login("rep@example.com", PASSWORD).await;
    let client = &browser.client;
    let same_page = || async {
        client
            .execute("return window.__samePage === true", vec![])
            .await
            .unwrap()
            == serde_json::Value::Bool(true)
    };
    client
        .execute("window.__samePage = true;", vec![])
        .await
        .unwrap();

    for (width, height) in [(375, 812), (1280, 900)] {
        browser.viewport(width, height).await;
        // Done hides the item at once and offers Undo; Undo brings it back and nothing is sent.
        click_follow_up_button(&browser, "Call Dana", "Done").await;
        wait_for(&browser, WAITING, "Done: Call Dana").await;
        let item = client
            .find(Locator::Id(&format!("follow-up-{dana}")))
            .await
            .unwrap();
        assert!(!item.is_displayed().await.unwrap());
        assert_eq!(
            client
                .execute("return document.activeElement.textContent", vec![])
                .await
                .unwrap(),
            "Undo",
            "Undo takes the focus"
        );
        browser.screenshot(&format!("undo-done-{width}")).await;
        if let Some(axe) = axe_script() {
            let found = axe_violations(&browser, &axe).await;
            assert!(
                found.is_empty(),
                "with Undo offered at {width} px: {found:?}"
            );
        }
        client
            .find(Locator::Css(".toast-undo"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for(&browser, DONE_SAVED, "Undone: Done: Call Dana").await;
        assert!(item.is_displayed().await.unwrap());
    }
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert!(
        open(dana).await,
        "an undone action never reaches the server"
    );
    assert!(same_page().await);

    // Left alone, it is sent after a few seconds and the list is redrawn from the server.
    click_follow_up_button(&browser, "Call Dana", "Done").await;
    wait_for(&browser, DONE_SAVED, "Done: Call Dana about the pilot.").await;
    assert!(!open(dana).await);
    assert!(!browser.text(".owed").await.contains("Call Dana"));
    assert!(browser.text(".owed").await.contains("Send Ben"));
    assert!(same_page().await, "no page load");

    // Postpone on the follow-ups list: the item moves to its new group in place.
    client.goto(&browser.url("/follow-ups")).await.unwrap();
    client
        .execute("window.__samePage = true;", vec![])
        .await
        .unwrap();
    click_follow_up_button(&browser, "Send Ben", "+1 day").await;
    wait_for(&browser, DONE_SAVED, "Moved to").await;
    let this_week = client
        .find(Locator::XPath(
            "//h3[starts-with(normalize-space(), 'This week')]/following-sibling::ul[1]",
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(this_week.contains("Send Ben"), "{this_week}");
    assert!(same_page().await);
    browser.screenshot("undo-postponed").await;

    // Leaving the page while an action waits sends it rather than dropping it.
    click_follow_up_button(&browser, "Book lunch with Cy", "Done").await;
    wait_for(&browser, WAITING, "Done: Book lunch").await;
    client.goto(&browser.url("/contacts")).await.unwrap();
    let mut sent = false;
    for _ in 0..100 {
        if !open(cy).await {
            sent = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(sent, "the waiting action went out as the page was left");
    assert!(open(ben).await);

    // A stage move on the ask page: Undo leaves the ask as it was; left alone it is recorded
    // and the page redraws without a reload.
    client.goto(&browser.url("/")).await.unwrap();
    browser.fill("#source", "Dana Client").await;
    browser.fill("#target", "Petra Krause").await;
    browser.fill("#reason", "Second warehouse").await;
    browser
        .submit("form[action='/asks'] button[type=submit]")
        .await;
    let link = client.find(Locator::Css("#logged a")).await.unwrap();
    browser.click_and_wait(link).await;
    client
        .execute("window.__samePage = true;", vec![])
        .await
        .unwrap();
    let events = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from ask_events")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = events().await;
    let move_button = "//div[@id='moves']//button[normalize-space()='Introduced']";
    click(&browser, Locator::XPath(move_button)).await;
    wait_for(&browser, WAITING, "Recorded: Introduced").await;
    browser.screenshot("undo-stage-move").await;
    click(&browser, Locator::Css(".toast-undo")).await;
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert_eq!(events().await, before);
    click(&browser, Locator::XPath(move_button)).await;
    wait_for(&browser, DONE_SAVED, "Recorded: Introduced").await;
    assert_eq!(events().await, before + 1);
    assert_eq!(
        browser.text(".stage-bar [aria-current=step]").await,
        "Introduced"
    );
    assert!(
        browser
            .text("#ask-follow-ups")
            .await
            .contains("Thank Dana Client"),
        "the follow-ups the move created are on the redrawn page"
    );
    assert!(same_page().await);
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
    // The demo's aged data was swept: the manager hears of each overdue rep once a day, by
    // name, and the badge counts exactly the unread notifications.
    client.goto(&browser.url("/notifications")).await.unwrap();
    let unread = client
        .find_all(Locator::Css(".notification.unread"))
        .await
        .unwrap();
    assert!(!unread.is_empty());
    assert_eq!(
        browser.text(".nav-links .nav-count").await,
        unread.len().to_string()
    );
    let mut reps = Vec::new();
    for n in &unread {
        let text = n.text().await.unwrap();
        if text.contains("overdue too long") {
            let rep = text
                .split(" has ")
                .next()
                .unwrap()
                .trim_start_matches("escalated")
                .trim();
            reps.push(rep.to_string());
        }
    }
    let count = reps.len();
    reps.sort();
    reps.dedup();
    assert!(
        count > 0 && reps.len() == count,
        "one summary per rep: {reps:?}"
    );
    browser.screenshot("notifications-manager").await;
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
        browser.viewport(width, height).await;
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

/// axe-core's serious and critical violations on the current page, one line each.
async fn axe_violations(browser: &Browser, axe: &str) -> Vec<String> {
    let run = "const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] })
          .then(r => done(r.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
          .catch(e => done(['axe failed: ' + e]));";
    browser.client.execute(axe, vec![]).await.unwrap();
    let found = browser.client.execute_async(run, vec![]).await.unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
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
    let (sam_id, ask, contact, company): (i64, i64, i64, i64) = sqlx::query_as(
        "select u.user_id,
                (select min(ask_id) from referral_asks where rep_id = u.user_id),
                (select min(contact_id) from contacts where owner_id = u.user_id),
                (select min(company_id) from contacts where owner_id = u.user_id)
         from users u where u.email = 'sam@demo.warmline.example'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let company_name: String =
        sqlx::query_scalar("select replace(name, ' ', '+') from companies where company_id = $1")
            .bind(company)
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
        "/api/docs".into(),
        format!("/companies/{company}"),
        format!("/paths?prospect={company_name}"),
        "/intro-requests".into(),
    ];
    let manager_pages = vec![
        "/dashboard".to_string(),
        "/team".into(),
        format!("/team/{sam_id}"),
        "/notifications".into(),
    ];
    let admin_pages = vec!["/team".to_string(), "/webhooks".into()];
    let client = &browser.client;
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
            browser.viewport(width, height).await;
            for page in &pages {
                client.goto(&browser.url(page)).await.unwrap();
                let title = client.title().await.unwrap();
                assert!(!title.starts_with("Not Found"), "{page}: {title}");
                for violation in axe_violations(&browser, &axe).await {
                    problems.push(format!("{email} {page} at {width} px: {violation}"));
                }
                let name = match page.trim_matches('/').split('?').next().unwrap_or("") {
                    "" => "week".to_string(),
                    path => path.replace('/', "-"),
                };
                let role = email.split('@').next().unwrap();
                browser
                    .screenshot(&format!("page-{role}-{name}-{width}"))
                    .await;
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
    assert_eq!(checked, 2 * (15 + 4 + 2));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    browser.close().await;
}

/// True once the toast shows `arguments[0]` at its start and no longer offers Undo: the
/// action was sent and the server's answer is on the page.
const DONE_SAVED: &str = "const t = document.getElementById('toast');
    return !t.hidden && t.querySelector('.toast-message').textContent.startsWith(arguments[0])
        && t.querySelector('.toast-undo').hidden;";

/// True while the toast offers Undo for a message starting with `arguments[0]`.
const WAITING: &str = "const t = document.getElementById('toast');
    return !t.hidden && t.querySelector('.toast-message').textContent.startsWith(arguments[0])
        && !t.querySelector('.toast-undo').hidden;";

/// Waits up to 15 s for the script `condition`, given `arg`, to return true.
async fn wait_for(browser: &Browser, condition: &str, arg: &str) {
    for _ in 0..300 {
        let ok = browser
            .client
            .execute(condition, vec![serde_json::json!(arg)])
            .await
            .unwrap();
        if ok == serde_json::Value::Bool(true) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let toast = browser.text("#toast").await;
    panic!("waited in vain for {arg:?}; the toast says {toast:?}");
}

#[tokio::test]
async fn a_rep_borrows_a_colleagues_path_and_the_colleague_accepts_on_their_phone() {
    let Some(browser) = Browser::start_server_and_browser().await else {
        return;
    };
    let app = &browser.app;
    app.create_user("sam@example.com", "Sam Seller", "rep", None)
        .await;
    let mara = app
        .create_user("mara@example.com", "Mara Mentor", "rep", None)
        .await;
    let ids: Vec<i64> = sqlx::query_scalar(
        "insert into contacts (owner_id, name, email, phone, company, strength)
         values ($1, 'Lee Link', 'lee@linkco.com', '+1 555 0101', 'LinkCo', 5),
                ($1, 'Dana Prospect', 'dana@contoso.com', '+1 555 0102', 'Contoso Ltd', 2)
         returning contact_id",
    )
    .bind(mara.0)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into relationships (owner_id, from_contact_id, to_contact_id, strength) values ($1, $2, $3, 4)",
    )
    .bind(mara.0)
    .bind(ids[0])
    .bind(ids[1])
    .execute(&app.pool)
    .await
    .unwrap();
    let client = &browser.client;

    // Sam searches the team's networks for Contoso and sees Mara's path, without her contacts.
    browser.login("sam@example.com", PASSWORD).await;
    client.goto(&browser.url("/paths")).await.unwrap();
    browser.fill("#prospect", "contoso").await;
    browser.submit("form[role=search] button").await;
    let paths = browser.text("#paths").await;
    assert!(
        paths.contains("Mara Mentor has a very strong relationship with someone who knows someone at Contoso Ltd"),
        "{paths}"
    );
    for secret in [
        "Lee Link",
        "Dana Prospect",
        "dana@contoso.com",
        "+1 555 0102",
    ] {
        assert!(!client.source().await.unwrap().contains(secret), "{secret}");
    }
    browser.screenshot("paths-search").await;
    click(&browser, Locator::Css("#paths details.request summary")).await;
    browser
        .fill(
            "#paths textarea[name=message]",
            "They are picking a supplier this quarter",
        )
        .await;
    browser
        .submit("#paths details.request button[type=submit]")
        .await;
    assert_eq!(
        client.title().await.unwrap(),
        "Introduction requests · Warmline"
    );
    assert!(browser.text(".flash").await.starts_with("Request sent"));

    // Mara answers on her phone, from the notification.
    client.delete_all_cookies().await.unwrap();
    browser.viewport(375, 812).await;
    browser.login("mara@example.com", PASSWORD).await;
    client.goto(&browser.url("/notifications")).await.unwrap();
    let open = client
        .find(Locator::XPath("//a[normalize-space()='Open the request']"))
        .await
        .unwrap();
    browser.click_and_wait(open).await;
    let request = browser.text(".request").await;
    assert!(
        request.contains(
            "Sam Seller asks: Dana Prospect at Contoso Ltd, through Lee Link, your contact"
        ),
        "{request}"
    );
    browser.screenshot("intro-request-375").await;
    let fits = client
        .execute(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fits,
        serde_json::Value::Bool(true),
        "the request fits a phone"
    );
    let accept = client
        .find(Locator::XPath(
            "//button[normalize-space()='Accept and share']",
        ))
        .await
        .unwrap();
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![serde_json::to_value(&accept).unwrap()],
        )
        .await
        .unwrap();
    browser.click_and_wait(accept).await;
    assert!(browser.text(".flash").await.starts_with("Accepted"));
    browser.screenshot("intro-request-accepted-375").await;

    // Sam's ask is logged, with Mara credited as the connector, and he has the details now.
    client.delete_all_cookies().await.unwrap();
    browser.viewport(1280, 900).await;
    browser.login("sam@example.com", PASSWORD).await;
    client.goto(&browser.url("/asks")).await.unwrap();
    let list = browser.text("table").await;
    assert!(list.contains("Lee Link through Mara Mentor"), "{list}");
    assert!(list.contains("Dana Prospect"), "{list}");
    let link = client
        .find(Locator::Css("table a[href^='/asks/']"))
        .await
        .unwrap();
    browser.click_and_wait(link).await;
    assert!(
        browser
            .text("main")
            .await
            .contains("through Mara Mentor’s network")
    );
    browser.screenshot("ask-through-colleague").await;
    client.goto(&browser.url("/contacts?q=dana")).await.unwrap();
    assert!(browser.text("main").await.contains("Dana Prospect"));
    browser.close().await;
}
