//! Stage 6 — policy tests: test files (requests with expected decisions) run against compiled
//! policies, and rule coverage. (Showing results to people is the command line's business.)
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

mod coverage;
mod file;
mod run;

pub use coverage::{Coverage, UncoveredRule};
pub use file::{TestCase, TestFile, TestFileError};
pub use run::{CaseResult, Mismatch};

use std::path::{Component, Path, PathBuf};

/// How the names of test files end; `orgscope test DIR` runs every such file under `DIR`.
pub(crate) const TEST_FILE_SUFFIX: &str = ".test.json";

/// The decision fields a test may expect: every field of a decision but `trace`, plus `code`
/// and `message` (of the decision's first error, or null when it has none).
pub(crate) const EXPECT_FIELDS: [&str; 13] = [
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

/// A path without `.` components and with `dir/..` pairs removed, textually (symlinks are not
/// followed), so that one policy reached by two spellings is one policy.
#[cfg(feature = "unstable-syntax")]
pub fn normalize(path: &Path) -> PathBuf {
    normalized(path)
}

pub(crate) fn normalized(path: &Path) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::file::merge_patch;
    use super::run::{matches, rule_matches};
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
            normalized(Path::new("./tests/cases/x/../../../policies/a.policy")),
            PathBuf::from("policies/a.policy")
        );
        assert_eq!(normalized(Path::new("../a")), PathBuf::from("../a"));
    }

    #[test]
    fn test_file_errors_name_the_test() {
        let err = |text: &str| {
            TestFile::parse("p.test.json", text)
                .map(|_| ())
                .unwrap_err()
                .to_string()
        };
        // An unknown expected field is the test's own problem, not the file's.
        let file = TestFile::parse(
            "p.test.json",
            "{\"tests\": [\n{\"name\": \"a\",\n \"expect\": {\"visibl_orgs\": []}}]}",
        )
        .unwrap();
        assert_eq!(
            file.tests[0].problems,
            ["line 3: unknown expected field `visibl_orgs`; did you mean `visible_orgs`?"]
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
