//! Importing contacts: CSV with a column mapping, LinkedIn's `Connections.csv` as it comes,
//! and vCards. An upload is decoded and stored, previewed (new rows, duplicates with a
//! skip-or-update choice, rejected rows with their reasons), and committed in one transaction.

use std::collections::HashMap;

use serde_json::json;
use sqlx::PgPool;

use super::sources::{self, Field};
use super::vcard;
use crate::db;
use crate::db::contacts::Batch;
use crate::domain::contacts::{
    ContactFields, ContactId, ContactInput, ImportId, Kind, canonical_linkedin, person_name,
};
use crate::domain::spreadsheet::restore;
use crate::domain::users::UserId;

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

/// Text from uploaded bytes: UTF-16 (with a byte order mark, or recognised by its zero bytes),
/// UTF-8 (a byte order mark is dropped), else Windows-1252, the encoding spreadsheet programs on
/// Windows still write.
pub fn decode(bytes: &[u8]) -> String {
    // Excel's "Unicode text" and many exporters write UTF-16 with a byte order mark.
    if let Some(le) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(le, u16::from_le_bytes);
    }
    if let Some(be) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(be, u16::from_be_bytes);
    }
    // UTF-16 without a byte order mark: ASCII text has a zero byte in every other place.
    let head = &bytes[..bytes.len().min(512) & !1];
    let zeros = |at: usize| head.iter().skip(at).step_by(2).filter(|&&b| b == 0).count();
    if head.len() >= 8 && zeros(0) * 10 >= head.len() * 4 && zeros(1) == 0 {
        return utf16(bytes, u16::from_be_bytes);
    }
    if head.len() >= 8 && zeros(1) * 10 >= head.len() * 4 && zeros(0) == 0 {
        return utf16(bytes, u16::from_le_bytes);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

/// Why an upload cannot be a contact file (a workbook, a PDF, an image, other binary data), in
/// words that say what to upload instead; `None` for text.
pub fn unreadable(bytes: &[u8], text: &str) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Some(
            "This is a spreadsheet workbook (.xlsx or .xls), not CSV. Open it and save it as \
             \"CSV UTF-8\" (File → Save As), then upload that file.",
        );
    }
    if bytes.starts_with(b"%PDF") {
        return Some("This is a PDF, not a contact file. Export your contacts as CSV or vCard.");
    }
    let sample = text.chars().take(4096);
    let (mut control, mut total) = (0, 0);
    for c in sample {
        total += 1;
        if c == '\0' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}')) {
            control += 1;
        }
    }
    (text.contains('\0') || control * 100 > total).then_some(
        "This file holds binary data, not text. Export your contacts as CSV or vCard and upload \
         that file.",
    )
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

/// The header and rows of a CSV upload, each row with its line number in the file.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(u64, Result<Vec<String>, String>)>,
}

