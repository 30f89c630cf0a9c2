//! Reading the request's fields: `body.*`, `path.*`, `query.*`, and the objects a create makes.

use super::{Ctx, Deny, Res, Target};
use crate::compile::FieldPath;
use crate::json::{Items, Json};
use crate::request::Text;
use crate::syntax::ast::FieldRoot;
use std::borrow::Cow;

impl<'p: 'r, 'r, S: Text> Ctx<'p, 'r, S> {
    /// The request's body, tree or checked text alike.
    pub(super) fn body(&self) -> Option<Json<'r>> {
        self.req.body.as_ref().map(S::body)
    }

    /// Reads a field of the request: `body.*` from `body` (the object being created), `path.*`
    /// from the matched template, `query.*` from the query. Null and "" count as absent.
    pub(super) fn field<'v>(
        &self,
        f: &FieldPath,
        body: Option<Json<'v>>,
    ) -> Res<Option<Cow<'v, str>>>
    where
        'r: 'v,
    {
        let text = |v: Json<'v>| -> Res<Option<Cow<'v, str>>> {
            if let Some(s) = v.as_str() {
                return Ok((!s.trim().is_empty()).then_some(Cow::Borrowed(s)));
            }
            if let Some(n) = v.number() {
                return Ok(Some(Cow::Owned(n)));
            }
            match v.is_null() {
                true => Ok(None),
                false => Err(Deny::invalid(
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
    pub(super) fn cleared(&self, f: &FieldPath, body: Option<Json<'_>>) -> bool {
        if f.root != FieldRoot::Body {
            return false;
        }
        let mut v = body;
        for k in &f.keys {
            v = v.and_then(|v| v.get(k));
        }
        v.is_some_and(|v| v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()))
    }

    /// The bodies of the objects a create makes: each element of the route's `objects`
    /// field, or the body itself.
    pub(super) fn objects(&self, target: &Target<'r>) -> Res<Objects<'r>> {
        let body = self.body();
        let Some(f) = target.route.and_then(|r| r.objects.as_ref()) else {
            return Ok(Objects::One(body));
        };
        let mut v = body;
        for k in &f.keys {
            v = v.and_then(|v| v.get(k));
        }
        let array = v.filter(|v| v.items().is_some());
        // Counted up to one past the limit: a longer array is refused without reading it all.
        let max = self.p.limits.max_objects;
        let len = array
            .and_then(Json::items)
            .map_or(0, |i| i.take(max + 1).count());
        match array {
            Some(_) if len > max => Err(Deny::invalid(
                format!(
                    "`{}` has more than {} objects",
                    f.text, self.p.limits.max_objects
                ),
                target.route.map(|r| r.rule),
            )),
            Some(items) if len > 0 => Ok(Objects::Many(items, len)),
            _ => Err(Deny::invalid(
                format!("`{}` must be a non-empty array of objects", f.text),
                target.route.map(|r| r.rule),
            )),
        }
    }
}

/// The objects one create makes: the body, or each element of the route's `objects` array
/// (with their number).
pub(super) enum Objects<'r> {
    One(Option<Json<'r>>),
    Many(Json<'r>, usize),
}

impl<'r> Objects<'r> {
    pub(super) fn len(&self) -> usize {
        match self {
            Objects::One(_) => 1,
            Objects::Many(_, len) => *len,
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = Option<Json<'r>>> + '_ {
        let (one, many) = match *self {
            Objects::One(body) => (Some(body), None),
            Objects::Many(items, _) => (None, items.items()),
        };
        one.into_iter()
            .chain(many.into_iter().flat_map(|i: Items<'r>| i.map(Some)))
    }
}
