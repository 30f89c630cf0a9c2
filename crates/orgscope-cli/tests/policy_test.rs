//! `orgscope test` and `orgscope eval --explain=text` through the real binary.
//!
//! Snapshots live in `tests/cases/policytest/`: each `<name>.out` holds the exit status, stdout
//! and stderr of one run (the command is in the test below). `BLESS=1 cargo test --test
//! policy_test` rewrites them; review the diff before committing. The fixture test files there
//! end in `.json`, not `.test.json`, so `orgscope test` run over the whole tree does not pick up
//! their deliberately failing tests.

mod common;

use common::{stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CASES: &str = "crates/orgscope-cli/tests/cases/policytest";

fn orgscope(args: &[&str]) -> Output {
    run_in(Path::new(common::ROOT), args, b"")
}

fn run_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = common::orgscope();
    cmd.current_dir(dir).args(args);
    common::run_with_input(cmd, stdin)
}

/// Compares a run with `tests/cases/policytest/<name>.out` (or writes it, with `BLESS`).
fn snapshot(name: &str, out: &Output) {
    let actual = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().map_or("signal".into(), |c| c.to_string()),
        stdout(out),
        stderr(out)
    );
    let path = Path::new(common::ROOT)
        .join(CASES)
        .join(format!("{name}.out"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs from the snapshot (BLESS=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

/// A fresh scratch directory under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("orgscope-ptest-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn zuora_policy() -> String {
    Path::new(common::ROOT)
        .join("policies/zuora-multi-org.policy")
        .display()
        .to_string()
}

#[test]
fn shipped_test_files_pass_with_full_coverage() {
    let out = orgscope(&["test", "--min-coverage", "100", "policies"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(!text.contains("FAILED"), "{text}");
    for policy in ["aep-organization-id", "zuora-multi-org"] {
        let prefix = format!("coverage: policies/{policy}.policy: ");
        let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap();
        let counts = line.strip_prefix(&prefix).unwrap();
        let (covered, rest) = counts.split_once(" of ").unwrap();
        assert_eq!(rest, format!("{covered} rules exercised (100%)"), "{line}");
        assert!(covered.parse::<usize>().unwrap() >= 9, "{line}");
    }
    assert!(!text.contains("not exercised"), "{text}");
    let summary = last_line(&text);
    let (passed, failed) = summary.split_once(" passed, ").unwrap();
    assert!(passed.parse::<usize>().unwrap() >= 90, "{summary}");
    assert_eq!(failed, "0 failed");
}

#[test]
fn seed_table_is_in_the_shipped_tests() {
    let out = orgscope(&[
        "test",
        "--filter",
        "seed",
        "policies/zuora-multi-org.test.json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for seed in 1..=4 {
        assert!(text.contains(&format!("ok      seed {seed}: ")), "{text}");
    }
    assert_eq!(last_line(&text), "4 passed, 0 failed");
}

#[test]
fn a_wrong_expectation_fails_with_a_readable_diff() {
    let out = orgscope(&[
        "test",
        "crates/orgscope-cli/tests/cases/policytest/wrong_expectation.json",
    ]);
    snapshot("wrong_expectation", &out);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert_eq!(last_line(&text), "2 passed, 2 failed");
    assert!(
        text.contains("  expected: [\"China\"]\n          actual:   null\n"),
        "{text}"
    );
    assert!(
        text.contains("to allow it: the user would need access to `China`"),
        "{text}"
    );
}

#[test]
fn explain_shows_the_whole_trace_of_failed_tests() {
    let out = orgscope(&[
        "test",
        "--explain",
        "--filter",
        "China",
        "crates/orgscope-cli/tests/cases/policytest/wrong_expectation.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("  route: matched `/query/jobs` -> query\n"),
        "{text}"
    );
    assert!(
        text.contains("        1. crates/orgscope-cli/tests/cases/policytest/zuora.policy:"),
        "{text}"
    );
    assert_eq!(last_line(&text), "0 passed, 1 failed");
}

#[test]
fn coverage_names_the_rules_no_test_reaches() {
    let file = "crates/orgscope-cli/tests/cases/policytest/partial_coverage.json";
    let out = orgscope(&["test", "--coverage", file]);
    snapshot("partial_coverage", &out);
    assert_eq!(out.status.code(), Some(0), "coverage alone never fails");
    let text = stdout(&out);
    let uncovered = |needle: &str| {
        text.lines().any(|l| {
            l.starts_with(
                "  not exercised: crates/orgscope-cli/tests/cases/policytest/zuora.policy:",
            ) && l.contains(needle)
        })
    };
    assert!(uncovered("route POST   /v1/invoices"), "{text}");
    assert!(uncovered("object custom_object {"), "{text}");
    assert!(!uncovered("route POST   /query/jobs"), "{text}");
    assert_eq!(last_line(&text), "2 passed, 0 failed");

    let out = orgscope(&["test", "--min-coverage", "100", file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("below --min-coverage 100%"));
    assert_eq!(last_line(&stdout(&out)), "2 passed, 0 failed");
    let out = orgscope(&["test", "--min-coverage", "5", file]);
    assert_eq!(out.status.code(), Some(0));
    let out = orgscope(&["test", "--min-coverage", "101", file]);
    assert_eq!(out.status.code(), Some(2), "out of range");
}

#[test]
fn json_format() {
    let out = orgscope(&[
        "test",
        "--format",
        "json",
        "--coverage",
        "crates/orgscope-cli/tests/cases/policytest/wrong_expectation.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["test", "test", "test", "test", "coverage", "summary"]
    );
    let ok = &lines[0];
    assert_eq!(ok["result"], "ok");
    assert_eq!(
        ok["file"],
        "crates/orgscope-cli/tests/cases/policytest/wrong_expectation.json"
    );
    assert_eq!(
        ok["policy"],
        "crates/orgscope-cli/tests/cases/policytest/zuora.policy"
    );
    assert!(ok.get("decision").is_none());
    let failed = &lines[1];
    assert_eq!(failed["result"], "failed");
    assert_eq!(
        failed["mismatches"][0],
        serde_json::json!({"field": "decision", "expected": "allow", "actual": "deny"})
    );
    assert_eq!(failed["decision"]["errors"][0]["code"], "org_access_denied");
    assert!(failed["decision"].get("trace").is_none());
    assert_eq!(
        lines[4]["policy"],
        "crates/orgscope-cli/tests/cases/policytest/zuora.policy"
    );
    assert_eq!(lines[4]["rules"], 38);
    assert!(lines[4]["uncovered"][0]["text"].is_string());
    assert_eq!(
        lines[5],
        serde_json::json!({"type": "summary", "passed": 2, "failed": 2, "errors": 0})
    );
}

#[test]
fn a_bad_key_fails_its_test_with_its_line_and_the_others_still_run() {
    let file = "crates/orgscope-cli/tests/cases/policytest/unknown_expect_field.json";
    let out = orgscope(&["test", file]);
    snapshot("unknown_expect_field", &out);
    assert_eq!(out.status.code(), Some(1));

    let out = orgscope(&["test", "--format", "json", file]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "test");
    assert_eq!(lines[0]["result"], "failed");
    assert_eq!(
        lines[0]["problems"],
        serde_json::json!([
            "line 7: unknown expected field `visibl_orgs`; did you mean `visible_orgs`?"
        ])
    );
    assert_eq!(lines[0]["mismatches"], serde_json::json!([]));
    // The second test matches on every known field, but its own typos fail it, each named.
    assert_eq!(lines[1]["result"], "failed");
    let problems = lines[1]["problems"].as_array().unwrap();
    assert_eq!(
        problems[0],
        "line 12: unknown expected field `stauts`; did you mean `status`?"
    );
    assert!(problems[1]
        .as_str()
        .unwrap()
        .starts_with("line 12: unknown expected field `zzz`; a test may expect `decision`"));
    let summary = lines.last().unwrap();
    assert_eq!(summary["errors"], 0);
    assert_eq!(summary["failed"], 2);
}

#[test]
fn exit_codes_for_broken_inputs() {
    let dir = scratch("broken");
    let policy = zuora_policy();
    let good_test = format!(
        r#"{{"policy": {policy:?}, "tests": [{{"name": "q", "request": {{"action": "query", "user": {{"orgs": ["Asia"]}}}}, "expect": {{"decision": "allow"}}}}]}}"#
    );
    std::fs::write(dir.join("good.test.json"), &good_test).unwrap();
    std::fs::write(
        dir.join("syntax.test.json"),
        "{\"tests\": [\n  {\"name\": }\n]}",
    )
    .unwrap();
    std::fs::write(
        dir.join("bad.policy"),
        "object account { label body.x }\nroute POST /x -> create acount\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("bad.test.json"),
        r#"{"tests": [{"name": "t", "request": {"action": "query", "user": {"orgs": []}}, "expect": {"decision": "allow"}}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("nopolicy.test.json"),
        r#"{"tests": [{"name": "t", "expect": {"decision": "allow"}}]}"#,
    )
    .unwrap();

    // Each broken file is reported; the good one still runs; the exit status is 2.
    let out = run_in(&dir, &["test"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let (out_text, err) = (stdout(&out), stderr(&out));
    assert_eq!(last_line(&out_text), "1 passed, 0 failed", "{out_text}");
    assert!(err.contains("syntax.test.json:2:12: "), "{err}");
    assert!(
        err.contains("bad.policy:2:"),
        "the policy's diagnostics: {err}"
    );
    assert!(err.contains("policy `bad.policy` did not load"), "{err}");
    assert!(
        err.contains("error: cannot read `nopolicy.policy`: "),
        "{err}"
    );

    // A path that does not exist, and a directory without test files.
    let out = run_in(&dir, &["test", "no/such/file.test.json"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read `no/such/file.test.json`"));
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    let out = run_in(&dir, &["test", "empty"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no test files (`*.test.json`) under `empty`"));
    assert_eq!(last_line(&stdout(&out)), "0 passed, 0 failed");

    // Only the good file: exit 0.
    let out = run_in(&dir, &["test", "good.test.json"], b"");
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn directories_are_searched_recursively_skipping_hidden_and_target() {
    let dir = scratch("walk");
    let policy = zuora_policy();
    let test = |name: &str| {
        format!(
            r#"{{"policy": {policy:?}, "tests": [{{"name": {name:?}, "request": {{"action": "query", "user": {{"orgs": ["Asia"]}}}}, "expect": {{"visible_orgs": ["Asia"]}}}}]}}"#
        )
    };
    for (sub, name) in [
        ("a/b", "deep"),
        ("", "top"),
        (".hidden", "hidden"),
        ("target", "built"),
    ] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::write(dir.join(sub).join(format!("{name}.test.json")), test(name)).unwrap();
    }
    // Not a test file by name: only run when named explicitly.
    std::fs::write(dir.join("other.json"), test("other")).unwrap();

    let out = run_in(&dir, &["test"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("a/b/deep.test.json: 1 test of "), "{text}");
    assert!(text.contains("\ntop.test.json: 1 test of "), "{text}");
    // File names, not words: the policy's path (the checkout's) may hold any word.
    for skipped in ["hidden.test.json", "built.test.json", "other.json"] {
        assert!(!text.contains(skipped), "{skipped} was run: {text}");
    }
    assert_eq!(last_line(&text), "2 passed, 0 failed");

    let out = run_in(&dir, &["test", "other.json", "."], b"");
    assert_eq!(last_line(&stdout(&out)), "3 passed, 0 failed");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn defaults_and_shared_entities_from_a_file() {
    let dir = scratch("defaults");
    std::fs::write(
        dir.join("billing.policy"),
        "object account { label body.organizationLabel }\n\
         object invoice {\n  inherit account via body.accountId\n}\n\
         fallback default_org\n\
         route POST /v1/invoices -> create invoice\n",
    )
    .unwrap();
    let policy = "billing.policy";
    std::fs::write(
        dir.join("accounts.ndjson"),
        "{\"type\": \"account\", \"id\": \"A-1\", \"org\": \"China\"}\n",
    )
    .unwrap();
    let file = format!(
        r#"{{
  "policy": {policy:?},
  "entities": "accounts.ndjson",
  "defaults": {{"method": "POST", "path": "/v1/invoices", "user": {{"orgs": ["Asia", "China"], "default_org": "Asia"}}}},
  "tests": [
    {{"name": "inherits", "request": {{"body": {{"accountId": "A-1"}}}},
      "expect": {{"labels": [{{"org": "China", "source": "inherited", "from": "account A-1"}}]}}}},
    {{"name": "null removes a default", "request": {{"user": {{"default_org": null}}, "body": {{}}}},
      "expect": {{"code": "parent_required", "rule": "billing.policy:3:3"}}}},
    {{"name": "a typo in the request is an invalid_request deny", "request": {{"usr": {{}}}},
      "expect": {{"code": "invalid_request", "message": "invalid request: unknown field `usr`, expected one of `id`, `method`, `path`, `headers`, `query`, `body`, `user`, `tenant`, `action`, `object`, `entities`"}}}}
  ]
}}"#
    );
    std::fs::write(dir.join("invoices.test.json"), file).unwrap();
    let out = run_in(&dir, &["test", "invoices.test.json"], b"");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(last_line(&stdout(&out)), "3 passed, 0 failed");

    std::fs::write(
        dir.join("accounts.ndjson"),
        "{\"type\": \"acount\", \"id\": \"A-1\", \"org\": \"China\"}\n",
    )
    .unwrap();
    let out = run_in(&dir, &["test", "invoices.test.json"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("entities file `accounts.ndjson`: line 1: unknown object type `acount`"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_text_numbers_the_steps_and_ends_with_the_way_to_an_allow() {
    let root = Path::new(common::ROOT);
    let requests = std::fs::read(root.join(CASES).join("explain.ndjson")).unwrap();
    let args = [
        "eval",
        "--policy",
        "crates/orgscope-cli/tests/cases/policytest/zuora.policy",
        "--explain=text",
    ];
    let out = run_in(root, &args, &requests);
    snapshot("explain", &out);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let first: Vec<&str> = text.lines().take(6).collect();
    assert_eq!(first[0], "request 1 (id \"seed-4\")");
    assert!(
        first[1].starts_with("1. crates/orgscope-cli/tests/cases/policytest/zuora.policy:"),
        "{text}"
    );
    assert!(
        first[1].ends_with("  route: matched `/query/jobs` -> query"),
        "{text}"
    );
    assert!(
        first[2].starts_with("2. crates/orgscope-cli/tests/cases/policytest/zuora.policy:"),
        "{text}"
    );
    assert!(first[2].ends_with("  multi_org: enabled"), "{text}");
    let decided = "=> deny 403 org_access_denied, decided by crates/orgscope-cli/tests/cases/policytest/zuora.policy:";
    assert!(first[3].starts_with(decided), "{text}");
    assert_eq!(first[4], "   the user has no access to org `China`");
    assert_eq!(
        first[5],
        "   to allow it: the user would need access to `China`"
    );

    // `--explain` alone and `--explain=json` keep the JSON trace; a path after a bare
    // `--explain` is the request file, not the format.
    let file = root.join(CASES).join("explain.ndjson");
    let file = file.to_str().unwrap();
    for explain in ["--explain", "--explain=json"] {
        let out = run_in(
            root,
            &[
                "eval",
                "--policy",
                "crates/orgscope-cli/tests/cases/policytest/zuora.policy",
                explain,
                file,
            ],
            b"",
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let first: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
        assert_eq!(first["id"], "seed-4");
        assert!(first["trace"].is_array());
    }
    let out = run_in(
        root,
        &[
            "eval",
            "--policy",
            "crates/orgscope-cli/tests/cases/policytest/zuora.policy",
            "--explain=yaml",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
}

/// One fenced block of `docs/guide.md`: its language and line range (fences included).
struct Block {
    lang: String,
    open: usize,
    close: usize,
    text: String,
}

/// What an HTML comment `<!-- guide: ... -->` before a block asks for.
enum Directive {
    /// Write the next block to the file.
    Write(String),
    /// Append the next block to the file.
    Append(String),
    /// Insert the next block before the first line starting with the text.
    Insert(String, String),
    /// Replace the first occurrence of a text in the file (no block).
    Edit(String, String, String),
    /// Do not run the next block.
    Skip,
}

fn directive(line: &str) -> Option<Directive> {
    let rest = line
        .trim()
        .strip_prefix("<!-- guide:")?
        .strip_suffix("-->")?
        .trim();
    let (verb, args) = rest.split_once(' ').unwrap_or((rest, ""));
    let (file, args) = args.split_once(' ').unwrap_or((args, ""));
    let strings: Vec<String> =
        serde_json::Deserializer::from_str(args.trim_start_matches("before"))
            .into_iter::<String>()
            .map(Result::unwrap)
            .collect();
    Some(match verb {
        "write" => Directive::Write(file.into()),
        "append" => Directive::Append(file.into()),
        "insert" => Directive::Insert(file.into(), strings[0].clone()),
        "edit" => Directive::Edit(file.into(), strings[0].clone(), strings[1].clone()),
        "skip" => Directive::Skip,
        other => panic!("unknown guide directive `{other}` in {line}"),
    })
}

fn normalize_output(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end()
        .to_string()
}

/// Replays `docs/guide.md` in a scratch directory: files are written and edited as its
/// `<!-- guide: ... -->` comments say, every `sh` block is run, and its output (stdout and
/// stderr together) must be the `text` block right after it, or nothing when there is none.
/// `BLESS=1` rewrites the outputs in the guide instead.
#[test]
fn guide_commands_work() {
    let root = Path::new(common::ROOT);
    let guide_path = root.join("docs/guide.md");
    let guide = std::fs::read_to_string(&guide_path).unwrap();
    let lines: Vec<&str> = guide.lines().collect();
    let dir = scratch("guide");
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    for e in std::fs::read_dir(root.join("policies")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("policies").join(e.file_name())).unwrap();
    }
    let cwd = dir.join("scratch");
    std::fs::create_dir_all(&cwd).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_orgscope")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    // The fenced blocks and the directives, in order.
    let mut blocks = Vec::new();
    let mut directives: Vec<(usize, Directive)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some(lang) = lines[i].strip_prefix("```") {
            let open = i;
            i += 1;
            while !lines[i].starts_with("```") {
                i += 1;
            }
            let text = lines[open + 1..i].join("\n");
            blocks.push(Block {
                lang: lang.trim().to_string(),
                open,
                close: i,
                text,
            });
        } else if let Some(d) = directive(lines[i]) {
            directives.push((i, d));
        }
        i += 1;
    }

    let file = |name: &str| cwd.join(name);
    let mut failures = Vec::new();
    // (sh block index, text block index if any, actual output)
    let mut results: Vec<(usize, Option<usize>, String)> = Vec::new();
    let mut pending: Option<Directive> = None;
    let mut next_directive = directives.into_iter().peekable();
    for (b, block) in blocks.iter().enumerate() {
        while let Some((_, d)) = next_directive.next_if(|(line, _)| *line < block.open) {
            match d {
                Directive::Edit(name, old, new) => {
                    let text = std::fs::read_to_string(file(&name)).unwrap();
                    assert!(text.contains(&old), "guide edit: `{old}` not in {name}");
                    std::fs::write(file(&name), text.replacen(&old, &new, 1)).unwrap();
                }
                other => pending = Some(other),
            }
        }
        let content = format!("{}\n", block.text);
        match pending.take() {
            Some(Directive::Write(name)) => std::fs::write(file(&name), content).unwrap(),
            Some(Directive::Append(name)) => {
                let text = std::fs::read_to_string(file(&name)).unwrap();
                std::fs::write(file(&name), text + &content).unwrap();
            }
            Some(Directive::Insert(name, before)) => {
                let text = std::fs::read_to_string(file(&name)).unwrap();
                let at = text
                    .match_indices(&before)
                    .map(|(i, _)| i)
                    .find(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n')
                    .unwrap_or_else(|| panic!("guide insert: no line `{before}` in {name}"));
                std::fs::write(
                    file(&name),
                    format!("{}{content}{}", &text[..at], &text[at..]),
                )
                .unwrap();
            }
            Some(Directive::Skip) => {}
            Some(Directive::Edit(..)) => unreachable!(),
            None if block.lang == "sh" => {
                let out = Command::new("sh")
                    .arg("-c")
                    .arg(format!("exec 2>&1\n{}", block.text))
                    .current_dir(&cwd)
                    .env("PATH", &path)
                    .env("NO_COLOR", "1")
                    .output()
                    .unwrap();
                let actual = normalize_output(&String::from_utf8_lossy(&out.stdout));
                let output_block = blocks.get(b + 1).filter(|next| {
                    next.lang == "text"
                        && lines[block.close + 1..next.open]
                            .iter()
                            .all(|l| l.trim().is_empty())
                });
                let expected = output_block.map_or(String::new(), |o| normalize_output(&o.text));
                if expected != actual {
                    failures.push(format!(
                        "docs/guide.md:{}: `{}`\n--- expected\n{expected}\n--- actual\n{actual}\n",
                        block.open + 1,
                        block.text
                    ));
                }
                results.push((b, output_block.map(|_| b + 1), actual));
            }
            None => {}
        }
    }

    if std::env::var_os("BLESS").is_some() {
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        for (sh, text, actual) in results.into_iter().rev() {
            let fenced = format!("```text\n{actual}\n```");
            match text {
                Some(t) if actual.is_empty() => {
                    out.splice(blocks[sh].close + 1..=blocks[t].close, []);
                }
                Some(t) => {
                    out.splice(blocks[t].open..=blocks[t].close, [fenced]);
                }
                None if !actual.is_empty() => {
                    let at = blocks[sh].close + 1;
                    out.splice(at..at, [String::new(), fenced]);
                }
                None => {}
            }
        }
        std::fs::write(&guide_path, out.join("\n") + "\n").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    assert!(
        failures.is_empty(),
        "{} command(s) of docs/guide.md print something else (BLESS=1 to accept):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
