//! Referral asks: stages, events, and the rules for moving an ask along.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::domain::dates::parse_past;
use crate::domain::fields::FieldErrors;

record_id! {
    /// A referral ask's id.
    AskId
}

/// Where an ask stands: `asked → promised_intro → introduced → meeting_scheduled →
/// meeting_held → won | lost`, with `declined`, `no_one_in_mind` and `expired` as other endings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Stage {
    Asked,
    PromisedIntro,
    Introduced,
    MeetingScheduled,
    MeetingHeld,
    Won,
    Lost,
    Declined,
    NoOneInMind,
    Expired,
}

impl Stage {
    /// Every stage, in flow order.
    pub const ALL: [Stage; 10] = [
        Stage::Asked,
        Stage::PromisedIntro,
        Stage::Introduced,
        Stage::MeetingScheduled,
        Stage::MeetingHeld,
        Stage::Won,
        Stage::Lost,
        Stage::Declined,
        Stage::NoOneInMind,
        Stage::Expired,
    ];

    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asked => "asked",
            Self::PromisedIntro => "promised_intro",
            Self::Introduced => "introduced",
            Self::MeetingScheduled => "meeting_scheduled",
            Self::MeetingHeld => "meeting_held",
            Self::Won => "won",
            Self::Lost => "lost",
            Self::Declined => "declined",
            Self::NoOneInMind => "no_one_in_mind",
            Self::Expired => "expired",
        }
    }

    /// How it is shown.
    pub fn label(self) -> &'static str {
        match self {
            Self::Asked => "Asked",
            Self::PromisedIntro => "Intro promised",
            Self::Introduced => "Introduced",
            Self::MeetingScheduled => "Meeting scheduled",
            Self::MeetingHeld => "Meeting held",
            Self::Won => "Won",
            Self::Lost => "Lost",
            Self::Declined => "Declined",
            Self::NoOneInMind => "No one in mind",
            Self::Expired => "Expired",
        }
    }

    /// Parses the stored value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// How far along the main flow the stage is (endings other than won and lost share the
    /// rank of the stage they can follow).
    fn rank(self) -> u8 {
        match self {
            Self::Asked | Self::Declined | Self::NoOneInMind | Self::Expired => 0,
            Self::PromisedIntro => 1,
            Self::Introduced => 2,
            Self::MeetingScheduled => 3,
            Self::MeetingHeld => 4,
            Self::Won | Self::Lost => 5,
        }
    }

    /// Whether the ask has ended.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Won | Self::Lost | Self::Declined | Self::NoOneInMind | Self::Expired
        )
    }

    /// Whether an ask at this stage got at least as far as `other` along the main flow
    /// (the endings without an introduction count only for themselves).
    pub fn at_least(self, other: Stage) -> bool {
        if other.rank() == 0 {
            self == other
        } else {
            self.rank() >= other.rank()
                && !matches!(self, Self::Declined | Self::NoOneInMind | Self::Expired)
        }
    }

    /// Whether the ask got as far as an introduction.
    pub fn reached_introduction(self) -> bool {
        self.rank() >= Self::Introduced.rank()
    }

    /// A CSS class for the stage badge.
    pub fn tone(self) -> &'static str {
        match self {
            Self::Won => "ok",
            Self::Lost | Self::Declined | Self::NoOneInMind | Self::Expired => "off",
            Self::Asked | Self::PromisedIntro => "",
            _ => "warn",
        }
    }
}

/// Something that happened to an ask.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum EventKind {
    PromisedIntro,
    Introduced,
    MeetingScheduled,
    MeetingHeld,
    Won,
    Lost,
    Declined,
    NoOneInMind,
    Expired,
    SourceThanked,
    SourceUpdated,
    Note,
}

impl EventKind {
    /// Every kind, in the order the event form offers them.
    pub const ALL: [EventKind; 12] = [
        EventKind::PromisedIntro,
        EventKind::Introduced,
        EventKind::MeetingScheduled,
        EventKind::MeetingHeld,
        EventKind::Won,
        EventKind::Lost,
        EventKind::Declined,
        EventKind::NoOneInMind,
        EventKind::Expired,
        EventKind::SourceThanked,
        EventKind::SourceUpdated,
        EventKind::Note,
    ];

    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SourceThanked => "source_thanked",
            Self::SourceUpdated => "source_updated",
            Self::Note => "note",
            other => other.stage().map_or("note", Stage::as_str),
        }
    }

    /// How it is offered and shown.
    pub fn label(self) -> &'static str {
        match self {
            Self::PromisedIntro => "Promised an introduction",
            Self::Introduced => "Introduced",
            Self::MeetingScheduled => "Meeting scheduled",
            Self::MeetingHeld => "Meeting held",
            Self::Won => "Won",
            Self::Lost => "Lost",
            Self::Declined => "Declined to introduce",
            Self::NoOneInMind => "No one in mind",
            Self::Expired => "Expired",
            Self::SourceThanked => "Thanked the source",
            Self::SourceUpdated => "Updated the source",
            Self::Note => "Note",
        }
    }

    /// Parses the stored value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The stage this event moves the ask to, if it is a stage event.
    pub fn stage(self) -> Option<Stage> {
        Some(match self {
            Self::PromisedIntro => Stage::PromisedIntro,
            Self::Introduced => Stage::Introduced,
            Self::MeetingScheduled => Stage::MeetingScheduled,
            Self::MeetingHeld => Stage::MeetingHeld,
            Self::Won => Stage::Won,
            Self::Lost => Stage::Lost,
            Self::Declined => Stage::Declined,
            Self::NoOneInMind => Stage::NoOneInMind,
            Self::Expired => Stage::Expired,
            Self::SourceThanked | Self::SourceUpdated | Self::Note => return None,
        })
    }
}

