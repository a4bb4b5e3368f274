//! Contacts as the rest of the code sees them, and the rules their fields obey.

use serde::{Deserialize, Serialize};

use crate::domain::fields::FieldErrors;
use crate::domain::users::Email;

record_id! {
    /// A contact's id.
    ContactId
}

record_id! {
    /// A stored contact import's id: an uploaded file waiting for its preview to be confirmed.
    ImportId
}

/// What a contact is to the rep.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Kind {
    /// Bought from us: the best referral sources.
    Client,
    /// Someone who introduces us.
    ReferralSource,
    /// Someone we want to meet.
    Prospect,
    /// A partner firm or person.
    Partner,
    /// A company rather than a person (an imported row with no person's name).
    Organisation,
    /// Anyone else.
    Other,
}

impl Kind {
    /// Every kind, for select boxes and filters.
    pub const ALL: [Kind; 6] = [
        Kind::Client,
        Kind::ReferralSource,
        Kind::Prospect,
        Kind::Partner,
        Kind::Organisation,
        Kind::Other,
    ];

    /// The stored and form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::ReferralSource => "referral_source",
            Self::Prospect => "prospect",
            Self::Partner => "partner",
            Self::Organisation => "organisation",
            Self::Other => "other",
        }
    }

    /// How it is shown.
    pub fn label(self) -> &'static str {
        match self {
            Self::Client => "Client",
            Self::ReferralSource => "Referral source",
            Self::Prospect => "Prospect",
            Self::Partner => "Partner",
            Self::Organisation => "Organisation",
            Self::Other => "Other",
        }
    }

    /// Parses a stored value or a label, case-insensitively (American "organization" too).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_lowercase().replace([' ', '-'], "_");
        let text = if text == "organization" {
            "organisation".to_string()
        } else {
            text
        };
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == text || k.label().to_lowercase().replace(' ', "_") == text)
    }
}

/// A contact's editable fields, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactFields {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub title: Option<String>,
    pub linkedin_url: Option<String>,
    /// `None` when not given (an import without a kind column): new contacts get `other`,
    /// updated ones keep theirs.
    pub kind: Option<Kind>,
    /// `None` when not given, as for `kind`; new contacts get 3.
    pub strength: Option<i16>,
    /// `None` for no cadence.
    pub touch_cadence_days: Option<i32>,
    pub notes: String,
}

/// A contact as typed into the form (or read from an import row): every field as text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ContactInput {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub company: String,
    pub title: String,
    pub linkedin_url: String,
    pub kind: String,
    pub strength: String,
    pub touch_cadence_days: String,
    pub notes: String,
}

impl ContactInput {
    /// Validates every field, collecting a message per bad field.
    pub fn validate(&self) -> Result<ContactFields, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = self.name.trim();
        if name.is_empty() {
            errors.add("name", "Enter a name.");
        } else if name.chars().count() > 200 {
            errors.add("name", "Keep the name under 200 characters.");
        }
        let email = optional(&self.email)
            .map(|e| Email::parse(&e).map(|e| e.as_str().to_string()))
            .transpose();
        let email = errors.check("email", email).flatten();
        let phone = optional(&self.phone);
        if phone.as_ref().is_some_and(|p| !is_phone(p)) {
            errors.add(
                "phone",
                "Enter a phone number: digits, spaces, + ( ) - . and perhaps an extension (ext. 12).",
            );
        }
        let linkedin_url = optional(&self.linkedin_url)
            .map(|u| normalize_url(&u).map(|u| canonical_linkedin(&u).unwrap_or(u)));
        let linkedin_url = errors
            .check("linkedin_url", linkedin_url.transpose())
            .flatten();
        let kind = match self.kind.trim() {
            "" => Some(None),
            k => errors.check(
                "kind",
                Kind::parse(k)
                    .map(Some)
                    .ok_or("Choose a kind from the list."),
            ),
        };
        let strength = match self.strength.trim() {
            "" => Some(None),
            s => errors.check(
                "strength",
                s.parse::<i16>()
                    .ok()
                    .filter(|n| (1..=5).contains(n))
                    .map(Some)
                    .ok_or("Strength is a whole number from 1 (weak) to 5 (strong)."),
            ),
        };
        let cadence = match self.touch_cadence_days.trim() {
            "" => Some(None),
            d => errors.check(
                "touch_cadence_days",
                d.parse::<i32>()
                    .ok()
                    .filter(|n| (1..=3650).contains(n))
                    .map(Some)
                    .ok_or("Enter a number of days from 1 to 3650, or leave it empty."),
            ),
        };
        for (field, value, max) in [
            ("company", &self.company, 200),
            ("title", &self.title, 200),
            ("notes", &self.notes, 20_000),
        ] {
            if value.trim().chars().count() > max {
                errors.add(field, format!("Keep this under {max} characters."));
            }
        }
        let (Some(kind), Some(strength), Some(cadence), true) =
            (kind, strength, cadence, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(ContactFields {
            name: name.to_string(),
            email,
            phone,
            company: optional(&self.company),
            title: optional(&self.title),
            linkedin_url,
            kind,
            strength,
            touch_cadence_days: cadence,
            // One kind of line end, whether typed in a browser (CRLF) or imported.
            notes: self.notes.trim().replace("\r\n", "\n").replace('\r', "\n"),
        })
    }
}

