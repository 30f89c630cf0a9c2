//! Org sets for evaluation: bitsets over the interned directory, sorted slices for opaque orgs.

use crate::compile::OrgIdx;

/// An org during evaluation: interned when the policy has a directory, else the request's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Org<'r> {
    Known(OrgIdx),
    Opaque(&'r str),
}

/// A set of orgs in canonical order: directory order for interned orgs, byte order for opaque
/// ones. Directories of up to 128 orgs fit in a register, so the common case never allocates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OrgSet<'r> {
    Small(u128),
    Large(Vec<u64>),
    /// Sorted and free of duplicates.
    Opaque(Vec<&'r str>),
}

impl<'r> OrgSet<'r> {
    /// An empty set for a policy with a directory of `size` orgs, or without one.
    pub fn empty(directory_size: Option<usize>) -> OrgSet<'r> {
        match directory_size {
            Some(n) if n <= 128 => OrgSet::Small(0),
            Some(n) => OrgSet::Large(vec![0; n.div_ceil(64)]),
            None => OrgSet::Opaque(Vec::new()),
        }
    }

    /// Adds an org; opaque sets must be [`OrgSet::normalize`]d after a run of inserts.
    pub fn insert(&mut self, o: Org<'r>) {
        match (self, o) {
            (OrgSet::Small(bits), Org::Known(i)) if i < 128 => *bits |= 1 << i,
            (OrgSet::Large(words), Org::Known(i)) => {
                if let Some(w) = words.get_mut(i as usize / 64) {
                    *w |= 1 << (i % 64);
                }
            }
            (OrgSet::Opaque(v), Org::Opaque(s)) => v.push(s),
            _ => {}
        }
    }

    /// The set, if it borrows nothing: interned orgs only.
    pub fn into_interned(self) -> Option<OrgSet<'static>> {
        match self {
            OrgSet::Small(bits) => Some(OrgSet::Small(bits)),
            OrgSet::Large(words) => Some(OrgSet::Large(words)),
            OrgSet::Opaque(_) => None,
        }
    }

    /// Sorts and deduplicates an opaque set after inserts.
    pub fn normalize(&mut self) {
        if let OrgSet::Opaque(v) = self {
            v.sort_unstable();
            v.dedup();
        }
    }

    pub fn contains(&self, o: Org<'_>) -> bool {
        match (self, o) {
            (OrgSet::Small(bits), Org::Known(i)) => i < 128 && bits & (1 << i) != 0,
            (OrgSet::Large(words), Org::Known(i)) => words
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
            OrgSet::Large(words) => words.iter().map(|w| w.count_ones() as usize).sum(),
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
        let (small, words, opaque): (u128, &[u64], &[&'r str]) = match self {
            OrgSet::Small(b) => (*b, &[], &[]),
            OrgSet::Large(w) => (0, w.as_slice(), &[]),
            OrgSet::Opaque(v) => (0, &[], v.as_slice()),
        };
        let large = words
            .iter()
            .enumerate()
            .flat_map(|(wi, &w)| ones(u128::from(w)).map(move |b| wi as u32 * 64 + b));
        ones(small)
            .chain(large)
            .map(Org::Known)
            .chain(opaque.iter().map(|s| Org::Opaque(s)))
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
        for size in [Some(4), Some(300)] {
            let mut s = OrgSet::empty(size);
            for i in [3, 1, 3] {
                s.insert(Org::Known(i));
            }
            assert_eq!(s.len(), 2);
            assert_eq!(s.iter().collect::<Vec<_>>(), [Org::Known(1), Org::Known(3)]);
            assert!(s.contains(Org::Known(3)) && !s.contains(Org::Known(2)));
            assert_eq!(s.only(), None);
        }
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
