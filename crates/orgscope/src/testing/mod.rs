//! Stage 6 — policy tests: test files (requests with expected decisions) run against compiled
//! policies, rule coverage, and the text rendering of explain traces.
//!
//! A test file is JSON, lives beside the policy it tests, and is named `NAME.test.json` for the
//! policy `NAME.policy` (or names its policy with `"policy"`):
//!
//! ```json
//! {
//!   "entities": [{"type": "account", "id": "A-Asia", "org": "Asia"}],
//!   "defaults": {"user": {"orgs": ["Asia", "China", "Japan"]}},
//!   "tests": [
//!     {"name": "no Zuora-Org-Ids sees every org of the user",
//!      "request": {"method": "POST", "path": "/query/jobs"},
//!      "expect": {"decision": "allow", "visible_orgs": ["Asia", "China", "Japan"]}},
//!     {"name": "an invoice takes its account's org",
//!      "request": {"method": "POST", "path": "/v1/invoices", "body": {"accountId": "A-Asia"}},
//!      "expect": {"labels": [{"org": "Asia", "source": "inherited"}]}}
//!   ]
//! }
//! ```
//!
//! Each test's `request` is merged over the file's `defaults` (JSON merge patch, RFC 7396:
//! objects merge key by key, `null` removes a key, anything else replaces). `expect` names only
//! the decision fields the test cares about; objects inside them match on the keys written.
//! `docs/guide.md` walks through writing such files.
//!
//! ```
//! use orgscope::testing::TestFile;
//! use orgscope::Policy;
//!
//! let file = TestFile::parse("policies/zuora-multi-org.test.json", r#"{
//!   "tests": [{"name": "seed 4", "expect": {"code": "org_access_denied"},
//!              "request": {"method": "POST", "path": "/query/jobs",
//!                          "headers": {"Zuora-Org-Ids": "China"}, "user": {"orgs": ["Asia"]}}}]
//! }"#)?;
//! assert_eq!(file.policy, std::path::Path::new("policies/zuora-multi-org.policy"));
//! let policy = Policy::from_file(&file.policy)?;
//! let results = file.run(&policy)?;
//! assert!(results.iter().all(|r| r.passed()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{Decision, EntityLookup, EntityStore, EvalOptions, Policy, Request};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

/// How the names of test files end; `orgscope test DIR` runs every such file under `DIR`.
pub const TEST_FILE_SUFFIX: &str = ".test.json";

/// The decision fields a test may expect: every field of a decision but `trace`, plus `code`
/// and `message` (of the decision's first error, or null when it has none).
pub const EXPECT_FIELDS: [&str; 13] = [
    "decision",
    "status",
    "code",
    "message",
    "action",
    "object",
    "rule",
    "visible_orgs",
    "include_unlabeled",
    "labels",
    "errors",
    "warnings",
    "id",
];

/// A parsed test file: the policy it tests, its shared entities and its tests.
#[derive(Debug, Clone)]
pub struct TestFile {
    /// The test file, as given.
    pub path: PathBuf,
    /// The policy under test: `"policy"` relative to the test file's directory, or `NAME.policy`
    /// beside `NAME.test.json`. Normalized lexically (`a/../b` is `b`, no leading `./`).
    pub policy: PathBuf,
    entities: Option<EntitiesSpec>,
    /// The tests, in file order, each request already merged over the file's `defaults`.
    pub tests: Vec<TestCase>,
}

/// Where a file's shared entities come from.
#[derive(Debug, Clone)]
enum EntitiesSpec {
    /// Written in the test file.
    Inline(Vec<Value>),
    /// An entities file (JSON array or NDJSON), relative to the test file's directory.
    File(PathBuf),
}

/// One test: a request and the decision fields it must produce.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    /// The test's name, unique within its file.
    pub name: String,
    /// The request description, merged over the file's `defaults`.
    pub request: Value,
    /// Expected decision fields (keys of [`EXPECT_FIELDS`]), in the order written.
    pub expect: IndexMap<String, Value>,
}

