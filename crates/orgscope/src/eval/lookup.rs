//! Existing objects: the embedder's lookup trait, and reading, updating or deleting one object.

use super::{Ctx, Deny, Res, Scope, Target};
use crate::compile::TypeIdx;
use crate::decision::{ErrorCode, Label, LabelSource};
use crate::syntax::ast::Action;
use std::borrow::Cow;

/// What an embedder's store knows of one existing object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<'a> {
    /// No such object.
    Missing,
    /// The object exists and has no org label (visible to every org).
    Unlabeled,
    /// The object exists in this org (a name or id of the directory, or an opaque org).
    Org(Cow<'a, str>),
}

/// Looks up existing objects' orgs; implement it over your own store.
///
/// Consulted for parents of creates and targets of reads, updates and deletes, after the
/// request's own `entities`.
pub trait EntityLookup {
    /// The org of the object of type `object_type` (the policy's type name) with this id.
    fn find(&self, object_type: &str, id: &str) -> Found<'_>;
}

/// A lookup that knows no objects: only the request's `entities` count.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEntities;

impl EntityLookup for NoEntities {
    fn find(&self, _: &str, _: &str) -> Found<'_> {
        Found::Missing
    }
}

impl<'r> Ctx<'r> {
    /// Looks an existing object up: the request's entities first, then the embedder's store.
    pub(super) fn find(&self, t: TypeIdx, id: &str) -> Found<'r> {
        let p = self.p;
        let name = p.object(t).map(|ty| &*ty.name);
        // Most entities spell the type as declared: compare before resolving the spelling.
        if let Some(e) = self.req.entities.iter().find(|e| {
            e.id == id
                && (name == Some(e.object_type.as_str())
                    || p.resolve_type(&e.object_type) == Some(t))
        }) {
            return match &e.org {
                Some(o) => Found::Org(Cow::Borrowed(o.as_str())),
                None => Found::Unlabeled,
            };
        }
        match name {
            Some(name) => self.lookup.find(name, id),
            None => Found::Missing,
        }
    }

    /// Read, update or delete of one object: allowed only when it is visible.
    pub(super) fn by_id(&mut self, target: &Target<'r>, scope: &Scope<'r>) -> Res<Vec<Label>> {
        let (t, ty) = self.object_type(target)?;
        let route = target.route.ok_or_else(|| {
            Deny::invalid(
                "reading an object by id needs a route that says where its id is".to_string(),
                None,
            )
        })?;
        let id = match &route.id {
            Some(f) => self.field(f, self.req.body.as_ref())?,
            None => None,
        };
        let Some(id) = id else {
            return Err(Deny::invalid(
                format!("the request does not carry the `{}` id", ty.name),
                Some(route.rule),
            ));
        };
        let not_found = || {
            Deny::new(
                ErrorCode::NotFound,
                format!("{} `{id}` was not found", ty.name),
                Some(route.rule),
            )
        };
        let current = match self.find(t, &id) {
            Found::Missing => return Err(not_found()),
            Found::Unlabeled => None,
            Found::Org(_) if ty.shared => None,
            Found::Org(o) => match self.resolve_owned(&o) {
                Some(org) if scope.visible.contains(org) => Some(org),
                _ => return Err(not_found()),
            },
        };
        self.trace.step(Some(route.rule), "target object", || {
            format!("{} `{id}` is visible", ty.name)
        });
        if target.action != Some(Action::Update) || ty.shared {
            return Ok(Vec::new());
        }
        let Some((f, rule)) = &ty.label else {
            return Ok(Vec::new());
        };
        match self.field(f, self.req.body.as_ref())? {
            Some(raw) => {
                let new = self.label_org(&raw, *rule, scope)?;
                if Some(new) == current {
                    return Ok(Vec::new());
                }
                let p = self.p;
                self.trace.decide(*rule, "relabel", || {
                    format!("moves the object to `{}`", super::org_name(p, new))
                });
                Ok(vec![self.label(new, LabelSource::Explicit, None)])
            }
            None => Ok(Vec::new()),
        }
    }
}
