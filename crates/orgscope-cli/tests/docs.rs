//! The policy examples in `docs/` through the real binary: canonical layout, clean checks, and
//! the overview's decision replayed. (`docs/guide.md` is replayed as a session by `policy_test.rs`.)

mod common;

use common::{orgscope, stdout, ROOT};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One ```` ```orgscope ```` block: where it is, its fence words after `orgscope`, its text.
struct Block {
    at: String,
    kind: String,
    text: String,
}

/// Every `orgscope` block of one Markdown file, indentation removed (blocks inside list items
/// are indented with their item).
fn orgscope_blocks(doc: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(doc).expect("read doc");
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let indent = lines[i].len() - trimmed.len();
        if let Some(info) = trimmed.strip_prefix("```orgscope") {
            let start = i + 1;
            let mut body = String::new();
            i += 1;
            while !lines[i].trim_start().starts_with("```") {
                body.push_str(lines[i].get(indent..).unwrap_or(""));
                body.push('\n');
                i += 1;
            }
            blocks.push(Block {
                at: format!("{}:{start}", doc.display()),
                kind: info.trim().to_owned(),
                text: body,
            });
        }
        i += 1;
    }
    blocks
}

/// The Markdown files whose policy examples are held to the formatter and the checker.
fn docs() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| !p.ends_with("guide.md"))
        .collect();
    docs.push(Path::new(ROOT).join("README.md"));
    docs.sort();
    docs
}

/// A scratch directory for this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orgscope-docs-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Every example is in the formatter's layout and, unless it is marked as a `fragment` of a
/// larger policy (it names declarations shown elsewhere), checks with no diagnostic at all.
/// A `layout` block shows a layout the formatter would change (the lexical section's "these
/// two are the same"): it must still parse.
#[test]
fn every_policy_example_is_canonical_and_checks_clean() {
    let dir = scratch("blocks");
    let mut failures = Vec::new();
    let mut seen = 0;
    for doc in docs() {
        for block in orgscope_blocks(&doc) {
            seen += 1;
            let file = dir.join(format!("example{seen}.policy"));
            std::fs::write(&file, &block.text).expect("write example");
            let file = file.to_str().expect("utf-8 path");
            let run = |args: &[&str]| orgscope().args(args).output().expect("run orgscope");
            let (what, out) = match block.kind.as_str() {
                "" => {
                    let fmt = run(&["fmt", "--check", file]);
                    if fmt.status.success() {
                        ("check", run(&["check", "--deny-warnings", file]))
                    } else {
                        ("fmt --check", fmt)
                    }
                }
                "fragment" => ("fmt --check", run(&["fmt", "--check", file])),
                "layout" => ("fmt", run(&["fmt", file])),
                other => {
                    failures.push(format!("{}: unknown block kind `{other}`", block.at));
                    continue;
                }
            };
            if !out.status.success() {
                failures.push(format!(
                    "{}: `orgscope {what}` fails:\n{}{}",
                    block.at,
                    stdout(&out),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(seen >= 10, "only {seen} orgscope blocks found in docs/");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The overview of `docs/language.md` shows a policy, a request and "the decision for it": the
/// engine gives exactly that decision, rule location included.
#[test]
fn language_overview_decision_is_the_engines() {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/language.md")).expect("read");
    let policy = &orgscope_blocks(&Path::new(ROOT).join("docs/language.md"))[0];
    assert!(
        policy.text.starts_with("# billing.policy"),
        "{}",
        policy.text
    );
    let after = &doc[doc.find("# billing.policy").expect("overview")..];
    let json: Vec<&str> = after
        .split("```json\n")
        .skip(1)
        .take(2)
        .map(|b| &b[..b.find("```").expect("closed block")])
        .collect();
    let dir = scratch("overview");
    std::fs::write(dir.join("billing.policy"), &policy.text).expect("write policy");
    std::fs::write(dir.join("request.json"), json[0]).expect("write request");
    let out = orgscope()
        .current_dir(&dir)
        .args(["eval", "--policy", "billing.policy", "request.json"])
        .output()
        .expect("run orgscope");
    std::fs::remove_dir_all(&dir).ok();
    let given: Value = serde_json::from_str(&stdout(&out)).expect("a decision");
    let shown: Value = serde_json::from_str(json[1]).expect("the documented decision");
    assert_eq!(given, shown);
}
