//! vCard 4.0 (RFC 6350): writing contacts and reading them back.

use crate::db::contacts::Contact;
use crate::domain::contacts::{ContactInput, Kind, canonical_linkedin, person_name};
use crate::domain::content_lines::{escape, fold_into, unescape};

/// One contact as a vCard, with CRLF line ends and lines folded at 75 octets.
pub fn write(contact: &Contact) -> String {
    let mut card = String::new();
    let mut line = |text: String| fold_into(&mut card, &text);
    line("BEGIN:VCARD".into());
    line("VERSION:4.0".into());
    line(format!("FN:{}", escape(&contact.name)));
    if contact.kind == Kind::Organisation {
        line("KIND:org".into());
        line("N:;;;;".into());
    } else {
        let (given, family) = split_name(&contact.name);
        line(format!("N:{};{};;;", escape(family), escape(given)));
    }
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

/// One card being read: its fields, the name its `N` property gives (used only when it has no
/// `FN`, wherever the two stand), whether it describes an organisation, and the values beyond
/// the first of a kind (a second e-mail, a home page), which go to the notes.
#[derive(Default)]
struct Card {
    line: u64,
    input: ContactInput,
    name_from_n: String,
    organisation: bool,
    notes: Vec<String>,
    extras: Vec<String>,
}

impl Card {
    fn apply(&mut self, name: &str, params: &[String], raw: &str) {
        let value = || unescape(raw);
        match name {
            "FN" => first_or_extra(
                &mut self.input.name,
                value(),
                "Also known as",
                &mut self.extras,
            ),
            "N" => {
                let parts: Vec<String> = components(raw)
                    .iter()
                    .map(|p| unescape(p).replace(',', " "))
                    .collect();
                let part = |i: usize| parts.get(i).map_or("", String::as_str);
                // Family; given; additional; prefix; suffix.
                self.name_from_n = person_name(part(3), part(1), part(2), part(0), part(4));
            }
            "EMAIL" => first_or_extra(
                &mut self.input.email,
                value(),
                "Other e-mail",
                &mut self.extras,
            ),
            "TEL" => first_or_extra(
                &mut self.input.phone,
                phone_of(&value()),
                "Other phone",
                &mut self.extras,
            ),
            "ORG" => {
                let company = components(raw)
                    .first()
                    .map(|c| unescape(c))
                    .unwrap_or_default();
                first_or_extra(
                    &mut self.input.company,
                    company,
                    "Other company",
                    &mut self.extras,
                );
            }
            "TITLE" => first_or_extra(
                &mut self.input.title,
                value(),
                "Other title",
                &mut self.extras,
            ),
            "URL" => {
                let url = value();
                if canonical_linkedin(&url).is_some() && self.input.linkedin_url.is_empty() {
                    self.input.linkedin_url = url;
                } else if !url.trim().is_empty() {
                    self.extras.push(format!("Website: {}", url.trim()));
                }
            }
            // Apple: `X-SOCIALPROFILE;type=linkedin;x-user=jdoe:http://www.linkedin.com/in/jdoe`.
            "X-SOCIALPROFILE" if params.iter().any(|p| p.contains("LINKEDIN")) => {
                let url = value();
                let url = if canonical_linkedin(&url).is_some() {
                    url
                } else {
                    params
                        .iter()
                        .find_map(|p| p.strip_prefix("X-USER="))
                        .map(|user| format!("https://www.linkedin.com/in/{}", user.to_lowercase()))
                        .unwrap_or_default()
                };
                if !url.is_empty() && self.input.linkedin_url.is_empty() {
                    self.input.linkedin_url = url;
                }
            }
            "NOTE" => self.notes.push(value()),
            "CATEGORIES" => {
                let kind = value()
                    .split(',')
                    .find(|c| crate::domain::contacts::Kind::parse(c).is_some())
                    .unwrap_or("")
                    .to_string();
                if self.input.kind.is_empty() {
                    self.input.kind = kind;
                }
            }
            // vCard 4.0's KIND, and Apple's way of saying the same in 3.0.
            "KIND" | "X-ABSHOWAS" => {
                let v = value().to_ascii_lowercase();
                self.organisation |= v == "org" || v == "organization" || v == "company";
            }
            "X-WARMLINE-STRENGTH" => self.input.strength = value(),
            "X-WARMLINE-CADENCE-DAYS" => self.input.touch_cadence_days = value(),
            _ => {}
        }
    }

    fn finish(mut self) -> (u64, ContactInput) {
        let input = &mut self.input;
        if input.name.trim().is_empty() {
            input.name = self.name_from_n;
        }
        if input.name.trim().is_empty() && !input.company.trim().is_empty() {
            input.name = input.company.clone();
            self.organisation = true;
        }
        if input.name.trim().is_empty() {
            input.name = input.email.clone();
        }
        if self.organisation && input.kind.is_empty() {
            input.kind = Kind::Organisation.as_str().to_string();
        }
        self.notes.retain(|n| !n.trim().is_empty());
        self.notes.extend(self.extras);
        input.notes = self.notes.join("\n");
        (self.line, self.input)
    }
}

/// Keeps the first non-empty value of a field; a different later one becomes a line of notes.
pub(super) fn first_or_extra(
    field: &mut String,
    value: String,
    label: &str,
    extras: &mut Vec<String>,
) {
    let value = value.trim();
    if value.is_empty() || value == field.as_str() {
        return;
    }
    if field.is_empty() {
        *field = value.to_string();
    } else {
        extras.push(format!("{label}: {value}"));
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
