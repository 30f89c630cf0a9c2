//! Evaluation input: the request description of SPEC §2 (serde; unknown fields are rejected).

pub mod batch;
pub(crate) mod entities;
mod intake;
mod reader;
pub(crate) use intake::intake_with;
mod target;
mod text;
use crate::syntax::ast::Action;
use crate::Policy;
use arrayvec::ArrayVec;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::marker::PhantomData;
use text::ReadBody;
pub(crate) use text::Str;
pub use text::Text;

/// A description of one HTTP request, as a gateway or test sees it.
///
/// Every field but `user` is optional where the policy does not need it. Unknown fields are
/// rejected, so a typo such as `"user": {"org": [...]}` is an error, never a silent widening.
///
/// Its strings are `String`s; the engine also reads descriptions into text borrowed from the
/// JSON ([`Text`]), which is why the type has a parameter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "S: Deserialize<'de>, S::Body: ReadBody<'de>")
)]
pub struct Request<S: Text = String> {
    /// Echoed into the decision.
    #[serde(default, deserialize_with = "unique_json")]
    pub id: Option<Value>,
    /// The HTTP method.
    #[serde(default)]
    pub method: Option<S>,
    /// The request target as the client sent it: a path, percent-encoded, which may carry a
    /// query string (its parameters count like those of `query`) and a fragment (dropped).
    #[serde(default)]
    pub path: Option<S>,
    /// Headers, a repeated header as an array. Names are lower-cased when parsed (they match
    /// case-insensitively), and names that differ only in case are merged into one entry.
    #[serde(default, deserialize_with = "lowercase_headers::<_, S>")]
    pub headers: S::Fields,
    /// Query parameters, decoded; a repeated parameter is an array.
    #[serde(default, deserialize_with = "unique_names::<_, S>")]
    pub query: S::Fields,
    /// The JSON body, free-form (no duplicate key in any object).
    #[serde(default, deserialize_with = "read_body::<_, S>")]
    pub body: Option<S::Body>,
    /// Who is asking.
    pub user: User<S>,
    /// The tenant's settings.
    #[serde(default)]
    pub tenant: Option<Tenant>,
    /// The action, when no route says it (or to cross-check the route).
    #[serde(default)]
    pub action: Option<Action>,
    /// The object type, when no route says it (or to cross-check the route).
    #[serde(default)]
    pub object: Option<S>,
    /// What the caller knows of existing objects.
    #[serde(default)]
    pub entities: Vec<Entity<S>>,
}

// Only the owned request has a default, so `Request::default()` needs no type annotation.
impl Default for Request {
    fn default() -> Self {
        Request {
            id: None,
            method: None,
            path: None,
            headers: IndexMap::new(),
            query: IndexMap::new(),
            body: None,
            user: User::default(),
            tenant: None,
            action: None,
            object: None,
            entities: Vec::new(),
        }
    }
}

/// The user making the request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>"))]
pub struct User<S = String> {
    /// The user's id (informational).
    #[serde(default)]
    pub id: Option<S>,
    /// Orgs the user is granted, by name or id.
    pub orgs: Vec<S>,
    /// The user's default org for creates.
    #[serde(default)]
    pub default_org: Option<S>,
}

impl Default for User {
    fn default() -> Self {
        User {
            id: None,
            orgs: Vec::new(),
            default_org: None,
        }
    }
}

/// The tenant's settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// The tenant's id (informational).
    #[serde(default)]
    pub id: Option<String>,
    /// Whether Multi-Org is enabled; absent means the policy's default.
    #[serde(default)]
    pub multi_org: Option<bool>,
}

/// An existing object the caller knows of.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>"))]
pub struct Entity<S = String> {
    /// Its object type (name or alias).
    #[serde(rename = "type")]
    pub object_type: S,
    /// Its id.
    pub id: S,
    /// Its org, or null when unlabeled. Required: a missing org must not read as "unlabeled".
    #[serde(deserialize_with = "required_nullable")]
    pub org: Option<S>,
}

fn lowercase_headers<'de, D: Deserializer<'de>, S: Text + Deserialize<'de>>(
    d: D,
) -> Result<S::Fields, D::Error> {
    // Lower-cased as they are read, so the map is built once: most gateways send mixed case.
    struct V<S>(PhantomData<S>);
    impl<'de, S: Text + Deserialize<'de>> serde::de::Visitor<'de> for V<S> {
        type Value = S::Fields;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Headers::new();
            while let Some((name, values)) = map.next_entry::<S, Values<S>>()? {
                out.add(name, values).map_err(|again| duplicate(&again))?;
            }
            Ok(out.finish())
        }
    }
    d.deserialize_map(V::<S>(PhantomData))
}

