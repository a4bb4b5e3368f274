//! Follow-ups' ids, and what a follow-up is for. The stored kinds are the check constraint on
//! `follow_ups.kind`; a test compares the two.

use time::Date;

use crate::domain::dates::{add_days, parse_date};

record_id! {
    /// A follow-up's id.
    FollowUpId
}

/// The kind of a follow-up.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
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
    /// Answer a colleague's request for an introduction through one's network.
    IntroRequest,
}

impl FollowUpKind {
    /// Every kind.
    pub const ALL: [FollowUpKind; 10] = [
        Self::AskFollowUp,
        Self::ThankSource,
        Self::UpdateSource,
        Self::ContactProspect,
        Self::ReportOutcome,
        Self::Promise,
        Self::Coaching,
        Self::StayInTouch,
        Self::Other,
        Self::IntroRequest,
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
            Self::IntroRequest => "intro_request",
        }
    }

    /// Parses the stored value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// How far a postpone moves an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Postpone {
    /// One day after the later of its due date and today.
    Day,
    /// A week after the later of its due date and today.
    Week,
    /// To this date.
    To(Date),
}

/// A due date typed into a form: a date, today or later.
pub fn parse_due(text: &str, today: Date) -> Result<Date, &'static str> {
    check_due(parse_date(text)?, today)
}

/// A due date for a new or moved follow-up: today or later.
pub fn check_due(due_on: Date, today: Date) -> Result<Date, &'static str> {
    if due_on < today {
        Err("Pick today or a later date.")
    } else {
        Ok(due_on)
    }
}

/// The date a postpone moves an item due on `due_on` to, or why it cannot.
pub fn postponed_date(due_on: Date, by: Postpone, today: Date) -> Result<Date, &'static str> {
    let from = due_on.max(today);
    let days = match by {
        Postpone::Day => 1,
        Postpone::Week => 7,
        Postpone::To(date) => return check_due(date, today),
    };
    add_days(from, days).ok_or("That would be after 2999-12-31; pick a date instead.")
}
