//! Graph walks over the policy's parent links: cycles in the org hierarchy and in inheritance,
//! and the length of inheritance chains.

use crate::syntax::ast::Span;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

/// Cycles in a graph where every node has at most one outgoing edge (`next`), each reported
/// once: named from its first member in `order`, with the span of that member's edge.
pub(super) fn find_cycles<'a>(
    order: &[&'a str],
    next: impl Fn(&str) -> Option<(&'a str, Span)>,
) -> Vec<(Vec<String>, Span)> {
    // 0 = unvisited, 1 = on the current walk, 2 = done.
    let mut state: HashMap<&str, u8> = HashMap::default();
    // Each node's first place in `order`, built at the first cycle (most graphs have none).
    let mut position: Option<HashMap<&str, usize>> = None;
    let mut cycles = Vec::new();
    for &start in order {
        if state.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut walk: Vec<&str> = Vec::new();
        let mut cur = start;
        loop {
            match state.get(cur).copied().unwrap_or(0) {
                0 => {
                    state.insert(cur, 1);
                    walk.push(cur);
                    match next(cur) {
                        Some((n, _)) => cur = n,
                        None => break,
                    }
                }
                1 => {
                    // `cur` is on this walk: the cycle is the walk from `cur` on.
                    let from = walk.iter().position(|n| *n == cur).unwrap_or(0);
                    let members = walk.get(from..).unwrap_or_default();
                    let position = position.get_or_insert_with(|| {
                        order
                            .iter()
                            .enumerate()
                            .rev()
                            .map(|(i, n)| (*n, i))
                            .collect()
                    });
                    let first = members
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, n)| position.get(**n).copied().unwrap_or(usize::MAX))
                        .map_or(0, |(i, _)| i);
                    let mut cycle: Vec<String> = members
                        .iter()
                        .cycle()
                        .skip(first)
                        .take(members.len())
                        .map(|n| (*n).to_string())
                        .collect();
                    if let (Some(head), Some((_, span))) = (
                        cycle.first().cloned(),
                        members.get(first).and_then(|n| next(n)),
                    ) {
                        cycle.push(head);
                        cycles.push((cycle, span));
                    }
                    break;
                }
                _ => break,
            }
        }
        for n in walk {
            state.insert(n, 2);
        }
    }
    cycles
}

/// The links from each node of `order` up to the end of its chain, in a graph where every
/// node has at most one parent; `None` for a node whose chain runs into a cycle (a cycle has no
/// length, and is reported on its own). Each node is walked once: linear in the graph's size.
pub(super) fn chain_depths<'a>(
    order: &[&'a str],
    parent: impl Fn(&str) -> Option<&'a str>,
) -> HashMap<&'a str, Option<usize>> {
    let mut depths: HashMap<&str, Option<usize>> = HashMap::default();
    for &start in order {
        // Walk up until a node whose depth is known, the top, or a node of this walk again.
        let mut walk: Vec<&str> = Vec::new();
        let mut on_walk: HashSet<&str> = HashSet::default();
        let mut cur = start;
        let mut above = loop {
            if let Some(&known) = depths.get(cur) {
                break known;
            }
            if !on_walk.insert(cur) {
                break None;
            }
            match parent(cur) {
                Some(p) => {
                    walk.push(cur);
                    cur = p;
                }
                None => {
                    depths.insert(cur, Some(0));
                    break Some(0);
                }
            }
        };
        while let Some(n) = walk.pop() {
            let d = above.map(|a| a + 1);
            depths.insert(n, d);
            above = d;
        }
    }
    depths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_depths_stop_at_cycles() {
        let edges: HashMap<&str, &str> =
            [("a", "b"), ("b", "c"), ("d", "e"), ("e", "d"), ("f", "d")]
                .into_iter()
                .collect();
        let depths = chain_depths(&["a", "b", "c", "d", "e", "f"], |n| edges.get(n).copied());
        let got: Vec<Option<usize>> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|n| depths[n])
            .collect();
        assert_eq!(got, vec![Some(2), Some(1), Some(0), None, None, None]);
    }

    #[test]
    fn cycles_are_named_from_their_first_member() {
        let edges: HashMap<&str, &str> = [("a", "b"), ("b", "c"), ("c", "b"), ("d", "d")]
            .into_iter()
            .collect();
        let cycles = find_cycles(&["a", "b", "c", "d"], |n| {
            edges.get(n).map(|m| (*m, Span::default()))
        });
        let names: Vec<Vec<String>> = cycles.into_iter().map(|(c, _)| c).collect();
        assert_eq!(names, vec![vec!["b", "c", "b"], vec!["d", "d"]]);
    }
}