/// Why a test file cannot be run.
#[derive(Debug, thiserror::Error)]
pub enum TestFileError {
    /// The file (or its entities file) could not be read.
    #[error("cannot read `{path}`: {error}")]
    Io {
        /// The path as given.
        path: String,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The file is not valid JSON, or not of the test-file shape.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The test file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The file parses but something in it is wrong (a duplicate test name, an unknown
    /// expected field, an unreadable entity…).
    #[error("{path}: {message}")]
    Invalid {
        /// The test file.
        path: String,
        /// What is wrong, naming the test when one is at fault.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    entities: Option<RawEntities>,
    #[serde(default)]
    defaults: Option<Map<String, Value>>,
    #[serde(default)]
    #[allow(dead_code)]
    comment: Option<Value>,
    tests: Vec<RawTest>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawEntities {
    File(String),
    Inline(Vec<Value>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    name: String,
    #[serde(default)]
    request: Map<String, Value>,
    expect: IndexMap<String, Value>,
    #[serde(default)]
    #[allow(dead_code)]
    comment: Option<Value>,
}

impl TestFile {
    /// Reads and parses a test file.
    pub fn load(path: impl AsRef<Path>) -> Result<TestFile, TestFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| TestFileError::Io {
            path: display(path),
            error,
        })?;
        TestFile::parse(path, &text)
    }

    /// Parses test-file text; `path` locates the policy and entities files it refers to.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<TestFile, TestFileError> {
        let path = path.as_ref();
        let name = display(path);
        let raw: RawFile = serde_json::from_str(text).map_err(|e| {
            let full = e.to_string();
            let message = full
                .rsplit_once(" at line ")
                .map_or(full.as_str(), |(m, _)| m)
                .to_string();
            TestFileError::Syntax {
                path: name.clone(),
                line: e.line(),
                column: e.column(),
                message,
            }
        })?;
        let invalid = |message: String| TestFileError::Invalid {
            path: name.clone(),
            message,
        };
        let dir = path.parent().unwrap_or(Path::new(""));
        let policy = match &raw.policy {
            Some(p) => normalize(&dir.join(p)),
            None => {
                let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
                match file.strip_suffix(TEST_FILE_SUFFIX) {
                    Some(stem) if !stem.is_empty() => {
                        normalize(&dir.join(format!("{stem}.policy")))
                    }
                    _ => {
                        return Err(invalid(format!(
                            "name the policy under test with \"policy\" (only a file called \
                             `NAME{TEST_FILE_SUFFIX}` tests `NAME.policy` without saying so)"
                        )))
                    }
                }
            }
        };
        let entities = raw.entities.map(|e| match e {
            RawEntities::Inline(v) => EntitiesSpec::Inline(v),
            RawEntities::File(f) => EntitiesSpec::File(normalize(&dir.join(f))),
        });
        if raw.tests.is_empty() {
            return Err(invalid(
                "\"tests\" is empty: a test file needs at least one test".into(),
            ));
        }
        let defaults = Value::Object(raw.defaults.unwrap_or_default());
        let mut seen: HashSet<&str> = HashSet::new();
        let mut tests = Vec::with_capacity(raw.tests.len());
        for (i, t) in raw.tests.iter().enumerate() {
            let at = format!("tests[{i}] \"{}\"", t.name);
            if t.name.trim().is_empty() {
                return Err(invalid(format!("tests[{i}] has an empty name")));
            }
            if !seen.insert(t.name.as_str()) {
                return Err(invalid(format!("{at}: another test has the same name")));
            }
            if t.expect.is_empty() {
                return Err(invalid(format!(
                    "{at}: \"expect\" is empty; name at least one decision field, e.g. \
                     {{\"decision\": \"allow\"}}"
                )));
            }
            if let Some(k) = t
                .expect
                .keys()
                .find(|k| !EXPECT_FIELDS.contains(&k.as_str()))
            {
                let known: Vec<String> = EXPECT_FIELDS.iter().map(|f| format!("`{f}`")).collect();
                return Err(invalid(format!(
                    "{at}: unknown expected field `{k}`; a test may expect {}",
                    crate::diag::one_of(&known)
                )));
            }
            let mut request = defaults.clone();
            merge_patch(&mut request, &Value::Object(t.request.clone()));
            tests.push(TestCase {
                name: t.name.clone(),
                request,
                expect: t.expect.clone(),
            });
        }
        Ok(TestFile {
            path: path.to_path_buf(),
            policy,
            entities,
            tests,
        })
    }

    /// The file's shared entities, resolved against the policy's object types.
    pub fn entities(&self, policy: &Policy) -> Result<EntityStore, TestFileError> {
        let invalid = |message: String| TestFileError::Invalid {
            path: display(&self.path),
            message,
        };
        match &self.entities {
            None => Ok(EntityStore::default()),
            Some(EntitiesSpec::Inline(list)) => {
                let text = serde_json::to_string(list).map_err(|e| invalid(e.to_string()))?;
                EntityStore::parse(policy, &text).map_err(|e| {
                    // A JSON array has no line per entity: the message names the entity.
                    invalid(format!("\"entities\": {}", e.message))
                })
            }
            Some(EntitiesSpec::File(f)) => {
                let text = std::fs::read_to_string(f).map_err(|error| TestFileError::Io {
                    path: display(f),
                    error,
                })?;
                EntityStore::parse(policy, &text)
                    .map_err(|e| invalid(format!("entities file `{}`: {e}", display(f))))
            }
        }
    }

    /// Runs every test against `policy` (which should be the file's [`TestFile::policy`]).
    pub fn run(&self, policy: &Policy) -> Result<Vec<CaseResult>, TestFileError> {
        let entities = self.entities(policy)?;
        Ok(self
            .tests
            .iter()
            .map(|t| t.run(policy, &entities))
            .collect())
    }
}

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
        for (field, expected) in &self.expect {
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
            mismatches,
            decision,
        }
    }
}

