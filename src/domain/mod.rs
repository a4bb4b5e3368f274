//! Domain types and rules that every layer shares: ids, roles and users, asks and their stage
//! flow, contacts, field messages, dates. Nothing here imports a feature, the web layer or the
//! database; the database layer and the features import from here.

/// Declares a record's id: an `i64` newtype that prints, serialises, binds and decodes as the
/// bare number, so a path segment, a form field and a column all read it the same way.
macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, sqlx::Type, utoipa::ToSchema,
        )]
        #[schema(value_type = i64)]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

pub mod asks;
pub mod companies;
pub mod contacts;
pub mod content_lines;
pub mod dates;
pub mod error;
pub mod fields;
pub mod followups;
pub mod notifications;
pub mod rules;
pub mod spreadsheet;
pub mod users;
pub mod webhooks;
