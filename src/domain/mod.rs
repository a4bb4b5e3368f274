//! Domain types and rules that every layer shares: ids, roles and users, asks and their stage
//! flow, contacts, field messages, dates. Nothing here imports a feature, the web layer or the
//! database; the database layer and the features import from here.

pub mod asks;
pub mod contacts;
pub mod content_lines;
pub mod dates;
pub mod error;
pub mod fields;
pub mod followups;
pub mod rules;
pub mod spreadsheet;
pub mod users;
