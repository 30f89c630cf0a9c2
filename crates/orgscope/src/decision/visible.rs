//! A decision's visible orgs: the bits of a small directory's set, named only when read.

use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// The orgs a decision lets its request see, in the order of the policy's directory.
///
/// In a directory of at most 128 orgs (almost every policy) the set is kept as the bitset the
/// evaluation computed, borrowing the names from the policy: an allow neither allocates a list
/// nor copies names, and [`iter`](Self::iter) names the orgs when they are read. In a larger
/// directory, or without one (the orgs are then the request's own text), it holds the names.
///
/// ```
/// let policy = orgscope::Policy::from_file("../../policies/zuora-multi-org.policy")?;
/// let d = policy.evaluate_json(
///     r#"{"method": "POST", "path": "/query/jobs",
///         "headers": {"Zuora-Org-Ids": "Japan, Asia"},
///         "user": {"orgs": ["Asia", "China", "Japan"]}}"#,
///     &Default::default(),
/// );
/// let visible = d.visible_orgs.as_ref().expect("org-scoped");
/// assert_eq!(visible.iter().collect::<Vec<_>>(), ["Asia", "Japan"]);
/// assert!(visible.contains("Japan") && !visible.contains("China"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct VisibleOrgs<'p>(Repr<'p>);

#[derive(Clone)]
enum Repr<'p> {
    /// Bit `i` set for the directory's org `i`; `names` is the directory (a `&Vec`, not a
    /// slice: one word instead of two in every decision).
    Bits {
        bits: u128,
        names: &'p Vec<Arc<str>>,
    },
    Names(Vec<Cow<'p, str>>),
}

impl<'p> VisibleOrgs<'p> {
    /// The orgs of `bits` in the directory `names`, every set bit an index into `names`.
    pub(crate) fn bits(bits: u128, names: &'p Vec<Arc<str>>) -> Self {
        debug_assert!(bits.checked_shr(names.len() as u32).unwrap_or(0) == 0);
        VisibleOrgs(Repr::Bits { bits, names })
    }

    /// The org names, in directory order.
    pub fn iter(&self) -> VisibleOrgsIter<'_> {
        VisibleOrgsIter(match &self.0 {
            Repr::Bits { bits, names } => IterRepr::Bits { rest: *bits, names },
            Repr::Names(v) => IterRepr::Names(v.iter()),
        })
    }

    /// How many orgs are visible.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Bits { bits, .. } => bits.count_ones() as usize,
            Repr::Names(v) => v.len(),
        }
    }

    /// Whether no org is visible.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the org named `org` is visible.
    pub fn contains(&self, org: &str) -> bool {
        self.iter().any(|o| o == org)
    }

    /// The same orgs, owning their names.
    pub fn into_owned(self) -> VisibleOrgs<'static> {
        self.iter()
            .map(|o| Cow::Owned(o.to_string()))
            .collect::<Vec<_>>()
            .into()
    }
}

impl<'p> From<Vec<Cow<'p, str>>> for VisibleOrgs<'p> {
    /// The orgs named in `names`, which the caller gives in directory order.
    fn from(names: Vec<Cow<'p, str>>) -> Self {
        VisibleOrgs(Repr::Names(names))
    }
}

impl<'p> FromIterator<Cow<'p, str>> for VisibleOrgs<'p> {
    fn from_iter<I: IntoIterator<Item = Cow<'p, str>>>(names: I) -> Self {
        VisibleOrgs(Repr::Names(names.into_iter().collect()))
    }
}

impl<'a> IntoIterator for &'a VisibleOrgs<'_> {
    type Item = &'a str;
    type IntoIter = VisibleOrgsIter<'a>;

    fn into_iter(self) -> VisibleOrgsIter<'a> {
        self.iter()
    }
}

/// Equal when they name the same orgs in the same order, however each is kept.
impl PartialEq for VisibleOrgs<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for VisibleOrgs<'_> {}

/// A list of the names, as a `Vec` of them prints.
impl fmt::Debug for VisibleOrgs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A JSON array of the names.
impl Serialize for VisibleOrgs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// The names of [`VisibleOrgs`], in directory order.
#[derive(Clone, Debug)]
pub struct VisibleOrgsIter<'a>(IterRepr<'a>);

#[derive(Clone, Debug)]
enum IterRepr<'a> {
    Bits {
        rest: u128,
        names: &'a Vec<Arc<str>>,
    },
    Names(std::slice::Iter<'a, Cow<'a, str>>),
}

impl<'a> Iterator for VisibleOrgsIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match &mut self.0 {
            IterRepr::Bits { rest, names } => {
                if *rest == 0 {
                    return None;
                }
                let i = rest.trailing_zeros() as usize;
                *rest &= *rest - 1;
                // Every bit is an index of the directory (`VisibleOrgs::bits`).
                Some(names.get(i).map_or("", |n| n))
            }
            IterRepr::Names(v) => v.next().map(|o| &**o),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.0 {
            IterRepr::Bits { rest, .. } => rest.count_ones() as usize,
            IterRepr::Names(v) => v.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for VisibleOrgsIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn directory(n: usize) -> Vec<Arc<str>> {
        (0..n).map(|i| Arc::from(format!("org-{i}"))).collect()
    }

    proptest! {
        /// A set kept as bits reads as the names of its bits, in order, and behaves as the
        /// same names kept as a list: equal, same JSON, same debug text, same owned copy.
        #[test]
        fn bits_read_as_their_names(n in 1usize..=128, raw in any::<u128>()) {
            let names = directory(n);
            let bits = if n == 128 { raw } else { raw & ((1u128 << n) - 1) };
            let set = VisibleOrgs::bits(bits, &names);
            let want: Vec<&str> = (0..n)
                .filter(|&i| bits >> i & 1 == 1)
                .map(|i| &*names[i])
                .collect();
            prop_assert_eq!(set.iter().collect::<Vec<_>>(), want.clone());
            prop_assert_eq!(set.len(), want.len());
            prop_assert_eq!(set.iter().len(), want.len());
            prop_assert_eq!(set.is_empty(), want.is_empty());
            for (i, name) in names.iter().enumerate() {
                prop_assert_eq!(set.contains(name), bits >> i & 1 == 1);
            }
            let list: VisibleOrgs = want.iter().map(|&o| Cow::Borrowed(o)).collect();
            prop_assert_eq!(&set, &list);
            prop_assert_eq!(serde_json::to_string(&set).unwrap(), serde_json::to_string(&want).unwrap());
            prop_assert_eq!(format!("{set:?}"), format!("{want:?}"));
            prop_assert_eq!(set.clone().into_owned(), list);
        }
    }

    #[test]
    fn different_orgs_differ() {
        let names = directory(3);
        let (a, b) = (
            VisibleOrgs::bits(0b011, &names),
            VisibleOrgs::bits(0b101, &names),
        );
        assert_ne!(a, b);
        assert_ne!(a, VisibleOrgs::from(vec![Cow::from("org-0")]));
        assert!(!a.contains("org-2") && !a.contains("elsewhere"));
    }
}
