//! Content lines as vCard (RFC 6350) and iCalendar (RFC 5545) both write them: TEXT values
//! escaped the same way, lines folded at 75 octets.

/// A TEXT value escaped: backslash, comma, semicolon and line breaks.
pub fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

/// A TEXT value read back.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Appends `text` as content lines of at most 75 octets, never splitting a character, each
/// ended by CRLF.
pub fn fold_into(out: &mut String, text: &str) {
    let mut width = 0;
    for c in text.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}
