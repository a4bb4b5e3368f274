//! Companies as records, warm paths to a prospect through the team's networks, and the
//! introduction requests that borrow a colleague's path.

use time::{Date, OffsetDateTime};

record_id! {
    /// A company.
    CompanyId
}

record_id! {
    /// A request to a colleague for an introduction through their network.
    IntroRequestId
}

/// How many points one step of relationship strength (1–5) is worth in a path's rank.
const STRENGTH_POINTS: i64 = 20;
/// A two-hop path costs this much against a direct one of the same strength.
const SECOND_HOP_COST: i64 = 8;
/// Each introduction the connector made before is worth this much, up to [`INTRO_CAP`].
const INTRO_POINTS: i64 = 6;
const INTRO_CAP: i64 = 5;
/// Each ask made of the connector in the last [`LOAD_WINDOW_DAYS`] days costs this much: a
/// connector asked often is asked less willingly.
const LOAD_COST: i64 = 6;
/// The window connector load is counted over, as the quick log's warning counts it.
pub const LOAD_WINDOW_DAYS: i64 = 90;

/// One way from a member of the team to a prospect: the holder knows the prospect directly,
/// or knows a connector who knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathFacts {
    /// The strength of the first hop (holder → connector, or holder → prospect).
    pub first_strength: i16,
    /// The strength of the connector's relationship with the prospect; `None` when direct.
    pub second_strength: Option<i16>,
    /// When the holder last touched the first hop.
    pub last_touch_at: Option<OffsetDateTime>,
    /// Introductions the first hop made before (asks of them that reached an introduction).
    pub past_intros: i64,
    /// Asks made of the first hop in the last [`LOAD_WINDOW_DAYS`] days.
    pub load: i64,
    /// Whether the holder is the searcher.
    pub own: bool,
}

/// A path's rank and the reasons for it, in the order they weigh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rank {
    pub score: i64,
    pub reasons: Vec<String>,
}

/// The word for a strength of 1–5.
pub fn strength_word(strength: i16) -> &'static str {
    match strength {
        5 => "very strong",
        4 => "strong",
        3 => "good",
        2 => "weak",
        _ => "slight",
    }
}

impl PathFacts {
    /// The path's strength: its weakest hop.
    pub fn strength(&self) -> i16 {
        self.second_strength
            .map_or(self.first_strength, |s| s.min(self.first_strength))
    }

    /// Ranks the path on `today`: strength of the weakest hop, recency of the last touch, the
    /// first hop's past introductions, less their recent load, and a cost for a second hop.
    pub fn rank(&self, today: Date) -> Rank {
        let mut reasons = Vec::new();
        let strength = i64::from(self.strength());
        let mut score = strength * STRENGTH_POINTS;
        reasons.push(match self.second_strength {
            None => format!(
                "{} relationship (direct)",
                capitalised(strength_word(self.first_strength))
            ),
            Some(second) => format!(
                "{} relationship to the connector, {} from the connector to the prospect",
                capitalised(strength_word(self.first_strength)),
                strength_word(second)
            ),
        });
        if self.second_strength.is_some() {
            score -= SECOND_HOP_COST;
        }
        match self
            .last_touch_at
            .map(|at| (today - at.date()).whole_days())
        {
            Some(days) if days <= 30 => {
                score += 15;
                reasons.push(format!("touched {} ago", days_text(days)));
            }
            Some(days) if days <= 90 => {
                score += 10;
                reasons.push(format!("touched {} ago", days_text(days)));
            }
            Some(days) if days <= 365 => {
                score += 4;
                reasons.push(format!("last touched {} ago", days_text(days)));
            }
            Some(_) => reasons.push("not touched for over a year".into()),
            None => reasons.push("never touched".into()),
        }
        if self.past_intros > 0 {
            score += self.past_intros.min(INTRO_CAP) * INTRO_POINTS;
            reasons.push(match self.past_intros {
                1 => "made an introduction before".to_string(),
                n => format!("made {n} introductions before"),
            });
        }
        if self.load > 0 {
            score -= self.load * LOAD_COST;
            reasons.push(match self.load {
                1 => format!("asked once in the last {LOAD_WINDOW_DAYS} days"),
                n => format!("asked {n} times in the last {LOAD_WINDOW_DAYS} days"),
            });
        }
        if self.own {
            score += 3;
        }
        Rank { score, reasons }
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn days_text(days: i64) -> String {
    match days {
        ..=0 => "0 days".into(),
        1 => "1 day".into(),
        n => format!("{n} days"),
    }
}

/// How a prospect was named in a path search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prospect {
    /// One of the searcher's visible contacts.
    Contact(crate::domain::contacts::ContactId),
    /// A LinkedIn (or any web) address.
    Url(String),
    /// A company's or a person's name.
    Name(String),
}

impl Prospect {
    /// Reads what was typed: a number is a contact id, an address is a LinkedIn URL, anything
    /// else a name. `None` when nothing usable was typed.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 500 {
            return None;
        }
        if let Ok(id) = text.parse::<i64>() {
            return Some(Self::Contact(crate::domain::contacts::ContactId(id)));
        }
        let lower = text.to_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Some(Self::Url(text.trim_end_matches('/').to_string()));
        }
        Some(Self::Name(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn facts() -> PathFacts {
        PathFacts {
            first_strength: 4,
            second_strength: None,
            last_touch_at: Some(datetime!(2026-11-20 10:00 UTC)),
            past_intros: 0,
            load: 0,
            own: false,
        }
    }

    #[test]
    fn a_stronger_fresher_less_asked_path_ranks_higher() {
        let today = date!(2026 - 12 - 03);
        let base = facts().rank(today).score;
        let weaker = PathFacts {
            first_strength: 3,
            ..facts()
        };
        let staler = PathFacts {
            last_touch_at: Some(datetime!(2025-01-01 10:00 UTC)),
            ..facts()
        };
        let proven = PathFacts {
            past_intros: 2,
            ..facts()
        };
        let tired = PathFacts { load: 3, ..facts() };
        let two_hops = PathFacts {
            second_strength: Some(5),
            ..facts()
        };
        assert!(weaker.rank(today).score < base);
        assert!(staler.rank(today).score < base);
        assert!(proven.rank(today).score > base);
        assert!(tired.rank(today).score < base);
        assert!(two_hops.rank(today).score < base);
        let reasons = tired.rank(today).reasons;
        assert_eq!(reasons[0], "Strong relationship (direct)");
        assert_eq!(reasons[1], "touched 13 days ago");
        assert_eq!(reasons[2], "asked 3 times in the last 90 days");
    }

    #[test]
    fn a_two_hop_path_is_as_strong_as_its_weakest_hop() {
        let path = PathFacts {
            first_strength: 5,
            second_strength: Some(2),
            ..facts()
        };
        assert_eq!(path.strength(), 2);
    }

    #[test]
    fn what_was_typed_names_a_contact_an_address_or_a_name() {
        assert_eq!(
            Prospect::parse(" 42 "),
            Some(Prospect::Contact(crate::domain::contacts::ContactId(42)))
        );
        assert_eq!(
            Prospect::parse("https://www.linkedin.com/in/dana/"),
            Some(Prospect::Url("https://www.linkedin.com/in/dana".into()))
        );
        assert_eq!(
            Prospect::parse("Contoso"),
            Some(Prospect::Name("Contoso".into()))
        );
        assert_eq!(Prospect::parse("   "), None);
    }
}
