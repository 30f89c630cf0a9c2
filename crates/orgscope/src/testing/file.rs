//! Test files: reading and validating them, and merging each request over the defaults.

use super::{display, normalized, CaseResult, EXPECT_FIELDS, TEST_FILE_SUFFIX};
use crate::{EntityStore, Policy};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

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
    /// Expected decision fields (any decision field but `trace`, plus `code` and `message`), in the order written.
    pub expect: IndexMap<String, Value>,
    /// What is wrong with the test itself (an unknown expected field, with its line): such a
    /// test fails, and the file's other tests still run.
    pub problems: Vec<String>,
}

/// Why a test file cannot be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// How the names of test files end; `orgscope test DIR` runs every such file under `DIR`.
    pub const SUFFIX: &'static str = TEST_FILE_SUFFIX;

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
            Some(p) => normalized(&dir.join(p)),
            None => {
                let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
                match file.strip_suffix(TEST_FILE_SUFFIX) {
                    Some(stem) if !stem.is_empty() => {
                        normalized(&dir.join(format!("{stem}.policy")))
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
            RawEntities::File(f) => EntitiesSpec::File(normalized(&dir.join(f))),
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
            let problems = t
                .expect
                .keys()
                .filter(|k| !EXPECT_FIELDS.contains(&k.as_str()))
                .map(|k| unknown_field(text, &t.name, k))
                .collect();
            let mut request = defaults.clone();
            merge_patch(&mut request, &Value::Object(t.request.clone()));
            tests.push(TestCase {
                name: t.name.clone(),
                request,
                expect: t.expect.clone(),
                problems,
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

/// "line N: unknown expected field `k`", with the closest known field or the list of them. The
/// line is that of the first `"k"` after the test's name (names are unique in a file).
fn unknown_field(text: &str, test: &str, k: &str) -> String {
    let name = serde_json::to_string(test).unwrap_or_default();
    let key = serde_json::to_string(k).unwrap_or_default();
    let from = text.find(&name).unwrap_or(0);
    let line = text.get(from..).and_then(|rest| rest.find(&key)).map(|at| {
        let before = text.get(..from + at).unwrap_or_default();
        1 + before.matches('\n').count()
    });
    let closest = EXPECT_FIELDS
        .iter()
        .map(|f| (crate::check::suggest::edit_distance(k, f), f))
        .filter(|&(d, _)| d <= (k.chars().count() / 3).max(1))
        .min_by_key(|&(d, _)| d);
    let help = match closest {
        Some((_, f)) => format!("did you mean `{f}`?"),
        None => {
            let known: Vec<String> = EXPECT_FIELDS.iter().map(|f| format!("`{f}`")).collect();
            format!("a test may expect {}", crate::diag::one_of(&known))
        }
    };
    let at = line.map_or(String::new(), |l| format!("line {l}: "));
    format!("{at}unknown expected field `{k}`; {help}")
}

/// Applies a JSON merge patch (RFC 7396) to `target`.
pub(super) fn merge_patch(target: &mut Value, patch: &Value) {
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
