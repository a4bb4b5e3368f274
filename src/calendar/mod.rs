//! `/calendar/{secret}.ics`: a user's follow-ups as an iCalendar feed (RFC 5545) that
//! Google Calendar, Outlook and Apple Calendar subscribe to. The secret in the URL is the only
//! credential (calendar apps send no cookies); replacing it in Settings revokes the old URL.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc2822;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

use crate::db;
use crate::db::calendar::CalendarItem;
use crate::domain::content_lines::{escape, fold_into};
use crate::state::AppState;
use crate::web::{AppError, AppResult};

/// How far back the manager's coaching inspections stay in the feed.
const PAST_INSPECTIONS_DAYS: i64 = 90;

/// The feed route. It stays outside the session and CSRF layers: no cookie is read or set.
pub fn router() -> Router<AppState> {
    Router::new().route("/calendar/{file}", get(show_feed))
}

/// The path of a user's feed for this secret.
pub fn feed_path(secret: &str) -> String {
    format!("/calendar/{secret}.ics")
}

async fn show_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let secret = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    let user_id = db::calendar::owner_of(&state.pool, secret)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = db::users::find(&state.pool, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = db::users::today_in(&state.pool, &user.time_zone).await?;
    let since = today - Duration::days(PAST_INSPECTIONS_DAYS);
    let items = db::calendar::items(&state.pool, &user, since).await?;
    let changed = db::calendar::last_change(&state.pool, user.id)
        .await?
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let body = write_feed(&items, &user.name, &state.config.public_url, changed);
    let etag = format!("\"{}\"", hex(&Sha256::digest(body.as_bytes())[..16]));
    let last_modified = http_date(changed);
    let mut response = if not_modified(&headers, &etag, changed) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
            body,
        )
            .into_response()
    };
    let h = response.headers_mut();
    for (name, value) in [
        (header::ETAG, etag.as_str()),
        (header::LAST_MODIFIED, last_modified.as_str()),
        (header::CACHE_CONTROL, "private, no-cache"),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            h.insert(name, value);
        }
    }
    Ok(response)
}

/// Whether the client's copy is current: its `If-None-Match` names this ETag, or (without
/// one) its `If-Modified-Since` is not older than the last change (RFC 9110, 13.2.2).
fn not_modified(headers: &HeaderMap, etag: &str, changed: OffsetDateTime) -> bool {
    if let Some(tags) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*");
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| OffsetDateTime::parse(&v.replace("GMT", "+0000"), &Rfc2822).ok())
        .is_some_and(|since| since >= changed)
}

/// The feed as iCalendar text: one all-day event per item, with a stable UID.
fn write_feed(
    items: &[CalendarItem],
    owner: &str,
    public_url: &str,
    stamp: OffsetDateTime,
) -> String {
    let base = public_url.trim_end_matches('/');
    let host = base
        .split("://")
        .nth(1)
        .unwrap_or(base)
        .split('/')
        .next()
        .unwrap_or("warmline");
    let utc = format_description!("[year][month][day]T[hour][minute][second]Z");
    let day = format_description!("[year][month][day]");
    let dtstamp = stamp.format(utc).unwrap_or_default();
    let mut out = String::new();
    let mut line = |text: String| fold_into(&mut out, &text);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Warmline//Follow-ups//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!(
        "X-WR-CALNAME:{}",
        escape(&format!("Warmline: {owner}"))
    ));
    line("REFRESH-INTERVAL;VALUE=DURATION:PT1H".into());
    line("X-PUBLISHED-TTL:PT1H".into());
    for item in items {
        let start = item.on_date;
        let end = start.next_day().unwrap_or(start);
        let link = format!("{base}{}", item.path);
        line("BEGIN:VEVENT".into());
        line(format!("UID:{}@{}", item.uid, escape(host)));
        line(format!("DTSTAMP:{dtstamp}"));
        line(format!(
            "LAST-MODIFIED:{}",
            item.updated_at
                .to_offset(time::UtcOffset::UTC)
                .format(utc)
                .unwrap_or_default()
        ));
        line(format!(
            "DTSTART;VALUE=DATE:{}",
            start.format(day).unwrap_or_default()
        ));
        line(format!(
            "DTEND;VALUE=DATE:{}",
            end.format(day).unwrap_or_default()
        ));
        line(format!("SUMMARY:{}", escape(&item.summary)));
        line(format!(
            "DESCRIPTION:{}",
            escape(&format!("Open in Warmline: {link}"))
        ));
        line(format!("URL:{link}"));
        line("TRANSP:TRANSPARENT".into());
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// An HTTP date (RFC 9110's IMF-fixdate): `Wed, 02 Dec 2026 04:07:20 GMT`.
fn http_date(at: OffsetDateTime) -> String {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
