//! The string types a request description is read into: `String` for owned requests, and
//! [`Str`], borrowed from the description's text, for the intake that decides straight from it.

use super::{UniqueJson, Values};
use crate::json::{Json, Raw};
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::{Borrow, Cow};
use std::fmt::{Debug, Display};
use std::hash::Hash;
use std::ops::Deref;

mod sealed {
    pub trait Sealed {}
    impl Sealed for String {}
    impl Sealed for super::Str<'_> {}
}

/// The string type of a [`Request`](crate::Request): `String` (the default, what callers
/// build), or the crate's own text borrowed from a description (`Policy::evaluate_json` and the
/// batch). Sealed: evaluation is written once for both.
pub trait Text:
    sealed::Sealed + Deref<Target = str> + Borrow<str> + Hash + Eq + Clone + Debug + Display
{
    /// How a request of this text holds its headers and query parameters, in order.
    type Fields: Clone + Debug + Default + PartialEq;

    /// How a request of this text holds its body: a `serde_json::Value` for `String`.
    type Body: Clone + Debug + PartialEq;

    // The engine's own operations, not for callers (the trait is sealed).

    /// Text that was decoded into a new string.
    #[doc(hidden)]
    fn from_string(s: String) -> Self;

    /// The body as evaluation reads it.
    #[doc(hidden)]
    fn body(body: &Self::Body) -> Json<'_>;

    /// The name with ASCII letters lower-cased (borrowed text stays borrowed when it already is).
    #[doc(hidden)]
    fn lowercase(self) -> Self;

    /// The index of the entry named exactly `name`.
    #[doc(hidden)]
    fn position(fields: &Self::Fields, name: &str) -> Option<usize>;

    /// The values of the entry named exactly `name`.
    #[doc(hidden)]
    fn get<'f>(fields: &'f Self::Fields, name: &str) -> Option<&'f Values<Self>>;

    /// The values of the `i`th entry.
    #[doc(hidden)]
    fn values_mut(fields: &mut Self::Fields, i: usize) -> Option<&mut Values<Self>>;

    /// Adds an entry whose name is not there yet, after the others.
    #[doc(hidden)]
    fn push(fields: &mut Self::Fields, name: Self, values: Values<Self>);

    /// How many entries there are.
    #[doc(hidden)]
    fn len(fields: &Self::Fields) -> usize;

    /// Every entry, in order.
    #[doc(hidden)]
    fn entries<'f>(fields: &'f Self::Fields) -> impl Iterator<Item = (&'f Self, &'f Values<Self>)>
    where
        Self: 'f;

    /// Every value of a header, given its lower-case name.
    #[doc(hidden)]
    fn header_values<'a>(
        fields: &'a Self::Fields,
        lowercase_name: &'a str,
    ) -> impl Iterator<Item = &'a str>;
}

impl Text for String {
    type Fields = IndexMap<String, Values>;
    type Body = Value;

    fn from_string(s: String) -> Self {
        s
    }

    fn body(body: &Value) -> Json<'_> {
        Json::Tree(body)
    }

    fn lowercase(mut self) -> Self {
        self.make_ascii_lowercase();
        self
    }

    fn position(fields: &Self::Fields, name: &str) -> Option<usize> {
        fields.get_index_of(name)
    }

    fn get<'f>(fields: &'f Self::Fields, name: &str) -> Option<&'f Values> {
        fields.get(name)
    }

    fn values_mut(fields: &mut Self::Fields, i: usize) -> Option<&mut Values> {
        fields.get_index_mut(i).map(|(_, v)| v)
    }

    fn push(fields: &mut Self::Fields, name: Self, values: Values) {
        fields.insert(name, values);
    }

    fn len(fields: &Self::Fields) -> usize {
        fields.len()
    }

    fn entries<'f>(fields: &'f Self::Fields) -> impl Iterator<Item = (&'f Self, &'f Values)>
    where
        Self: 'f,
    {
        fields.iter()
    }

    fn header_values<'a>(
        fields: &'a Self::Fields,
        lowercase_name: &'a str,
    ) -> impl Iterator<Item = &'a str> {
        // A description built in code may spell names in any case: every entry is compared.
        fields
            .iter()
            .filter(move |(k, _)| {
                // Equal bytes first (one memcmp): parsed names are already lower case.
                k.len() == lowercase_name.len()
                    && (*k == lowercase_name || k.eq_ignore_ascii_case(lowercase_name))
            })
            .flat_map(|(_, v)| v.iter())
    }
}

/// Text of a request description: borrowed from it unless the JSON escapes it (or it had to
/// be lower-cased).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Str<'a>(Cow<'a, str>);

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a> From<&'a str> for Str<'a> {
    fn from(s: &'a str) -> Self {
        Str(Cow::Borrowed(s))
    }
}

impl Display for Str<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for Str<'_> {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The body of a borrowed request: its text, checked as it was read and read where it lies by
/// evaluation; a tree only when it holds what the check leaves to serde (an escape, a
/// fraction, a long number, nesting past 64).
#[derive(Clone, Debug, PartialEq)]
pub enum Doc<'a> {
    /// The checked text.
    Raw(Raw<'a>),
    /// Parsed, as an owned request's body is.
    Tree(Value),
}

