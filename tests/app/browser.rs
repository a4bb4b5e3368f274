//! Browser checks in headless Chromium, driven over WebDriver.

use axum::http::StatusCode;

use crate::common::browser::Browser;

#[tokio::test]
async fn the_home_page_renders_in_a_real_browser_and_unknown_pages_show_the_404_page() {
    let Some(browser) = Browser::start_server_and_browser().await else {
        return;
    };
    let client = &browser.client;
    client.goto(&browser.url("/")).await.unwrap();
    assert_eq!(client.title().await.unwrap(), "Welcome · Warmline");
    let heading = client
        .find(fantoccini::Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Referral selling, executed.");
    // The stylesheet loaded and applied: the top bar is sticky.
    let position = client
        .execute(
            "return getComputedStyle(document.querySelector('.topbar')).position",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(position, "sticky");
    browser.screenshot("home-desktop").await;
    browser.resize(375, 812).await;
    browser.screenshot("home-375").await;

    client.goto(&browser.url("/nowhere")).await.unwrap();
    assert_eq!(client.title().await.unwrap(), "Not Found · Warmline");
    browser.screenshot("not-found").await;
    assert_eq!(
        crate::common::http::get_url(&browser.url("/nowhere"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    browser.close().await;
}
