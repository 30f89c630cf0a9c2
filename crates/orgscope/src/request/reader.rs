//! The intake's fast path: a description in the usual shape read in one pass over its text,
//! without serde. Whatever it does not know (an escape, a fraction, any error) it leaves to
//! serde, which stays the reference and words every refusal.

use super::{push, Entity, Headers, ReadBody, Request, Tenant, Text, User, Values};
use crate::json::{first_special, Raw};
use crate::syntax::ast::Action;
use serde_json::Value;

/// `text` read as a [`Request`], exactly as serde reads it, when it is a valid description
/// whose strings have no escape and whose numbers are integers of up to 18 digits, nested at
/// most `max_depth` deep; `None` for anything else, valid or not.
pub(super) fn read<'a, S: Text + From<&'a str>>(
    text: &'a str,
    max_depth: usize,
) -> Option<Request<S>>
where
    S::Body: ReadBody<'a>,
{
    // A description's own objects nest three deep (an entity in `entities`).
    if max_depth < 3 {
        return None;
    }
    Reader {
        text,
        at: 0,
        max_depth,
    }
    .request()
}

/// `text`, one JSON value as serde_json read it, checked as [`Raw`] says; `None` when it is
/// not (serde then reads it into a tree).
pub(super) fn check(text: &str) -> Option<Raw<'_>> {
    let mut r = Reader {
        text,
        at: 0,
        max_depth: 64,
    };
    let raw = r.raw(2)?;
    r.ws();
    (r.at == text.len()).then_some(raw)
}

/// The keys of one object read so far: compared pairwise up to eight (no allocation for the
/// usual body), hashed beyond, so thousands cost linear time.
#[derive(Default)]
struct Keys<'a> {
    few: [&'a str; 8],
    len: usize,
    rest: Option<std::collections::HashSet<&'a str>>,
}

impl<'a> Keys<'a> {
    /// Adds `key`; `None` when it was there (serde's "duplicate key").
    fn insert(&mut self, key: &'a str) -> Option<()> {
        let few = self.few.get(..self.len).unwrap_or(&self.few);
        if few.contains(&key) || self.rest.as_ref().is_some_and(|r| r.contains(key)) {
            return None;
        }
        match self.few.get_mut(self.len) {
            Some(slot) => {
                *slot = key;
                self.len += 1;
            }
            None => {
                self.rest.get_or_insert_default().insert(key);
            }
        }
        Some(())
    }
}

