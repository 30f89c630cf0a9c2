//! The overlap index: finds, for a new path template, the earliest earlier template with a
//! method in common that is the same or can match the same path, without comparing every pair.
//!
//! Two templates can match the same path when they have as many segments and, at every
//! position, equal literals or at least one parameter. Templates of one method and length are
//! grouped by where their parameters are (their *mask*). A new template with mask `T` matches a
//! member of group `M` exactly when both have the same literals outside `M ∪ T`; so each group
//! keeps, per wildcard set `M ∪ T` asked about, a hash of its members' literals outside it, and
//! a query is one hash lookup per group. That is linear in the policy's size while a policy's
//! templates put their parameters in few distinct places (real APIs do); every step is counted
//! against a budget, and running out of it is reported, never a silent pass.

use crate::syntax::ast::{Method, Segment};
use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap as HashMap};
use std::hash::{BuildHasher, Hash, Hasher};

/// A segment as compared: a literal, or `None` for any parameter.
type Key<'p> = Option<&'p str>;

fn key(s: &Segment) -> Key<'_> {
    match s {
        Segment::Literal(l) => Some(l),
        Segment::Param(_) => None,
    }
}

/// Whether two templates are the same, parameters compared as equal.
fn same_shape(a: &[Segment], b: &[Segment]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| key(x) == key(y))
}

/// The hash of a method and a template's shape (its segments' [`Key`]s).
fn shape_hash(m: Method, segments: &[Segment]) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    m.hash(&mut h);
    segments.len().hash(&mut h);
    for s in segments {
        key(s).hash(&mut h);
    }
    h.finish()
}

/// The positions of a template's parameters, ascending.
type Mask = Vec<usize>;

fn mask(segments: &[Segment]) -> Mask {
    (0..segments.len())
        .filter(|&i| matches!(segments.get(i), Some(Segment::Param(_))))
        .collect()
}

/// `a ∪ b`, both ascending.
fn union(a: &[usize], b: &[usize]) -> Mask {
    let mut out: Mask = a.iter().chain(b).copied().collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A template's literals outside the positions `wild` (ascending), which cover its parameters.
fn project<'a>(segments: &'a [Segment], wild: &'a [usize]) -> impl Iterator<Item = &'a str> {
    let mut wild = wild.iter().peekable();
    segments.iter().enumerate().filter_map(move |(i, s)| {
        if wild.next_if_eq(&&i).is_some() {
            return None;
        }
        match s {
            Segment::Literal(l) => Some(l.as_str()),
            Segment::Param(_) => None,
        }
    })
}

fn projection_hash(segments: &[Segment], wild: &[usize]) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    for l in project(segments, wild) {
        l.hash(&mut h);
    }
    h.finish()
}

/// Templates of one method and length with their parameters in the same places.
struct Group {
    mask: Mask,
    /// Entry numbers, ascending.
    members: Vec<usize>,
    /// Per wildcard set asked about: the earliest member for each distinct projection of the
    /// members' literals outside it. Entry numbers only, hashed and compared by projecting
    /// their templates: a large policy's view has a member per template, and a vector of
    /// literals each would weigh as much as the template.
    views: HashMap<Mask, HashTable<usize>>,
}

/// The view `view` of wildcard set `wild`: the entry whose projection equals that of
/// `segments`, hashed `hash`.
fn view_find(
    view: &HashTable<usize>,
    entries: &[&[Segment]],
    wild: &[usize],
    segments: &[Segment],
    hash: u64,
) -> Option<usize> {
    let same = |&i: &usize| {
        entries
            .get(i)
            .is_some_and(|other| project(other, wild).eq(project(segments, wild)))
    };
    view.find(hash, same).copied()
}

/// Adds `entry` (whose template is `entries[entry]`) to `view`, unless an earlier entry with the
/// same projection is there.
fn view_add(view: &mut HashTable<usize>, entries: &[&[Segment]], wild: &[usize], entry: usize) {
    let Some(&segments) = entries.get(entry) else {
        return;
    };
    let hash = projection_hash(segments, wild);
    if view_find(view, entries, wild, segments, hash).is_none() {
        let rehash = |&i: &usize| entries.get(i).map_or(0, |s| projection_hash(s, wild));
        view.insert_unique(hash, entry, rehash);
    }
}

/// What [`PathIndex::add`] found for a new template.
pub(super) enum Clash {
    /// The same template for a method: the method and the earlier entry.
    Duplicate(Method, usize),
    /// An earlier entry that can match the same path: the method, the entry, and such a path.
    Overlap(Method, usize, String),
    /// The budget ran out while looking for overlaps, after this many steps.
    GaveUp(usize),
}

