//! Importing contacts: CSV with a column mapping, LinkedIn's `Connections.csv` as it comes,
//! and vCards. An upload is decoded and stored, previewed (new rows, duplicates with a
//! skip-or-update choice, rejected rows with their reasons), and committed in one transaction.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;

use super::model::{ContactFields, ContactId, ContactInput};
use super::vcard;
use crate::accounts::model::UserId;
use crate::db;
use crate::db::contacts::Batch;
use crate::domain::spreadsheet::restore;

/// The largest file accepted.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// The most one person's imports waiting for review may hold together.
pub const MAX_PENDING_BYTES: i64 = 50 * 1024 * 1024;

/// What kind of file an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Any CSV with a header row; the columns are mapped by the user.
    Csv,
    /// LinkedIn's connections export: note lines, then a fixed header.
    LinkedIn,
    /// One or more vCards.
    VCard,
}

impl Format {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::LinkedIn => "linkedin",
            Self::VCard => "vcard",
        }
    }

    /// Parses the stored value.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Csv, Self::LinkedIn, Self::VCard]
            .into_iter()
            .find(|f| f.as_str() == text)
    }

    /// How it is named on the page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::LinkedIn => "LinkedIn connections export",
            Self::VCard => "vCard",
        }
    }
}

/// Text from uploaded bytes: UTF-8 (a byte-order mark is dropped), else Windows-1252, the
/// encoding spreadsheet programs on Windows still write.
pub fn decode(bytes: &[u8]) -> String {
    // Excel's "Unicode text" and many exporters write UTF-16 with a byte order mark.
    if let Some(le) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(le, u16::from_le_bytes);
    }
    if let Some(be) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(be, u16::from_be_bytes);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| unit([pair[0], pair[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// The field separator of a CSV file, from its first line: the most frequent of `,`, `;`,
/// tab and `|` outside quotes (German and French Excel write `;`, "Unicode text" tabs).
pub fn delimiter_of(first_line: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for c in first_line.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(entry) = counts.iter_mut().find(|(d, _)| *d == c) {
            entry.1 += 1;
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map_or(b',', |(d, _)| *d)
}

/// A Windows-1252 byte as a character (Latin-1 with printable extras in 0x80–0x9F).
pub(super) fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// Recognises the format from the text (and the file name for vCards).
pub fn detect(file_name: &str, text: &str) -> Format {
    let start = text.trim_start();
    if file_name.to_lowercase().ends_with(".vcf")
        || start.to_ascii_uppercase().starts_with("BEGIN:VCARD")
    {
        Format::VCard
    } else if linkedin_header_line(text).is_some() {
        Format::LinkedIn
    } else {
        Format::Csv
    }
}

/// Where LinkedIn's header row is: its export starts with a few note lines.
fn linkedin_header_line(text: &str) -> Option<usize> {
    text.lines()
        .take(20)
        .position(|l| l.starts_with("First Name,Last Name,") && l.contains("Email Address"))
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Ignore,
    Name,
    FirstName,
    LastName,
    Email,
    Phone,
    Company,
    Title,
    LinkedinUrl,
    Kind,
    Strength,
    TouchCadenceDays,
    Notes,
}

impl Field {
    /// Every choice, for the mapping form.
    pub const ALL: [Field; 13] = [
        Field::Ignore,
        Field::Name,
        Field::FirstName,
        Field::LastName,
        Field::Email,
        Field::Phone,
        Field::Company,
        Field::Title,
        Field::LinkedinUrl,
        Field::Kind,
        Field::Strength,
        Field::TouchCadenceDays,
        Field::Notes,
    ];

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ignore => "ignore",
            Self::Name => "name",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Company => "company",
            Self::Title => "title",
            Self::LinkedinUrl => "linkedin_url",
            Self::Kind => "kind",
            Self::Strength => "strength",
            Self::TouchCadenceDays => "touch_cadence_days",
            Self::Notes => "notes",
        }
    }

    /// How it is named in the mapping form.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ignore => "(ignore)",
            Self::Name => "Full name",
            Self::FirstName => "First name",
            Self::LastName => "Last name",
            Self::Email => "E-mail",
            Self::Phone => "Phone",
            Self::Company => "Company",
            Self::Title => "Title",
            Self::LinkedinUrl => "LinkedIn URL",
            Self::Kind => "Kind",
            Self::Strength => "Strength (1–5)",
            Self::TouchCadenceDays => "Stay in touch (days)",
            Self::Notes => "Notes",
        }
    }

    /// Parses the form value.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// The field a column header most likely means.
    fn guess(header: &str) -> Self {
        let h: String = header
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        match h.as_str() {
            "name" | "fullname" | "contactname" | "displayname" => Self::Name,
            "firstname" | "givenname" | "first" => Self::FirstName,
            "lastname" | "surname" | "familyname" | "last" => Self::LastName,
            "email" | "emailaddress" | "mail" | "workemail" => Self::Email,
            "phone" | "phonenumber" | "mobile" | "tel" | "telephone" => Self::Phone,
            "company" | "organization" | "organisation" | "org" | "employer" | "account"
            | "firma" | "unternehmen" | "entreprise" | "société" | "societe" => Self::Company,
            "title" | "jobtitle" | "position" | "role" => Self::Title,
            "linkedin" | "linkedinurl" | "url" | "profileurl" | "linkedinprofile" => {
                Self::LinkedinUrl
            }
            "kind" | "type" | "category" | "contacttype" => Self::Kind,
            "strength" | "relationshipstrength" => Self::Strength,
            "stayintouchdays" | "stayintouch" | "cadence" | "touchcadencedays" => {
                Self::TouchCadenceDays
            }
            "notes" | "note" | "comments" => Self::Notes,
            _ => Self::Ignore,
        }
    }
}

