//! `orgscope fmt`: the formatter through the crate and through the real binary.
//!
//! - Every `.policy` file under `policies/` and `tests/cases/` that parses (files with syntax
//!   errors, or not UTF-8, are skipped: they are other fixtures' business) must format to text
//!   that is a fixed point, parses to the same AST and has as many comments, and the binary must
//!   agree with the crate.
//! - `tests/cases/fmt/<name>.policy` is formatted and compared with `<name>.formatted`;
//!   `BLESS=1 cargo test --test fmt` rewrites the `.formatted` files (review the diff).
//! - The command line: `--check` (exit codes, diff), `--write` (rewrites once, then a no-op),
//!   standard input, syntax errors (exit 2, file untouched).
//! - Property: any re-spacing of a policy's tokens, with comments sprinkled in, formats without
//!   losing meaning or comments, idempotently.

mod common;

use common::{stderr, stdout};
use orgscope::diag::Source;
use orgscope::format::{format, FmtError};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Every `.policy` file under `dir` (relative to the crate root), sorted.
fn policy_files(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "policy") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new(dir), &mut out);
    out.sort();
    out
}

/// The policy files the formatter must handle: every one that parses without syntax errors.
fn parseable_policies() -> Vec<(PathBuf, Source)> {
    let mut files = policy_files("../../policies");
    files.extend(policy_files("tests/cases"));
    files
        .into_iter()
        .filter_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            let src = orgscope::parse::decode(&path.display().to_string(), bytes).ok()?;
            orgscope::parse::parse(&src)
                .1
                .is_empty()
                .then_some((path, src))
        })
        .collect()
}

/// Counts `#` comments, skipping quoted strings: an independent check of the formatter's lexer.
fn count_comments(text: &str) -> usize {
    let mut count = 0;
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_comment {
            in_comment = c != '\n';
        } else if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' || c == '\n' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            in_comment = true;
            count += 1;
        }
    }
    count
}

fn fmt(src: &Source) -> String {
    match format(src) {
        Ok(out) => out,
        Err(e) => panic!("{}: {e}: {e:?}", src.name()),
    }
}

/// Checks the formatter's promises for one source; returns the problems found.
fn check_promises(src: &Source) -> Vec<String> {
    let name = src.name();
    let out = match format(src) {
        Ok(out) => out,
        Err(e) => return vec![format!("{name}: {e}")],
    };
    let mut problems = Vec::new();
    let again = Source::new(name, out.clone());
    match format(&again) {
        Ok(twice) if twice == out => {}
        Ok(twice) => problems.push(format!(
            "{name}: not idempotent\n--- once\n{out}\n--- twice\n{twice}"
        )),
        Err(e) => problems.push(format!("{name}: formatting the output failed: {e}")),
    }
    let (before, _) = orgscope::parse::parse(src);
    let (after, errors) = orgscope::parse::parse(&again);
    if !errors.is_empty() || before != after {
        problems.push(format!("{name}: the formatted policy means something else"));
    }
    let (n, m) = (count_comments(src.text()), count_comments(&out));
    if n != m {
        problems.push(format!("{name}: {n} comments before, {m} after\n{out}"));
    }
    if !out.is_empty() && (!out.ends_with('\n') || out.ends_with("\n\n")) {
        problems.push(format!(
            "{name}: output does not end with exactly one newline"
        ));
    }
    if out.lines().any(|l| l.ends_with([' ', '\t', '\r'])) {
        problems.push(format!("{name}: output has trailing whitespace"));
    }
    problems
}

