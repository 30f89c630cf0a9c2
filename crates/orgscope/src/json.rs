//! JSON helpers: string bytes scanned eight at a time (for the request reader and the decision
//! writer), and the one view through which evaluation reads a request body, tree or text.

use serde_json::Value;

/// The index of the first byte in `bytes` that a JSON string cannot hold as itself: a control
/// character, `"` or `\\`. A byte-wise loop was most of the cost of writing a decision and of
/// reading a request, their strings being mostly plain.
pub(crate) fn first_special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // A high bit set where a byte of `x` is below `n` (n ≤ 128): exact for the lowest such
    // byte (a borrow only carries upwards, so a false mark has a true one below it).
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(word);
        let marks = below(x, 0x20)
            | below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1);
        if marks != 0 {
            return Some(at + marks.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    (chunks.remainder().iter())
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .map(|i| at + i)
}

/// Whether a JSON string holds every byte of `bytes` as itself ([`first_special`] finds
/// none), for the short strings a decision is made of: their last bytes read as one more word
/// overlapping the ones before, where a byte-wise loop over them was most of the cost.
pub(crate) fn is_plain(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    // A high bit in some byte where a byte of `x` is below `n` (n ≤ 128); as in
    // `first_special`, a false mark only ever comes with a true one.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & (ONES << 7);
    let marks = |x: u64| {
        below(x, 0x20)
            | below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
    };
    let word = |at: usize| {
        let b = bytes.get(at..at + 8)?;
        <[u8; 8]>::try_from(b).ok().map(u64::from_le_bytes)
    };
    let half = |at: usize| {
        let b = bytes.get(at..at + 4)?;
        <[u8; 4]>::try_from(b).ok().map(u32::from_le_bytes)
    };
    let n = bytes.len();
    let x = match n {
        0..4 => return !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\'),
        4..8 => half(0)
            .zip(half(n - 4))
            .map(|(a, b)| u64::from(a) | u64::from(b) << 32),
        _ => {
            let mut at = 0;
            while let Some(x) = word(at).filter(|_| at + 8 < n) {
                if marks(x) != 0 {
                    return false;
                }
                at += 8;
            }
            word(n - 8)
        }
    };
    x.is_some_and(|x| marks(x) == 0)
}

/// The text of one JSON value that the request reader checked ([`Raw::checked`]): valid, no
/// duplicate key in any object, no escape in any string, every number an integer that
/// serde_json reads exactly (so the text is what it would write), nested at most 64 deep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raw<'a>(&'a str);

impl<'a> Raw<'a> {
    /// `text`, which the caller checked to be as [`Raw`] says.
    pub(crate) fn checked(text: &'a str) -> Raw<'a> {
        Raw(text)
    }

    fn first(self) -> Option<u8> {
        self.0.as_bytes().first().copied()
    }

    /// A cursor after the opening bracket `open`, if the value starts with it.
    fn inside(self, open: u8) -> Option<Cursor<'a>> {
        (self.first() == Some(open)).then_some(Cursor {
            text: self.0,
            at: 1,
        })
    }
}

impl From<Raw<'_>> for Value {
    /// The tree serde_json builds from the same text.
    fn from(raw: Raw<'_>) -> Value {
        let v = Json::Raw(raw);
        match raw.first() {
            Some(b'"') => Value::String(v.as_str().unwrap_or_default().to_string()),
            Some(b'[') => Value::Array(v.items().into_iter().flatten().map(Value::from).collect()),
            Some(b'{') => Value::Object(
                (v.entries().into_iter().flatten())
                    .map(|(k, v)| (k.to_string(), Value::from(v)))
                    .collect(),
            ),
            Some(b't') => Value::Bool(true),
            Some(b'f') => Value::Bool(false),
            // Checked integers: serde_json reads a `u64`, an `i64` when negative.
            _ => match raw.0.parse::<u64>() {
                Ok(n) => Value::from(n),
                Err(_) => raw.0.parse::<i64>().map_or(Value::Null, Value::from),
            },
        }
    }
}

impl From<Json<'_>> for Value {
    fn from(v: Json<'_>) -> Value {
        match v {
            Json::Tree(t) => t.clone(),
            Json::Raw(raw) => Value::from(raw),
        }
    }
}

