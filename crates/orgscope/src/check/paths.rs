//! The overlap index: a trie of path templates per method, to find duplicate and overlapping
//! templates without comparing every pair.

use crate::syntax::ast::{Method, Segment};
use rustc_hash::FxHashMap as HashMap;

/// How many trie nodes the overlap search may visit for one policy. Realistic policies need a
/// few per route; only an adversarial policy (tens of thousands of routes that all start with a
/// parameter) runs out, and then overlaps beyond the budget go unreported instead of the check
/// taking quadratic time. Exact duplicates are always found.
const OVERLAP_BUDGET: usize = 20_000_000;

/// Route or endpoint clash found by [`PathIndex::find`]: method, index of the earlier entry, and
/// for overlaps an example path both match.
pub(super) enum Clash {
    Duplicate(Method, usize),
    Overlap(Method, usize, String),
}

#[derive(Default)]
struct Node {
    literals: HashMap<String, usize>,
    param: Option<usize>,
    /// The first entry whose template ends here.
    terminal: Option<usize>,
}

/// A trie of path templates per method, to find duplicate and overlapping templates without
/// comparing every pair.
pub(super) struct PathIndex {
    roots: HashMap<Method, usize>,
    nodes: Vec<Node>,
    budget: usize,
}

impl Default for PathIndex {
    fn default() -> Self {
        PathIndex {
            roots: HashMap::default(),
            nodes: Vec::new(),
            budget: OVERLAP_BUDGET,
        }
    }
}

impl PathIndex {
    /// The earliest entry that clashes with `segments` for one of `methods`; duplicates first.
    pub(super) fn find(&mut self, methods: &[Method], segments: &[Segment]) -> Option<Clash> {
        let mut dup: Option<(Method, usize)> = None;
        let mut overlap: Option<(Method, usize, String)> = None;
        for &m in methods {
            let Some(&root) = self.roots.get(&m) else {
                continue;
            };
            if let Some(i) = self.exact(root, segments) {
                if dup.as_ref().map_or(true, |(_, d)| i < *d) {
                    dup = Some((m, i));
                }
                continue;
            }
            if let Some((i, example)) = self.overlapping(root, segments) {
                if overlap.as_ref().map_or(true, |(_, o, _)| i < *o) {
                    overlap = Some((m, i, example));
                }
            }
        }
        match (dup, overlap) {
            (Some((m, i)), _) => Some(Clash::Duplicate(m, i)),
            (None, Some((m, i, ex))) => Some(Clash::Overlap(m, i, ex)),
            (None, None) => None,
        }
    }

    fn exact(&self, root: usize, segments: &[Segment]) -> Option<usize> {
        let mut node = self.nodes.get(root)?;
        for s in segments {
            let next = match s {
                Segment::Literal(l) => node.literals.get(l).copied(),
                Segment::Param(_) => node.param,
            }?;
            node = self.nodes.get(next)?;
        }
        node.terminal
    }

    /// The earliest entry that matches some path `segments` also matches, with such a path.
    fn overlapping(&mut self, root: usize, segments: &[Segment]) -> Option<(usize, String)> {
        // Depth-first; each stack entry carries the example path so far.
        let mut stack: Vec<(usize, usize, String)> = vec![(root, 0, String::new())];
        let mut best: Option<(usize, String)> = None;
        while let Some((id, depth, example)) = stack.pop() {
            if self.budget == 0 {
                break;
            }
            self.budget -= 1;
            let Some(node) = self.nodes.get(id) else {
                continue;
            };
            let Some(seg) = segments.get(depth) else {
                if let Some(t) = node.terminal {
                    if best.as_ref().map_or(true, |(b, _)| t < *b) {
                        let example = if example.is_empty() {
                            "/".to_string()
                        } else {
                            example
                        };
                        best = Some((t, example));
                    }
                }
                continue;
            };
            match seg {
                Segment::Literal(l) => {
                    if let Some(&n) = node.literals.get(l) {
                        stack.push((n, depth + 1, format!("{example}/{l}")));
                    }
                    if let Some(n) = node.param {
                        stack.push((n, depth + 1, format!("{example}/{l}")));
                    }
                }
                Segment::Param(p) => {
                    for (l, &n) in &node.literals {
                        stack.push((n, depth + 1, format!("{example}/{l}")));
                    }
                    if let Some(n) = node.param {
                        stack.push((n, depth + 1, format!("{example}/{{{p}}}")));
                    }
                }
            }
        }
        best
    }

    pub(super) fn insert(&mut self, methods: &[Method], segments: &[Segment], entry: usize) {
        for &m in methods {
            let root = match self.roots.get(&m) {
                Some(&r) => r,
                None => {
                    self.nodes.push(Node::default());
                    let r = self.nodes.len() - 1;
                    self.roots.insert(m, r);
                    r
                }
            };
            let mut id = root;
            for s in segments {
                let existing = self.nodes.get(id).and_then(|n| match s {
                    Segment::Literal(l) => n.literals.get(l).copied(),
                    Segment::Param(_) => n.param,
                });
                id = match existing {
                    Some(next) => next,
                    None => {
                        let next = self.nodes.len();
                        self.nodes.push(Node::default());
                        if let Some(n) = self.nodes.get_mut(id) {
                            match s {
                                Segment::Literal(l) => {
                                    n.literals.insert(l.clone(), next);
                                }
                                Segment::Param(_) => n.param = Some(next),
                            }
                        }
                        next
                    }
                };
            }
            if let Some(n) = self.nodes.get_mut(id) {
                n.terminal.get_or_insert(entry);
            }
        }
    }
}