struct Reader<'a> {
    text: &'a str,
    /// The offset of the next byte to read.
    at: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Skips JSON whitespace.
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Whether `b` comes next (after whitespace); if so, reads past it.
    #[inline]
    fn next_is(&mut self, b: u8) -> bool {
        self.ws();
        let yes = self.peek() == Some(b);
        self.at += usize::from(yes);
        yes
    }

    #[inline]
    fn expect(&mut self, b: u8) -> Option<()> {
        self.next_is(b).then_some(())
    }

    /// Whether the next token is `word`; if so, reads past it (what follows is checked by the
    /// caller, which expects a comma or a closing bracket).
    /// Its first byte is compared first: most values asked whether they are `null` are not.
    #[inline]
    fn next_word(&mut self, word: &str) -> bool {
        self.ws();
        let rest = self.text.as_bytes().get(self.at..).unwrap_or_default();
        let yes = rest.first() == word.as_bytes().first() && rest.starts_with(word.as_bytes());
        self.at += if yes { word.len() } else { 0 };
        yes
    }

    /// A string without escapes or control characters.
    fn str(&mut self) -> Option<&'a str> {
        self.ws();
        let rest = self.text.as_bytes().get(self.at..)?;
        let (b'"', body) = rest.split_first()? else {
            return None;
        };
        let len = first_special(body)?;
        (body.get(len) == Some(&b'"')).then_some(())?;
        let start = self.at + 1;
        self.at = start + len + 1;
        // Both ends are at an ASCII quote, so the slice is UTF-8 (`get` checks nothing more).
        self.text.get(start..start + len)
    }

    /// An object, calling `entry` on each key with the reader at its value.
    fn object(&mut self, mut entry: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.expect(b'{')?;
        if self.next_is(b'}') {
            return Some(());
        }
        loop {
            let key = self.str()?;
            self.expect(b':')?;
            entry(self, key)?;
            if !self.next_is(b',') {
                return self.expect(b'}');
            }
        }
    }

    /// An array, calling `element` with the reader at each element.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect(b'[')?;
        if self.next_is(b']') {
            return Some(());
        }
        loop {
            element(self)?;
            if !self.next_is(b',') {
                return self.expect(b']');
            }
        }
    }

    /// An object of the fields `names`, calling `field` with the index of each. A name not
    /// among them is serde's "unknown field", one given twice its "duplicate field".
    fn fields(
        &mut self,
        names: &[&str],
        mut field: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        self.expect(b'{')?;
        if self.next_is(b'}') {
            return Some(());
        }
        let mut seen = 0u16;
        loop {
            let i = self.key(names)?;
            (seen & 1 << i == 0).then_some(())?;
            seen |= 1 << i;
            self.expect(b':')?;
            field(self, i)?;
            if !self.next_is(b',') {
                return self.expect(b'}');
            }
        }
    }

    /// The index of the next key among `names`, compared where it lies: its bytes up to the
    /// closing quote equal to a name (a key with an escape is left to serde).
    #[inline]
    fn key(&mut self, names: &[&str]) -> Option<usize> {
        self.ws();
        let rest = self.text.as_bytes().get(self.at..)?;
        let (b'"', rest) = rest.split_first()? else {
            return None;
        };
        let i = names.iter().position(|n| {
            let n = n.as_bytes();
            rest.first() == n.first()
                && rest.get(n.len()) == Some(&b'"')
                && rest.get(..n.len()) == Some(n)
        })?;
        self.at += names.get(i)?.len() + 2;
        Some(i)
    }

    /// A string, or `null` for `None`.
    fn opt_str<S: From<&'a str>>(&mut self) -> Option<Option<S>> {
        if self.next_word("null") {
            return Some(None);
        }
        self.str().map(|s| Some(S::from(s)))
    }

    fn strings<S: From<&'a str>>(&mut self) -> Option<Vec<S>> {
        let mut all = Vec::new();
        self.array(|r| {
            push(&mut all, S::from(r.str()?), 4);
            Some(())
        })?;
        Some(all)
    }

    /// A header or query value: a string, or an array of them.
    fn values<S: From<&'a str>>(&mut self) -> Option<Values<S>> {
        self.ws();
        match self.peek()? {
            b'[' => self.strings().map(Values::Many),
            _ => self.str().map(|s| Values::One(S::from(s))),
        }
    }

    /// Free-form JSON whose brackets would be at `depth`, checked as [`Raw`] says (what it
    /// is not, such as an escape or a fraction, is left to serde).
    fn raw(&mut self, depth: usize) -> Option<Raw<'a>> {
        self.ws();
        let start = self.at;
        // Never deeper than serde_json's own limit either (it refuses 128 levels): the
        // recursion stays shallow whatever the policy allows.
        let deeper = |r: &Self| (depth <= r.max_depth.min(64)).then_some(());
        match self.peek()? {
            b'"' => self.str().map(drop)?,
            b'{' => {
                deeper(self)?;
                let mut keys = Keys::default();
                self.object(|r, key| {
                    keys.insert(key)?;
                    r.raw(depth + 1).map(drop)
                })?;
            }
            b'[' => {
                deeper(self)?;
                self.array(|r| r.raw(depth + 1).map(drop))?;
            }
            _ if self.next_word("null") || self.next_word("true") || self.next_word("false") => {}
            _ => self.integer().map(drop)?,
        }
        self.text.get(start..self.at).map(Raw::checked)
    }

    /// An integer of at most 18 digits, which serde_json reads exactly as a `u64` (an `i64`
    /// when negative) and writes back as the same text; longer ones, `-0`, fractions and
    /// exponents it may read as floats. Its value: whether negative, and its magnitude.
    fn integer(&mut self) -> Option<(bool, u64)> {
        let bytes = self.text.as_bytes();
        let negative = bytes.get(self.at) == Some(&b'-');
        let start = self.at + usize::from(negative);
        let number = bytes.get(start..).unwrap_or_default();
        let mut value = 0u64;
        let digits = number
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .take(19)
            .map(|b| value = value * 10 + u64::from(b - b'0'))
            .count();
        let end = start + digits;
        if !(1..=18).contains(&digits)
            || (digits > 1 && number.first() == Some(&b'0'))
            || (negative && number.first() == Some(&b'0'))
            || matches!(bytes.get(end), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        self.at = end;
        Some((negative, value))
    }

    /// The request's `id`, `None` for `null`: an integer read straight into its number (the
    /// usual id), anything else checked as [`Self::raw`] and built as serde_json builds it.
    fn id(&mut self) -> Option<Option<Value>> {
        self.ws();
        if let Some(b'-' | b'0'..=b'9') = self.peek() {
            // At most 18 digits: the magnitude fits an `i64`.
            return match self.integer()? {
                (false, n) => Some(Some(Value::from(n))),
                (true, n) => Some(Some(Value::from(-i64::try_from(n).ok()?))),
            };
        }
        let v = Value::from(self.raw(2)?);
        Some((!v.is_null()).then_some(v))
    }

    /// The whole text as one description.
    fn request<S: Text + From<&'a str>>(&mut self) -> Option<Request<S>>
    where
        S::Body: ReadBody<'a>,
    {
        const FIELDS: [&str; 11] = [
            "id", "method", "path", "headers", "query", "body", "user", "tenant", "action",
            "object", "entities",
        ];
        let (mut id, mut method, mut path, mut body, mut object) = (None, None, None, None, None);
        let (mut headers, mut query) = (None, S::Fields::default());
        let (mut user, mut tenant, mut action, mut entities) = (None, None, None, Vec::new());
        self.fields(&FIELDS, |r, i| {
            match i {
                0 => id = r.id()?,
                1 => method = r.opt_str()?,
                2 => path = r.opt_str()?,
                3 => {
                    let mut all = Headers::new();
                    r.object(|r, name| all.add(S::from(name), r.values()?).ok())?;
                    headers = Some(all.finish());
                }
                4 => r.object(|r, name| {
                    let values = r.values()?;
                    S::position(&query, name).is_none().then_some(())?;
                    S::push(&mut query, S::from(name), values);
                    Some(())
                })?,
                5 => body = Some(r.raw(2)?).filter(|v| *v != Raw::checked("null")),
                6 => user = Some(r.user()?),
                7 => tenant = r.tenant()?,
                8 => {
                    action = match r.opt_str::<&str>()? {
                        None => None,
                        Some("query") => Some(Action::Query),
                        Some("create") => Some(Action::Create),
                        Some("read") => Some(Action::Read),
                        Some("update") => Some(Action::Update),
                        Some("delete") => Some(Action::Delete),
                        Some(_) => return None,
                    }
                }
                9 => object = r.opt_str()?,
                _ => r.array(|r| {
                    push(&mut entities, r.entity()?, 2);
                    Some(())
                })?,
            }
            Some(())
        })?;
        // Nothing after it; checked before the request is built, so that it is built where
        // it is returned (it is large, and a move copies it).
        self.ws();
        (self.at == self.text.len()).then_some(())?;
        Some(Request {
            id,
            method,
            path,
            headers: headers.unwrap_or_default(),
            query,
            body: body.map(S::Body::from_raw),
            user: user?,
            tenant,
            action,
            object,
            entities,
        })
    }

    fn user<S: From<&'a str>>(&mut self) -> Option<User<S>> {
        let (mut id, mut orgs, mut default_org) = (None, None, None);
        self.fields(&["id", "orgs", "default_org"], |r, i| {
            match i {
                0 => id = r.opt_str()?,
                1 => orgs = Some(r.strings()?),
                _ => default_org = r.opt_str()?,
            }
            Some(())
        })?;
        Some(User {
            id,
            orgs: orgs?,
            default_org,
        })
    }

    fn tenant(&mut self) -> Option<Option<Tenant>> {
        if self.next_word("null") {
            return Some(None);
        }
        let (mut id, mut multi_org) = (None, None);
        self.fields(&["id", "multi_org"], |r, i| {
            match i {
                0 => id = r.opt_str()?,
                _ if r.next_word("true") => multi_org = Some(true),
                _ if r.next_word("false") => multi_org = Some(false),
                _ if r.next_word("null") => multi_org = None,
                _ => return None,
            }
            Some(())
        })?;
        Some(Some(Tenant { id, multi_org }))
    }

    fn entity<S: From<&'a str>>(&mut self) -> Option<Entity<S>> {
        let (mut object_type, mut id, mut org) = (None, None, None);
        self.fields(&["type", "id", "org"], |r, i| {
            match i {
                0 => object_type = Some(S::from(r.str()?)),
                1 => id = Some(S::from(r.str()?)),
                // Required, and `null` when unlabeled.
                _ => org = Some(r.opt_str()?),
            }
            Some(())
        })?;
        Some(Entity {
            object_type: object_type?,
            id: id?,
            org: org?,
        })
    }
}