/// The header and rows of a CSV upload, each row with its line number in the file.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(u64, Result<Vec<String>, String>)>,
}

/// Reads a CSV (for LinkedIn's export, from its header row on).
pub fn read_table(text: &str, format: Format) -> Result<Table, String> {
    let skip = match format {
        Format::LinkedIn => linkedin_header_line(text).unwrap_or(0),
        _ => 0,
    };
    let body: String = text.lines().skip(skip).collect::<Vec<_>>().join("\n");
    let delimiter = delimiter_of(body.lines().next().unwrap_or(""));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h.iter().map(|c| c.trim().to_string()).collect(),
        Some(Err(e)) => return Err(format!("The header row could not be read: {e}")),
        None => return Err("The file is empty.".into()),
    };
    if header.iter().all(String::is_empty) {
        return Err("The first row must name the columns.".into());
    }
    let mut rows = Vec::new();
    for record in records {
        let (line, row) = match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line()) + skip as u64;
                if r.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                if r.len() > header.len() {
                    let why = format!(
                        "It has {} values, but the header names {} columns.",
                        r.len(),
                        header.len()
                    );
                    (line, Err(why))
                } else {
                    (line, Ok(r.iter().map(|c| restore(c).to_string()).collect()))
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line()) + skip as u64;
                (line, Err(format!("It could not be read: {e}.")))
            }
        };
        rows.push((line, row));
    }
    Ok(Table { header, rows })
}

/// The mapping a header suggests: each field to the first column that looks like it.
pub fn guess_mapping(header: &[String]) -> Vec<Field> {
    let mut used = Vec::new();
    header
        .iter()
        .map(|h| {
            let field = Field::guess(h);
            if field == Field::Ignore || used.contains(&field) {
                Field::Ignore
            } else {
                used.push(field);
                field
            }
        })
        .collect()
}

/// Reads a stored mapping, falling back to the guess for columns it does not cover.
pub fn mapping_from_json(value: &serde_json::Value, header: &[String]) -> Vec<Field> {
    let stored: Vec<Field> = serde_json::from_value(value.clone()).unwrap_or_default();
    if stored.len() == header.len() {
        stored
    } else {
        guess_mapping(header)
    }
}

/// One row to import, as contact input, or why it cannot be read at all.
pub type Row = (u64, Result<ContactInput, String>);

/// The rows of a stored upload under a mapping.
pub fn rows(format: Format, text: &str, mapping: &[Field]) -> Result<Vec<Row>, String> {
    if format == Format::VCard {
        let cards = vcard::parse(text);
        if cards.is_empty() {
            return Err("No vCard was found in the file.".into());
        }
        return Ok(cards.into_iter().map(|(line, c)| (line, Ok(c))).collect());
    }
    let table = read_table(text, format)?;
    Ok(table
        .rows
        .into_iter()
        .map(|(line, row)| (line, row.map(|cells| apply_mapping(&cells, mapping))))
        .collect())
}

