//! Domain types and rules that every layer shares. Nothing here imports the web layer or the
//! database.

pub mod content_lines;
pub mod dates;
pub mod rules;
pub mod spreadsheet;
