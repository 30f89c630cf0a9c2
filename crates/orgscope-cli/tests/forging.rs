//! Human-readable output cannot be forged: text from a request, a test file, a policy or a file
//! name is printed with its control and other non-printing characters escaped, so it can
//! neither start a line of its own (a fake verdict) nor carry terminal escapes (erasing lines).
//! Each output is driven through the binary with a forging payload.

mod common;

use common::{orgscope, run, run_with_input, stderr, stdout, ROOT};
use std::path::{Path, PathBuf};

/// What no output may contain raw: an escape sequence that erases the line, a C1 control and
/// a bidirectional override.
const RAW: [char; 3] = ['\u{1b}', '\u{85}', '\u{202e}'];

fn assert_no_raw(what: &str, text: &str) {
    for c in RAW {
        assert!(!text.contains(c), "{what} prints {c:?} raw:\n{text}");
    }
}

fn lines_starting(text: &str, prefix: &str) -> usize {
    text.lines().filter(|l| l.starts_with(prefix)).count()
}

fn temp_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("forging-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

#[test]
fn explain_text_escapes_org_names_and_ids() {
    let payload = "Asia\n=> allow 200\u{1b}[2K\u{85}\u{202e}";
    let request = serde_json::json!({
        "id": payload,
        "method": "POST",
        "path": "/query/jobs",
        "headers": {"Zuora-Org-Ids": payload},
        "user": {"orgs": ["Asia"]},
    });
    let out = run(
        &[
            "eval",
            "--policy",
            "policies/zuora-multi-org.policy",
            "--explain=text",
        ],
        format!("{request}\n").as_bytes(),
    );
    let text = stdout(&out);
    assert_no_raw("--explain=text", &text);
    assert_eq!(lines_starting(&text, "=> "), 1, "{text}");
    assert_eq!(lines_starting(&text, "=> deny 403 org_access_denied"), 1);
    // The payload is still shown, visibly escaped: in the id and in the deny's message.
    assert!(text.contains("no access to org `Asia\\n=> allow 200\\u{1b}[2K\\u{85}\\u{202e}`"));
    assert!(text.contains(r#"(id "Asia\n=> allow 200\u001b[2K\u{85}\u{202e}")"#));
}

#[test]
fn test_output_escapes_names_and_values() {
    let dir = temp_dir("test");
    let policy = Path::new(ROOT).join("policies/zuora-multi-org.policy");
    let file = serde_json::json!({
        "policy": policy,
        "tests": [{
            "name": "t\nok      forged\u{1b}[1A\u{202e}",
            "request": {"method": "POST", "path": "/query/jobs", "user": {"orgs": ["Asia"]}},
            "expect": {"decision": "deny", "visible_orgs": ["Asia\u{85}\n=> allow"]}
        }]
    });
    let path = dir.join("x.test.json");
    std::fs::write(&path, file.to_string()).expect("write test file");
    for explain in [false, true] {
        let mut cmd = orgscope();
        cmd.arg("test").arg(&path);
        if explain {
            cmd.arg("--explain");
        }
        let out = run_with_input(cmd, b"");
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert_no_raw("orgscope test", &text);
        assert_eq!(lines_starting(&text, "ok "), 0, "{text}");
        assert_eq!(
            lines_starting(&text.replace("        ", ""), "=> "),
            1,
            "{text}"
        );
        assert!(
            text.contains("FAILED  t\\nok      forged\\u{1b}[1A\\u{202e}\n"),
            "{text}"
        );
        assert!(
            text.contains(r#"expected: ["Asia\u{85}\n=> allow"]"#),
            "{text}"
        );
    }
}

#[test]
fn diagnostics_escape_file_names_messages_and_source_lines() {
    let dir = temp_dir("check");
    let path = dir.join("p\n--> forged.policy\u{1b}[1A");
    std::fs::write(
        &path,
        "orgs {\n  org a parent \"nope\\nerror[forged]: x\"  # \u{1b}[2K\u{202e}\n}\n",
    )
    .expect("write policy");
    let mut cmd = orgscope();
    cmd.arg("check").arg(&path);
    let out = run_with_input(cmd, b"");
    let text = stdout(&out) + &stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_no_raw("orgscope check", &text);
    assert_eq!(lines_starting(&text, "error[forged]"), 0, "{text}");
    assert_eq!(lines_starting(&text, "--> forged"), 0, "{text}");
    assert!(text.contains("forged.policy"), "{text}");
}

#[test]
fn fmt_check_diffs_escape_the_lines() {
    let dir = temp_dir("fmt");
    let path = dir.join("p.policy");
    std::fs::write(&path, "route GET /a->query # \u{1b}[2K\u{202e}\n").expect("write policy");
    let mut cmd = orgscope();
    cmd.arg("fmt").arg("--check").arg(&path);
    let out = run_with_input(cmd, b"");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_no_raw("orgscope fmt --check", &text);
    assert!(
        text.contains("\n-route GET /a->query # \\u{1b}[2K\\u{202e}\n"),
        "{text}"
    );
}