/// A JSON value as evaluation reads it: a node of a tree, or checked text read where it lies
/// (a create's body is read a few fields at a time, never whole).
#[derive(Clone, Copy, Debug)]
pub enum Json<'v> {
    /// A node of a parsed tree.
    Tree(&'v Value),
    /// Checked text.
    Raw(Raw<'v>),
}

impl<'v> Json<'v> {
    /// The member `key` of an object (none for anything else).
    #[inline]
    pub(crate) fn get(self, key: &str) -> Option<Json<'v>> {
        match self {
            Json::Tree(t) => t.get(key).map(Json::Tree),
            Json::Raw(_) => self.entries()?.find(|(k, _)| *k == key).map(|(_, v)| v),
        }
    }

    /// The text of a string.
    pub(crate) fn as_str(self) -> Option<&'v str> {
        match self {
            Json::Tree(t) => t.as_str(),
            // No escapes: the text between the quotes is the string.
            Json::Raw(r) => r.0.strip_prefix('"')?.strip_suffix('"'),
        }
    }

    pub(crate) fn is_null(self) -> bool {
        match self {
            Json::Tree(t) => t.is_null(),
            Json::Raw(r) => r.0 == "null",
        }
    }

    /// A number as serde_json writes it.
    pub(crate) fn number(self) -> Option<String> {
        match self {
            Json::Tree(Value::Number(n)) => Some(n.to_string()),
            Json::Tree(_) => None,
            Json::Raw(r) => matches!(r.first(), Some(b'-' | b'0'..=b'9')).then(|| r.0.to_string()),
        }
    }

    /// The elements of an array.
    pub(crate) fn items(self) -> Option<Items<'v>> {
        match self {
            Json::Tree(t) => t.as_array().map(|a| Items::Tree(a.iter())),
            Json::Raw(r) => r.inside(b'[').map(Items::Raw),
        }
    }

    /// The members of an object: in the text's order, a tree's sorted by key.
    pub(crate) fn entries(self) -> Option<Entries<'v>> {
        match self {
            Json::Tree(t) => t.as_object().map(|o| Entries::Tree(o.iter())),
            Json::Raw(r) => r.inside(b'{').map(Entries::Raw),
        }
    }
}

/// The elements of an array ([`Json::items`]).
pub enum Items<'v> {
    /// Of a tree.
    Tree(std::slice::Iter<'v, Value>),
    /// Of checked text.
    Raw(Cursor<'v>),
}

impl<'v> Iterator for Items<'v> {
    type Item = Json<'v>;
    fn next(&mut self) -> Option<Json<'v>> {
        match self {
            Items::Tree(it) => it.next().map(Json::Tree),
            Items::Raw(c) => c.next_value(b']').map(Json::Raw),
        }
    }
}

/// The members of an object ([`Json::entries`]).
pub enum Entries<'v> {
    /// Of a tree.
    Tree(serde_json::map::Iter<'v>),
    /// Of checked text.
    Raw(Cursor<'v>),
}

impl<'v> Iterator for Entries<'v> {
    type Item = (&'v str, Json<'v>);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::Tree(it) => it.next().map(|(k, v)| (k.as_str(), Json::Tree(v))),
            Entries::Raw(c) => {
                let key = c.next_value(b'}')?;
                c.ws();
                c.at += usize::from(c.peek() == Some(b':'));
                let value = c.value()?;
                Some((
                    key.0.strip_prefix('"')?.strip_suffix('"')?,
                    Json::Raw(value),
                ))
            }
        }
    }
}

/// The index of the first quote in `bytes`.
fn quote(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'"')
}

/// A place in checked text, inside an array or object. On text that is not checked it reads
/// nonsense but never panics.
pub struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// The next element (or key) before the bracket `close`, past the comma after it.
    #[inline]
    fn next_value(&mut self, close: u8) -> Option<Raw<'a>> {
        self.ws();
        if self.peek() == Some(b',') {
            self.at += 1;
            self.ws();
        }
        match self.peek() {
            None => None,
            Some(b) if b == close => None,
            Some(_) => self.value(),
        }
    }

    /// The value starting here (after whitespace), read past.
    #[inline]
    fn value(&mut self) -> Option<Raw<'a>> {
        self.ws();
        let start = self.at;
        let bytes = self.text.as_bytes();
        let rest = bytes.get(start..)?;
        let len = match rest.first()? {
            // No escapes: the next quote closes the string (short: a loop beats memchr).
            b'"' => 2 + quote(rest.get(1..)?)?,
            b'[' | b'{' => {
                let mut depth = 0usize;
                let mut i = 0;
                loop {
                    match rest.get(i)? {
                        b'"' => i += 1 + quote(rest.get(i + 1..)?)?,
                        b'[' | b'{' => depth += 1,
                        b']' | b'}' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break i + 1;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => rest
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(rest.len()),
        };
        self.at = start + len;
        self.text.get(start..self.at).map(Raw)
    }
}

#[cfg(test)]
mod tests {
    use super::{first_special, is_plain};

    proptest::proptest! {
        #[test]
        fn first_special_is_where_serde_json_escapes_first(s in "[a-zé ]{0,20}([\\x00-\\x1f\\x7f\"\\\\]|)[a-z\\u{2028}\"\\\\ ]{0,20}") {
            let first = s.char_indices().find(|(_, c)| serde_json::to_string(&c.to_string()).unwrap() != format!("\"{c}\""));
            proptest::prop_assert_eq!(first_special(s.as_bytes()), first.map(|(i, _)| i));
            proptest::prop_assert_eq!(is_plain(s.as_bytes()), first.is_none());
        }
    }
}
