//! Dates as people type them: parsed within the range Warmline accepts, and moved by checked
//! arithmetic, so no input (`9999-12-31`, `0001-01-01`) can overflow a calculation later.

use time::macros::date;
use time::{Date, Duration};

/// The earliest date any form accepts.
pub const EARLIEST: Date = date!(1900 - 01 - 01);
/// The latest date any form accepts.
pub const LATEST: Date = date!(2999 - 12 - 31);

/// A date typed as `YYYY-MM-DD`, between [`EARLIEST`] and [`LATEST`].
pub fn parse_date(text: &str) -> Result<Date, &'static str> {
    let date = parse_any(text).ok_or("Enter a date like 2026-03-31.")?;
    if !(EARLIEST..=LATEST).contains(&date) {
        return Err("Enter a date between 1900 and 2999.");
    }
    Ok(date)
}

/// A date that has happened: not after `today` (in the user's time zone) nor before
/// `earliest`; empty means today.
pub fn parse_past(text: &str, today: Date, earliest: Date) -> Result<Date, String> {
    if text.trim().is_empty() {
        return Ok(today);
    }
    let date = parse_date(text)?;
    if date > today {
        return Err("That date is in the future: record what has happened.".into());
    }
    if date < earliest {
        return Err(format!("That is before the ask was made ({earliest})."));
    }
    Ok(date)
}

/// `date` moved by `days`, or `None` when that leaves the accepted range.
pub fn add_days(date: Date, days: i64) -> Option<Date> {
    date.checked_add(Duration::days(days))
        .filter(|d| (EARLIEST..=LATEST).contains(d))
}

/// The Monday of `date`'s week (weeks start on Monday everywhere in Warmline).
pub fn week_start(date: Date) -> Date {
    date.checked_sub(Duration::days(i64::from(
        date.weekday().number_days_from_monday(),
    )))
    .unwrap_or(Date::MIN)
}

/// A date typed as `YYYY-MM-DD`, brought within the accepted range: for filters, where a
/// far-off bound simply means "everything".
pub fn parse_clamped(text: &str) -> Option<Date> {
    parse_any(text).map(|d| d.clamp(EARLIEST, LATEST))
}

fn parse_any(text: &str) -> Option<Date> {
    Date::parse(
        text.trim(),
        &time::format_description::well_known::Iso8601::DATE,
    )
    .ok()
}
