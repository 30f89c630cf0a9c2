//! Escaping of user text shown to people, so that it can neither start a line nor carry
//! terminal escapes.

/// Whether a terminal would not show `c` as itself: control characters (C0, DEL, C1, so line
/// breaks and escape sequences) and the invisible format characters that can hide or reorder
/// text (zero-width and bidirectional controls, line and paragraph separators, the BOM).
pub(crate) fn is_non_printing(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `text` with every non-printing character (see [`is_non_printing`]) escaped, as `\n`, `\r`,
/// `\t` or `\u{…}`: user text shown to people can then neither start a line of its own nor
/// carry terminal escapes.
#[cfg(feature = "unstable-syntax")]
pub fn escape_non_printing(text: &str) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write as _;
    if !text.chars().any(is_non_printing) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_non_printing(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.into()
}
