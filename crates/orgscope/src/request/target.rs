//! The whole request target counts: a query string in `path` is parsed into `query`, and the
//! path is percent-decoded, so an org ID is read the way the API server will read it.

use super::{Request, Text, Values};
use std::borrow::Cow;

/// `req` with its target normalized: `path` cut at `?` (and at `#`, the fragment being
/// dropped) and percent-decoded; every parameter of the query string, name and value
/// percent-decoded (`+` is a space, as in HTML forms), added to `query` after those already
/// there. `None` when there is nothing to change. A malformed percent-encoding, a decoded byte
/// sequence that is not UTF-8, an encoded `/`, `?`, `#` or `\` in the path (servers disagree
/// on whether it splits segments), or a `.` or `..` segment (resolved by some servers and
/// proxies, not by others) is an error.
pub(crate) fn normalize<S: Text>(req: &Request<S>) -> Result<Option<Box<Request<S>>>, String> {
    let Some(raw) = req.path.as_deref() else {
        return Ok(None);
    };
    if !has_special(raw.as_bytes()) {
        return Ok(None);
    }
    let target = raw.split('#').next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if encodes_separator(path) {
        return Err(format!(
            "path `{raw}` percent-encodes a `/`, `?`, `#` or `\\`, which servers read differently"
        ));
    }
    let path = decode(path, false)
        .ok_or_else(|| format!("path `{raw}` has a malformed percent-encoding"))?;
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(format!(
            "path `{raw}` has a `.` or `..` segment, which servers resolve differently"
        ));
    }
    if path.len() == raw.len() {
        // Nothing cut, nothing decoded (dots, none of them a segment): nothing to change.
        return Ok(None);
    }
    let mut out = Box::new(req.clone());
    out.path = Some(S::from_string(path.into_owned()));
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(name), Some(value)) = (decode(name, true), decode(value, true)) else {
            return Err(format!(
                "the query string of path `{raw}` has a malformed percent-encoding"
            ));
        };
        let value = Values::One(S::from_string(value.into_owned()));
        match S::position(&out.query, &name) {
            Some(i) => {
                if let Some(values) = S::values_mut(&mut out.query, i) {
                    values.extend(value);
                }
            }
            None => S::push(&mut out.query, S::from_string(name.into_owned()), value),
        }
    }
    Ok(Some(out))
}

/// Whether `path` holds a `?`, `#`, `%` or `.`, eight bytes at a time (a char-set `contains`
/// costs several times more, and this runs on every decision with a path).
fn has_special(path: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // Whether a byte of `w` is `b`: a byte of `x` is zero exactly when it was `b`.
    let holds = |w: u64, b: u8| {
        let x = w ^ (ONES * u64::from(b));
        x.wrapping_sub(ONES) & !x & HIGHS != 0
    };
    let mut words = path.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        if holds(w, b'?') | holds(w, b'#') | holds(w, b'%') | holds(w, b'.') {
            return true;
        }
    }
    // Letters, the most of a path, are past all four and fail the first test.
    words
        .remainder()
        .iter()
        .any(|&b| b < b'@' && matches!(b, b'?' | b'#' | b'%' | b'.'))
}

/// Whether `path` percent-encodes a character that separates or ends segments.
fn encodes_separator(path: &str) -> bool {
    path.as_bytes().windows(3).any(|w| {
        matches!(
            w,
            [b'%', b'2', b'F' | b'f' | b'3']
                | [b'%', b'3', b'F' | b'f']
                | [b'%', b'5', b'C' | b'c']
        )
    })
}

/// Percent-decodes `s` (and `+` as a space when `plus_is_space`); `None` when an escape is
/// malformed or the result is not UTF-8.
fn decode(s: &str, plus_is_space: bool) -> Option<Cow<'_, str>> {
    let plus = plus_is_space && s.contains('+');
    if !plus && !s.contains('%') {
        return Some(Cow::Borrowed(s));
    }
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'%' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                u8::try_from(hi * 16 + lo).ok()?
            }
            b'+' if plus_is_space => b' ',
            b => b,
        });
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn has_special_is_a_byte_scan(s in "[a-z/?#%.@\\-0-9\u{80}-\u{ff}]{0,40}") {
            let scan = s.bytes().any(|b| matches!(b, b'?' | b'#' | b'%' | b'.'));
            prop_assert_eq!(super::has_special(s.as_bytes()), scan);
        }
    }
}
