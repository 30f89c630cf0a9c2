//! Fixture tests, driven by the files under `tests/cases/<feature>/`.
//!
//! Each case is a file whose extension says what kind of case it is, next to a `.expected`
//! snapshot of what the real `orgscope` binary does with it:
//!
//! - `check/**/<name>.policy`: `orgscope check [ARGS] <path>`; the snapshot is the exit status
//!   and stderr. Extra arguments, if any, go in `<name>.args` (whitespace-separated).
//! - `openapi/**/<name>.yaml` or `.json`: `orgscope lint openapi [ARGS] <path>`, or under
//!   `openapi/import/`, `orgscope import openapi [ARGS] <path>`; the snapshot is the exit
//!   status, stdout, then stderr. Extra arguments as for `check`.
//!
//! Other feature directories and extensions are not cases of this runner (add a `Case` variant
//! and an arm in `Case::from_path` for a new kind). The binary runs in the crate root with a
//! relative path and `NO_COLOR`, so the output is the same on every machine.
//!
//! `BLESS=1 cargo test --test fixtures` rewrites the snapshots; review the diff before
//! committing. Otherwise every mismatch is reported (with a line diff) before the test fails.

mod common;

use common::orgscope;
use std::path::{Path, PathBuf};

const CASES: &str = "crates/orgscope-cli/tests/cases";

/// One fixture.
enum Case {
    /// `orgscope check` on a policy file.
    Check {
        /// The policy, relative to the crate root.
        policy: PathBuf,
        /// Extra arguments before the path.
        args: Vec<String>,
    },
    /// `orgscope lint openapi` (or `import openapi`) on an OpenAPI document.
    Openapi {
        /// The document, relative to the crate root.
        doc: PathBuf,
        /// `lint` or `import`.
        command: &'static str,
        /// Extra arguments before the path.
        args: Vec<String>,
    },
}

impl Case {
    /// The case `rel` (a path relative to the crate root `root`) stands for, if any. The kind
    /// is decided by the feature directory and the extension; a case needs its `.expected`
    /// snapshot next to it, unless `BLESS` is set (which creates it).
    fn from_path(root: &Path, rel: &Path) -> Option<Case> {
        let abs = root.join(rel);
        let feature = rel.strip_prefix(CASES).ok()?.components().next()?;
        let feature = feature.as_os_str().to_str()?;
        let ext = rel.extension()?.to_str()?;
        if !abs.with_extension("expected").exists() && std::env::var_os("BLESS").is_none() {
            return None;
        }
        match (feature, ext) {
            ("check", "policy") => Some(Case::Check {
                policy: rel.to_path_buf(),
                args: args_of(&abs),
            }),
            ("openapi", "yaml" | "json") => Some(Case::Openapi {
                doc: rel.to_path_buf(),
                command: if rel.components().any(|c| c.as_os_str() == "import") {
                    "import"
                } else {
                    "lint"
                },
                args: args_of(&abs),
            }),
            // Another kind of case: add a `Case` variant and an arm here, e.g.
            // `("eval", "json")` for request descriptions. Other directories under
            // `tests/cases/` (`fmt`, `policytest`) have runners of their own.
            _ => None,
        }
    }

    fn path(&self) -> &Path {
        match self {
            Case::Check { policy, .. } => policy,
            Case::Openapi { doc, .. } => doc,
        }
    }

    fn expected_path(&self) -> PathBuf {
        self.path().with_extension("expected")
    }

    /// Runs the case, returning the text to compare with the snapshot.
    fn run(&self) -> String {
        match self {
            Case::Check { policy, args } => {
                let out = orgscope()
                    .arg("check")
                    .args(args)
                    .arg(policy)
                    .output()
                    .expect("run orgscope");
                assert!(
                    out.stdout.is_empty(),
                    "{}: `orgscope check` wrote to stdout in text mode",
                    policy.display()
                );
                format!(
                    "exit: {}\n{}",
                    out.status
                        .code()
                        .map_or("signal".to_string(), |c| c.to_string()),
                    String::from_utf8_lossy(&out.stderr)
                )
            }
            Case::Openapi { doc, command, args } => {
                let out = orgscope()
                    .args([command, "openapi"])
                    .args(args)
                    .arg(doc)
                    .output()
                    .expect("run orgscope");
                format!(
                    "exit: {}\n{}{}",
                    out.status
                        .code()
                        .map_or("signal".to_string(), |c| c.to_string()),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            }
        }
    }
}

/// The extra arguments in the `.args` file next to a case, if any.
fn args_of(abs: &Path) -> Vec<String> {
    std::fs::read_to_string(abs.with_extension("args"))
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Every file under `dir`, recursively, relative to the crate root, sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let root = Path::new(common::ROOT);
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| dir.join(e.file_name()))
        .collect();
    paths.sort();
    for p in paths {
        if root.join(&p).is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// A line diff of two texts: `-` expected only, `+` actual only, ` ` both.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // Longest common subsequence table, from the ends.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out += &format!("  {}\n", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out += &format!("- {}\n", a[i]);
            i += 1;
        } else {
            out += &format!("+ {}\n", b[j]);
            j += 1;
        }
    }
    out
}

