//! Exporting contacts: CSV in the importer's own column names (so a file goes back in
//! unchanged), and vCard.

use crate::db::contacts::Contact;
use crate::domain::spreadsheet::CsvOut;

/// The CSV header, in the words the importer maps by itself.
pub const CSV_HEADER: [&str; 11] = [
    "Name",
    "Email",
    "Phone",
    "Company",
    "Title",
    "LinkedIn URL",
    "Kind",
    "Strength",
    "Stay in touch (days)",
    "Notes",
    "Owner",
];

/// Contacts as CSV (UTF-8, with a header row), safe to open in a spreadsheet.
pub fn to_csv(contacts: &[Contact]) -> Result<Vec<u8>, csv::Error> {
    let mut out = CsvOut::default();
    out.row(CSV_HEADER)?;
    for c in contacts {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        out.row([
            c.name.clone(),
            opt(&c.email),
            opt(&c.phone),
            opt(&c.company),
            opt(&c.title),
            opt(&c.linkedin_url),
            c.kind.label().to_string(),
            c.strength.to_string(),
            c.touch_cadence_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            c.notes.clone(),
            c.owner_name.clone(),
        ])?;
    }
    out.finish()
}

/// Contacts as one vCard file.
pub fn to_vcard(contacts: &[Contact]) -> String {
    contacts.iter().map(super::vcard::write).collect()
}
