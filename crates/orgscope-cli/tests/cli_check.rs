//! `orgscope check` through the real binary: exit codes, output formats, colour, several files.

mod common;

use common::{stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn orgscope(args: &[&str]) -> Output {
    common::run(args, b"")
}

/// A scratch directory for this test, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli_check")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write policy");
    path.display().to_string()
}

const CLEAN: &str = "object account\nroute GET /v1/accounts -> query account\n";
const BROKEN: &str = "object account\nroute GET /v1/accounts -> query acount\n";
const WARNS: &str = "object account\nroute GET /v1/tenants -> query account\n";

#[test]
fn clean_policy_exits_0_silently() {
    let out = orgscope(&["check", "policies/zuora-multi-org.policy"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(out.stderr.is_empty());
}

#[test]
fn errors_exit_1_with_rendered_diagnostics_and_a_summary() {
    let dir = scratch("errors");
    let p = write(&dir, "broken.policy", BROKEN);
    let out = orgscope(&["check", &p]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error[unknown_object_type]: unknown object type `acount`"),
        "{err}"
    );
    assert!(err.contains(&format!("--> {p}:2:33")), "{err}");
    assert!(err.contains("= help: did you mean `account`?"), "{err}");
    assert!(err.ends_with(&format!("error: `{p}`: 1 error\n")), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = scratch("warnings");
    let p = write(&dir, "warns.policy", WARNS);
    let out = orgscope(&["check", &p]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("warning[deprecated_term]"), "{err}");
    assert!(
        err.ends_with(&format!("warning: `{p}`: 1 warning\n")),
        "{err}"
    );

    let out = orgscope(&["check", "--deny-warnings", &p]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.ends_with(&format!(
            "error: `{p}`: 1 warning (denied by `--deny-warnings`)\n"
        )),
        "{err}"
    );

    let out = orgscope(&["check", "--deny-warnings", "--format", "json", &p]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn json_format_is_one_object_per_diagnostic_on_stdout() {
    let dir = scratch("json");
    let p = write(
        &dir,
        "two.policy",
        "object account\nroute GET /v1/tenants -> query acount\n",
    );
    let out = orgscope(&["check", "--format", "json", &p]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    let warning = &lines[0];
    assert_eq!(warning["file"], p.as_str());
    assert_eq!(warning["line"], 2);
    assert_eq!(warning["column"], 15);
    // `tenants`, columns 15 to 21: the end is just past the span.
    assert_eq!(
        (&warning["end_line"], &warning["end_column"]),
        (&2.into(), &22.into())
    );
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["code"], "deprecated_term");
    assert!(warning["help"].is_string());
    let error = &lines[1];
    assert_eq!(error["severity"], "error");
    assert_eq!(error["code"], "unknown_object_type");
    assert_eq!(error["line"], 2);
    assert_eq!(error["column"], 32);
    assert_eq!(
        (&error["end_line"], &error["end_column"]),
        (&2.into(), &38.into())
    );
    assert_eq!(error["message"], "unknown object type `acount`");
    assert_eq!(error["help"], "did you mean `account`?");

    // A clean file prints nothing at all.
    let out = orgscope(&[
        "check",
        "--format",
        "json",
        "policies/aep-organization-id.policy",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn json_help_is_null_when_absent() {
    let dir = scratch("json_null");
    let p = write(&dir, "syntax.policy", "object account {\n");
    let out = orgscope(&["check", "--format", "json", &p]);
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("one JSON line");
    assert_eq!(line["code"], "syntax");
    assert!(line["help"].is_null());
}

#[test]
fn several_files_are_all_checked_in_order() {
    let dir = scratch("several");
    let a = write(&dir, "a.policy", BROKEN);
    let b = write(&dir, "b.policy", CLEAN);
    let c = write(&dir, "c.policy", WARNS);
    let out = orgscope(&["check", &a, &b, &c]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let pa = err
        .find(&format!("error: `{a}`: 1 error"))
        .expect("a summary");
    let pc = err
        .find(&format!("warning: `{c}`: 1 warning"))
        .expect("c summary");
    assert!(pa < pc, "{err}");
    assert!(!err.contains(&format!("`{b}`")), "{err}");

    // Clean and warning-only files together pass.
    let out = orgscope(&["check", &b, &c]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn unreadable_file_exits_2_and_the_others_are_still_checked() {
    let dir = scratch("unreadable");
    let missing = dir.join("missing.policy").display().to_string();
    let broken = write(&dir, "broken.policy", BROKEN);
    let out = orgscope(&["check", &missing, &broken]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("error: cannot read `{missing}`: ")),
        "{err}"
    );
    assert!(err.contains("error[unknown_object_type]"), "{err}");

    // A directory stands for the policies under it; one without any is an error that names it.
    let dirname = dir.display().to_string();
    let out = orgscope(&["check", &dirname, "policies/zuora-multi-org.policy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("broken.policy"), "{}", stderr(&out));
    let empty = scratch("unreadable-empty");
    let emptyname = empty.display().to_string();
    let out = orgscope(&["check", &emptyname, "policies/zuora-multi-org.policy"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&format!("no policy files (`*.policy`) under `{emptyname}`")));

    // In JSON mode the read error stays on stderr; stdout has only diagnostics.
    let out = orgscope(&["check", "--format", "json", &missing, &broken]);
    assert_eq!(out.status.code(), Some(2));
    for line in stdout(&out).lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("JSON line");
    }
    assert!(stderr(&out).contains("cannot read"));
}

#[test]
fn invalid_utf8_is_a_diagnostic_not_a_read_error() {
    let dir = scratch("utf8");
    let path = dir.join("latin1.policy");
    std::fs::write(&path, b"object caf\xe9\n").expect("write");
    let p = path.display().to_string();
    let out = orgscope(&["check", &p]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error[invalid_utf8]"), "{err}");
    assert!(err.contains(&format!("--> {p}:1:11")), "{err}");
}

#[test]
fn max_policy_bytes_refuses_large_files() {
    let out = orgscope(&[
        "check",
        "--max-policy-bytes",
        "100",
        "policies/zuora-multi-org.policy",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error[policy_too_large]"), "{err}");
    assert!(err.contains("over the limit of 100"), "{err}");

    // At the limit exactly is fine.
    let len = std::fs::metadata(Path::new(common::ROOT).join("policies/zuora-multi-org.policy"))
        .expect("stat")
        .len()
        .to_string();
    let out = orgscope(&[
        "check",
        "--max-policy-bytes",
        &len,
        "policies/zuora-multi-org.policy",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn no_colour_unless_asked() {
    let dir = scratch("colour");
    let p = write(&dir, "broken.policy", BROKEN);
    // Not a terminal: no escape codes, with or without NO_COLOR.
    for no_color in [true, false] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgscope"));
        cmd.args(["check", &p]);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let out = cmd.output().expect("run");
        assert!(!stderr(&out).contains('\x1b'), "{}", stderr(&out));
    }
    let out = orgscope(&["check", "--color", "never", &p]);
    assert!(!stderr(&out).contains('\x1b'));

    // `--color always` wins over NO_COLOR and a non-terminal.
    let out = orgscope(&["check", "--color", "always", &p]);
    let err = stderr(&out);
    assert!(
        err.contains("\x1b[1;31merror[unknown_object_type]\x1b[0m"),
        "{err:?}"
    );
    assert!(err.contains("\x1b[1;31merror\x1b[0m: `"), "{err:?}");
}

#[test]
fn escape_sequences_in_a_policy_are_not_printed_raw() {
    let dir = scratch("escapes");
    let p = write(
        &dir,
        "evil.policy",
        "orgs { org \"\x1b[2J\" org \"\x1b[2J\" }\n",
    );
    let out = orgscope(&["check", &p]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error[duplicate_org]"), "{err}");
    assert!(!err.contains('\x1b'), "{err:?}");
}

#[test]
fn usage_errors_exit_2() {
    let out = orgscope(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let out = orgscope(&[
        "check",
        "--format",
        "yaml",
        "policies/zuora-multi-org.policy",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// `check` takes `eval`'s policy limits, loads through the same path, and the help of a limit
/// diagnostic names a flag that `check` accepts and that fixes it.
#[test]
fn check_takes_the_policy_limits_of_eval() {
    let policy = "policies/zuora-multi-org.policy";
    let out = orgscope(&["check", "--max-inheritance-depth", "1", policy]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error[inheritance_too_deep]"), "{err}");
    assert!(
        err.contains("raise the limit with `--max-inheritance-depth`"),
        "{err}"
    );
    let out = orgscope(&["check", "--max-inheritance-depth", "2", policy]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    for (flag, value, code) in [
        ("--max-policy-bytes", "100", "policy_too_large"),
        ("--max-declarations", "5", "too_many_declarations"),
        ("--max-overlap-steps", "0", "overlap_search_gave_up"),
    ] {
        let checked = orgscope(&["check", flag, value, policy]);
        assert_eq!(checked.status.code(), Some(1), "{flag}");
        let evaluated = orgscope(&["eval", "--policy", policy, flag, value]);
        assert_eq!(evaluated.status.code(), Some(2), "{flag}");
        for out in [&checked, &evaluated] {
            let err = stderr(out);
            assert!(err.contains(&format!("error[{code}]")), "{flag}: {err}");
        }
    }
}

/// A policy with two labeled types and a shared one, for the SQL mapping checks.
const MAPPED: &str = "object account\nobject note { shared }\nroute GET /v1/accounts -> query account\nroute GET /v1/notes -> query note\n";

#[test]
fn a_mapping_beside_the_policy_is_checked_with_it_in_json_too() {
    let dir = scratch("sql_mapping_json");
    let p = write(&dir, "app.policy", MAPPED);
    let m = write(
        &dir,
        "app.sql.toml",
        "[objects.acount]\ntable = \"account\"\norg_column = \"org_label\"\n",
    );
    let out = orgscope(&["check", "--format", "json", &p]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let d = &lines[0];
    assert_eq!(d["file"], m.as_str());
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(1), Some(10))
    );
    assert_eq!(d["code"], "unknown_type");
    assert_eq!(d["help"], "did you mean `account`?");
}

#[test]
fn sql_mapping_names_the_file_for_one_policy_only() {
    let dir = scratch("sql_mapping_flag");
    let p = write(&dir, "app.policy", MAPPED);
    let m = write(
        &dir,
        "elsewhere.toml",
        "[objects.note]\ntable = \"note\"\norg_column = \"o\"\n",
    );
    let out = orgscope(&["check", "--sql-mapping", &m, &p]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error[shared_type]: object type `note` is shared"),
        "{err}"
    );
    assert!(err.contains("elsewhere.toml:1:10"), "{err}");

    // A labeled type left unmapped is a warning: exit 0, or 1 under --deny-warnings.
    let m = write(
        &dir,
        "partial.toml",
        "[query]\nunscoped_tables = [\"note\"]\n",
    );
    let out = orgscope(&["check", "--sql-mapping", &m, &p]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning[unmapped_type]: object type `account` is labeled"));
    let out = orgscope(&["check", "--deny-warnings", "--sql-mapping", &m, &p]);
    assert_eq!(out.status.code(), Some(1));

    let out = orgscope(&["check", "--sql-mapping", &m, &p, &p]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`--sql-mapping` needs exactly one policy file"));
    let missing = dir.join("missing.toml").display().to_string();
    let out = orgscope(&["check", "--sql-mapping", &missing, &p]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    let out = orgscope(&[
        "check",
        "--max-policy-bytes",
        "120",
        "--sql-mapping",
        &m,
        &p,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let big = write(&dir, "big.toml", &format!("# {}\n", "x".repeat(200)));
    let out = orgscope(&[
        "check",
        "--max-policy-bytes",
        "150",
        "--sql-mapping",
        &big,
        &p,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("over the limit of 150 bytes"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_dash_checks_standard_input_like_a_file() {
    let out = common::run(&["check", "-"], BROKEN.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("--> <stdin>:2:33"), "{err}");
    assert!(err.ends_with("error: `<stdin>`: 1 error\n"), "{err}");
    let out = common::run(&["check", "--format", "json", "-"], BROKEN.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains(r#""file":"<stdin>""#),
        "{}",
        stdout(&out)
    );
    let out = common::run(&["check", "-"], CLEAN.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stderr.is_empty() && out.stdout.is_empty());
    // Over the size limit: refused without reading it all, like a file.
    let big = CLEAN.repeat(100);
    let out = common::run(&["check", "--max-policy-bytes", "100", "-"], big.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("policy_too_large"),
        "{}",
        stderr(&out)
    );
}
