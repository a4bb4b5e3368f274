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

/// Reads every vCard in `text` (versions 2.1, 3.0 and 4.0) as contact input, with the line
/// each card starts on.
pub fn parse(text: &str) -> Vec<(u64, ContactInput)> {
    let mut cards = Vec::new();
    let mut current: Option<Card> = None;
    for (line_no, line) in unfold(text) {
        let Some((head, raw)) = line.split_once(':') else {
            continue;
        };
        let mut params = head.split(';');
        let name = params.next().unwrap_or("").to_ascii_uppercase();
        let name = name.rsplit('.').next().unwrap_or("").to_string(); // item1.EMAIL
        let params: Vec<String> = params.map(str::to_ascii_uppercase).collect();
        let raw = decode_value(raw, &params);
        match name.as_str() {
            "BEGIN" if raw.eq_ignore_ascii_case("VCARD") => {
                current = Some(Card {
                    line: line_no,
                    ..Card::default()
                });
            }
            "END" => {
                if let Some(card) = current.take() {
                    cards.push(card.finish());
                }
            }
            _ => {
                if let Some(card) = current.as_mut() {
                    card.apply(&name, &params, &raw);
                }
            }
        }
    }
    cards
}

/// One card being read: its fields, and the name its `N` property gives (used only when it
/// has no `FN`, wherever the two stand).
#[derive(Default)]
struct Card {
    line: u64,
    input: ContactInput,
    name_from_n: String,
}

impl Card {
    fn apply(&mut self, name: &str, params: &[String], raw: &str) {
        let input = &mut self.input;
        let set_once = |field: &mut String, value: String| {
            if field.is_empty() {
                *field = value;
            }
        };
        let value = || unescape(raw);
        match name {
            "FN" => set_once(&mut input.name, value()),
            "N" => {
                let parts: Vec<String> = components(raw).iter().map(|p| unescape(p)).collect();
                let part = |i: usize| {
                    parts
                        .get(i)
                        .map(|p| p.replace(',', " "))
                        .unwrap_or_default()
                };
                // Prefix, given, additional, family, suffix: "Dr. John Q. Appleseed Jr.";
                // Chinese, Japanese and Korean names put the family name first: "山田 太郎".
                let east_asian = parts.iter().flat_map(|p| p.chars()).any(|c| {
                    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}')
                });
                let ordered = if east_asian {
                    [part(3), part(0), part(1), part(2), part(4)]
                } else {
                    [part(3), part(1), part(2), part(0), part(4)]
                };
                self.name_from_n = ordered
                    .iter()
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| p.trim())
                    .collect::<Vec<_>>()
                    .join(" ");
            }
            "EMAIL" => set_once(&mut input.email, value()),
            "TEL" => set_once(&mut input.phone, phone_of(&value())),
            "ORG" => set_once(
                &mut input.company,
                components(raw)
                    .first()
                    .map(|c| unescape(c))
                    .unwrap_or_default(),
            ),
            "TITLE" => set_once(&mut input.title, value()),
            "URL" | "X-SOCIALPROFILE" => {
                let url = value();
                let linkedin = url.to_ascii_lowercase().contains("linkedin.com")
                    || params.iter().any(|p| p.contains("LINKEDIN"));
                if linkedin && url.contains("://") {
                    set_once(&mut input.linkedin_url, url);
                }
            }
            "NOTE" => set_once(&mut input.notes, value()),
            "CATEGORIES" => {
                let kind = value()
                    .split(',')
                    .find(|c| super::model::Kind::parse(c).is_some())
                    .unwrap_or("")
                    .to_string();
                set_once(&mut input.kind, kind);
            }
            "X-WARMLINE-STRENGTH" => set_once(&mut input.strength, value()),
            "X-WARMLINE-CADENCE-DAYS" => set_once(&mut input.touch_cadence_days, value()),
            _ => {}
        }
    }

    fn finish(mut self) -> (u64, ContactInput) {
        if self.input.name.trim().is_empty() {
            self.input.name = self.name_from_n;
        }
        (self.line, self.input)
    }
}

/// A structured value's components, split at `;` that are not escaped.
fn components(raw: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let last = parts.last_mut().expect("one part at least");
                last.push('\\');
                if let Some(next) = chars.next() {
                    last.push(next);
                }
            }
            ';' => parts.push(String::new()),
            c => parts.last_mut().expect("one part at least").push(c),
        }
    }
    parts
}

/// A telephone number as text: `tel:` URIs (vCard 4.0) lose the scheme, and an extension
/// reads "ext. 102".
fn phone_of(value: &str) -> String {
    let value = value.trim();
    let value = value.strip_prefix("tel:").unwrap_or(value);
    match value.split_once(";ext=") {
        Some((number, ext)) => format!("{number} ext. {ext}"),
        None => value.to_string(),
    }
}

/// A value as the card wrote it, with vCard 2.1's QUOTED-PRINTABLE decoded in its CHARSET
/// (UTF-8 unless it names Latin-1 or Windows-1252).
fn decode_value(raw: &str, params: &[String]) -> String {
    let quoted_printable = params
        .iter()
        .any(|p| p == "QUOTED-PRINTABLE" || p == "ENCODING=QUOTED-PRINTABLE");
    if !quoted_printable {
        return raw.to_string();
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        let hex = tail.get(..2).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(byte)) => {
                bytes.push(byte);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    let latin = params.iter().any(|p| {
        p.starts_with("CHARSET=")
            && (p.contains("8859") || p.contains("1252") || p.contains("LATIN"))
    });
    if latin {
        bytes
            .iter()
            .map(|&b| super::import::windows_1252(b))
            .collect()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Joins folded lines (a line starting with a space or tab continues the one before), and
/// QUOTED-PRINTABLE soft line breaks (a line ending in `=` continues on the next).
fn unfold(text: &str) -> Vec<(u64, String)> {
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut soft_break = false;
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.trim_end_matches('\r');
        if soft_break && let Some((_, last)) = lines.last_mut() {
            last.pop(); // the `=`
            last.push_str(raw);
        } else if let Some(rest) = raw.strip_prefix([' ', '\t'])
            && let Some((_, last)) = lines.last_mut()
        {
            last.push_str(rest);
        } else if !raw.is_empty() {
            lines.push((i as u64 + 1, raw.to_string()));
        }
        soft_break = lines.last().is_some_and(|(_, l)| {
            l.ends_with('=')
                && l.split_once(':')
                    .is_some_and(|(head, _)| head.to_ascii_uppercase().contains("QUOTED-PRINTABLE"))
        });
    }
    lines
}

fn split_name(name: &str) -> (&str, &str) {
    match name.trim().rsplit_once(' ') {
        Some((given, family)) => (given, family),
        None => (name.trim(), ""),
    }
}
