//! Business rules that several layers apply: defined here once. Stage sets live with
//! [`Stage`](crate::domain::asks::Stage), and for SQL in functions a test compares with it.

/// Asks to one source within this many days (today and the days before) count as its load...
pub const CONNECTOR_WINDOW_DAYS: i64 = 90;

/// ...and more than this many of them is too many: the quick log warns before a fifth ask,
/// and the dashboard lists the source under connector load. The dashboard finds those sources
/// by the fourth of their latest ask dates (`contacts.fourth_last_asked_on`), which is why
/// this is checked to be 3 where that query is written.
pub const CONNECTOR_LIMIT: i64 = 3;