/// Headers as they are read (by serde or by the reader): names lower-cased, and the names that
/// differ only in case merged into one repeated header.
pub(super) struct Headers<S: Text> {
    fields: S::Fields,
    spellings: Spellings,
}

impl<S: Text> Headers<S> {
    pub(super) fn new() -> Self {
        Headers {
            fields: S::Fields::default(),
            spellings: Spellings::default(),
        }
    }

    /// Adds a header as it was read; the same spelling twice is a duplicate key, the error the
    /// name as spelled.
    pub(super) fn add(&mut self, name: S, values: Values<S>) -> Result<(), String> {
        // Each entry keeps the spellings it was given; a name without capitals (the usual
        // lower-case one) is kept as it is, not scanned again.
        let spelled = Spelling::of(&name);
        let name = match spelled {
            Spelling::Capitals(0) => name,
            _ => name.lowercase(),
        };
        match S::position(&self.fields, &name) {
            None => {
                // A new entry: no spelling of it can have been seen.
                self.spellings.push((S::len(&self.fields), spelled));
                S::push(&mut self.fields, name, values);
            }
            Some(i) => {
                if let Some((_, again)) = self.spellings.insert((i, spelled)) {
                    return Err(again.text(&name));
                }
                if let Some(v) = S::values_mut(&mut self.fields, i) {
                    v.extend(values);
                }
            }
        }
        Ok(())
    }

    pub(super) fn finish(self) -> S::Fields {
        self.fields
    }
}

/// The spellings of header names seen so far, by entry: the first few in place (no allocation
/// for the usual handful of headers), the rest in a hash set, so thousands cost linear time.
#[derive(Default)]
struct Spellings {
    few: ArrayVec<(usize, Spelling), 8>,
    rest: Option<std::collections::HashSet<(usize, Spelling)>>,
}

impl Spellings {
    /// Adds `s`, known not to be there.
    fn push(&mut self, s: (usize, Spelling)) {
        if let Err(full) = self.few.try_push(s) {
            self.rest.get_or_insert_default().insert(full.element());
        }
    }

    /// Adds `s`; gives it back when it was already there.
    fn insert(&mut self, s: (usize, Spelling)) -> Option<(usize, Spelling)> {
        if self.few.contains(&s) || self.rest.as_ref().is_some_and(|rest| rest.contains(&s)) {
            return Some(s);
        }
        self.push(s);
        None
    }
}

/// How a header name was spelled, given its lower-case form: which of its bytes were upper case
/// (a name of up to 64 bytes), else the text itself.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Spelling {
    Capitals(u64),
    Text(String),
}

impl Spelling {
    fn of(name: &str) -> Spelling {
        if name.len() > 64 {
            return Spelling::Text(name.to_string());
        }
        // Eight bytes at a time: a high bit marks each capital, and a multiplication gathers
        // the eight marks into the top byte (a byte-wise loop was most of a header's cost).
        const ONES: u64 = u64::from_le_bytes([1; 8]);
        const HIGH: u64 = ONES << 7;
        let mut capitals = 0u64;
        for (i, chunk) in name.as_bytes().chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word.iter_mut().zip(chunk).for_each(|(w, b)| *w = *b);
            let x = u64::from_le_bytes(word);
            // Bytes from `A` (0x41) to `Z` (0x5a): at least 0x41, and below 0x5b, with no high bit.
            let at_least_a = (x | HIGH).wrapping_sub(ONES * 0x41) & HIGH;
            let below_z = !(x | HIGH).wrapping_sub(ONES * 0x5b) & HIGH;
            let marks = at_least_a & below_z & !x;
            let bits = (marks >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
            capitals |= bits << (8 * i);
        }
        Spelling::Capitals(capitals)
    }
    /// The name as it was spelled.
    fn text(&self, lower: &str) -> String {
        match self {
            Spelling::Text(t) => t.clone(),
            Spelling::Capitals(c) => {
                let bytes = lower
                    .bytes()
                    .enumerate()
                    .map(|(i, b)| match i < 64 && c & (1 << i) != 0 {
                        true => b.to_ascii_uppercase(),
                        false => b,
                    })
                    .collect();
                // Only ASCII letters change case, so the text stays UTF-8.
                String::from_utf8(bytes).unwrap_or_else(|_| lower.to_string())
            }
        }
    }
}