#[cfg(test)]
mod tests {
    //! The reader against serde over generated descriptions: valid ones in every shape it
    //! knows (which it must read, to the same request), and ones mutated by wrong types,
    //! duplicate and unknown fields, escapes, numbers serde reads as floats, nesting and
    //! trailing text (where it may give up, but must never read something else).

    use super::read;
    use crate::json::Json;
    use crate::limits::json_depth_exceeds;
    use crate::request::intake::intake;
    use crate::request::{Request, Str, Text};
    use crate::Limits;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;

    /// Whitespace between tokens.
    fn ws() -> impl Strategy<Value = &'static str> {
        prop::sample::select(&["", "", " ", "\n", "\t", " \r\n "][..])
    }

    fn plain() -> impl Strategy<Value = String> {
        prop::sample::select(
            &[
                "Asia",
                "China",
                "Zuora-Org-Ids",
                "zuora-org-ids",
                "A-1",
                "",
                "é ü",
                "/v1/invoices?a=1",
            ][..],
        )
        .prop_map(|s| format!("\"{s}\""))
    }

    /// A string serde reads but the reader leaves to it (escapes), or one that is not JSON.
    fn odd_string() -> impl Strategy<Value = String> {
        prop::sample::select(
            &[
                "\"\\u0041sia\"",
                "\"a\\\"b\"",
                "\"\\n\"",
                "\"tab\there\"",
                "\"open",
            ][..],
        )
        .prop_map(str::to_string)
    }

    fn number() -> impl Strategy<Value = String> {
        let odd = prop::sample::select(
            &[
                "-0",
                "012",
                "1.5",
                "1e3",
                "2E-1",
                "-",
                "1234567890123456789",
                "-9223372036854775808",
                "18446744073709551616",
                "+1",
                ".5",
            ][..],
        )
        .prop_map(str::to_string);
        prop_oneof![3 => any::<i64>().prop_map(|n| (n % 1_000_000_000_000).to_string()), 1 => odd]
    }

    /// Any JSON (and some text that is not), objects possibly with a duplicate key.
    fn json() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            plain(),
            odd_string(),
            number(),
            prop::sample::select(&["null", "true", "false", "nul", "truex"][..])
                .prop_map(str::to_string),
        ];
        leaf.prop_recursive(5, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(
                    (prop::sample::select(&["a", "b", "accountId"][..]), inner),
                    0..4
                )
                .prop_map(|v| {
                    let e: Vec<String> = v.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                    format!("{{{}}}", e.join(", "))
                }),
            ]
        })
    }

    /// `valid` most of the time, else anything.
    fn or_any(valid: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
        prop_oneof![19 => valid, 1 => json()]
    }

    fn optional_string() -> impl Strategy<Value = String> {
        prop_oneof![5 => plain(), 1 => Just("null".to_string())]
    }

    fn strings() -> impl Strategy<Value = String> {
        prop::collection::vec(plain(), 0..4).prop_map(|v| format!("[{}]", v.join(",")))
    }

    fn values() -> impl Strategy<Value = String> {
        prop_oneof![3 => plain(), 1 => strings()]
    }

    /// An object of `fields` (name, how likely it is there, value), and now and then one of
    /// them twice.
    fn object(fields: Vec<(&'static str, f64, BoxedStrategy<String>)>) -> BoxedStrategy<String> {
        let n = fields.len();
        let entries: Vec<_> = fields
            .into_iter()
            .map(|(k, p, v)| {
                let entry = (ws(), v).prop_map(move |(w, v)| format!("{w}\"{k}\"{w}:{w}{v}{w}"));
                prop::option::weighted(p, entry)
            })
            .collect();
        (entries, prop::option::weighted(0.03, 0..n), ws())
            .prop_map(|(entries, twice, w)| {
                let mut kept: Vec<&str> = entries.iter().flatten().map(String::as_str).collect();
                kept.extend(twice.and_then(|i| entries[i].as_deref()));
                format!("{{{w}{}}}", kept.join(","))
            })
            .boxed()
    }

    fn map_of(names: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop::collection::vec((prop::sample::select(names), values()), 0..4).prop_map(|v| {
            let e: Vec<String> = v.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            format!("{{{}}}", e.join(", "))
        })
    }

    fn description() -> impl Strategy<Value = String> {
        let user = object(vec![
            ("id", 0.5, or_any(optional_string()).boxed()),
            ("orgs", 0.97, or_any(strings()).boxed()),
            ("default_org", 0.5, or_any(optional_string()).boxed()),
            ("usr", 0.02, json().boxed()),
        ]);
        let tenant = object(vec![
            ("id", 0.5, optional_string().boxed()),
            (
                "multi_org",
                0.7,
                prop::sample::select(&["true", "false", "null", "1"][..])
                    .prop_map(str::to_string)
                    .boxed(),
            ),
        ]);
        let entity = object(vec![
            ("type", 0.97, or_any(plain()).boxed()),
            ("id", 0.97, or_any(plain()).boxed()),
            ("org", 0.97, or_any(optional_string()).boxed()),
        ]);
        let action = prop::sample::select(
            &[
                "\"query\"",
                "\"create\"",
                "\"read\"",
                "\"update\"",
                "\"delete\"",
                "\"Query\"",
                "null",
            ][..],
        )
        .prop_map(str::to_string);
        let headers = map_of(&["Zuora-Org-Ids", "zuora-org-ids", "ZUORA-ORG-IDS", "x"]);
        let query = map_of(&["organizationId", "a", "organizationId"]);
        let fields = object(vec![
            ("id", 0.5, json().boxed()),
            ("method", 0.5, or_any(optional_string()).boxed()),
            ("path", 0.5, or_any(optional_string()).boxed()),
            ("headers", 0.5, or_any(headers).boxed()),
            ("query", 0.5, or_any(query).boxed()),
            ("body", 0.5, json().boxed()),
            ("user", 0.97, or_any(user).boxed()),
            (
                "tenant",
                0.5,
                or_any(prop_oneof![tenant, Just("null".to_string())]).boxed(),
            ),
            ("action", 0.5, or_any(action).boxed()),
            ("object", 0.5, or_any(optional_string()).boxed()),
            (
                "entities",
                0.5,
                or_any(
                    prop::collection::vec(entity, 0..3).prop_map(|v| format!("[{}]", v.join(","))),
                )
                .boxed(),
            ),
            ("usr", 0.02, json().boxed()),
            // Keys are compared where they lie: one spelled with an escape is still its name
            // to serde (a duplicate beside the plain spelling), and one that a name begins is
            // another field.
            ("\\u006dethod", 0.03, optional_string().boxed()),
            ("obj\\u0065ct", 0.03, optional_string().boxed()),
            ("paths", 0.02, optional_string().boxed()),
            ("obj", 0.02, optional_string().boxed()),
        ]);
        let trailing = prop::sample::select(&["", "", " \n", "x", "}", ","][..]);
        (ws(), fields, trailing).prop_map(|(w, f, t)| format!("{w}{f}{t}"))
    }

    /// Whether `text` (which serde reads as a request) has plain strings, integers only and
    /// its structs as objects: the shape the reader must read itself.
    fn in_shape(text: &str) -> bool {
        fn integers(v: &serde_json::Value) -> bool {
            match v {
                serde_json::Value::Number(n) => (n.as_i64().map(i64::unsigned_abs).or(n.as_u64()))
                    .is_some_and(|n| n < 1_000_000_000_000_000_000),
                serde_json::Value::Array(a) => a.iter().all(integers),
                serde_json::Value::Object(o) => o.values().all(integers),
                _ => true,
            }
        }
        // serde also reads a struct from an array of its fields, which the reader leaves to it.
        let objects = |v: &serde_json::Value| {
            v["user"].is_object()
                && (v["tenant"].is_object() || v["tenant"].is_null())
                && v["entities"]
                    .as_array()
                    .is_none_or(|e| e.iter().all(|e| e.is_object()))
        };
        !text.contains('\\')
            && serde_json::from_str(text).is_ok_and(|v| integers(&v) && objects(&v))
    }

    /// `a` and `b` answer every question of the body view alike, all the way down.
    fn same_view(a: Json<'_>, b: Json<'_>) -> Result<(), TestCaseError> {
        prop_assert_eq!(a.as_str(), b.as_str());
        prop_assert_eq!(a.is_null(), b.is_null());
        prop_assert_eq!(a.number(), b.number());
        prop_assert_eq!(a.get("zz").is_some(), b.get("zz").is_some());
        prop_assert_eq!(a.items().is_some(), b.items().is_some());
        if let (Some(x), Some(y)) = (a.items(), b.items()) {
            let (x, y): (Vec<_>, Vec<_>) = (x.collect(), y.collect());
            prop_assert_eq!(x.len(), y.len());
            for (x, y) in x.into_iter().zip(y) {
                same_view(x, y)?;
            }
        }
        prop_assert_eq!(a.entries().is_some(), b.entries().is_some());
        if let (Some(x), Some(y)) = (a.entries(), b.entries()) {
            // Text keeps the order sent, a tree sorts (evaluation sorts what it reads).
            let (mut x, mut y): (Vec<_>, Vec<_>) = (x.collect(), y.collect());
            x.sort_by_key(|(k, _)| *k);
            y.sort_by_key(|(k, _)| *k);
            prop_assert_eq!(x.len(), y.len());
            for ((kx, x), (ky, y)) in x.into_iter().zip(y) {
                prop_assert_eq!(kx, ky);
                same_view(x, y)?;
                // Found by key too (compared shallowly: the walk above goes down once).
                let (gx, gy) = (a.get(kx), b.get(ky));
                prop_assert!(gx.is_some() && gy.is_some());
                if let (Some(gx), Some(gy)) = (gx, gy) {
                    prop_assert_eq!((gx.as_str(), gx.number()), (gy.as_str(), gy.number()));
                    prop_assert_eq!(gx.is_null(), gy.is_null());
                }
            }
        }
        Ok(())
    }

    /// A body: any JSON of [`json`], now and then nested in arrays and objects to about the
    /// depth limits (64 here, 128 in serde_json).
    fn body() -> impl Strategy<Value = String> {
        (
            json(),
            prop_oneof![3 => 0usize..4, 1 => 58usize..70, 1 => 120usize..130],
        )
            .prop_map(|(b, n)| {
                let open: String = (0..n)
                    .map(|i| if i % 2 == 0 { "[" } else { "{\"a\":" })
                    .collect();
                let close: String = (0..n)
                    .rev()
                    .map(|i| if i % 2 == 0 { "]" } else { "}" })
                    .collect();
                format!("{open}{b}{close}")
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn a_borrowed_body_reads_as_its_tree(b in body()) {
            let text = format!(r#"{{"user": {{"orgs": []}}, "body": {b}}}"#);
            let limits = Limits { max_json_depth: 200, ..Limits::DEFAULT };
            // Accepted and refused alike, in the same words, by the reader, by serde, and by
            // the tree of the owned request (the reference).
            let owned = intake::<String>(text.as_bytes(), &limits, 1);
            let borrowed = intake::<Str<'_>>(text.as_bytes(), &limits, 1);
            let reference = serde_json::from_str::<Request>(&text);
            prop_assert_eq!(owned.is_ok(), reference.is_ok(), "{}", text);
            prop_assert_eq!(borrowed.is_ok(), owned.is_ok(), "{}", text);
            let serde_borrowed = serde_json::from_str::<Request<Str<'_>>>(&text);
            prop_assert_eq!(serde_borrowed.is_ok(), owned.is_ok(), "{}", text);
            match (owned, borrowed, reference) {
                (Ok(owned), Ok(borrowed), Ok(reference)) => {
                    prop_assert_eq!(&owned.body, &reference.body);
                    let tree = owned.body.as_ref().map(Json::Tree);
                    for doc in [borrowed.body.as_ref(), serde_borrowed.ok().and_then(|r| r.body).as_ref()] {
                        let view = doc.map(Str::body);
                        prop_assert_eq!(view.is_some(), tree.is_some());
                        if let (Some(view), Some(tree)) = (view, tree) {
                            same_view(view, tree)?;
                            prop_assert_eq!(&serde_json::Value::from(view), tree_value(tree));
                        }
                    }
                }
                (Err(owned), Err(borrowed), Err(_)) => {
                    prop_assert_eq!(owned.decision(), borrowed.decision(), "{}", text);
                }
                _ => prop_assert!(false, "one reading refused: {}", text),
            }
        }
    }

    fn tree_value(tree: Json<'_>) -> &serde_json::Value {
        match tree {
            Json::Tree(t) => t,
            Json::Raw(_) => unreachable!("the owned body is a tree"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn the_reader_reads_what_serde_reads(text in description(), depth in prop_oneof![Just(64usize), 0usize..8]) {
            let serde = serde_json::from_str::<Request>(&text).ok();
            let fast = read::<String>(&text, depth);
            if let Some(fast) = &fast {
                prop_assert_eq!(Some(fast), serde.as_ref(), "{}", text);
                prop_assert!(!json_depth_exceeds(text.as_bytes(), depth), "{}", text);
            }
            let borrowed = read::<Str<'_>>(&text, depth);
            prop_assert_eq!(borrowed.is_some(), fast.is_some());
            if let Some(borrowed) = borrowed {
                prop_assert_eq!(Some(borrowed), serde_json::from_str::<Request<Str<'_>>>(&text).ok(), "{}", text);
            }
            if serde.is_some() && depth == 64 && in_shape(&text) {
                prop_assert!(fast.is_some(), "left to serde: {}", text);
            }
        }
    }
}
