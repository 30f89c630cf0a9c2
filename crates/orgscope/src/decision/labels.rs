//! A decision's labels: one per new object, the single label of a one-object create kept inline.

use super::Label;
use serde::{Serialize, Serializer};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// The labels a decision gives, one per object in request order; read it as a slice.
///
/// Nearly every create makes one object, and a decision is made on every API call: that one
/// label is kept in the decision itself rather than in a list on the heap.
///
/// ```
/// let policy = orgscope::Policy::from_file("../../policies/zuora-multi-org.policy")?;
/// let d = policy.evaluate_json(
///     r#"{"method": "POST", "path": "/v1/invoices", "body": {"accountId": "A-1"},
///         "entities": [{"type": "account", "id": "A-1", "org": "Asia"}],
///         "user": {"orgs": ["Asia"]}}"#,
///     &Default::default(),
/// );
/// assert_eq!(d.labels.len(), 1);
/// assert_eq!(d.labels[0].org.as_deref(), Some("Asia"));
/// assert_eq!(d.labels[0].from.as_deref(), Some("account A-1"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Labels<'p>(Repr<'p>);

#[derive(Clone)]
enum Repr<'p> {
    One(Label<'p>),
    /// None, or more than one (or a list handed over as it is).
    Many(Vec<Label<'p>>),
}

impl Default for Repr<'_> {
    fn default() -> Self {
        Repr::Many(Vec::new())
    }
}

impl<'p> Labels<'p> {
    /// No labels (a query, a read, a denial); does not allocate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `n` labels: on the heap only when `n` is more than one.
    pub fn with_capacity(n: usize) -> Self {
        match n {
            0 | 1 => Self::new(),
            _ => Labels(Repr::Many(Vec::with_capacity(n))),
        }
    }

    /// Adds the label of the next object.
    pub fn push(&mut self, label: Label<'p>) {
        self.0 = match std::mem::take(&mut self.0) {
            Repr::Many(v) if v.capacity() == 0 => Repr::One(label),
            Repr::Many(mut v) => {
                v.push(label);
                Repr::Many(v)
            }
            Repr::One(first) => Repr::Many(vec![first, label]),
        };
    }

    /// The labels as a list.
    pub fn into_vec(self) -> Vec<Label<'p>> {
        match self.0 {
            Repr::One(label) => vec![label],
            Repr::Many(v) => v,
        }
    }

    /// The same labels, owning their orgs' names (see [`crate::Decision::into_owned`]).
    pub fn into_owned(self) -> Labels<'static> {
        Labels(match self.0 {
            Repr::One(label) => Repr::One(label.into_owned()),
            Repr::Many(v) => Repr::Many(v.into_iter().map(Label::into_owned).collect()),
        })
    }
}

impl<'p> From<Label<'p>> for Labels<'p> {
    fn from(label: Label<'p>) -> Self {
        Labels(Repr::One(label))
    }
}

impl<'p> From<Vec<Label<'p>>> for Labels<'p> {
    fn from(labels: Vec<Label<'p>>) -> Self {
        Labels(Repr::Many(labels))
    }
}

impl<'p> FromIterator<Label<'p>> for Labels<'p> {
    fn from_iter<I: IntoIterator<Item = Label<'p>>>(labels: I) -> Self {
        let mut labels = labels.into_iter();
        Labels(match (labels.next(), labels.next()) {
            (None, _) => Repr::default(),
            (Some(one), None) => Repr::One(one),
            (Some(first), Some(second)) => {
                let mut v = Vec::with_capacity(2 + labels.size_hint().0);
                v.extend([first, second]);
                v.extend(labels);
                Repr::Many(v)
            }
        })
    }
}

impl<'p> Deref for Labels<'p> {
    type Target = [Label<'p>];

    fn deref(&self) -> &[Label<'p>] {
        match &self.0 {
            Repr::One(label) => std::slice::from_ref(label),
            Repr::Many(v) => v,
        }
    }
}

impl<'p> DerefMut for Labels<'p> {
    fn deref_mut(&mut self) -> &mut [Label<'p>] {
        match &mut self.0 {
            Repr::One(label) => std::slice::from_mut(label),
            Repr::Many(v) => v,
        }
    }
}

impl<'a, 'p> IntoIterator for &'a Labels<'p> {
    type Item = &'a Label<'p>;
    type IntoIter = std::slice::Iter<'a, Label<'p>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'p> IntoIterator for Labels<'p> {
    type Item = Label<'p>;
    type IntoIter = std::vec::IntoIter<Label<'p>>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

/// Equal when they hold the same labels in the same order, however each is kept.
impl PartialEq for Labels<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Labels<'_> {}

/// Equal to a list of the same labels.
impl<'p> PartialEq<Vec<Label<'p>>> for Labels<'p> {
    fn eq(&self, other: &Vec<Label<'p>>) -> bool {
        **self == **other
    }
}

/// A list of the labels, as a `Vec` of them prints.
impl fmt::Debug for Labels<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// A JSON array, as a `Vec` of them serializes.
impl Serialize for Labels<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LabelSource;

    fn label(org: &str) -> Label<'_> {
        Label {
            org: Some(org.into()),
            source: LabelSource::Explicit,
            from: Some(format!("account {org}")),
        }
    }

    #[test]
    fn one_label_is_kept_inline_and_more_go_to_a_list() {
        let mut labels = Labels::new();
        assert!(labels.is_empty());
        labels.push(label("a"));
        assert!(matches!(labels.0, Repr::One(_)));
        labels.push(label("b"));
        labels.push(label("c"));
        assert!(matches!(labels.0, Repr::Many(_)));
        assert_eq!(labels, vec![label("a"), label("b"), label("c")]);
        assert!(matches!(Labels::with_capacity(1).0, Repr::Many(ref v) if v.capacity() == 0));
        let mut reserved = Labels::with_capacity(3);
        reserved.push(label("a"));
        assert!(matches!(reserved.0, Repr::Many(ref v) if v.len() == 1));
    }

    #[test]
    fn equal_labels_are_equal_however_they_are_kept() {
        let inline = Labels::from(label("a"));
        let listed = Labels::from(vec![label("a")]);
        assert_eq!(inline, listed);
        assert_ne!(inline, Labels::new());
        assert_eq!(format!("{inline:?}"), format!("{:?}", vec![label("a")]));
        for n in 0..4 {
            let v: Vec<_> = ["a", "b", "c"].into_iter().take(n).map(label).collect();
            let collected: Labels = v.clone().into_iter().collect();
            assert_eq!(collected, v);
            assert_eq!(collected.clone().into_vec(), v);
            assert_eq!(collected.into_iter().collect::<Vec<_>>(), v);
        }
    }

    #[test]
    fn labels_serialize_and_own_as_a_list_does() {
        for n in 0..3 {
            let v: Vec<_> = ["a", "b"].into_iter().take(n).map(label).collect();
            let labels: Labels = v.iter().cloned().collect();
            assert_eq!(
                serde_json::to_string(&labels).unwrap(),
                serde_json::to_string(&v).unwrap()
            );
            let owned: Labels<'static> = labels.into_owned();
            assert_eq!(owned, v);
        }
    }

    #[test]
    fn labels_can_be_changed_in_place() {
        let mut labels = Labels::from(label("a"));
        labels[0].source = LabelSource::Inherited;
        assert_eq!(labels[0].source, LabelSource::Inherited);
    }
}
