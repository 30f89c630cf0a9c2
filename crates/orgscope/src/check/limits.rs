//! The policy-side [`Limits`] checks: declaration count and inheritance depth.

use super::graph::chain_depths;
use crate::syntax::ast::{self, Item, ObjectProp, Span};
use crate::Limits;
use rustc_hash::FxHashMap as HashMap;

catalogue! {
/// A policy over one of the [`Limits`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// More declarations than `max_declarations`.
    #[error("policy has {count} declarations, over the limit of {limit}")]
    TooManyDeclarations("too_many_declarations", Error) {
        /// The first declaration past the limit.
        span: Span,
        /// How many there are.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An inheritance chain longer than `max_inheritance_depth`.
    #[error("inheritance chain from `{object}` is {depth} links long, over the limit of {limit}")]
    InheritanceTooDeep("inheritance_too_deep", Error) {
        /// The object type the chain starts from.
        span: Span,
        /// Its name.
        object: String,
        /// The chain's length.
        depth: usize,
        /// The limit.
        limit: usize,
    },
}
}

impl LimitError {
    /// How to fix the problem.
    fn help_text(&self) -> Option<String> {
        Some(match self {
            LimitError::TooManyDeclarations { .. } => {
                "split the policy, or raise the limit with `--max-declarations`".to_string()
            }
            LimitError::InheritanceTooDeep { .. } => {
                "shorten the chain, or raise the limit with `--max-inheritance-depth`".to_string()
            }
        })
    }
}

/// Checks a parsed policy against the policy-side limits.
pub(crate) fn check_policy(policy: &ast::Policy, limits: &Limits) -> Vec<LimitError> {
    let mut errors = Vec::new();
    let mut count = 0usize;
    for item in &policy.items {
        count += 1 + props(item);
        if count > limits.max_declarations {
            errors.push(LimitError::TooManyDeclarations {
                span: item.span(),
                count: policy.items.iter().map(|i| 1 + props(i)).sum(),
                limit: limits.max_declarations,
            });
            break;
        }
    }
    // Chain depth over the parent links, each type walked once; cycles are the checker's to
    // report.
    let objects = super::items(policy, |i| match i {
        Item::Object(o) => Some(o),
        _ => None,
    });
    let parents: HashMap<&str, &str> = objects
        .iter()
        .filter_map(|o| {
            o.props.iter().find_map(|p| match &p.node {
                ObjectProp::Inherit(inh) => Some((o.name.node.as_str(), inh.parent.node.as_str())),
                _ => None,
            })
        })
        .collect();
    let order: Vec<&str> = objects.iter().map(|o| o.name.node.as_str()).collect();
    let depths = chain_depths(&order, |n| parents.get(n).copied());
    for o in objects {
        let depth = depths.get(o.name.node.as_str()).copied().flatten();
        if let Some(depth) = depth.filter(|&d| d > limits.max_inheritance_depth) {
            errors.push(LimitError::InheritanceTooDeep {
                span: o.name.span,
                object: o.name.node.clone(),
                depth,
                limit: limits.max_inheritance_depth,
            });
        }
    }
    errors
}

fn props(item: &Item) -> usize {
    match item {
        Item::MultiOrg(m) => m.props.len(),
        Item::Orgs(o) => o.entries.len(),
        Item::Header(h) => h.props.len(),
        Item::Object(o) => o.props.len(),
        Item::Service(s) => s.endpoints.iter().map(|e| 1 + e.props.len()).sum(),
        Item::Fallback(_) | Item::Route(_) | Item::DefaultRoute(_) => 0,
    }
}