/// How each kind of request reads its body: from text the reader checked, or through serde;
/// in both, a duplicate key in any object is an error (SPEC §2).
pub trait ReadBody<'de>: Sized {
    /// From text the reader checked.
    fn from_raw(raw: Raw<'de>) -> Self;

    /// Through serde: `None` for `null`.
    fn read<D: Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error>;
}

impl<'de> ReadBody<'de> for Value {
    fn from_raw(raw: Raw<'de>) -> Value {
        Value::from(raw)
    }

    fn read<D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
        Ok(Option::<UniqueJson>::deserialize(d)?.map(|u| u.0))
    }
}

impl<'de> ReadBody<'de> for Doc<'de> {
    fn from_raw(raw: Raw<'de>) -> Doc<'de> {
        Doc::Raw(raw)
    }

    /// The body's text as serde_json found it, checked by the reader; parsed into a tree (which
    /// refuses what serde refuses) when the check leaves it to serde.
    fn read<D: Deserializer<'de>>(d: D) -> Result<Option<Doc<'de>>, D::Error> {
        let Some(text) = Option::<&'de RawValue>::deserialize(d)? else {
            return Ok(None);
        };
        let text = text.get();
        // serde_json refuses a 128th level, and a request's body starts at the second: parsed
        // alone, the body must stop where it would have.
        if crate::limits::json_depth_exceeds(text.as_bytes(), 126) {
            return Err(serde::de::Error::custom("recursion limit exceeded"));
        }
        Ok(Some(match super::reader::check(text) {
            Some(raw) => Doc::Raw(raw),
            None => Doc::Tree(
                serde_json::from_str::<UniqueJson>(text)
                    .map_err(serde::de::Error::custom)?
                    .0,
            ),
        }))
    }
}

/// Up to this many entries, a scan beats hashing.
const FEW: usize = 8;

/// Headers or query parameters of a borrowed request: a vector for the usual handful, a hash
/// map (keyed by `RandomState`, as the names are the client's) beyond [`FEW`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Fields<'a> {
    Few(Vec<(Str<'a>, Values<Str<'a>>)>),
    Many(Box<IndexMap<Str<'a>, Values<Str<'a>>>>),
}

impl Default for Fields<'_> {
    fn default() -> Self {
        Fields::Few(Vec::new())
    }
}

impl<'a> Text for Str<'a> {
    type Fields = Fields<'a>;
    type Body = Doc<'a>;

    fn from_string(s: String) -> Self {
        Str(Cow::Owned(s))
    }

    fn body<'b>(body: &'b Doc<'a>) -> Json<'b> {
        match body {
            Doc::Raw(raw) => Json::Raw(*raw),
            Doc::Tree(tree) => Json::Tree(tree),
        }
    }

    fn lowercase(self) -> Self {
        match self.0 {
            Cow::Borrowed(s) if s.bytes().any(|b| b.is_ascii_uppercase()) => {
                Str(Cow::Owned(s.to_ascii_lowercase()))
            }
            Cow::Borrowed(s) => Str(Cow::Borrowed(s)),
            Cow::Owned(s) => Str(Cow::Owned(s.lowercase())),
        }
    }

    fn position(fields: &Fields<'a>, name: &str) -> Option<usize> {
        match fields {
            Fields::Few(v) => v.iter().position(|(k, _)| **k == *name),
            Fields::Many(m) => m.get_index_of(name),
        }
    }

    #[inline]
    fn get<'f>(fields: &'f Fields<'a>, name: &str) -> Option<&'f Values<Self>> {
        match fields {
            Fields::Few(v) => v.iter().find(|(k, _)| **k == *name).map(|(_, v)| v),
            Fields::Many(m) => m.get(name),
        }
    }

    fn values_mut<'f>(fields: &'f mut Fields<'a>, i: usize) -> Option<&'f mut Values<Self>> {
        match fields {
            Fields::Few(v) => v.get_mut(i).map(|(_, v)| v),
            Fields::Many(m) => m.get_index_mut(i).map(|(_, v)| v),
        }
    }

    fn push(fields: &mut Fields<'a>, name: Self, values: Values<Self>) {
        match fields {
            Fields::Few(v) if v.len() < FEW => super::push(v, (name, values), 2),
            Fields::Few(v) => {
                let mut m: IndexMap<_, _> = std::mem::take(v).into_iter().collect();
                m.insert(name, values);
                *fields = Fields::Many(Box::new(m));
            }
            Fields::Many(m) => {
                m.insert(name, values);
            }
        }
    }

    fn len(fields: &Fields<'a>) -> usize {
        match fields {
            Fields::Few(v) => v.len(),
            Fields::Many(m) => m.len(),
        }
    }

    fn entries<'f>(fields: &'f Fields<'a>) -> impl Iterator<Item = (&'f Self, &'f Values<Self>)>
    where
        Self: 'f,
    {
        let (few, many) = match fields {
            Fields::Few(v) => (v.as_slice(), None),
            Fields::Many(m) => (&[][..], Some(&**m)),
        };
        few.iter()
            .map(|(k, v)| (k, v))
            .chain(many.into_iter().flatten())
    }

    #[inline]
    fn header_values<'f>(
        fields: &'f Fields<'a>,
        lowercase_name: &'f str,
    ) -> impl Iterator<Item = &'f str> {
        // The intake lower-cased every name, so one exact lookup finds the header.
        Self::get(fields, lowercase_name)
            .into_iter()
            .flat_map(Values::iter)
    }
}
