//! Rule coverage: which rules of a policy the decisions of its tests exercised.

use super::run::split_rule;
use crate::{Decision, Policy};
use std::collections::HashSet;

/// Which rules of one policy the decisions recorded so far exercised.
#[derive(Debug, Clone)]
pub struct Coverage {
    policy: String,
    /// Every rule, in source order: (`file:line:col`, line, col).
    rules: Vec<(String, u32, u32)>,
    /// The policy's text, one entry per line, for listing uncovered rules.
    lines: Vec<String>,
    hit: HashSet<String>,
}

/// A rule no recorded decision exercised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncoveredRule {
    /// `file:line:col` of the rule.
    pub rule: String,
    /// The source line the rule is on, without its indentation.
    pub text: String,
}

impl Coverage {
    /// Starts measuring `policy`: every rule a decision can name (see [`Policy::rules`]).
    pub fn new(policy: &Policy) -> Coverage {
        let mut rules: Vec<(String, u32, u32)> = policy
            .rules()
            .into_iter()
            .map(|r| {
                let (_, pos) = split_rule(r);
                let (line, col) = pos.unwrap_or((0, 0));
                (r.to_string(), line, col)
            })
            .collect();
        rules.sort_by_key(|&(_, line, col)| (line, col));
        Coverage {
            policy: policy.source().name().to_string(),
            rules,
            lines: policy.source().text().lines().map(str::to_string).collect(),
            hit: HashSet::new(),
        }
    }

    /// Counts the rules a decision names: its `rule`, its errors' `rule`s, and every rule of
    /// its explain trace.
    pub fn record(&mut self, d: &Decision) {
        let trace = d.trace.iter().flatten().filter_map(|s| s.rule.as_deref());
        let errors = d.errors.iter().filter_map(|e| e.rule.as_deref());
        for r in d.rule.as_deref().into_iter().chain(errors).chain(trace) {
            if !self.hit.contains(r) {
                self.hit.insert(r.to_string());
            }
        }
    }

    /// The policy's file name, as decisions cite it.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// How many rules the policy has.
    pub fn total(&self) -> usize {
        self.rules.len()
    }

    /// How many of them were exercised.
    pub fn covered(&self) -> usize {
        self.rules
            .iter()
            .filter(|(r, _, _)| self.hit.contains(r))
            .count()
    }

    /// Whether at least `min_percent` percent of the rules were exercised (a policy without
    /// rules is fully covered).
    pub fn meets(&self, min_percent: u8) -> bool {
        self.covered() * 100 >= usize::from(min_percent) * self.total()
    }

    /// The exercised share, rounded down to a tenth of a percent, e.g. `97.5%` (`100%` only
    /// when every rule was exercised).
    pub fn percent(&self) -> String {
        if self.total() == 0 || self.covered() == self.total() {
            return "100%".to_string();
        }
        let tenths = self.covered() * 1000 / self.total();
        format!("{}.{}%", tenths / 10, tenths % 10)
    }

    /// The rules no recorded decision exercised, in source order. A rule inside a line (one
    /// source of `fallback a, b, c`) is named by its own text, in its line.
    pub fn uncovered(&self) -> Vec<UncoveredRule> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, (r, _, _))| !self.hit.contains(r))
            .map(|(i, (r, line, col))| {
                let text = self.lines.get((*line as usize).saturating_sub(1));
                let text = text.map_or("", |l| l.as_str());
                let start = (*col as usize).saturating_sub(1);
                let indent = text.len() - text.trim_start().len();
                let text = match text.get(start..) {
                    Some(rest) if start > indent => {
                        // Up to the next rule on the same line, if any.
                        let end = match self.rules.get(i + 1) {
                            Some((_, l, c)) if l == line && c > col => (c - col) as usize,
                            _ => rest.len(),
                        };
                        let own = rest.get(..end).unwrap_or(rest);
                        let own = own.trim_end_matches([' ', '\t', ',', '}']);
                        format!("`{own}` in `{}`", text.trim())
                    }
                    _ => text.trim().to_string(),
                };
                UncoveredRule {
                    rule: r.clone(),
                    text,
                }
            })
            .collect()
    }
}
