//! Org sets for evaluation: over the interned directory a bitset, or the sorted indexes of a
//! small set in a large directory; sorted slices for opaque orgs.

use crate::compile::OrgIdx;

/// An org during evaluation: interned when the policy has a directory, else the request's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Org<'r> {
    Known(OrgIdx),
    Opaque(&'r str),
}

/// A set of orgs in canonical order: directory order for interned orgs, byte order for opaque
/// ones. Directories of up to 128 orgs fit in a register, so the common case never allocates;
/// in a larger directory a set costs what it holds, not what the directory holds, until it is
/// big enough for a bitset to be smaller.
#[derive(Debug, Clone)]
pub(crate) enum OrgSet<'r> {
    Small(u128),
    /// Sorted and free of duplicates once normalized; `directory` is the directory's size.
    Sparse {
        ids: Vec<OrgIdx>,
        directory: u32,
    },
    Dense(Vec<u64>),
    /// Sorted and free of duplicates once normalized.
    Opaque(Vec<&'r str>),
}

/// A sparse set turns into a bitset when its indexes would take more room (32 bits each).
fn dense_is_smaller(len: usize, directory: u32) -> bool {
    len.saturating_mul(32) > directory as usize
}

impl<'r> OrgSet<'r> {
    /// An empty set for a policy with a directory of `size` orgs, or without one.
    pub fn empty(directory_size: Option<usize>) -> OrgSet<'r> {
        match directory_size {
            Some(n) if n <= 128 => OrgSet::Small(0),
            Some(n) => OrgSet::Sparse {
                ids: Vec::new(),
                directory: u32::try_from(n).unwrap_or(u32::MAX),
            },
            None => OrgSet::Opaque(Vec::new()),
        }
    }

    /// Adds an org; sets must be [`OrgSet::normalize`]d after a run of inserts. The small set,
    /// the common case, is inlined: a decision inserts every org it resolves.
    #[inline]
    pub fn insert(&mut self, o: Org<'r>) {
        match (&mut *self, o) {
            (OrgSet::Small(bits), Org::Known(i)) if i < 128 => *bits |= 1 << i,
            _ => self.insert_large(o),
        }
    }

    /// [`Self::insert`] beyond the small set.
    fn insert_large(&mut self, o: Org<'r>) {
        match (&mut *self, o) {
            (OrgSet::Sparse { ids, directory }, Org::Known(i)) if i < *directory => {
                ids.push(i);
                if dense_is_smaller(ids.len(), *directory) {
                    let mut words = vec![0u64; (*directory as usize).div_ceil(64)];
                    for &j in ids.iter() {
                        set_bit(&mut words, j);
                    }
                    *self = OrgSet::Dense(words);
                }
            }
            (OrgSet::Dense(words), Org::Known(i)) => set_bit(words, i),
            (OrgSet::Opaque(v), Org::Opaque(s)) => v.push(s),
            _ => {}
        }
    }

    /// The set, if it borrows nothing: interned orgs only.
    pub fn into_interned(self) -> Option<OrgSet<'static>> {
        match self {
            OrgSet::Small(bits) => Some(OrgSet::Small(bits)),
            OrgSet::Sparse { ids, directory } => Some(OrgSet::Sparse { ids, directory }),
            OrgSet::Dense(words) => Some(OrgSet::Dense(words)),
            OrgSet::Opaque(_) => None,
        }
    }

    /// Sorts and deduplicates a set after inserts.
    #[inline]
    pub fn normalize(&mut self) {
        match self {
            OrgSet::Opaque(v) => {
                v.sort_unstable();
                v.dedup();
            }
            OrgSet::Sparse { ids, .. } => {
                ids.sort_unstable();
                ids.dedup();
            }
            OrgSet::Small(_) | OrgSet::Dense(_) => {}
        }
    }

    #[inline]
    pub fn contains(&self, o: Org<'_>) -> bool {
        match (self, o) {
            (OrgSet::Small(bits), Org::Known(i)) => i < 128 && bits & (1 << i) != 0,
            _ => self.contains_large(o),
        }
    }

    /// [`Self::contains`] beyond the small set.
    fn contains_large(&self, o: Org<'_>) -> bool {
        match (self, o) {
            (OrgSet::Sparse { ids, .. }, Org::Known(i)) => ids.binary_search(&i).is_ok(),
            (OrgSet::Dense(words), Org::Known(i)) => words
                .get(i as usize / 64)
                .is_some_and(|w| w & (1 << (i % 64)) != 0),
            (OrgSet::Opaque(v), Org::Opaque(s)) => v.binary_search(&s).is_ok(),
            _ => false,
        }
    }

    /// The member spelled `s`, borrowed from the set (opaque sets only).
    pub fn find_opaque(&self, s: &str) -> Option<Org<'r>> {
        match self {
            OrgSet::Opaque(v) => v
                .binary_search(&s)
                .ok()
                .and_then(|i| v.get(i))
                .map(|s| Org::Opaque(s)),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            OrgSet::Small(bits) => bits.count_ones() as usize,
            OrgSet::Sparse { ids, .. } => ids.len(),
            OrgSet::Dense(words) => words.iter().map(|w| w.count_ones() as usize).sum(),
            OrgSet::Opaque(v) => v.len(),
        }
    }

    /// The one org of a set of exactly one.
    pub fn only(&self) -> Option<Org<'r>> {
        let mut it = self.iter();
        match (it.next(), it.next()) {
            (Some(o), None) => Some(o),
            _ => None,
        }
    }

    /// The orgs in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = Org<'r>> + '_ {
        let (small, sparse, words, opaque): (u128, &[OrgIdx], &[u64], &[&'r str]) = match self {
            OrgSet::Small(b) => (*b, &[], &[], &[]),
            OrgSet::Sparse { ids, .. } => (0, ids.as_slice(), &[], &[]),
            OrgSet::Dense(w) => (0, &[], w.as_slice(), &[]),
            OrgSet::Opaque(v) => (0, &[], &[], v.as_slice()),
        };
        let dense = words
            .iter()
            .enumerate()
            .flat_map(|(wi, &w)| ones(u128::from(w)).map(move |b| wi as u32 * 64 + b));
        ones(small)
            .chain(sparse.iter().copied())
            .chain(dense)
            .map(Org::Known)
            .chain(opaque.iter().map(|s| Org::Opaque(s)))
    }
}

