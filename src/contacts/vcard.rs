//! vCard 4.0 (RFC 6350): writing contacts and reading them back.

use super::model::ContactInput;
use crate::db::contacts::Contact;
use crate::domain::content_lines::{escape, fold_into, unescape};

/// One contact as a vCard, with CRLF line ends and lines folded at 75 octets.
pub fn write(contact: &Contact) -> String {
    let mut card = String::new();
    let mut line = |text: String| fold_into(&mut card, &text);
    line("BEGIN:VCARD".into());
    line("VERSION:4.0".into());
    line(format!("FN:{}", escape(&contact.name)));
    let (given, family) = split_name(&contact.name);
    line(format!("N:{};{};;;", escape(family), escape(given)));
    if let Some(email) = &contact.email {
        line(format!("EMAIL;TYPE=work:{}", escape(email)));
    }
    if let Some(phone) = &contact.phone {
        line(format!("TEL;VALUE=text:{}", escape(phone)));
    }
    if let Some(company) = &contact.company {
        line(format!("ORG:{}", escape(company)));
    }
    if let Some(title) = &contact.title {
        line(format!("TITLE:{}", escape(title)));
    }
    if let Some(url) = &contact.linkedin_url {
        line(format!("URL;TYPE=linkedin:{}", escape(url)));
    }
    if !contact.notes.is_empty() {
        line(format!("NOTE:{}", escape(&contact.notes)));
    }
    line(format!("CATEGORIES:{}", escape(contact.kind.label())));
    line(format!("X-WARMLINE-STRENGTH:{}", contact.strength));
    if let Some(days) = contact.touch_cadence_days {
        line(format!("X-WARMLINE-CADENCE-DAYS:{days}"));
    }
    line("END:VCARD".into());
    card
}

/// Reads every vCard in `text` (versions 3.0 and 4.0) as contact input, with the line each
/// card starts on.
pub fn parse(text: &str) -> Vec<(u64, ContactInput)> {
    let mut cards = Vec::new();
    let mut current: Option<(u64, ContactInput)> = None;
    for (line_no, line) in unfold(text) {
        let Some((head, value)) = line.split_once(':') else {
            continue;
        };
        let name = head.split(';').next().unwrap_or("").to_ascii_uppercase();
        let name = name.rsplit('.').next().unwrap_or("").to_string(); // item1.EMAIL
        let value = unescape(value);
        match name.as_str() {
            "BEGIN" if value.eq_ignore_ascii_case("VCARD") => {
                current = Some((line_no, ContactInput::default()));
            }
            "END" => {
                if let Some(card) = current.take() {
                    cards.push(card);
                }
            }
            _ => {
                if let Some((_, input)) = current.as_mut() {
                    apply(input, &name, value);
                }
            }
        }
    }
    cards
}

fn apply(input: &mut ContactInput, name: &str, value: String) {
    let set_once = |field: &mut String, value: String| {
        if field.is_empty() {
            *field = value;
        }
    };
    match name {
        "FN" => set_once(&mut input.name, value),
        "N" if input.name.is_empty() => {
            let parts: Vec<&str> = value.split(';').collect();
            let given = parts.get(1).copied().unwrap_or("");
            let family = parts.first().copied().unwrap_or("");
            input.name = format!("{given} {family}").trim().to_string();
        }
        "EMAIL" => set_once(&mut input.email, value),
        "TEL" => set_once(
            &mut input.phone,
            value.trim_start_matches("tel:").to_string(),
        ),
        "ORG" => set_once(
            &mut input.company,
            value.split(';').next().unwrap_or("").to_string(),
        ),
        "TITLE" => set_once(&mut input.title, value),
        "URL" => set_once(&mut input.linkedin_url, value),
        "NOTE" => set_once(&mut input.notes, value),
        "CATEGORIES" => {
            let kind = value
                .split(',')
                .find(|c| super::model::Kind::parse(c).is_some())
                .unwrap_or("");
            set_once(&mut input.kind, kind.to_string());
        }
        "X-WARMLINE-STRENGTH" => set_once(&mut input.strength, value),
        "X-WARMLINE-CADENCE-DAYS" => set_once(&mut input.touch_cadence_days, value),
        _ => {}
    }
}

/// Joins folded lines (a line starting with a space or tab continues the one before).
fn unfold(text: &str) -> Vec<(u64, String)> {
    let mut lines: Vec<(u64, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.trim_end_matches('\r');
        if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some((_, last)) = lines.last_mut()
        {
            last.push_str(rest);
        } else if !raw.is_empty() {
            lines.push((i as u64 + 1, raw.to_string()));
        }
    }
    lines
}

fn split_name(name: &str) -> (&str, &str) {
    match name.trim().rsplit_once(' ') {
        Some((given, family)) => (given, family),
        None => (name.trim(), ""),
    }
}
