//! Evaluation input: the request description of SPEC §2 (serde; unknown fields are rejected).

pub mod batch;
pub(crate) mod entities;
mod intake;
mod target;
use crate::syntax::ast::Action;
use crate::Policy;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A description of one HTTP request, as a gateway or test sees it.
///
/// Every field but `user` is optional where the policy does not need it. Unknown fields are
/// rejected, so a typo such as `"user": {"org": [...]}` is an error, never a silent widening.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Echoed into the decision.
    #[serde(default, deserialize_with = "unique_json")]
    pub id: Option<Value>,
    /// The HTTP method.
    #[serde(default)]
    pub method: Option<String>,
    /// The request target as the client sent it: a path, percent-encoded, which may carry a
    /// query string (its parameters count like those of `query`) and a fragment (dropped).
    #[serde(default)]
    pub path: Option<String>,
    /// Headers, a repeated header as an array. Names are lower-cased when parsed (they match
    /// case-insensitively), and names that differ only in case are merged into one entry.
    #[serde(default, deserialize_with = "lowercase_headers")]
    pub headers: IndexMap<String, Values>,
    /// Query parameters, decoded; a repeated parameter is an array.
    #[serde(default, deserialize_with = "unique_names")]
    pub query: IndexMap<String, Values>,
    /// The JSON body, free-form.
    #[serde(default, deserialize_with = "unique_json")]
    pub body: Option<Value>,
    /// Who is asking.
    pub user: User,
    /// The tenant's settings.
    #[serde(default)]
    pub tenant: Option<Tenant>,
    /// The action, when no route says it (or to cross-check the route).
    #[serde(default)]
    pub action: Option<Action>,
    /// The object type, when no route says it (or to cross-check the route).
    #[serde(default)]
    pub object: Option<String>,
    /// What the caller knows of existing objects.
    #[serde(default)]
    pub entities: Vec<Entity>,
}

/// The user making the request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The user's id (informational).
    #[serde(default)]
    pub id: Option<String>,
    /// Orgs the user is granted, by name or id.
    pub orgs: Vec<String>,
    /// The user's default org for creates.
    #[serde(default)]
    pub default_org: Option<String>,
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
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Its object type (name or alias).
    #[serde(rename = "type")]
    pub object_type: String,
    /// Its id.
    pub id: String,
    /// Its org, or null when unlabeled. Required: a missing org must not read as "unlabeled".
    #[serde(deserialize_with = "required_nullable")]
    pub org: Option<String>,
}

fn lowercase_headers<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<IndexMap<String, Values>, D::Error> {
    // Lower-cased as they are read, so the map is built once: most gateways send mixed case.
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = IndexMap<String, Values>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = IndexMap::with_capacity(map.size_hint().unwrap_or(4).min(64));
            // Two spellings of a name are one repeated header, the same spelling twice is a
            // duplicate key: each entry keeps the spellings it was given (one allocation for
            // the request, none per name).
            let mut spellings: Vec<(usize, Spelling)> = Vec::with_capacity(out.capacity());
            while let Some((mut name, values)) = map.next_entry::<String, Values>()? {
                let spelled = Spelling::of(&name);
                name.make_ascii_lowercase();
                match out.entry(name) {
                    indexmap::map::Entry::Vacant(e) => {
                        spellings.push((e.index(), spelled));
                        e.insert(values);
                    }
                    indexmap::map::Entry::Occupied(mut e) => {
                        let entry = (e.index(), spelled);
                        if spellings.contains(&entry) {
                            return Err(duplicate(&entry.1.text(e.key())));
                        }
                        spellings.push(entry);
                        // The same header under two spellings: one repeated header.
                        e.get_mut().extend(values);
                    }
                }
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

/// How a header name was spelled, given its lower-case form: which of its bytes were upper case
/// (a name of up to 128 bytes), else the text itself.
#[derive(Debug, PartialEq)]
enum Spelling {
    Capitals(u128),
    Text(String),
}

impl Spelling {
    fn of(name: &str) -> Spelling {
        if name.len() > 128 {
            return Spelling::Text(name.to_string());
        }
        let mut capitals = 0u128;
        for (i, b) in name.bytes().enumerate() {
            if b.is_ascii_uppercase() {
                capitals |= 1 << i;
            }
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
                    .map(|(i, b)| match i < 128 && c & (1 << i) != 0 {
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
fn unique_names<'de, D: Deserializer<'de>>(d: D) -> Result<IndexMap<String, Values>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = IndexMap<String, Values>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = IndexMap::with_capacity(map.size_hint().unwrap_or(4).min(64));
            while let Some(name) = map.next_key::<String>()? {
                match out.entry(name) {
                    indexmap::map::Entry::Vacant(e) => {
                        e.insert(map.next_value()?);
                    }
                    indexmap::map::Entry::Occupied(e) => return Err(duplicate(e.key())),
                }
            }
            Ok(out)
        }
    }
    d.deserialize_map(V)
}

/// Free-form JSON, or null, with no duplicate key in any object: `serde_json::Value` would
/// keep the last of two, where another reader of the same text may keep the first.
fn unique_json<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Option::<UniqueJson>::deserialize(d)?.map(|u| u.0))
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

fn required_nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// A header or query value: one string, or an array for a repeated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values {
    /// A single value.
    One(String),
    /// A repeated header or parameter.
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Values;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Values, E> {
                Ok(Values::One(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Values, E> {
                Ok(Values::One(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Values, A::Error> {
                let mut all = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(64));
                while let Some(v) = seq.next_element::<String>()? {
                    all.push(v);
                }
                Ok(Values::Many(all))
            }
        }
        d.deserialize_any(V)
    }
}

impl Values {
    /// Adds `more` after these values.
    fn extend(&mut self, more: Values) {
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
            Values::One(s) => (Some(s.as_str()), &[][..]),
            Values::Many(v) => (None, v.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
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

    /// Every value of a header; `lowercase_name` must be lower case, like the parsed names.
    /// (A description built in code with mixed-case names is matched case-insensitively.)
    pub(crate) fn header_values<'a>(
        &'a self,
        lowercase_name: &'a str,
    ) -> impl Iterator<Item = &'a str> {
        self.headers
            .iter()
            .filter(move |(k, _)| {
                // Equal bytes first (one memcmp): parsed names are already lower case.
                k.len() == lowercase_name.len()
                    && (*k == lowercase_name || k.eq_ignore_ascii_case(lowercase_name))
            })
            .flat_map(|(_, v)| v.iter())
    }
}

/// What evaluation reads of `req`: its target normalized ([`target::normalize`]), or why it
/// is not a valid description (a bad target; one existing object listed twice, its type
/// spelled any way, which is contradictory authority data).
pub(crate) fn prepare<'r>(
    policy: &Policy,
    req: &'r Request,
) -> Result<std::borrow::Cow<'r, Request>, String> {
    if req.entities.len() > 1 {
        let mut seen = rustc_hash::FxHashMap::default();
        for (i, e) in req.entities.iter().enumerate() {
            let ty = policy.type_name(&e.object_type).unwrap_or(&e.object_type);
            if let Some(first) = seen.insert((ty, e.id.as_str()), i) {
                return Err(format!(
                    "entities[{first}] and entities[{i}] both describe `{ty}` `{}`",
                    e.id
                ));
            }
        }
    }
    Ok(match target::normalize(req)? {
        Some(normalized) => std::borrow::Cow::Owned(normalized),
        None => std::borrow::Cow::Borrowed(req),
    })
}
