//! Running one test: evaluating its request and comparing the expected decision fields.

use super::{TestCase, EXPECT_FIELDS};
use crate::{Decision, EntityLookup, EvalOptions, Policy, Request};
use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

impl TestCase {
    /// Evaluates the request (with a trace, for coverage) and compares the expected fields.
    pub fn run(&self, policy: &Policy, entities: &dyn EntityLookup) -> CaseResult {
        let decision = match Request::deserialize(&self.request) {
            Ok(req) => {
                policy.evaluate_with(&req, &EvalOptions::new().entities(entities).explain(true))
            }
            Err(e) => Decision::invalid_request(
                self.request.get("id").cloned(),
                format!("invalid request: {e}"),
            ),
        };
        let actual = serde_json::to_value(&decision).unwrap_or(Value::Null);
        let first_error = actual.get("errors").and_then(|e| e.get(0));
        let mut mismatches = Vec::new();
        // An unknown field is one of the test's `problems` already.
        let known = self
            .expect
            .iter()
            .filter(|(f, _)| EXPECT_FIELDS.contains(&f.as_str()));
        for (field, expected) in known {
            let field = field.as_str();
            let got = match field {
                "code" | "message" => first_error.and_then(|e| e.get(field)),
                _ => actual.get(field),
            };
            let got = got.cloned().unwrap_or(Value::Null);
            if !matches(expected, &got, field == "rule") {
                mismatches.push(Mismatch {
                    field: field.to_string(),
                    expected: expected.clone(),
                    actual: got,
                });
            }
        }
        CaseResult {
            name: self.name.clone(),
            problems: self.problems.clone(),
            mismatches,
            decision: decision.into_owned(),
        }
    }
}

/// The outcome of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// The test's name.
    pub name: String,
    /// What is wrong with the test itself (an unknown expected field): it fails.
    pub problems: Vec<String>,
    /// Expected fields that did not match, in the order the test names them; empty when it
    /// passed.
    pub mismatches: Vec<Mismatch>,
    /// The decision, with its explain trace.
    pub decision: Decision<'static>,
}

/// One expected field that did not match.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// The field, as the test named it.
    pub field: String,
    /// What the test expects.
    pub expected: Value,
    /// The decision's value (null when the decision has no such value).
    pub actual: Value,
}

impl CaseResult {
    /// Whether every expected field matched.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.problems.is_empty()
    }
}

/// Whether `actual` satisfies `expected`: objects on the keys `expected` names, arrays element
/// by element (same length, same order), anything else exactly; `rule` fields as [`rule_matches`].
pub(super) fn matches(expected: &Value, actual: &Value, is_rule: bool) -> bool {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) if is_rule => rule_matches(e, a),
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, ev)| {
            let av = a.get(k).unwrap_or(&Value::Null);
            matches(ev, av, k == "rule")
        }),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(ev, av)| matches(ev, av, is_rule))
        }
        _ => expected == actual,
    }
}

/// Whether an expected rule location names the actual one. `LINE:COL` matches any file;
/// `FILE:LINE:COL` matches when `FILE` is the actual file or its trailing path components,
/// so `zuora-multi-org.policy:29:3` matches `policies/zuora-multi-org.policy:29:3` whatever the
/// directory the tests run from.
pub(crate) fn rule_matches(expected: &str, actual: &str) -> bool {
    let (ef, epos) = split_rule(expected);
    let (af, apos) = split_rule(actual);
    match (epos, apos) {
        (Some(e), Some(a)) if e == a => match ef {
            None | Some("") => true,
            Some(ef) => af.is_some_and(|af| Path::new(af).ends_with(ef)),
        },
        _ => expected == actual,
    }
}

/// `file:line:col` → (`file`, `(line, col)`); the file is absent for a bare `line:col`.
pub(super) fn split_rule(rule: &str) -> (Option<&str>, Option<(u32, u32)>) {
    let mut parts = rule.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.parse().ok());
    let line = parts.next().and_then(|l| l.parse().ok());
    let file = parts.next();
    match (line, col) {
        (Some(l), Some(c)) => (file, Some((l, c))),
        _ => (None, None),
    }
}
