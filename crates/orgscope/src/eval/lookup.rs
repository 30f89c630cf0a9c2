//! Existing objects: the embedder's lookup trait, and reading, updating or deleting one object.

use super::{Ctx, Deny, Res, Scope, Target};
use crate::compile::{RuleId, TypeIdx};
use crate::decision::{ErrorCode, Labels};
use crate::request::{Entity, Text};
use crate::syntax::ast::Action;
use rustc_hash::FxHashMap;
use std::borrow::Cow;

/// The request's entities by declared type and id.
pub(super) type EntityIndex<'r, S> = FxHashMap<(TypeIdx, &'r str), &'r Entity<S>>;

/// Up to this many entities a scan beats building an index.
const INDEX_FROM: usize = 8;

/// What an embedder's store knows of one existing object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<'a> {
    /// No such object.
    Missing,
    /// The object exists and has no org label (visible to every org).
    Unlabeled,
    /// The object exists in this org (a name or id of the directory, or an opaque org).
    Org(Cow<'a, str>),
    /// The store could not answer (down, slow, failing): the decision is a
    /// `store_unavailable` deny with status 503, whatever else the request says.
    Unavailable,
}

/// Looks up existing objects' orgs; implement it over your own store.
///
/// Consulted for parents of creates and targets of reads, updates and deletes. A trusted
/// source: what it knows wins over the request's own `entities`, and a request that
/// contradicts it is denied. A store that cannot answer says [`Found::Unavailable`]: the
/// decision is then a 503 deny, never an answer from the request's own entities.
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

/// The deny when the trusted store cannot answer about an object of `type_name` (the id is not
/// named: whether it exists is exactly what nobody could tell).
pub(super) fn store_unavailable(type_name: &str, rule: RuleId) -> Deny {
    Deny::new(
        ErrorCode::StoreUnavailable,
        format!("the store of {type_name} objects cannot answer now"),
        Some(rule),
    )
}

impl<'p: 'r, 'r, S: Text> Ctx<'p, 'r, S> {
    /// Looks an existing object up: the trusted store first, then the request's entities. The
    /// flag says whether the request's entities contradict what the store knows; the store's
    /// answer stands either way, and callers deny a contradiction only once the object is
    /// visible, so the answer never reveals the stored org.
    pub(super) fn find(&mut self, t: TypeIdx, id: &str) -> (Found<'r>, bool) {
        let p = self.p;
        let name = p.object(t).map(|ty| &*ty.name);
        let inline = match self.entity_index() {
            Some(index) => index.get(&(t, id)).copied(),
            // Most entities spell the type as declared: compare before resolving the spelling.
            None => self.req.entities.iter().find(|e| {
                *e.id == *id
                    && (name == Some(&*e.object_type) || p.resolve_type(&e.object_type) == Some(t))
            }),
        };
        let trusted = match name {
            Some(name) => self.lookup.find(name, id),
            None => Found::Missing,
        };
        match (trusted, inline) {
            (Found::Unavailable, _) => (Found::Unavailable, false),
            (Found::Missing, Some(e)) => match &e.org {
                Some(o) => {
                    self.explain_outside(e, o);
                    (Found::Org(Cow::Borrowed(&**o)), false)
                }
                None => (Found::Unlabeled, false),
            },
            (trusted, Some(e)) => {
                let agrees = match (&trusted, e.org.as_deref()) {
                    (Found::Unlabeled, None) => true,
                    (Found::Org(a), Some(b)) => self.same_org(a, b),
                    _ => false,
                };
                (trusted, !agrees)
            }
            (trusted, None) => (trusted, false),
        }
    }

    /// The request's entities by declared type and id (the first of duplicates, as the scan
    /// finds), built on first use when there are too many to scan for every object of a create.
    /// A request entity in an org the user cannot access (or one that does not exist: the same
    /// words) is answered like a missing object. The explain trace says why; the decision does
    /// not, so it stays the same as for a missing object.
    fn explain_outside(&mut self, e: &'r Entity<S>, org: &'r str) {
        // Resolved only for the trace: a decision not explained would pay for nothing.
        if !self.trace.explaining()
            || self
                .resolve(org)
                .is_some_and(|o| self.accessible.contains(o))
        {
            return;
        }
        self.trace.step(None, "request entity", || {
            format!(
                "{} `{}` is in org `{}`, which the user cannot access: it counts as not found",
                e.object_type,
                e.id,
                org.trim()
            )
        });
    }

    fn entity_index(&self) -> Option<&EntityIndex<'r, S>> {
        let entities = &self.req.entities;
        if entities.len() <= INDEX_FROM {
            return None;
        }
        let p = self.p;
        Some(self.entity_index.get_or_init(|| {
            let mut index = EntityIndex::default();
            for e in entities {
                if let Some(t) = p.resolve_type(&e.object_type) {
                    index.entry((t, &*e.id)).or_insert(e);
                }
            }
            index
        }))
    }

    /// Whether two org references name the same org (a directory name and its id do).
    fn same_org(&self, a: &str, b: &str) -> bool {
        let (a, b) = (a.trim(), b.trim());
        a == b
            || self.p.directory.as_ref().is_some_and(|d| {
                let a = d.resolve(a);
                a.is_some() && a == d.resolve(b)
            })
    }

    /// A deny for a request whose `entities` contradict a trusted source about a visible
    /// object (the stored org is not named: the user may only see that the two disagree).
    pub(super) fn contradicted(&self, type_name: &str, id: &str, rule: RuleId) -> Deny {
        Deny::invalid(
            format!(
                "the request's `entities` contradict a trusted source about {type_name} `{id}`"
            ),
            Some(rule),
        )
        .hint("drop the entity from the request".to_string())
    }

    /// Read, update or delete of one object: allowed only when it is visible.
    pub(super) fn by_id(&mut self, target: &Target<'r>, scope: &Scope<'r>) -> Res<Labels<'p>> {
        let (t, ty) = self.object_type(target)?;
        let route = target.route.ok_or_else(|| {
            Deny::invalid(
                "reading an object by id needs a route that says where its id is".to_string(),
                None,
            )
        })?;
        let id = match &route.id {
            Some(f) => self.field(f, self.body())?,
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
        // Nothing is visible to a user without orgs, not even unlabeled objects.
        if scope.visible.len() == 0 {
            return Err(not_found());
        }
        let (found, contradicted) = self.find(t, &id);
        let current = match found {
            Found::Unavailable => return Err(store_unavailable(&ty.name, route.rule)),
            Found::Missing => return Err(not_found()),
            Found::Unlabeled => None,
            Found::Org(_) if ty.shared => None,
            Found::Org(o) => match self.resolve_owned(&o) {
                Some(org) if scope.visible.contains(org) => Some(org),
                _ => return Err(not_found()),
            },
        };
        if contradicted {
            return Err(self.contradicted(&ty.name, &id, route.rule));
        }
        self.trace.step(Some(route.rule), "target object", || {
            format!("{} `{id}` is visible", ty.name)
        });
        if target.action != Some(Action::Update) || ty.shared {
            return Ok(Labels::new());
        }
        self.relabel(ty, current, scope)
    }
}
