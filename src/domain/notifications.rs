//! Notifications' ids and kinds. The stored kinds are the check constraint on
//! `notifications.kind`; a test compares the two.

use serde::{Deserialize, Serialize};

record_id! {
    /// A notification's id.
    NotificationId
}

/// What a notification is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum NotificationKind {
    /// One of the reader's follow-ups went overdue.
    Overdue,
    /// A report's follow-up, overdue too long, escalated to the reader (their manager).
    Escalated,
    /// A summary.
    Digest,
    /// A coaching note from the reader's manager.
    Coaching,
    /// A notice about the system, such as a webhook endpoint turned off.
    Info,
    /// A colleague asked for an introduction through the reader's network, or answered the
    /// reader's request.
    IntroRequest,
}

impl NotificationKind {
    /// Every kind.
    pub const ALL: [NotificationKind; 6] = [
        NotificationKind::Overdue,
        NotificationKind::Escalated,
        NotificationKind::Digest,
        NotificationKind::Coaching,
        NotificationKind::Info,
        NotificationKind::IntroRequest,
    ];

    /// The stored value (also the list's badge and CSS class).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::Escalated => "escalated",
            Self::Digest => "digest",
            Self::Coaching => "coaching",
            Self::Info => "info",
            Self::IntroRequest => "intro_request",
        }
    }

    /// Whether it asks for attention before the others.
    pub fn is_urgent(self) -> bool {
        self == Self::Escalated
    }
}