fn optional(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// A phone number: digits and `+ ( ) - . /` with spaces, and perhaps an extension
/// (`ext. 102`, `extension 7`, `x12`).
fn is_phone(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let (number, extension) = lower
        .find("ext")
        .map_or((lower.as_str(), ""), |i| (&lower[..i], &lower[i + 3..]));
    let extension =
        extension.trim_start_matches(|c: char| c.is_ascii_alphabetic() || ".:".contains(c));
    text.len() <= 50
        && number.chars().any(|c| c.is_ascii_digit())
        && number
            .chars()
            .all(|c| c.is_ascii_digit() || " +()-./x".contains(c))
        && extension.chars().all(|c| c.is_ascii_digit() || c == ' ')
}

/// Checks a web address, adding `https://` when the scheme is missing, so
/// `linkedin.com/in/x` and `https://www.linkedin.com/in/x` are both accepted.
fn normalize_url(text: &str) -> Result<String, &'static str> {
    let url = if text.contains("://") {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("Enter a web address starting with https://.")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let valid = host.contains('.')
        && !host.starts_with('.')
        && url.len() <= 500
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(url)
    } else {
        Err("Enter a web address like https://www.linkedin.com/in/name.")
    }
}

/// A LinkedIn address in the one form Warmline stores and compares: `https://www.linkedin.com/`
/// and, for a profile, `in/<slug>`, whatever the scheme, `www` or country subdomain, trailing
/// slash, query, fragment, percent-encoding or case of the address given. `None` for any other
/// site.
pub fn canonical_linkedin(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (host, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let host = host
        .rsplit('@')
        .next()?
        .split(':')
        .next()?
        .to_ascii_lowercase();
    if host != "linkedin.com" && !host.ends_with(".linkedin.com") {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decoded(s).to_lowercase())
        .collect();
    let canonical = match segments.iter().position(|s| s == "in") {
        Some(i) if i + 1 < segments.len() => format!("in/{}", segments[i + 1]),
        _ => segments.join("/"),
    };
    Some(format!("https://www.linkedin.com/{canonical}"))
}

/// `%xx` escapes decoded, when they spell UTF-8; the text as given otherwise.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// A person's name from its parts, in the order its script writes them: given name first,
/// or family name first for Chinese, Japanese and Korean names. Empty parts are left out.
pub fn person_name(prefix: &str, given: &str, middle: &str, family: &str, suffix: &str) -> String {
    let east_asian = [given, middle, family].iter().flat_map(|p| p.chars()).any(|c| {
        matches!(c, '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}')
    });
    let ordered = if east_asian {
        [prefix, family, given, middle, suffix]
    } else {
        [prefix, given, middle, family, suffix]
    };
    ordered
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
