//! Existing objects from a file (`orgscope eval --entities`): a JSON array or NDJSON of
//! `{type, id, org}`, indexed for lookup.

use crate::eval::{EntityLookup, Found};
use crate::limits::outside_strings;
use crate::request::Entity;
use crate::Policy;
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// A problem in an entities file, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct EntitiesError {
    /// 1-based line of the problem.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Existing objects indexed by (object type, id). Types are resolved against the policy when
/// loading, so a file may use aliases and a typo is an error rather than a missing parent.
#[derive(Debug, Default, Clone)]
pub struct EntityStore {
    /// Object type → id → org.
    by_type: HashMap<String, HashMap<String, Option<String>>>,
    count: usize,
}

impl EntityStore {
    /// Parses a JSON array of entities, or NDJSON (one entity per line, blank lines skipped).
    /// The same type (by name or alias) and id twice is an error: contradictory authority data.
    pub fn parse(policy: &Policy, text: &str) -> Result<EntityStore, EntitiesError> {
        let mut store = EntityStore::default();
        if text.trim_start().starts_with('[') {
            let entities: Vec<Entity> = serde_json::from_str(text).map_err(|e| EntitiesError {
                line: e.line(),
                message: strip_position(&e),
            })?;
            for (i, e) in entities.into_iter().enumerate() {
                store.insert(policy, e).map_err(|problem| {
                    let message = problem.describe(|ty, id| {
                        let first = serde_json::from_str::<Vec<Entity>>(text)
                            .ok()?
                            .iter()
                            .position(|e| same(policy, e, ty, id))?;
                        Some(element_line(text, first))
                    });
                    EntitiesError {
                        line: element_line(text, i),
                        message: format!("entity {i}: {message}"),
                    }
                })?;
            }
        } else {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let err = |message| EntitiesError {
                    line: i + 1,
                    message,
                };
                let e: Entity = serde_json::from_str(line).map_err(|e| err(strip_position(&e)))?;
                store.insert(policy, e).map_err(|problem| {
                    err(problem.describe(|ty, id| {
                        text.lines()
                            .position(|l| {
                                serde_json::from_str(l).is_ok_and(|e| same(policy, &e, ty, id))
                            })
                            .map(|n| n + 1)
                    }))
                })?;
            }
        }
        Ok(store)
    }

    fn insert(&mut self, policy: &Policy, e: Entity) -> Result<(), Problem> {
        let max = policy.limits().max_file_entities;
        if self.len() >= max {
            return Err(Problem::Other(format!("more than {max} entities")));
        }
        let Some(ty) = policy.type_name(&e.object_type) else {
            return Err(Problem::Other(format!(
                "unknown object type `{}`",
                e.object_type
            )));
        };
        if let Some(org) = e.org.as_deref().filter(|o| !policy.knows_org(o)) {
            return Err(Problem::Other(format!(
                "org `{}` is not in the policy's `orgs` directory",
                org.trim()
            )));
        }
        let ids = self.by_type.entry(ty.to_string()).or_default();
        match ids.entry(e.id) {
            Entry::Occupied(o) => Err(Problem::Duplicate(ty.to_string(), o.key().clone())),
            Entry::Vacant(v) => {
                v.insert(e.org);
                self.count += 1;
                Ok(())
            }
        }
    }

    /// How many entities the store holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Why an entity could not be added.
enum Problem {
    /// The declared type and the id of an entity already there.
    Duplicate(String, String),
    Other(String),
}

impl Problem {
    /// The message; `first_line` finds where the first of two duplicates is.
    fn describe(self, first_line: impl Fn(&str, &str) -> Option<usize>) -> String {
        match self {
            Problem::Other(message) => message,
            Problem::Duplicate(ty, id) => match first_line(&ty, &id) {
                Some(line) => format!("`{ty}` `{id}` is already listed on line {line}"),
                None => format!("`{ty}` `{id}` is already listed"),
            },
        }
    }
}

/// Whether `e` is of type `ty` (declared name) with id `id`.
fn same(policy: &Policy, e: &Entity, ty: &str, id: &str) -> bool {
    e.id == id && policy.type_name(&e.object_type) == Some(ty)
}

/// The line of the `index`th element of the JSON array `text`.
fn element_line(text: &str, index: usize) -> usize {
    let (mut depth, mut expecting, mut count) = (0usize, false, 0usize);
    let line_of = |at: usize| {
        1 + text
            .as_bytes()
            .iter()
            .take(at)
            .filter(|&&b| b == b'\n')
            .count()
    };
    for (at, b) in outside_strings(text.as_bytes()) {
        if depth == 1 && expecting && !b.is_ascii_whitespace() {
            if count == index {
                return line_of(at);
            }
            count += 1;
            expecting = false;
        }
        match b {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        expecting |= depth == 1 && matches!(b, b'[' | b',');
    }
    1
}

fn strip_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    full.rsplit_once(" at line ")
        .map_or(full.clone(), |(m, _)| m.to_string())
}

impl EntityLookup for EntityStore {
    fn find(&self, object_type: &str, id: &str) -> Found<'_> {
        match self.by_type.get(object_type).and_then(|ids| ids.get(id)) {
            None => Found::Missing,
            Some(None) => Found::Unlabeled,
            Some(Some(org)) => Found::Org(Cow::Borrowed(org)),
        }
    }
}
