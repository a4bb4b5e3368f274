//! CSV that is safe to open in a spreadsheet. A cell that begins with `=`, `+`, `-`, `@`, a
//! tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets, so a
//! contact named `=HYPERLINK(…)` could run in a manager's spreadsheet. Every CSV Warmline
//! writes prefixes such cells with `'` (the OWASP rule); the importer takes the prefix off
//! again, so an export imports back unchanged.

use std::borrow::Cow;

/// The first characters that make a cell a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as written to a CSV file: prefixed with `'` when it would start a formula.
pub fn defuse(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `cell` as read back: a defused cell loses its prefix.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(TRIGGERS) => rest,
        _ => cell,
    }
}

/// A CSV file being written, every cell defused.
pub struct CsvOut(csv::Writer<Vec<u8>>);

impl Default for CsvOut {
    fn default() -> Self {
        Self(csv::Writer::from_writer(Vec::new()))
    }
}

impl CsvOut {
    /// Writes one row.
    pub fn row<I, S>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| defuse(c.as_ref()).into_owned())
            .collect();
        self.0.write_record(&cells)
    }

    /// The file's bytes.
    pub fn finish(self) -> Result<Vec<u8>, csv::Error> {
        self.0.into_inner().map_err(|e| e.into_error().into())
    }
}