fn apply_mapping(cells: &[String], mapping: &[Field]) -> ContactInput {
    let mut input = ContactInput::default();
    let (mut first, mut last) = (String::new(), String::new());
    for (cell, field) in cells.iter().zip(mapping) {
        let cell = cell.trim().to_string();
        match field {
            Field::Ignore => {}
            Field::Name => input.name = cell,
            Field::FirstName => first = cell,
            Field::LastName => last = cell,
            Field::Email => input.email = cell,
            Field::Phone => input.phone = cell,
            Field::Company => input.company = cell,
            Field::Title => input.title = cell,
            Field::LinkedinUrl => input.linkedin_url = cell,
            Field::Kind => input.kind = cell,
            Field::Strength => input.strength = cell,
            Field::TouchCadenceDays => input.touch_cadence_days = cell,
            Field::Notes => input.notes = cell,
        }
    }
    if input.name.is_empty() {
        input.name = format!("{first} {last}").trim().to_string();
    }
    input
}

/// What a duplicate row duplicates.
#[derive(Debug, Clone)]
pub enum Original {
    /// A contact the owner already has.
    Existing { id: ContactId, name: String },
    /// A row earlier in the same file.
    EarlierRow { line: u64 },
}

/// A row that matches a contact already there or an earlier row.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub line: u64,
    pub fields: ContactFields,
    pub original: Original,
    /// "e-mail" or "LinkedIn URL".
    pub matched_on: &'static str,
}

/// A row that cannot be imported, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub line: u64,
    pub name: String,
    pub reasons: String,
}

/// What an import would do.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub new: Vec<(u64, ContactFields)>,
    pub duplicates: Vec<Duplicate>,
    pub rejected: Vec<Rejected>,
}

/// Sorts rows into new, duplicate and rejected, against the owner's contacts.
pub async fn plan(pool: &PgPool, owner: UserId, rows: Vec<Row>) -> sqlx::Result<Plan> {
    let mut by_email: HashMap<String, (ContactId, String)> = HashMap::new();
    let mut by_url: HashMap<String, (ContactId, String)> = HashMap::new();
    for identity in db::contacts::identities(pool, owner).await? {
        let entry = (identity.contact_id, identity.name);
        if let Some(email) = identity.email {
            by_email.insert(email, entry.clone());
        }
        if let Some(url) = identity.linkedin_url {
            by_url.insert(url, entry);
        }
    }
    let mut seen_email: HashMap<String, u64> = HashMap::new();
    let mut seen_url: HashMap<String, u64> = HashMap::new();
    let mut plan = Plan::default();
    for (line, row) in rows {
        let input = match row {
            Ok(input) => input,
            Err(reason) => {
                plan.rejected.push(Rejected {
                    line,
                    name: String::new(),
                    reasons: reason,
                });
                continue;
            }
        };
        let fields = match input.validate() {
            Ok(fields) => fields,
            Err(errors) => {
                let reasons = errors
                    .iter()
                    .map(|(f, m)| format!("{}: {m}", field_label(f)))
                    .collect::<Vec<_>>()
                    .join(" ");
                plan.rejected.push(Rejected {
                    line,
                    name: input.name,
                    reasons,
                });
                continue;
            }
        };
        let email = fields.email.as_ref().map(|e| e.to_lowercase());
        let url = fields.linkedin_url.as_ref().map(|u| u.to_lowercase());
        let by_mail = email.as_ref().and_then(|e| by_email.get(e));
        let by_link = url.as_ref().and_then(|u| by_url.get(u));
        let existing = match (by_mail, by_link) {
            (Some(a), Some(b)) if a.0 != b.0 => {
                plan.rejected.push(Rejected {
                    line,
                    name: fields.name,
                    reasons: format!(
                        "Its e-mail belongs to {} and its LinkedIn URL to {}: fix one of them.",
                        a.1, b.1
                    ),
                });
                continue;
            }
            (Some(a), _) => Some((a.clone(), "e-mail")),
            (None, Some(b)) => Some((b.clone(), "LinkedIn URL")),
            (None, None) => None,
        };
        if let Some(((id, name), matched_on)) = existing {
            plan.duplicates.push(Duplicate {
                line,
                fields,
                original: Original::Existing { id, name },
                matched_on,
            });
            continue;
        }
        let earlier = email
            .as_ref()
            .and_then(|e| seen_email.get(e).map(|l| (*l, "e-mail")))
            .or_else(|| {
                url.as_ref()
                    .and_then(|u| seen_url.get(u).map(|l| (*l, "LinkedIn URL")))
            });
        if let Some((earlier, matched_on)) = earlier {
            plan.duplicates.push(Duplicate {
                line,
                fields,
                original: Original::EarlierRow { line: earlier },
                matched_on,
            });
            continue;
        }
        if let Some(e) = email {
            seen_email.insert(e, line);
        }
        if let Some(u) = url {
            seen_url.insert(u, line);
        }
        plan.new.push((line, fields));
    }
    Ok(plan)
}

