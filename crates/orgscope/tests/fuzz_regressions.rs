//! The fuzz targets' assertions, replayed on stable Rust by `cargo test` (docs/fuzzing.md).
//!
//! `fuzz/src/checks.rs` holds the invariants of the four libFuzzer targets; it is included here
//! by path, so every file of the committed seed corpus (`fuzz/seeds/<target>/`) and every kept
//! crash input (`fuzz/regressions/<target>/`) is re-checked without the fuzzer. A finding gets a
//! named test below with its minimal input as well.

#[path = "../../../fuzz/src/checks.rs"]
mod checks;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Every file under `fuzz/<dir>/<target>/`, sorted.
fn inputs(dir: &str, target: &str) -> Vec<PathBuf> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(dir)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` over the seeds and kept crash inputs of `target`; fails naming every input that
/// broke an invariant.
fn replay(target: &str, check: fn(&[u8])) {
    let seeds = inputs("seeds", target);
    assert!(
        !seeds.is_empty(),
        "no seeds in fuzz/seeds/{target}: run `python3 fuzz/scripts/corpus.py seeds`"
    );
    let mut failures = Vec::new();
    for path in seeds.iter().chain(&inputs("regressions", target)) {
        let data = std::fs::read(path).expect("readable input");
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {why}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn policy_check_corpus() {
    replay("policy_check", checks::policy_check);
}

#[test]
fn request_eval_corpus() {
    replay("request_eval", checks::request_eval);
}

#[test]
fn fmt_roundtrip_corpus() {
    replay("fmt_roundtrip", checks::fmt_roundtrip);
}

#[test]
fn batch_stream_corpus() {
    replay("batch_stream", checks::batch_stream);
}

// ------------------------------------------------------------------ the oracles are not vacuous

#[test]
#[should_panic(expected = "deny ⇔ errors")]
fn check_decision_rejects_an_allow_with_errors() {
    let d = serde_json::json!({
        "decision": "allow", "status": 200, "visible_orgs": null, "include_unlabeled": true,
        "labels": [], "errors": [{"code": "not_found", "message": "x", "rule": null}],
    });
    checks::check_decision(&d, None);
}

#[test]
#[should_panic(expected = "is not one of the user's")]
fn check_decision_rejects_a_visible_org_the_user_lacks() {
    let d = serde_json::json!({
        "decision": "allow", "status": 200, "visible_orgs": ["Asia", "Japan"],
        "include_unlabeled": true, "labels": [], "errors": [],
    });
    checks::check_decision(&d, Some(&["Asia".to_string()]));
}

#[test]
fn targets_accept_edge_inputs() {
    for data in [
        &b""[..],
        b"\n\n \r\n",
        b"\xff\xfe",
        b"{",
        b"{\n",
        b"}",
        b"[[[[[[[[",
        b"{\"user\":{\"orgs\":[\" Asia \"]},\"method\":\"POST\",\"path\":\"/query/jobs\"}",
    ] {
        checks::policy_check(data);
        checks::request_eval(data);
        checks::fmt_roundtrip(data);
        checks::batch_stream(data);
    }
}
