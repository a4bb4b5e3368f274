//! Field-by-field messages for input that did not validate: a re-rendered form shows them
//! beside their fields, and problem+json lists them.

use std::collections::BTreeMap;

/// Messages keyed by form field name.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    /// Records a message for `field` (the first one wins).
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    /// Keeps a parsed value, or records why it did not parse.
    pub fn check<T, E: Into<String>>(
        &mut self,
        field: &'static str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// The message for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// Whether every field is fine.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every message, for problem+json responses.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

/// Whether `c` is a control character no text field may carry (tab and line breaks are fine).
pub fn is_unstorable(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r') && (c as u32) < 0x80
}
