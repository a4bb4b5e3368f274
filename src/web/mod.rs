//! Shared web glue: the layers every request passes, errors, the page context templates are
//! rendered with, and static assets. The route table that puts the features behind them is
//! [`crate::router`].

pub mod admission;
pub mod assets;
pub mod auth;
pub mod csrf;
pub mod error;
pub mod form;
pub mod metrics;
pub mod page;
pub mod sessions;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub use error::{AppError, AppResult};
pub use page::{Flash, FlashKind, NavUser, PageContext, cookie_value, redirect_with_flash};

/// Renders a page with a status: 200 for a page, 422 for a form sent back with its errors.
pub fn render(status: StatusCode, page: &impl askama::Template) -> AppResult<Response> {
    let html = page
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))?;
    Ok((status, axum::response::Html(html)).into_response())
}

/// `path` if it is a path on this site, else `default`: redirects never lead elsewhere.
/// A path on this site is printable ASCII (as a URL-encoded path and query is) and starts
/// with one `/` followed by neither `/` nor `\`. So `//evil.example`, `/\\evil.example`,
/// `https://…`, and `/\t/evil.example` (browsers drop the tab and read `//evil.example`) all
/// fall back to `default`, and nothing unprintable ever reaches a `Location` header.
pub fn local_path<'a>(path: &'a str, default: &'a str) -> &'a str {
    let printable = path.bytes().all(|b| b.is_ascii_graphic());
    let mut rest = path.bytes().skip(1);
    let local = path.starts_with('/') && !matches!(rest.next(), Some(b'/' | b'\\'));
    if printable && local { path } else { default }
}
