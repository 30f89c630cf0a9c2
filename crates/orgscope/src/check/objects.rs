//! Object types: names and aliases, properties, inheritance and fallbacks.

use super::graph::find_cycles;
use super::{CheckError, Checker};
use crate::syntax::ast::*;
use crate::terms;
use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap, FxHashSet as HashSet};
use std::hash::{BuildHasher, Hasher};

impl Checker {
    /// Object types: names, aliases, properties, inheritance. Returns the declared type names.
    pub(super) fn objects<'p>(&mut self, objects: &[&'p Object]) -> HashMap<&'p str, &'p Object> {
        let mut types: HashMap<&str, &Object> = HashMap::default();
        // Type names and aliases by `type_key`, each a name (or alias) and its type: a large
        // policy has a key per type, so keys are hashed and compared as written, never built,
        // and the table is sized once (growing it would hold two tables beside the tree).
        let aliases: usize = objects.iter().map(|o| o.alias_count()).sum();
        let mut keys = TypeKeys::with_capacity(objects.len() + aliases);
        for o in objects {
            let name = o.name.node.as_str();
            match keys.find(&o.name) {
                Some(first) => self.push(CheckError::DuplicateObject {
                    span: o.name.span,
                    name: name.to_string(),
                    first: first.owner.name.node.clone(),
                    first_line: first.text.span.line,
                }),
                None => keys.insert(TypeKey {
                    text: &o.name,
                    owner: o,
                }),
            }
            types.entry(name).or_insert(o);
        }
        for o in objects {
            let name = o.name.node.as_str();
            for p in &o.props {
                if let ObjectProp::Alias(aliases) = &p.node {
                    for a in aliases {
                        match keys.find(a) {
                            Some(first) if first.owner.name.node != name => {
                                let owner = &first.owner.name.node;
                                let other = if first.is_alias() {
                                    format!("alias `{}` of object type `{owner}`", first.text.node)
                                } else {
                                    format!("the name of object type `{owner}`")
                                };
                                self.push(CheckError::AliasCollision {
                                    span: a.span,
                                    alias: a.node.clone(),
                                    object: name.to_string(),
                                    other,
                                    other_line: first.text.span.line,
                                })
                            }
                            Some(_) => {}
                            None => keys.insert(TypeKey { text: a, owner: o }),
                        }
                    }
                }
            }
        }

        // Not needed past here: gone before the maps of the inheritance walk are built.
        drop(keys);
        let mut parents: HashMap<&str, &Name> = HashMap::default();
        for o in objects {
            let name = o.name.node.as_str();
            let owner = || format!("object type `{name}`");
            let mut seen = HashMap::default();
            let mut shared: Option<Span> = None;
            let mut others: Vec<(&'static str, Span)> = Vec::new();
            for p in &o.props {
                match &p.node {
                    ObjectProp::Label(f) => {
                        self.once(&mut seen, "label", p.span, owner);
                        self.field_terms(f);
                        others.push(("label", p.span));
                    }
                    ObjectProp::Inherit(inh) => {
                        let again = seen.contains_key("inherit");
                        self.once(&mut seen, "inherit", p.span, owner);
                        self.field_terms(&inh.via);
                        others.push(("inherit", p.span));
                        if again {
                            continue;
                        }
                        match types.get(inh.parent.node.as_str()) {
                            Some(parent) => {
                                if parent.props.iter().any(|p| p.node == ObjectProp::Shared) {
                                    self.push(CheckError::InheritFromShared {
                                        span: inh.parent.span,
                                        object: name.to_string(),
                                        parent: inh.parent.node.clone(),
                                        parent_line: parent.name.span.line,
                                    });
                                }
                                // Only the first declaration of a type takes part in cycles.
                                if types.get(name).is_some_and(|t| std::ptr::eq(*t, *o)) {
                                    parents.insert(name, &inh.parent);
                                }
                            }
                            None if self.broken_types.contains(&inh.parent.node) => {}
                            None => {
                                let suggestion = self.suggest(
                                    &inh.parent.node,
                                    objects.iter().map(|o| o.name.node.as_str()),
                                );
                                self.push(CheckError::UnknownObjectType {
                                    span: inh.parent.span,
                                    name: inh.parent.node.clone(),
                                    suggestion,
                                });
                            }
                        }
                    }
                    ObjectProp::Shared => {
                        self.once(&mut seen, "shared", p.span, owner);
                        shared.get_or_insert(p.span);
                    }
                    ObjectProp::Fallback(sources) => {
                        self.once(&mut seen, "fallback", p.span, owner);
                        self.fallbacks(sources);
                        others.push(("fallback", p.span));
                    }
                    ObjectProp::Alias(_) => {}
                }
            }
            if let Some(shared) = shared {
                for (prop, span) in others {
                    let (at, other) = if span.start > shared.start {
                        (span, shared)
                    } else {
                        (shared, span)
                    };
                    self.push(CheckError::SharedConflict {
                        span: at,
                        object: name.to_string(),
                        prop,
                        other_line: other.line,
                    });
                }
            }
        }

        let order: Vec<&str> = objects.iter().map(|o| o.name.node.as_str()).collect();
        for (cycle, span) in find_cycles(&order, |n| {
            parents.get(n).map(|p| (p.node.as_str(), p.span))
        }) {
            self.push(CheckError::InheritanceCycle { span, cycle });
        }
        types
    }

    pub(super) fn fallbacks(&mut self, sources: &[Spanned<FallbackSource>]) {
        let mut seen = HashSet::default();
        for s in sources {
            if s.node == FallbackSource::WorkingOrg && !self.working_org_header {
                self.push(CheckError::WorkingOrgWithoutHeader { span: s.span });
            }
            if !seen.insert(s.node) {
                self.push(CheckError::DuplicateFallback {
                    span: s.span,
                    source_kw: s.node.keyword(),
                });
            }
        }
        let mut after_unlabeled = sources
            .iter()
            .skip_while(|s| s.node != FallbackSource::Unlabeled)
            .skip(1);
        if let Some(s) = after_unlabeled.next() {
            self.push(CheckError::UnreachableFallback {
                span: s.span,
                source_kw: s.node.keyword(),
            });
        }
    }
}

/// A declared type name or alias, with the type that declares it.
#[derive(Clone, Copy)]
struct TypeKey<'p> {
    text: &'p Name,
    owner: &'p Object,
}

impl TypeKey<'_> {
    fn is_alias(&self) -> bool {
        !std::ptr::eq(self.text, &self.owner.name)
    }
}

/// The first declaration of each [`terms::type_key`].
struct TypeKeys<'p>(HashTable<TypeKey<'p>>);

fn key_hash(text: &str) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    for c in terms::type_key_chars(text) {
        h.write_u32(c.into());
    }
    h.finish()
}

impl<'p> TypeKeys<'p> {
    fn with_capacity(n: usize) -> Self {
        TypeKeys(HashTable::with_capacity(n))
    }

    /// The first name or alias with the same key as `text`.
    fn find(&self, text: &Name) -> Option<TypeKey<'p>> {
        let key = || terms::type_key_chars(&text.node);
        let same = |k: &TypeKey<'_>| terms::type_key_chars(&k.text.node).eq(key());
        self.0.find(key_hash(&text.node), same).copied()
    }

    /// Adds `k`, whose key is not in yet.
    fn insert(&mut self, k: TypeKey<'p>) {
        let rehash = |k: &TypeKey<'_>| key_hash(&k.text.node);
        self.0.insert_unique(key_hash(&k.text.node), k, rehash);
    }
}