#[test]
fn every_policy_formats_idempotently_keeping_meaning_and_comments() {
    let policies = parseable_policies();
    assert!(
        policies.len() >= 10,
        "found only {} parseable policies",
        policies.len()
    );
    let problems: Vec<String> = policies
        .iter()
        .flat_map(|(_, src)| check_promises(src))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Runs `orgscope ARGS` with `stdin` as standard input, from this crate's folder (the paths
/// this file names are relative to it).
fn run(args: &[&str], stdin: &str) -> Output {
    let mut cmd = common::orgscope();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
    common::run_with_input(cmd, stdin.as_bytes())
}

#[test]
fn binary_agrees_with_the_crate_on_every_policy() {
    let mut problems = Vec::new();
    for (path, src) in parseable_policies() {
        let path = path.to_str().expect("UTF-8 path");
        let expected = fmt(&src);
        let out = run(&["fmt", path], "");
        if out.status.code() != Some(0) || stdout(&out) != expected {
            problems.push(format!(
                "{path}: `orgscope fmt` exited {:?}, stderr: {}",
                out.status.code(),
                stderr(&out)
            ));
        }
        let check = run(&["fmt", "--check", path], "");
        let changed = expected != src.text();
        let want = if changed { 1 } else { 0 };
        if check.status.code() != Some(want)
            || stdout(&check).is_empty() == changed
            || (changed && !stdout(&check).starts_with(&format!("--- {path}\n")))
        {
            problems.push(format!(
                "{path}: `orgscope fmt --check` exited {:?} (want {want}), stdout:\n{}",
                check.status.code(),
                stdout(&check)
            ));
        }
        let again = run(&["fmt", "--check"], &expected);
        if again.status.code() != Some(0) || !again.stdout.is_empty() {
            problems.push(format!(
                "{path}: the formatted text is not clean for `orgscope fmt --check` on stdin:\n{}",
                stdout(&again)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn fixtures_match_their_formatted_snapshots() {
    let bless = std::env::var_os("BLESS").is_some();
    let fixtures = policy_files("tests/cases/fmt");
    assert!(fixtures.len() >= 5, "fmt fixtures missing");
    let mut problems = Vec::new();
    for path in fixtures {
        let text = std::fs::read_to_string(&path).expect("read fixture");
        let src = Source::new(path.display().to_string(), text);
        let out = fmt(&src);
        let snapshot = path.with_extension("formatted");
        if bless {
            std::fs::write(&snapshot, &out).expect("write snapshot");
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == out => {}
            Ok(expected) => problems.push(format!(
                "{}: output differs from {}\n--- expected\n{expected}\n--- actual\n{out}",
                path.display(),
                snapshot.display()
            )),
            Err(e) => problems.push(format!(
                "{}: {e} (run with BLESS=1 to create it)",
                snapshot.display()
            )),
        }
        problems.extend(check_promises(&src));
        // The snapshot itself is canonical.
        problems.extend(check_promises(&Source::new("snapshot", out.clone())));
        if fmt(&Source::new("snapshot", out.clone())) != out {
            problems.push(format!("{}: snapshot is not a fixed point", path.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn comments_fixture_keeps_every_comment_in_place() {
    let text = std::fs::read_to_string("tests/cases/fmt/comments.policy").expect("fixture");
    let out = fmt(&Source::new("comments.policy", text.clone()));
    assert_eq!(count_comments(&text), count_comments(&out));
    assert_eq!(
        count_comments(&text),
        35,
        "the fixture changed; update this count"
    );
    for line in [
        "multi_org {  # after the opening brace",
        "  default enabled  # trailing on default",
        "  # before the closing brace\n}  # after the closing brace\n",
        "  org Asia id \"asia#1\"  # the `#` inside the id is not a comment",
        "  org \"Hash # Org\" parent Asia\n  # org Mars (commented out)\n\n  # another",
        "object product {  # why it is empty\n}\n",
        "object note {\n  # only a comment inside\n}\n",
        "  label body.organizationLabel  # trailing with extra spaces\n",
        "    justification \"because # this is text, not a comment\"  # but this is one\n",
        "  # before the service's `}`\n}\n\n# at the end of the file, after a blank line\n#no space after the hash\n",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
}

#[test]
fn syntax_errors_are_refused() {
    let src = Source::new("bad.policy", "object a {\n  label\n}\n");
    assert!(matches!(format(&src), Err(FmtError::Syntax(e)) if !e.is_empty()));
}

// ------------------------------------------------------------------------------------ CLI

/// A fresh directory for one test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fmt-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

const UNFORMATTED: &str = "route GET /a->query\nobject a {}\n";
const FORMATTED: &str = "route GET /a -> query\n\nobject a\n";

#[test]
fn check_prints_a_diff_and_exits_1_only_when_something_would_change() {
    let dir = temp_dir("check");
    let messy = dir.join("messy.policy");
    let clean = dir.join("clean.policy");
    std::fs::write(&messy, UNFORMATTED).expect("write");
    std::fs::write(&clean, FORMATTED).expect("write");
    let (messy_s, clean_s) = (messy.to_str().expect("path"), clean.to_str().expect("path"));

    let out = run(&["fmt", "--check", clean_s], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());

    let out = run(&["fmt", "--check", clean_s, messy_s], "");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "--- {messy_s}\n+++ {messy_s} (formatted)\n@@ -1,2 +1,3 @@\n-route GET /a->query\n-object a {{}}\n+route GET /a -> query\n+\n+object a\n"
        )
    );
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), UNFORMATTED);

    // Standard input, named `<stdin>` in the diff.
    let out = run(&["fmt", "--check", "-"], UNFORMATTED);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("--- <stdin>\n+++ <stdin> (formatted)\n"));
}

#[test]
fn write_rewrites_changed_files_once() {
    let dir = temp_dir("write");
    let messy = dir.join("messy.policy");
    let clean = dir.join("clean.policy");
    std::fs::write(&messy, UNFORMATTED).expect("write");
    std::fs::write(&clean, FORMATTED).expect("write");
    // An old modification time shows whether a file was written.
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    for f in [&messy, &clean] {
        std::fs::File::options()
            .write(true)
            .open(f)
            .and_then(|f| f.set_modified(old))
            .expect("set mtime");
    }
    let mtime = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .expect("mtime")
    };
    let (messy_s, clean_s) = (messy.to_str().expect("path"), clean.to_str().expect("path"));

    let out = run(&["fmt", "--write", messy_s, clean_s], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), FORMATTED);
    assert_ne!(mtime(&messy), old);
    assert_eq!(mtime(&clean), old, "an unchanged file was rewritten");

    // The second run is a no-op.
    let written = mtime(&messy);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = run(&["fmt", "--write", messy_s, clean_s], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mtime(&messy), written, "a formatted file was rewritten");
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[cfg(unix)]
#[test]
fn write_keeps_permissions_and_follows_symlinks() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = temp_dir("write-unix");
    let target = dir.join("target.policy");
    let link = dir.join("link.policy");
    std::fs::write(&target, UNFORMATTED).expect("write");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    std::os::unix::fs::symlink("target.policy", &link).expect("symlink");
    let out = run(&["fmt", "--write", link.to_str().expect("path")], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link)
        .expect("lstat")
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).expect("read"), FORMATTED);
    let mode = std::fs::metadata(&target)
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
}

#[test]
fn standard_input_goes_to_standard_output() {
    for args in [&["fmt"][..], &["fmt", "-"][..]] {
        let out = run(args, UNFORMATTED);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(stdout(&out), FORMATTED);
    }
    let out = run(&["fmt", "--write", "-"], UNFORMATTED);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`--write` needs file names"));
    let out = run(&["fmt", "--write", "--check", "x.policy"], "");
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap rejects --write with --check"
    );
}

#[test]
fn syntax_errors_exit_2_and_leave_the_file_untouched() {
    let dir = temp_dir("syntax");
    let bad = dir.join("bad.policy");
    let good = dir.join("good.policy");
    let bad_text = "object a {\n  label\n}\n# keep   \n";
    std::fs::write(&bad, bad_text).expect("write");
    std::fs::write(&good, UNFORMATTED).expect("write");
    let (bad_s, good_s) = (bad.to_str().expect("path"), good.to_str().expect("path"));

    let out = run(&["fmt", "--write", bad_s, good_s], "");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("error[syntax]"), "{err}");
    assert!(err.contains(&format!("{bad_s}:3:1")), "{err}");
    assert!(
        err.contains(&format!("error: `{bad_s}` was not formatted")),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&bad).expect("read"), bad_text);
    // The other file is still formatted.
    assert_eq!(std::fs::read_to_string(&good).expect("read"), FORMATTED);

    for args in [&["fmt", bad_s][..], &["fmt", "--check", bad_s][..]] {
        let out = run(args, "");
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty(), "{}", stdout(&out));
    }
    // A syntax error outranks "would change".
    let out = run(&["fmt", "--check", good_s, bad_s], "");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unreadable_and_non_utf8_files_exit_2() {
    let dir = temp_dir("unreadable");
    let missing = dir.join("missing.policy");
    let out = run(&["fmt", missing.to_str().expect("path")], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));

    let latin1 = dir.join("latin1.policy");
    std::fs::write(&latin1, b"# caf\xe9\nobject a\n").expect("write");
    let out = run(&["fmt", "--write", latin1.to_str().expect("path")], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error[invalid_utf8]"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(&latin1).expect("read"),
        b"# caf\xe9\nobject a\n"
    );
}

