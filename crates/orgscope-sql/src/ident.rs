//! SQL identifiers and literals: validation of mapping names, quoting, PostgreSQL array text.

/// PostgreSQL truncates longer identifiers (NAMEDATALEN - 1).
const MAX_IDENT_BYTES: usize = 63;

/// Whether `s` is a plain lowercase identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes): one that
/// means the same quoted or not, in PostgreSQL (which folds unquoted names to lowercase) and in
/// SQLite (which ignores case).
pub(crate) fn is_plain(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        && s.len() <= MAX_IDENT_BYTES
}

/// `s` as a double-quoted identifier (both dialects), inner quotes doubled.
pub(crate) fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `s` as a double-quoted identifier node, rendered like [`quote`].
pub(crate) fn quoted_ident(s: &str) -> sqlparser::ast::Ident {
    sqlparser::ast::Ident::with_quote('"', s)
}

/// `s` as a single-quoted string literal (both dialects), inner quotes doubled. Only ever used
/// for names this crate chose (settings), never for org names.
pub(crate) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Org names as the text of a PostgreSQL `text[]` (`{"Asia","China"}`): every element quoted,
/// so no name reads as `NULL` or splits on a comma, and `"` and `\` escaped.
pub fn pg_text_array(orgs: &[&str]) -> String {
    let mut out = String::from("{");
    for (i, org) in orgs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in org.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    out.push('}');
    out
}
