//! Static files, compiled into the binary so a release build runs from anywhere.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppError;
use crate::state::AppState;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    etag: String,
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        (
            "app.css",
            "text/css; charset=utf-8",
            include_bytes!("../../static/app.css").as_slice(),
        ),
        (
            // htmx 2.0.11, from the npm package htmx.org; see static/htmx-LICENSE.txt.
            "htmx-2.0.11.min.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../static/htmx-2.0.11.min.js").as_slice(),
        ),
        (
            "app.js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../static/app.js").as_slice(),
        ),
        (
            "favicon.svg",
            "image/svg+xml",
            include_bytes!("../../static/favicon.svg").as_slice(),
        ),
    ]
    .into_iter()
    .map(|(name, content_type, bytes)| Asset {
        name,
        content_type,
        bytes,
        etag: format!("\"{:016x}\"", content_hash(bytes)),
    })
    .collect()
});

/// `/static/{name}`.
pub fn router() -> Router<AppState> {
    Router::new().route("/static/{name}", get(show_asset))
}

/// Serves an asset with a day's caching and an ETag for cheap revalidation; pages link to
/// assets with the release version in the query, so an upgrade is fetched at once.
async fn show_asset(Path(name): Path<String>, headers: HeaderMap) -> Result<Response, AppError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or(AppError::NotFound)?;
    let etag = HeaderValue::from_str(&asset.etag).map_err(|e| AppError::Internal(e.into()))?;
    let cache = HeaderValue::from_static("public, max-age=86400");
    if headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        asset.bytes,
    )
        .into_response())
}

fn content_hash(bytes: &[u8]) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}
