//! Resource limits: how large a policy or a request may be before it is refused with a clear
//! error instead of costing unbounded time or memory.

use crate::diag::Diagnose;
use crate::syntax::ast::{self, Item, ObjectProp, Span};
use rustc_hash::FxHashMap as HashMap;

/// Every limit orgscope enforces. The defaults suit a gateway; each can be changed from the
/// crate (`Policy::from_source_with`, `Policy::from_file_with`) and from the CLI (`--max-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one policy file.
    pub max_policy_bytes: usize,
    /// Top-level declarations plus properties in one policy.
    pub max_declarations: usize,
    /// Links in the longest `inherit` chain (invoice_item → invoice → account is 2).
    pub max_inheritance_depth: usize,
    /// Bytes of one request description (one NDJSON line or one document).
    pub max_request_bytes: usize,
    /// Nesting of arrays and objects in a request description.
    pub max_json_depth: usize,
    /// Bytes of one org header (all its values), unless the policy sets a smaller `max_length`.
    pub max_header_bytes: usize,
    /// Orgs named in one org header, unless the policy sets a smaller `max_items`.
    pub max_header_items: usize,
    /// Objects created by one request.
    pub max_objects: usize,
    /// Entities in one request description.
    pub max_request_entities: usize,
    /// Entities in one `--entities` file.
    pub max_file_entities: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    /// The defaults.
    pub const DEFAULT: Limits = Limits {
        max_policy_bytes: 16 << 20,
        max_declarations: 1_000_000,
        max_inheritance_depth: 32,
        max_request_bytes: 1 << 20,
        max_json_depth: 64,
        max_header_bytes: 8 << 10,
        max_header_items: 1_000,
        max_objects: 1_000,
        max_request_entities: 10_000,
        max_file_entities: 50_000_000,
    };
}

/// A policy over one of the [`Limits`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// More declarations than `max_declarations`.
    #[error("policy has {count} declarations, over the limit of {limit}")]
    TooManyDeclarations {
        /// The first declaration past the limit.
        span: Span,
        /// How many there are.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An inheritance chain longer than `max_inheritance_depth`.
    #[error("inheritance chain from `{object}` is {depth} links long, over the limit of {limit}")]
    InheritanceTooDeep {
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

impl Diagnose for LimitError {
    fn code(&self) -> &'static str {
        match self {
            LimitError::TooManyDeclarations { .. } => "too_many_declarations",
            LimitError::InheritanceTooDeep { .. } => "inheritance_too_deep",
        }
    }

    fn span(&self) -> Span {
        match self {
            LimitError::TooManyDeclarations { span, .. }
            | LimitError::InheritanceTooDeep { span, .. } => *span,
        }
    }

    fn help(&self) -> Option<String> {
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
    // Chain depth over the parent links; cycles are the checker's to report, so a walk stops
    // at the limit rather than looping.
    let parents: HashMap<&str, &str> = policy
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Object(o) => o.props.iter().find_map(|p| match &p.node {
                ObjectProp::Inherit(inh) => Some((o.name.node.as_str(), inh.parent.node.as_str())),
                _ => None,
            }),
            _ => None,
        })
        .collect();
    for item in &policy.items {
        let Item::Object(o) = item else { continue };
        let mut depth = 0;
        let mut seen = vec![o.name.node.as_str()];
        let mut cur = o.name.node.as_str();
        while let Some(&p) = parents.get(cur) {
            if seen.contains(&p) {
                // A cycle: the checker reports it; its length is not a depth.
                depth = 0;
                break;
            }
            depth += 1;
            if depth > limits.max_inheritance_depth {
                break;
            }
            seen.push(p);
            cur = p;
        }
        if depth > limits.max_inheritance_depth {
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

/// The deepest nesting of arrays and objects in JSON text, stopping early past `limit`.
/// Brackets inside strings do not count.
pub(crate) fn json_depth_exceeds(text: &[u8], limit: usize) -> bool {
    // Depth cannot exceed the number of opening brackets: count them first (a loop the
    // compiler vectorizes), and scan properly only when that could be over the limit.
    let opening = text.iter().filter(|&&b| b == b'[' || b == b'{').count();
    if opening <= limit {
        return false;
    }
    let mut depth = 0usize;
    for (_, b) in outside_strings(text) {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The bytes of JSON text that are not inside a string (an opening quote is), with their
/// offsets.
pub(crate) fn outside_strings(text: &[u8]) -> impl Iterator<Item = (usize, u8)> + '_ {
    let (mut in_string, mut escaped) = (false, false);
    text.iter().enumerate().filter_map(move |(at, &b)| {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            return None;
        }
        in_string = b == b'"';
        Some((at, b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_ignores_brackets_in_strings() {
        assert!(!json_depth_exceeds(br#"{"a": "[[[[[[", "b": [1]}"#, 2));
        assert!(json_depth_exceeds(br#"{"a": [[[1]]]}"#, 3));
        assert!(!json_depth_exceeds(br#"{"a": "\"[[[[" }"#, 1));
    }
}