/// Where a step of the stage bar stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Done,
    Current,
    Ahead,
}

impl Step {
    /// A CSS class.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Current => "current",
            Self::Ahead => "ahead",
        }
    }
}

/// The stage bar of an ask at `current`: the main flow up to a meeting held, then its ending
/// (won until it has ended otherwise), each step done, current or ahead.
pub fn stage_steps(current: Stage) -> Vec<(Stage, Step)> {
    let flow = [
        Stage::Asked,
        Stage::PromisedIntro,
        Stage::Introduced,
        Stage::MeetingScheduled,
        Stage::MeetingHeld,
    ];
    let mut steps: Vec<(Stage, Step)> = flow
        .into_iter()
        .map(|stage| {
            let step = if stage == current {
                Step::Current
            } else if current.rank() > stage.rank() || (stage == Stage::Asked && current.is_final())
            {
                Step::Done
            } else {
                Step::Ahead
            };
            (stage, step)
        })
        .collect();
    steps.push(if current.is_final() {
        (current, Step::Current)
    } else {
        (Stage::Won, Step::Ahead)
    });
    steps
}

/// What may be recorded on an ask at `current`, in the event list's order.
pub fn allowed_events(current: Stage) -> Vec<EventKind> {
    EventKind::ALL
        .into_iter()
        .filter(|kind| check_move(current, *kind).is_ok())
        .collect()
}

/// Whether `event` may be recorded on an ask at `current`; the message says why not.
/// Thanks, updates and notes are always welcome, even after the ask has ended: that is how
/// the loop with the source is closed.
pub fn check_move(current: Stage, event: EventKind) -> Result<(), String> {
    let Some(next) = event.stage() else {
        return Ok(());
    };
    if current.is_final() {
        return Err(format!(
            "This ask has ended ({}). You can still thank or update the source, or add a note.",
            current.label().to_lowercase()
        ));
    }
    match next {
        Stage::Declined | Stage::NoOneInMind if current.reached_introduction() => Err(
            "The introduction already happened; record how it ended (won or lost) instead.".into(),
        ),
        Stage::MeetingScheduled | Stage::MeetingHeld | Stage::Won | Stage::Lost
            if !current.reached_introduction() =>
        {
            Err("Record the introduction first: a meeting or an outcome needs one.".into())
        }
        Stage::Expired | Stage::Declined | Stage::NoOneInMind => Ok(()),
        _ if next.rank() <= current.rank() => Err(format!(
            "The ask is already at “{}”; it can only move forward.",
            current.label()
        )),
        _ => Ok(()),
    }
}

/// How a referral ask was made. The stored values are the check constraint on
/// `referral_asks.channel`; a test compares the two.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Channel {
    #[default]
    InPerson,
    Phone,
    Email,
    Video,
    Linkedin,
    Text,
    Other,
}

impl Channel {
    /// Every channel, in the order the forms offer them.
    pub const ALL: [Channel; 7] = [
        Channel::InPerson,
        Channel::Phone,
        Channel::Email,
        Channel::Video,
        Channel::Linkedin,
        Channel::Text,
        Channel::Other,
    ];

    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InPerson => "in_person",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Video => "video",
            Self::Linkedin => "linkedin",
            Self::Text => "text",
            Self::Other => "other",
        }
    }

    /// How it is offered and shown.
    pub fn label(self) -> &'static str {
        match self {
            Self::InPerson => "In person",
            Self::Phone => "Phone",
            Self::Email => "E-mail",
            Self::Video => "Video call",
            Self::Linkedin => "LinkedIn",
            Self::Text => "Text message",
            Self::Other => "Other",
        }
    }

    /// Parses the stored value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// The longest name a new source may have.
pub const SOURCE_NAME_MAX_CHARS: usize = 200;
/// The longest description of a prospect.
pub const TARGET_MAX_CHARS: usize = 1000;
/// The longest reason, and the longest note on an event.
pub const TEXT_MAX_CHARS: usize = 4000;

/// An ask's own details (why, how, when), checked with the messages every door shows: the
/// quick log, the ask's edit form and the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskDetails {
    pub reason: String,
    pub channel: Channel,
    pub asked_on: Date,
}