fn field_label(field: &str) -> &'static str {
    match field {
        "name" => "Name",
        "email" => "E-mail",
        "phone" => "Phone",
        "linkedin_url" => "LinkedIn URL",
        "kind" => "Kind",
        "strength" => "Strength",
        "touch_cadence_days" => "Stay in touch",
        "company" => "Company",
        "title" => "Title",
        "notes" => "Notes",
        _ => "Value",
    }
}

/// For each duplicate: update the original, or skip the row.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// What to do with duplicates not named in `per_line`.
    pub update_by_default: bool,
    /// Choices made row by row (true = update).
    pub per_line: HashMap<u64, bool>,
}

impl Choices {
    /// Whether the duplicate on `line` updates its original.
    pub fn updates(&self, line: u64) -> bool {
        self.per_line
            .get(&line)
            .copied()
            .unwrap_or(self.update_by_default)
    }
}

/// What a committed import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    pub inserted: u64,
    pub updated: u64,
    pub skipped: u64,
    pub rejected: u64,
}

/// Carries out a plan in one transaction, consuming the stored import so that a second
/// commit of the same upload does nothing (`None`).
pub async fn commit(
    pool: &PgPool,
    owner: UserId,
    import_id: i64,
    plan: Plan,
    choices: &Choices,
) -> sqlx::Result<Option<Outcome>> {
    let mut new = plan.new;
    let mut updates: HashMap<ContactId, ContactFields> = HashMap::new();
    let mut skipped = 0;
    for dup in plan.duplicates {
        if !choices.updates(dup.line) {
            skipped += 1;
            continue;
        }
        match dup.original {
            Original::Existing { id, .. } => {
                merge(
                    updates.entry(id).or_insert_with(|| dup.fields.clone()),
                    dup.fields,
                );
            }
            Original::EarlierRow { line } => {
                if let Some((_, fields)) = new.iter_mut().find(|(l, _)| *l == line) {
                    merge(fields, dup.fields);
                }
            }
        }
    }
    let mut inserts = Batch::default();
    for (_, fields) in new {
        inserts.push(0, fields);
    }
    let mut changes = Batch::default();
    for (id, fields) in updates {
        changes.push(id.0, fields);
    }
    let mut tx = pool.begin().await?;
    if !db::contacts::delete_import(&mut *tx, owner, import_id).await? {
        return Ok(None);
    }
    let inserted = db::contacts::insert_batch(&mut *tx, owner, &inserts).await?;
    let updated = db::contacts::update_batch(&mut *tx, owner, &changes).await?;
    let outcome = Outcome {
        inserted,
        updated,
        skipped: skipped + (inserts.names.len() as u64 - inserted),
        rejected: plan.rejected.len() as u64,
    };
    let summary = json!({
        "inserted": outcome.inserted, "updated": outcome.updated,
        "skipped": outcome.skipped, "rejected": outcome.rejected,
    });
    db::audit::record(
        &mut *tx,
        Some(owner),
        "contact_import",
        import_id,
        "commit",
        summary,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(outcome))
}

/// A later row's values win where it has them.
fn merge(into: &mut ContactFields, from: ContactFields) {
    into.name = from.name;
    let keep = |a: &mut Option<String>, b: Option<String>| {
        if b.is_some() {
            *a = b;
        }
    };
    keep(&mut into.email, from.email);
    keep(&mut into.phone, from.phone);
    keep(&mut into.company, from.company);
    keep(&mut into.title, from.title);
    keep(&mut into.linkedin_url, from.linkedin_url);
    into.kind = from.kind.or(into.kind);
    into.strength = from.strength.or(into.strength);
    into.touch_cadence_days = from.touch_cadence_days.or(into.touch_cadence_days);
    if !from.notes.is_empty() {
        into.notes = from.notes;
    }
}