/// A map whose names must each appear once.
fn unique_names<'de, D: Deserializer<'de>, S: Text + Deserialize<'de>>(
    d: D,
) -> Result<S::Fields, D::Error> {
    struct V<S>(PhantomData<S>);
    impl<'de, S: Text + Deserialize<'de>> serde::de::Visitor<'de> for V<S> {
        type Value = S::Fields;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = S::Fields::default();
            while let Some(name) = map.next_key::<S>()? {
                if S::position(&out, &name).is_some() {
                    return Err(duplicate(&name));
                }
                let values = map.next_value()?;
                S::push(&mut out, name, values);
            }
            Ok(out)
        }
    }
    d.deserialize_map(V::<S>(PhantomData))
}

/// Free-form JSON, or null, with no duplicate key in any object: `serde_json::Value` would
/// keep the last of two, where another reader of the same text may keep the first.
fn unique_json<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Option::<UniqueJson>::deserialize(d)?.map(|u| u.0))
}

fn read_body<'de, D: Deserializer<'de>, S: Text>(d: D) -> Result<Option<S::Body>, D::Error>
where
    S::Body: ReadBody<'de>,
{
    <S::Body as ReadBody<'de>>::read(d)
}

fn duplicate<E: serde::de::Error>(name: &str) -> E {
    E::custom(format_args!("duplicate key `{name}`"))
}

/// JSON with no duplicate key in any object.
pub(super) struct UniqueJson(pub(super) Value);

