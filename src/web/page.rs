//! What every page is rendered with (the page context), and flash messages: a one-time
//! notice carried across a redirect in a short-lived cookie.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::domain::users::Role;
use crate::state::AppState;

const FLASH_COOKIE: &str = "warmline_flash";

/// Data the base template needs on every page. Page structs hold one as `ctx`.
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    /// A notice left by the previous request, shown once.
    pub flash: Option<Flash>,
    /// Who is logged in, for the navigation.
    pub user: Option<NavUser>,
    /// The session's CSRF token, for every form on the page.
    pub csrf_token: String,
    /// The path of the page, to mark the current navigation link.
    pub path: String,
    /// The user's unread notifications.
    pub unread: i64,
    /// Said on pages read from a replica: how far behind it is.
    pub replica_note: Option<String>,
}

/// The logged-in user as the navigation shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
}

impl PageContext {
    /// The pool a dashboard or list reads from: the replica when there is one, and then the
    /// page says how far behind the primary it is.
    pub async fn read_pool<'s>(&mut self, state: &'s AppState) -> &'s sqlx::PgPool {
        if state.config.database_read_url.is_some() {
            self.replica_note = Some(match crate::db::replica_lag(&state.read_pool).await {
                Ok(Some(lag)) if lag < 1.0 => "Read from a replica, up to date.".to_string(),
                Ok(Some(lag)) => format!(
                    "Read from a replica {lag:.0} s behind: your latest changes may not show yet."
                ),
                Ok(None) => "Read from the primary database.".to_string(),
                Err(_) => "Read from a replica whose delay could not be read.".to_string(),
            });
        }
        &state.read_pool
    }

    /// Appended to asset URLs so browsers fetch them again after an upgrade.
    pub fn asset_version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// `aria-current="page"` for the navigation link of the section being shown.
    pub fn current(&self, section: &str) -> &'static str {
        let here = if section == "/" {
            self.path == "/"
        } else {
            self.path == section || self.path.starts_with(&format!("{section}/"))
        };
        if here { "page" } else { "false" }
    }

    /// Whether the logged-in user has a team to look at (managers and admins).
    pub fn sees_team(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role.sees_others())
    }
}

/// How a flash message is styled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    /// Something worked.
    Success,
    /// Something to know.
    Info,
    /// Something did not work.
    Error,
}

impl FlashKind {
    /// The CSS class suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Info => "info",
            Self::Error => "error",
        }
    }
}

/// A one-time message for the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// Its style.
    pub kind: FlashKind,
    /// Its text (escaped when rendered).
    pub message: String,
}

/// A 303 redirect to `to` that shows `message` on the page it lands on.
pub fn redirect_with_flash(to: &str, kind: FlashKind, message: &str) -> Response {
    let flash = Flash {
        kind,
        message: message.chars().take(500).collect(),
    };
    let value = serde_urlencoded::to_string(&flash).unwrap_or_default();
    let cookie = format!("{FLASH_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=120");
    let mut response =
        (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

pub(super) fn read_flash(headers: &HeaderMap) -> Option<Flash> {
    serde_urlencoded::from_str(&cookie_value(headers, FLASH_COOKIE)?).ok()
}

/// A cookie's value from the request's `Cookie` headers; an empty value counts as none.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// Once a page has shown the flash, expire its cookie. Only HTML pages count, so a stylesheet
/// or a background request cannot swallow a message before the user sees it.
pub async fn clear_shown_flash(request: Request, next: Next) -> Response {
    let had_flash = read_flash(request.headers()).is_some();
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if had_flash && is_page && !response.status().is_redirection() {
        response.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_static("warmline_flash=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        );
    }
    response
}