/// The templates indexed so far, per method.
#[derive(Default)]
pub(super) struct PathIndex<'p> {
    /// Every entry's segments, by entry number.
    entries: Vec<&'p [Segment]>,
    /// The first entry of each (method, template), parameters compared as equal, hashed by
    /// [`shape_hash`].
    exact: HashTable<(Method, usize)>,
    /// Groups by (method, segment count).
    groups: HashMap<(Method, usize), Vec<Group>>,
}

impl<'p> PathIndex<'p> {
    /// An empty index with room for `n` entries.
    pub(super) fn with_capacity(n: usize) -> Self {
        PathIndex {
            entries: Vec::with_capacity(n),
            ..PathIndex::default()
        }
    }

    /// Indexes `segments` as entry number `entry` (entries are added in order) and returns the
    /// earliest earlier entry that clashes with it for one of `methods`, duplicates first.
    pub(super) fn add(
        &mut self,
        methods: &[Method],
        segments: &'p [Segment],
        entry: usize,
        budget: &mut Budget,
    ) -> Option<Clash> {
        let clash = self.find(methods, segments, budget);
        self.insert(methods, segments, entry, budget);
        clash
    }

    /// The first entry of `segments`' shape for method `m`.
    fn exact(&self, m: Method, segments: &[Segment]) -> Option<usize> {
        let same = |&(em, i): &(Method, usize)| {
            em == m && self.entries.get(i).is_some_and(|e| same_shape(e, segments))
        };
        self.exact
            .find(shape_hash(m, segments), same)
            .map(|&(_, i)| i)
    }

    fn find(
        &mut self,
        methods: &[Method],
        segments: &'p [Segment],
        budget: &mut Budget,
    ) -> Option<Clash> {
        let duplicate = methods
            .iter()
            .filter_map(|&m| Some((m, self.exact(m, segments)?)))
            .min_by_key(|&(_, i)| i);
        if let Some((m, i)) = duplicate {
            return Some(Clash::Duplicate(m, i));
        }
        if budget.exhausted {
            return budget.report();
        }
        let own = mask(segments);
        let mut best: Option<(Method, usize)> = None;
        for &m in methods {
            let Some(groups) = self.groups.get_mut(&(m, segments.len())) else {
                continue;
            };
            for g in groups.iter_mut() {
                let wild = union(&g.mask, &own);
                if !g.views.contains_key(&wild) {
                    let mut view = HashTable::new();
                    for &i in &g.members {
                        let Some(other) = self.entries.get(i) else {
                            continue;
                        };
                        if budget.spend(other.len()).is_err() {
                            return budget.report();
                        }
                        view_add(&mut view, &self.entries, &wild, i);
                    }
                    g.views.insert(wild.clone(), view);
                }
                if budget.spend(segments.len()).is_err() {
                    return budget.report();
                }
                let found = g.views.get(&wild).and_then(|v| {
                    let hash = projection_hash(segments, &wild);
                    view_find(v, &self.entries, &wild, segments, hash)
                });
                if let Some(i) = found {
                    if best.is_none_or(|(_, b)| i < b) {
                        best = Some((m, i));
                    }
                }
            }
        }
        let (m, i) = best?;
        let other = self.entries.get(i)?;
        Some(Clash::Overlap(m, i, example(segments, other)))
    }

    /// Indexes `segments` as entry number `entry` for `methods`; an exact duplicate of an
    /// earlier entry is not indexed again (that entry already stands for it).
    fn insert(
        &mut self,
        methods: &[Method],
        segments: &'p [Segment],
        entry: usize,
        budget: &mut Budget,
    ) {
        if self.entries.len() <= entry {
            self.entries.resize(entry + 1, &[]);
        }
        if let Some(e) = self.entries.get_mut(entry) {
            *e = segments;
        }
        let own = mask(segments);
        for &m in methods {
            if self.exact(m, segments).is_some() {
                continue;
            }
            let entries = &self.entries;
            let rehash = |&(m, i): &(Method, usize)| entries.get(i).map_or(0, |s| shape_hash(m, s));
            self.exact
                .insert_unique(shape_hash(m, segments), (m, entry), rehash);
            let groups = self.groups.entry((m, segments.len())).or_default();
            let g = match groups.iter().position(|g| g.mask == own) {
                Some(at) => groups.get_mut(at),
                None => {
                    groups.push(Group {
                        mask: own.clone(),
                        members: Vec::new(),
                        views: HashMap::default(),
                    });
                    groups.last_mut()
                }
            };
            let Some(g) = g else { continue };
            g.members.push(entry);
            // Once the search has given up, the views are never read again.
            if budget.exhausted {
                continue;
            }
            for (wild, view) in g.views.iter_mut() {
                if budget.spend(segments.len()).is_err() {
                    break;
                }
                view_add(view, &self.entries, wild, entry);
            }
        }
    }
}

