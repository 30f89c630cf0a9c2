//! Reading the request's fields: `body.*`, `path.*`, `query.*`, and the objects a create makes.

use super::{Ctx, Deny, Res, Target};
use crate::compile::FieldPath;
use crate::request::Text;
use crate::syntax::ast::FieldRoot;
use serde_json::Value;
use std::borrow::Cow;

impl<'r, S: Text> Ctx<'r, S> {
    /// Reads a field of the request: `body.*` from `body` (the object being created), `path.*`
    /// from the matched template, `query.*` from the query. Null and "" count as absent.
    pub(super) fn field<'v>(
        &self,
        f: &FieldPath,
        body: Option<&'v Value>,
    ) -> Res<Option<Cow<'v, str>>>
    where
        'r: 'v,
    {
        let text = |v: &'v Value| -> Res<Option<Cow<'v, str>>> {
            match v {
                Value::Null => Ok(None),
                Value::String(s) if s.trim().is_empty() => Ok(None),
                Value::String(s) => Ok(Some(Cow::Borrowed(s.as_str()))),
                Value::Number(n) => Ok(Some(Cow::Owned(n.to_string()))),
                _ => Err(Deny::invalid(
                    format!("`{}` must be a string", f.text),
                    None,
                )),
            }
        };
        match f.root {
            FieldRoot::Body => {
                let mut v = body;
                for k in &f.keys {
                    v = v.and_then(|v| v.get(k));
                }
                v.map_or(Ok(None), text)
            }
            FieldRoot::Path => {
                let key = f.keys.first().map(String::as_str);
                let value = self
                    .params
                    .iter()
                    .zip(self.segments)
                    .find(|(p, _)| p.as_deref() == key)
                    .map(|(_, v)| Cow::Borrowed(v));
                Ok(value)
            }
            FieldRoot::Query => {
                let key = f.keys.first().map_or("", String::as_str);
                let Some(values) = self.req.query_values(key) else {
                    return Ok(None);
                };
                let mut it = values.iter().filter(|v| !v.trim().is_empty());
                match (it.next(), it.next()) {
                    (Some(v), None) => Ok(Some(Cow::Borrowed(v))),
                    (None, _) => Ok(None),
                    (Some(_), Some(_)) => Err(Deny::invalid(
                        format!("query parameter `{key}` was given more than once"),
                        None,
                    )),
                }
            }
        }
    }

    /// Whether a `body.*` field is sent but empty (null or blank): absent to [`Self::field`],
    /// but on an update it clears what it names.
    pub(super) fn cleared(&self, f: &FieldPath, body: Option<&Value>) -> bool {
        if f.root != FieldRoot::Body {
            return false;
        }
        let mut v = body;
        for k in &f.keys {
            v = v.and_then(|v| v.get(k));
        }
        match v {
            Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The bodies of the objects a create makes: each element of the route's `objects`
    /// field, or the body itself.
    pub(super) fn objects(&self, target: &Target<'r>) -> Res<Objects<'r>> {
        let body = self.req.body.as_ref();
        let Some(f) = target.route.and_then(|r| r.objects.as_ref()) else {
            return Ok(Objects::One(body));
        };
        let mut v = body;
        for k in &f.keys {
            v = v.and_then(|v| v.get(k));
        }
        match v {
            Some(Value::Array(items)) if items.len() > self.p.limits.max_objects => {
                Err(Deny::invalid(
                    format!(
                        "`{}` has more than {} objects",
                        f.text, self.p.limits.max_objects
                    ),
                    target.route.map(|r| r.rule),
                ))
            }
            Some(Value::Array(items)) if !items.is_empty() => Ok(Objects::Many(items)),
            _ => Err(Deny::invalid(
                format!("`{}` must be a non-empty array of objects", f.text),
                target.route.map(|r| r.rule),
            )),
        }
    }
}

/// The objects one create makes: the body, or each element of the route's `objects` array.
pub(super) enum Objects<'r> {
    One(Option<&'r Value>),
    Many(&'r [Value]),
}

impl<'r> Objects<'r> {
    pub(super) fn len(&self) -> usize {
        match self {
            Objects::One(_) => 1,
            Objects::Many(items) => items.len(),
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = Option<&'r Value>> + '_ {
        let (one, many) = match *self {
            Objects::One(body) => (Some(body), &[][..]),
            Objects::Many(items) => (None, items),
        };
        one.into_iter().chain(many.iter().map(Some))
    }
}