// ------------------------------------------------------------------------------------ property

/// Splits `text` into tokens and the whitespace runs between them (strings and comments are
/// kept whole inside tokens). Returns the pieces; odd indices are whitespace runs.
fn split_whitespace_runs(text: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for c in text.chars() {
        let is_space = !in_string && !in_comment && matches!(c, ' ' | '\t' | '\r' | '\n');
        let in_run = pieces.len().is_multiple_of(2);
        if is_space != in_run {
            pieces.push(String::new());
        }
        pieces.last_mut().expect("piece").push(c);
        if in_comment {
            in_comment = c != '\n';
            if !in_comment {
                // The newline ending a comment belongs to the following run.
                let nl = pieces.last_mut().expect("piece").pop();
                pieces.push(nl.map(String::from).unwrap_or_default());
            }
        } else if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            in_comment = true;
        }
    }
    pieces
}

/// Replaces every whitespace run of `text` with one chosen by `choices` (cycled): a run that had
/// a line break keeps one (it may end a comment), and some runs gain a comment.
fn respace(text: &str, choices: &[u8]) -> (String, usize) {
    const RUNS: [&str; 7] = [
        " ",
        "\t ",
        "\n",
        "\n\n\n",
        "  \r\n\t",
        " # added\n",
        "\n# added\n\n",
    ];
    let mut out = String::new();
    let mut added = 0;
    for (k, piece) in split_whitespace_runs(text).into_iter().enumerate() {
        if k.is_multiple_of(2) {
            out.push_str(&piece);
            continue;
        }
        let choice = choices.get(k % choices.len().max(1)).copied().unwrap_or(0);
        let mut run = RUNS
            .get(usize::from(choice) % RUNS.len())
            .copied()
            .unwrap_or(" ")
            .to_string();
        if piece.contains('\n') && !run.starts_with('\n') {
            run.insert(0, '\n');
        }
        added += run.matches('#').count();
        out.push_str(&run);
    }
    (out, added)
}

