//! Follow-ups' ids, and what a follow-up is for. The stored kinds are the check constraint on
//! `follow_ups.kind`; a test compares the two.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A follow-up's id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct FollowUpId(pub i64);

impl fmt::Display for FollowUpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The kind of a follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FollowUpKind {
    /// Chase the source a week after asking.
    AskFollowUp,
    /// Thank the source for an introduction.
    ThankSource,
    /// Tell the source how the meeting went.
    UpdateSource,
    /// Reach out to the person introduced.
    ContactProspect,
    /// Tell the source how it ended.
    ReportOutcome,
    /// Something the rep promised someone.
    Promise,
    /// A manager's coaching commitment.
    Coaching,
    /// Keep in touch with a contact.
    StayInTouch,
    /// Anything else.
    Other,
}

impl FollowUpKind {
    /// Every kind.
    pub const ALL: [FollowUpKind; 9] = [
        Self::AskFollowUp,
        Self::ThankSource,
        Self::UpdateSource,
        Self::ContactProspect,
        Self::ReportOutcome,
        Self::Promise,
        Self::Coaching,
        Self::StayInTouch,
        Self::Other,
    ];

    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AskFollowUp => "ask_follow_up",
            Self::ThankSource => "thank_source",
            Self::UpdateSource => "update_source",
            Self::ContactProspect => "contact_prospect",
            Self::ReportOutcome => "report_outcome",
            Self::Promise => "promise",
            Self::Coaching => "coaching",
            Self::StayInTouch => "stay_in_touch",
            Self::Other => "other",
        }
    }

    /// Parses the stored value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}