fn set_bit(words: &mut [u64], i: OrgIdx) {
    if let Some(w) = words.get_mut(i as usize / 64) {
        *w |= 1 << (i % 64);
    }
}

/// The positions of the set bits, lowest first.
fn ones(mut bits: u128) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        if bits == 0 {
            return None;
        }
        let i = bits.trailing_zeros();
        bits &= bits - 1;
        Some(i)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitsets_and_opaque_sets_agree_on_membership_and_order() {
        for size in [Some(4), Some(300), Some(100_000)] {
            let mut s = OrgSet::empty(size);
            for i in [3, 1, 3] {
                s.insert(Org::Known(i));
            }
            s.normalize();
            assert_eq!(s.len(), 2);
            assert_eq!(s.iter().collect::<Vec<_>>(), [Org::Known(1), Org::Known(3)]);
            assert!(s.contains(Org::Known(3)) && !s.contains(Org::Known(2)));
            assert_eq!(s.only(), None);
        }
        // A sparse set that grows past its break-even point becomes a bitset, same members.
        let mut s = OrgSet::empty(Some(1000));
        for i in (0..40).rev().chain([7, 999]) {
            s.insert(Org::Known(i));
        }
        s.normalize();
        assert!(matches!(s, OrgSet::Dense(_)));
        assert_eq!(s.len(), 41);
        assert_eq!(s.iter().next(), Some(Org::Known(0)));
        assert!(s.contains(Org::Known(999)) && !s.contains(Org::Known(998)));
        let mut s = OrgSet::empty(None);
        for o in ["b", "a", "b"] {
            s.insert(Org::Opaque(o));
        }
        s.normalize();
        assert!(s.contains(Org::Opaque("a")) && !s.contains(Org::Opaque("c")));
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            [Org::Opaque("a"), Org::Opaque("b")]
        );
    }
}