/// Reads a CSV (for LinkedIn's export, from its header row on). Each row carries the line it
/// starts on in the file, counting blank lines and the lines of multi-line quoted values; the
/// footer of a Salesforce report ("Copyright…", "Generated By…") is left out.
pub fn read_table(text: &str, format: Format) -> Result<Table, String> {
    let skip = match format {
        Format::LinkedIn => linkedin_header_line(text).unwrap_or(0),
        _ => 0,
    };
    let body = text.split_inclusive('\n').skip(skip).collect::<String>();
    // Records come in file order, so the newlines before each are counted from the last one.
    let (mut counted_to, mut newlines) = (0usize, 0usize);
    let mut line_of = |byte: u64| {
        let start = usize::try_from(byte).unwrap_or(usize::MAX).min(body.len());
        // The reader reports where a record's bytes start, blank lines before it included.
        let rest = &body[start..];
        let end = start + rest.len() - rest.trim_start_matches(['\r', '\n']).len();
        if end >= counted_to {
            newlines += body.as_bytes()[counted_to..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            counted_to = end;
        }
        (skip + newlines + 1) as u64
    };
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
    let mut in_footer = false;
    for record in records {
        let (line, row) = match record {
            Ok(r) => {
                let line = line_of(r.position().map_or(0, |p| p.byte()));
                let filled: Vec<&str> = r.iter().map(str::trim).filter(|c| !c.is_empty()).collect();
                if filled.is_empty() {
                    continue;
                }
                in_footer |= filled.len() == 1 && is_footer(filled[0]);
                if in_footer && filled.len() == 1 {
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
                let line = line_of(e.position().map_or(0, |p| p.byte()));
                (line, Err(format!("It could not be read: {e}.")))
            }
        };
        rows.push((line, row));
    }
    Ok(Table { header, rows })
}

/// The first line of a report footer, as Salesforce writes it under a report.
fn is_footer(cell: &str) -> bool {
    [
        "Copyright (c)",
        "Copyright ©",
        "Confidential Information",
        "Generated By:",
    ]
    .iter()
    .any(|start| cell.starts_with(start))
}

/// The mapping a header suggests: a known export's own, else the likeliest for each column.
pub fn guess_mapping(header: &[String]) -> Vec<Field> {
    sources::mapping(header)
}

/// A header as the key its remembered mapping is stored under; `None` for headers too long
/// to remember.
pub fn header_key(header: &[String]) -> Option<String> {
    let key = header.join("\u{1f}");
    (key.chars().count() <= 10_000).then_some(key)
}

/// Whether a header is one of a known export.
pub fn recognised(header: &[String]) -> bool {
    sources::recognise(header).is_some()
}

/// How the preview names what was uploaded: the export recognised by its header, or the
/// vCard versions found.
pub fn describe(format: Format, text: &str, header: &[String]) -> String {
    match format {
        Format::VCard => {
            let mut versions: Vec<&str> = text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("VERSION:"))
                .map(str::trim)
                .collect();
            versions.sort_unstable();
            versions.dedup();
            if versions.is_empty() {
                "vCard".to_string()
            } else {
                format!("vCard {}", versions.join(", "))
            }
        }
        Format::LinkedIn => format.label().to_string(),
        Format::Csv => {
            sources::recognise(header).map_or_else(|| "CSV".to_string(), |s| s.label.to_string())
        }
    }
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
    let [mut prefix, mut first, mut middle, mut last, mut suffix] = Default::default();
    let (mut notes, mut extras) = (Vec::new(), Vec::new());
    for (cell, field) in cells.iter().zip(mapping) {
        // Google joins several values of one column with " ::: ".
        let mut values = cell.split(" ::: ").map(str::trim).filter(|v| !v.is_empty());
        let mut keep = |slot: &mut String, label: &str, values: &mut dyn Iterator<Item = &str>| {
            for value in values {
                vcard::first_or_extra(slot, value.to_string(), label, &mut extras);
            }
        };
        match field {
            Field::Ignore => {}
            Field::Name => keep(&mut input.name, "Also known as", &mut values),
            Field::FirstName => keep(&mut first, "Also known as", &mut values),
            Field::MiddleName => keep(&mut middle, "Also known as", &mut values),
            Field::LastName => keep(&mut last, "Also known as", &mut values),
            Field::NamePrefix => keep(&mut prefix, "Also known as", &mut values),
            Field::NameSuffix => keep(&mut suffix, "Also known as", &mut values),
            Field::Email => keep(&mut input.email, "Other e-mail", &mut values),
            Field::Phone => keep(&mut input.phone, "Other phone", &mut values),
            Field::Company => keep(&mut input.company, "Other company", &mut values),
            Field::Title => keep(&mut input.title, "Other title", &mut values),
            Field::LinkedinUrl => keep(&mut input.linkedin_url, "Other LinkedIn URL", &mut values),
            Field::Website => {
                for url in values {
                    let linkedin = canonical_linkedin(url);
                    if linkedin.is_some() && input.linkedin_url.is_empty() {
                        input.linkedin_url = url.to_string();
                    } else if linkedin.is_none()
                        || linkedin != canonical_linkedin(&input.linkedin_url)
                    {
                        extras.push(format!("Website: {url}"));
                    }
                }
            }
            Field::Kind => keep(&mut input.kind, "Kind", &mut values),
            Field::Strength => keep(&mut input.strength, "Strength", &mut values),
            Field::TouchCadenceDays => {
                keep(&mut input.touch_cadence_days, "Stay in touch", &mut values);
            }
            Field::Notes => notes.extend(values.map(str::to_string)),
            Field::ConnectedOn => {
                extras.extend(values.map(|v| format!("Connected on LinkedIn: {}", day_of(v))));
            }
        }
    }
    let person = person_name(&prefix, &first, &middle, &last, &suffix);
    if input.name.is_empty() {
        input.name = person;
    } else {
        // A full-name column and a prefix or suffix column: the name keeps them.
        if !prefix.is_empty() && !input.name.starts_with(prefix.as_str()) {
            input.name = format!("{prefix} {}", input.name);
        }
        if !suffix.is_empty() && !input.name.ends_with(suffix.as_str()) {
            input.name = format!("{} {suffix}", input.name);
        }
    }
    // A row naming only a company is the company; one with only an e-mail is named by it.
    if input.name.is_empty() && !input.company.is_empty() {
        input.name = input.company.clone();
        if input.kind.is_empty() {
            input.kind = Kind::Organisation.as_str().to_string();
        }
    }
    if input.name.is_empty() {
        input.name = input.email.clone();
    }
    notes.extend(extras);
    input.notes = notes.join("\n");
    input
}

/// LinkedIn's "Connected On" ("01 Jan 2024", or "1/15/24" from older exports) as an ISO date;
/// the text as given when it is neither.
fn day_of(text: &str) -> String {
    use time::macros::format_description;
    let formats = [
        format_description!("[day] [month repr:short] [year]"),
        format_description!("[day padding:none] [month repr:short] [year]"),
        format_description!("[month padding:none]/[day padding:none]/[year repr:last_two]"),
    ];
    formats
        .iter()
        .find_map(|f| time::Date::parse(text, f).ok())
        .map_or_else(|| text.to_string(), |d| d.to_string())
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
    /// "e-mail", "LinkedIn URL" or "name and company".
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

/// The keys a contact is recognised by: its e-mail (case folded), its LinkedIn profile (in the
/// one stored form, case folded), and its exact name and company. A row is matched by name and
/// company only when it has neither an e-mail nor a LinkedIn URL ([`row_keys`]).
fn identity_keys(
    name: &str,
    company: Option<&str>,
    email: Option<&str>,
    linkedin_url: Option<&str>,
) -> [Option<String>; 3] {
    let email = email.map(|e| e.trim().to_lowercase());
    let url = linkedin_url.map(|u| {
        canonical_linkedin(u)
            .unwrap_or_else(|| u.trim().to_string())
            .to_lowercase()
    });
    let name_company = format!("{}\u{1f}{}", name.trim(), company.unwrap_or("").trim());
    [email, url, Some(name_company)]
}

/// The keys an imported row is matched by: name and company only without the other two.
fn row_keys(fields: &ContactFields) -> [Option<String>; 3] {
    let mut keys = identity_keys(
        &fields.name,
        fields.company.as_deref(),
        fields.email.as_deref(),
        fields.linkedin_url.as_deref(),
    );
    if keys[0].is_some() || keys[1].is_some() {
        keys[2] = None;
    }
    keys
}

/// What each key is called on the preview.
const MATCHED_ON: [&str; 3] = ["e-mail", "LinkedIn URL", "name and company"];

/// Sorts rows into new, duplicate and rejected, against the owner's contacts.
pub async fn plan(pool: &PgPool, owner: UserId, rows: Vec<Row>) -> sqlx::Result<Plan> {
    // Existing contacts by each key; a contact with an e-mail is still found by its name and
    // company, for rows that have neither an e-mail nor a LinkedIn URL.
    let mut known: [HashMap<String, (ContactId, String)>; 3] = Default::default();
    for identity in db::contacts::identities(pool, owner).await? {
        let entry = (identity.contact_id, identity.name.clone());
        let keys = identity_keys(
            &identity.name,
            identity.company.as_deref(),
            identity.email.as_deref(),
            identity.linkedin_url.as_deref(),
        );
        for (map, key) in known.iter_mut().zip(keys) {
            if let Some(key) = key {
                map.entry(key).or_insert_with(|| entry.clone());
            }
        }
    }
    let mut seen: [HashMap<String, u64>; 3] = Default::default();
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
        let keys = row_keys(&fields);
        let found: Vec<(usize, &(ContactId, String))> = keys
            .iter()
            .zip(&known)
            .enumerate()
            .filter_map(|(i, (key, map))| key.as_ref().and_then(|k| map.get(k)).map(|e| (i, e)))
            .collect();
        if let [(_, a), (_, b), ..] = found.as_slice()
            && a.0 != b.0
        {
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
        if let Some((i, (id, name))) = found.first() {
            plan.duplicates.push(Duplicate {
                line,
                fields,
                original: Original::Existing {
                    id: *id,
                    name: name.clone(),
                },
                matched_on: MATCHED_ON[*i],
            });
            continue;
        }
        let earlier = keys
            .iter()
            .zip(&seen)
            .enumerate()
            .find_map(|(i, (key, map))| key.as_ref().and_then(|k| map.get(k)).map(|l| (*l, i)));
        if let Some((earlier, i)) = earlier {
            plan.duplicates.push(Duplicate {
                line,
                fields,
                original: Original::EarlierRow { line: earlier },
                matched_on: MATCHED_ON[i],
            });
            continue;
        }
        for (map, key) in seen.iter_mut().zip(keys) {
            if let Some(key) = key {
                map.insert(key, line);
            }
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
    import_id: ImportId,
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
        import_id.0,
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
