//! "Did you mean": the closest declared name to an unknown one.

use super::Checker;

/// How many edit-distance computations "did you mean" may spend on one policy, so that a huge
/// generated policy full of unknown names still checks in linear time.
pub(super) const SUGGESTION_BUDGET: usize = 200_000;

/// Edit distance counting insertions, deletions, substitutions and swaps of two neighbours
/// (optimal string alignment), ignoring ASCII case: `Aisa` is one edit from `Asia`.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(&a.to_ascii_lowercase(), &b.to_ascii_lowercase())
}

impl Checker {
    /// The closest declared name to `name`, if it is close enough to be a typo.
    pub(super) fn suggest<'a>(
        &mut self,
        name: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Option<String> {
        const MAX_LEN: usize = 64;
        if name.len() > MAX_LEN {
            return None;
        }
        let limit = (name.chars().count() / 3).max(1);
        let mut best: Option<(usize, &str)> = None;
        for cand in candidates {
            if self.suggestion_budget == 0 {
                break;
            }
            if cand.len() > MAX_LEN || cand.len().abs_diff(name.len()) > limit {
                continue;
            }
            self.suggestion_budget -= 1;
            let d = edit_distance(name, cand);
            if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
                best = Some((d, cand));
            }
        }
        best.map(|(_, c)| c.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("acount", "account"), 1);
        assert_eq!(edit_distance("Invoice", "invoice"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("Aisa", "Asia"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
