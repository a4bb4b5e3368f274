//! Headless Chromium against the application on a real socket.
//!
//! Driven from Rust over WebDriver (fantoccini and Debian's chromedriver) rather than through
//! Playwright from npm: the browser tests stay in the one test binary, share its database
//! helpers, and need no Node tooling.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};
use warmline::config::Config;
use warmline::state::AppState;

use super::{fresh_database, temp_dir};

const CHROMEDRIVER: &str = "chromedriver";
const CHROMIUM_CANDIDATES: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/// A served application and a browser session pointed at it.
pub struct Browser {
    pub client: Client,
    pub base: String,
    pub app: super::TestApp,
    _driver: Child,
}

impl Browser {
    /// Serves a fresh application and opens a browser session. Without Chromium this returns
    /// `None` after saying so, or fails when `CI=true`: CI never skips browser tests silently.
    pub async fn start_server_and_browser() -> Option<Self> {
        let (Some(chromium), Some(chromedriver)) = (find_chromium(), find_on_path(CHROMEDRIVER))
        else {
            let message = "browser test needs Chromium and chromedriver \
                           (Debian: apt-get install chromium chromium-driver)";
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
            eprintln!("SKIPPED: {message}");
            return None;
        };

        let (pool, url) = fresh_database().await;
        let router = warmline::app(AppState::new(pool.clone(), Config::for_database(Some(url))));
        let app = super::TestApp::over(router.clone(), pool);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });

        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let profile = temp_dir("chromium-profile");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => {
                    return Some(Self {
                        client,
                        base,
                        app,
                        _driver: driver,
                    });
                }
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not open a browser session: {last_error}");
    }

    /// The absolute URL of `path` on the served application.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Resizes the window, e.g. to a phone's 375 px.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    /// Resizes the window so that the page itself (the viewport) is `width` × `height`: a
    /// headless window's own bars take some of its height.
    pub async fn viewport(&self, width: u32, height: u32) {
        self.resize(width, height).await;
        let inner = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .unwrap();
        let inner: (u32, u32) = serde_json::from_value(inner).unwrap();
        self.resize(2 * width - inner.0, 2 * height - inner.1).await;
    }

    /// Saves a screenshot as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("take a screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Replaces the value of the input matched by `css`.
    pub async fn fill(&self, css: &str, value: &str) {
        let input = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    /// Clicks the element matched by `css` (a submit button) and waits for the next page.
    pub async fn submit(&self, css: &str) {
        let button = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        self.click_and_wait(button).await;
    }

    /// Clicks an element and waits until the next page has loaded: a marker set on this page
    /// is gone and the new document is complete.
    pub async fn click_and_wait(&self, element: fantoccini::elements::Element) {
        self.client
            .execute("window.__warmlineOldPage = true;", vec![])
            .await
            .unwrap();
        element.click().await.unwrap();
        for _ in 0..200 {
            let loaded = self
                .client
                .execute(
                    "return window.__warmlineOldPage === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .unwrap_or(serde_json::Value::Bool(false));
            if loaded == serde_json::Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new page after the click");
    }

    /// The visible text of the element matched by `css`.
    pub async fn text(&self, css: &str) -> String {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        element.text().await.unwrap()
    }

    /// The current value of the input matched by `css`.
    pub async fn value(&self, css: &str) -> String {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        element.prop("value").await.unwrap().unwrap_or_default()
    }

    /// Logs in through the login form.
    pub async fn login(&self, email: &str, password: &str) {
        self.client.goto(&self.url("/login")).await.unwrap();
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.submit("form[action='/login'] button").await;
    }

    /// Ends the browser session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn find_chromium() -> Option<PathBuf> {
    CHROMIUM_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| find_on_path("chromium"))
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