proptest! {
    // 64 cases by default; `PROPTEST_CASES=N` for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_respacing_formats_to_the_same_meaning(
        pick in 0usize..10_000,
        choices in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        static POLICIES: std::sync::OnceLock<Vec<(PathBuf, Source)>> = std::sync::OnceLock::new();
        let policies = POLICIES.get_or_init(parseable_policies);
        let (path, src) = &policies[pick % policies.len()];
        let text = src.text().to_string();
        let (respaced, added) = respace(&text, &choices);
        let src = Source::new(path.display().to_string(), respaced.clone());
        let (original, errors) = orgscope::parse::parse(&Source::new("o", text.clone()));
        prop_assert!(errors.is_empty());
        let (parsed, errors) = orgscope::parse::parse(&src);
        prop_assert!(errors.is_empty(), "respacing broke the parse:\n{}", respaced);
        prop_assert_eq!(&parsed, &original);
        let problems = check_promises(&src);
        prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
        let out = fmt(&src);
        prop_assert_eq!(count_comments(&out), count_comments(&text) + added);
    }
}

#[test]
fn respace_keeps_tokens() {
    let text = "org \"a b#\" # c d\nroute GET /x -> query";
    let pieces = split_whitespace_runs(text);
    assert_eq!(pieces.concat(), text);
    assert_eq!(
        pieces.iter().step_by(2).cloned().collect::<Vec<_>>(),
        ["org", "\"a b#\"", "# c d", "route", "GET", "/x", "->", "query"]
    );
}