impl<'de> Deserialize<'de> for UniqueJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = UniqueJson;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<UniqueJson, E> {
                Ok(UniqueJson(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<UniqueJson, E> {
                Ok(UniqueJson(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<UniqueJson, E> {
                Ok(UniqueJson(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<UniqueJson, E> {
                Ok(UniqueJson(Value::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<UniqueJson, E> {
                Ok(UniqueJson(Value::String(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<UniqueJson, E> {
                Ok(UniqueJson(Value::String(v)))
            }
            fn visit_unit<E>(self) -> Result<UniqueJson, E> {
                Ok(UniqueJson(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<UniqueJson, A::Error> {
                let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
                while let Some(UniqueJson(v)) = seq.next_element()? {
                    all.push(v);
                }
                Ok(UniqueJson(Value::Array(all)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<UniqueJson, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    match out.entry(key) {
                        serde_json::map::Entry::Vacant(e) => {
                            e.insert(map.next_value::<UniqueJson>()?.0);
                        }
                        serde_json::map::Entry::Occupied(e) => return Err(duplicate(e.key())),
                    }
                }
                Ok(UniqueJson(Value::Object(out)))
            }
        }
        d.deserialize_any(V)
    }
}

fn required_nullable<'de, D: Deserializer<'de>, S: Deserialize<'de>>(
    d: D,
) -> Result<Option<S>, D::Error> {
    Option::<S>::deserialize(d)
}

/// A header or query value: one string, or an array for a repeated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values<S = String> {
    /// A single value.
    One(S),
    /// A repeated header or parameter.
    Many(Vec<S>),
}

impl<'de, S: Deserialize<'de>> Deserialize<'de> for Values<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::value::{BorrowedStrDeserializer, StrDeserializer, StringDeserializer};
        struct V<S>(PhantomData<S>);
        impl<'de, S: Deserialize<'de>> serde::de::Visitor<'de> for V<S> {
            type Value = Values<S>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Values<S>, E> {
                S::deserialize(BorrowedStrDeserializer::new(v)).map(Values::One)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Values<S>, E> {
                S::deserialize(StrDeserializer::new(v)).map(Values::One)
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Values<S>, E> {
                S::deserialize(StringDeserializer::new(v)).map(Values::One)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Values<S>, A::Error> {
                let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(64));
                while let Some(v) = seq.next_element::<S>()? {
                    all.push(v);
                }
                Ok(Values::Many(all))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<S: std::ops::Deref<Target = str>> Values<S> {
    /// Adds `more` after these values.
    fn extend(&mut self, more: Values<S>) {
        let mut all = match std::mem::replace(self, Values::Many(Vec::new())) {
            Values::One(v) => vec![v],
            Values::Many(v) => v,
        };
        match more {
            Values::One(v) => all.push(v),
            Values::Many(v) => all.extend(v),
        }
        *self = Values::Many(all);
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Values::One(s) => (Some(&**s), &[][..]),
            Values::Many(v) => (None, v.as_slice()),
        };
        one.into_iter().chain(many.iter().map(|s| &**s))
    }
}

impl From<&str> for Values {
    fn from(s: &str) -> Self {
        Values::One(s.to_string())
    }
}

impl Request {
    /// Parses one request description from JSON text (a duplicate key is an error). For text
    /// from outside, [`Request::intake`] also enforces the policy's limits.
    pub fn from_json(text: &str) -> Result<Request, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Parses a request body, for a description built from an HTTP request (a gateway's
    /// check): free-form JSON as a description's `body` is read, so a duplicate key in any
    /// object is an error, never "the last one wins" where the upstream may keep the first.
    ///
    /// ```
    /// use orgscope::Request;
    ///
    /// assert!(Request::body_from_slice(br#"{"organizationLabel": "Asia"}"#).is_ok());
    /// let twice = br#"{"organizationLabel": "Asia", "organizationLabel": "China"}"#;
    /// assert!(Request::body_from_slice(twice).is_err());
    /// ```
    pub fn body_from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
        serde_json::from_slice::<UniqueJson>(bytes).map(|u| u.0)
    }
}

impl<S: Text> Request<S> {
    /// Every value of a header; `lowercase_name` must be lower case, like the parsed names.
    /// (A description built in code with mixed-case names is matched case-insensitively.)
    pub(crate) fn header_values<'a>(
        &'a self,
        lowercase_name: &'a str,
    ) -> impl Iterator<Item = &'a str> {
        S::header_values(&self.headers, lowercase_name)
    }

    /// Every header, in order.
    pub(crate) fn header_entries(&self) -> impl Iterator<Item = (&str, &Values<S>)> {
        S::entries(&self.headers).map(|(k, v)| (&**k, v))
    }

    /// Every query parameter, in order.
    pub(crate) fn query_entries(&self) -> impl Iterator<Item = (&str, &Values<S>)> {
        S::entries(&self.query).map(|(k, v)| (&**k, v))
    }

    /// The query parameter named `name`.
    pub(crate) fn query_values(&self, name: &str) -> Option<&Values<S>> {
        S::get(&self.query, name)
    }
}

/// Pushes `item`, the first one into room for `first`: allocated at once, where a push into
/// an empty vector takes the slower path of growing one.
#[inline]
fn push<T>(all: &mut Vec<T>, item: T, first: usize) {
    if all.capacity() == 0 {
        *all = Vec::with_capacity(first);
    }
    all.push(item);
}

/// What evaluation reads of `req`: its target normalized ([`target::normalize`]; `None` when
/// `req` is read as it is), or why it is not a valid description (a bad target; one existing
/// object listed twice, its type spelled any way, which is contradictory authority data).
/// Boxed: a request is large, and moving one through every decision costs a copy. Inlined
/// into its one caller: a call costs more than most requests' checks here.
#[inline]
pub(crate) fn prepare<S: Text>(
    policy: &Policy,
    req: &Request<S>,
) -> Result<Option<Box<Request<S>>>, String> {
    let duplicate = |first: usize, i: usize, (ty, id): (&str, &str)| {
        format!("entities[{first}] and entities[{i}] both describe `{ty}` `{id}`")
    };
    // A few entities are compared pairwise, on the stack: a map costs more below a dozen.
    const FEW: usize = 8;
    if req.entities.len() > FEW {
        let mut seen = rustc_hash::FxHashMap::default();
        for (i, e) in req.entities.iter().enumerate() {
            let key = entity_key(policy, e);
            if let Some(first) = seen.insert(key, i) {
                return Err(duplicate(first, i, key));
            }
        }
    } else if req.entities.len() > 1 {
        let mut few = [("", ""); FEW];
        for (i, e) in req.entities.iter().enumerate() {
            let key = entity_key(policy, e);
            let earlier = few.get(..i).unwrap_or_default();
            if let Some(first) = earlier.iter().position(|k| *k == key) {
                return Err(duplicate(first, i, key));
            }
            if let Some(slot) = few.get_mut(i) {
                *slot = key;
            }
        }
    }
    target::normalize(req)
}

/// What makes an entity the same as another: its declared type (however spelled) and id.
fn entity_key<'a, S: Text>(policy: &'a Policy, e: &'a Entity<S>) -> (&'a str, &'a str) {
    let ty = policy.type_name(&e.object_type).unwrap_or(&e.object_type);
    (ty, &e.id)
}

#[cfg(test)]
mod tests {
    //! A header name's capitals, found eight bytes at a time, against the byte-wise definition.

    use super::Spelling;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn capitals_are_the_upper_case_ascii_bytes(name in "[a-zA-Z0-9@\\[`{ÀÉé_-]{0,70}") {
            let expected = match name.len() {
                0..=64 => Spelling::Capitals(
                    (name.bytes().enumerate())
                        .filter(|(_, b)| b.is_ascii_uppercase())
                        .fold(0, |c, (i, _)| c | 1 << i),
                ),
                _ => Spelling::Text(name.clone()),
            };
            prop_assert_eq!(Spelling::of(&name), expected);
            prop_assert_eq!(Spelling::of(&name).text(&name.to_ascii_lowercase()), name);
        }
    }
}