/// A path both templates match: their literals, and `{name}` where both have a parameter.
fn example(a: &[Segment], b: &[Segment]) -> String {
    if a.is_empty() {
        return "/".to_string();
    }
    let mut out = String::new();
    for (x, y) in a.iter().zip(b) {
        out.push('/');
        match (x, y) {
            (Segment::Literal(l), _) | (Segment::Param(_), Segment::Literal(l)) => out.push_str(l),
            (Segment::Param(p), Segment::Param(_)) => {
                out.push('{');
                out.push_str(p);
                out.push('}');
            }
        }
    }
    out
}

/// Steps the overlap search may still take in one policy (routes and endpoints together).
pub(super) struct Budget {
    left: usize,
    /// Steps taken so far.
    spent: usize,
    /// Whether the steps ran out: from then on only exact duplicates are looked for.
    exhausted: bool,
    /// Whether that has been reported (once per policy).
    reported: bool,
}

impl Budget {
    pub(super) fn new(steps: usize) -> Self {
        Budget {
            left: steps,
            spent: 0,
            exhausted: false,
            reported: false,
        }
    }

    fn spend(&mut self, steps: usize) -> Result<(), ()> {
        if steps > self.left {
            self.spent += self.left;
            self.left = 0;
            self.exhausted = true;
            return Err(());
        }
        self.left -= steps;
        self.spent += steps;
        Ok(())
    }

    /// [`Clash::GaveUp`] the first time it is asked for, then nothing.
    fn report(&mut self) -> Option<Clash> {
        if self.reported {
            return None;
        }
        self.reported = true;
        Some(Clash::GaveUp(self.spent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The earliest clash by comparing every earlier template, duplicates first.
    fn naive(all: &[(Vec<Method>, Vec<Segment>)], at: usize) -> Option<(bool, usize)> {
        let (methods, segments) = &all[at];
        let keys: Vec<Key<'_>> = segments.iter().map(key).collect();
        let earlier = || {
            all[..at].iter().enumerate().filter(|(_, (ms, s))| {
                ms.iter().any(|m| methods.contains(m)) && s.len() == keys.len()
            })
        };
        let same = |s: &[Segment]| s.iter().map(key).eq(keys.iter().copied());
        if let Some((i, _)) = earlier().find(|(_, (_, s))| same(s)) {
            return Some((true, i));
        }
        let overlaps = |s: &[Segment]| {
            s.iter().zip(&keys).all(|(a, b)| match (key(a), b) {
                (Some(a), Some(b)) => a == *b,
                _ => true,
            })
        };
        earlier()
            .find(|(_, (_, s))| overlaps(s))
            .map(|(i, _)| (false, i))
    }

    #[test]
    fn finds_the_same_clashes_as_comparing_every_pair() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..200 {
            let all: Vec<(Vec<Method>, Vec<Segment>)> = (0..30)
                .map(|_| {
                    let methods = match next(3) {
                        0 => vec![Method::Get],
                        1 => vec![Method::Post],
                        _ => vec![Method::Get, Method::Post],
                    };
                    let segments = (0..next(4))
                        .map(|_| match next(3) {
                            0 => Segment::Param(format!("p{}", next(2))),
                            n => Segment::Literal(format!("l{n}")),
                        })
                        .collect();
                    (methods, segments)
                })
                .collect();
            let mut index = PathIndex::default();
            let mut budget = Budget::new(usize::MAX);
            for (at, (methods, segments)) in all.iter().enumerate() {
                let got = match index.add(methods, segments, at, &mut budget) {
                    Some(Clash::Duplicate(_, i)) => Some((true, i)),
                    Some(Clash::Overlap(_, i, _)) => Some((false, i)),
                    Some(Clash::GaveUp(_)) => panic!("gave up"),
                    None => None,
                };
                assert_eq!(got, naive(&all, at), "{all:?} at {at}");
            }
        }
    }

    #[test]
    fn the_example_is_matched_by_both() {
        let a = [Segment::Param("x".into()), Segment::Literal("b".into())];
        let b = [Segment::Literal("a".into()), Segment::Param("y".into())];
        assert_eq!(example(&a, &b), "/a/b");
        assert_eq!(example(&a[..1], &b[1..]), "/{x}");
        assert_eq!(example(&[], &[]), "/");
    }
}
