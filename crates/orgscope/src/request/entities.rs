//! Existing objects from a file (`orgscope eval --entities`): a JSON array or NDJSON of
//! `{type, id, org}`, indexed for lookup.

use crate::eval::{EntityLookup, Found};
use crate::request::Entity;
use crate::Policy;
use std::borrow::Cow;
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
    pub fn parse(policy: &Policy, text: &str) -> Result<EntityStore, EntitiesError> {
        let mut store = EntityStore::default();
        if text.trim_start().starts_with('[') {
            let entities: Vec<Entity> = serde_json::from_str(text).map_err(|e| EntitiesError {
                line: e.line(),
                message: strip_position(&e),
            })?;
            // An array has no line per entity; report the array's position of each by index.
            for (i, e) in entities.into_iter().enumerate() {
                store.insert(policy, e).map_err(|message| EntitiesError {
                    line: 1,
                    message: format!("entity {i}: {message}"),
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
                store.insert(policy, e).map_err(err)?;
            }
        }
        Ok(store)
    }

    fn insert(&mut self, policy: &Policy, e: Entity) -> Result<(), String> {
        let max = policy.limits().max_file_entities;
        if self.len() >= max {
            return Err(format!("more than {max} entities"));
        }
        let Some(ty) = policy.type_name(&e.object_type) else {
            return Err(format!("unknown object type `{}`", e.object_type));
        };
        let ids = self.by_type.entry(ty.to_string()).or_default();
        if ids.insert(e.id, e.org).is_none() {
            self.count += 1;
        }
        Ok(())
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