/// The outcome of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// The test's name.
    pub name: String,
    /// Expected fields that did not match, in the order the test names them; empty when it
    /// passed.
    pub mismatches: Vec<Mismatch>,
    /// The decision, with its explain trace.
    pub decision: Decision,
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
        self.mismatches.is_empty()
    }

    /// For a failed test: each differing field with its expected and actual value, then the
    /// decision (and, for a deny, what would have to change). Empty for a passed test.
    pub fn render_failure(&self) -> String {
        if self.passed() {
            return String::new();
        }
        let decision = serde_json::to_value(&self.decision).unwrap_or_default();
        self.render_mismatches() + &render_verdict(&decision)
    }

    /// Each differing field: its name, then `expected:` and `actual:` values on their own lines.
    pub fn render_mismatches(&self) -> String {
        let mut out = String::new();
        for m in &self.mismatches {
            let _ = writeln!(out, "{}", m.field);
            let _ = writeln!(out, "  expected: {}", show(&m.expected));
            let _ = writeln!(out, "  actual:   {}", show(&m.actual));
        }
        out
    }
}

/// Whether `actual` satisfies `expected`: objects on the keys `expected` names, arrays element
/// by element (same length, same order), anything else exactly; `rule` fields as [`rule_matches`].
fn matches(expected: &Value, actual: &Value, is_rule: bool) -> bool {
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
pub fn rule_matches(expected: &str, actual: &str) -> bool {
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
fn split_rule(rule: &str) -> (Option<&str>, Option<(u32, u32)>) {
    let mut parts = rule.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.parse().ok());
    let line = parts.next().and_then(|l| l.parse().ok());
    let file = parts.next();
    match (line, col) {
        (Some(l), Some(c)) => (file, Some((l, c))),
        _ => (None, None),
    }
}

/// Applies a JSON merge patch (RFC 7396) to `target`.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// A path without `.` components and with `dir/..` pairs removed, textually (symlinks are not
/// followed), so that one policy reached by two spellings is one policy.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    out.iter().collect()
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// JSON on one line, spaced the way people write it: `{"org": "Asia", "source": "explicit"}`.
pub fn show(v: &Value) -> String {
    let mut out = String::new();
    show_into(v, &mut out);
    out
}

fn show_into(v: &Value, out: &mut String) {
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                show_into(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push_str(": ");
                show_into(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

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

    /// The rules no recorded decision exercised, in source order.
    pub fn uncovered(&self) -> Vec<UncoveredRule> {
        self.rules
            .iter()
            .filter(|(r, _, _)| !self.hit.contains(r))
            .map(|(r, line, _)| UncoveredRule {
                rule: r.clone(),
                text: self
                    .lines
                    .get((*line as usize).saturating_sub(1))
                    .map_or("", |l| l.trim())
                    .to_string(),
            })
            .collect()
    }
}

/// A decision with its explain trace, for people: numbered steps `file:line:col  step: outcome`,
/// then the decision and why — for a deny, the error and what would have to change for the
/// request to be allowed.
///
/// ```text
///  1. policies/zuora-multi-org.policy:98:1  route: matched `/query/jobs` -> query
///  2. policies/zuora-multi-org.policy:9:1   multi_org: enabled
/// => deny 403 org_access_denied, decided by policies/zuora-multi-org.policy:29:3
///    the user has no access to org `China`
///    to allow it: the user would need access to `China`
/// ```
pub fn render_explain(decision: &Decision) -> String {
    render_explain_value(&serde_json::to_value(decision).unwrap_or_default())
}

/// Like [`render_explain`], for a decision as JSON (a line of `orgscope eval --explain`).
pub fn render_explain_value(decision: &Value) -> String {
    let steps: &[Value] = decision
        .get("trace")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    // The last step is the decision itself: the verdict below says it in full.
    let steps = match steps.split_last() {
        Some((last, init)) if last.get("step").and_then(Value::as_str) == Some("decision") => init,
        _ => steps,
    };
    let rule_of = |s: &Value| {
        s.get("rule")
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    let width = steps
        .iter()
        .map(|s| rule_of(s).chars().count())
        .max()
        .unwrap_or(0);
    let num_width = steps.len().to_string().len();
    let mut out = String::new();
    if steps.is_empty() {
        out.push_str("(no rule was consulted)\n");
    }
    for (i, s) in steps.iter().enumerate() {
        let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let _ = writeln!(
            out,
            "{:>num_width$}. {:<width$}  {}: {}",
            i + 1,
            rule_of(s),
            text("step"),
            text("outcome")
        );
    }
    out.push_str(&render_verdict(decision));
    out
}

/// The closing lines of an explanation: `=> allow 200 …` with what the request may see and the
/// labels it gets, or `=> deny STATUS CODE …` with the message and the way to an allow.
fn render_verdict(d: &Value) -> String {
    let str_of = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let effect = str_of(d.get("decision"));
    let status = d.get("status").map_or(String::new(), Value::to_string);
    let by = |rule: Option<&Value>| match rule.and_then(Value::as_str) {
        Some(r) => format!(", decided by {r}"),
        None => String::new(),
    };
    let mut out = String::new();
    let errors: &[Value] = d
        .get("errors")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    if effect == "allow" || errors.is_empty() {
        let _ = writeln!(out, "=> {effect} {status}{}", by(d.get("rule")));
        match d.get("visible_orgs").and_then(Value::as_array) {
            Some(orgs) => {
                let names: Vec<String> = orgs.iter().map(|o| str_of(Some(o))).collect();
                let names = if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                };
                let unlabeled = if d.get("include_unlabeled") == Some(&Value::Bool(true)) {
                    ", and unlabeled records"
                } else {
                    ""
                };
                let _ = writeln!(out, "   visible orgs: {names}{unlabeled}");
            }
            None => out.push_str("   not org-scoped (Multi-Org is off)\n"),
        }
        for l in d
            .get("labels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let org = l.get("org").and_then(Value::as_str).unwrap_or("(none)");
            let source = str_of(l.get("source"));
            let from = match l.get("from").and_then(Value::as_str) {
                Some(f) => format!(" from {f}"),
                None => String::new(),
            };
            let _ = writeln!(out, "   label: {org} ({source}{from})");
        }
    }
    for e in errors {
        let code = str_of(e.get("code"));
        let message = str_of(e.get("message"));
        let _ = writeln!(out, "=> {effect} {status} {code}{}", by(e.get("rule")));
        let _ = writeln!(out, "   {message}");
        if let Some(hint) = hint(d, &code, &message) {
            let _ = writeln!(out, "   to allow it: {hint}");
        }
    }
    for w in d
        .get("warnings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            out,
            "   warning[{}]: {}",
            str_of(w.get("code")),
            str_of(w.get("message"))
        );
    }
    out
}

/// What would have to change, from the trace's closing step `deny (CODE): MESSAGE; HINT`.
fn hint(d: &Value, code: &str, message: &str) -> Option<String> {
    let last = d.get("trace")?.as_array()?.last()?;
    if last.get("step").and_then(Value::as_str) != Some("decision") {
        return None;
    }
    let outcome = last.get("outcome")?.as_str()?;
    let rest = outcome.strip_prefix(&format!("deny ({code}): {message}"))?;
    let hint = rest.strip_prefix("; ")?.trim();
    (!hint.is_empty()).then(|| hint.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_merges_objects_and_removes_nulls() {
        let mut v =
            json!({"user": {"orgs": ["Asia"], "default_org": "Asia"}, "headers": {"A": "1"}});
        merge_patch(
            &mut v,
            &json!({"user": {"default_org": null}, "headers": {"B": "2"}, "path": "/x"}),
        );
        assert_eq!(
            v,
            json!({"user": {"orgs": ["Asia"]}, "headers": {"A": "1", "B": "2"}, "path": "/x"})
        );
    }

    #[test]
    fn partial_objects_exact_arrays_and_rules() {
        assert!(matches(
            &json!([{"org": "Asia"}]),
            &json!([{"org": "Asia", "source": "inherited", "from": "account A-1"}]),
            false
        ));
        assert!(!matches(&json!(["Asia"]), &json!(["Asia", "China"]), false));
        assert!(!matches(
            &json!({"org": null}),
            &json!({"org": "Asia"}),
            false
        ));
        assert!(rule_matches("29:3", "policies/z.policy:29:3"));
        assert!(rule_matches("z.policy:29:3", "policies/z.policy:29:3"));
        assert!(rule_matches(
            "policies/z.policy:29:3",
            "policies/z.policy:29:3"
        ));
        assert!(!rule_matches("y.policy:29:3", "policies/z.policy:29:3"));
        assert!(!rule_matches("29:4", "policies/z.policy:29:3"));
        assert!(matches(
            &json!([{"code": "x", "rule": "2:1"}]),
            &json!([{"code": "x", "rule": "a.policy:2:1", "message": "m"}]),
            false
        ));
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(
            normalize(Path::new("./tests/cases/x/../../../policies/a.policy")),
            PathBuf::from("policies/a.policy")
        );
        assert_eq!(normalize(Path::new("../a")), PathBuf::from("../a"));
    }

    #[test]
    fn show_spaces_json_like_people_write_it() {
        assert_eq!(
            show(&json!([{"org": "Asia", "source": "explicit"}, null, 3])),
            r#"[{"org": "Asia", "source": "explicit"}, null, 3]"#
        );
    }

    #[test]
    fn test_file_errors_name_the_test() {
        let err = |text: &str| {
            TestFile::parse("p.test.json", text)
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        assert!(
            err(r#"{"tests": [{"name": "a", "expect": {"visibl_orgs": []}}]}"#)
                .contains("tests[0] \"a\": unknown expected field `visibl_orgs`")
        );
        assert!(err(r#"{"tests": [{"name": "a", "expect": {}}]}"#).contains("\"expect\" is empty"));
        assert!(err(r#"{"tests": [{"name": "a", "expect": {"status": 200}}, {"name": "a", "expect": {"status": 200}}]}"#)
            .contains("same name"));
        assert!(err(r#"{"tests": [], "polcy": "x"}"#).starts_with("p.test.json:1:"));
        let no_policy = TestFile::parse(
            "x.json",
            r#"{"tests": [{"name": "a", "expect": {"status": 200}}]}"#,
        );
        assert!(no_policy.is_err());
        let f = TestFile::parse(
            "tests/x.json",
            r#"{"policy": "../policies/a.policy", "tests": [{"name": "a", "expect": {"status": 200}}]}"#,
        )
        .unwrap();
        assert_eq!(f.policy, PathBuf::from("policies/a.policy"));
    }
}