#[test]
fn fixtures() {
    let root = Path::new(common::ROOT);
    let bless = std::env::var_os("BLESS").is_some();
    let mut files = Vec::new();
    walk(Path::new(CASES), &mut files);
    let cases: Vec<Case> = files
        .iter()
        .filter_map(|p| Case::from_path(root, p))
        .collect();
    assert!(!cases.is_empty(), "no fixtures found under {CASES}");

    let mut failures = Vec::new();
    for case in &cases {
        let actual = case.run();
        let expected_path = root.join(case.expected_path());
        if bless {
            std::fs::write(&expected_path, &actual).expect("write snapshot");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "── {} (- expected, + actual)\n{}",
                case.path().display(),
                diff(&expected, &actual)
            ));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} of {} fixtures differ from their snapshots (BLESS=1 to accept):\n\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}

/// The shipped policies are the language's showcase: they must check with no diagnostic at all.
#[test]
fn shipped_policies_check_clean() {
    let mut files = Vec::new();
    walk(Path::new("policies"), &mut files);
    let policies: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .collect();
    assert!(policies.len() >= 2, "shipped policies missing: {files:?}");
    for policy in policies {
        for format in ["text", "json"] {
            let out = orgscope()
                .args(["check", "--deny-warnings", "--format", format])
                .arg(policy)
                .output()
                .expect("run orgscope");
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                policy.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stdout.is_empty(),
                "{}: stdout not empty",
                policy.display()
            );
            assert!(
                out.stderr.is_empty(),
                "{}: stderr not empty",
                policy.display()
            );
        }
    }
}

/// `docs/diagnostics.md` lists every code the checker can report (`orgscope::check::codes()`),
/// and every listed code has an `err_<code>.policy` fixture whose snapshot shows it; every code
/// a snapshot shows is listed.
#[test]
fn every_code_is_documented_and_has_a_fixture() {
    let root = Path::new(common::ROOT);
    let docs = std::fs::read_to_string(root.join("docs/diagnostics.md")).expect("read docs");
    let table = docs
        .split("\n## Codes")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a `## Codes` section");
    let documented: Vec<&str> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
        .collect();
    let undocumented: Vec<&str> = orgscope::check::codes()
        .filter(|c| !documented.contains(c))
        .collect();
    assert!(
        undocumented.is_empty(),
        "checker codes missing from docs/diagnostics.md: {undocumented:?}"
    );

    let dir = root.join(CASES).join("check");
    let mut missing = Vec::new();
    for code in &documented {
        let expected =
            std::fs::read_to_string(dir.join(format!("err_{code}.expected"))).unwrap_or_default();
        if !expected.contains(&format!("[{code}]")) {
            missing.push(*code);
        }
    }
    assert!(
        missing.is_empty(),
        "codes without an err_<code> fixture showing them: {missing:?}"
    );

    let mut shown = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("read fixtures") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "expected") {
            let text = std::fs::read_to_string(&path).expect("read snapshot");
            for line in text.lines() {
                let code = ["error[", "warning["]
                    .iter()
                    .find_map(|p| line.strip_prefix(p)?.split(']').next());
                if let Some(code) = code {
                    shown.insert(code.to_string());
                }
            }
        }
    }
    let undocumented: Vec<&String> = shown
        .iter()
        .filter(|c| !documented.contains(&c.as_str()))
        .collect();
    assert!(
        undocumented.is_empty(),
        "codes missing from docs/diagnostics.md: {undocumented:?}"
    );
}