impl AskDetails {
    /// Parses the typed details, recording each field's message in `errors`. An empty channel
    /// means in person, an empty date today; an ask cannot be dated in the future.
    pub fn parse(
        reason: &str,
        channel: &str,
        asked_on: &str,
        today: Date,
        errors: &mut FieldErrors,
    ) -> Option<Self> {
        let reason = reason.trim();
        let reason_ok = if reason.is_empty() {
            errors.add(
                "reason",
                "Why this introduction? One line on the business reason.",
            );
            false
        } else if reason.chars().count() > TEXT_MAX_CHARS {
            errors.add("reason", "Keep the reason under 4,000 characters.");
            false
        } else {
            true
        };
        let channel = match channel.trim() {
            "" => Some(Channel::default()),
            text => errors.check(
                "channel",
                Channel::parse(text).ok_or("Choose how you asked from the list."),
            ),
        };
        let asked_on = errors.check("asked_on", parse_past(asked_on, today, Date::MIN));
        match (reason_ok, channel, asked_on) {
            (true, Some(channel), Some(asked_on)) => Some(Self {
                reason: reason.to_string(),
                channel,
                asked_on,
            }),
            _ => None,
        }
    }
}

/// An event as typed into the event form (or sent to the API): text, checked by
/// [`NewEvent::parse`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EventInput {
    pub kind: String,
    pub occurred_on: String,
    pub amount: String,
    pub note: String,
}

/// A checked event, ready to record on an ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub occurred_on: Date,
    /// Kept for a win or a loss only.
    pub amount_cents: Option<i64>,
    pub note: String,
}

impl NewEvent {
    /// Checks an event typed for an ask that stands at `stage` and was asked on `asked_on`:
    /// the move must fit the stage flow, the date lie between the ask and today, a win carry
    /// its amount and a note its text.
    pub fn parse(
        input: &EventInput,
        stage: Stage,
        asked_on: Date,
        today: Date,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let kind = errors.check(
            "kind",
            EventKind::parse(input.kind.trim()).ok_or("Choose what happened."),
        );
        let occurred_on = errors.check(
            "occurred_on",
            parse_past(&input.occurred_on, today, asked_on),
        );
        let amount = match input.amount.trim() {
            "" => None,
            text => errors.check("amount", parse_amount(text)),
        };
        let note = input.note.trim();
        if note.chars().count() > TEXT_MAX_CHARS {
            errors.add("note", "Keep the note under 4,000 characters.");
        }
        if let Some(kind) = kind {
            if kind == EventKind::Won && amount.is_none() && errors.get("amount").is_none() {
                errors.add("amount", "A win needs its amount.");
            }
            if kind == EventKind::Note && note.is_empty() {
                errors.add("note", "Write the note.");
            }
            if let Err(why) = check_move(stage, kind) {
                errors.add("kind", why);
            }
        }
        let (Some(kind), Some(occurred_on), true) = (kind, occurred_on, errors.is_empty()) else {
            return Err(errors);
        };
        Ok(Self {
            kind,
            occurred_on,
            amount_cents: amount.filter(|_| matches!(kind, EventKind::Won | EventKind::Lost)),
            note: note.to_string(),
        })
    }
}

/// Parses an amount of money as typed (`12,500`, `12500.50`, `$ 1 200`) into cents.
pub fn parse_amount(text: &str) -> Result<i64, &'static str> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '$' | '€' | '£' | '\u{a0}'))
        .collect();
    if cleaned.starts_with('-') {
        return Err("An amount cannot be negative.");
    }
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let valid = !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.len() <= 2
        && fraction.chars().all(|c| c.is_ascii_digit());
    if !valid {
        return Err("Enter an amount like 12,500 or 12500.50.");
    }
    let whole: i64 = whole.parse().map_err(|_| "That amount is too large.")?;
    let cents: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .filter(|c| *c <= 100_000_000_000_000)
        .ok_or("That amount is too large.")
}

/// Cents as a whole amount with thousands separators (`1,250,000`), cents only when present.
pub fn format_amount(cents: i64) -> String {
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match cents % 100 {
        0 => grouped,
        rest => format!("{grouped}.{rest:02}"),
    }
}

/// The titles of the follow-ups an ask brings, naming its source and its target, so a rep
/// knows what to do without opening the ask: written once, for the quick log, the stage flow
/// and the demo.
pub mod titles {
    /// After the ask: chase the source.
    pub fn ask_follow_up(source: &str, target: &str) -> String {
        format!("Follow up with {source} about an introduction to {target}")
    }

    /// After an introduction: thank the source.
    pub fn thank_source(source: &str, target: &str) -> String {
        format!("Thank {source} for the introduction to {target}")
    }

    /// After an introduction: get in touch with the prospect.
    pub fn contact_prospect(target: &str) -> String {
        format!("Contact {target}")
    }

    /// After the meeting: update the source.
    pub fn update_source(source: &str, target: &str) -> String {
        format!("Tell {source} how the meeting with {target} went")
    }

    /// After a win or a loss: close the loop with the source.
    pub fn report_outcome(source: &str, target: &str) -> String {
        format!("Tell {source} how it ended with {target}")
    }
}
